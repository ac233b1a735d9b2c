#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif


/* The children's copy of the error pipe's write end always ends up here. */
#define ERROR_FD 3

/* The signal the kernel sends the guard when its parent goes away. */
#define PARENT_DEATH_SIGNAL SIGUSR2

/* A record in the error pipe (8 bytes: one atomic pipe write): a failure's step and errno, or
   CSPAWN_STEP_STARTED and the command's pid, sent by the guard. */
typedef struct pipe_record {
    int step;
    int value;
} pipe_record;

#define CSPAWN_STEP_STARTED 100

/* Everything the children need, prepared before the first fork. */
typedef struct launch_plan {
    const char *path;
    char *const *argv;
    char *const *envp;
    int read_fd;
    int write_fd;
    pid_t parent;
    int stdout_fd; /* becomes the command's stdout, or -1 to pass cronlock's through */
    int stderr_fd; /* likewise for stderr */
} launch_plan;

/* ---------------------------------------------------------------------------------------------
 * Signals ignored when cronlock started (see cspawn_remember_ignored_signals).
 */

static sigset_t inherited_ignored;
static int inherited_ignored_known;

void cspawn_remember_ignored_signals(void) {
    if (inherited_ignored_known) return;
    sigemptyset(&inherited_ignored);
    for (int signal = 1; signal < NSIG; signal++) {
        struct sigaction current;
        if (sigaction(signal, NULL, &current) == 0 && !(current.sa_flags & SA_SIGINFO) &&
            current.sa_handler == SIG_IGN) {
            sigaddset(&inherited_ignored, signal);
        }
    }
    inherited_ignored_known = 1;
}

int cspawn_was_ignored(int signal) {
    return inherited_ignored_known && sigismember(&inherited_ignored, signal) == 1;
}

/* ---------------------------------------------------------------------------------------------
 * Signal relay.
 */

static volatile int relay_fd = -1;

static void relay_signal(int signal) {
    int saved = errno;
    unsigned char byte = (unsigned char)signal;
    if (relay_fd >= 0 && write(relay_fd, &byte, 1) < 0) {
        /* the pipe is full: the signal is already pending there many times over */
    }
    errno = saved;
}

int cspawn_relay_install(const int *signals, int count) {
    int fds[2];
#ifdef __linux__
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
#endif
    fcntl(fds[1], F_SETFL, O_NONBLOCK); /* a handler must never block */
    relay_fd = fds[1];
    for (int index = 0; index < count; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = relay_signal;
        sigfillset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        if (sigaction(signals[index], &action, NULL) != 0) {
            int error = errno;
            cspawn_relay_uninstall(signals, index);
            relay_fd = -1;
            close(fds[0]);
            close(fds[1]);
            errno = error;
            return -1;
        }
    }
    return fds[0];
}

void cspawn_relay_uninstall(const int *signals, int count) {
    for (int index = 0; index < count; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = SIG_DFL;
        sigaction(signals[index], &action, NULL);
    }
}

