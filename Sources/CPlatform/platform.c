#define _GNU_SOURCE
#include "lep_platform.h"

#include <fcntl.h>

#include <unistd.h>

int lep_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int lep_set_direct(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT));
}

ssize_t lep_copy_file_range(int fd_in, int64_t *off_in, int fd_out, size_t len) {
    loff_t off = (loff_t)*off_in;
    ssize_t n = copy_file_range(fd_in, &off, fd_out, NULL, len, 0);
    *off_in = (int64_t)off;
    return n;
}

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <errno.h>
#include <sys/syscall.h>

#define LEP_MAX_CLEANUP 32
static char cleanup_paths[LEP_MAX_CLEANUP][PATH_MAX];
static volatile sig_atomic_t cleanup_used[LEP_MAX_CLEANUP];
static volatile sig_atomic_t cleanup_installed = 0;

/* Removes the directory tree at `path` using only async-signal-safe calls (open, getdents64 through
   syscall, unlinkat, close): no fork, no exec, no allocation, so it works in a signal handler whatever
   the interrupted thread was doing and whatever the inherited SIGCHLD disposition is. Entries are
   removed depth-first; nesting beyond LEP_REMOVE_DEPTH levels is left in place (lep's temporary
   directories are at most two levels deep). */
#define LEP_REMOVE_DEPTH 8
static int remove_tree_at(int parent, const char *name, int depth) {
    if (unlinkat(parent, name, 0) == 0) return 0;
    if (depth >= LEP_REMOVE_DEPTH) return -1;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[4096] __attribute__((aligned(8)));
    struct lep_dirent64 { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; };
    /* Passes over the directory until one removes nothing (entries removed while reading may shift). */
    for (int removed = 1; removed;) {
        removed = 0;
        lseek(fd, 0, SEEK_SET);
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct lep_dirent64 *d = (struct lep_dirent64 *)(buf + off);
                off += d->reclen;
                if (d->name[0] == '.' && (d->name[1] == 0 || (d->name[1] == '.' && d->name[2] == 0))) continue;
                if (remove_tree_at(fd, d->name, depth + 1) == 0) removed = 1;
            }
        }
    }
    close(fd);
    return unlinkat(parent, name, AT_REMOVEDIR);
}

static void cleanup_handler(int sig) {
    int saved = errno;
    for (int i = 0; i < LEP_MAX_CLEANUP; i++) {
        if (cleanup_used[i]) remove_tree_at(AT_FDCWD, cleanup_paths[i], 0);
    }
    errno = saved;
    signal(sig, SIG_DFL);
    raise(sig);
}

void lep_remove_tree(const char *path) { remove_tree_at(AT_FDCWD, path, 0); }

void lep_cleanup_install(void) {
    if (cleanup_installed) return;
    cleanup_installed = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cleanup_handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A parent may have spawned us with these signals blocked (the mask is inherited): unblock them,
       or an interrupt would never arrive and the output would be committed anyway. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int lep_cleanup_register(const char *path) {
    if (strlen(path) >= PATH_MAX) return -1;
    for (int i = 0; i < LEP_MAX_CLEANUP; i++) {
        if (!cleanup_used[i]) {
            strcpy(cleanup_paths[i], path);
            cleanup_used[i] = 1;
            return 0;
        }
    }
    return -1;
}

void lep_cleanup_unregister(const char *path) {
    for (int i = 0; i < LEP_MAX_CLEANUP; i++) {
        if (cleanup_used[i] && strcmp(cleanup_paths[i], path) == 0) cleanup_used[i] = 0;
    }
}
