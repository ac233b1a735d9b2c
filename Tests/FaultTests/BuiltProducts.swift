import Foundation

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
