import CHiredis
import RedLock

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisIO

/// Passes a command's stdout and stderr through to this process's own while keeping the last
/// `limit` bytes of both, interleaved as they came (for `--record-output` and `--fail-pattern`).
///
/// The command writes into two pipes instead of cronlock's descriptors; a dedicated thread per
/// pipe copies everything through and keeps the tail. If cronlock's own output is closed, the
/// copy stops but the pipe is still drained, so the command never blocks on a full pipe.
package final class OutputTail: Sendable {
    private struct State {
        var tail: [UInt8] = []
        var openStreams = 2
        var waiters: [CheckedContinuation<[UInt8], Never>] = []
    }

    /// The write ends to hand to the command as its stdout and stderr (close-on-exec here).
    let commandDescriptors: (stdout: Int32, stderr: Int32)
    private let readEnds: (stdout: Int32, stderr: Int32)
    private let limit: Int
    private let state = PthreadLock(State())

    /// Opens the two pipes. - Throws: `SpawnFailure` when the system refuses a pipe.
    init(limit: Int) throws(SpawnFailure) {
        self.limit = limit
        let stdoutPipe = try Self.makePipe()
        let stderrPipe: (read: Int32, write: Int32)
        do {
            stderrPipe = try Self.makePipe()
        } catch {
            close(stdoutPipe.read)
            close(stdoutPipe.write)
            throw error
        }
        readEnds = (stdoutPipe.read, stderrPipe.read)
        commandDescriptors = (stdoutPipe.write, stderrPipe.write)
    }

    /// Call once the command has started: closes this process's write ends (so the pipes reach
    /// end-of-file when the command's group is gone) and starts copying.
    func startCopying() {
        close(commandDescriptors.stdout)
        close(commandDescriptors.stderr)
        for (source, destination) in [(readEnds.stdout, STDOUT_FILENO), (readEnds.stderr, STDERR_FILENO)] {
            if !DetachedThread.start({ self.copy(from: source, to: destination) }) {
                // No thread: drain nothing, but do not leave a waiter hanging.
                close(source)
                streamEnded()
            }
        }
    }

    /// Closes everything when the command never started.
    func abandon() {
        for descriptor in [commandDescriptors.stdout, commandDescriptors.stderr, readEnds.stdout, readEnds.stderr] {
            close(descriptor)
        }
    }

    /// The last `limit` bytes of output, once both streams have ended (the command's whole group
    /// has closed them).
    func finalTail() async -> [UInt8] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [UInt8]? in
                if state.openStreams == 0 { return state.tail }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func copy(from source: Int32, to destination: Int32) {
        // A closed destination then fails the write with EPIPE instead of killing cronlock.
        GroupWatch.blockAllSignals()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var passThrough = true
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            let chunk = buffer[0..<count]
            if passThrough { passThrough = Self.writeAll(chunk, to: destination) }
            keep(chunk)
        }
        close(source)
        streamEnded()
    }

    private func keep(_ chunk: ArraySlice<UInt8>) {
        state.withLock { state in
            state.tail.append(contentsOf: chunk.suffix(limit))
            if state.tail.count > limit { state.tail.removeFirst(state.tail.count - limit) }
        }
    }

    private func streamEnded() {
        let (waiters, tail) = state.withLock { state in
            state.openStreams -= 1
            guard state.openStreams == 0 else { return ([CheckedContinuation<[UInt8], Never>](), state.tail) }
            defer { state.waiters = [] }
            return (state.waiters, state.tail)
        }
        for waiter in waiters { waiter.resume(returning: tail) }
    }

    /// Writes all of `bytes`; false once the destination refuses (closed pipe, full disk).
    private static func writeAll(_ bytes: ArraySlice<UInt8>, to destination: Int32) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private static func makePipe() throws(SpawnFailure) -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        guard chiredis_pipe_cloexec(&descriptors, 0) == 0 else {
            throw SpawnFailure(kind: .failed, command: "", errorNumber: errno, step: .prepare)
        }
        return (descriptors[0], descriptors[1])
    }
}
