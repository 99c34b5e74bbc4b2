/* The intent index, built once when a bot loads. Every example becomes a TF-IDF vector of
 * stems and character n-grams; each intent is the normalised centroid of its examples' vectors
 * (a prototype: with 10-20 examples it generalises better than the nearest example). A few
 * perceptron passes then correct the centroid weights where an example, scored without itself,
 * loses to another intent (scored through its words' running scores, see dense_t). Finally every
 * word of the vocabulary gets its summed contribution to each intent, so a message costs one probe
 * per known word. */
#include "nlu/index_int.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/hash.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Tuned on CLINC150 train→val and splits of MASSIVE-de and xSID-de (10 examples per intent),
 * never on a test file; see the NLU section of the closing note of issue 3. tightness and the
 * centre that goes with it were chosen on CLINC150 train→val and train→train (which leaves the
 * sampled lines out) and MASSIVE-de, as the setting with the widest margins on all three. */
pl__nlu_params_t pl__nlu_params = {
    .w_word = 1.0,
    .w_stop = 1.0,
    .w_gram = 0.3,
    .w_num = 0.3,
    .unk = 1.5,
    .epochs = 9,
    .eta = 0.035,
    .margin = 0.1,
    .lambda = 0.5,
    .slope = 8.0,
    .centre = 0.139,
    .tightness = 0.2,
};

#define P pl__nlu_params

/* A word while building: its feature hashes, later ids. */
typedef struct {
    uint64_t hash; /* 0: empty slot */
    uint64_t *f;
    uint32_t nf;
    uint32_t wid; /* its number among the examples' words; UINT32_MAX: in none */
    int stop;
} bword_t;

/* An example's features, ids with their counts. */
typedef struct {
    uint32_t *id;
    float *tf;
    uint32_t n;
    uint32_t intent;
    float inv;     /* 1 / length of its vector */
    float *q;      /* while training: the weights of its normalised vector */
    uint32_t *own; /* while training: the posting of each feature in its own intent */
    uint32_t *w;   /* its words (wid), a word said twice twice */
    uint32_t nw;
} bex_t;

typedef struct {
    pl_nlu_t *nlu;
    pl_arena_t *tmp;
    bword_t *words;
    size_t wmask, nwords;
    bex_t *ex;
    size_t nex;
    size_t *first;     /* examples of intent i: [first[i], first[i + 1]) */
    bword_t **exwords; /* the examples' words by wid */
    size_t nexwords;
} builder_t;

static bword_t *bword_find(builder_t *b, uint64_t h)
{
    size_t i = pl__slot(h, b->wmask);
    while (b->words[i].hash != 0 && b->words[i].hash != h)
        i = (i + 1) & b->wmask;
    return &b->words[i];
}

/* Adds a word (once) with its features. */
static int add_word(builder_t *b, const char *w, size_t n, int number, int stop, bword_t **out)
{
    uint64_t h = pl_hash(w, n);
    bword_t *bw = bword_find(b, h);
    if (bw->hash == 0) {
        uint64_t f[PL__WORD_MAX_FEATURES];
        size_t nf = pl__word_features(b->nlu->stemmer, w, n, number, stop, f);
        bw->f = pl_arena_alloc(b->tmp, nf * sizeof(*f) + 1);
        if (bw->f == NULL)
            return PL_ENOMEM;
        memcpy(bw->f, f, nf * sizeof(*f));
        *bw = (bword_t){.hash = h, .f = bw->f, .nf = (uint32_t)nf, .wid = UINT32_MAX, .stop = stop};
        b->nwords++;
    }
    *out = bw;
    return 0;
}