int cspawn_decode_wait_status(int status, int *value) {
    if (WIFEXITED(status)) {
        *value = WEXITSTATUS(status);
        return 1;
    }
    if (WIFSIGNALED(status)) {
        *value = WTERMSIG(status);
        return 2;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Resolving the command (in cronlock, normal context: runs before any fork).
 */

/* Looks for an environment entry `PATH=`; NULL when there is none. */
static const char *search_path(char *const envp[]) {
    for (char *const *entry = envp; *entry != NULL; entry++) {
        if (strncmp(*entry, "PATH=", 5) == 0) return *entry + 5;
    }
    return NULL;
}

/* 0 when `path` is a file this process may execute; else the errno execve would most likely give. */
static int check_executable(const char *path) {
    struct stat info;
    if (stat(path, &info) != 0) return errno;
    if (S_ISDIR(info.st_mode)) return EISDIR;
    if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0) return errno;
    return 0;
}

static int is_missing(int error) {
    return error == ENOENT || error == ENOTDIR || error == ENAMETOOLONG || error == ELOOP;
}

/* Finds `name` like execvp: as is when it contains '/', else in each PATH directory (an empty
   element means the current directory), skipping entries that exist but are not executable.
   Returns CSPAWN_STARTED with `resolved` filled in, or an outcome with *error set. */
int cspawn_resolve(const char *name, char *const envp[], char resolved[PATH_MAX], int *error) {
    if (name == NULL || name[0] == '\0') {
        *error = ENOENT;
        return CSPAWN_NOT_FOUND;
    }
    size_t name_length = strlen(name);
    if (strchr(name, '/') != NULL) {
        if (name_length >= PATH_MAX) {
            *error = ENAMETOOLONG;
            return CSPAWN_NOT_FOUND;
        }
        memcpy(resolved, name, name_length + 1);
        int problem = check_executable(resolved);
        if (problem == 0) return CSPAWN_STARTED;
        *error = problem;
        if (is_missing(problem)) return CSPAWN_NOT_FOUND;
        return (problem == EACCES || problem == EPERM || problem == EISDIR) ? CSPAWN_NOT_EXECUTABLE
                                                                            : CSPAWN_FAILED;
    }
    const char *path = search_path(envp);
    if (path == NULL) path = "/bin:/usr/bin";
    int denied = 0;
    for (const char *start = path;; ) {
        const char *end = start;
        while (*end != '\0' && *end != ':') end++;
        size_t directory_length = (size_t)(end - start);
        const char *directory = directory_length == 0 ? "." : start;
        if (directory_length == 0) directory_length = 1;
        if (directory_length + 1 + name_length < PATH_MAX) {
            memcpy(resolved, directory, directory_length);
            resolved[directory_length] = '/';
            memcpy(resolved + directory_length + 1, name, name_length + 1);
            int problem = check_executable(resolved);
            if (problem == 0) return CSPAWN_STARTED;
            if (!is_missing(problem)) denied = problem;
        }
        if (*end == '\0') break;
        start = end + 1;
    }
    if (denied != 0) {
        *error = denied == EISDIR ? EACCES : denied;
        return CSPAWN_NOT_EXECUTABLE;
    }
    *error = ENOENT;
    return CSPAWN_NOT_FOUND;
}

/* ---------------------------------------------------------------------------------------------
 * Helpers for the children: async-signal-safe only.
 */

static pid_t fork_safely(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return _Fork(); /* like fork, without running other libraries' atfork handlers */
#else
    return fork();
#endif
}

static void send_record(int fd, int step, int value) {
    pipe_record record = {step, value};
    ssize_t written;
    do {
        written = write(fd, &record, sizeof record);
    } while (written < 0 && errno == EINTR);
}

static int wait_for(pid_t pid, int *status) {
    pid_t result;
    do {
        result = waitpid(pid, status, 0);
    } while (result < 0 && errno == EINTR);
    return result < 0 ? -1 : 0;
}

static void close_from(int lowest) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    closefrom(lowest); /* close_range, or /proc/self/fd on kernels without it */
#else
    struct rlimit limit;
    int highest = 4096;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        highest = (int)limit.rlim_cur;
    }
    for (int fd = lowest; fd < highest; fd++) close(fd);
#endif
}

/* Leaves only 0, 1, 2 and the error pipe's write end (moved to ERROR_FD, close-on-exec) open,
   so no Redis socket or other descriptor of cronlock reaches the command. 1 and 2 become the
   plan's output descriptors when it has them (dup2 clears their close-on-exec flag). */
static int isolate_descriptors(const launch_plan *plan) {
    if (plan->stdout_fd >= 0 && dup2(plan->stdout_fd, STDOUT_FILENO) < 0) return -1;
    if (plan->stderr_fd >= 0 && dup2(plan->stderr_fd, STDERR_FILENO) < 0) return -1;
    if (plan->write_fd != ERROR_FD) {
#ifdef __linux__
        if (dup3(plan->write_fd, ERROR_FD, O_CLOEXEC) < 0) return -1;
#else
        if (dup2(plan->write_fd, ERROR_FD) < 0 || fcntl(ERROR_FD, F_SETFD, FD_CLOEXEC) < 0) return -1;
#endif
        if (plan->write_fd < ERROR_FD) close(plan->write_fd);
    }
    if (plan->read_fd < ERROR_FD) close(plan->read_fd);
    close_from(ERROR_FD + 1);
    return 0;
}

/* 0, or -1 with EINVAL for SIGKILL, SIGSTOP and the signals libc reserves. */
static int set_disposition(int signal, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigfillset(&action.sa_mask);
    action.sa_flags = handler == SIG_DFL || handler == SIG_IGN ? 0 : SA_RESTART;
    return sigaction(signal, &action, NULL);
}

