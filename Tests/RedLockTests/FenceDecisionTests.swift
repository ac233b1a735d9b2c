@testable import RedLock
import RedisIO
import Testing

/// The fencing decisions as pure values: the proposal rule, the reading of the fenced script's
/// replies, and `.required`'s vote (no server).
@Suite("Fencing decisions")
struct FenceDecisionTests {
    @Test func theFirstProposalIsTheClockWhenItIsAboveEveryFenceSeen() {
        #expect(FenceProposal.make(clockMicroseconds: 1_000, highestSeen: nil) == 1_000)
        #expect(FenceProposal.make(clockMicroseconds: 1_000, highestSeen: 999) == 1_000)
    }

    @Test func aProposalIsAboveTheHighestFenceSeenWhenTheClockIsBehind() {
        #expect(FenceProposal.make(clockMicroseconds: 1_000, highestSeen: 1_000) == 1_001)
        #expect(FenceProposal.make(clockMicroseconds: 0, highestSeen: 41) == 42)
    }

    @Test func proposalsStayBelowTwoToTheFiftyThird() {
        #expect(FenceProposal.make(clockMicroseconds: FenceProposal.limit - 1, highestSeen: nil) == FenceProposal.limit - 1)
        #expect(FenceProposal.make(clockMicroseconds: 0, highestSeen: FenceProposal.limit - 1) == nil)
        #expect(FenceProposal.make(clockMicroseconds: 0, highestSeen: .max) == nil)
        #expect(FenceProposal.make(clockMicroseconds: 0, highestSeen: nil) == nil)
    }

    @Test func theWallClockIsInMicrosecondsSinceTheEpoch() {
        let now = FenceProposal.wallClockMicroseconds()
        #expect(now > 1_700_000_000_000_000 && now < FenceProposal.limit)
    }

    @Test func aHeldReplyGivesTheHolderAndTheFence() {
        let reply = FencedAcquireReply(.array([.bulk("held"), .bulk("token|host"), .bulk("1234")]))
        #expect(reply.plain == .bulk("token|host") && reply.fence == 1234)
        #expect(!reply.isLowProposal)
    }

    @Test func aLowProposalReplyGivesTheFence() {
        let reply = FencedAcquireReply(.array([.bulk("fence"), .bulk("9007199254740991")]))
        #expect(reply.isLowProposal && reply.fence == 9_007_199_254_740_991)
    }

    @Test func plainRepliesPassThroughUnchanged() {
        for plain: RedisReply in [.null, .bulk("holder"), .array([.bulk("refused"), .bulk("paused")]), .error("ERR x")] {
            let reply = FencedAcquireReply(plain)
            #expect(reply.plain == plain && reply.fence == nil && !reply.isLowProposal)
        }
    }

    @Test func requiredFencingWithholdsTheVotesOfMastersNotShownToRunWithAOF() {
        #expect(Fencing.required.withheldVote(appendOnly: true) == nil)
        #expect(Fencing.required.withheldVote(appendOnly: false)?.contains("without AOF") == true)
        #expect(Fencing.required.withheldVote(appendOnly: nil)?.contains("INFO persistence") == true)
        #expect(Fencing.bestEffort.withheldVote(appendOnly: false) == nil)
        #expect(Fencing.off.withheldVote(appendOnly: nil) == nil)
    }

    @Test func withFencingOffTheAcquireIsTodaysSetCommandByteForByte() throws {
        let plan = try RoundPlan(resource: "r", ttl: .seconds(1), configuration: RedLockConfiguration(serverAddresses: ["127.0.0.1:1"]))
        let client = try RedLockClient(configuration: RedLockConfiguration(serverAddresses: ["127.0.0.1:1"]))
        let expected = "*7\r\n$3\r\nSET\r\n$1\r\nr\r\n$1\r\nv\r\n$2\r\nNX\r\n$2\r\nPX\r\n$4\r\n1000\r\n$3\r\nGET\r\n"
        #expect(client.acquireCommand(plan, value: "v", proposal: nil).bytes == Array(expected.utf8))
    }
}
