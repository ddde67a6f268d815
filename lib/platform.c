/* platform.c - see platform.h. Everything OS-specific in the library lives
 * here, so the rest is plain C11. Define PLAT_NO_MMAP to build (and test)
 * the portable stdio fallback on a POSIX system. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fstat, mmap, O_CLOEXEC under -std=c11 */
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* glibc: madvise and MADV_HUGEPAGE */
#endif
#include "errmsg.h"
#include "platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#if (defined(__unix__) || defined(__APPLE__)) && !defined(PLAT_NO_MMAP)
#define PLAT_POSIX 1
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#else
#define PLAT_POSIX 0
#endif

#if defined(_WIN32)
#include <direct.h>
#define PLAT_MKDIR(p) _mkdir(p)
#define PLAT_SEP_IS(c) ((c) == '/' || (c) == '\\')
#define PLAT_SEP '\\'
#else
#define PLAT_MKDIR(p) mkdir((p), 0777)
#define PLAT_SEP_IS(c) ((c) == '/')
#define PLAT_SEP '/'
#endif

#ifndef S_ISDIR
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#endif
#ifndef S_ISREG
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#endif

void plat_prefer_huge_pages(void *p, size_t size)
{
#if PLAT_POSIX && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + size) & ~(huge - 1);
    if (p && hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* advice: refusal changes nothing */
#else
    (void)p, (void)size;
#endif
}

static vitvk_status errno_status(int e)
{
    return e == ENOMEM ? VITVK_ERR_OUT_OF_HOST_MEMORY : VITVK_ERR_IO;
}

int plat_is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int plat_file_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

#if PLAT_POSIX

vitvk_status plat_map_file(const char *path, plat_map *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    int flags = O_RDONLY;
#ifdef O_CLOEXEC
    flags |= O_CLOEXEC; /* the host program may fork/exec while a model is open */
#endif
    int fd = open(path, flags);
    if (fd < 0) {
        int e = errno;
        vk_errorf(err, err_size, "%s: %s", path, strerror(e));
        return errno_status(e);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        vk_errorf(err, err_size, "%s: %s", path, strerror(e));
        return errno_status(e);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        vk_errorf(err, err_size, "%s: is a directory", path);
        return VITVK_ERR_IO;
    }
    /* a FIFO or device has no meaningful size and cannot be mapped */
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        vk_errorf(err, err_size, "%s: not a regular file", path);
        return VITVK_ERR_IO;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)SIZE_MAX) {
        close(fd);
        vk_errorf(err, err_size, "%s: file too large for this address space", path);
        return VITVK_ERR_LIMIT;
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) { /* mmap of length 0 is EINVAL */
        close(fd);
        return VITVK_OK;
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file referenced */
    if (p == MAP_FAILED) {
        vk_errorf(err, err_size, "%s: mmap: %s", path, strerror(e));
        return e == ENOMEM ? VITVK_ERR_OUT_OF_HOST_MEMORY : VITVK_ERR_IO;
    }
    out->data = p;
    out->size = size;
    out->impl_base = p;
    out->impl_len = size;
    out->impl_mapped = 1;
    return VITVK_OK;
}

void plat_unmap(plat_map *m)
{
    if (!m)
        return;
    if (m->impl_base) {
        if (m->impl_mapped)
            munmap(m->impl_base, m->impl_len);
        else
            free(m->impl_base);
    }
    memset(m, 0, sizeof *m);
}

#else /* stdio fallback */

