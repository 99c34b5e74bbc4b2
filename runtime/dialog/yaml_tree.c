/* libyaml events → pl_ynode tree with positions, under hard limits (see yaml_tree.h). */
#include "dialog/yaml_tree.h"
#include "base/error.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>
#include <yaml.h>

typedef struct {
    pl_ynode_t *node;
    pl_ynode_t **kids; /* heap, grown while the collection is open */
    size_t n, cap;
} frame_t;

typedef struct {
    pl_ydoc_t *doc;
    pl_diags_t *d;
    frame_t stack[PL_YAML_MAX_DEPTH + 1];
    int depth;
    size_t nodes;
    int failed;
} builder_t;

static void fail(builder_t *b, int line, int col, int len, const char *msg)
{
    pl_diag(b->d, PL_DIAG_ERROR, b->doc->file, line, col, len, "%s", msg);
    b->failed = 1;
}

/* Characters between two marks on one line, for underlining; 1 otherwise. */
static int mark_len(const yaml_mark_t *s, const yaml_mark_t *e)
{
    if (s->line == e->line && e->column > s->column)
        return (int)(e->column - s->column);
    return 1;
}

static pl_ynode_t *new_node(builder_t *b, pl_ykind_t kind, const yaml_event_t *ev)
{
    if (++b->nodes > PL_YAML_MAX_NODES) {
        pl_diag(b->d, PL_DIAG_ERROR, b->doc->file, (int)ev->start_mark.line + 1,
                (int)ev->start_mark.column + 1, 1,
                "more than %d YAML nodes in one file; split the bot over several files "
                "with 'include'",
                PL_YAML_MAX_NODES);
        b->failed = 1;
        return NULL;
    }
    pl_ynode_t *n = pl_arena_calloc(&b->doc->arena, 1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->file = b->doc->file;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    n->len = mark_len(&ev->start_mark, &ev->end_mark);
    return n;
}

static int add_kid(builder_t *b, pl_ynode_t *kid)
{
    if (b->depth == 0) {
        b->doc->root = kid;
        return 0;
    }
    frame_t *f = &b->stack[b->depth - 1];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        pl_ynode_t **k = pl_realloc(f->kids, cap * sizeof(*k));
        if (k == NULL)
            return PL_ENOMEM;
        f->kids = k;
        f->cap = cap;
    }
    f->kids[f->n++] = kid;
    return 0;
}

typedef struct {
    const pl_ynode_t *key;
    size_t idx;
} keyref_t;

static int cmp_keyref(const void *pa, const void *pb)
{
    const keyref_t *a = pa, *b = pb;
    int c = strcmp(a->key->str, b->key->str);
    if (c != 0)
        return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Reports every repeated key of a mapping at the later occurrence. */
static int check_duplicate_keys(builder_t *b, const pl_ynode_t *map)
{
    size_t n = map->n, k = 0;
    if (n < 2)
        return 0;
    keyref_t *refs = pl_malloc(n * sizeof(*refs));
    if (refs == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (map->kids[2 * i]->kind == PL_Y_SCALAR)
            refs[k++] = (keyref_t){map->kids[2 * i], i};
    qsort(refs, k, sizeof(*refs), cmp_keyref);
    for (size_t i = 1; i < k; i++) {
        size_t first = i - 1;
        while (i < k && strcmp(refs[i].key->str, refs[first].key->str) == 0) {
            const pl_ynode_t *key = refs[i].key;
            pl_diag(b->d, PL_DIAG_ERROR, b->doc->file, key->line, key->col, key->len,
                    "duplicate key '%s' (first defined at line %d); remove one of them", key->str,
                    refs[first].key->line);
            b->failed = 1;
            i++;
        }
    }
    pl_free(refs);
    return 0;
}

static int open_collection(builder_t *b, pl_ykind_t kind, const yaml_event_t *ev)
{
    if (b->depth >= PL_YAML_MAX_DEPTH) {
        char msg[128];
        snprintf(msg, sizeof(msg), "nesting deeper than %d levels; flatten this part of the bot",
                 PL_YAML_MAX_DEPTH);
        fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, 1, msg);
        return 0;
    }
    pl_ynode_t *n = new_node(b, kind, ev);
    if (n == NULL)
        return b->failed ? 0 : PL_ENOMEM;
    int rc = add_kid(b, n);
    if (rc != 0)
        return rc;
    b->stack[b->depth++] = (frame_t){n, NULL, 0, 0};
    return 0;
}

static int close_collection(builder_t *b)
{
    frame_t *f = &b->stack[--b->depth];
    pl_ynode_t *n = f->node;
    int rc = 0;
    if (f->n > 0) {
        n->kids = pl_arena_alloc(&b->doc->arena, f->n * sizeof(*n->kids));
        if (n->kids == NULL)
            rc = PL_ENOMEM;
        else
            memcpy(n->kids, f->kids, f->n * sizeof(*n->kids));
    }
    n->n = n->kind == PL_Y_MAP ? f->n / 2 : f->n;
    pl_free(f->kids);
    f->kids = NULL;
    if (rc == 0 && n->kind == PL_Y_MAP) {
        for (size_t i = 0; i < n->n; i++) {
            const pl_ynode_t *key = n->kids[2 * i];
            if (key->kind != PL_Y_SCALAR) {
                fail(b, key->line, key->col, key->len,
                     "a key must be a plain name, not a list or mapping");
            }
        }
        rc = check_duplicate_keys(b, n);
    }
    return rc;
}

static int has_anchor(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.anchor != NULL;
    case YAML_SEQUENCE_START_EVENT:
        return ev->data.sequence_start.anchor != NULL;
    case YAML_MAPPING_START_EVENT:
        return ev->data.mapping_start.anchor != NULL;
    default:
        return 0;
    }
}

