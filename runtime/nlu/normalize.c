/* Text normalisation for matching (NFKC with case folding by utf8proc, German umlauts folded to
 * ASCII pairs, punctuation and symbols as separators) and tokenisation with byte spans into the
 * original text, plus the light stemmer and token hash shared by the matcher and the entities. */
#include "nlu/nlu_int.h"
#include "base/error.h"

#include <string.h>
#include <utf8proc.h>

/* NFKC_Casefold; IGNORE drops soft hyphens and zero-width joiners so they cannot split words */
#define NORM_OPTS                                                                                  \
    (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* Unicode's stream-safe format (UAX #15) bounds a run of non-starters at 30. Cutting longer
 * runs keeps utf8proc's reordering of marks, which is quadratic in the run, bounded. */
#define MAX_NONSTARTERS 30
/* One chunk decomposes into at most 18 code points per code point (U+FDFA under NFKC). */
#define CHUNK_CAP ((MAX_NONSTARTERS + 1) * 18)

typedef struct {
    pl_arena_t *a;
    char *buf;
    size_t len, cap;
    pl__token_t *toks;
    size_t ntoks, tcap;
    int in_token;
} builder_t;

/* Arena memory cannot be resized, so growing copies: geometric growth keeps it O(n). */
static int reserve(builder_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap * 2 > b->len + extra + 1 ? b->cap * 2 : b->len + extra + 1;
    char *buf = pl_arena_alloc(b->a, cap);
    if (buf == NULL)
        return PL_ENOMEM;
    if (b->len > 0)
        memcpy(buf, b->buf, b->len);
    b->buf = buf;
    b->cap = cap;
    return 0;
}

static int start_token(builder_t *b, size_t start)
{
    if (b->ntoks == b->tcap) {
        size_t cap = b->tcap ? b->tcap * 2 : 16;
        pl__token_t *toks = pl_arena_alloc(b->a, cap * sizeof(*toks));
        if (toks == NULL)
            return PL_ENOMEM;
        if (b->ntoks > 0)
            memcpy(toks, b->toks, b->ntoks * sizeof(*toks));
        b->toks = toks;
        b->tcap = cap;
    }
    if (b->ntoks > 0)
        b->buf[b->len++] = ' '; /* reserve() left room for it */
    b->toks[b->ntoks++] = (pl__token_t){.off = b->len, .start = start, .end = start};
    b->in_token = 1;
    return 0;
}

/* Appends word bytes that came from original bytes [start, end). */
static int put(builder_t *b, const char *s, size_t n, size_t start, size_t end)
{
    int rc = reserve(b, n + 1);
    if (rc == 0 && !b->in_token)
        rc = start_token(b, start);
    if (rc != 0)
        return rc;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    pl__token_t *t = &b->toks[b->ntoks - 1];
    t->len += n;
    t->end = end;
    return 0;
}

static int is_ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Appends a run of ASCII letters and digits [start, start + n), lowercased. */
static int put_ascii(builder_t *b, const char *s, size_t n, size_t start)
{
    int rc = put(b, s, n, start, start + n);
    if (rc != 0)
        return rc;
    for (char *p = b->buf + b->len - n; p < b->buf + b->len; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return 0;
}

/* Marks and Hangul vowel/trailing jamo can compose with what precedes them, so they stay in
 * the chunk of their starter. */
static int is_continuation(utf8proc_int32_t cp)
{
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    return p->combining_class != 0 || p->category == UTF8PROC_CATEGORY_MN ||
           p->category == UTF8PROC_CATEGORY_MC || p->category == UTF8PROC_CATEGORY_ME ||
           (cp >= 0x1160 && cp <= 0x11FF);
}

static int is_word(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO; /* letters, marks, numbers */
}

/* Normalises one chunk (a starter and its non-starters) of the original text [start, end).
 * Chunks can normalise one by one because composition only joins a starter with the marks
 * after it, and those stay in its chunk (up to the stream-safe cut), so every output code
 * point knows the original bytes it came from. */
static int put_chunk(builder_t *b, const char *s, size_t start, size_t end)
{
    utf8proc_int32_t cps[CHUNK_CAP];
    utf8proc_ssize_t n =
        utf8proc_decompose((const utf8proc_uint8_t *)s + start, (utf8proc_ssize_t)(end - start),
                           cps, CHUNK_CAP, NORM_OPTS);
    if (n >= 0 && n <= CHUNK_CAP)
        n = utf8proc_normalize_utf32(cps, n, NORM_OPTS);
    if (n < 0 || n > CHUNK_CAP) {
        b->in_token = 0; /* cannot happen with valid input; treat as a separator */
        return 0;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        if (!is_word(cps[i])) {
            b->in_token = 0;
            continue;
        }
        utf8proc_uint8_t enc[4];
        const char *out = (const char *)enc;
        size_t len;
        switch (cps[i]) {
        case 0xE4:
            out = "ae", len = 2;
            break;
        case 0xF6:
            out = "oe", len = 2;
            break;
        case 0xFC:
            out = "ue", len = 2;
            break;
        case 0xDF:
            out = "ss", len = 2;
            break; /* case folding already did this; be explicit */
        default:
            len = (size_t)utf8proc_encode_char(cps[i], enc);
            break;
        }
        int rc = put(b, out, len, start, end);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pl__nlu_tokenize(const char *text, size_t len, pl_arena_t *a, pl__tokens_t *out)
{
    builder_t b = {.a = a};
    int rc = reserve(&b, len + 16); /* ASCII never grows */
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0;
    while (rc == 0 && i < len) {
        /* ASCII not followed by a combining mark is its own NFKC form; folding is tolower */
        size_t j = i;
        while (j < len && is_ascii_alnum(u[j]))
            j++;
        if (j < len && u[j] >= 0x80 && j > i)
            j--; /* the last letter may combine with what follows: leave it to utf8proc */
        if (j > i) {
            rc = put_ascii(&b, text + i, j - i, i);
            i = j;
            continue;
        }
        if (u[i] < 0x80 && (i + 1 == len || u[i + 1] < 0x80)) {
            b.in_token = 0;
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n < 0) {
            i++; /* invalid byte: skipped */
            continue;
        }
        size_t start = i;
        i += (size_t)n;
        for (int k = 0; k < MAX_NONSTARTERS && i < len; k++) {
            n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
            if (n < 0 || !is_continuation(cp))
                break;
            i += (size_t)n;
        }
        rc = put_chunk(&b, text, start, i);
    }
    if (rc != 0)
        return rc;
    b.buf[b.len] = '\0';
    *out = (pl__tokens_t){.norm = b.buf, .normlen = b.len, .toks = b.toks, .ntoks = b.ntoks};
    return 0;
}

int pl_nlu_normalize(const char *text, size_t len, pl_strbuf_t *out)
{
    pl_arena_t a;
    pl_arena_init(&a, len + 256);
    pl__tokens_t t;
    int rc = pl__nlu_tokenize(text, len, &a, &t);
    if (rc == 0)
        rc = pl_strbuf_append(out, t.norm, t.normlen);
    pl_arena_cleanup(&a);
    return rc;
}

int pl__nlu_is_de(const pl_bot_t *bot)
{
    const char *l = bot->language;
    return l != NULL && (l[0] == 'd' || l[0] == 'D') && (l[1] == 'e' || l[1] == 'E') &&
           (l[2] == '\0' || l[2] == '-' || l[2] == '_');
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Length of s once one suffix is stripped, or n. */
static size_t strip_once(const char *s, size_t n, int de)
{
    if (n <= 4)
        return n;
    if (de) {
        if (ends_with(s, n, "en") || ends_with(s, n, "er"))
            return n - 2;
        if (ends_with(s, n, "e") || ends_with(s, n, "n") || ends_with(s, n, "s"))
            return n - 1;
        return n;
    }
    if (ends_with(s, n, "ing") && n - 3 >= 3)
        return n - 3;
    if (ends_with(s, n, "ed"))
        return n - 2;
    /* "boxes", "classes" lose -es; "prices" only -s, so it meets "price" */
    if (ends_with(s, n, "es") && (s[n - 3] == 's' || s[n - 3] == 'x' || s[n - 3] == 'z' ||
                                  ends_with(s, n - 2, "ch") || ends_with(s, n - 2, "sh")))
        return n - 2;
    if (ends_with(s, n, "s") && !ends_with(s, n, "ss"))
        return n - 1;
    return n;
}

/* Twice, so that German "preis", "preise" and "preisen" meet at one stem. */
size_t pl__nlu_stem_len(const char *s, size_t n, int de)
{
    return strip_once(s, strip_once(s, n, de), de);
}

/* FNV-1a, 64 bits; never 0, which the matcher's hash table uses for empty slots. */
uint64_t pl__nlu_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h ? h : 1;
}

void pl__nlu_hash_tokens(pl__tokens_t *t, int de)
{
    for (size_t i = 0; i < t->ntoks; i++) {
        const char *s = t->norm + t->toks[i].off;
        t->toks[i].hash = pl__nlu_hash(s, pl__nlu_stem_len(s, t->toks[i].len, de));
    }
}
