/* Private to runtime/nlu: the tokenizer with spans into the original text, the light stemmer
 * and hashing shared by the matcher and the entity extractor. Not part of the public API. */
#ifndef PL_NLU_INT_H
#define PL_NLU_INT_H

#include "nlu/nlu.h"

#include <stddef.h>
#include <stdint.h>

/* What a token is. Words and numbers are matched; punctuation and emoji are kept apart for
 * readers of tone (a persona) and never take part in matching. */
typedef enum { PL__TOK_WORD, PL__TOK_NUMBER, PL__TOK_PUNCT, PL__TOK_EMOJI } pl__tok_kind_t;

/* One token. A word's or number's text lies in the normalised string, a mark's in marktext;
 * start/end is the byte span of the original text it came from (a token of NFKC-expanded text
 * keeps its source span). */
typedef struct {
    size_t off, len;   /* in norm (words, numbers) or marktext (punctuation, emoji) */
    size_t start, end; /* [start, end) in the original text */
    uint64_t hash;     /* pl_hash of the stem, filled by pl__nlu_hash_tokens */
    int kind;          /* pl__tok_kind_t */
} pl__token_t;

typedef struct {
    char *norm; /* NUL-terminated: word and number tokens joined by single spaces */
    size_t normlen;
    pl__token_t *toks; /* words and numbers, in text order */
    size_t ntoks;
    /* Punctuation and emoji, in text order. A punctuation token is one character, NFKC-folded
     * (a run of it written without spaces, "!!!", is one token whose span covers the run); an
     * emoji token is one grapheme cluster, its original bytes. */
    char *marktext;
    pl__token_t *marks;
    size_t nmarks;
} pl__tokens_t;

/* Normalises text (see pl_nlu_normalize) and splits it into tokens, everything in a.
 * Returns 0 or PL_ENOMEM; *out set only on success. Hashes are left 0. */
int pl__nlu_tokenize(const char *text, size_t len, pl_arena_t *a, pl__tokens_t *out);

/* 1 for German stemming and stop words, 0 for English (the default). */
int pl__nlu_is_de(const pl_bot_t *bot);

/* Length of the stem of a normalised token: a suffix stripped for tokens longer than 4 bytes. */
size_t pl__nlu_stem_len(const char *s, size_t n, int de);

/* Sets hash of each token to the hash of its stem. */
void pl__nlu_hash_tokens(pl__tokens_t *t, int de);

/* Snowball stemmer of the bot's language (stem.c). Safe to share between threads. */
typedef struct pl__stemmer pl__stemmer_t;

/* Longest word the stemmer sees: a longer one is cut to its first bytes, so no message can
 * make the stemmer allocate. Stems have at most this many bytes. */
#define PL__STEM_MAX_WORD 64

/* Returns 0 or PL_ENOMEM; *out set only on success, free with pl__stemmer_free. */
int pl__stemmer_new(int de, pl__stemmer_t **out);
void pl__stemmer_free(pl__stemmer_t *st);
/* Writes the stem of the normalised word s[0, n) to out (PL__STEM_MAX_WORD bytes) and returns
 * its length. Allocates nothing. */
size_t pl__stemmer_stem(pl__stemmer_t *st, const char *s, size_t n, char *out);

/* Synonyms of every list entity, tokenised and ready for matching (see entities.c). */
typedef struct pl__lists pl__lists_t;

/* Builds the synonym index of bot's list entities in a, using tmp for temporary work.
 * Returns 0 or PL_ENOMEM; *out set only on success. */
int pl__nlu_lists_build(const pl_bot_t *bot, pl_arena_t *a, pl_arena_t *tmp, pl__lists_t **out);

/* pl_nlu_entities with a prebuilt synonym index and the message already tokenised and hashed. */
int pl__nlu_entities(const pl_bot_t *bot, const pl__lists_t *lists, const char *text, size_t len,
                     const pl__tokens_t *toks, pl_arena_t *scratch, pl_entity_match_t **out,
                     size_t *nout);

/* A number written in words, with its byte span in the original text. */
typedef struct {
    double value;
    size_t start, end;
} pl__numword_t;

/* Finds numbers written in words in the tokens of a message (numwords.c): at most max,
 * in order, not overlapping. German "ein"/"eine" are articles, not numbers; English "one"
 * counts only as the answer itself ("just one"), not in "the one with the big lens". */
size_t pl__nlu_number_words(const pl__tokens_t *t, int de, pl__numword_t *out, size_t max);
/* The value of a scale word in lower case ("hundred", "Millionen" lowered: 1e6), or 0. */
double pl__nlu_scale_word(const char *s, size_t n, int de);

/* At most this many entity matches are reported per message. */
#define PL__NLU_MAX_ENTITIES 64

#endif
