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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <time.h>
#endif


/* The children's copy of the error pipe's write end always ends up here. */
#define ERROR_FD 3
/* The guard's end of the control socket always ends up here. */
#define CONTROL_FD 4

/* A message on the control socket from cronlock to the guard (SOCK_SEQPACKET: one record each). */
typedef struct control_record {
    int kind;            /* CONTROL_LEASE or CONTROL_SIGNAL */
    int signal;          /* CONTROL_SIGNAL: the signal for the whole tree */
    long long deadline;  /* CONTROL_LEASE: the new deadline, CLOCK_BOOTTIME ns */
} control_record;

#define CONTROL_LEASE 1
#define CONTROL_SIGNAL 2

/* The guard's one message back: it killed the tree at the lease deadline. */
#define NOTICE_LEASE_EXPIRED 'L'

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
    int stdout_fd; /* becomes the command's stdout, or -1 to pass cronlock's through */
    int stderr_fd; /* likewise for stderr */
    int control_fd; /* the guard's end of the control socket */
    cspawn_lease lease;
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

/* Moves `fd` to `target`, close-on-exec, closing the original. */
static int move_descriptor(int fd, int target) {
    if (fd == target) return fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef __linux__
    if (dup3(fd, target, O_CLOEXEC) < 0) return -1;
#else
    if (dup2(fd, target) < 0 || fcntl(target, F_SETFD, FD_CLOEXEC) < 0) return -1;
#endif
    close(fd);
    return 0;
}

/* Leaves only 0, 1, 2, the error pipe's write end (ERROR_FD) and the control socket (CONTROL_FD)
   open, both close-on-exec, so no Redis socket or other descriptor of cronlock reaches the
   command. 1 and 2 become the plan's output descriptors when it has them (dup2 clears their
   close-on-exec flag). */
