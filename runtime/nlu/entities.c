/* Entity extraction: list synonyms as stemmed token sequences, regexes on the original text,
 * numbers written with digits and money amounts with a currency marker. Every scan is linear in
 * the message and stops at PL__NLU_MAX_ENTITIES matches per entity. */
#include "nlu/nlu_int.h"
#include "base/diag.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX PL__NLU_MAX_ENTITIES
/* Longer digit runs are serial numbers or garbage, and would not fit a double exactly. */
#define MAX_DIGITS 15
/* A regex that keeps matching the empty string gets this many tries. */
#define MAX_REGEX_CALLS (4 * MAX)

typedef struct {
    const uint64_t *h; /* stem hashes of the synonym's tokens */
    uint32_t n;
    uint32_t value;
    uint32_t seq;       /* order of writing: ties between equally long synonyms go to the first */
    const char *joined; /* its normalised tokens written together: "spiegelreflexkamera" */
    uint32_t jlen;
} syn_t;

typedef struct {
    syn_t *syns; /* by first hash, then longest first */
    size_t n;
    /* for tolerant matching, which needs the right first letter: the synonyms by their first
     * byte, in the order above; byte b's are by_first[first[b], first[b + 1]) */
    uint32_t *by_first;
    uint32_t first[257];
} list_t;

struct pl__lists {
    list_t *by_entity; /* empty for entities that are not lists */
    size_t n;
};

