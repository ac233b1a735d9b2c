import RedLock
import CSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisIO

/// Delivers SIGTERM, SIGINT and SIGHUP sent to this process to a handler on a dedicated thread,
/// instead of letting them kill the process, so that they can be relayed to the command's
/// process group.
///
/// Call `blockRelayedSignals()` first thing in `main` (synchronously, before the first `await`),
/// then `start(_:)`. A signal that was ignored when the process started (SIGHUP under `nohup`)
/// stays ignored: it is neither relayed nor handled, and commands inherit it ignored.
///
/// The relay does not depend on every thread blocking the signals: `start(_:)` installs a
/// process-wide handler that only writes the signal number into a pipe, and the relay thread
/// (the one thread that keeps the signals unblocked) reads it. Blocking them elsewhere still
/// matters: it keeps them from interrupting other threads' system calls.
package enum SignalRelay {
    /// The signals that are relayed: SIGTERM, SIGINT, SIGHUP.
    package static var relayedSignals: [Int32] { [SIGTERM, SIGINT, SIGHUP] }

    /// Blocks the relayed signals in the calling thread, so that threads created afterwards
    /// inherit the mask and the signals are delivered to the relay thread only. Also records
    /// which signals this process was started with ignored, so that commands start with exactly
    /// those ignored and every other signal at its default (not with cronlock's own dispositions).
    ///
    /// Call first thing in `main`, synchronously: in an `async` function the calling thread is a
    /// pool thread, and the main thread keeps the signals unblocked.
    package static func blockRelayedSignals() {
        cspawn_remember_ignored_signals()
        var set = signalSet(handledSignals())
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Ignores the terminal stop signals (SIGTSTP, SIGTTIN, SIGTTOU) in this process. A stopped
    /// cronlock stops renewing its lock while its command (in its own process group) runs on, so
    /// another host could run the job at the same time; Ctrl-Z must not do that. (SIGSTOP cannot
    /// be ignored: a process paused that way loses its lock, and the command is killed when it
    /// resumes, exit 79.) Call after `blockRelayedSignals()`, which records the dispositions the
    /// command starts with, so the command keeps these signals at their defaults.
    package static func ignoreTerminalStops() {
        for signal in [SIGTSTP, SIGTTIN, SIGTTOU] { _ = Glibc.signal(signal, SIG_IGN) }
    }

    /// Starts relaying: from now on each delivery of a relayed signal (one that was not ignored
    /// when the process started) calls `handler` with the signal number, on a dedicated thread;
    /// the handler should return quickly. Call once, after `blockRelayedSignals()`.
    ///
    /// If the relay cannot be set up (no pipe or thread), the signals keep their default effect,
    /// ending this process; its command is then killed by its guard.
    package static func start(_ handler: @escaping @Sendable (Int32) -> Void) {
        cspawn_remember_ignored_signals() // no-op when blockRelayedSignals() already recorded
        let signals = handledSignals()
        guard !signals.isEmpty else { return }
        let readEnd = signals.withUnsafeBufferPointer { cspawn_relay_install($0.baseAddress, Int32($0.count)) }
        let started = readEnd >= 0 && DetachedThread.start { relay(from: readEnd, signals: signals, to: handler) }
        if !started {
            signals.withUnsafeBufferPointer { cspawn_relay_uninstall($0.baseAddress, Int32($0.count)) }
            var set = signalSet(signals)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
    }

    /// The relay thread: takes the signals on itself and hands each one read from the pipe to
    /// `handler`.
    private static func relay(from readEnd: Int32, signals: [Int32], to handler: @Sendable (Int32) -> Void) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        var byte: UInt8 = 0
        while true {
            let count = read(readEnd, &byte, 1)
            if count == 1 {
                handler(Int32(byte))
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    /// The relayed signals that were not ignored when the process started.
    private static func handledSignals() -> [Int32] {
        relayedSignals.filter { cspawn_was_ignored($0) == 0 }
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }
}
