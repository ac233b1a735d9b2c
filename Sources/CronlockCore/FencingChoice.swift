import ArgumentParser
import RedLock

/// `--fencing required|best-effort|off`, else `$CRONLOCK_FENCING`, else best-effort: whether a
/// run gets a fencing token (`CRONLOCK_FENCING_TOKEN`) and what the masters must show for it.
enum FencingChoice: String, CaseIterable, Sendable {
    /// Every master that votes must run with AOF (`appendonly yes`).
    case required
    /// Tokens from any master (the default).
    case bestEffort = "best-effort"
    /// No token: the plain Redlock acquire.
    case off

    static let defaultChoice = FencingChoice.bestEffort

    var fencing: Fencing {
        switch self {
        case .required: .required
        case .bestEffort: .bestEffort
        case .off: .off
        }
    }

    /// The option if given, else the environment's `CRONLOCK_FENCING`, else the default.
    static func resolve(_ option: FencingChoice?, environment: [String: String]) throws -> Fencing {
        if let option { return option.fencing }
        guard let text = environment["CRONLOCK_FENCING"], !text.isEmpty else { return defaultChoice.fencing }
        guard let choice = FencingChoice(rawValue: text) else {
            throw ValidationError("CRONLOCK_FENCING=\"\(text)\" is not a fencing mode: use \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return choice.fencing
    }
}
