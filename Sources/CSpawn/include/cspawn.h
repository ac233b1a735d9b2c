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
 *   cronlock ──fork──▶ guard G (stays in cronlock's process group; child subreaper;
 *                       parent-death signal; ignores every signal it can)
 *                        └──fork──▶ command C: new process group, pgid = C's pid ──execve──▶
 *
 * If cronlock dies (even by SIGKILL), the kernel sends G its parent-death signal and G kills
 * C's whole process group. G is not in that group, so signals to the group (SIGKILL included)
 * never reach it: it stays alive to reap C and every orphan of the group (they are re-parented
 * to G, a subreaper, not to a PID 1 that may not reap), and exits only when none of the group
 * is left, the way C did (same exit code, or the same signal). Waiting for G therefore tells the
 * caller C's status and, normally, that the group is gone.
 * Only async-signal-safe calls run between fork and exec; everything that needs memory or
 * locks (PATH search, strings) happens before the first fork.
 */

/* cspawn_result.outcome */
#define CSPAWN_STARTED 0        /* the command is running; `group` is its process group */
#define CSPAWN_NOT_FOUND 1      /* no such file (on PATH, or at the given path): exit 127 */
#define CSPAWN_NOT_EXECUTABLE 2 /* it exists but cannot be executed: exit 126 */
#define CSPAWN_FAILED 3         /* the system refused (pipe, fork, exec resources): exit 126 */

/* cspawn_result.step: where a failure happened */
#define CSPAWN_STEP_RESOLVE 1      /* looking the command up (in cronlock, before any fork) */
#define CSPAWN_STEP_PREPARE 2      /* pipe or fork of the guard, in cronlock */
#define CSPAWN_STEP_GUARD 3        /* the guard's own set-up (descriptors, prctl) */
#define CSPAWN_STEP_FORK_COMMAND 4 /* the guard could not fork the command */
#define CSPAWN_STEP_EXEC 5         /* execve failed in the command process */
#define CSPAWN_STEP_PROCESS_GROUP 6 /* the command could not get its own process group */

typedef struct cspawn_result {
    int outcome;  /* CSPAWN_STARTED or a failure */
    int step;     /* CSPAWN_STEP_*, 0 when started */
    int error;    /* errno of the failure, 0 when started */
    pid_t group;  /* the command's process group id (= its pid), when started */
    pid_t guard;  /* the guard's pid, when started: waitpid for it */
} cspawn_result;

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
 * May be called from any thread: the guard ignores parent-death signals caused by the exit of
 * the forking thread alone (it checks getppid() in the handler).
 */
void cspawn_start(const char *name, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                  cspawn_result *result);

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
