/* A small, fast, well-spread hash for short strings (FNV-1a, 64 bit): for lookups of words,
 * never for anything an attacker could exploit by choosing collisions. */
#ifndef PL_HASH_H
#define PL_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t pl_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ? h : 1; /* 0 is free for "empty" */
}

#endif
