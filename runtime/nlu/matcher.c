/* Intent matching: each intent scores the best weighted Dice coefficient between the message's
 * stemmed token set and one of its examples, computed through an inverted index built once per
 * bot, so a message costs one hash probe per token plus the postings it touches. */
#include "nlu/nlu_int.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

/* Weights in fifths keep every sum an exact integer: stop words count 0.2, other words 1. */
#define W_WORD 5
#define W_STOP 1

/* Small on purpose: function words that say nothing about intent. Greetings and "no"/"nicht"
 * are missing because they do. Written naturally; they go through the same normaliser.
 * "m", "s", "t", "ll" and "ve" are what "I'm", "it's", "don't", "I'll", "I've" leave behind. */
static const char *const stop_en[] = {
    "a",      "an",    "the",   "i",   "me",  "my",   "we",    "our",   "you",    "your", "it",
    "they",   "them",  "is",    "are", "was", "were", "be",    "am",    "do",     "does", "did",
    "have",   "has",   "had",   "to",  "of",  "in",   "on",    "at",    "for",    "with", "from",
    "by",     "about", "and",   "or",  "but", "if",   "so",    "as",    "that",   "this", "there",
    "here",   "what",  "which", "who", "how", "can",  "could", "would", "should", "will", "just",
    "please", "some",  "any",   "m",   "s",   "t",    "ll",    "ve",
};
static const char *const stop_de[] = {
    "der",   "die",  "das",   "den",  "dem",  "des", "ein",  "eine",  "einen", "einem", "einer",
    "eines", "ich",  "du",    "er",   "sie",  "es",  "wir",  "mich",  "mir",   "uns",   "mein",
    "meine", "ist",  "bin",   "sind", "war",  "hat", "habe", "haben", "und",   "oder",  "aber",
    "wenn",  "dass", "zu",    "zum",  "zur",  "im",  "in",   "am",    "an",    "auf",   "aus",
    "bei",   "mit",  "nach",  "von",  "vor",  "für", "über", "um",    "so",    "auch",  "noch",
    "schon", "mal",  "bitte", "denn", "doch", "wie", "was",  "gerne", "gern",
};

/* Stop words occur in most examples, so their postings would be the longest lists of all; a
 * bit per stop word in each example's mask replaces them. */
#define MAX_STOP 64
typedef uint64_t stopmask_t;

typedef struct {
    uint64_t hash;   /* stem hash; 0: empty slot */
    int stop;        /* bit in stopmask_t, or -1 for a word that counts fully */
    uint32_t off, n; /* postings[off, off + n): examples containing the word, ascending */
} slot_t;

struct pl_nlu {
    const pl_bot_t *bot;
    pl_arena_t arena; /* everything below */
    int de;
    double threshold;
    slot_t *slots; /* open addressing, linear probing */
    size_t mask;
    uint32_t *postings;
    size_t nex;           /* examples of all intents, numbered in intent order */
    uint32_t *ex_weight;  /* weight of each example's token set */
    stopmask_t *ex_stop;  /* its stop words */
    size_t *intent_first; /* examples of intent i: [intent_first[i], intent_first[i + 1]) */
    pl__lists_t *lists;
};

static unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

static void set_stop(stopmask_t *m, int bit)
{
    *m |= (uint64_t)1 << bit;
}

