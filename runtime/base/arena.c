/* Bump allocator in chunks (see arena.h). */
#include "base/arena.h"
#include "base/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct pl_arena_chunk {
    pl_arena_chunk_t *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

#define ALIGN (_Alignof(max_align_t))

void pl_arena_init(pl_arena_t *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 16 * 1024;
    a->total = 0;
}

void pl_arena_cleanup(pl_arena_t *a)
{
    pl_arena_chunk_t *c = a->head;
    while (c != NULL) {
        pl_arena_chunk_t *next = c->next;
        pl_free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void pl_arena_reset(pl_arena_t *a)
{
    if (a->head == NULL)
        return;
    /* keep the oldest chunk: it is the one sized by chunk_size */
    pl_arena_chunk_t *c = a->head, *keep = NULL;
    while (c != NULL) {
        pl_arena_chunk_t *next = c->next;
        if (next == NULL)
            keep = c;
        else
            pl_free(c);
        c = next;
    }
    keep->used = 0;
    a->head = keep;
    a->total = 0;
}

void *pl_arena_alloc(pl_arena_t *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (need < n)
        return NULL;
    pl_arena_chunk_t *c = a->head;
    if (c == NULL || c->size - c->used < need) {
        size_t size = need > a->chunk_size ? need : a->chunk_size;
        c = pl_malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        if (a->head != NULL && need > a->chunk_size) {
            /* a big one-off: put it behind the current chunk so its free space stays usable */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = (char *)c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

void *pl_arena_calloc(pl_arena_t *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = pl_arena_alloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *pl_arena_strndup(pl_arena_t *a, const char *s, size_t n)
{
    char *d = pl_arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pl_arena_strdup(pl_arena_t *a, const char *s)
{
    return pl_arena_strndup(a, s, strlen(s));
}

char *pl_arena_printf(pl_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = pl_arena_alloc(a, (size_t)n + 1);
    if (d == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}
