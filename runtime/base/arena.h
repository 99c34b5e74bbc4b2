/* A bump allocator for memory with one lifetime: a loaded bot lives in one arena and is
 * freed in one call; a turn uses a scratch arena that is reset after the turn. */
#ifndef PL_ARENA_H
#define PL_ARENA_H

#include <stddef.h>

typedef struct pl_arena_chunk pl_arena_chunk_t;

typedef struct {
    pl_arena_chunk_t *head; /* newest chunk first */
    size_t chunk_size;
    size_t total; /* bytes handed out since the last reset */
} pl_arena_t;

/* Embeds an empty arena; chunk_size 0 picks a default. */
void pl_arena_init(pl_arena_t *a, size_t chunk_size);
/* Frees every chunk. */
void pl_arena_cleanup(pl_arena_t *a);
/* Forgets every allocation but keeps the first chunk for reuse. */
void pl_arena_reset(pl_arena_t *a);
/* Returns n bytes aligned for any type, owned by the arena, or NULL on allocation failure. */
void *pl_arena_alloc(pl_arena_t *a, size_t n);
/* Zeroed variant of pl_arena_alloc for count * size bytes (NULL on overflow or failure). */
void *pl_arena_calloc(pl_arena_t *a, size_t count, size_t size);
/* Copies n bytes of s plus a terminating NUL into the arena. */
char *pl_arena_strndup(pl_arena_t *a, const char *s, size_t n);
char *pl_arena_strdup(pl_arena_t *a, const char *s);
/* printf into the arena. */
char *pl_arena_printf(pl_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