static const slot_t *find(const slot_t *slots, size_t mask, uint64_t h)
{
    size_t i = (size_t)h & mask;
    while (slots[i].hash != 0 && slots[i].hash != h)
        i = (i + 1) & mask;
    return &slots[i];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct stem hashes of s, sorted, in a. */
static int stem_set(const char *s, int de, pl_arena_t *a, uint64_t **out, size_t *nout)
{
    pl__tokens_t t;
    int rc = pl__nlu_tokenize(s, strlen(s), a, &t);
    if (rc != 0)
        return rc;
    pl__nlu_hash_tokens(&t, de);
    uint64_t *h = pl_arena_alloc(a, (t.ntoks + 1) * sizeof(*h));
    if (h == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < t.ntoks; i++)
        h[i] = t.toks[i].hash;
    qsort(h, t.ntoks, sizeof(*h), cmp_u64);
    size_t n = 0;
    for (size_t i = 0; i < t.ntoks; i++)
        if (n == 0 || h[n - 1] != h[i])
            h[n++] = h[i];
    *out = h;
    *nout = n;
    return 0;
}

static slot_t *insert(pl_nlu_t *nlu, uint64_t h, int stop)
{
    slot_t *s = (slot_t *)find(nlu->slots, nlu->mask, h);
    if (s->hash == 0)
        *s = (slot_t){.hash = h, .stop = stop};
    return s;
}

static int build(pl_nlu_t *nlu, pl_arena_t *tmp)
{
    const pl_bot_t *bot = nlu->bot;
    const char *const *stop = nlu->de ? stop_de : stop_en;
    size_t nstop =
        nlu->de ? sizeof(stop_de) / sizeof(*stop_de) : sizeof(stop_en) / sizeof(*stop_en);
    _Static_assert(sizeof(stop_de) / sizeof(*stop_de) <= MAX_STOP, "too many stop words");
    _Static_assert(sizeof(stop_en) / sizeof(*stop_en) <= MAX_STOP, "too many stop words");

    nlu->intent_first = pl_arena_alloc(&nlu->arena, (bot->nintents + 1) * sizeof(size_t));
    if (nlu->intent_first == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < bot->nintents; i++) {
        nlu->intent_first[i] = nlu->nex;
        nlu->nex += bot->intents[i].nexamples;
    }
    nlu->intent_first[bot->nintents] = nlu->nex;
    uint64_t **exh = pl_arena_calloc(tmp, nlu->nex + 1, sizeof(*exh));
    size_t *exn = pl_arena_calloc(tmp, nlu->nex + 1, sizeof(*exn));
    nlu->ex_weight = pl_arena_calloc(&nlu->arena, nlu->nex + 1, sizeof(uint32_t));
    nlu->ex_stop = pl_arena_calloc(&nlu->arena, nlu->nex + 1, sizeof(stopmask_t));
    if (exh == NULL || exn == NULL || nlu->ex_weight == NULL || nlu->ex_stop == NULL)
        return PL_ENOMEM;

    size_t total = nstop, e = 0;
    for (size_t i = 0; i < bot->nintents; i++) {
        for (size_t j = 0; j < bot->intents[i].nexamples; j++, e++) {
            int rc = stem_set(bot->intents[i].examples[j], nlu->de, tmp, &exh[e], &exn[e]);
            if (rc != 0)
                return rc;
            total += exn[e];
        }
    }

    size_t size = 16;
    while (size < 2 * total)
        size *= 2;
    nlu->slots = pl_arena_calloc(&nlu->arena, size, sizeof(slot_t));
    if (nlu->slots == NULL)
        return PL_ENOMEM;
    nlu->mask = size - 1;

    /* stop words first, so examples find them marked */
    int nbits = 0;
    for (size_t i = 0; i < nstop; i++) {
        uint64_t *h;
        size_t n;
        int rc = stem_set(stop[i], nlu->de, tmp, &h, &n);
        if (rc != 0)
            return rc;
        for (size_t k = 0; k < n; k++)
            if (insert(nlu, h[k], nbits)->stop == nbits)
                nbits++;
    }
    size_t npostings = 0;
    for (e = 0; e < nlu->nex; e++) {
        for (size_t k = 0; k < exn[e]; k++) {
            slot_t *s = insert(nlu, exh[e][k], -1);
            if (s->stop >= 0) {
                set_stop(&nlu->ex_stop[e], s->stop);
                nlu->ex_weight[e] += W_STOP;
            } else {
                s->n++;
                nlu->ex_weight[e] += W_WORD;
                npostings++;
            }
        }
    }

    /* off points past each list first; filling backwards from the last example leaves every
     * list ascending */
    nlu->postings = pl_arena_alloc(&nlu->arena, (npostings + 1) * sizeof(uint32_t));
    if (nlu->postings == NULL)
        return PL_ENOMEM;
    uint32_t off = 0;
    for (size_t i = 0; i < size; i++) {
        off += nlu->slots[i].n;
        nlu->slots[i].off = off;
    }
    for (e = nlu->nex; e-- > 0;) {
        for (size_t k = 0; k < exn[e]; k++) {
            slot_t *s = (slot_t *)find(nlu->slots, nlu->mask, exh[e][k]);
            if (s->stop < 0)
                nlu->postings[--s->off] = (uint32_t)e;
        }
    }
    return pl__nlu_lists_build(bot, &nlu->arena, tmp, &nlu->lists);
}

int pl_nlu_new(const pl_bot_t *bot, pl_nlu_t **out)
{
    pl_nlu_t *nlu = pl_calloc(1, sizeof(*nlu));
    if (nlu == NULL)
        return PL_ENOMEM;
    nlu->bot = bot;
    nlu->de = pl__nlu_is_de(bot);
    nlu->threshold = bot->threshold > 0 ? bot->threshold : 0.5;
    pl_arena_init(&nlu->arena, 0);
    pl_arena_t tmp;
    pl_arena_init(&tmp, 0);
    int rc = build(nlu, &tmp);
    pl_arena_cleanup(&tmp);
    if (rc != 0) {
        pl_nlu_free(nlu);
        return rc;
    }
    *out = nlu;
    return 0;
}

void pl_nlu_free(pl_nlu_t *nlu)
{
    if (nlu == NULL)
        return;
    pl_arena_cleanup(&nlu->arena);
    pl_free(nlu);
}

/* Scores every intent into score[]. */
static int score_intents(const pl_nlu_t *nlu, const pl__tokens_t *t, pl_arena_t *scratch,
                         double *score)
{
    size_t cap = 16;
    while (cap < 2 * t->ntoks)
        cap *= 2;
    uint64_t *seen = pl_arena_calloc(scratch, cap, sizeof(*seen));
    uint32_t *acc = pl_arena_calloc(scratch, nlu->nex + 1, sizeof(*acc));
    if (seen == NULL || acc == NULL)
        return PL_ENOMEM;

    uint32_t wmsg = 0;
    stopmask_t stops = 0;
    for (size_t i = 0; i < t->ntoks; i++) {
        uint64_t h = t->toks[i].hash;
        size_t k = (size_t)h & (cap - 1);
        while (seen[k] != 0 && seen[k] != h)
            k = (k + 1) & (cap - 1);
        if (seen[k] == h)
            continue; /* a set: repeating a word does not make it count more */
        seen[k] = h;
        const slot_t *s = find(nlu->slots, nlu->mask, h);
        if (s->hash != 0 && s->stop >= 0) {
            set_stop(&stops, s->stop);
            wmsg += W_STOP;
            continue;
        }
        wmsg += W_WORD;
        for (uint32_t p = s->off; p < s->off + s->n; p++)
            acc[nlu->postings[p]] += W_WORD;
    }
    for (size_t e = 0; stops != 0 && e < nlu->nex; e++)
        acc[e] += W_STOP * popcount64(stops & nlu->ex_stop[e]);
    /* Dice = 2 common / (wmsg + wex); wmsg > 0 unless the message has no words at all */
    for (size_t i = 0; i < nlu->bot->nintents; i++) {
        double best = 0;
        for (size_t e = nlu->intent_first[i]; wmsg > 0 && e < nlu->intent_first[i + 1]; e++) {
            double r = (double)acc[e] / (double)(wmsg + nlu->ex_weight[e]);
            best = r > best ? r : best;
        }
        score[i] = 2 * best;
    }
    return 0;
}

int pl_nlu_understand(const pl_nlu_t *nlu, const char *text, size_t len, pl_arena_t *scratch,
                      pl_understanding_t *out)
{
    const pl_bot_t *bot = nlu->bot;
    pl__tokens_t t;
    int rc = pl__nlu_tokenize(text, len, scratch, &t);
    if (rc != 0)
        return rc;
    pl__nlu_hash_tokens(&t, nlu->de);
    double *score = pl_arena_alloc(scratch, (bot->nintents + 1) * sizeof(*score));
    if (score == NULL)
        return PL_ENOMEM;
    rc = score_intents(nlu, &t, scratch, score);
    if (rc != 0)
        return rc;

    pl_understanding_t u = {.intent = -1};
    for (size_t i = 0; i < bot->nintents; i++) {
        if (score[i] <= 0)
            continue;
        /* strictly better only: on equal scores the lower intent index stays first */
        size_t at = u.ntop;
        while (at > 0 && score[i] > u.top[at - 1].score)
            at--;
        if (at >= 3)
            continue;
        size_t last = u.ntop < 3 ? u.ntop : 2;
        memmove(&u.top[at + 1], &u.top[at], (last - at) * sizeof(u.top[0]));
        u.top[at] = (pl_intent_score_t){.intent = (int)i, .score = score[i]};
        if (u.ntop < 3)
            u.ntop++;
    }
    if (u.ntop > 0) {
        u.confidence = u.top[0].score;
        if (u.confidence >= nlu->threshold)
            u.intent = u.top[0].intent;
    }
    rc = pl__nlu_entities(bot, nlu->lists, text, len, &t, scratch, &u.entities, &u.nentities);
    if (rc != 0)
        return rc;
    *out = u;
    return 0;
}

size_t pl_nlu_size(const pl_nlu_t *nlu)
{
    return sizeof(*nlu) + nlu->arena.total;
}
