#ifndef CSLUICESUPPORT_H
#define CSLUICESUPPORT_H
// glibc declares posix_spawn_file_actions_addchdir_np only under _GNU_SOURCE, which Swift's Glibc module lacks.
#include <spawn.h>

int sluice_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
