#if canImport(Glibc)
import Glibc
#endif

/// `--metrics-textfile DIR`: after each invocation, `DIR/cronlock_<job>.prom` is rewritten
/// atomically (written to a temporary file in DIR, then renamed over it), under an exclusive
/// `flock` of `DIR/.cronlock_<job>.prom.lock` so that overlapping invocations on one host never
/// lose a count.
struct MetricsTextfile: Sendable {
    let directory: String

    /// Why `directory` cannot take the files, or nil.
    static func problem(with directory: String) -> String? {
        var status = stat()
        guard stat(directory, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            return "--metrics-textfile \(directory) is not a directory"
        }
        return access(directory, W_OK) == 0 ? nil : "--metrics-textfile \(directory) is not writable"
    }

    /// The file name of `job`: `cronlock_<job>.prom`, with characters other than letters,
    /// digits, `.`, `_` and `-` replaced by `_`.
    static func fileName(of job: String) -> String {
        let safe = String(job.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
        return "cronlock_\(safe).prom"
    }

    /// Updates the file of `keys`'s job with `invocation`; a file that cannot be written is
    /// reported on stderr and never changes the exit code.
    func record(_ invocation: JobMetrics.Invocation, keys: JobKeys, host: String, lockWait: Duration, expectEvery: Duration?) {
        let name = Self.fileName(of: keys.name)
        let path = "\(directory)/\(name)"
        let lock = open("\(directory)/.\(name).lock", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { return report(path, errno) }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        let previous = try? FileText.contents(of: path).get()
        var metrics = JobMetrics(job: keys.name, group: keys.group, host: host, previous: previous)
        metrics.record(invocation, lockWait: lockWait, expectEvery: expectEvery)
        let temporary = "\(directory)/.cronlock_\(getpid()).prom.tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return report(path, errno) }
        let bytes = Array(metrics.text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let failure = written == bytes.count ? 0 : errno
        close(descriptor)
        guard failure == 0, rename(temporary, path) == 0 else {
            let reason = failure == 0 ? errno : failure
            unlink(temporary)
            return report(path, reason)
        }
    }

    private func report(_ path: String, _ error: Int32) {
        CronlockMain.printError("--metrics-textfile: cannot write \(path): \(String(cString: strerror(error)))")
    }
}
