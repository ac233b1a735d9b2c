import CHiredis
#if canImport(Darwin)
import Darwin
#endif

/// Fresh lock tokens: 128 bits from the operating system's cryptographically secure generator, as
/// 32 lowercase hex digits.
///
/// One `getrandom(2)` call per token on Linux (`arc4random_buf` on Darwin), where
/// `SystemRandomNumberGenerator` makes one system call per 64 bits.
enum LockToken {
    static func make() -> String {
        var bits: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bits, fillRandomly)
        return withUnsafeBytes(of: bits) { bytes in
            String(unsafeUninitializedCapacity: 2 * bytes.count) { text in
                for (position, byte) in bytes.enumerated() {
                    text[2 * position] = hexDigits[Int(byte >> 4)]
                    text[2 * position + 1] = hexDigits[Int(byte & 0x0f)]
                }
                return 2 * bytes.count
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func fillRandomly(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        if chiredis_random_bytes(buffer.baseAddress, buffer.count) == 0 { return }
        var generator = SystemRandomNumberGenerator()
        for position in buffer.indices { buffer[position] = generator.next() }
        #else
        arc4random_buf(buffer.baseAddress, buffer.count)
        #endif
    }
}
