/* Intent matching of one message against the index (index.c): the message's TF-IDF vector of
 * stems and n-grams is compared with every intent's trained centroid, and the cosine becomes a
 * calibrated confidence. Known words cost one probe each; only words the bot never saw are
 * stemmed and cut into n-grams here. Everything is linear in the message and allocates only
 * in the caller's scratch arena. */
#include "nlu/index_int.h"
#include "base/error.h"
#include "base/hash.h"

#include <math.h>
#include <string.h>

#define P pl__nlu_params

/* Adds the contribution of a word the bot never saw: its stem and n-grams that some example
 * has count like any feature; the rest count as unseen features, as rare as they come. That
 * lengthens the message's vector, so a message full of words the bot does not know scores low
 * everywhere, which is how out-of-scope messages look. */
static void unknown_word(const pl_nlu_t *nlu, const pl__token_t *t, const char *w, float *acc,
                         double *norm2)
{
    uint64_t f[PL__WORD_MAX_FEATURES];
    size_t nf = pl__word_features(nlu->stemmer, w, t->len, t->kind == PL__TOK_NUMBER, 0, f);
    for (size_t k = 0; k < nf; k++) {
        const pl__fslot_t *s = pl__feature_find(nlu, f[k]);
        if (s->hash == 0) {
            float u = nlu->unk[pl__feature_kind(f[k])];
            *norm2 += (double)u * u;
            continue;
        }
        float q = nlu->qw[s->id];
        *norm2 += (double)q * q;
        for (uint32_t p = nlu->post_off[s->id]; p < nlu->post_off[s->id + 1]; p++)
            acc[nlu->post_cls[p]] += q * nlu->post_w[p];
    }
}

/* The dot products of the message with every intent: of its content words into sim[], of its
 * stop words into csim[]. Returns the factor that turns content + lambda x stop into a cosine
 * where stop words count lambda times as much; ranking by content + stop needs no factor. Each word
 * adds its own vector, so a word said twice counts twice, and the length of the message's vector is
 * taken as if its words shared no feature (words rarely share n-grams; it keeps the sum linear). */
static double similarities(const pl_nlu_t *nlu, const pl__tokens_t *t, float *sim, float *csim)
{
    size_t nint = nlu->bot->nintents;
    memset(sim, 0, nint * sizeof(*sim));
    memset(csim, 0, nint * sizeof(*csim));
    double norm2 = 0, snorm2 = 0;
    for (size_t i = 0; i < t->ntoks; i++) {
        const char *w = t->norm + t->toks[i].off;
        const pl__word_t *wd = pl__word_find(nlu, pl_hash(w, t->toks[i].len));
        if (wd->hash == 0) {
            unknown_word(nlu, &t->toks[i], w, sim, &norm2);
            continue;
        }
        if (wd->stop) {
            snorm2 += wd->norm2;
            for (uint32_t k = wd->off; k < wd->off + wd->n; k++)
                csim[nlu->icls[k]] += nlu->iw[k];
            continue;
        }
        norm2 += wd->norm2;
        for (uint32_t k = wd->off; k < wd->off + wd->n; k++)
            sim[nlu->icls[k]] += nlu->iw[k];
    }
    /* only the best few need their cosines: the message's length is the same for every
     * intent, so the ranking can use the raw sums */
    double l = P.lambda;
    return norm2 + l * l * snorm2 > 0 ? 1 / sqrt(norm2 + l * l * snorm2) : 0;
}

/* The similarity of a right answer depends little on the bot: a logistic curve fitted on
 * held-out data of several bots in both languages maps it (less the intent's offset for how
 * alike its examples are, index.c) to a confidence, so that one threshold (0.5) means the
 * same on every bot. */
static double confidence(double sim)
{
    return 1 / (1 + exp(-P.slope * (sim - P.centre)));
}

/* Words and numbers, punctuation and emoji merged into one list in text order. */
static int public_tokens(const pl__tokens_t *t, pl_arena_t *scratch, pl_understanding_t *u)
{
    size_t n = t->ntoks + t->nmarks, i = 0, j = 0;
    pl_token_t *out = pl_arena_alloc(scratch, (n + 1) * sizeof(*out));
    if (out == NULL)
        return PL_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        int word = j == t->nmarks || (i < t->ntoks && t->toks[i].start <= t->marks[j].start);
        const pl__token_t *x = word ? &t->toks[i++] : &t->marks[j++];
        pl_token_kind_t kind = x->kind == PL__TOK_NUMBER ? PL_TOKEN_NUMBER
                               : x->kind == PL__TOK_PUNCT ? PL_TOKEN_PUNCT
                               : x->kind == PL__TOK_EMOJI ? PL_TOKEN_EMOJI
                                                          : PL_TOKEN_WORD;
        out[k] = (pl_token_t){.kind = kind,
                              .text = (word ? t->norm : t->marktext) + x->off,
                              .len = x->len,
                              .start = x->start,
                              .end = x->end};
    }
    u->tokens = out;
    u->ntokens = n;
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
    float *sim = pl_arena_alloc(scratch, 2 * (bot->nintents + 1) * sizeof(*sim));
    if (sim == NULL)
        return PL_ENOMEM;
    float *csim = sim + bot->nintents + 1;
    double cinv = similarities(nlu, &t, sim, csim);

    pl_understanding_t u = {.intent = -1};
    for (size_t i = 0; i < bot->nintents; i++) {
        float s = sim[i] + csim[i];
        if (s <= 0 || (u.ntop == 3 && s <= u.top[2].score))
            continue; /* nothing in common, or not among the best three */
        /* strictly better only: on equal scores the lower intent index stays first */
        size_t at = u.ntop;
        while (at > 0 && s > u.top[at - 1].score)
            at--;
        if (at >= 3)
            continue;
        size_t last = u.ntop < 3 ? u.ntop : 2;
        memmove(&u.top[at + 1], &u.top[at], (last - at) * sizeof(u.top[0]));
        u.top[at] = (pl_intent_score_t){.intent = (int)i, .score = s};
        if (u.ntop < 3)
            u.ntop++;
    }
    /* Ranked by the full similarity, where stop words help tell intents apart; confident by
     * the one where they count half, as they say little about whether the message belongs to
     * the bot at all ("can you ... me ... to" is in many requests). Kept non-increasing. */
    for (size_t k = 0; k < u.ntop; k++) {
        int c = u.top[k].intent;
        u.top[k].score = confidence((sim[c] + P.lambda * csim[c]) * cinv - nlu->offset[c]);
        if (k > 0 && u.top[k].score > u.top[k - 1].score)
            u.top[k].score = u.top[k - 1].score;
    }
    rc = public_tokens(&t, scratch, &u);
    if (rc != 0)
        return rc;
    if (u.ntop > 0) {
        u.confidence = u.top[0].score;
        if (u.confidence >= nlu->threshold)
            u.intent = u.top[0].intent;
    }
    if (bot->nentities > 0) {
        pl__nlu_hash_tokens(&t, nlu->de); /* the entities' light stems */
        rc = pl__nlu_entities(bot, nlu->lists, text, len, &t, scratch, &u.entities, &u.nentities);
        if (rc != 0)
            return rc;
    }
    *out = u;
    return 0;
}
