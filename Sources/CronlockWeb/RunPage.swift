/// `GET /api/v1/jobs/{name}/history`: one page of runs, newest first.
struct RunPage: Encodable {
    var job: String
    var page: Int
    var pageSize: Int
    /// Whether older runs exist (the next page is not empty).
    var hasMore: Bool
    var runs: [RunView]
}
