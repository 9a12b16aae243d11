#define _GNU_SOURCE
#include "CLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

ssize_t lifeboat_copy_file_range(int source, int target, size_t length) {
    return copy_file_range(source, NULL, target, NULL, length, 0);
}

int lifeboat_fsetxattr(int descriptor, const char *name, const void *value, size_t size) {
    return fsetxattr(descriptor, name, value, size, 0);
}

ssize_t lifeboat_getxattr(const char *path, const char *name, void *value, size_t size) {
    return getxattr(path, name, value, size);
}

long lifeboat_utime_omit(void) {
    return UTIME_OMIT;
}

static pthread_once_t lease_signal_once = PTHREAD_ONCE_INIT;

static void ignore_lease_break_signal(void) {
    // A writer opening the file while we hold the read lease for a few microseconds makes the
    // kernel send us SIGIO, whose default action would end the process.
    signal(SIGIO, SIG_IGN);
}

int lifeboat_open_for_writing(const char *path) {
    pthread_once(&lease_signal_once, ignore_lease_break_signal);
    int descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (descriptor < 0) return -1;
    int result;
    // A read lease is granted only while no process has the file open for writing.
    if (fcntl(descriptor, F_SETLEASE, F_RDLCK) == 0) {
        fcntl(descriptor, F_SETLEASE, F_UNLCK);
        result = 0;
    } else {
        result = errno == EAGAIN ? 1 : -1;
    }
    close(descriptor);
    return result;
}

int lifeboat_release_free_memory(void) {
    return malloc_trim(0);
}

void lifeboat_limit_malloc_arenas(int arenas) {
    if (getenv("MALLOC_ARENA_MAX") == NULL) {
        mallopt(M_ARENA_MAX, arenas);
    }
}
