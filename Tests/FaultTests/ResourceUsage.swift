import Foundation

/// This process's open file descriptors, threads and resident memory, read from `/proc/self`.
struct ResourceUsage: Sendable, CustomStringConvertible {
    var fileDescriptors: Int
    var threads: Int
    var residentKilobytes: Int
    /// What each descriptor points at (`socket:[…]`, `pipe:[…]`, a path), to name a leak.
    var descriptorTargets: [String]

    /// Now.
    static func current() -> ResourceUsage {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let targets = entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
        let descriptors = max(0, entries.count - 1)  // less the listing's own
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) } ?? -1
        }
        return ResourceUsage(fileDescriptors: descriptors, threads: field("Threads"), residentKilobytes: field("VmRSS"),
                             descriptorTargets: targets)
    }

    /// Descriptors a Foundation run loop keeps (an epoll set, an eventfd and a timerfd per thread
    /// that ran one): Foundation and the test runner open some in this process, on threads that
    /// keep them for as long as they live. RedLock opens none of these kinds (it polls, and wakes
    /// its loop through a pipe), and neither does the harness's `SpawnedProcess`.
    static let runLoopKinds: Set<String> = ["anon_inode:[eventpoll]", "anon_inode:[eventfd]", "anon_inode:[timerfd]"]

    /// Open descriptors other than run loops' (sockets, pipes, files, …): what a leak in the
    /// library or in the suite's own process handling would grow.
    var descriptorsBesideRunLoops: Int {
        descriptorTargets.count { !Self.runLoopKinds.contains($0) }
    }

    /// Descriptor kinds open now that were not open in `earlier` (by kind: socket, pipe, anon_inode, path).
    func newDescriptors(since earlier: ResourceUsage) -> [String: Int] {
        func kinds(_ targets: [String]) -> [String: Int] {
            Dictionary(targets.map { ($0.hasPrefix("anon_inode:") ? $0 : $0.split(separator: ":").first.map(String.init) ?? $0, 1) },
                       uniquingKeysWith: +)
        }
        let then = kinds(earlier.descriptorTargets)
        return kinds(descriptorTargets).reduce(into: [:]) { growth, entry in
            let added = entry.value - then[entry.key, default: 0]
            if added > 0 { growth[entry.key] = added }
        }
    }

    var description: String { "\(fileDescriptors) fds, \(threads) threads, \(residentKilobytes / 1024) MB resident" }
}
