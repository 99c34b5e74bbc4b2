/* Allocation wrappers: every heap allocation of parley goes through these, so tests can
 * make the n-th allocation fail and check that the caller returns PL_ENOMEM without leaking. */
#ifndef PL_MEM_H
#define PL_MEM_H

#include <stddef.h>

void *pl_malloc(size_t n);
void *pl_calloc(size_t count, size_t size);
void *pl_realloc(void *p, size_t n);
void pl_free(void *p);
/* Returns a heap copy of s (pl_free it), or NULL on allocation failure. */
char *pl_strdup(const char *s);
char *pl_strndup(const char *s, size_t n);

/* Test hook: after `n` more successful allocations, every further one fails until
 * pl_mem_fail_reset(). n < 0 disables failure injection. */
void pl_mem_fail_after(long n);
void pl_mem_fail_reset(void);

#endif
