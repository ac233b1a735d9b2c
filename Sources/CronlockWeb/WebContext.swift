import Hummingbird

/// The request context of every route: the caller's role as `AccessMiddleware` found it.
package struct WebContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// Who is asking; set by `AccessMiddleware` before any route runs.
    package var role: Role = .anonymous
    /// Whether the role came from the session cookie (a browser form), so a POST needs the CSRF token.
    package var viaCookie = false
    /// The CSRF token the browser's forms must send back (from its cookie), if it has one.
    package var csrfToken: String?

    package init(source: Source) {
        coreContext = .init(source: source)
    }
}
