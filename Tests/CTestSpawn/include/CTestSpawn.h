#ifndef CTESTSPAWN_H
#define CTESTSPAWN_H

#include <spawn.h>

/*
 * The two calls the test harness needs to start children that inherit nothing they should not,
 * both declared by glibc only under _GNU_SOURCE, which Swift's Glibc module does not define.
 */

/*
 * Adds "close every descriptor from `lowest` up" to `actions`, so that a child started with
 * posix_spawn keeps only what its earlier file actions set up (glibc 2.34 and later:
 * posix_spawn_file_actions_addclosefrom_np). Returns 0, or an errno value (ENOSYS without it).
 */
int ctestspawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest);

/* A pipe whose two ends are close-on-exec from the start (pipe2 with O_CLOEXEC): no child started
 * meanwhile by another thread can inherit them. Returns 0, or -1 with errno. */
int ctestspawn_pipe(int ends[2]);

#endif
