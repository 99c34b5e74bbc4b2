/* Small pieces shared by the loader's files (see loader_int.h): diagnostics at a node's
 * position, key and type checks with "did you mean", and allocation in the bot's arena. */
#include "base/error.h"
#include "base/mem.h"
#include "dialog/loader_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pl_pos_t pl__pos(const pl_ynode_t *n)
{
    pl_pos_t p = {0};
    if (n != NULL) {
        p.file = n->file;
        p.line = n->line;
        p.col = n->col;
        p.len = n->len;
    }
    return p;
}

static void vreport(pl__loader_t *L, pl_diag_level_t lvl, const pl_pos_t *p, const char *fmt,
                    va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    pl_diag(L->d, lvl, p->file, p->line, p->col, p->len, "%s", msg);
}

void pl__err(pl__loader_t *L, const pl_ynode_t *n, const char *fmt, ...)
{
    pl_pos_t p = pl__pos(n);
    va_list ap;
    va_start(ap, fmt);
    vreport(L, PL_DIAG_ERROR, &p, fmt, ap);
    va_end(ap);
}

void pl__warn(pl__loader_t *L, const pl_ynode_t *n, const char *fmt, ...)
{
    pl_pos_t p = pl__pos(n);
    va_list ap;
    va_start(ap, fmt);
    vreport(L, PL_DIAG_WARNING, &p, fmt, ap);
    va_end(ap);
}

void pl__err_at(pl__loader_t *L, const pl_pos_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(L, PL_DIAG_ERROR, p, fmt, ap);
    va_end(ap);
}

void pl__warn_at(pl__loader_t *L, const pl_pos_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(L, PL_DIAG_WARNING, p, fmt, ap);
    va_end(ap);
}

const char *pl__str(pl__loader_t *L, const char *s)
{
    const char *d = pl_arena_strdup(&L->bot->arena, s);
    if (d == NULL) {
        L->oom = 1;
        return "";
    }
    return d;
}

void *pl__alloc(pl__loader_t *L, size_t count, size_t size)
{
    void *p = pl_arena_calloc(&L->bot->arena, count ? count : 1, size);
    if (p == NULL)
        L->oom = 1;
    return p;
}

void pl__unknown(pl__loader_t *L, const pl_ynode_t *n, const char *kind, const char *name,
                 const char *const *ids, size_t nids)
{
    const char *guess = pl_did_you_mean(name, ids, nids);
    if (guess != NULL)
        pl__err(L, n, "unknown %s '%s' (did you mean '%s'?)", kind, name, guess);
    else if (nids == 0)
        pl__err(L, n, "unknown %s '%s'; the bot defines no %ss", kind, name, kind);
    else
        pl__err(L, n, "unknown %s '%s'", kind, name);
}

void pl__unknown_of(pl__loader_t *L, const pl_ynode_t *n, const char *kind, const char *name,
                    const void *array, size_t count, size_t stride)
{
    const char **ids = pl__alloc(L, count, sizeof(*ids));
    if (ids == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        ids[i] = *(const char *const *)((const char *)array + i * stride);
    pl__unknown(L, n, kind, name, ids, count);
}

void pl__check_keys(pl__loader_t *L, const pl_ynode_t *map, const char *const *allowed,
                    size_t nallowed, const char *what)
{
    if (map == NULL || map->kind != PL_Y_MAP)
        return;
    for (size_t i = 0; i < map->n; i++) {
        const pl_ynode_t *k = map->kids[2 * i];
        if (k->kind != PL_Y_SCALAR)
            continue;
        size_t j;
        for (j = 0; j < nallowed; j++)
            if (strcmp(k->str, allowed[j]) == 0)
                break;
        if (j < nallowed)
            continue;
        const char *guess = pl_did_you_mean(k->str, allowed, nallowed);
        if (guess != NULL) {
            pl__err(L, k, "unknown key '%s' in %s (did you mean '%s'?)", k->str, what, guess);
        } else {
            char list[512] = "";
            for (j = 0; j < nallowed; j++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof(list) - used, "%s'%s'", j ? ", " : "", allowed[j]);
            }
            pl__err(L, k, "unknown key '%s' in %s; expected one of %s", k->str, what, list);
        }
    }
}

static int want_kind(pl__loader_t *L, const pl_ynode_t *n, pl_ykind_t kind, const char *what,
                     const char *expected)
{
    if (n != NULL && n->kind == kind && !(kind == PL_Y_SCALAR && pl_ynode_is_null(n)))
        return 1;
    pl__err(L, n, "%s must be %s, not %s", what, expected,
            n && pl_ynode_is_null(n) ? "empty" : pl_ynode_kind_name(n));
    return 0;
}

int pl__want_map(pl__loader_t *L, const pl_ynode_t *n, const char *what)
{
    return want_kind(L, n, PL_Y_MAP, what, "a mapping (key: value lines)");
}

int pl__want_seq(pl__loader_t *L, const pl_ynode_t *n, const char *what)
{
    return want_kind(L, n, PL_Y_SEQ, what, "a list ('- ' items)");
}

int pl__want_text(pl__loader_t *L, const pl_ynode_t *n, const char *what)
{
    return want_kind(L, n, PL_Y_SCALAR, what, "a text");
}

int pl__want_id(pl__loader_t *L, const pl_ynode_t *n, const char *what)
{
    if (!pl__want_text(L, n, what))
        return 0;
    if (n->slen > 64) {
        pl__err(L, n, "%s '%.20s...' is longer than 64 characters", what, n->str);
        return 0;
    }
    for (const char *p = n->str; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            pl__err(L, n, "%s '%s' may only use letters, digits, '_', '-' and '.' (no spaces)",
                    what, n->str);
            return 0;
        }
    }
    return 1;
}

int pl__want_number(pl__loader_t *L, const pl_ynode_t *n, const char *what, double *out)
{
    if (!pl__want_text(L, n, what))
        return 0;
    char *end;
    double v = strtod(n->str, &end);
    if (end == n->str || *end != '\0' || !isfinite(v)) {
        pl__err(L, n, "%s must be a number, not '%s'", what, n->str);
        return 0;
    }
    *out = v;
    return 1;
}

int pl__want_int(pl__loader_t *L, const pl_ynode_t *n, const char *what, long min, long max,
                 long *out)
{
    if (!pl__want_text(L, n, what))
        return 0;
    char *end;
    long v = strtol(n->str, &end, 10);
    if (end == n->str || *end != '\0') {
        pl__err(L, n, "%s must be a whole number, not '%s'", what, n->str);
        return 0;
    }
    if (v < min || v > max) {
        pl__err(L, n, "%s must be between %ld and %ld, not %ld", what, min, max, v);
        return 0;
    }
    *out = v;
    return 1;
}
