import CronlockCore

#if canImport(Glibc)
import Glibc
#endif

// Before anything else (and before any thread exists): every thread inherits the blocked mask.
SignalRelay.blockRelayedSignals()
SignalRelay.ignoreTerminalStops()
StandardDescriptors.openMissing()
exit(await CronlockMain.run(Array(CommandLine.arguments.dropFirst())))
