#define _GNU_SOURCE
#include "CLinux.h"

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
