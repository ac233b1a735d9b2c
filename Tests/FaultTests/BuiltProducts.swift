import Foundation
import RedisTestSupport

/// Executables built by this package, found next to the test bundle in the build folder.
enum BuiltProducts {
    static let directory: URL = {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return testBinary.deletingLastPathComponent()
    }()

    /// The `cronlock` CLI.
    static var cronlock: URL { directory.appendingPathComponent("cronlock") }
    /// The fault suite's contender process (`Tests/FaultContender`).
    static var faultContender: URL { directory.appendingPathComponent("FaultContender") }
}

extension BuiltProducts {
    /// Starts `executable` (one of the above) with this process's environment plus `adding`,
    /// isolated from any Redis the harness did not start; `onLine` gets each stdout line as it
    /// arrives, stderr is kept.
    static func start(_ executable: URL, _ arguments: [String], adding: [String: String] = [:], input: SpawnedProcess.Input = .null,
                      onLine: @escaping @Sendable (Substring) -> Void = { _ in }) throws -> SpawnedProcess {
        try SpawnedProcess(executable.path, arguments, environment: SpawnedProcess.isolatedEnvironment(adding),
                           input: input, output: .lines(onLine), error: .collect)
    }
}
