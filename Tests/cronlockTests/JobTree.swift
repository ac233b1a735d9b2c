import Testing

/// A job whose process tree reaches past its process group: a shell with a background child and a
/// `setsid`'d one (out of the group and the session). Their pids go to `pids` in the scratch
/// directory once all three run.
enum JobTree {
    /// The command; with `beat`, the shell writes a timestamp (ns since the epoch) to that file in
    /// the scratch directory every 50 ms instead of just waiting.
    static func command(_ scratch: Scratch, beat: String? = nil) -> [String] {
        let pids = scratch.file("pids")
        let body = beat.map { "while :; do date +%s%N >> \(scratch.file($0)); sleep 0.05; done" } ?? "wait"
        return ["sh", "-c", "sleep 300 & echo $! > \(pids).tmp; setsid sleep 300 & echo $! >> \(pids).tmp; "
                + "echo $$ >> \(pids).tmp; mv \(pids).tmp \(pids); \(body)"]
    }

    /// The three pids, once written.
    static func pids(_ scratch: Scratch) async throws -> [Int32] {
        try await scratch.waitFor("pids")
        let pids = scratch.read("pids").split(separator: "\n").compactMap { Int32($0) }
        try #require(pids.count == 3)
        return pids
    }
}
