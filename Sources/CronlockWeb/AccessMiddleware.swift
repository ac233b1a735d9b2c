import Foundation
import Hummingbird

/// Finds each request's role from `Authorization: Bearer TOKEN` or the session cookie set by the
/// login form, and refuses what the role may not do: reading without a role (401, or a redirect
/// to the login page for pages), and any POST but the login's from a non-operator (403), or from a
/// browser session without the form's CSRF token (field `csrf` or header `X-CSRF-Token`; 403).
struct AccessMiddleware: RouterMiddleware {
    typealias Context = WebContext

    /// The session cookie: the token the login form was given (HttpOnly, SameSite=Strict).
    static let sessionCookie = "cronlock_session"
    /// The CSRF cookie: a random value the pages' forms repeat in a hidden `csrf` field.
    static let csrfCookie = "cronlock_csrf"

    let tokens: AccessTokens

    func handle(_ original: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        var request = original
        let path = request.uri.path
        let bearer = request.headers[.authorization].flatMap { header -> String? in
            header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
        }
        let cookie = request.cookies[Self.sessionCookie]?.value
        context.viaCookie = bearer == nil && cookie != nil
        context.role = tokens.role(for: bearer ?? cookie)
        context.csrfToken = request.cookies[Self.csrfCookie]?.value
        let isAPI = path.hasPrefix("/api/") || path == "/metrics"
        if path == "/login" || path == "/logout" || path == "/api/v1/openapi.yaml" { return try await next(request, context) }
        guard context.role >= .viewer else {
            if isAPI { throw APIError(.unauthorized, "unauthorized", "this dashboard needs a token: send Authorization: Bearer TOKEN") }
            return Response.redirect(to: "/login?next=\(Self.escaped(path))", type: .found)
        }
        if request.method == .post {
            guard tokens.required, context.role == .operator else {
                throw APIError(.forbidden, "forbidden", tokens.required
                    ? "only the operator's token may pause, resume or stop"
                    : "this dashboard is read-only: start cronlock-web with --operator-token-file to allow pause, resume and stop")
            }
            if context.viaCookie {
                let body = try await request.collectBody(upTo: FormFields.maximumSize)
                let sent = request.headers[.init("X-CSRF-Token")!] ?? FormFields(body).values["csrf"]
                guard let expected = context.csrfToken, !expected.isEmpty, sent == expected else {
                    throw APIError(.forbidden, "csrf", "the form is stale or came from another site: reload the page and try again")
                }
            }
        }
        return try await next(request, context)
    }


    private static func escaped(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
    }
}
