import RedLock
import ServiceLifecycle

/// `RedLockClient` as a swift-service-lifecycle `Service`: add the client to a `ServiceGroup` and
/// it is shut down when the group shuts down gracefully (or is cancelled).
///
/// The client connects when it is created, so it can be used before `run()` starts; `run()` only
/// ties its end to the group's.
extension RedLockClient: Service {
    /// Suspends until graceful shutdown or cancellation, then shuts the client down (calls in
    /// flight fail with `.clientShutDown`). Never throws.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
