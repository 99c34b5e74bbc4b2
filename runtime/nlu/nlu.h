/* Natural-language understanding: normalised text → intent scores and entities.
 * The index is built once per loaded bot; understanding a message is pure and allocates
 * only in the caller's scratch arena. */
#ifndef PL_NLU_H
#define PL_NLU_H

#include "base/arena.h"
#include "base/strbuf.h"
#include "dialog/bot.h"
#include "dialog/engine.h"

#include <stddef.h>

/* Normalises text for matching: NFKC, case folding, German umlauts and ß folded to
 * ae/oe/ue/ss, punctuation and symbols replaced by spaces, whitespace collapsed to single
 * spaces, no leading or trailing space. Appends to out. Returns 0, PL_ENOMEM or PL_ELIMIT;
 * invalid UTF-8 bytes are skipped. */
int pl_nlu_normalize(const char *text, size_t len, pl_strbuf_t *out);

typedef struct pl_nlu pl_nlu_t;

/* Builds the matching index for bot (which must outlive it). Returns 0 or PL_ENOMEM;
 * *out set only on success, free with pl_nlu_free. */
int pl_nlu_new(const pl_bot_t *bot, pl_nlu_t **out);
void pl_nlu_free(pl_nlu_t *nlu);
/* Bytes the index holds (its memory footprint, for benchmarks). */
size_t pl_nlu_size(const pl_nlu_t *nlu);

typedef struct {
    int intent;   /* index into bot->intents */
    double score; /* 0..1 */
} pl_intent_score_t;

/* A token of the message, for readers of style (persona signals). */
typedef enum { PL_TOKEN_WORD, PL_TOKEN_NUMBER, PL_TOKEN_PUNCT, PL_TOKEN_EMOJI } pl_token_kind_t;

typedef struct {
    pl_token_kind_t kind;
    const char *text;  /* normalised (words, numbers, punctuation) or as written (emoji);
                          not NUL-terminated */
    size_t len;
    size_t start, end; /* byte span in the original text */
} pl_token_t;

typedef struct {
    pl_intent_score_t top[3]; /* best first */
    size_t ntop;
    int intent;        /* top[0].intent if its score reaches the bot's threshold, else -1 */
    double confidence; /* top[0].score, or 0 */
    pl_entity_match_t *entities; /* in scratch */
    size_t nentities;
    pl_token_t *tokens; /* every token in text order, in scratch */
    size_t ntokens;
} pl_understanding_t;

/* Understands one message of len bytes (the caller caps the length: the runtime allows
 * PL_MAX_MESSAGE_BYTES). Arrays in out live in scratch; entity values of list entities are
 * borrowed from the bot. top[] lists only intents that scored above 0, so ntop may be 0.
 * A bot threshold <= 0 counts as 0.5. Returns 0 or PL_ENOMEM. */
int pl_nlu_understand(const pl_nlu_t *nlu, const char *text, size_t len, pl_arena_t *scratch,
                      pl_understanding_t *out);

/* Entity extraction alone: finds every entity of the bot in text (pl_nlu_understand does the
 * same with an index built once). Non-overlapping per entity; ordered by start, then entity
 * index; at most 64 matches. A money entity also reports bare numbers, with currency NULL:
 * the engine takes those only as the answer to a money question. Regex matching uses glibc's
 * regexec, which allocates on its own. Returns 0 or PL_ENOMEM. */
int pl_nlu_entities(const pl_bot_t *bot, const char *text, size_t len, pl_arena_t *scratch,
                    pl_entity_match_t **out, size_t *nout);

#endif
