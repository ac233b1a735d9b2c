import ArgumentParser

/// `--wait D|forever`, shared by a run (wait for the lock) and `stop` (wait for the run to end),
/// as one type for the same reason as `GroupOption`.
package struct WaitOption: ParsableArguments, Sendable {
    @Option(parsing: .unconditional, help: ArgumentHelp("Wait up to D (or 'forever'): a run for the lock instead of skipping (standby mode); stop for the run to end (default there: 15s).",
                               discussion: "Without it, a host skips at once when another holds the lock; hosts that start at the same instant still never lose a tick to a split vote (they retry briefly)."),
            transform: WaitText.init(parsing:))
    package var wait: WaitText?

    package init() {}
}
