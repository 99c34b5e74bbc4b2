/* A growable string with a hard maximum size: every buffer filled from outside has a cap. */
#ifndef PL_STRBUF_H
#define PL_STRBUF_H

#include <stddef.h>

typedef struct {
    char *data; /* always NUL-terminated once anything was appended; NULL before */
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass this fail with PL_ELIMIT */
} pl_strbuf_t;

/* Embeds an empty buffer that may grow to max bytes (0: 64 MiB). */
void pl_strbuf_init(pl_strbuf_t *b, size_t max);
void pl_strbuf_cleanup(pl_strbuf_t *b);
/* Empties the buffer, keeping its memory. */
void pl_strbuf_clear(pl_strbuf_t *b);
/* Each returns 0, PL_ENOMEM or PL_ELIMIT; on failure the buffer is unchanged. */
int pl_strbuf_append(pl_strbuf_t *b, const char *s, size_t n);
int pl_strbuf_puts(pl_strbuf_t *b, const char *s);
int pl_strbuf_putc(pl_strbuf_t *b, char c);
int pl_strbuf_printf(pl_strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far; "" for an empty buffer. Borrowed: valid until the next change. */
const char *pl_strbuf_str(const pl_strbuf_t *b);

#endif
