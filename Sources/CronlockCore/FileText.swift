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

    struct FileError: Error {
        let reason: String
    }
}
