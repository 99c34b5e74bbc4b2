/* Growable, capped string buffer (see strbuf.h). */
#include "base/strbuf.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pl_strbuf_init(pl_strbuf_t *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : (size_t)64 * 1024 * 1024;
}

void pl_strbuf_cleanup(pl_strbuf_t *b)
{
    pl_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void pl_strbuf_clear(pl_strbuf_t *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static int reserve(pl_strbuf_t *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return PL_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *d = pl_realloc(b->data, cap);
    if (d == NULL)
        return PL_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int pl_strbuf_append(pl_strbuf_t *b, const char *s, size_t n)
{
    int rc = reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int pl_strbuf_puts(pl_strbuf_t *b, const char *s)
{
    return pl_strbuf_append(b, s, strlen(s));
}

int pl_strbuf_putc(pl_strbuf_t *b, char c)
{
    return pl_strbuf_append(b, &c, 1);
}

int pl_strbuf_printf(pl_strbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return PL_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *pl_strbuf_str(const pl_strbuf_t *b)
{
    return b->data ? b->data : "";
}
