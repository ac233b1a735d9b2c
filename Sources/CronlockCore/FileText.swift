import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Reads small text files without Foundation (cronlock's start-up must stay lean).
enum FileText {
    /// The file's text, at most `limit` bytes; the `errno` text when it cannot be opened.
    static func contents(of path: String, limit: Int = 1 << 20) -> Result<String, FileError> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(FileError(reason: String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return .success(String(decoding: bytes.prefix(limit), as: UTF8.self))
    }

    /// The first line of the secret file given as `option` (a trailing newline is not part of
    /// the secret). Throws a usage error naming the option and file when it cannot be read or its
    /// first line is empty.
    static func firstLine(ofSecretFile path: String, option: String, holding what: String) throws -> String {
        let text: String
        switch contents(of: path, limit: 65_536) {
        case .success(let contents): text = contents
        case .failure(let error): throw ValidationError("cannot read \(option) \(path): \(error.reason)")
        }
        // The first line, without its line ending ("\r\n" is one Character, so split on newlines).
        let line = String(text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline).first ?? "")
        guard !line.isEmpty else { throw ValidationError("\(option) \(path) is empty or unreadable; its first line must hold \(what)") }
        return line
    }

    struct FileError: Error {
        let reason: String
    }
}