/* Characters of the "&name" or "*name" that starts the event, for underlining. */
static int anchor_len(const yaml_event_t *ev)
{
    const yaml_char_t *name = ev->type == YAML_ALIAS_EVENT    ? ev->data.alias.anchor
                              : ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                              : ev->type == YAML_SEQUENCE_START_EVENT
                                  ? ev->data.sequence_start.anchor
                                  : ev->data.mapping_start.anchor;
    return name ? (int)strlen((const char *)name) + 1 : 1;
}

static int on_event(builder_t *b, const yaml_event_t *ev, int *docs)
{
    if (ev->type == YAML_ALIAS_EVENT || has_anchor(ev)) {
        fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, anchor_len(ev),
             "anchors and aliases ('&name', '*name') are not supported; write the text out "
             "or move shared parts into a file you 'include'");
        return 0;
    }
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, 3,
                 "a second YAML document ('---') in one file; put each bot part in its own file");
        return 0;
    case YAML_SCALAR_EVENT: {
        pl_ynode_t *n = new_node(b, PL_Y_SCALAR, ev);
        if (n == NULL)
            return b->failed ? 0 : PL_ENOMEM;
        n->slen = ev->data.scalar.length;
        n->str = pl_arena_strndup(&b->doc->arena, (const char *)ev->data.scalar.value, n->slen);
        if (n->str == NULL)
            return PL_ENOMEM;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return add_kid(b, n);
    }
    case YAML_SEQUENCE_START_EVENT:
        return open_collection(b, PL_Y_SEQ, ev);
    case YAML_MAPPING_START_EVENT:
        return open_collection(b, PL_Y_MAP, ev);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return close_collection(b);
    default:
        return 0;
    }
}

/* Checks that happen before libyaml sees the text: NUL bytes, UTF-8, tabs in indentation.
 * libyaml would stop at the first of these with a vaguer message. */
