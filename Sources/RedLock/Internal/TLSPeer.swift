/// What a TLS connection to one server needs: the context to create its session from, and the name
/// sent as SNI and checked against the server's certificate (a host name or an IP address).
struct TLSPeer: Sendable {
    let context: TLSContext
    let serverName: String
}
