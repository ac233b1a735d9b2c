import Hummingbird

/// Hummingbird's own errors (no such route, a body too large) answered like every other error:
/// JSON `{code, message}` for the API, the small HTML page for the pages.
struct HTTPErrorMiddleware: RouterMiddleware {
    typealias Context = WebContext

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            throw APIError(error.status, code, error.body ?? "\(request.method) \(request.uri.path): \(error.status.reasonPhrase.lowercased())")
        }
    }
}
