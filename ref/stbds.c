/* stbds.c -- the single translation unit holding stb_ds's implementation. */
#define STB_DS_IMPLEMENTATION
#include "stbds.h"
