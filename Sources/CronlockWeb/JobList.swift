/// `GET /api/v1/jobs`.
struct JobList: Encodable {
    var jobs: [JobView]
}
