/* The flow engine: one turn of a conversation as a pure function of
 * (bot, conversation state, understood input, time) → actions and new state.
 * No I/O, no clock reads, no globals: time comes in with the input.
 *
 * Conversation state is a cJSON object the caller owns (format in dialogs/README.md,
 * "Conversation state"); it names flows, steps and slots by id only. */
#ifndef PL_ENGINE_H
#define PL_ENGINE_H

#include "base/arena.h"
#include "dialog/bot.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* An entity found in the customer's text. */
typedef struct {
    int entity;           /* index into bot->entities */
    const char *value;    /* list: canonical value; regex: matched text; number/money: digits */
    double number;        /* number and money entities */
    const char *currency; /* money: ISO code such as "EUR" or "USD"; NULL if none was said */
    size_t start, end;    /* byte span in the original text */
} pl_entity_match_t;

/* What the NLU understood of one message, plus the turn's context. */
typedef struct {
    const char *text; /* the customer's text as typed */
    pl_channel_t channel;
    int64_t now_ms; /* UTC milliseconds */
    int intent;     /* index into bot->intents; -1: nothing above the bot's threshold */
    double confidence;
    const pl_entity_match_t *entities;
    size_t nentities;
} pl_input_t;

typedef enum {
    PL_ACT_SAY,
    PL_ACT_OFFER,
    PL_ACT_HANDOFF,      /* text NULL: the built-in handoff with the channel's contact */
    PL_ACT_CAPABILITIES, /* the disclosure and this channel's manifest (conversation start) */
    PL_ACT_DISCLOSURE,   /* the truthful answer to "are you a bot?" */
    PL_ACT_REMINDER,     /* what the bot can do on this channel */
    PL_ACT_UNAVAILABLE,  /* capability `index` is not available on this channel */
    PL_ACT_CANNOT        /* the bot cannot do `index` (bot->cannots): says so, with the alternative */
} pl_action_kind_t;

typedef struct {
    pl_action_kind_t kind;
    const pl_text_t *text; /* what to say; NULL for none */
    const char *const *quick_replies;
    size_t nquick_replies;
    const char *offer; /* PL_ACT_OFFER: id of the snapshot in state.offers */
    int index;         /* PL_ACT_UNAVAILABLE: capability; PL_ACT_CANNOT: cannot entry */
} pl_action_t;

#define PL_MAX_ACTIONS 32
#define PL_MAX_TRACE 16

typedef struct {
    pl_action_t items[PL_MAX_ACTIONS];
    size_t n;
    /* why the engine did what it did, for `parley chat --json` and tests; arena strings */
    const char *trace[PL_MAX_TRACE];
    size_t ntrace;
    int understood; /* 0 when the turn ended in the fallback */
} pl_actions_t;

/* The conversation state keeps who the customer seems to be in one object, "persona":
 * {id, tone, address, evidence, candidate, streak, last_at} (written by persona/). These read
 * it; each returns NULL when the value is not there. Borrowed from state. */
const char *pl_state_persona(const cJSON *state);
const char *pl_state_tone(const cJSON *state);

/* Runs one turn: updates state in place and fills out. Strings in out live in scratch.
 * Returns 0, or PL_ENOMEM (state may then be partly updated: callers that must not lose
 * state run the turn on a copy). */
int pl_engine_turn(const pl_bot_t *bot, cJSON *state, const pl_input_t *in, pl_arena_t *scratch,
                   pl_actions_t *out);

#endif