static int isolate_descriptors(const launch_plan *plan) {
    if (plan->stdout_fd >= 0 && dup2(plan->stdout_fd, STDOUT_FILENO) < 0) return -1;
    if (plan->stderr_fd >= 0 && dup2(plan->stderr_fd, STDERR_FILENO) < 0) return -1;
    /* Out of the way of the targets first: a low descriptor may sit on 3 or 4. */
    int write_fd = fcntl(plan->write_fd, F_DUPFD_CLOEXEC, CONTROL_FD + 1);
    int control_fd = fcntl(plan->control_fd, F_DUPFD_CLOEXEC, CONTROL_FD + 1);
    if (write_fd < 0 || control_fd < 0) return -1;
    if (move_descriptor(write_fd, ERROR_FD) != 0 || move_descriptor(control_fd, CONTROL_FD) != 0) return -1;
    close_from(CONTROL_FD + 1);
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
 * Clocks and the lease.
 */

long long cspawn_boottime_ns(void) {
    struct timespec now;
#ifdef CLOCK_BOOTTIME
    clock_gettime(CLOCK_BOOTTIME, &now);
#else
    clock_gettime(CLOCK_MONOTONIC, &now);
#endif
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* 1 when the plan has a lease and less than its margin is left of it now. */
static int lease_too_short(const cspawn_lease *lease) {
    return lease->deadline > 0 && cspawn_boottime_ns() + lease->margin >= lease->deadline;
}

/* ---------------------------------------------------------------------------------------------
 * The command process.
 */

static void run_command(const launch_plan *plan, pid_t guard) __attribute__((noreturn));
static void run_command(const launch_plan *plan, pid_t guard) {
    if (setpgid(0, 0) != 0) {
        send_record(ERROR_FD, CSPAWN_STEP_PROCESS_GROUP, errno);
        _exit(127);
    }
#ifdef __linux__
    /* Dies with the guard: if the guard is killed, nothing is left to enforce the lease. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != guard) {
        send_record(ERROR_FD, CSPAWN_STEP_GUARD, errno != 0 ? errno : ESRCH);
        _exit(127);
    }
#endif
    /* Handlers are reset by execve anyway, but ignored signals would be inherited: start from the
       dispositions cronlock itself was given, not from what cronlock or the guard changed. */
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        if (set_disposition(signal, cspawn_was_ignored(signal) ? SIG_IGN : SIG_DFL) != 0) {
            reset_reserved_signal(signal);
        }
    }
    empty_signal_mask();
    if (lease_too_short(&plan->lease)) {
        send_record(ERROR_FD, CSPAWN_STEP_LEASE, 0);
        _exit(127);
    }
    execve(plan->path, plan->argv, plan->envp);
    send_record(ERROR_FD, CSPAWN_STEP_EXEC, errno);
    _exit(127);
}

/* ---------------------------------------------------------------------------------------------
 * The guard process: finding and killing the command's tree (raw system calls only).
 */

/* Writes `value` in decimal at `out`; returns the end. */
static char *put_decimal(char *out, long value) {
    char digits[24];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    while (count > 0) *out++ = digits[--count];
    return out;
}

/* The parent pid and process group of `pid` from /proc/PID/stat ("pid (comm) state ppid pgrp ...";
   comm may hold spaces and parentheses, so parse after the last ')'). 0, or -1 when unreadable. */
static int parent_and_group(pid_t pid, pid_t *parent, pid_t *group) {
    char path[48] = "/proc/";
    char *end = put_decimal(path + 6, pid);
    memcpy(end, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char text[512];
    ssize_t length = read(fd, text, sizeof text - 1);
    close(fd);
    if (length <= 0) return -1;
    text[length] = '\0';
    char *close_paren = NULL;
    for (char *at = text; *at != '\0'; at++) {
        if (*at == ')') close_paren = at;
    }
    if (close_paren == NULL || close_paren[1] != ' ' || close_paren[2] == '\0' || close_paren[3] != ' ') return -1;
    long fields[2] = {0, 0};
    char *at = close_paren + 4;
    for (int field = 0; field < 2; field++) {
        for (; *at >= '0' && *at <= '9'; at++) fields[field] = fields[field] * 10 + (*at - '0');
        if (*at++ != ' ') return -1;
    }
    *parent = (pid_t)fields[0];
    *group = (pid_t)fields[1];
    return 0;
}

struct linux_dirent64_record {
    unsigned long long inode;
    long long offset;
    unsigned short length;
    unsigned char type;
    char name[];
};

/* Sends `signal` to every child of this process (the guard): the command and every orphan of its
   tree, which the kernel re-parents to the guard, a subreaper; but not to members of
   `signalled_group` (> 0), which were signalled through their group already (a second signal would
   run a trap twice). */
static void signal_children(int signal, pid_t signalled_group) {
#ifdef __linux__
    pid_t self = getpid();
    int directory = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) return;
    char buffer[8192];
    for (;;) {
        long length = syscall(SYS_getdents64, directory, buffer, sizeof buffer);
        if (length <= 0) break;
        for (long at = 0; at < length;) {
            struct linux_dirent64_record *entry = (struct linux_dirent64_record *)(buffer + at);
            at += entry->length;
            long pid = 0;
            const char *digit = entry->name;
            for (; *digit >= '0' && *digit <= '9'; digit++) pid = pid * 10 + (*digit - '0');
            if (*digit != '\0' || pid <= 0 || pid == self) continue;
            pid_t parent = 0, group = 0;
            if (parent_and_group((pid_t)pid, &parent, &group) != 0 || parent != self) continue;
            if (signalled_group <= 0 || group != signalled_group) kill((pid_t)pid, signal);
        }
    }
    close(directory);
#else
    (void)signal;
    (void)signalled_group;
#endif
}

/* What the guard knows of the command. */
typedef struct guarded_command {
    pid_t pid;    /* also its process group id */
    int reaped;   /* 1 once waited for: its pid, and so its group id, may then be reused */
    int status;   /* its wait status, once reaped */
} guarded_command;

static void note_reaped(guarded_command *command, pid_t pid, int status) {
    if (pid == command->pid) {
        command->reaped = 1;
        command->status = status;
    }
}

/* Sends `signal` to the command's group (while its id is still the command's) and to every other
   process of the tree. Descendants of a child that is alive are reached once it dies: callers
   that kill repeat this until no child is left. */
static void signal_tree(guarded_command *command, int signal) {
    pid_t group = 0;
    if (!command->reaped && kill(-command->pid, signal) == 0) group = command->pid;
    signal_children(signal, group);
}

/* Reaps every child that has ended; returns 1 when no child is left. */
static int reap_ended(guarded_command *command) {
    for (;;) {
        int status = 0;
        pid_t reaped = waitpid(-1, &status, WNOHANG);
        if (reaped > 0) {
            note_reaped(command, reaped, status);
        } else if (reaped == 0) {
            return 0;
        } else if (errno != EINTR) {
            return errno == ECHILD;
        }
    }
}

/* Kills the whole tree and reaps it: returns when the guard has no child left. Each round waits
   for one death, reaps every other, and signals again: the orphans of the dead are now children. */
static void kill_tree(guarded_command *command) {
    for (;;) {
        signal_tree(command, SIGKILL);
        int status = 0;
        pid_t reaped = waitpid(-1, &status, 0);
        if (reaped > 0) {
            note_reaped(command, reaped, status);
            if (reap_ended(command)) return;
        } else if (errno == ECHILD) {
            return;
        }
    }
}

/* Arms `timer` (CLOCK_BOOTTIME, absolute) for `deadline`; 0 disarms it. */
static void arm_timer(int timer, long long deadline) {
#ifdef __linux__
    struct itimerspec setting;
    memset(&setting, 0, sizeof setting);
    setting.it_value.tv_sec = (time_t)(deadline / 1000000000LL);
    setting.it_value.tv_nsec = (long)(deadline % 1000000000LL);
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &setting, NULL);
#else
    (void)timer;
    (void)deadline;
#endif
}

