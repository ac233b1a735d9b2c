#ifndef CSPAWN_H
#define CSPAWN_H

#include <limits.h>
#include <sys/types.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/*
 * Launching cronlock's command with a guard process.
 *
 *   cronlock ──fork──▶ guard G "cronlock-guard" (own session and process group; child subreaper;
 *      │                ignores every signal it can)
 *      │                └──fork──▶ command C: own process group, parent-death SIGKILL ──execve──▶
 *      └── control socket (cronlock ⇄ G): lease deadlines and tree signals in, a notice out
 *
 * G is out of cronlock's process group and session, so no signal to cronlock's group (timeout,
 * supervisord's killasgroup, kill -9 -- -PGID) reaches it. It holds the lease: it kills the
 * command's whole tree (the command, its group, and descendants that left the group: every one of
 * them ends up under G, a subreaper) when
 *   - the lease deadline (CLOCK_BOOTTIME) passes without a newer one from cronlock, whatever
 *     cronlock is doing (stopped, starved), and then sends cronlock a notice; or
 *   - the control socket reaches end of file: cronlock is gone (killed by any signal).
 * G exits only when no descendant is left, the way the command did (same exit code, or the same
 * signal): waiting for G tells the caller the command's status and that the tree is gone.
 * Only async-signal-safe calls run after fork: everything that needs memory or locks (PATH
 * search, strings) happens before it.
 */

/* cspawn_result.outcome */
#define CSPAWN_STARTED 0        /* the command is running; `group` is its process group */
#define CSPAWN_NOT_FOUND 1      /* no such file (on PATH, or at the given path): exit 127 */
#define CSPAWN_NOT_EXECUTABLE 2 /* it exists but cannot be executed: exit 126 */
#define CSPAWN_FAILED 3         /* the system refused (pipe, fork, exec resources): exit 126 */
#define CSPAWN_LEASE_TOO_SHORT 4 /* less than the margin was left of the lease at exec: not run */

/* cspawn_result.step: where a failure happened */
#define CSPAWN_STEP_RESOLVE 1      /* looking the command up (in cronlock, before any fork) */
#define CSPAWN_STEP_PREPARE 2      /* pipe or fork of the guard, in cronlock */
#define CSPAWN_STEP_GUARD 3        /* the guard's own set-up (descriptors, prctl) */
#define CSPAWN_STEP_FORK_COMMAND 4 /* the guard could not fork the command */
#define CSPAWN_STEP_EXEC 5         /* execve failed in the command process */
#define CSPAWN_STEP_PROCESS_GROUP 6 /* the command could not get its own process group */
#define CSPAWN_STEP_LEASE 7        /* the lease check just before execve */

typedef struct cspawn_result {
    int outcome;  /* CSPAWN_STARTED or a failure */
    int step;     /* CSPAWN_STEP_*, 0 when started */
    int error;    /* errno of the failure, 0 when started */
    pid_t group;  /* the command's process group id (= its pid), when started */
    pid_t guard;  /* the guard's pid, when started: waitpid for it */
    int control;  /* cronlock's end of the control socket, when started (close-on-exec): close it
                     only after the guard has been reaped (end of file makes the guard kill the tree) */
} cspawn_result;

/* What the guard enforces: the command's tree is killed at `deadline` (CLOCK_BOOTTIME ns, as
   cspawn_boottime_ns), and not started at all when less than `margin` ns of it are left just
   before execve. A deadline of 0 is no lease: only cronlock's death ends the tree. */
typedef struct cspawn_lease {
    long long deadline;
    long long margin;
} cspawn_lease;

/*
 * Starts `argv` (NULL-terminated; argv[0] is the name that is looked up like execvp does: used as
 * is when it contains a '/', else searched in the PATH of `envp`, or "/bin:/usr/bin" when envp has
 * none) with exactly the environment `envp` (NULL-terminated). stdin is passed through, and stdout
 * and stderr too unless `stdout_fd` / `stderr_fd` are >= 0 (e.g. pipes' write ends, opened
 * close-on-exec): then those become the command's 1 and 2. Every other descriptor is closed in
 * the guard. Returns when the command has been
 * exec'ed (or has failed to be); on success the guard is running and must be waited for with
 * waitpid(result->guard). On failure no process is left behind.
 *
 * May be called from any thread: the guard watches the control socket, not the thread that
 * forked it.
 */
void cspawn_start(const char *name, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                  cspawn_lease lease, cspawn_result *result);

/* CLOCK_BOOTTIME now, in nanoseconds: the clock lease deadlines are on. */
long long cspawn_boottime_ns(void);

/* Gives the guard a new lease deadline (CLOCK_BOOTTIME ns). 0, or -1 with errno (EPIPE: the guard
   is gone). Never raises SIGPIPE. */
int cspawn_extend_lease(int control, long long deadline);

/* Asks the guard to send `signal` to every process of the command's tree (its group and every
   descendant that left it). 0, or -1 with errno. */
int cspawn_signal_tree(int control, int signal);

/* After the guard has been reaped: 1 if it killed the tree because the lease deadline passed,
   else 0. Does not block. */
int cspawn_lease_expired(int control);

/*
 * Looks `name` up exactly as cspawn_start does, without starting anything: CSPAWN_STARTED when it
 * would run (with `resolved` filled in), else CSPAWN_NOT_FOUND / CSPAWN_NOT_EXECUTABLE /
 * CSPAWN_FAILED with *error set. Lets a caller refuse a missing command before taking a lock.
 */
int cspawn_resolve(const char *name, char *const envp[], char resolved[PATH_MAX], int *error);

/*
 * Signal relay: installs a handler (SA_RESTART) for each of `signals` that writes the signal
 * number as one byte into a new close-on-exec pipe, and returns the pipe's read end (or -1 with
 * errno). Process-wide, so it works whichever thread the signal is delivered to. Call once.
 */
int cspawn_relay_install(const int *signals, int count);

/* Puts `signals` back to their default action (when the relay cannot run after all). */
void cspawn_relay_uninstall(const int *signals, int count);

/*
 * Records which signals are ignored right now, so that commands started later begin with exactly
 * these ignored (e.g. SIGHUP under nohup) and every other signal at its default. Without this call
 * commands start with every signal at its default. Only the first call records anything: call it
 * early, before this process changes any disposition.
 */
void cspawn_remember_ignored_signals(void);

/* 1 if cspawn_remember_ignored_signals found `signal` ignored, else 0 (also before that call). */
int cspawn_was_ignored(int signal);

/* Decodes a waitpid status: 1 and *value = exit code if the process exited; 2 and *value = signal
   number if a signal killed it; 0 otherwise (stopped or continued). */
int cspawn_decode_wait_status(int status, int *value);

#endif