/* glibc's sigaction refuses the signals it reserves (32 and 33 on Linux) even though a process
   may inherit them ignored; reset those through the system call. An all-zero kernel sigaction is
   SIG_DFL, no flags, empty mask, whatever the architecture's layout. */
static void reset_reserved_signal(int signal) {
#if defined(__linux__) && defined(SYS_rt_sigaction)
    static const char zeroes[256];
    syscall(SYS_rt_sigaction, signal, zeroes, NULL, (size_t)(_NSIG / 8));
#else
    (void)signal;
#endif
}

static void empty_signal_mask(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * The command process.
 */

static void run_command(const launch_plan *plan) __attribute__((noreturn));
static void run_command(const launch_plan *plan) {
    if (setpgid(0, 0) != 0) {
        send_record(ERROR_FD, CSPAWN_STEP_PROCESS_GROUP, errno);
        _exit(127);
    }
    /* Handlers are reset by execve anyway, but ignored signals would be inherited: start from the
       dispositions cronlock itself was given, not from what cronlock or the guard changed. */
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        if (set_disposition(signal, cspawn_was_ignored(signal) ? SIG_IGN : SIG_DFL) != 0) {
            reset_reserved_signal(signal);
        }
    }
    empty_signal_mask();
    execve(plan->path, plan->argv, plan->envp);
    send_record(ERROR_FD, CSPAWN_STEP_EXEC, errno);
    _exit(127);
}

/* ---------------------------------------------------------------------------------------------
 * The guard process.
 */

static volatile pid_t guard_parent;
static volatile pid_t guarded_group;

/* The parent-death signal also arrives when only the forking thread exits (the guard is then
   re-parented to another thread of the same process): act only when the process is gone. The
   guard itself survives, to reap the killed group. */
static void guard_on_parent_death(int signal) {
    (void)signal;
    if (getppid() == guard_parent) return;
    if (guarded_group > 0) {
        kill(-guarded_group, SIGKILL);
    } else {
        _exit(127); /* the command was not started yet */
    }
}

static int is_fault_signal(int signal) {
    return signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE ||
           signal == SIGABRT || signal == SIGTRAP || signal == SIGSYS;
}

/* The guard shares cronlock's process group and cgroup, so signals meant for cronlock's group or
   for every process of a service (systemd's SIGTERM) may reach it: ignore all it can, so that it
   stays to reap the command's group. Keep SIGCHLD at its default (an ignored SIGCHLD would make
   the kernel reap children before waitpid sees them), faults at theirs, and the parent-death
   signal on its handler. */
static void guard_signals(void) {
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        if (signal == PARENT_DEATH_SIGNAL) {
            set_disposition(signal, guard_on_parent_death);
        } else if (signal == SIGCHLD || signal == SIGCONT || is_fault_signal(signal)) {
            set_disposition(signal, SIG_DFL);
        } else {
            set_disposition(signal, SIG_IGN);
        }
    }
    empty_signal_mask();
}

/* Reaps every child of the guard in the command's process group until there is none: the
   command's orphans are re-parented to the guard (a child subreaper), so no zombie of the group
   is left under a PID 1 that does not reap (cronlock itself as a container's PID 1), and the
   group is normally empty when the guard exits. */
static void reap_group(pid_t group) {
    for (;;) {
        pid_t reaped = waitpid(-group, NULL, 0);
        if (reaped > 0 || (reaped < 0 && errno == EINTR)) continue;
        return;
    }
}

/* Ends the guard the way the command ended, so that the guard's wait status is the command's. */
static void exit_like(int status) __attribute__((noreturn));
static void exit_like(int status) {
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int signal = WTERMSIG(status);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, 0);
#endif
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* the command already dumped its core, if any */
        set_disposition(signal, SIG_DFL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, signal);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        kill(getpid(), signal);
        _exit(128 + signal);
    }
    _exit(127);
}

static void run_guard(const launch_plan *plan) __attribute__((noreturn));
static void run_guard(const launch_plan *plan) {
    if (isolate_descriptors(plan) != 0) {
        send_record(plan->write_fd, CSPAWN_STEP_GUARD, errno);
        _exit(127);
    }
    guard_parent = plan->parent;
    guard_signals();
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL) != 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        send_record(ERROR_FD, CSPAWN_STEP_GUARD, errno);
        _exit(127);
    }