static int cmp_syn(const void *a, const void *b)
{
    const syn_t *x = a, *y = b;
    if (x->h[0] != y->h[0])
        return x->h[0] < y->h[0] ? -1 : 1;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int build_list(const pl_entity_t *en, int de, pl_arena_t *a, pl_arena_t *tmp, list_t *l)
{
    size_t total = 0;
    for (size_t v = 0; v < en->nvalues; v++)
        total += en->values[v].nsynonyms;
    l->syns = pl_arena_alloc(a, (total + 1) * sizeof(syn_t));
    if (l->syns == NULL)
        return PL_ENOMEM;
    for (size_t v = 0; v < en->nvalues; v++) {
        for (size_t k = 0; k < en->values[v].nsynonyms; k++) {
            const char *s = en->values[v].synonyms[k];
            pl__tokens_t t;
            int rc = pl__nlu_tokenize(s, strlen(s), tmp, &t);
            if (rc != 0)
                return rc;
            if (t.ntoks == 0)
                continue; /* nothing left to match, e.g. "!!!" */
            pl__nlu_hash_tokens(&t, de);
            uint64_t *h = pl_arena_alloc(a, t.ntoks * sizeof(*h));
            char *joined = pl_arena_alloc(a, t.normlen + 1);
            if (h == NULL || joined == NULL)
                return PL_ENOMEM;
            size_t jlen = 0;
            for (size_t i = 0; i < t.ntoks; i++) {
                h[i] = t.toks[i].hash;
                memcpy(joined + jlen, t.norm + t.toks[i].off, t.toks[i].len);
                jlen += t.toks[i].len;
            }
            joined[jlen] = '\0';
            l->syns[l->n] =
                (syn_t){h, (uint32_t)t.ntoks, (uint32_t)v, (uint32_t)l->n, joined, (uint32_t)jlen};
            l->n++;
        }
    }
    qsort(l->syns, l->n, sizeof(syn_t), cmp_syn);
    l->by_first = pl_arena_alloc(a, (l->n + 1) * sizeof(uint32_t));
    if (l->by_first == NULL)
        return PL_ENOMEM;
    memset(l->first, 0, sizeof(l->first));
    for (size_t s = 0; s < l->n; s++)
        l->first[(unsigned char)l->syns[s].joined[0] + 1]++;
    for (int b = 0; b < 256; b++)
        l->first[b + 1] += l->first[b];
    uint32_t fill[256];
    memcpy(fill, l->first, sizeof(fill));
    for (size_t s = 0; s < l->n; s++)
        l->by_first[fill[(unsigned char)l->syns[s].joined[0]]++] = (uint32_t)s;
    return 0;
}

int pl__nlu_lists_build(const pl_bot_t *bot, pl_arena_t *a, pl_arena_t *tmp, pl__lists_t **out)
{
    int de = pl__nlu_is_de(bot);
    pl__lists_t *ls = pl_arena_calloc(a, 1, sizeof(*ls));
    if (ls == NULL)
        return PL_ENOMEM;
    ls->by_entity = pl_arena_calloc(a, bot->nentities + 1, sizeof(list_t));
    if (ls->by_entity == NULL)
        return PL_ENOMEM;
    ls->n = bot->nentities;
    for (size_t i = 0; i < bot->nentities; i++) {
        if (bot->entities[i].kind != PL_ENTITY_LIST)
            continue;
        int rc = build_list(&bot->entities[i], de, a, tmp, &ls->by_entity[i]);
        if (rc != 0)
            return rc;
    }
    *out = ls;
    return 0;
}

/* Typos a word may have and still match: none below 5 letters, one from 5, two from 9. */
static int tolerance(size_t len)
{
    return len >= 9 ? 2 : len >= 5 ? 1 : 0;
}

/* Edit distance comparisons one message may cost per list entity: bounds the work for big
 * lists and long messages. */
#define FUZZY_BUDGET 20000

/* A synonym written with a typo, or as one word where the synonym has two ("Spiegelreflex-
 * kamera"), or as two words where it has one ("System Kamera"): compares the message's words
 * written together with each synonym written together. Returns the synonym and sets *ntok to
 * the message tokens it covers (the longer reading first), or NULL. */
static const syn_t *fuzzy_at(const list_t *l, const pl__tokens_t *t, size_t i, size_t *ntok,
                             int *budget)
{
    for (size_t k = 2; k >= 1; k--) {
        if (i + k > t->ntoks)
            continue;
        char word[65];
        size_t wl = 0, j;
        for (j = i; j < i + k && wl + t->toks[j].len <= 64; j++) {
            memcpy(word + wl, t->norm + t->toks[j].off, t->toks[j].len);
            wl += t->toks[j].len;
        }
        if (j < i + k)
            continue; /* longer than any synonym: try fewer words */
        word[wl] = '\0';
        int tol = tolerance(wl);
        if (tol == 0 && k == 1)
            continue; /* one short word: only the exact match above counts */
        unsigned char b = (unsigned char)word[0];
        for (uint32_t f = l->first[b]; f < l->first[b + 1] && *budget > 0; f++) {
            const syn_t *y = &l->syns[l->by_first[f]];
            if (y->jlen + (size_t)tol < wl || wl + (size_t)tol < y->jlen)
                continue;
            (*budget)--;
            if (pl_edit_distance(word, y->joined, tol) <= tol) {
                *ntok = k;
                return y;
            }
        }
    }
    return NULL;
}

/* Leftmost, then longest synonym; matches do not overlap. */
static size_t find_list(const pl_entity_t *en, int idx, const list_t *l, const pl__tokens_t *t,
                        pl_entity_match_t *m)
{
    size_t nm = 0;
    int budget = FUZZY_BUDGET;
    for (size_t i = 0; t != NULL && i < t->ntoks && nm < MAX;) {
        uint64_t h = t->toks[i].hash;
        size_t lo = 0, hi = l->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->syns[mid].h[0] < h)
                lo = mid + 1;
            else
                hi = mid;
        }
        const syn_t *hit = NULL;
        for (size_t k = lo; k < l->n && l->syns[k].h[0] == h && hit == NULL; k++) {
            const syn_t *s = &l->syns[k];
            if (s->n > t->ntoks - i)
                continue;
            uint32_t j = 1;
            while (j < s->n && s->h[j] == t->toks[i + j].hash)
                j++;
            if (j == s->n)
                hit = s;
        }
        size_t cover = hit ? hit->n : 0;
        if (hit == NULL)
            hit = fuzzy_at(l, t, i, &cover, &budget);
        if (hit == NULL) {
            i++;
            continue;
        }
        m[nm++] = (pl_entity_match_t){.entity = idx,
                                      .value = en->values[hit->value].value,
                                      .start = t->toks[i].start,
                                      .end = t->toks[i + cover - 1].end};
        i += cover;
    }
    return nm;
}

