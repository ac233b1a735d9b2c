/// A configuration file that cannot be used: unreadable, malformed, an unknown key, a wrong type
/// or value. `description` names the file, the line (when known) and the key; cronlock exits 64.
struct ConfigError: Error, CustomStringConvertible {
    let path: String
    let line: Int?
    let key: String?
    let problem: String

    var description: String {
        let place = path + (line.map { ":\($0)" } ?? "")
        return "\(place): " + (key.map { "\($0): " } ?? "") + problem
    }
}
