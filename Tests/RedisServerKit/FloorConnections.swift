/// A floor's blocking connections, one per server, plain (`HiredisFloor`) or TLS (`TLSFloor`): what
/// they send is the same, rounds of one command to the first server or to every server.
public protocol FloorConnections: AnyObject {
    /// How many servers the connections go to.
    var serverCount: Int { get }
    /// The same command to the first `servers` servers in parallel; returns when all have answered.
    func round(_ arguments: [String], servers: Int) throws
}

extension FloorConnections {
    /// Caches `HiredisFloor.releaseScript` on every server.
    public func loadReleaseScript() throws {
        try parallelRound(["SCRIPT", "LOAD", HiredisFloor.releaseScript])
    }

    /// One command to the first server, waiting for its reply.
    public func singleRoundTrip(_ arguments: [String]) throws {
        try round(arguments, servers: 1)
    }

    /// The same command to every server in parallel; returns when all have answered.
    public func parallelRound(_ arguments: [String]) throws {
        try round(arguments, servers: serverCount)
    }
}
