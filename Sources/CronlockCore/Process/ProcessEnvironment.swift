#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment a command is started with.
public enum ProcessEnvironment {
    /// This process's environment plus `additions` (which win over inherited values), ready to
    /// pass to `RunningCommand.start(_:environment:)`. Entries without `=` are skipped.
    public static func current(adding additions: [String: String] = [:]) -> [String: String] {
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
}
