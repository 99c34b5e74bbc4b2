/* Collection, ordering and compiler-style printing of author diagnostics (see diag.h). */
#include "base/diag.h"
#include "base/mem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct pl_diag_source {
    char *path;
    char *text;
    size_t len;
    size_t order;
    pl_diag_source_t *next;
};

void pl_diags_init(pl_diags_t *d)
{
    memset(d, 0, sizeof(*d));
}

void pl_diags_cleanup(pl_diags_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        pl_free(d->items[i].file);
        pl_free(d->items[i].msg);
    }
    pl_free(d->items);
    pl_diag_source_t *s = d->sources;
    while (s != NULL) {
        pl_diag_source_t *next = s->next;
        pl_free(s->path);
        pl_free(s->text);
        pl_free(s);
        s = next;
    }
    memset(d, 0, sizeof(*d));
}

static const pl_diag_source_t *find_source(const pl_diags_t *d, const char *path)
{
    for (const pl_diag_source_t *s = d->sources; s != NULL; s = s->next)
        if (path != NULL && strcmp(s->path, path) == 0)
            return s;
    return NULL;
}

void pl_diags_add_source(pl_diags_t *d, const char *path, const char *text, size_t len)
{
    if (find_source(d, path) != NULL)
        return;
    pl_diag_source_t *s = pl_calloc(1, sizeof(*s));
    if (s == NULL) {
        d->oom = 1;
        return;
    }
    s->path = pl_strdup(path);
    s->text = pl_strndup(text, len);
    if (s->path == NULL || s->text == NULL) {
        pl_free(s->path);
        pl_free(s->text);
        pl_free(s);
        d->oom = 1;
        return;
    }
    s->len = len;
    s->order = d->nsources++;
    s->next = d->sources;
    d->sources = s;
}

void pl_diag(pl_diags_t *d, pl_diag_level_t level, const char *file, int line, int col, int len,
             const char *fmt, ...)
{
    if (level == PL_DIAG_ERROR)
        d->errors++;
    else if (level == PL_DIAG_WARNING)
        d->warnings++;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        pl_diag_t *items = pl_realloc(d->items, cap * sizeof(*items));
        if (items == NULL) {
            d->oom = 1;
            return;
        }
        d->items = items;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = n >= 0 ? pl_malloc((size_t)n + 1) : NULL;
    char *f = file ? pl_strdup(file) : NULL;
    if (msg == NULL || (file != NULL && f == NULL)) {
        pl_free(msg);
        pl_free(f);
        d->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pl_diag_t *it = &d->items[d->n];
    it->file = f;
    it->line = line;
    it->col = col > 0 ? col : 1;
    it->len = len > 0 ? len : 1;
    it->level = level;
    it->msg = msg;
    it->seq = d->n++;
}

static const pl_diags_t *sort_ctx;

static size_t file_order(const pl_diags_t *d, const char *file)
{
    const pl_diag_source_t *s = find_source(d, file);
    return s ? s->order : (size_t)-1;
}

static int cmp_diag(const void *pa, const void *pb)
{
    const pl_diag_t *a = pa, *b = pb;
    size_t fa = file_order(sort_ctx, a->file), fb = file_order(sort_ctx, b->file);
    if (fa != fb)
        return fa < fb ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void pl_diags_sort(pl_diags_t *d)
{
    sort_ctx = d;
    if (d->n > 1)
        qsort(d->items, d->n, sizeof(*d->items), cmp_diag);
    sort_ctx = NULL;
}

/* Finds line `line` (1-based) in text; returns 0 when it does not exist. */
static int get_line(const pl_diag_source_t *s, int line, const char **start, size_t *len)
{
    const char *p = s->text, *end = s->text + s->len;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return 0;
        p = nl + 1;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *start = p;
    *len = n;
    return 1;
}

/* A line is quoted only if it is clean UTF-8 without control characters, so the caret
 * lines up and the terminal shows what the author wrote. */
static int printable_line(const char *p, size_t n)
{
    utf8proc_ssize_t off = 0;
    while ((size_t)off < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)p + off, (utf8proc_ssize_t)n - off, &cp);
        if (k <= 0 || (cp < 0x20 && cp != '\t') || cp == 0x7f)
            return 0;
        off += k;
    }
    return 1;
}

static void print_snippet(const pl_diags_t *d, const pl_diag_t *it, FILE *out)
{
    const pl_diag_source_t *s = find_source(d, it->file);
    const char *p;
    size_t n;
    if (s == NULL || it->line <= 0 || !get_line(s, it->line, &p, &n) || !printable_line(p, n))
        return;
    /* the margin grows with the line number so the caret stays under its character */
    int width = it->line >= 100000 ? snprintf(NULL, 0, "%d", it->line) : 5;
    fprintf(out, "%*d | ", width, it->line);
    for (size_t i = 0; i < n; i++)
        fputc(p[i] == '\t' ? ' ' : p[i], out);
    fprintf(out, "\n%*s| ", width + 1, "");
    for (int i = 1; i < it->col; i++)
        fputc(' ', out);
    fputc('^', out);
    for (int i = 1; i < it->len; i++)
        fputc('~', out);
    fputc('\n', out);
}

void pl_diags_print(const pl_diags_t *d, FILE *out)
{
    static const char *names[] = {"error", "warning", "note"};
    for (size_t i = 0; i < d->n; i++) {
        const pl_diag_t *it = &d->items[i];
        if (it->file != NULL && it->line > 0)
            fprintf(out, "%s:%d:%d: ", it->file, it->line, it->col);
        else if (it->file != NULL)
            fprintf(out, "%s: ", it->file);
        fprintf(out, "%s: %s\n", names[it->level], it->msg);
        print_snippet(d, it, out);
    }
    if (d->oom)
        fprintf(out, "error: out of memory while collecting diagnostics; some are missing\n");
}

int pl_edit_distance(const char *a, const char *b, int max)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    /* optimal string alignment: insertions, deletions, substitutions, and swapping two
     * neighbours ("vidoes", "recieve") as one edit, the commonest typo */
    int rows[3][65], *prev2 = rows[0], *prev = rows[1], *row = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int best = row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            row[j] = v;
            if (v < best)
                best = v;
        }
        if (best > max)
            return max + 1;
        int *t = prev2;
        prev2 = prev;
        prev = row;
        row = t;
    }
    return prev[lb];
}

const char *pl_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
    int len = (int)strlen(word);
    int max = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    const char *best = NULL;
    int best_d = max + 1;
    for (size_t i = 0; i < n; i++) {
        if (candidates[i] == NULL)
            continue;
        int dist = pl_edit_distance(word, candidates[i], max);
        if (dist < best_d) {
            best_d = dist;
            best = candidates[i];
        }
    }
    return best;
}