#endif
    if (getppid() != plan->parent) _exit(127); /* cronlock died before the signal was armed */

    /* Hold the parent-death signal until guarded_group is set: the handler must never see the
       command forked but not yet recorded (the command empties its mask before exec). */
    sigset_t parent_death;
    sigemptyset(&parent_death);
    sigaddset(&parent_death, PARENT_DEATH_SIGNAL);
    sigprocmask(SIG_BLOCK, &parent_death, NULL);
    pid_t command = fork_safely();
    if (command < 0) {
        send_record(ERROR_FD, CSPAWN_STEP_FORK_COMMAND, errno);
        _exit(127);
    }
    if (command == 0) run_command(plan);
    setpgid(command, command); /* as the command does itself: whichever runs first */
    guarded_group = command;
    sigprocmask(SIG_UNBLOCK, &parent_death, NULL);
    send_record(ERROR_FD, CSPAWN_STEP_STARTED, command);
    close(ERROR_FD);

    int status = 0;
    if (wait_for(command, &status) != 0) status = 127 << 8;
    reap_group(command);
    exit_like(status);
}

/* ---------------------------------------------------------------------------------------------
 * cronlock's side.
 */

static int classify_exec_error(int error) {
    switch (error) {
    case EACCES: case EPERM: case ENOEXEC: case EISDIR: case ETXTBSY: case ELIBBAD:
    case ENOENT: case ENOTDIR: /* the file was there: its #! interpreter is missing */
        return CSPAWN_NOT_EXECUTABLE;
    default:
        return CSPAWN_FAILED;
    }
}

/* A pipe whose both ends are close-on-exec: end of file tells that the command was exec'ed. */
static int open_error_pipe(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC); /* not atomic with other threads' forks; Linux is the target */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

static void fail(cspawn_result *result, int outcome, int step, int error) {
    result->outcome = outcome;
    result->step = step;
    result->error = error;
    result->group = 0;
    result->guard = 0;
}

/* Reads the records of the error pipe until end of file (both children closed it: the command
   was exec'ed, or something failed). The guard always sends the command's pid first, unless it
   failed before forking; a failure record, if any, wins. */
static void read_records(int fd, pid_t *command, pipe_record *failure) {
    pipe_record record;
    for (;;) {
        size_t got = 0;
        while (got < sizeof record) {
            ssize_t n = read(fd, (char *)&record + got, sizeof record - got);
            if (n > 0) {
                got += (size_t)n;
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
        if (got < sizeof record) {
            if (got > 0 && failure->step == 0) *failure = (pipe_record){CSPAWN_STEP_GUARD, EPIPE};
            return;
        }
        if (record.step == CSPAWN_STEP_STARTED) {
            *command = record.value;
        } else if (failure->step == 0) {
            *failure = record;
        }
    }
}

void cspawn_start(const char *name, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                  cspawn_result *result) {
    char path[PATH_MAX];
    int error = 0;
    int outcome = cspawn_resolve(name, envp, path, &error);
    if (outcome != CSPAWN_STARTED) {
        fail(result, outcome, CSPAWN_STEP_RESOLVE, error);
        return;
    }

    int pipe_fds[2];
    if (open_error_pipe(pipe_fds) != 0) {
        fail(result, CSPAWN_FAILED, CSPAWN_STEP_PREPARE, errno);
        return;
    }
    launch_plan plan = {path, argv, envp, pipe_fds[0], pipe_fds[1], getpid(), stdout_fd, stderr_fd};
    pid_t guard = fork_safely();
    if (guard < 0) {
        int fork_error = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        fail(result, CSPAWN_FAILED, CSPAWN_STEP_PREPARE, fork_error);
        return;
    }
    if (guard == 0) run_guard(&plan);

    close(pipe_fds[1]);
    pid_t command = 0;
    pipe_record failure = {0, 0};
    read_records(pipe_fds[0], &command, &failure);
    close(pipe_fds[0]);
    if (failure.step == 0 && command > 0) {
        result->outcome = CSPAWN_STARTED;
        result->step = 0;
        result->error = 0;
        result->group = command;
        result->guard = guard;
        return;
    }
    int status;
    wait_for(guard, &status); /* it exits once the command has: leave no zombie */
    if (failure.step == 0) {
        fail(result, CSPAWN_FAILED, CSPAWN_STEP_GUARD, EPIPE); /* the guard died silently */
    } else if (failure.step == CSPAWN_STEP_EXEC) {
        fail(result, classify_exec_error(failure.value), failure.step, failure.value);
    } else {
        fail(result, CSPAWN_FAILED, failure.step, failure.value);
    }
}
