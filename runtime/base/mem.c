/* Allocation wrappers with failure injection for tests (see mem.h). */
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0)
        return 1;
    fail_countdown--;
    return 0;
}

void *pl_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n ? n : 1);
}

void *pl_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *pl_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void pl_free(void *p)
{
    free(p);
}

char *pl_strndup(const char *s, size_t n)
{
    char *d = pl_malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pl_strdup(const char *s)
{
    return pl_strndup(s, strlen(s));
}

void pl_mem_fail_after(long n)
{
    fail_countdown = n;
}

void pl_mem_fail_reset(void)
{
    fail_countdown = -1;
}
