import CronlockCore
import Foundation
import Hummingbird

/// The body of a pause or stop: JSON (`{"reason": "...", "for": "30m"}`) from the API, or the
/// pages' urlencoded form; both optional.
struct ActionRequest: Decodable {
    var reason: String?
    /// How long a pause lasts: `500ms`, `30s`, `5m`, `1h`; absent or empty: until resumed.
    var `for`: String?

    /// The body of `request`; 400 `bad_request` for a body that is neither.
    static func read(_ request: Request) async throws -> ActionRequest {
        var request = request
        let body = try await request.collectBody(upTo: FormFields.maximumSize)
        guard body.readableBytes > 0 else { return ActionRequest() }
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            let fields = FormFields(body).values
            return ActionRequest(reason: fields["reason"], for: fields["for"])
        }
        do {
            return try JSONDecoder().decode(ActionRequest.self, from: Data(buffer: body))
        } catch {
            throw APIError(.badRequest, "bad_request", "the body must be a JSON object like {\"reason\": \"...\", \"for\": \"30m\"}")
        }
    }

    /// `for` as a duration; 400 `bad_duration` when it is not one or not positive.
    func duration() throws -> Duration? {
        guard let text = self.for?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let duration: Duration
        do {
            duration = try DurationText.parse(text)
        } catch {
            throw APIError(.badRequest, "bad_duration", "\"for\": \(error)")
        }
        guard duration > .zero else { throw APIError(.badRequest, "bad_duration", "\"for\" must be positive, not \(text)") }
        return duration
    }

    /// At most 500 characters of `reason`.
    var trimmedReason: String { String((reason ?? "").prefix(500)) }
}
