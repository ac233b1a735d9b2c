@testable import RedLock
import Testing

/// Lock tokens, with no server: their form, and that every hex digit of every position is random.
@Suite("LockToken: 128 random bits as hex")
struct LockTokenTests {
    @Test func aTokenIs32LowercaseHexDigits() {
        for _ in 0..<100 {
            let token = LockToken.make()
            #expect(token.utf8.count == 32)
            #expect(token.allSatisfy { "0123456789abcdef".contains($0) }, "\(token)")
        }
    }

    /// 4000 tokens: a collision, or a position that never shows some digit (a nibble that is not
    /// random: P < 16 · 32 · (15/16)^4000 ≈ 10⁻¹¹¹), fails.
    @Test func tokensAreDistinctAndEveryPositionTakesEveryDigit() {
        let tokens = (0..<4000).map { _ in LockToken.make() }
        #expect(Set(tokens).count == tokens.count)
        for position in 0..<32 {
            let digits = Set(tokens.map { Array($0.utf8)[position] })
            #expect(digits.count == 16, "position \(position) showed only \(digits.count) digits")
        }
    }
}
