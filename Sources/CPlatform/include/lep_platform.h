// Linux calls that Swift's Glibc module does not expose (they need _GNU_SOURCE).
#ifndef LEP_PLATFORM_H
#define LEP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// copy_file_range(2): copies `len` bytes from `fd_in` at *off_in to `fd_out` at its file offset.
/// Returns bytes copied, or -1 with errno set.
ssize_t lep_copy_file_range(int fd_in, int64_t *off_in, int fd_out, size_t len);

#endif
