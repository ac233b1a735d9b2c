import ArgumentParser

/// Better words for command lines that ArgumentParser rejects or silently accepts: a forgotten
/// `--` before the command, a mistyped subcommand, a repeated `--key`, a `--key` that `jobs` or
/// `watch` would ignore. Each is one line, and none repeats the options back (a `--server` URL
/// may carry a password).
enum UsageHints {
    /// A problem in `arguments`, which parsed as `command`, that ArgumentParser lets through:
    /// `--key` given twice (the last would win, so the job would silently take another lock than
    /// the one the operator read first), or given to `jobs` or `watch`, which cover every job.
    static func problem(in arguments: [String], parsed command: any ParsableCommand) -> String? {
        let options = arguments.prefix { $0 != "--" }
        let keys = options.filter { $0 == "--key" || $0.hasPrefix("--key=") }
        if keys.count > 1 { return "--key is given \(keys.count) times; a job has one name: give --key once" }
        let everyJob: (name: String, connection: ConnectionOptions)? = switch command {
        case let jobs as JobsCommand: ("jobs", jobs.connection)
        case let watch as WatchCommand: ("watch", watch.connection)
        default: nil
        }
        if let everyJob, everyJob.connection.key != nil {
            return "\(everyJob.name) takes no --key: it covers every job (narrow it with --group; one job's runs: cronlock history --key NAME)"
        }
        return nil
    }

    /// A clearer line for `arguments`, which ArgumentParser rejected, when the cause is plain: a
    /// subcommand with a typo, or the command to run given without `--` before it.
    static func hint(for arguments: [String]) -> String? {
        guard !arguments.contains("--"), let first = arguments.first else { return nil }
        let commands = CronlockCommand.configuration.subcommands.compactMap { $0.configuration.commandName }
        // A subcommand was named (options may come before it): ArgumentParser's words stand.
        if arguments.contains(where: commands.contains) { return nil }
        if !first.hasPrefix("-"), let nearest = nearest(to: first, among: commands) {
            return "unknown command '\(first)': did you mean '\(nearest)'? (commands: \(commands.joined(separator: ", ")))"
        }
        return missingTerminator(in: arguments)
    }

    /// `cronlock --key k echo hi`: the first place where putting `--` makes the line parse, with
    /// the command's name after it, gives the hint.
    private static func missingTerminator(in arguments: [String]) -> String? {
        for split in arguments.indices where !arguments[split].hasPrefix("-") {
            let fixed = Array(arguments[..<split]) + ["--"] + Array(arguments[split...])
            guard let parsed = try? CronlockCommand.parseAsRoot(fixed), let run = parsed as? CronlockCommand else { continue }
            let key = run.connection.key == nil ? " --key NAME" : ""
            let name = arguments[split], rest = split + 1 < arguments.count ? " ARGS..." : ""
            return "'\(name)' is not an option of cronlock: put -- before the command to run: cronlock [options]\(key) -- \(name)\(rest)"
        }
        return nil
    }

    /// The name in `names` within two edits of `word` (and closer than its length), if one is nearest.
    private static func nearest(to word: String, among names: [String]) -> String? {
        let scored = names.map { (name: $0, distance: editDistance(word, $0)) }.filter { $0.distance <= min(2, word.count - 1) }
        return scored.min { $0.distance < $1.distance }?.name
    }

    /// Levenshtein distance between `a` and `b`, counting an adjacent swap as one edit.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var rows = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { rows[i][0] = i }
        for j in 0...b.count { rows[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
                }
            }
        }
        return rows[a.count][b.count]
    }
}
