@testable import CronlockWeb
import TestLoad
import Testing

@Suite("job names in URLs", .load(.timed))
struct PathTextTests {
    @Test func anyPrintableNameIsOneSegmentAndComesBackTheSame() {
        for name in ["nightly/report", "a b", "ünïcødé-job", "100%", "x?y#z", "plain-name_1.2~"] {
            let escaped = PathText.escaped(name)
            #expect(!escaped.contains("/") && !escaped.contains(" ") && !escaped.contains("?") && !escaped.contains("#"), "\(escaped)")
            #expect(PathText.decoded(escaped) == name)
        }
        #expect(PathText.escaped("plain-name_1.2~") == "plain-name_1.2~")
        #expect(PathText.escaped("a/b c") == "a%2Fb%20c")
    }
}
