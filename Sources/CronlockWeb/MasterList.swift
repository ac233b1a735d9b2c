/// `GET /api/v1/masters`.
struct MasterList: Encodable {
    var masters: [MasterView]
}
