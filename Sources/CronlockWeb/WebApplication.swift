import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the dashboard's Hummingbird application: the error and access middleware, the API, the pages.
package enum WebApplication {
    /// The application for `dashboard`, listening where `settings` say, running `services` beside
    /// the server (they stop with it); `onListening` gets the bound port (useful with port 0).
    package static func make(dashboard: Dashboard, settings: WebSettings, services: [any Service] = [],
                             onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let router = try makeRouter(dashboard: dashboard)
        return Application(router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "cronlock-web"),
                           services: services,
                           onServerRunning: { channel in await onListening(channel.localAddress?.port ?? settings.port) },
                           logger: settings.logger)
    }

    /// The router alone (for tests that drive it without a socket).
    package static func makeRouter(dashboard: Dashboard) throws -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: HTTPErrorMiddleware())
        router.add(middleware: AccessMiddleware(tokens: dashboard.settings.tokens))
        APIRoutes.add(to: router, dashboard: dashboard)
        PageRoutes.add(to: router, dashboard: dashboard, templates: try Templates())
        return router
    }
}
