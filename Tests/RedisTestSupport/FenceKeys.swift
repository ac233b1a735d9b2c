/// Fencing keeps a fence beside each lock key (`<resource>:redlock.fence`, no TTL) by design: it
/// outlives the lock, so checks that no lock key is left leave fences out.
public func withoutFences(_ keys: [String]) -> [String] {
    keys.filter { !$0.hasSuffix(":redlock.fence") }
}
