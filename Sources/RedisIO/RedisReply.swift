import CHiredis

/// A reply from Redis, copied out of hiredis' reply object.
package enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk(String)
    case null
    case array([RedisReply])

    package init(_ reply: UnsafePointer<redisReply>) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STATUS: self = .status(Self.text(value))
        case REDIS_REPLY_ERROR: self = .error(Self.text(value))
        case REDIS_REPLY_INTEGER: self = .integer(value.integer)
        case REDIS_REPLY_STRING: self = .bulk(Self.text(value))
        case REDIS_REPLY_ARRAY:
            self = .array((0..<value.elements).map { RedisReply(chiredis_element(reply, $0)) })
        default: self = .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        guard let start = reply.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: reply.len), as: UTF8.self)
    }
}