static int find_regex(const pl_entity_t *en, int idx, const char *text, size_t len, const char *z,
                      pl_arena_t *scratch, pl_entity_match_t *m, size_t *nout)
{
    size_t nm = 0, off = 0;
    for (int calls = 0; en->regex != NULL && off <= len && nm < MAX && calls < MAX_REGEX_CALLS;
         calls++) {
        regmatch_t rm;
        if (regexec(en->regex, z + off, 1, &rm, off > 0 ? REG_NOTBOL : 0) != 0)
            break;
        size_t s = off + (size_t)rm.rm_so, e = off + (size_t)rm.rm_eo;
        if (e == s) {
            /* an empty match says nothing; try again from the next character */
            off = s + 1;
            while (off < len && ((unsigned char)text[off] & 0xC0) == 0x80)
                off++;
            continue;
        }
        char *value = pl_arena_strndup(scratch, text + s, e - s);
        if (value == NULL)
            return PL_ENOMEM;
        m[nm++] = (pl_entity_match_t){.entity = idx, .value = value, .start = s, .end = e};
        off = e;
    }
    *nout = nm;
    return 0;
}

/* Spaces allowed between an amount and its currency, including the no-break spaces that
 * German typesetting puts before "€". Returns the byte length of the space at i, or 0. */
static size_t space_at(const char *t, size_t len, size_t i)
{
    if (i < len && (t[i] == ' ' || t[i] == '\t'))
        return 1;
    if (i + 1 < len && memcmp(t + i, "\xC2\xA0", 2) == 0)
        return 2;
    if (i + 2 < len &&
        (memcmp(t + i, "\xE2\x80\xAF", 3) == 0 || memcmp(t + i, "\xE2\x80\x89", 3) == 0))
        return 3;
    return 0;
}

static size_t space_before(const char *t, size_t i)
{
    if (i >= 1 && (t[i - 1] == ' ' || t[i - 1] == '\t'))
        return 1;
    if (i >= 2 && memcmp(t + i - 2, "\xC2\xA0", 2) == 0)
        return 2;
    if (i >= 3 &&
        (memcmp(t + i - 3, "\xE2\x80\xAF", 3) == 0 || memcmp(t + i - 3, "\xE2\x80\x89", 3) == 0))
        return 3;
    return 0;
}

typedef struct {
    size_t start, end;
    int glued;                       /* a letter touches its left: "X100" is a name, not a number */
    char digits[2 * MAX_DIGITS + 2]; /* "1500" or "2.5" */
    double value;
} num_t;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_sep(char c)
{
    return c == '.' || c == ',';
}

/* A separator at q followed by exactly three digits. */
static int is_group(const char *t, size_t len, size_t q, char sep)
{
    return q + 3 < len && t[q] == sep && is_digit(t[q + 1]) && is_digit(t[q + 2]) &&
           is_digit(t[q + 3]) && (q + 4 == len || !is_digit(t[q + 4]));
}

/* End of a run of digits and separators between digits, from a digit at i. */
static size_t run_end(const char *t, size_t len, size_t i)
{
    while (i < len && (is_digit(t[i]) || (is_sep(t[i]) && i + 1 < len && is_digit(t[i + 1]))))
        i++;
    return i;
}

/* Reads the number whose digits start at s (not preceded by a digit). Returns its end, or 0
 * when the run is no number (a date, a version, too many digits). */
