#define _GNU_SOURCE
#include "lep_platform.h"

#include <unistd.h>

ssize_t lep_copy_file_range(int fd_in, int64_t *off_in, int fd_out, size_t len) {
    loff_t off = (loff_t)*off_in;
    ssize_t n = copy_file_range(fd_in, &off, fd_out, NULL, len, 0);
    *off_in = (int64_t)off;
    return n;
}
