import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body (the pages' forms).
struct FormFields {
    /// The largest form body read, in bytes.
    static let maximumSize = 16_384

    /// Field name → value (the last one wins when a name repeats).
    let values: [String: String]

    init(_ body: ByteBuffer) {
        var values: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decoded(parts[0]) else { continue }
            values[name] = parts.count > 1 ? Self.decoded(parts[1]) ?? "" : ""
        }
        self.values = values
    }

    /// The form body of `request`, read up to `maximumSize`.
    static func read(_ request: Request) async throws -> FormFields {
        var request = request
        return FormFields(try await request.collectBody(upTo: maximumSize))
    }

    private static func decoded(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
