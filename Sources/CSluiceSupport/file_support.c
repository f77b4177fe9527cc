#define _GNU_SOURCE
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "CSluiceSupport.h"

int sluice_copy_fd(int in, int out) {
    if (ioctl(out, FICLONE, in) == 0) return 0;
    for (;;) {
        ssize_t copied = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (copied == 0) return 0;
        if (copied > 0) continue;
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return -1;
        break;
    }
    char buffer[1 << 16];
    for (;;) {
        ssize_t count = read(in, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) return (int)count;
        for (ssize_t done = 0; done < count;) {
            ssize_t written = write(out, buffer + done, (size_t)(count - done));
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) return -1;
            done += written;
        }
    }
}

int sluice_syncfs(int fd) { return syncfs(fd); }
