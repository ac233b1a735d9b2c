@testable import RedLock
import RedisIO
import Testing

/// Loop-confined state traps when touched off its thread (debug builds: `assert`).
@Suite("LoopThread: confinement is checked")
struct LoopThreadTests {
    @Test func theOwningThreadPasses() {
        LoopThread().preconditionOnLoopThread()
    }

    @Test func anotherThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            let owner = LoopThread()
            _ = DetachedThread.start { owner.preconditionOnLoopThread() }
            try? await Task.sleep(for: .seconds(30))
        }
    }
}
