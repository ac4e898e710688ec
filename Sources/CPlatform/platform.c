#define _GNU_SOURCE
#include "lep_platform.h"

#include <fcntl.h>

#include <unistd.h>

int lep_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
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
#include <sys/wait.h>

#define LEP_MAX_CLEANUP 32
static char cleanup_paths[LEP_MAX_CLEANUP][PATH_MAX];
static volatile sig_atomic_t cleanup_used[LEP_MAX_CLEANUP];
static volatile sig_atomic_t cleanup_installed = 0;

static void cleanup_handler(int sig) {
    for (int i = 0; i < LEP_MAX_CLEANUP; i++) {
        if (!cleanup_used[i]) continue;
        pid_t pid = fork();
        if (pid == 0) {
            char *const argv[] = {"rm", "-rf", "--", cleanup_paths[i], NULL};
            char *const envp[] = {NULL};
            execve("/bin/rm", argv, envp);
            _exit(127);
        }
        if (pid > 0) {
            int status;
            while (waitpid(pid, &status, 0) < 0) {}
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

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
