/// What one server gave: a value, or the outcome that explains why not. A `Result` whose failure
/// is a `ServerOutcome`, which is a report, not an `Error`.
package enum ServerResult<Success> {
    case success(Success)
    case failure(ServerOutcome)

    /// The value, or `nil` on failure.
    package var value: Success? {
        if case .success(let value) = self { value } else { nil }
    }
}

extension ServerResult: Sendable where Success: Sendable {}
extension ServerResult: Equatable where Success: Equatable {}
