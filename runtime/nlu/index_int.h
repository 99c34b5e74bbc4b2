/* Private to runtime/nlu: the intent index, shared by features.c (what a word is made of),
 * index.c (building the index once per bot) and matcher.c (scoring a message). Not part of the
 * public API. */
#ifndef PL_INDEX_INT_H
#define PL_INDEX_INT_H

#include "nlu/nlu_int.h"

#include <stddef.h>
#include <stdint.h>

/* What a feature is; the low bits of its hash say it. */
enum { PL__F_WORD, PL__F_GRAM, PL__F_NUM, PL__F_STOP, PL__F_NKINDS };

/* Character n-grams of a word, "<" and ">" marking its ends: 3- and 4-grams. */
#define PL__GRAM_MIN 3
#define PL__GRAM_MAX 4
/* Most features one word can have: its stem, the number feature, its n-grams. */
#define PL__WORD_MAX_FEATURES (2 + (PL__GRAM_MAX - PL__GRAM_MIN + 1) * (PL__STEM_MAX_WORD + 2))

/* Tunable weights, fixed after tuning (see index.c for where the values come from). */
typedef struct {
    double w_word; /* a word's stem */
    double w_stop; /* a stop word's stem */
    double w_gram; /* each of its n-grams */
    double w_num;  /* "some number": any digits */
    double unk;    /* a feature no example has counts this share of the rarest known one */
    int epochs;    /* passes of the perceptron over the examples */
    double eta, margin;
    double lambda;        /* share of stop words' weight in the confidence */
    double slope, centre; /* confidence = 1 / (1 + exp(-slope * (similarity - centre - t))) */
    double tightness;     /* t: this share of how much more alike an intent's examples are
                           * than the average intent's (see offsets() in index.c) */
} pl__nlu_params_t;

extern pl__nlu_params_t pl__nlu_params;

/* The feature hashes of the normalised word w[0, n) (at most PL__WORD_MAX_FEATURES, written to
 * out): its stem from st (or the digits of a number) and, unless it is a stop word or a number,
 * its character n-grams. Returns how many. Allocates nothing. */
size_t pl__word_features(pl__stemmer_t *st, const char *w, size_t n, int number, int stop,
                         uint64_t *out);

/* The kind of a feature hash. */
static inline int pl__feature_kind(uint64_t h)
{
    return (int)(h & 3);
}

/* Stop words of the language, as written (they go through the normaliser like any text). */
const char *const *pl__stop_words(int de, size_t *n);


#define PL__NONE UINT32_MAX

typedef struct {
    uint64_t hash; /* of the feature; 0: empty slot */
    uint32_t id;
} pl__fslot_t;

/* One word of the bot's vocabulary with its contribution to every intent's score, computed
 * at build time so that a known word costs one probe and a short sum. */
typedef struct {
    uint64_t hash;   /* pl_hash of the normalised word; 0: empty slot */
    uint32_t off, n; /* its intents and weights: icls[off, off + n), iw[off, off + n) */
    float norm2;     /* squared length of its feature vector */
    int stop;
} pl__word_t;

struct pl_nlu {
    const pl_bot_t *bot;
    pl_arena_t arena; /* everything below but the stemmer */
    size_t extra;     /* bytes held outside the arena (the stemmer) */
    int de;
    double threshold;
    pl__stemmer_t *stemmer;

    /* features: hash -> id, the weight of each in a message, and the intents that have it */
    pl__fslot_t *fslots;
    size_t fmask;
    float *qw;
    float unk[PL__F_NKINDS]; /* weight of a feature no example has */
    uint32_t *post_off;      /* feature id -> post_cls/post_w[post_off[id], post_off[id + 1]) */
    uint32_t *post_cls;
    float *post_w;

    /* vocabulary: words of the examples and the stop words */
    pl__word_t *words;
    size_t wmask;
    uint32_t *icls;
    float *iw;

    pl__lists_t *lists;
    float *offset; /* per intent: t above, what its similarity must exceed beyond the centre */
};

static inline size_t pl__slot(uint64_t h, size_t mask)
{
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* The slot of feature h: its own or the empty one where it would go. */
static inline const pl__fslot_t *pl__feature_find(const pl_nlu_t *nlu, uint64_t h)
{
    size_t i = pl__slot(h, nlu->fmask);
    while (nlu->fslots[i].hash != 0 && nlu->fslots[i].hash != h)
        i = (i + 1) & nlu->fmask;
    return &nlu->fslots[i];
}

static inline const pl__word_t *pl__word_find(const pl_nlu_t *nlu, uint64_t h)
{
    size_t i = pl__slot(h, nlu->wmask);
    while (nlu->words[i].hash != 0 && nlu->words[i].hash != h)
        i = (i + 1) & nlu->wmask;
    return &nlu->words[i];
}

#endif
