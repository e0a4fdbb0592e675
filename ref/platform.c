/*
 * platform.c -- POSIX calls behind portable fallbacks. This is the only file
 * compiled with a POSIX feature macro.
 */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
/* 64-bit off_t and ino_t on 32-bit hosts: otherwise stat() fails with
 * EOVERFLOW on large inode numbers and files over 2 GB cannot be mapped */
#define _FILE_OFFSET_BITS 64
#define TPE_POSIX 1
#else
#define TPE_POSIX 0
#endif

#include "platform.h"
#include "tpe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if TPE_POSIX
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

double tpe_now(void)
{
#if TPE_POSIX
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
    return (double)clock() / (double)CLOCKS_PER_SEC;
}

int tpe_stderr_is_tty(void)
{
#if TPE_POSIX
    return isatty(2);
#else
    return 0;
#endif
}

static int read_whole(const char *path, tpe_mapping *m)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    if (!f) return tpe_error(TPE_EIO, "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb;
            if (ncap < cap) { free(buf); fclose(f); return tpe_error(TPE_ENOMEM, "%s: file too large", path); }
            nb = realloc(buf, ncap);
            if (!nb) { free(buf); fclose(f); return tpe_error(TPE_ENOMEM, "%s: out of memory reading the file", path); }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) { free(buf); fclose(f); return tpe_error(TPE_EIO, "%s: read error", path); }
    fclose(f);
    m->data = buf;
    m->size = len;
    m->mapped = 0;
    return TPE_OK;
}

int tpe_map_file(const char *path, tpe_mapping *m)
{
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
#if TPE_POSIX
    {
        const char *nomap = getenv("TPE_NO_MMAP");
        int fd;
        struct stat st;
        void *p;
        if (nomap && nomap[0] == '1') return read_whole(path, m);
        fd = open(path, O_RDONLY);
        if (fd < 0) return tpe_error(TPE_EIO, "%s: cannot open: %s", path, strerror(errno));
        if (fstat(fd, &st) != 0) { close(fd); return tpe_error(TPE_EIO, "%s: cannot stat: %s", path, strerror(errno)); }
        if (S_ISDIR(st.st_mode)) { close(fd); return tpe_error(TPE_EIO, "%s: is a directory, expected a file", path); }
        if (!S_ISREG(st.st_mode) || st.st_size == 0) { close(fd); return read_whole(path, m); }
        if ((uintmax_t)st.st_size > (uintmax_t)SIZE_MAX) { close(fd); return tpe_error(TPE_ENOMEM, "%s: file larger than the address space", path); }
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED) return read_whole(path, m);
        m->data = p;
        m->size = (size_t)st.st_size;
        m->mapped = 1;
        return TPE_OK;
    }
#else
    return read_whole(path, m);
#endif
}

void tpe_unmap_file(tpe_mapping *m)
{
#if TPE_POSIX
    if (m->mapped && m->data) munmap((void *)(uintptr_t)m->data, m->size);
    else
#endif
        free((void *)(uintptr_t)m->data);
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
}

int tpe_is_dir(const char *path)
{
#if TPE_POSIX
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
#else
    (void)path;
    return 0;
#endif
}

int tpe_is_file(const char *path)
{
#if TPE_POSIX
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
#else
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
#endif
}

int tpe_mkdir(const char *path)
{
#if TPE_POSIX
    if (mkdir(path, 0777) == 0) return TPE_OK;
    if (errno == EEXIST && tpe_is_dir(path)) return TPE_OK;
    return tpe_error(TPE_EIO, "%s: cannot create directory: %s", path, strerror(errno));
#else
    if (tpe_is_dir(path)) return TPE_OK;
    return tpe_error(TPE_EUNSUPPORTED, "%s: cannot create directories on this platform", path);
#endif
}

int tpe_mkdir_p(const char *path)
{
    char *p = tpe_strdup(path);
    size_t i, n;
    int rc = TPE_OK;
    if (!p) return TPE_ENOMEM;
    n = strlen(p);
    for (i = 1; i <= n && rc == TPE_OK; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (!tpe_is_dir(p)) rc = tpe_mkdir(p);
            p[i] = c;
        }
    }
    free(p);
    return rc;
}

long tpe_process_id(void)
{
#if TPE_POSIX
    return (long)getpid();
#else
    return (long)time(NULL);
#endif
}

size_t tpe_peak_rss(void)
{
#if TPE_POSIX
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
#if defined(__APPLE__)
        return (size_t)ru.ru_maxrss;
#else
        return (size_t)ru.ru_maxrss * 1024u;
#endif
    }
#endif
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x, *y);
}

int tpe_list_dir(const char *path, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
#if TPE_POSIX
    {
        DIR *d = opendir(path);
        struct dirent *e;
        char **v = NULL;
        size_t n = 0, cap = 0;
        if (!d) return tpe_error(TPE_EIO, "%s: cannot open directory: %s", path, strerror(errno));
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                char **nv = realloc(v, nc * sizeof *nv);
                if (!nv) { closedir(d); tpe_free_names(v, n); return tpe_error(TPE_ENOMEM, "%s: out of memory listing", path); }
                v = nv;
                cap = nc;
            }
            v[n] = tpe_strdup(e->d_name);
            if (!v[n]) { closedir(d); tpe_free_names(v, n); return TPE_ENOMEM; }
            n++;
        }
        closedir(d);
        if (n) qsort(v, n, sizeof *v, cmp_names);
        *names = v;
        *count = n;
        return TPE_OK;
    }
#else
    return tpe_error(TPE_EUNSUPPORTED, "%s: listing directories is not supported on this platform", path);
#endif
}

void tpe_free_names(char **names, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) free(names[i]);
    free(names);
}
