import Hummingbird

/// `GET/POST /login` and `POST /logout`: the token as an HttpOnly, SameSite=Strict session
/// cookie, and a fresh random CSRF token for the forms.
enum LoginRoutes {
    static func add(to router: Router<WebContext>, tokens: AccessTokens, templates: Templates) {
        router.get("/login") { request, context in
            var values = PageRoutes.common(context, tokens, title: "Log in", nav: "navLogin")
            values["next"] = safeNext(request.uri.queryParameters["next"].map(String.init))
            if !tokens.required { values["error"] = "This dashboard needs no login: it is read-only for everyone." }
            return templates.page("login", values)
        }
        router.post("/login") { request, context in
            let form = try await FormFields.read(request).values
            let token = form["token"] ?? ""
            guard tokens.required, !token.isEmpty, tokens.role(for: token) >= .viewer else {
                var values = PageRoutes.common(context, tokens, title: "Log in", nav: "navLogin")
                values["next"] = safeNext(form["next"])
                values["error"] = tokens.required ? "That token is not valid here." : "This dashboard needs no login: it is read-only for everyone."
                return templates.page("login", values, status: .unauthorized)
            }
            var response = Response.redirect(to: safeNext(form["next"]), type: .normal)
            let secure = request.headers[.init("X-Forwarded-Proto")!] == "https"
            response.setCookie(Cookie(name: AccessMiddleware.sessionCookie, value: token, path: "/", secure: secure, httpOnly: true, sameSite: .strict))
            response.setCookie(Cookie(name: AccessMiddleware.csrfCookie, value: randomHex(), path: "/", secure: secure, httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("/logout") { _, _ in
            var response = Response.redirect(to: "/login", type: .normal)
            for name in [AccessMiddleware.sessionCookie, AccessMiddleware.csrfCookie] {
                response.setCookie(Cookie(name: name, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            }
            return response
        }
    }

    /// Where to go after logging in: a local path only (no open redirect).
    private static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    /// 128 random bits from the system CSPRNG, as hex.
    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}
