/* Who the customer is, from how they write: per message, signals (formal, casual, emoji,
 * hesitation, urgency, the bot's own word lists...); over the conversation, evidence with
 * recency decay that picks a persona — only once two turns agree — and with it the tone. */
#ifndef PL_PERSONA_H
#define PL_PERSONA_H

#include "base/arena.h"
#include "dialog/bot.h"
#include "nlu/nlu.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* Word lists of the signals, normalised like customer text, built once per bot. */
typedef struct pl_persona_index pl_persona_index_t;

/* Returns 0 or PL_ENOMEM; *out set only on success; bot must outlive it. */
int pl_persona_index_new(const pl_bot_t *bot, pl_persona_index_t **out);
void pl_persona_index_free(pl_persona_index_t *ix);

/* Every signal's strength in one message, 0 to 1, indexed as in pl_builtin_signal_t then the
 * bot's own signals. */
typedef struct {
    double v[PL_MAX_SIGNALS];
    int n;
} pl_signals_t;

typedef struct {
    const char *text; /* the message as written, NUL-terminated */
    const pl_understanding_t *u; /* its tokens */
    pl_channel_t channel;
    int64_t gap_ms;    /* since the customer's previous message; negative: none */
    int repeated;      /* the same question as the previous message */
    int returning;     /* a returning customer who consented to personalisation */
    int address_forms; /* German: PL_ADDRESS_* forms the message uses (pl_address_of) */
} pl_signal_input_t;

/* Measures the signals of one message. Pure; allocates in scratch. Returns 0 or PL_ENOMEM. */
int pl_signals_extract(const pl_persona_index_t *ix, const pl_signal_input_t *in,
                       pl_arena_t *scratch, pl_signals_t *out);

typedef struct {
    const char *persona; /* NULL: none yet */
    const char *tone;    /* the tone to answer in */
    int switched;        /* the persona changed in this turn */
} pl_persona_choice_t;

/* Adds one message's signals to the evidence in the conversation state and decides persona,
 * tone and (German) address form, in the state's "persona" object (see pl_state_persona). Strings
 * in out point into bot or state. Returns 0 or PL_ENOMEM. */
int pl_persona_update(const pl_bot_t *bot, cJSON *state, const pl_signals_t *s, int address_forms,
                      pl_persona_choice_t *out);

/* Adds this message's intent and list-entity values to the interest profile in state
 * ("interests", fading each turn) and sets "interest" to the strongest sustained one, or removes
 * it. Returns 0 or PL_ENOMEM. */
int pl_interests_update(const pl_bot_t *bot, cJSON *state, const pl_understanding_t *u,
                        int64_t now_ms, pl_channel_t ch);

#endif