static size_t read_number(const char *t, size_t len, size_t s, int de, num_t *n)
{
    size_t q = s, nd = 0;
    double v = 0;
    while (q < len && is_digit(t[q])) {
        if (nd < MAX_DIGITS)
            n->digits[nd] = t[q];
        v = v * 10 + (t[q] - '0');
        q++, nd++;
    }
    int parts = 0;
    char thousands = 0;
    /* "1.500" and "1,500" are thousands in both languages: exactly three digits after */
    if (q - s <= 3 && t[s] != '0' && q < len && is_sep(t[q]) && is_group(t, len, q, t[q])) {
        thousands = t[q];
        for (; is_group(t, len, q, thousands); q += 4, parts = 1)
            for (size_t k = 1; k <= 3; k++, nd++) {
                if (nd < MAX_DIGITS)
                    n->digits[nd] = t[q + k];
                v = v * 10 + (t[q + k] - '0');
            }
    }
    if (nd > MAX_DIGITS)
        return 0;
    /* a decimal point: '.' in both languages, ',' only in German ("2,5"; in English a list) */
    if (q + 1 < len && is_sep(t[q]) && t[q] != thousands && is_digit(t[q + 1]) &&
        (t[q] == '.' || de || thousands == '.')) {
        size_t nf = 0;
        double f = 0, scale = 1;
        n->digits[nd++] = '.';
        for (q++; q < len && is_digit(t[q]); q++, nf++) {
            if (nf < MAX_DIGITS)
                n->digits[nd + nf] = t[q];
            f = f * 10 + (t[q] - '0');
            scale *= 10;
        }
        if (nf > MAX_DIGITS)
            return 0;
        nd += nf;
        v += f / scale;
        parts = 1;
    }
    /* "12.03.2024", "1.2.3": more separators follow, so none of them meant a number */
    if (parts && q + 1 < len && is_sep(t[q]) && is_digit(t[q + 1]))
        return 0;
    n->digits[nd] = '\0';
    n->value = v;
    n->start = s;
    n->end = q;
    n->glued = s > 0 && is_alpha(t[s - 1]);
    return q;
}

/* Finds the next number at or after *pos and moves *pos past it; 0 when there is none. */
static int next_number(const char *t, size_t len, size_t *pos, int de, num_t *n)
{
    size_t i = *pos;
    while (i < len) {
        if (!is_digit(t[i])) {
            i++;
            continue;
        }
        size_t end = read_number(t, len, i, de, n);
        if (end == 0) {
            i = run_end(t, len, i);
            continue;
        }
        *pos = end;
        return 1;
    }
    *pos = len;
    return 0;
}

/* A scale word right after digits: "2 thousand", "1,5 Millionen". Returns the new end. */
static size_t scale_after(const char *t, size_t len, size_t i, int de, double *mult)
{
    size_t sp = space_at(t, len, i);
    if (sp == 0)
        return 0;
    size_t w = i + sp, e = w;
    while (e < len && is_alpha(t[e]))
        e++;
    if (e < len && ((unsigned char)t[e] >= 0x80 || is_digit(t[e])))
        return 0;
    char word[16];
    if (e - w >= sizeof(word))
        return 0;
    for (size_t j = w; j < e; j++)
        word[j - w] = (char)(t[j] | 0x20); /* ASCII letters only, checked above */
    *mult = pl__nlu_scale_word(word, e - w, de);
    return *mult > 0 ? e : 0;
}

/* Every number of the message, in digits ("1.500", "2 thousand") or in words
 * ("zweitausendfünfhundert"), by start and not overlapping; digits win a tie. */
static size_t collect_numbers(const char *text, size_t len, const pl__tokens_t *toks, int de,
                              num_t *out)
{
    size_t n = 0, pos = 0;
    num_t d;
    while (n < MAX && next_number(text, len, &pos, de, &d)) {
        double mult;
        size_t e = scale_after(text, len, d.end, de, &mult);
        if (e > 0 && d.value * mult < 1e15) {
            d.value *= mult;
            d.end = e;
            snprintf(d.digits, sizeof(d.digits), "%.15g", d.value);
            pos = e;
        }
        out[n++] = d;
    }
    pl__numword_t w[MAX];
    size_t nw = toks ? pl__nlu_number_words(toks, de, w, MAX) : 0;
    for (size_t k = 0; k < nw && n < MAX; k++) {
        int overlaps = 0;
        for (size_t j = 0; j < n && !overlaps; j++)
            overlaps = w[k].start < out[j].end && out[j].start < w[k].end;
        if (overlaps)
            continue;
        num_t x = {.start = w[k].start, .end = w[k].end, .value = w[k].value};
        snprintf(x.digits, sizeof(x.digits), "%.15g", x.value);
        size_t at = n++;
        while (at > 0 && out[at - 1].start > x.start) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = x;
    }
    return n;
}

