#ifndef CLINUX_H
#define CLINUX_H

// Linux calls that Swift's Glibc module does not export (they need _GNU_SOURCE or headers it
// leaves out). Thin wrappers only; the logic lives in Swift.

#include <stddef.h>
#include <sys/types.h>

ssize_t lifeboat_copy_file_range(int source, int target, size_t length);
int lifeboat_fsetxattr(int descriptor, const char *name, const void *value, size_t size);
ssize_t lifeboat_getxattr(const char *path, const char *name, void *value, size_t size);
long lifeboat_utime_omit(void);

/// 1 when some process has the file open for writing, 0 when none has, -1 when it cannot be
/// told (not the owner and no CAP_LEASE, a file system without leases, an error).
int lifeboat_open_for_writing(const char *path);

/// Hands memory malloc has freed back to the kernel (glibc's malloc_trim); 1 when some was.
int lifeboat_release_free_memory(void);

/// Caps glibc's malloc arenas (mallopt M_ARENA_MAX) unless MALLOC_ARENA_MAX is set in the
/// environment, which then wins.
void lifeboat_limit_malloc_arenas(int arenas);

#endif
