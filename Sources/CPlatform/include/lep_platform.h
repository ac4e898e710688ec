// Linux calls that Swift's Glibc module does not expose (they need _GNU_SOURCE).
#ifndef LEP_PLATFORM_H
#define LEP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// copy_file_range(2): copies `len` bytes from `fd_in` at *off_in to `fd_out` at its file offset.
/// Returns bytes copied, or -1 with errno set.
ssize_t lep_copy_file_range(int fd_in, int64_t *off_in, int fd_out, size_t len);

/// Turns O_DIRECT on or off for `fd` (fcntl F_SETFL); 0, or -1 with errno (EINVAL: the file system
/// does not support direct I/O).
int lep_set_direct(int fd, int on);

/// Starts asynchronous writeback of a file range (sync_file_range with SYNC_FILE_RANGE_WRITE), so a
/// later fsync has little left to do and writing overlaps with the disk. Returns 0 or -1 (errno set).
int lep_start_writeback(int fd, int64_t offset, int64_t length);

/// Cleanup of temporary output directories on SIGINT/SIGTERM/SIGHUP.
/// `lep_cleanup_install` installs the handlers once (idempotent); `lep_cleanup_register` adds a
/// directory (up to 32 at a time); `lep_cleanup_unregister` removes it. On a signal the handler removes
/// every registered directory with async-signal-safe system calls only (no fork, no allocation),
/// restores the default action and re-raises the signal.
void lep_cleanup_install(void);
int lep_cleanup_register(const char *path);
void lep_cleanup_unregister(const char *path);
/// The handler's removal of a directory tree, callable directly (for tests).
void lep_remove_tree(const char *path);
#endif
