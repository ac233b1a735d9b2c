/// Carries a value that is not `Sendable` across a task boundary whose safety the compiler
/// cannot see. Each use says why it is safe.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
