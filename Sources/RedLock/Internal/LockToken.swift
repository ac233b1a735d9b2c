/// Fresh lock tokens: 128 bits from the system CSPRNG, as 32 lowercase hex digits.
///
/// `SystemRandomNumberGenerator` reads the operating system's cryptographically secure generator
/// (`getrandom(2)` on Linux, `arc4random_buf` on Darwin).
enum LockToken {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