static int find_numbers(int idx, const num_t *nums, size_t count, pl_arena_t *scratch,
                        pl_entity_match_t *m, size_t *nout)
{
    size_t nm = 0;
    for (size_t k = 0; k < count && nm < MAX; k++) {
        num_t n = nums[k];
        if (n.glued)
            continue;
        char *value = pl_arena_strdup(scratch, n.digits);
        if (value == NULL)
            return PL_ENOMEM;
        m[nm++] = (pl_entity_match_t){
            .entity = idx, .value = value, .number = n.value, .start = n.start, .end = n.end};
    }
    *nout = nm;
    return 0;
}

#define MAX_GAP 3 /* spaces between amount and currency */

static const char *currency_word(const char *w, size_t n)
{
    static const struct {
        const char *word, *code;
    } words[] = {
        {"eur", "EUR"},    {"euro", "EUR"},    {"euros", "EUR"}, {"usd", "USD"},
        {"dollar", "USD"}, {"dollars", "USD"}, {"buck", "USD"},  {"bucks", "USD"},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
        if (strlen(words[i].word) != n)
            continue;
        size_t k = 0;
        while (k < n && (w[k] | 0x20) == words[i].word[k])
            k++;
        if (k == n)
            return words[i].code;
    }
    return NULL;
}

/* A currency marker ending at i (or after spaces), starting at or after floor. */
static const char *marker_before(const char *t, size_t i, size_t floor, size_t *start)
{
    for (int gap = 0; gap <= MAX_GAP; gap++) {
        if (i >= floor + 3 && memcmp(t + i - 3, "\xE2\x82\xAC", 3) == 0) {
            *start = i - 3;
            return "EUR";
        }
        if (i >= floor + 1 && t[i - 1] == '$') {
            *start = i - 1;
            return "USD";
        }
        size_t w = i;
        while (w > floor && is_alpha(t[w - 1]))
            w--;
        if (w < i && (w == 0 || !is_alpha(t[w - 1]))) {
            const char *code = currency_word(t + w, i - w);
            if (code != NULL)
                *start = w;
            return code; /* a word that is no currency ends the search */
        }
        size_t sp = space_before(t, i);
        if (sp == 0 || i - sp < floor)
            return NULL;
        i -= sp;
    }
    return NULL;
}

/* A currency marker starting at i (or after spaces). */
static const char *marker_after(const char *t, size_t len, size_t i, size_t *end)
{
    for (int gap = 0; gap <= MAX_GAP; gap++) {
        if (i + 2 < len && memcmp(t + i, "\xE2\x82\xAC", 3) == 0) {
            *end = i + 3;
            return "EUR";
        }
        if (i < len && t[i] == '$') {
            *end = i + 1;
            return "USD";
        }
        size_t w = i;
        while (w < len && is_alpha(t[w]))
            w++;
        if (w > i) {
            const char *code = currency_word(t + i, w - i);
            if (code != NULL)
                *end = w;
            return code;
        }
        size_t sp = space_at(t, len, i);
        if (sp == 0)
            return NULL;
        i += sp;
    }
    return NULL;
}

/* Every number is an amount; the currency is the marker before it, else the one after it.
 * A bare number has currency NULL: the engine takes it only when it asked for money. */
static int find_money(int idx, const char *text, size_t len, const num_t *nums, size_t count,
                      pl_arena_t *scratch, pl_entity_match_t *m, size_t *nout)
{
    size_t nm = 0, floor = 0;
    for (size_t k = 0; k < count && nm < MAX; k++) {
        num_t n = nums[k];
        if (n.start < floor)
            continue; /* its words were the currency of the amount before */
        size_t start = n.start, end = n.end;
        const char *cur = marker_before(text, n.start, floor, &start);
        if (cur == NULL && n.glued)
            continue;
        if (cur == NULL)
            cur = marker_after(text, len, n.end, &end);
        char *value = pl_arena_strdup(scratch, n.digits);
        if (value == NULL)
            return PL_ENOMEM;
        m[nm++] = (pl_entity_match_t){.entity = idx,
                                      .value = value,
                                      .number = n.value,
                                      .currency = cur,
                                      .start = start,
                                      .end = end};
        floor = end; /* a marker belongs to one amount */
    }
    *nout = nm;
    return 0;
}

