#ifndef CTESTSPAWN_H
#define CTESTSPAWN_H

#include <spawn.h>

/*
 * The call the test harness needs to start children that inherit nothing they should not,
 * declared by glibc only under _GNU_SOURCE, which Swift's Glibc module does not define (the
 * close-on-exec pipe is CHiredis's `chiredis_pipe_cloexec`).
 */

/*
 * Adds "close every descriptor from `lowest` up" to `actions`, so that a child started with
 * posix_spawn keeps only what its earlier file actions set up (glibc 2.34 and later:
 * posix_spawn_file_actions_addclosefrom_np). Returns 0, or an errno value (ENOSYS without it).
 */
int ctestspawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest);


#endif
