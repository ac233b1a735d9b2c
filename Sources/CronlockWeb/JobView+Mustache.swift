import Mustache

/// The Jobs page renders a row per job: named lookups instead of `Mirror`, which is several times
/// slower for a thousand rows.
extension JobView: MustacheParent {
    package func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "group": self.group
        case "state": self.state
        case "attention": self.attention
        case "lastRun": self.lastRun
        case "runningOn": self.runningOn
        case "paused": self.paused
        case "skips": self.skips
        case "url": self.url
        default: nil
        }
    }
}

extension JobView.LastRun: MustacheParent {
    package func child(named name: String) -> Any? {
        switch name {
        case "run": self.run
        case "outcome": self.outcome
        case "exitCode": self.exitCode
        case "host": self.host
        case "finishedAt": self.finishedAt
        case "durationMs": self.durationMs
        default: nil
        }
    }
}
