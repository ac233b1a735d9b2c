import Foundation
import Synchronization

/// A one-way "stop now" flag, safe to set from any thread and to poll from any task.
public final class StopSignal: Sendable {
    private let stopped = Atomic<Bool>(false)

    public init() {}

    /// Sets the flag; later `isSet` reads see it.
    public func set() { stopped.store(true, ordering: .releasing) }

    /// True once `set()` was called.
    public var isSet: Bool { stopped.load(ordering: .acquiring) }

    /// A flag set when standard input reaches end of file: the parent closing its end of the pipe
    /// (or dying) stops the contender process, so no contender outlives its test.
    public static func onStandardInputClosed() -> StopSignal {
        let signal = StopSignal()
        Thread {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) > 0 {}
            signal.set()
        }.start()
        return signal
    }
}
