/*
 * stbds.h -- the one way tpe includes stb_ds (Debian package libstb-dev,
 * found by the Makefile through STB_INCLUDE; never copied into this repo).
 *
 * stb_ds's hash-map macros expand to `typeof`, a GNU keyword that gcc
 * rejects under -std=c99 -pedantic; `__typeof__` is the spelling both gcc
 * and clang accept in strict mode. The mapping must stay defined wherever
 * the macros are used, so it lives here.
 */
#ifndef TPE_STBDS_H
#define TPE_STBDS_H

#if !defined(typeof) && (defined(__GNUC__) || defined(__clang__))
#define typeof __typeof__
#endif

#include <stb_ds.h>

/* stb_ds's macros cast its array header through the element pointer and
 * strip const from string keys. clang reports both at every use site
 * (gcc only on strict-alignment targets). The header is aligned for any
 * type by construction, so these two warnings are silenced in the files
 * that use stb_ds, and only there. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wcast-align"
#pragma clang diagnostic ignored "-Wcast-qual"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wcast-qual"
#endif

#endif