/* Merges b (one entity, by start) into a (earlier entities), keeping the first MAX by start;
 * on equal starts the earlier entity stays first. */
static void merge(pl_entity_match_t *a, size_t *na, const pl_entity_match_t *b, size_t nb)
{
    pl_entity_match_t out[MAX];
    size_t i = 0, j = 0, n = 0;
    while (n < MAX && (i < *na || j < nb)) {
        if (j == nb || (i < *na && a[i].start <= b[j].start))
            out[n++] = a[i++];
        else
            out[n++] = b[j++];
    }
    memcpy(a, out, n * sizeof(*out));
    *na = n;
}

int pl__nlu_entities(const pl_bot_t *bot, const pl__lists_t *lists, const char *text, size_t len,
                     const pl__tokens_t *toks, pl_arena_t *scratch, pl_entity_match_t **out,
                     size_t *nout)
{
    if (bot->nentities == 0) {
        *out = NULL;
        *nout = 0;
        return 0;
    }
    if (len == 0)
        text = ""; /* regexec needs a string even for no text */
    int de = pl__nlu_is_de(bot);
    pl_entity_match_t *res = pl_arena_alloc(scratch, MAX * sizeof(*res));
    if (res == NULL)
        return PL_ENOMEM;
    size_t nres = 0;
    char *z = NULL;     /* text with a NUL for regexec */
    num_t *nums = NULL; /* the message's numbers, found once for number and money entities */
    size_t nnums = 0;
    for (size_t i = 0; i < bot->nentities; i++) {
        const pl_entity_t *en = &bot->entities[i];
        pl_entity_match_t one[MAX];
        size_t n = 0;
        int rc = 0;
        switch (en->kind) {
        case PL_ENTITY_LIST:
            n = find_list(en, (int)i, &lists->by_entity[i], toks, one);
            break;
        case PL_ENTITY_REGEX:
            if (z == NULL && (z = pl_arena_strndup(scratch, text, len)) == NULL)
                return PL_ENOMEM;
            rc = find_regex(en, (int)i, text, len, z, scratch, one, &n);
            break;
        case PL_ENTITY_NUMBER:
        case PL_ENTITY_MONEY:
            if (nums == NULL) {
                if ((nums = pl_arena_alloc(scratch, MAX * sizeof(*nums))) == NULL)
                    return PL_ENOMEM;
                nnums = collect_numbers(text, len, toks, de, nums);
            }
            if (en->kind == PL_ENTITY_NUMBER)
                rc = find_numbers((int)i, nums, nnums, scratch, one, &n);
            else
                rc = find_money((int)i, text, len, nums, nnums, scratch, one, &n);
            break;
        }
        if (rc != 0)
            return rc;
        merge(res, &nres, one, n);
    }
    *out = res;
    *nout = nres;
    return 0;
}

int pl_nlu_entities(const pl_bot_t *bot, const char *text, size_t len, pl_arena_t *scratch,
                    pl_entity_match_t **out, size_t *nout)
{
    pl__lists_t *lists;
    int rc = pl__nlu_lists_build(bot, scratch, scratch, &lists);
    if (rc != 0)
        return rc;
    pl__tokens_t t = {0}, *toks = NULL;
    for (size_t i = 0; i < bot->nentities && toks == NULL; i++) {
        if (lists->by_entity[i].n == 0 && bot->entities[i].kind == PL_ENTITY_REGEX)
            continue;
        rc = pl__nlu_tokenize(text, len, scratch, &t);
        if (rc != 0)
            return rc;
        pl__nlu_hash_tokens(&t, pl__nlu_is_de(bot));
        toks = &t;
    }
    return pl__nlu_entities(bot, lists, text, len, toks, scratch, out, nout);
}
