/// The answer to pause, resume and stop.
struct ActionResult: Encodable {
    var job: String
    /// `pause`, `resume` or `stop`.
    var action: String
    /// What was done, for a person.
    var message: String
    /// The runs asked to stop (stop only).
    var runs: [String]?
}
