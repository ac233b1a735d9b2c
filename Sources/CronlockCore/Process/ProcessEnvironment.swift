#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment a command is started with.
package enum ProcessEnvironment {
    /// This process's environment plus `additions` (which win over inherited values), ready to
    /// pass to `RunningCommand.start(_:environment:)`. Entries without `=` are skipped.
    package static func current(adding additions: [String: String] = [:]) -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        result.merge(additions) { _, added in added }
        return result
    }

    /// The environment for a command cronlock starts (the job, `--notify`, the demo's processes):
    /// `current(adding:)` without the secrets cronlock reads, which are cronlock's alone:
    /// `CRONLOCK_PASSWORD`, and `CRONLOCK_SERVERS` when a URL in it carries credentials (`user:pw@`).
    package static func forCommand(adding additions: [String: String] = [:]) -> [String: String] {
        current(adding: additions).filter { !isSecret(name: $0.key, value: $0.value) }
    }

    /// Whether the variable `name=value` holds a secret cronlock reads.
    static func isSecret(name: String, value: String) -> Bool {
        switch name {
        case "CRONLOCK_PASSWORD": true
        case "CRONLOCK_SERVERS": value.contains("@")
        default: false
        }
    }
}
