import CronlockCore
import Hummingbird

/// The JSON API under `/api/v1`, as `Resources/openapi.yaml` documents it.
enum APIRoutes {
    /// The largest page of history, in runs.
    static let maximumPageSize = 200

    /// Adds the routes; returns each as `METHOD path` (`{name}` for the job), for the test that
    /// compares them with the OpenAPI document.
    @discardableResult
    static func add(to router: Router<WebContext>, dashboard: Dashboard) -> [String] {
        var routes: [String] = []
        func get(_ path: String, _ handler: @escaping @Sendable (Request, WebContext) async throws -> Response) {
            router.get(RouterPath("/api/v1/" + path), use: handler)
            routes.append("GET /api/v1/" + path)
        }
        func post(_ path: String, _ handler: @escaping @Sendable (Request, WebContext) async throws -> Response) {
            router.post(RouterPath("/api/v1/" + path), use: handler)
            routes.append("POST /api/v1/" + path)
        }
        get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }
        get("jobs") { request, _ in
            try JSONResponse.make(JobList(jobs: try await dashboard.jobs(group: try group(of: request))))
        }
        get("jobs/{name}") { _, context in
            try JSONResponse.make(try await dashboard.job(try await keys(context, dashboard)))
        }
        get("jobs/{name}/history") { request, context in
            let keys = try await keys(context, dashboard)
            let (page, size) = try paging(request)
            let (runs, more) = try await dashboard.history(keys, page: page, size: size)
            return try JSONResponse.make(RunPage(job: keys.name, page: page, pageSize: size, hasMore: more, runs: runs))
        }
        get("jobs/{name}/holders") { _, context in
            let keys = try await keys(context, dashboard)
            return try JSONResponse.make(HolderList(job: keys.name, holders: try await dashboard.holders(keys)))
        }
        post("jobs/{name}/pause") { request, context in
            let keys = try await keys(context, dashboard)
            let body = try await ActionRequest.read(request)
            let until = try await dashboard.pause(keys, for: try body.duration(), reason: body.trimmedReason, by: Dashboard.requester(context.role))
            return try JSONResponse.make(ActionResult(job: keys.name, action: "pause",
                                                      message: "paused \(keys.name)" + (until.map { " until \(WallClock.iso8601(epochMilliseconds: $0))" } ?? ""),
                                                      runs: nil))
        }
        post("jobs/{name}/resume") { _, context in
            let keys = try await keys(context, dashboard)
            let wasPaused = try await dashboard.resume(keys, by: Dashboard.requester(context.role))
            return try JSONResponse.make(ActionResult(job: keys.name, action: "resume",
                                                      message: wasPaused ? "resumed \(keys.name)" : "\(keys.name) was not paused", runs: nil))
        }
        post("jobs/{name}/stop") { request, context in
            let keys = try await keys(context, dashboard)
            let body = try await ActionRequest.read(request)
            let runs = try await dashboard.stop(keys, reason: body.trimmedReason, by: Dashboard.requester(context.role))
            return try JSONResponse.make(ActionResult(job: keys.name, action: "stop",
                                                      message: "asked \(keys.name) to stop", runs: runs.sorted()), status: .accepted)
        }
        get("masters") { _, _ in
            try JSONResponse.make(MasterList(masters: await dashboard.masterHealth()))
        }
        get("events") { request, _ in
            let count = request.uri.queryParameters["count"].map { Int($0) }
            guard count.map({ ($0 ?? 0) > 0 }) ?? true else { throw APIError(.badRequest, "bad_count", "count must be a positive whole number") }
            return EventStream.response(dashboard: dashboard, group: try group(of: request), count: count ?? nil)
        }
        return routes
    }

    /// The `group` query parameter, checked; 400 `bad_group`.
    static func group(of request: Request) throws -> String? {
        guard let group = request.uri.queryParameters["group"].map(String.init), !group.isEmpty else { return nil }
        if let problem = JobKeys.problem(withGroup: group) { throw APIError(.badRequest, "bad_group", problem) }
        return group
    }

    /// The job named by the `name` path parameter; 404 `unknown_job`.
    static func keys(_ context: WebContext, _ dashboard: Dashboard) async throws -> JobKeys {
        guard let raw = context.parameters.get("name"), let name = PathText.decoded(raw) else {
            throw APIError(.badRequest, "bad_job", "the job name in the path is not valid UTF-8")
        }
        return try await dashboard.keys(of: name)
    }

    /// `page` (from 0) and `limit` (1 to `maximumPageSize`, default 20); 400 `bad_paging`.
    static func paging(_ request: Request) throws -> (page: Int, size: Int) {
        let query = request.uri.queryParameters
        let page = query["page"].map { Int($0) } ?? 0
        let size = query["limit"].map { Int($0) } ?? 20
        guard let page, page >= 0, page <= 10_000 else { throw APIError(.badRequest, "bad_paging", "page must be a whole number from 0 to 10000") }
        guard let size, (1...maximumPageSize).contains(size) else {
            throw APIError(.badRequest, "bad_paging", "limit must be a whole number from 1 to \(maximumPageSize)")
        }
        return (page, size)
    }
}
