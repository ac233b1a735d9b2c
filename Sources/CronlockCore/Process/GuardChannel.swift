import CSpawn
import RedisIO

#if canImport(Glibc)
import Glibc
#endif

/// cronlock's end of the control socket to a command's guard process: lease deadlines and tree
/// signals go out, the guard's lease-expired notice comes back. Closing it while the guard runs
/// makes the guard kill the command's tree, so it is closed only once the guard has been reaped.
final class GuardChannel: Sendable {
    /// The socket, or -1 once closed (so a late call never writes to a reused descriptor).
    private let descriptor: PthreadLock<Int32>

    init(descriptor: Int32) {
        self.descriptor = PthreadLock(descriptor)
    }

    /// Tells the guard the lease now runs until `deadline`. Does nothing once the guard is gone.
    func extendLease(until deadline: ContinuousClock.Instant) {
        let boottime = Self.boottimeNanoseconds(of: deadline)
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = cspawn_extend_lease(fd, boottime)
        }
    }

    /// Asks the guard to send `signal` to every process of the command's tree. Does nothing once
    /// the guard is gone.
    func signalTree(_ signal: Int32) {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = cspawn_signal_tree(fd, signal)
        }
    }

    /// After the guard has been reaped: closes the socket and returns whether the guard killed the
    /// tree because the lease deadline passed.
    func closeAfterGuardExit() -> Bool {
        descriptor.withLock { fd in
            guard fd >= 0 else { return false }
            let expired = cspawn_lease_expired(fd) == 1
            close(fd)
            fd = -1
            return expired
        }
    }

    /// `deadline` on CLOCK_BOOTTIME, in nanoseconds (Swift's `ContinuousClock` counts the same
    /// way; converting through the distance from now keeps this true whatever its epoch).
    static func boottimeNanoseconds(of deadline: ContinuousClock.Instant) -> Int64 {
        cspawn_boottime_ns() + nanoseconds(deadline - .now)
    }

    /// `duration` in whole nanoseconds (rounded toward zero).
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
