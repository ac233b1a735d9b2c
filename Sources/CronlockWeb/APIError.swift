import Foundation
import Hummingbird

/// An error answered as JSON `{"code": "...", "message": "..."}` (HTML on the pages) with its HTTP status. Messages
/// never hold a token or a password.
package struct APIError: HTTPResponseError, Sendable {
    package let status: HTTPResponse.Status
    /// A stable, machine-readable name: `not_found`, `bad_duration`, `bad_group`, `not_running`, …
    package let code: String
    /// One line for a person.
    package let message: String

    package init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// JSON for the API and `/metrics`; a small HTML page for the pages.
    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/") || path == "/metrics" else {
            let html = "<!doctype html><meta charset=\"utf-8\"><title>\(status.code) · cronlock</title>"
                + "<h1>\(status.code) \(HTMLText.escaped(status.reasonPhrase))</h1><p id=\"error\">\(HTMLText.escaped(message))</p><p><a href=\"/\">Jobs</a></p>"
            return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        let body = try JSONEncoder().encode(["code": code, "message": message])
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
