/// What a request may do. Ordered: each role may do what the ones before it may.
package enum Role: Int, Comparable, Sendable {
    /// No token (or a wrong one) while token files are configured: only the login page.
    case anonymous
    /// May read every page and GET endpoint.
    case viewer
    /// May also pause, resume and stop.
    case `operator`

    package static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `viewer`, `operator`, `anonymous`.
    package var name: String {
        switch self {
        case .anonymous: "anonymous"
        case .viewer: "viewer"
        case .operator: "operator"
        }
    }
}
