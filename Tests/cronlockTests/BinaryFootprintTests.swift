import Foundation
import Testing

/// What the built `cronlock` links. TOMLKit imports `Foundation`; a call in CronlockCore that
/// resolves to one of Foundation's `String` methods links all of Foundation and ICU's data into
/// the static release binary (17.5 MB becomes 61 MB; README, "Building for deployment").
@Suite struct BinaryFootprintTests {
    @Test func cronlockUsesNoSymbolOfFoundationItself() throws {
        let nm = Process()
        nm.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        nm.arguments = ["--dynamic", "--undefined-only", "--format=just-symbols", CronlockProcess.executable.path]
        let output = Pipe()
        nm.standardOutput = output
        try nm.run()
        let symbols = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        nm.waitUntilExit()
        try #require(nm.terminationStatus == 0)
        #expect(symbols.contains("FoundationEssentials"), "the check reads the right binary")
        // Mangled Swift names spell the module `Foundation` as `10Foundation`.
        let foundation = symbols.split(separator: "\n").filter { $0.contains(/(^|[^0-9])10Foundation/) }
        #expect(foundation.isEmpty, "cronlock calls into Foundation: \(foundation.prefix(5))")
    }
}
