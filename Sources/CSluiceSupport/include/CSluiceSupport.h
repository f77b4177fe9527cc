#ifndef CSLUICESUPPORT_H
#define CSLUICESUPPORT_H
#include <malloc.h>
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

// SHA-256 of everything readable from `fd` (OpenSSL's libcrypto, which uses the CPU's SHA instructions).
// Returns 0 and fills `digest` (32 bytes), or -1 with errno set.
int sluice_sha256_fd(int fd, unsigned char digest[32]);

// SHA-256 of a buffer.
void sluice_sha256(const void *data, size_t length, unsigned char digest[32]);

// Copies everything from `in` to the empty file `out`: a reflink (FICLONE) where the file system shares blocks
// (Btrfs, XFS), else inside the kernel (copy_file_range), else read/write.
// Returns 0, or -1 with errno set.
int sluice_copy_fd(int in, int out);

// syncfs(2): flushes the file system holding `fd`. Returns 0, or -1 with errno set, also for a write-back error
// anywhere in that file system since `fd` was opened.
int sluice_syncfs(int fd);

#endif
