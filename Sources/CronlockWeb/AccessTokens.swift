/// The dashboard's two tokens, from `--viewer-token-file` and `--operator-token-file`.
///
/// Without either, every request is a viewer and nothing may change (read-only). With only the
/// operator's, reading is open and changing needs it; with the viewer's, reading needs a token too.
package struct AccessTokens: Sendable {
    private let viewer: String?
    private let operatorToken: String?

    package init(viewer: String?, operator operatorToken: String?) {
        self.viewer = viewer
        self.operatorToken = operatorToken
    }

    /// Whether any token is configured (else the dashboard is read-only and needs no login).
    package var required: Bool { viewer != nil || operatorToken != nil }

    /// The role of a request carrying `token` (nil: none presented).
    package func role(for token: String?) -> Role {
        if let token, let operatorToken, Self.constantTimeEqual(token, operatorToken) { return .operator }
        if let token, let viewer, Self.constantTimeEqual(token, viewer) { return .viewer }
        return viewer == nil ? .viewer : .anonymous
    }

    /// Equality whose time does not depend on where the strings differ.
    private static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
