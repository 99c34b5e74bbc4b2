/* Text normalisation for matching (NFKC with case folding by utf8proc, German umlauts folded to
 * ASCII pairs) and tokenisation with byte spans into the original text: words and numbers for
 * matching, punctuation and emoji as tokens of their own. Also the light stemmer and token hash
 * that the entity extractor shares. */
#include "nlu/nlu_int.h"
#include "base/error.h"
#include "base/hash.h"

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
/* The longest real emoji sequences (families, flags of regions) have about ten code points; a
 * cap keeps a cluster that never ends from becoming one huge token. */
#define MAX_CLUSTER 32

/* A growing array in an arena. */
typedef struct {
    void *p;
    size_t n, cap;
} vec_t;

typedef struct {
    pl_arena_t *a;
    char *buf; /* normalised words */
    size_t len, cap;
    vec_t toks, marks;
    char *mtext; /* text of the marks */
    size_t mlen, mcap;
    int in_token;
} builder_t;

/* Arena memory cannot be resized, so growing copies: geometric growth keeps it O(n). */
static int grow(pl_arena_t *a, void **p, size_t *cap, size_t used, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap * 2 > need ? *cap * 2 : need;
    n = n < 16 ? 16 : n;
    void *q = pl_arena_alloc(a, n * elem);
    if (q == NULL)
        return PL_ENOMEM;
    if (used > 0)
        memcpy(q, *p, used * elem);
    *p = q;
    *cap = n;
    return 0;
}

static int reserve(builder_t *b, size_t extra)
{
    return grow(b->a, (void **)&b->buf, &b->cap, b->len, b->len + extra + 1, 1);
}

static pl__token_t *push_token(builder_t *b, vec_t *v)
{
    if (grow(b->a, &v->p, &v->cap, v->n, v->n + 1, sizeof(pl__token_t)) != 0)
        return NULL;
    return &((pl__token_t *)v->p)[v->n++];
}

static int start_token(builder_t *b, size_t start)
{
    pl__token_t *t = push_token(b, &b->toks);
    if (t == NULL)
        return PL_ENOMEM;
    if (b->toks.n > 1)
        b->buf[b->len++] = ' '; /* reserve() left room for it */
    *t = (pl__token_t){.off = b->len, .start = start, .end = start, .kind = PL__TOK_NUMBER};
    b->in_token = 1;
    return 0;
}

/* Appends word bytes that came from original bytes [start, end); digit says whether they are
 * all digits (a token of digits only is a number). */
static int put(builder_t *b, const char *s, size_t n, size_t start, size_t end, int digit)
{
    int rc = reserve(b, n + 1);
    if (rc == 0 && !b->in_token)
        rc = start_token(b, start);
    if (rc != 0)
        return rc;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    pl__token_t *t = &((pl__token_t *)b->toks.p)[b->toks.n - 1];
    t->len += n;
    t->end = end;
    if (!digit)
        t->kind = PL__TOK_WORD;
    return 0;
}

/* Appends a punctuation or emoji token for original bytes [start, end) with text s. A run of
 * one punctuation character written without spaces ("!!!", "...", or "…" that NFKC expands)
 * stays one token: the run is what a reader notices. */
static int put_mark(builder_t *b, int kind, const char *s, size_t n, size_t start, size_t end)
{
    b->in_token = 0;
    pl__token_t *m = b->marks.n > 0 ? &((pl__token_t *)b->marks.p)[b->marks.n - 1] : NULL;
    if (kind == PL__TOK_PUNCT && m != NULL && m->kind == PL__TOK_PUNCT &&
        (m->end == start || (m->start == start && m->end == end)) && m->len >= n &&
        memcmp(b->mtext + m->off + m->len - n, s, n) == 0) {
        /* the run keeps its first character only: its text stays short */
        m->end = end;
        return 0;
    }
    if (grow(b->a, (void **)&b->mtext, &b->mcap, b->mlen, b->mlen + n + 1, 1) != 0 ||
        (m = push_token(b, &b->marks)) == NULL)
        return PL_ENOMEM;
    memcpy(b->mtext + b->mlen, s, n);
    *m = (pl__token_t){.off = b->mlen, .len = n, .start = start, .end = end, .kind = kind};
    b->mlen += n;
    b->mtext[b->mlen] = '\0';
    return 0;
}

static int is_ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_ascii_punct(unsigned char c)
{
    return c > ' ' && c < 0x7F && !is_ascii_alnum(c);
}

/* Appends a run of ASCII letters and digits [start, start + n), lowercased. */
static int put_ascii(builder_t *b, const char *s, size_t n, size_t start)
{
    int digit = 1;
    for (size_t i = 0; i < n && digit; i++)
        digit = s[i] >= '0' && s[i] <= '9';
    int rc = put(b, s, n, start, start + n, digit);
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

static int is_punct(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_SO; /* punctuation, symbols */
}

/* Pictographs, regional indicators (flags) and skin tones begin an emoji cluster. */
static int is_emoji_start(utf8proc_int32_t cp)
{
    int bc = utf8proc_get_property(cp)->boundclass;
    return bc == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC || bc == UTF8PROC_BOUNDCLASS_E_ZWG ||
           bc == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR || (cp >= 0x1F3FB && cp <= 0x1F3FF);
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
        utf8proc_uint8_t enc[4];
        int rc = 0;
        if (!is_word(cps[i])) {
            if (is_punct(cps[i]))
                rc = put_mark(b, PL__TOK_PUNCT, (const char *)enc,
                              (size_t)utf8proc_encode_char(cps[i], enc), start, end);
            b->in_token = 0;
            if (rc != 0)
                return rc;
            continue;
        }
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
        rc = put(b, out, len, start, end, utf8proc_category(cps[i]) == UTF8PROC_CATEGORY_ND);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* End of the emoji cluster that starts at i (grapheme rules of UAX #29: skin tones, variation
 * selectors, zero-width joiner sequences and flag pairs stay together). */
static size_t emoji_end(const unsigned char *u, size_t len, size_t i)
{
    utf8proc_int32_t prev, cp;
    utf8proc_int32_t state = 0;
    i += (size_t)utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &prev);
    utf8proc_grapheme_break_stateful(0, prev, &state);
    for (int k = 1; k < MAX_CLUSTER && i < len; k++) {
        utf8proc_ssize_t n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n < 0 || utf8proc_grapheme_break_stateful(prev, cp, &state))
            break;
        i += (size_t)n;
        prev = cp;
    }
    return i;
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
            if (is_ascii_punct(u[i]))
                rc = put_mark(&b, PL__TOK_PUNCT, text + i, 1, i, i + 1);
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
        if (is_emoji_start(cp)) {
            i = emoji_end(u, len, i);
            rc = put_mark(&b, PL__TOK_EMOJI, text + start, i - start, start, i);
            continue;
        }
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
    *out = (pl__tokens_t){.norm = b.buf,
                          .normlen = b.len,
                          .toks = b.toks.p,
                          .ntoks = b.toks.n,
                          .marktext = b.mtext ? b.mtext : b.buf + b.len,
                          .marks = b.marks.p,
                          .nmarks = b.marks.n};
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

void pl__nlu_hash_tokens(pl__tokens_t *t, int de)
{
    for (size_t i = 0; i < t->ntoks; i++) {
        const char *s = t->norm + t->toks[i].off;
        t->toks[i].hash = pl_hash(s, pl__nlu_stem_len(s, t->toks[i].len, de));
    }
}