vitvk_status plat_map_file(const char *path, plat_map *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (plat_is_dir(path)) {
        vk_errorf(err, err_size, "%s: is a directory", path);
        return VITVK_ERR_IO;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        vk_errorf(err, err_size, "%s: %s", path, strerror(e));
        return errno_status(e);
    }
    /* Read in growing chunks rather than trusting ftell, whose long is 32
     * bits on some systems. */
    size_t cap = 0, size = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (size == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 20;
            if (ncap < cap) {
                free(buf);
                fclose(f);
                vk_errorf(err, err_size, "%s: file too large for this address space", path);
                return VITVK_ERR_LIMIT;
            }
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                vk_errorf(err, err_size, "%s: out of memory reading the file", path);
                return VITVK_ERR_OUT_OF_HOST_MEMORY;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0 || size < cap) {
            if (ferror(f)) {
                free(buf);
                fclose(f);
                vk_errorf(err, err_size, "%s: read error", path);
                return VITVK_ERR_IO;
            }
            if (feof(f))
                break;
        }
    }
    fclose(f);
    if (size == 0) {
        free(buf);
        return VITVK_OK;
    }
    out->data = buf;
    out->size = size;
    out->impl_base = buf;
    out->impl_len = size;
    out->impl_mapped = 0;
    return VITVK_OK;
}

void plat_unmap(plat_map *m)
{
    if (!m)
        return;
    free(m->impl_base);
    memset(m, 0, sizeof *m);
}

#endif

vitvk_status plat_read_text(const char *path, char **out, size_t *len, size_t max_bytes,
                            char *err, size_t err_size)
{
    *out = NULL;
    if (len)
        *len = 0;
    plat_map m;
    vitvk_status s = plat_map_file(path, &m, err, err_size);
    if (s != VITVK_OK)
        return s;
    if (m.size > max_bytes) {
        vk_errorf(err, err_size, "%s: %zu bytes, more than the %zu allowed", path, m.size,
                max_bytes);
        plat_unmap(&m);
        return VITVK_ERR_LIMIT;
    }
    char *buf = malloc(m.size + 1);
    if (!buf) {
        vk_errorf(err, err_size, "%s: out of memory", path);
        plat_unmap(&m);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    if (m.size)
        memcpy(buf, m.data, m.size);
    buf[m.size] = '\0';
    if (len)
        *len = m.size;
    plat_unmap(&m);
    *out = buf;
    return VITVK_OK;
}

int plat_path_join(const char *dir, const char *name, char *buf, size_t bufsize)
{
    if (!buf || bufsize == 0)
        return 0;
    buf[0] = '\0';
    size_t dl = strlen(dir), nl = strlen(name);
    int need_sep = dl > 0 && !PLAT_SEP_IS(dir[dl - 1]);
    size_t total = dl + (size_t)need_sep + nl;
    if (total < dl || total >= bufsize)
        return 0;
    memcpy(buf, dir, dl);
    if (need_sep)
        buf[dl] = PLAT_SEP;
    memcpy(buf + dl + (size_t)need_sep, name, nl);
    buf[total] = '\0';
    return 1;
}

static vitvk_status make_one_dir(const char *path, char *err, size_t err_size)
{
    if (PLAT_MKDIR(path) == 0)
        return VITVK_OK;
    int e = errno;
    /* any failure on something that is already a directory is fine: mkdir
     * of an existing but unwritable parent may report EACCES, not EEXIST */
    if (plat_is_dir(path))
        return VITVK_OK;
    if (e == EEXIST) {
        vk_errorf(err, err_size, "%s: exists and is not a directory", path);
        return VITVK_ERR_IO;
    }
    vk_errorf(err, err_size, "%s: cannot create directory: %s", path, strerror(e));
    return VITVK_ERR_IO;
}

vitvk_status plat_make_dirs(const char *path, char *err, size_t err_size)
{
    size_t n = strlen(path);
    if (n == 0) {
        vk_errorf(err, err_size, "empty directory name");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    char *tmp = malloc(n + 1);
    if (!tmp) {
        vk_errorf(err, err_size, "%s: out of memory", path);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    memcpy(tmp, path, n + 1);
    /* Create each prefix that ends just before a separator; a leading
     * separator (absolute path) is skipped because "" is not a directory. */
    for (size_t i = 1; i < n; i++) {
        if (!PLAT_SEP_IS(tmp[i]) || PLAT_SEP_IS(tmp[i - 1]))
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        vitvk_status s = make_one_dir(tmp, err, err_size);
        tmp[i] = c;
        if (s != VITVK_OK) {
            free(tmp);
            return s;
        }
    }
    vitvk_status s = make_one_dir(tmp, err, err_size);
    free(tmp);
    return s;
}

/* ---- directory listing ---- */

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const plat_dir_entry *)a)->name, ((const plat_dir_entry *)b)->name);
}

