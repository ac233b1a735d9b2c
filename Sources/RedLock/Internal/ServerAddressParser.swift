/// Parses the address forms documented on `RedisServerAddress`, with a precise reason for every rejection.
enum ServerAddressParser {
    struct Failure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static func parse(_ text: String) throws(Failure) -> RedisServerAddress {
        guard !text.isEmpty else { throw Failure("the address is empty") }
        guard text.utf8.count <= RedisServerAddress.maximumLength else {
            throw Failure("the address is longer than \(RedisServerAddress.maximumLength) bytes")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) else {
            throw Failure("the address contains spaces or control characters")
        }
        if let rest = text.droppingScheme("redis") { return try parseRedisURL(rest) }
        if let rest = text.droppingScheme("rediss") {
            var address = try parseRedisURL(rest)
            address.usesTLS = true
            return address
        }
        if let rest = text.droppingScheme("unix") { return try parseUnixURL(rest) }
        if text.contains("://") { throw Failure("unknown scheme; use redis://, rediss://, unix:// or host:port") }
        let (host, port) = try parseHostPort(text)
        return RedisServerAddress(endpoint: .tcp(host: host, port: port))
    }

    /// `[user[:password]@]host[:port][/db]`
    private static func parseRedisURL(_ rest: String) throws(Failure) -> RedisServerAddress {
        guard !rest.contains("?"), !rest.contains("#") else { throw Failure("query strings and fragments are not supported in redis:// URLs; put the database after a slash") }
        let (credentials, afterUserinfo) = try splitUserinfo(rest)
        var authority = afterUserinfo
        var database = 0
        if let slash = afterUserinfo.firstIndex(of: "/") {
            authority = String(afterUserinfo[..<slash])
            database = try parseDatabase(String(afterUserinfo[afterUserinfo.index(after: slash)...]))
        }
        guard !authority.isEmpty else { throw Failure("the host is missing") }
        let (host, port) = try parseHostPort(authority)
        return RedisServerAddress(endpoint: .tcp(host: host, port: port), username: credentials.username,
                                  password: credentials.password, database: database)
    }

    /// `[user[:password]@]/path[?db=N]`
    private static func parseUnixURL(_ rest: String) throws(Failure) -> RedisServerAddress {
        let (credentials, afterUserinfo) = try splitUserinfo(rest)
        var path = afterUserinfo
        var database = 0
        if let question = afterUserinfo.firstIndex(of: "?") {
            path = String(afterUserinfo[..<question])
            let query = afterUserinfo[afterUserinfo.index(after: question)...]
            guard let value = query.droppingPrefix("db=") else { throw Failure("the only query parameter of unix:// URLs is db=N") }
            database = try parseDatabase(value)
        }
        guard path.hasPrefix("/"), path.count > 1 else { throw Failure("unix:// needs an absolute socket path, e.g. unix:///run/redis/redis.sock") }
        return RedisServerAddress(endpoint: .unix(path: path), username: credentials.username,
                                  password: credentials.password, database: database)
    }

    private static func splitUserinfo(_ text: String) throws(Failure) -> (credentials: (username: String?, password: String?), rest: String) {
        guard let at = text.lastIndex(of: "@") else { return ((nil, nil), text) }
        let userinfo = text[..<at]
        let rest = String(text[text.index(after: at)...])
        let username: Substring
        var password: String?
        if let colon = userinfo.firstIndex(of: ":") {
            username = userinfo[..<colon]
            password = try percentDecoded(userinfo[userinfo.index(after: colon)...])
        } else {
            username = userinfo
        }
        guard !username.isEmpty || password != nil else { throw Failure("the user information before '@' is empty") }
        return ((username.isEmpty ? nil : try percentDecoded(username), password), rest)
    }

    private static func parseHostPort(_ text: String) throws(Failure) -> (host: String, port: Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Failure("an IPv6 address lacks its closing ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Failure("unexpected text after ']': \"\(after)\"") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" }), host.contains(":") else {
                throw Failure("\"\(host)\" is not an IPv6 address")
            }
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons > 1 { throw Failure("IPv6 addresses must be written in brackets, e.g. [::1]:6379") }
            if let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                host = text[...]
            }
            guard !host.isEmpty else { throw Failure("the host is missing") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                throw Failure("\"\(host)\" is not a valid host name")
            }
            guard host.utf8.count <= 253 else { throw Failure("the host name is longer than 253 bytes") }
        }
        var port = RedisServerAddress.defaultPort
        if let portText {
            guard let parsed = Int(portText), (1...65_535).contains(parsed), portText.allSatisfy(\.isNumber) else {
                throw Failure("the port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = parsed
        }
        return (String(host), port)
    }

    private static func parseDatabase(_ text: String) throws(Failure) -> Int {
        if text.isEmpty { return 0 }
        guard text.allSatisfy(\.isNumber), let database = Int(text), database <= Int(Int32.max) else {
            throw Failure("the database \"\(text)\" is not a non-negative number")
        }
        return database
    }

    private static func percentDecoded(_ text: Substring) throws(Failure) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  Character(Unicode.Scalar(high)).isHexDigit, Character(Unicode.Scalar(low)).isHexDigit,
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                throw Failure("a '%' in the user information is not followed by two hex digits")
            }
            bytes.append(value)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure("the percent escapes in the user information do not form UTF-8 text")
        }
        return text
    }

    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-._~".unicodeScalars.contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// The text as it may appear in an error message: any password in its user information
    /// replaced by `***` (the whole user information when it has no ':', since some clients put a
    /// bare password there), control characters shown as '?', and clipped to 200 characters.
    static func redacted(_ text: String) -> String {
        var shown = text
        if let at = text.lastIndex(of: "@") {
            let beforeAt = text[..<at]
            let userinfoStart = beforeAt.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
                .dropLast().first.map { text.index($0.endIndex, offsetBy: 3) } ?? text.startIndex
            let userinfo = text[userinfoStart..<at]
            let kept = userinfo.firstIndex(of: ":").map { String(text[userinfoStart...$0]) } ?? ""
            shown = String(text[..<userinfoStart]) + kept + "***" + String(text[at...])
        }
        if shown.count > 200 { shown = String(shown.prefix(200)) + "…" }
        return String(String.UnicodeScalarView(shown.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
    }
}

extension StringProtocol {
    /// The rest after `scheme://`, matching the scheme case-insensitively (as URLs do), or nil.
    func droppingScheme(_ scheme: String) -> String? {
        let prefix = scheme + "://"
        guard count >= prefix.count, self.prefix(prefix.count).lowercased() == prefix else { return nil }
        return String(dropFirst(prefix.count))
    }

    /// The rest of the string after `prefix`, or nil when it does not start with it.
    func droppingPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