static int prescan(pl_ydoc_t *doc, const char *text, size_t len, pl_diags_t *d)
{
    if (memchr(text, '\0', len) != NULL) {
        pl_diag(d, PL_DIAG_ERROR, doc->file, 0, 0, 0,
                "this is a binary file (it contains NUL bytes), not YAML text; "
                "check that you passed the right file");
        return PL_EINVALID;
    }
    int bad = 0, line = 1, col = 1, indent = 1;
    size_t off = 0;
    while (off < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + off,
                                              (utf8proc_ssize_t)(len - off), &cp);
        if (k <= 0) {
            if (bad < 10)
                pl_diag(d, PL_DIAG_ERROR, doc->file, line, col, 1,
                        "invalid UTF-8 (byte 0x%02X at byte offset %zu); save the file as UTF-8",
                        (unsigned char)text[off], off);
            bad++;
            off++;
            col++;
            continue;
        }
        if (cp == '\n') {
            line++;
            col = 1;
            indent = 1;
        } else {
            if (cp == '\t' && indent) {
                /* a tab before the first character of a line that has content */
                size_t e = off;
                while (e < len && (text[e] == ' ' || text[e] == '\t'))
                    e++;
                if (e < len && text[e] != '\n' && text[e] != '\r' && text[e] != '#') {
                    pl_diag(d, PL_DIAG_ERROR, doc->file, line, col, 1,
                            "tab character in indentation; YAML indents with spaces only");
                    bad++;
                    indent = 0;
                }
            } else if (cp != ' ') {
                indent = 0;
            }
            col++;
        }
        off += (size_t)k;
    }
    return bad ? PL_EINVALID : 0;
}

static int only_blank(const char *text, size_t len)
{
    int in_comment = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n')
            in_comment = 0;
        else if (c == '#')
            in_comment = 1;
        else if (!in_comment && c != ' ' && c != '\t' && c != '\r')
            return 0;
    }
    return 1;
}

int pl_ydoc_parse(pl_ydoc_t *doc, const char *path, const char *text, size_t len, pl_diags_t *d)
{
    memset(doc, 0, sizeof(*doc));
    pl_arena_init(&doc->arena, 0);
    doc->file = pl_arena_strdup(&doc->arena, path);
    if (doc->file == NULL)
        return PL_ENOMEM;
    pl_diags_add_source(d, path, text, len);
    if (len > PL_YAML_MAX_BYTES) {
        pl_diag(d, PL_DIAG_ERROR, doc->file, 0, 0, 0,
                "file is %zu bytes, more than the limit of %d (1 MiB); split the bot over "
                "several files with 'include'",
                len, PL_YAML_MAX_BYTES);
        return PL_EINVALID;
    }
    int rc = prescan(doc, text, len, d);
    if (rc != 0)
        return rc;
    if (only_blank(text, len)) {
        pl_diag(
            d, PL_DIAG_ERROR, doc->file, 0, 0, 0,
            "file is empty; a bot file needs at least a 'bot:' section (see dialogs/README.md)");
        return PL_EINVALID;
    }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return PL_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    builder_t b = {.doc = doc, .d = d};
    int docs = 0, done = 0;
    rc = 0;
    while (!done && rc == 0 && !b.failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            int line = (int)parser.problem_mark.line + 1, col = (int)parser.problem_mark.column + 1;
            int at_end = parser.problem != NULL && strstr(parser.problem, "end of stream") != NULL;
            if (at_end && parser.context != NULL && strstr(parser.context, "quoted scalar") != NULL)
                /* the end of the file says nothing: point at where the quote was opened */
                pl_diag(d, PL_DIAG_ERROR, doc->file, (int)parser.context_mark.line + 1,
                        (int)parser.context_mark.column + 1, 1,
                        "YAML syntax: the quoted text that starts here is never closed; add the "
                        "closing quote");
            else if (at_end && parser.context != NULL)
                pl_diag(d, PL_DIAG_ERROR, doc->file, (int)parser.context_mark.line + 1,
                        (int)parser.context_mark.column + 1, 1,
                        "YAML syntax: the file ends %s that starts here; complete or remove it",
                        parser.context);
            else if (parser.context != NULL)
                pl_diag(d, PL_DIAG_ERROR, doc->file, line, col, 1,
                        "YAML syntax: %s %s (line %d); check indentation and quoting here",
                        parser.problem ? parser.problem : "error", parser.context,
                        (int)parser.context_mark.line + 1);
            else
                pl_diag(d, PL_DIAG_ERROR, doc->file, line, col, 1,
                        "YAML syntax: %s; check indentation and quoting here",
                        parser.problem ? parser.problem : "error");
            b.failed = 1;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&b, &ev, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    for (int i = 0; i < b.depth; i++)
        pl_free(b.stack[i].kids);
    if (rc != 0)
        return rc;
    if (b.failed) {
        doc->root = NULL;
        return PL_EINVALID;
    }
    if (doc->root == NULL || pl_ynode_is_null(doc->root)) {
        pl_diag(
            d, PL_DIAG_ERROR, doc->file, 0, 0, 0,
            "file is empty; a bot file needs at least a 'bot:' section (see dialogs/README.md)");
        doc->root = NULL;
        return PL_EINVALID;
    }
    return 0;
}

int pl_ydoc_load(pl_ydoc_t *doc, const char *path, pl_diags_t *d)
{
    memset(doc, 0, sizeof(*doc));
    pl_arena_init(&doc->arena, 0);
    doc->file = pl_arena_strdup(&doc->arena, path);
    if (doc->file == NULL)
        return PL_ENOMEM;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        pl_diag(d, PL_DIAG_ERROR, path, 0, 0, 0, "'%s' is a directory, not a bot file", path);
        return PL_EIO;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        pl_diag(d, PL_DIAG_ERROR, path, 0, 0, 0, "cannot open file: %s", strerror(e));
        return e == ENOENT ? PL_ENOENT : PL_EIO;
    }
    /* read at most one byte past the limit: enough to know the file is too big */
    size_t cap = PL_YAML_MAX_BYTES + 1, len = 0;
    char *buf = pl_malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return PL_ENOMEM;
    }
    len = fread(buf, 1, cap, f);
    int err = ferror(f);
    long total = len;
    if (len == cap && fseek(f, 0, SEEK_END) == 0)
        total = ftell(f);
    fclose(f);
    if (err) {
        pl_free(buf);
        pl_diag(d, PL_DIAG_ERROR, path, 0, 0, 0, "cannot read file");
        return PL_EIO;
    }
    int rc;
    if (len == cap) {
        pl_diag(d, PL_DIAG_ERROR, path, 0, 0, 0,
                "file is %ld bytes, more than the limit of %d (1 MiB); split the bot over "
                "several files with 'include'",
                total, PL_YAML_MAX_BYTES);
        rc = PL_EINVALID;
    } else {
        pl_arena_cleanup(&doc->arena); /* pl_ydoc_parse starts the document afresh */
        rc = pl_ydoc_parse(doc, path, buf, len, d);
    }
    pl_free(buf);
    return rc;
}

