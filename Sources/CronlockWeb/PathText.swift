import Foundation

/// Job names in URLs: any printable name, one path segment.
enum PathText {
    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// `name` percent-encoded as one path segment (`/` and spaces included).
    static func escaped(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name
    }

    /// A path segment as the router gives it, percent-decoded; nil when it is not valid UTF-8.
    static func decoded(_ segment: String) -> String? {
        segment.removingPercentEncoding
    }
}
