@testable import CronlockWeb
import Foundation
import Hummingbird
import RedLock
import TestLoad
import Testing

@Suite("cronlock-web's OpenAPI document matches its routes", .load(.timed))
struct OpenAPIDocumentTests {
    /// `METHOD path` for every operation in the checked-in document.
    static func documentedOperations() throws -> Set<String> {
        let text = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        var operations: Set<String> = []
        var path: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            else if !line.hasPrefix("   ") { path = line.hasPrefix("  ") ? path : nil }
            for method in ["get", "post", "put", "patch", "delete"] where line == "    \(method):" {
                if let path { operations.insert("\(method.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test func everyDocumentedOperationIsRoutedAndEveryRouteDocumented() async throws {
        let settings = WebSettings(redis: try RedLockConfiguration(serverAddresses: ["127.0.0.1:1"]), prefix: "t:",
                                   tokens: AccessTokens(viewer: nil, operator: nil))
        let dashboard = try Dashboard(settings: settings)
        let routes = APIRoutes.add(to: Router(context: WebContext.self), dashboard: dashboard)
        await dashboard.shutdown()
        let documented = try Self.documentedOperations()
        #expect(documented.count == 10, "\(documented)")
        #expect(Set(routes) == documented, "routed but not documented: \(Set(routes).subtracting(documented)); documented but not routed: \(documented.subtracting(routes))")
        #expect(routes.count == Set(routes).count)
    }
}
