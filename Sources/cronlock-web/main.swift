import CronlockWeb

#if canImport(Glibc)
import Glibc
#endif

exit(await CronlockWebCommand.main(Array(CommandLine.arguments.dropFirst())))
