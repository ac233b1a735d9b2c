import RedisTestSupport
import Synchronization

/// Records every critical section of every holder, whoever reports it (test tasks, contender
/// processes, commands run by cronlock), and finds any two on the same key that overlap while
/// both holders believed their lock valid.
///
/// A section counts from when its holder began acting (after `acquire` returned, or when
/// cronlock's command started) to when it stopped, cut at the holder's validity deadline
/// (`Lock.validUntil`) when it knows one: past that deadline the holder was told not to rely on
/// the lock. Times are `MonotonicTime` nanoseconds, one clock for all processes.
final class CriticalSectionObserver: Sendable {
    /// One holder's critical section.
    struct Section: Sendable, CustomStringConvertible {
        var key: String
        /// Who held it: `task 3`, `process 1`, `cronlock 0 run 17`.
        var holder: String
        var start: Int64
        var end: Int64
        /// The holder's validity deadline, when it knows one.
        var validUntil: Int64?
        /// The lock's fencing token, with fencing on.
        var token: UInt64?
        /// When the call that acquired the lock began (the `tryAcquire` call, or cronlock's start).
        var acquireBegan: Int64?
        /// True when the end is only an upper bound (a command killed when cronlock lost its lock).
        var endIsUpperBound = false

        init(key: String, holder: String, start: Int64, end: Int64, validUntil: Int64?, token: UInt64? = nil, acquireBegan: Int64? = nil,
             endIsUpperBound: Bool = false) {
            self.key = key
            self.holder = holder
            self.start = start
            self.end = end
            self.validUntil = validUntil
            self.token = token
            self.acquireBegan = acquireBegan
            self.endIsUpperBound = endIsUpperBound
        }

        /// The section a contender reported; `acquireBegan` when the report lacks it.
        init(_ report: CriticalSectionReport, holder: String, acquireBegan: Int64? = nil) {
            self.init(key: report.key, holder: holder, start: report.start, end: report.end, validUntil: report.validUntil, token: report.token,
                      acquireBegan: report.acquireBegan ?? acquireBegan)
        }

        /// Until when the holder was entitled to act.
        var believedValidUntil: Int64 { min(end, validUntil ?? end) }

        var description: String {
            let valid = validUntil.map { ", valid until \($0)" } ?? ""
            let fence = token.map { ", token \($0)" } ?? ""
            return "\(holder) on \(key) [\(start), \(end)\(valid)\(fence)]" + (endIsUpperBound ? " (end is an upper bound)" : "")
        }
    }

    /// Two sections of one key that overlap while both were believed valid.
    struct Overlap: Sendable, CustomStringConvertible {
        var earlier: Section
        var later: Section
        /// How long both were inside, in nanoseconds.
        var nanoseconds: Int64 { min(earlier.believedValidUntil, later.believedValidUntil) - later.start }

        var description: String {
            "\(later.holder) entered \(Double(nanoseconds) / 1e6) ms before \(earlier.holder) was done: \(earlier) / \(later)"
        }
    }

    private let sections = Mutex<[Section]>([])

    /// Records one critical section.
    func record(_ section: Section) {
        sections.withLock { $0.append(section) }
    }

    /// How many critical sections were recorded.
    var count: Int { sections.withLock { $0.count } }

    /// Every recorded section.
    var all: [Section] { sections.withLock { $0 } }

    /// Sections that began after their own holder's validity deadline (a lock handed out already
    /// expired): none should exist.
    var enteredExpired: [Section] {
        all.filter { section in section.validUntil.map { section.start >= $0 } ?? false }
    }

    /// Every overlap: per key, in order of start, each section against the one that stays valid
    /// longest among those before it.
    func overlaps() -> [Overlap] {
        var found: [Overlap] = []
        for (_, keySections) in Dictionary(grouping: all, by: \.key) {
            var longest: Section?
            for section in keySections.sorted(by: { $0.start < $1.start }) {
                if let current = longest, section.start < current.believedValidUntil, section.start < section.believedValidUntil {
                    found.append(Overlap(earlier: current, later: section))
                }
                if longest.map({ section.believedValidUntil > $0.believedValidUntil }) ?? true { longest = section }
            }
        }
        return found.sorted { $0.later.start < $1.later.start }
    }
}