void plat_free_dir_list(plat_dir_entry *entries, size_t count)
{
    for (size_t i = 0; entries && i < count; i++)
        free(entries[i].name);
    free(entries);
}

#if defined(__unix__) || defined(__APPLE__)
#include <dirent.h>

vitvk_status plat_list_dir(const char *path, plat_dir_entry **entries, size_t *count, char *err, size_t err_size)
{
    *entries = NULL;
    *count = 0;
    DIR *d = opendir(path);
    if (!d) {
        int e = errno;
        vk_errorf(err, err_size, "%s: %s", path, strerror(e));
        return errno_status(e);
    }
    plat_dir_entry *list = NULL;
    size_t n = 0, cap = 0;
    vitvk_status st = VITVK_OK;
    char *full = NULL;
    size_t full_cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                int e = errno;
                vk_errorf(err, err_size, "%s: %s", path, strerror(e));
                st = errno_status(e);
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t need = strlen(path) + strlen(de->d_name) + 2;
        if (need > full_cap) {
            char *nf = realloc(full, need);
            if (!nf) {
                st = VITVK_ERR_OUT_OF_HOST_MEMORY;
                vk_errorf(err, err_size, "%s: out of memory listing the directory", path);
                break;
            }
            full = nf;
            full_cap = need;
        }
        plat_path_join(path, de->d_name, full, full_cap);
        plat_dir_entry e = {0};
        struct stat sb;
        if (lstat(full, &sb) != 0) {
            sb.st_mode = 0; /* vanished since readdir */
        } else if (S_ISLNK(sb.st_mode)) {
            e.is_link = 1;
            if (stat(full, &sb) != 0) /* dangling link: listed, as "other" */
                sb.st_mode = 0;
        }
        e.kind = S_ISDIR(sb.st_mode) ? PLAT_ENTRY_DIR : S_ISREG(sb.st_mode) ? PLAT_ENTRY_FILE : PLAT_ENTRY_OTHER;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            plat_dir_entry *nl = realloc(list, ncap * sizeof *nl);
            if (!nl) {
                st = VITVK_ERR_OUT_OF_HOST_MEMORY;
                vk_errorf(err, err_size, "%s: out of memory listing the directory", path);
                break;
            }
            list = nl;
            cap = ncap;
        }
        e.name = malloc(strlen(de->d_name) + 1);
        if (!e.name) {
            st = VITVK_ERR_OUT_OF_HOST_MEMORY;
            vk_errorf(err, err_size, "%s: out of memory listing the directory", path);
            break;
        }
        strcpy(e.name, de->d_name);
        list[n++] = e;
    }
    closedir(d);
    free(full);
    if (st != VITVK_OK) {
        plat_free_dir_list(list, n);
        return st;
    }
    if (n > 1)
        qsort(list, n, sizeof *list, entry_cmp);
    *entries = list;
    *count = n;
    return VITVK_OK;
}

#else /* no dirent.h: a Windows port would list with FindFirstFileW/FindNextFileW here */

vitvk_status plat_list_dir(const char *path, plat_dir_entry **entries, size_t *count, char *err, size_t err_size)
{
    *entries = NULL;
    *count = 0;
    (void)entry_cmp;
    vk_errorf(err, err_size, "%s: listing directories is not implemented on this platform; name the files", path);
    return VITVK_ERR_UNSUPPORTED;
}

#endif
