import Foundation

/// Job names in URLs: any printable name, one path segment.
enum PathText {
    /// `name` percent-encoded as one path segment: every byte but `A-Z a-z 0-9 - . _ ~` (so `/`
    /// and spaces too).
    static func escaped(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count)
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// A path segment as the router gives it, percent-decoded; nil when it is not valid UTF-8.
    static func decoded(_ segment: String) -> String? {
        segment.removingPercentEncoding
    }
}