void pl_ydoc_cleanup(pl_ydoc_t *doc)
{
    pl_arena_cleanup(&doc->arena);
    doc->root = NULL;
}

const pl_ynode_t *pl_ymap_key(const pl_ynode_t *map, const char *key)
{
    if (map == NULL || map->kind != PL_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const pl_ynode_t *k = map->kids[2 * i];
        if (k->kind == PL_Y_SCALAR && strcmp(k->str, key) == 0)
            return k;
    }
    return NULL;
}

const pl_ynode_t *pl_ymap_get(const pl_ynode_t *map, const char *key)
{
    if (map == NULL || map->kind != PL_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const pl_ynode_t *k = map->kids[2 * i];
        if (k->kind == PL_Y_SCALAR && strcmp(k->str, key) == 0)
            return map->kids[2 * i + 1];
    }
    return NULL;
}

int pl_ynode_bool(const pl_ynode_t *n, int *out)
{
    if (n == NULL || n->kind != PL_Y_SCALAR)
        return 0;
    if (strcasecmp(n->str, "true") == 0 || strcasecmp(n->str, "yes") == 0) {
        *out = 1;
        return 1;
    }
    if (strcasecmp(n->str, "false") == 0 || strcasecmp(n->str, "no") == 0) {
        *out = 0;
        return 1;
    }
    return 0;
}

int pl_ynode_is_null(const pl_ynode_t *n)
{
    return n != NULL && n->kind == PL_Y_SCALAR && n->plain &&
           (n->slen == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
            strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
}

const char *pl_ynode_kind_name(const pl_ynode_t *n)
{
    if (n == NULL)
        return "nothing";
    switch (n->kind) {
    case PL_Y_SCALAR:
        return pl_ynode_is_null(n) ? "nothing" : "a text";
    case PL_Y_SEQ:
        return "a list";
    case PL_Y_MAP:
        return "a mapping";
    }
    return "?";
}
