#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/random.h>
#endif

/* glibc declares pipe2 only under _GNU_SOURCE, which Swift's Glibc module does not define. */
extern int pipe2(int fds[2], int flags);

/// A pipe whose two ends are close-on-exec from the start (and non-blocking when `nonblocking`),
/// so that no child started meanwhile by another thread inherits them: the one such helper of
/// the Swift code (library, cronlock, test harness). Returns 0, or -1 with errno.
static inline int chiredis_pipe_cloexec(int fds[2], int nonblocking) {
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
}

#ifdef __linux__
/// Fills `buffer` from the kernel's cryptographically secure generator in one `getrandom(2)`
/// call (Swift's Glibc module does not include <sys/random.h>). Returns 0, or -1 when the call
/// failed or filled less than `count` (a signal during early boot, before the generator is seeded).
static inline int chiredis_random_bytes(void *buffer, size_t count) {
    return getrandom(buffer, count, 0) == (ssize_t)count ? 0 : -1;
}
#endif

/// The context's error text; `errstr` imports into Swift as a tuple.
static inline const char *chiredis_errstr(const redisContext *context) {
    return context->errstr;
}

/// The reader's error text; `errstr` imports into Swift as a tuple.
static inline const char *chiredis_reader_errstr(const redisReader *reader) {
    return reader->errstr;
}

/// Bytes appended to the context but not yet written to its socket.
static inline size_t chiredis_unwritten(const redisContext *context) {
    return context->obuf ? sdslen(context->obuf) : 0;
}

/// The element at `index` of an array reply.
static inline const redisReply *chiredis_element(const redisReply *reply, size_t index) {
    return reply->element[index];
}

/// Names the calling thread (shown by `top -H`, `perf`, debuggers); a no-op off Linux.
static inline void chiredis_name_current_thread(const char *name) {
#ifdef __linux__
    prctl(PR_SET_NAME, name, 0, 0, 0);
#else
    (void)name;
#endif
}

#endif
