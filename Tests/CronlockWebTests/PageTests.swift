import CronlockWeb
import Foundation
import Hummingbird
import HummingbirdTesting
import RedisTestSupport
import TestLoad
import Testing

@Suite("cronlock-web pages: server-rendered, login, forms with CSRF", needsRedis, .load(.timed))
struct PageTests {
    @Test func pagesRenderWithoutScriptAndFormsNeedTheLoginAndItsCSRFToken() async throws {
        let fixture = try await WebFixture()
        for _ in 0..<3 { #expect(try await fixture.cronlock(["--key", "nightly/report", "--min-hold", "0s", "--", "true"]).code == 0) }
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .found && response.headers[.location] == "/login?next=%2F", "pages send strangers to the login")
            }
            try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "token=wrong&next=%2F")) { response in
                #expect(response.status == .unauthorized && response.text.contains("not valid"))
            }
            let cookies = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                   body: ByteBuffer(string: "token=\(WebFixture.operatorToken)&next=%2F")) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/")
                return response.headers[values: .setCookie]
            }
            let session = try #require(cookies.first { $0.hasPrefix("cronlock_session=") }?.split(separator: ";").first.map(String.init))
            let csrfCookie = try #require(cookies.first { $0.hasPrefix("cronlock_csrf=") }?.split(separator: ";").first.map(String.init))
            #expect(cookies.allSatisfy { $0.contains("HttpOnly") && $0.contains("SameSite=Strict") }, "\(cookies)")
            let csrf = String(csrfCookie.dropFirst("cronlock_csrf=".count))
            let browser: HTTPFields = [.cookie: "\(session); \(csrfCookie)"]

            try await client.execute(uri: "/", method: .get, headers: browser) { response in
                #expect(response.status == .ok && response.text.contains("nightly%2Freport") && response.text.contains("state-ok"), "\(response.text)")
                #expect(!response.text.contains(WebFixture.operatorToken), "the token never appears in a page")
            }
            let page = try await client.execute(uri: "/jobs/nightly%2Freport", method: .get, headers: browser) { $0 }
            #expect(page.status == .ok && page.text.contains("<svg") && page.text.contains("<rect") && page.text.contains("id=\"pause\""), "\(page.text)")
            #expect(page.text.contains("name=\"csrf\" value=\"\(csrf)\"") && !page.text.contains(WebFixture.operatorToken))

            var form = browser
            form[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/jobs/nightly%2Freport/pause", method: .post, headers: form,
                                     body: ByteBuffer(string: "reason=x")) { response in
                #expect(response.status == .forbidden && response.text.contains("stale"), "a form without the CSRF token is refused")
            }
            try await client.execute(uri: "/jobs/nightly%2Freport/pause", method: .post, headers: form,
                                     body: ByteBuffer(string: "csrf=\(csrf)&reason=disk+full&for=")) { response in
                #expect(response.status == .seeOther && response.headers[.location]?.hasPrefix("/jobs/nightly%2Freport?done=") == true)
            }
            try await client.execute(uri: "/jobs/nightly%2Freport", method: .get, headers: browser) { response in
                #expect(response.text.contains("state-paused") && response.text.contains("disk full"), "\(response.text)")
            }
            try await client.execute(uri: "/jobs/nightly%2Freport/pause", method: .post, headers: form,
                                     body: ByteBuffer(string: "csrf=\(csrf)&for=forever")) { response in
                #expect(response.status == .badRequest && response.text.contains("is not a duration"), "a bad duration is a 400 page")
            }
            for uri in ["/live", "/masters", "/?group=default"] {
                try await client.execute(uri: uri, method: .get, headers: browser) { response in
                    #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/html") == true, "\(uri)")
                }
            }
            try await client.execute(uri: "/masters", method: .get, headers: browser) { response in
                #expect(response.text.components(separatedBy: "state-ok\">up").count == 4, "\(response.text)")
            }
            try await client.execute(uri: "/?group=bad%20group", method: .get, headers: browser) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/jobs/nosuch", method: .get, headers: browser) { #expect($0.status == .notFound) }
        }
    }

    @Test func aViewerSeesNoFormsAndCannotPostThem() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            let viewer: HTTPFields = [.cookie: "cronlock_session=\(WebFixture.viewerToken); cronlock_csrf=abc",
                                      .contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/jobs/job", method: .get, headers: viewer) { response in
                #expect(response.status == .ok && !response.text.contains("id=\"pause\"") && response.text.contains("operator"))
            }
            try await client.execute(uri: "/jobs/job/pause", method: .post, headers: viewer, body: ByteBuffer(string: "csrf=abc")) { response in
                #expect(response.status == .forbidden)
            }
        }
    }
}