/* Tokenises every example and stop word into the build vocabulary. */
static int collect(builder_t *b, pl__tokens_t *toks)
{
    const pl_bot_t *bot = b->nlu->bot;
    size_t nstop, ntok = 0;
    const char *const *stop = pl__stop_words(b->nlu->de, &nstop);
    pl__tokens_t *stoks = pl_arena_calloc(b->tmp, nstop, sizeof(*stoks));
    if (stoks == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < nstop; i++) {
        int rc = pl__nlu_tokenize(stop[i], strlen(stop[i]), b->tmp, &stoks[i]);
        if (rc != 0)
            return rc;
        ntok += stoks[i].ntoks;
    }
    for (size_t i = 0, e = 0; i < bot->nintents; i++) {
        for (size_t j = 0; j < bot->intents[i].nexamples; j++, e++) {
            const char *s = bot->intents[i].examples[j];
            int rc = pl__nlu_tokenize(s, strlen(s), b->tmp, &toks[e]);
            if (rc != 0)
                return rc;
            ntok += toks[e].ntoks;
        }
    }
    size_t size = 16;
    while (size < 2 * ntok)
        size *= 2;
    b->words = pl_arena_calloc(b->tmp, size, sizeof(bword_t));
    if (b->words == NULL)
        return PL_ENOMEM;
    b->wmask = size - 1;
    /* stop words first, so the examples find them marked */
    for (size_t i = 0; i < nstop; i++) {
        bword_t *bw;
        for (size_t k = 0; k < stoks[i].ntoks; k++) {
            const pl__token_t *t = &stoks[i].toks[k];
            int rc = add_word(b, stoks[i].norm + t->off, t->len, 0, 1, &bw);
            if (rc != 0)
                return rc;
        }
    }
    for (size_t e = 0; e < b->nex; e++) {
        for (size_t k = 0; k < toks[e].ntoks; k++) {
            const pl__token_t *t = &toks[e].toks[k];
            bword_t *bw;
            int rc = add_word(b, toks[e].norm + t->off, t->len, t->kind == PL__TOK_NUMBER, 0, &bw);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* Gives every feature of the examples an id and a weight: kind weight x inverse document
 * frequency over the examples (smoothed as log((N + 1) / (df + 1)) + 1). */
static int features(builder_t *b, pl__tokens_t *toks)
{
    pl_nlu_t *nlu = b->nlu;
    size_t total = 0;
    for (size_t e = 0; e < b->nex; e++)
        for (size_t k = 0; k < toks[e].ntoks; k++) {
            const pl__token_t *t = &toks[e].toks[k];
            total += bword_find(b, pl_hash(toks[e].norm + t->off, t->len))->nf;
        }
    size_t size = 16;
    while (size < 2 * total)
        size *= 2;
    nlu->fslots = pl_arena_calloc(&nlu->arena, size, sizeof(pl__fslot_t));
    uint64_t *h = pl_arena_alloc(b->tmp, (total + 1) * sizeof(*h));
    uint32_t *df = pl_arena_calloc(b->tmp, total + 1, sizeof(*df));
    if (nlu->fslots == NULL || h == NULL || df == NULL)
        return PL_ENOMEM;
    nlu->fmask = size - 1;
    /* where feature id was last counted: the example and its position there, so a repeated
     * feature adds to its count without sorting the example's hashes */
    uint32_t *last = pl_arena_alloc(b->tmp, (total + 1) * sizeof(*last));
    uint32_t *pos = pl_arena_alloc(b->tmp, (total + 1) * sizeof(*pos));
    if (last == NULL || pos == NULL)
        return PL_ENOMEM;
    b->exwords = pl_arena_alloc(b->tmp, (b->nwords + 1) * sizeof(*b->exwords));
    if (b->exwords == NULL)
        return PL_ENOMEM;
    uint32_t nfeat = 0;
    for (size_t e = 0; e < b->nex; e++) {
        bex_t *x = &b->ex[e];
        x->w = pl_arena_alloc(b->tmp, (toks[e].ntoks + 1) * sizeof(uint32_t));
        if (x->w == NULL)
            return PL_ENOMEM;
        size_t n = 0;
        for (size_t k = 0; k < toks[e].ntoks; k++) {
            const pl__token_t *t = &toks[e].toks[k];
            bword_t *bw = bword_find(b, pl_hash(toks[e].norm + t->off, t->len));
            memcpy(h + n, bw->f, bw->nf * sizeof(*h));
            n += bw->nf;
            if (bw->wid == UINT32_MAX) {
                bw->wid = (uint32_t)b->nexwords;
                b->exwords[b->nexwords++] = bw;
            }
            x->w[x->nw++] = bw->wid;
        }
        x->id = pl_arena_alloc(b->tmp, (n + 1) * sizeof(uint32_t));
        x->tf = pl_arena_alloc(b->tmp, (n + 1) * sizeof(float));
        if (x->id == NULL || x->tf == NULL)
            return PL_ENOMEM;
        for (size_t k = 0; k < n; k++) {
            pl__fslot_t *s = (pl__fslot_t *)pl__feature_find(nlu, h[k]);
            if (s->hash == 0) {
                *s = (pl__fslot_t){.hash = h[k], .id = nfeat};
                last[nfeat++] = UINT32_MAX;
            }
            if (last[s->id] == (uint32_t)e) {
                x->tf[pos[s->id]] += 1;
                continue;
            }
            last[s->id] = (uint32_t)e;
            pos[s->id] = x->n;
            df[s->id]++;
            x->id[x->n] = s->id;
            x->tf[x->n++] = 1;
        }
    }
    nlu->qw = pl_arena_alloc(&nlu->arena, (nfeat + 1) * sizeof(float));
    if (nlu->qw == NULL)
        return PL_ENOMEM;
    const double kind_w[PL__F_NKINDS] = {P.w_word, P.w_gram, P.w_num, P.w_stop};
    double N = (double)b->nex;
    for (size_t i = 0; i <= nlu->fmask; i++) {
        const pl__fslot_t *s = &nlu->fslots[i];
        if (s->hash != 0)
            nlu->qw[s->id] =
                (float)(kind_w[pl__feature_kind(s->hash)] * (log((N + 1) / (df[s->id] + 1)) + 1));
    }
    for (int k = 0; k < PL__F_NKINDS; k++)
        nlu->unk[k] = (float)(kind_w[k] * (log(N + 1) + 1) * P.unk);
    for (size_t e = 0; e < b->nex; e++) {
        bex_t *x = &b->ex[e];
        double norm = 0;
        for (uint32_t k = 0; k < x->n; k++) {
            double w = x->tf[k] * nlu->qw[x->id[k]];
            norm += w * w;
        }
        x->inv = norm > 0 ? (float)(1 / sqrt(norm)) : 0;
    }
    return 0;
}

/* Centroids: for each feature the intents whose examples have it, with the weight of the
 * feature in the intent's normalised centroid. cnorm[i] gets the length of intent i's
 * unnormalised sum, which leave-one-out scoring needs. */
static int centroids(builder_t *b, double *cnorm)
{
    pl_nlu_t *nlu = b->nlu;
    size_t nint = nlu->bot->nintents, nfeat = 0;
    for (size_t i = 0; i <= nlu->fmask; i++)
        nfeat += nlu->fslots[i].hash != 0;
    float *sum = pl_arena_calloc(b->tmp, nfeat + 1, sizeof(float));
    uint32_t *seen = pl_arena_alloc(b->tmp, (nfeat + 1) * sizeof(uint32_t));
    nlu->post_off = pl_arena_calloc(&nlu->arena, nfeat + 2, sizeof(uint32_t));
    if (sum == NULL || seen == NULL || nlu->post_off == NULL)
        return PL_ENOMEM;
    memset(seen, 0xFF, (nfeat + 1) * sizeof(uint32_t));
    /* count the postings: one per (feature, intent) */
    size_t npost = 0;
    for (size_t i = 0; i < nint; i++)
        for (size_t e = b->first[i]; e < b->first[i + 1]; e++)
            for (uint32_t k = 0; k < b->ex[e].n; k++) {
                uint32_t f = b->ex[e].id[k];
                if (seen[f] != i) {
                    seen[f] = (uint32_t)i;
                    nlu->post_off[f + 1]++;
                    npost++;
                }
            }
    for (size_t f = 0; f < nfeat; f++)
        nlu->post_off[f + 1] += nlu->post_off[f];
    nlu->post_cls = pl_arena_alloc(&nlu->arena, (npost + 1) * sizeof(uint32_t));
    nlu->post_w = pl_arena_alloc(&nlu->arena, (npost + 1) * sizeof(float));
    uint32_t *fill = pl_arena_alloc(b->tmp, (nfeat + 1) * sizeof(uint32_t));
    if (nlu->post_cls == NULL || nlu->post_w == NULL || fill == NULL)
        return PL_ENOMEM;
    memcpy(fill, nlu->post_off, nfeat * sizeof(uint32_t));
    memset(seen, 0xFF, (nfeat + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < nint; i++) {
        for (size_t e = b->first[i]; e < b->first[i + 1]; e++) {
            const bex_t *x = &b->ex[e];
            for (uint32_t k = 0; k < x->n; k++)
                sum[x->id[k]] += x->tf[k] * nlu->qw[x->id[k]] * x->inv;
        }
        double norm = 0;
        for (size_t e = b->first[i]; e < b->first[i + 1]; e++)
            for (uint32_t k = 0; k < b->ex[e].n; k++) {
                uint32_t f = b->ex[e].id[k];
                if (seen[f] != i) {
                    seen[f] = (uint32_t)i;
                    norm += (double)sum[f] * sum[f];
                }
            }
        cnorm[i] = sqrt(norm);
        double inv = norm > 0 ? 1 / cnorm[i] : 0;
        for (size_t e = b->first[i]; e < b->first[i + 1]; e++)
            for (uint32_t k = 0; k < b->ex[e].n; k++) {
                uint32_t f = b->ex[e].id[k];
                if (sum[f] != 0) {
                    nlu->post_cls[fill[f]] = (uint32_t)i;
                    nlu->post_w[fill[f]++] = (float)(sum[f] * inv);
                    sum[f] = 0;
                }
            }
    }
    return 0;
}

/* How alike an intent's examples are: an intent whose examples say nearly the same thing
 * ("what's my balance", "show my balance") is matched closely by real requests for it, so a
 * message that is only loosely like it is more likely about something else; an intent whose
 * examples vary is matched loosely by its own requests too. From the centroid sum S of n unit
 * vectors, the mean similarity of two examples is m = (|S|^2 - n) / (n (n - 1)), and an
 * example's expected cosine to the centroid of the others about sqrt(n-1) m / sqrt(1 + (n-2) m).
 * Each intent's offset is tightness x (that cosine - its mean over the intents): zero on
 * average, so the calibrated confidence keeps its meaning for the bot as a whole. */
static int offsets(builder_t *b, const double *cnorm)
{
    pl_nlu_t *nlu = b->nlu;
    size_t nint = nlu->bot->nintents;
    double *t = pl_arena_calloc(b->tmp, nint + 1, sizeof(double)), mean = 0;
    nlu->offset = pl_arena_calloc(&nlu->arena, nint + 1, sizeof(float));
    if (t == NULL || nlu->offset == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < nint; i++) {
        double n = (double)(b->first[i + 1] - b->first[i]);
        double m = n > 1 ? (cnorm[i] * cnorm[i] - n) / (n * (n - 1)) : 0;
        if (m < 0)
            m = 0;
        t[i] = n > 1 ? sqrt(n - 1) * m / sqrt(1 + (n - 2) * m) : 0;
        mean += t[i];
    }
    mean /= nint > 0 ? (double)nint : 1;
    for (size_t i = 0; i < nint; i++)
        nlu->offset[i] = (float)(P.tightness * (t[i] - mean));
    return 0;
}

/* Scores example x against every intent into acc. */
static void score_example(const pl_nlu_t *nlu, const bex_t *x, float *acc)
{
    for (uint32_t k = 0; k < x->n; k++) {
        uint32_t f = x->id[k];
        float q = x->q[k];
        for (uint32_t p = nlu->post_off[f]; p < nlu->post_off[f + 1]; p++)
            acc[nlu->post_cls[p]] += q * nlu->post_w[p];
    }
}

/* The posting of intent c in feature f's list (sorted by intent), or PL__NONE. */
static uint32_t posting(const pl_nlu_t *nlu, uint32_t f, uint32_t c)
{
    uint32_t lo = nlu->post_off[f], hi = nlu->post_off[f + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nlu->post_cls[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nlu->post_off[f + 1] && nlu->post_cls[lo] == c ? lo : PL__NONE;
}

/* Scores of the examples' words, kept in step with the weights while training: an example's
 * score is then the sum of its words' rows, a short dense sum instead of a walk through the
 * long intent lists of its n-grams (the same sum in another order; it makes a pass about three
 * times cheaper, which pays for more passes). V[u * nint + c] is word u's contribution to intent c
 * before the example's normalisation; a feature's words (fw_word, fw_val = its weight in the word,
 * once per occurrence) say which rows an update of the feature moves. */
typedef struct {
    float *v;
    uint32_t *fw_off, *fw_word;
    float *fw_val;
} dense_t;

/* Most floats of dense scores; a bigger bot trains on the intent lists instead. */
#define DENSE_MAX ((size_t)4 << 20)

static int dense_init(builder_t *b, size_t nfeat, dense_t *d)
{
    pl_nlu_t *nlu = b->nlu;
    size_t nint = nlu->bot->nintents, nw = b->nexwords, nent = 0;
    memset(d, 0, sizeof(*d));
    if (nw * nint > DENSE_MAX)
        return 0;
    d->v = pl_arena_calloc(b->tmp, nw * nint + 1, sizeof(float));
    d->fw_off = pl_arena_calloc(b->tmp, nfeat + 2, sizeof(uint32_t));
    if (d->v == NULL || d->fw_off == NULL)
        return PL_ENOMEM;
    for (size_t u = 0; u < nw; u++) {
        const bword_t *bw = b->exwords[u];
        for (uint32_t k = 0; k < bw->nf; k++)
            d->fw_off[pl__feature_find(nlu, bw->f[k])->id + 1]++;
        nent += bw->nf;
    }
    for (size_t f = 0; f < nfeat; f++)
        d->fw_off[f + 1] += d->fw_off[f];
    d->fw_word = pl_arena_alloc(b->tmp, (nent + 1) * sizeof(uint32_t));
    d->fw_val = pl_arena_alloc(b->tmp, (nent + 1) * sizeof(float));
    uint32_t *fill = pl_arena_alloc(b->tmp, (nfeat + 1) * sizeof(uint32_t));
    if (d->fw_word == NULL || d->fw_val == NULL || fill == NULL)
        return PL_ENOMEM;
    memcpy(fill, d->fw_off, nfeat * sizeof(uint32_t));
    for (size_t u = 0; u < nw; u++) {
        const bword_t *bw = b->exwords[u];
        float *row = d->v + u * nint;
        for (uint32_t k = 0; k < bw->nf; k++) {
            uint32_t f = pl__feature_find(nlu, bw->f[k])->id;
            float q = nlu->qw[f];
            d->fw_word[fill[f]] = (uint32_t)u;
            d->fw_val[fill[f]++] = q;
            for (uint32_t p = nlu->post_off[f]; p < nlu->post_off[f + 1]; p++)
                row[nlu->post_cls[p]] += q * nlu->post_w[p];
        }
    }
    return 0;
}

/* acc += row, in blocks of 8 that the compiler turns into vector instructions at -O2. */
static void add_row(float *restrict acc, const float *restrict row, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc[i] += row[i];
        acc[i + 1] += row[i + 1];
        acc[i + 2] += row[i + 2];
        acc[i + 3] += row[i + 3];
        acc[i + 4] += row[i + 4];
        acc[i + 5] += row[i + 5];
        acc[i + 6] += row[i + 6];
        acc[i + 7] += row[i + 7];
    }
    for (; i < n; i++)
        acc[i] += row[i];
}

/* Moves the weight of posting p (feature f, intent c) by delta, and the rows of f's words. */
static void dense_move(pl_nlu_t *nlu, dense_t *d, size_t nint, uint32_t f, uint32_t p, uint32_t c,
                       float delta)
{
    nlu->post_w[p] += delta;
    if (d->v == NULL)
        return;
    for (uint32_t k = d->fw_off[f]; k < d->fw_off[f + 1]; k++)
        d->v[d->fw_word[k] * nint + c] += d->fw_val[k] * delta;
}

/* An example that beat every other intent by this much is not scored again in the next pass:
 * one pass of updates moves scores by far less, and it halves the build time. */
#define SAFE_LEAD 0.3f

/* An averaged perceptron on the centroid weights. Each example is scored against its own
 * intent's centroid without itself (leave-one-out, else it always wins), and when another
 * intent comes within the margin, the weights of the example's features move towards its own
 * intent and away from that one. Only weights that exist change: a feature never gains an
 * intent that none of its examples has, which keeps scores of unrelated words at zero. */
static int train(builder_t *b, const double *cnorm)
{
    pl_nlu_t *nlu = b->nlu;
    size_t nint = nlu->bot->nintents, nfeat = 0;
    for (size_t i = 0; i <= nlu->fmask; i++)
        nfeat += nlu->fslots[i].hash != 0;
    size_t npost = nlu->post_off[nfeat];
    float *avg = pl_arena_calloc(b->tmp, npost + 1, sizeof(float));
    float *acc = pl_arena_alloc(b->tmp, (nint + 1) * sizeof(float));
    float *fix = pl_arena_alloc(b->tmp, (b->nex + 1) * sizeof(float));
    float *lead = pl_arena_calloc(b->tmp, b->nex + 1, sizeof(float));
    if (avg == NULL || acc == NULL || fix == NULL || lead == NULL)
        return PL_ENOMEM;
    dense_t dn;
    int rc = dense_init(b, nfeat, &dn);
    if (rc != 0)
        return rc;
    /* Against its own intent an example must not see itself: the centroid of the others
     * follows from |S - x|^2 = |S|^2 - 2 S.x + 1 with S the unnormalised sum; fix[e] is what
     * turns the score with itself into the score without. */
    for (size_t e = 0; e < b->nex; e++) {
        bex_t *x = &b->ex[e];
        x->q = pl_arena_alloc(b->tmp, (x->n + 1) * sizeof(float));
        x->own = pl_arena_alloc(b->tmp, (x->n + 1) * sizeof(uint32_t));
        if (x->q == NULL || x->own == NULL)
            return PL_ENOMEM;
        double own = 0;
        for (uint32_t k = 0; k < x->n; k++) {
            x->q[k] = x->tf[k] * nlu->qw[x->id[k]] * x->inv;
            x->own[k] = posting(nlu, x->id[k], x->intent);
            own += x->q[k] * nlu->post_w[x->own[k]];
        }
        double s = cnorm[x->intent], d = own * s, n2 = s * s - 2 * d + 1;
        fix[e] = (float)((n2 > 1e-9 ? (d - 1) / sqrt(n2) : 0) - own);
    }
    for (int ep = 0; ep < P.epochs; ep++) {
        for (size_t e = 0; e < b->nex; e++) {
            const bex_t *x = &b->ex[e];
            if (lead[e] > SAFE_LEAD) {
                lead[e] = 0; /* scored again in the pass after */
                continue;
            }
            memset(acc, 0, nint * sizeof(float));
            float scale = 1; /* the rows leave the example unnormalised; the order is the same */
            if (dn.v != NULL) {
                for (uint32_t k = 0; k < x->nw; k++)
                    add_row(acc, dn.v + (size_t)x->w[k] * nint, nint);
                scale = x->inv;
            } else {
                score_example(nlu, x, acc);
            }
            float mine = scale * acc[x->intent] + fix[e];
            acc[x->intent] = -FLT_MAX;
            size_t rival = 0;
            for (size_t i = 1; i < nint; i++)
                if (acc[i] > acc[rival])
                    rival = i;
            float other = nint < 2 ? 0 : scale * acc[rival];
            lead[e] = nint < 2 ? 1 : mine - other;
            /* nothing to learn when another intent has this very example: the data contradicts
             * itself, and an update would only make the order of intents decide */
            if (lead[e] > P.margin || other > 0.999f)
                continue;
            for (uint32_t k = 0; k < x->n; k++) {
                float q = (float)P.eta * x->q[k];
                /* its own intent always has its features */
                dense_move(nlu, &dn, nint, x->id[k], x->own[k], x->intent, q);
                uint32_t p = posting(nlu, x->id[k], (uint32_t)rival);
                if (p != PL__NONE)
                    dense_move(nlu, &dn, nint, x->id[k], p, (uint32_t)rival, -q);
            }
        }
        for (size_t p = 0; p < npost; p++)
            avg[p] += nlu->post_w[p];
    }
    for (size_t p = 0; P.epochs > 0 && p < npost; p++)
        nlu->post_w[p] = avg[p] / (float)P.epochs;
    return 0;
}

/* Each word's summed contribution to every intent: sum over its features of weight x the
 * intent's weight for the feature. */
static int word_vectors(builder_t *b)
{
    pl_nlu_t *nlu = b->nlu;
    size_t nint = nlu->bot->nintents;
    float *acc = pl_arena_calloc(b->tmp, nint + 1, sizeof(float));
    uint32_t *touched = pl_arena_alloc(b->tmp, (nint + 1) * sizeof(uint32_t));
    uint32_t *id = pl_arena_alloc(b->tmp, PL__WORD_MAX_FEATURES * sizeof(uint32_t));
    nlu->words = pl_arena_calloc(&nlu->arena, b->wmask + 1, sizeof(pl__word_t));
    if (acc == NULL || touched == NULL || id == NULL || nlu->words == NULL)
        return PL_ENOMEM;
    nlu->wmask = b->wmask;
    /* two passes: count, then fill */
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            nlu->icls = pl_arena_alloc(&nlu->arena, (total + 1) * sizeof(uint32_t));
            nlu->iw = pl_arena_alloc(&nlu->arena, (total + 1) * sizeof(float));
            if (nlu->icls == NULL || nlu->iw == NULL)
                return PL_ENOMEM;
            total = 0;
        }
        for (size_t i = 0; i <= b->wmask; i++) {
            const bword_t *bw = &b->words[i];
            if (bw->hash == 0)
                continue;
            size_t nt = 0;
            double norm2 = 0;
            for (uint32_t k = 0; k < bw->nf; k++) {
                const pl__fslot_t *s = pl__feature_find(nlu, bw->f[k]);
                if (s->hash == 0)
                    continue; /* a stop word no example uses */
                double q = nlu->qw[s->id];
                norm2 += q * q;
                for (uint32_t p = nlu->post_off[s->id]; p < nlu->post_off[s->id + 1]; p++) {
                    uint32_t c = nlu->post_cls[p];
                    if (acc[c] == 0)
                        touched[nt++] = c;
                    acc[c] += (float)(q * nlu->post_w[p]);
                    if (acc[c] == 0)
                        acc[c] = 1e-30f; /* stays touched */
                }
            }
            if (pass == 1)
                nlu->words[i] = (pl__word_t){.hash = bw->hash,
                                             .off = (uint32_t)total,
                                             .n = (uint32_t)nt,
                                             .norm2 = (float)norm2,
                                             .stop = bw->stop};
            for (size_t k = 0; k < nt; k++) {
                if (pass == 1) {
                    nlu->icls[total + k] = touched[k];
                    nlu->iw[total + k] = acc[touched[k]];
                }
                acc[touched[k]] = 0;
            }
            total += nt;
        }
    }
    return 0;
}

static int build(pl_nlu_t *nlu, pl_arena_t *tmp)
{
    const pl_bot_t *bot = nlu->bot;
    builder_t b = {.nlu = nlu, .tmp = tmp};
    b.first = pl_arena_alloc(tmp, (bot->nintents + 1) * sizeof(size_t));
    if (b.first == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < bot->nintents; i++) {
        b.first[i] = b.nex;
        b.nex += bot->intents[i].nexamples;
    }
    b.first[bot->nintents] = b.nex;
    b.ex = pl_arena_calloc(tmp, b.nex + 1, sizeof(bex_t));
    pl__tokens_t *toks = pl_arena_calloc(tmp, b.nex + 1, sizeof(*toks));
    double *cnorm = pl_arena_calloc(tmp, bot->nintents + 1, sizeof(double));
    if (b.ex == NULL || toks == NULL || cnorm == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < bot->nintents; i++)
        for (size_t e = b.first[i]; e < b.first[i + 1]; e++)
            b.ex[e].intent = (uint32_t)i;
    int rc = collect(&b, toks);
    if (rc == 0)
        rc = features(&b, toks);
    if (rc == 0)
        rc = centroids(&b, cnorm);
    if (rc == 0)
        rc = offsets(&b, cnorm);
    if (rc == 0)
        rc = train(&b, cnorm);
    if (rc == 0)
        rc = word_vectors(&b);
    if (rc == 0)
        rc = pl__nlu_lists_build(bot, &nlu->arena, tmp, &nlu->lists);
    return rc;
}

/* What the Snowball stemmer holds on the heap, roughly: its object, its buffer grown to the
 * longest word and the algorithm's state. */
#define STEMMER_BYTES 1024

int pl_nlu_new(const pl_bot_t *bot, pl_nlu_t **out)
{
    pl_nlu_t *nlu = pl_calloc(1, sizeof(*nlu));
    if (nlu == NULL)
        return PL_ENOMEM;
    nlu->bot = bot;
    nlu->de = pl__nlu_is_de(bot);
    nlu->threshold = bot->threshold > 0 ? bot->threshold : 0.5;
    nlu->extra = STEMMER_BYTES;
    pl_arena_init(&nlu->arena, 64 * 1024);
    int rc = pl__stemmer_new(nlu->de, &nlu->stemmer);
    if (rc != 0) {
        pl_free(nlu);
        return rc;
    }
    pl_arena_t tmp;
    pl_arena_init(&tmp, 256 * 1024);
    rc = build(nlu, &tmp);
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
    pl__stemmer_free(nlu->stemmer);
    pl_arena_cleanup(&nlu->arena);
    pl_free(nlu);
}

size_t pl_nlu_size(const pl_nlu_t *nlu)
{
    return sizeof(*nlu) + nlu->arena.total + nlu->extra;
}
