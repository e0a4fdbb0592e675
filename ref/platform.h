/*
 * platform.h -- the only place tpe touches the operating system beyond C99.
 *
 * Everything here has a portable fallback so that tpe builds on a C99
 * system without POSIX: mmap falls back to read(), the monotonic clock to
 * clock(), isatty to "not a terminal".
 */
#ifndef TPE_PLATFORM_H
#define TPE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Seconds from an arbitrary origin, monotonic, for timing and progress. */
double tpe_now(void);

/* 1 when stderr is a terminal (progress bars are drawn only then). */
int tpe_stderr_is_tty(void);

/* A whole file, read-only: memory-mapped where possible, else read in. */
typedef struct tpe_mapping {
    const unsigned char *data; /* size bytes (NULL when size is 0)   */
    size_t size;
    int mapped;                /* 1: mmap, 0: malloc'd copy          */
} tpe_mapping;

/* TPE_NO_MMAP=1 in the environment forces the read() fallback (tests use it). */
int tpe_map_file(const char *path, tpe_mapping *m);
void tpe_unmap_file(tpe_mapping *m);

/* File system. tpe_mkdir succeeds when the directory already exists. */
int tpe_mkdir(const char *path);
int tpe_mkdir_p(const char *path);
int tpe_is_dir(const char *path);
int tpe_is_file(const char *path);
/* Returns an id unique to this process (pid where available). */
long tpe_process_id(void);
/* Peak resident memory of this process in bytes, 0 if unknown. */
size_t tpe_peak_rss(void);
/* Names in a directory (not "." or ".."), sorted; free with tpe_free_names. */
int tpe_list_dir(const char *path, char ***names, size_t *count);
void tpe_free_names(char **names, size_t count);

#endif
