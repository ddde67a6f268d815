/* platform.h - the library's only contact with the operating system's file
 * and memory API: read-only file mappings, small text files, paths and
 * directories, and advice on how host memory is paged.
 *
 * POSIX systems get mmap; elsewhere files are read into memory, which costs
 * RAM but keeps the rest of the library free of #ifdefs.
 *
 * Errors are returned as vitvk_status with a one-line message naming the
 * path written to err (may be NULL). */
#ifndef VITVK_PLATFORM_H
#define VITVK_PLATFORM_H
#include <stddef.h>
#include <stdint.h>
#include "vitvk.h"

typedef struct plat_map {
    const uint8_t *data; /* NULL when size is 0 */
    size_t size;
    void *impl_base;     /* what to release: mmap base or malloc block */
    size_t impl_len;
    int impl_mapped;     /* 1: munmap, 0: free */
} plat_map;

/* Maps a whole regular file read-only. On failure *out is zeroed. */
vitvk_status plat_map_file(const char *path, plat_map *out, char *err, size_t err_size);
void plat_unmap(plat_map *m); /* NULL-safe, leaves a zeroed struct */

/* Reads a file into a NUL-terminated malloc'ed buffer (free with free()).
 * Files over max_bytes are refused with VITVK_ERR_LIMIT before reading.
 * len (may be NULL) receives the byte count without the terminator. */
vitvk_status plat_read_text(const char *path, char **out, size_t *len, size_t max_bytes,
                            char *err, size_t err_size);

/* dir + separator + name into buf. Returns 1, or 0 when it does not fit
 * (buf then holds an empty string when bufsize > 0). */
int plat_path_join(const char *dir, const char *name, char *buf, size_t bufsize);

int plat_is_dir(const char *path);      /* 1 if path names a directory */
int plat_file_exists(const char *path); /* 1 if path exists and is not a directory */

/* Creates a directory and any missing parents ("mkdir -p"). An existing
 * directory is success; an existing non-directory is VITVK_ERR_IO. */
vitvk_status plat_make_dirs(const char *path, char *err, size_t err_size);

/* One directory entry. kind describes what the name leads to (the target
 * of a symbolic link; PLAT_ENTRY_OTHER for a dangling one). */
enum { PLAT_ENTRY_FILE = 0, PLAT_ENTRY_DIR = 1, PLAT_ENTRY_OTHER = 2 };
typedef struct plat_dir_entry {
    char *name;  /* the entry's name, without the directory */
    int kind;    /* PLAT_ENTRY_* */
    int is_link; /* the name is a symbolic link */
} plat_dir_entry;

/* Lists a directory without "." and "..", sorted by name (byte order, so
 * that every run sees the same order). Free with plat_free_dir_list. POSIX
 * (dirent.h); elsewhere VITVK_ERR_UNSUPPORTED until someone ports it. */
vitvk_status plat_list_dir(const char *path, plat_dir_entry **entries, size_t *count, char *err,
                           size_t err_size);
void plat_free_dir_list(plat_dir_entry *entries, size_t count); /* NULL-safe */

/* Asks the kernel to back the 2 MiB-aligned part of [p, p + size) with huge
 * pages once it is first touched (Linux: madvise(MADV_HUGEPAGE), honoured
 * where transparent huge pages are "madvise" or "always"); elsewhere, and
 * on any refusal, nothing happens. For host memory that a CPU device
 * streams through (lavapipe's device memory is such memory): one TLB entry
 * then covers 2 MiB of a weight matrix instead of 4 KiB. p may be NULL. */
void plat_prefer_huge_pages(void *p, size_t size);

#endif
