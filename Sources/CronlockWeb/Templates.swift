import Hummingbird
import Mustache

/// The pages' Mustache templates, compiled into the binary (`Resources/*.mustache`).
struct Templates: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        let sources: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("jobs", PackageResources.jobs_mustache),
            ("job", PackageResources.job_mustache), ("live", PackageResources.live_mustache),
            ("masters", PackageResources.masters_mustache), ("login", PackageResources.login_mustache),
        ]
        for (name, bytes) in sources {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// `template` rendered with `values` as an HTML response.
    func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(values, withTemplate: template) ?? "template \(template) is missing"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
