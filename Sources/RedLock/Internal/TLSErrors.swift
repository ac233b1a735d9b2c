import COpenSSL

/// Reads OpenSSL's thread-local error queue.
enum TLSErrors {
    /// The first queued error's text (e.g. "no such file"), emptying the queue; nil when empty.
    static func takeQueued() -> String? {
        let first = ERR_get_error()
        ERR_clear_error()
        guard first != 0 else { return nil }
        return reasonText(first)
    }

    /// The first queued error's reason code, without emptying the queue; 0 when empty.
    static var queuedReason: Int32 {
        ERR_GET_REASON(ERR_peek_error())
    }

    private static func reasonText(_ code: UInt) -> String {
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