/* ---------------------------------------------------------------------------------------------
 * The guard process.
 */

static int is_fault_signal(int signal) {
    return signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE ||
           signal == SIGABRT || signal == SIGTRAP || signal == SIGSYS;
}

/* The guard shares cronlock's cgroup, so signals meant for every process of a service (systemd's
   SIGTERM) may reach it: ignore all it can, so that it stays to enforce the lease and reap the
   tree. SIGCHLD is blocked (read through a signalfd), faults stay at their default. */
static void guard_signals(void) {
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        if (signal == SIGCHLD || signal == SIGCONT || is_fault_signal(signal)) {
            set_disposition(signal, SIG_DFL);
        } else {
            set_disposition(signal, SIG_IGN);
        }
    }
    sigset_t only_child;
    sigemptyset(&only_child);
    sigaddset(&only_child, SIGCHLD);
    sigprocmask(SIG_SETMASK, &only_child, NULL);
}

/* Ends the guard the way the command ended, so that the guard's wait status is the command's. */
static void exit_like(const guarded_command *command) __attribute__((noreturn));
static void exit_like(const guarded_command *command) {
    int status = command->reaped ? command->status : 127 << 8;
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int signal = WTERMSIG(status);
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

/* Reads one control record: 1 with `record` filled, 0 when there is none now, -1 at end of file
   or on an error (cronlock is gone). */
static int read_control(control_record *record) {
    ssize_t length = recv(CONTROL_FD, record, sizeof *record, MSG_DONTWAIT);
    if (length == (ssize_t)sizeof *record) return 1;
    if (length < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    if (length > 0) return 0; /* a short record is not from cronlock's cspawn: ignore it */
    return -1;
}

/* The guard's life once the command runs: until no process of the tree is left, follow the
   lease and tree signals from cronlock; kill the tree at the deadline or when cronlock is gone. */
static void guard_command(guarded_command *command, long long deadline) __attribute__((noreturn));
static void guard_command(guarded_command *command, long long deadline) {
#ifdef __linux__
    sigset_t only_child;
    sigemptyset(&only_child);
    sigaddset(&only_child, SIGCHLD);
    int children = signalfd(-1, &only_child, SFD_CLOEXEC | SFD_NONBLOCK);
    int timer = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    if (children < 0 || timer < 0) {
        kill_tree(command); /* a guard that cannot watch must not leave the command unguarded */
        exit_like(command);
    }
    arm_timer(timer, deadline);
    for (;;) {
        if (reap_ended(command)) exit_like(command);
        struct pollfd watched[3] = {
            {CONTROL_FD, POLLIN, 0}, {children, POLLIN, 0}, {timer, POLLIN, 0},
        };
        if (poll(watched, 3, -1) < 0) continue;
        if (watched[1].revents) {
            struct signalfd_siginfo info;
            while (read(children, &info, sizeof info) > 0) {}
        }
        if (watched[2].revents) {
            unsigned long long expirations;
            while (read(timer, &expirations, sizeof expirations) > 0) {}
            if (deadline > 0 && cspawn_boottime_ns() >= deadline) {
                char notice = NOTICE_LEASE_EXPIRED;
                send(CONTROL_FD, &notice, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
                kill_tree(command);
                exit_like(command);
            }
        }
        if (watched[0].revents) {
            control_record record;
            int got;
            while ((got = read_control(&record)) == 1) {
                if (record.kind == CONTROL_LEASE) {
                    deadline = record.deadline;
                    arm_timer(timer, deadline);
                } else if (record.kind == CONTROL_SIGNAL) {
                    signal_tree(command, record.signal);
                }
            }
            if (got < 0) {
                kill_tree(command);
                exit_like(command);
            }
        }
    }
#else
    (void)deadline;
    int status = 0;
    while (waitpid(command->pid, &status, 0) < 0 && errno == EINTR) {}
    note_reaped(command, command->pid, status);
    exit_like(command);
#endif
}

static void run_guard(const launch_plan *plan) __attribute__((noreturn));
static void run_guard(const launch_plan *plan) {
    if (isolate_descriptors(plan) != 0) {
        send_record(plan->write_fd, CSPAWN_STEP_GUARD, errno);
        _exit(127);
    }
    guard_signals();
    /* Out of cronlock's session and process group: signals to them do not reach the guard. */
    if (setsid() < 0) {
        send_record(ERROR_FD, CSPAWN_STEP_GUARD, errno);
        _exit(127);
    }
#ifdef __linux__
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        send_record(ERROR_FD, CSPAWN_STEP_GUARD, errno);
        _exit(127);
    }
    prctl(PR_SET_NAME, "cronlock-guard");
#endif
    if (lease_too_short(&plan->lease)) { /* checked again just before execve */
        send_record(ERROR_FD, CSPAWN_STEP_LEASE, 0);
        _exit(127);
    }
    pid_t self = getpid();
    pid_t pid = fork_safely();
    if (pid < 0) {
        send_record(ERROR_FD, CSPAWN_STEP_FORK_COMMAND, errno);
        _exit(127);
    }
    if (pid == 0) run_command(plan, self);
    setpgid(pid, pid); /* as the command does itself: whichever runs first */
    send_record(ERROR_FD, CSPAWN_STEP_STARTED, pid);
    close(ERROR_FD);
    guarded_command command = {pid, 0, 0};
    guard_command(&command, plan->lease.deadline);
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
    result->control = -1;
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
                  cspawn_lease lease, cspawn_result *result) {
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
    int control_fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control_fds) != 0) {
        int socket_error = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        fail(result, CSPAWN_FAILED, CSPAWN_STEP_PREPARE, socket_error);
        return;
    }
    launch_plan plan = {path, argv, envp, pipe_fds[0], pipe_fds[1], stdout_fd, stderr_fd, control_fds[1], lease};
    pid_t guard = fork_safely();
    if (guard < 0) {
        int fork_error = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        close(control_fds[0]);
        close(control_fds[1]);
        fail(result, CSPAWN_FAILED, CSPAWN_STEP_PREPARE, fork_error);
        return;
    }
    if (guard == 0) run_guard(&plan);

    close(pipe_fds[1]);
    close(control_fds[1]);
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
        result->control = control_fds[0];
        return;
    }
    int status;
    wait_for(guard, &status); /* it exits once the command has: leave no zombie */
    close(control_fds[0]);
    if (failure.step == 0) {
        fail(result, CSPAWN_FAILED, CSPAWN_STEP_GUARD, EPIPE); /* the guard died silently */
    } else if (failure.step == CSPAWN_STEP_EXEC) {
        fail(result, classify_exec_error(failure.value), failure.step, failure.value);
    } else if (failure.step == CSPAWN_STEP_LEASE) {
        fail(result, CSPAWN_LEASE_TOO_SHORT, failure.step, 0);
    } else {
        fail(result, CSPAWN_FAILED, failure.step, failure.value);
    }
}

static int send_control(int control, const control_record *record) {
    ssize_t sent;
    do {
        sent = send(control, record, sizeof *record, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)sizeof *record ? 0 : -1;
}

int cspawn_extend_lease(int control, long long deadline) {
    control_record record = {CONTROL_LEASE, 0, deadline};
    return send_control(control, &record);
}

int cspawn_signal_tree(int control, int signal) {
    control_record record = {CONTROL_SIGNAL, signal, 0};
    return send_control(control, &record);
}

int cspawn_lease_expired(int control) {
    char notice = 0;
    ssize_t length = recv(control, &notice, 1, MSG_DONTWAIT);
    return length == 1 && notice == NOTICE_LEASE_EXPIRED;
}
