#ifndef CSLUICESUPPORT_H
#define CSLUICESUPPORT_H
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>

// glibc declares posix_spawn_file_actions_addchdir_np only under _GNU_SOURCE, which Swift's Glibc module lacks.
int sluice_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes every descriptor from `from` up.
int sluice_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

// pidfd_open(2): a descriptor that becomes readable when the process exits (no glibc wrapper before 2.36's header).
int sluice_pidfd_open(pid_t pid);

// pipe2(O_CLOEXEC) and epoll_create1(EPOLL_CLOEXEC), which Swift's Glibc module does not declare.
int sluice_pipe_cloexec(int fds[2]);
int sluice_epoll_create(void);

// epoll with a 64-bit token per descriptor; struct epoll_event is packed on x86_64 and does not import safely.
int sluice_epoll_add(int epoll, int fd, uint64_t token);
int sluice_epoll_remove(int epoll, int fd);
int sluice_epoll_wait(int epoll, uint64_t *tokens, int capacity, int timeout_ms);

#endif
