#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NULL-terminated arrays of C strings (`argv`, `envp`) that live only for the duration of a call.
enum CStringArray {
    /// A NULL-terminated array of C strings.
    typealias Pointer = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    /// Calls `body` with `strings` as a NULL-terminated C array, freed when `body` returns.
    static func with<Result>(_ strings: [String], _ body: (Pointer) -> Result) -> Result {
        let pointers = Pointer.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() {
            pointers[index] = strdup(string)
        }
        pointers[strings.count] = nil
        defer {
            for index in strings.indices { free(pointers[index]) }
            pointers.deallocate()
        }
        return body(pointers)
    }

    /// `environment` as `KEY=value` entries, sorted by key so that runs are reproducible.
    static func entries(of environment: [String: String]) -> [String] {
        environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
