/// `GET /api/v1/jobs/{name}/holders`: the job's lock on each master.
struct HolderList: Encodable {
    var job: String
    var holders: [HolderView]
}
