/* The turn pipeline: one customer message in, one canonical reply out.
 * A pl_runtime is a loaded bot with its NLU index, reference-counted so a reload can swap
 * it while conversations that hold the old one finish their turn. */
#ifndef PL_RUNTIME_H
#define PL_RUNTIME_H

#include "base/arena.h"
#include "base/diag.h"
#include "dialog/bot.h"
#include "dialog/engine.h"
#include "nlu/nlu.h"
#include "persona/persona.h"
#include "render/reply.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define PL_MAX_MESSAGE_BYTES 4096
/* A pause this long ends a conversation: without consent, nothing learnt outlives it. */
#define PL_CONVERSATION_GAP_MS (30 * 60 * 1000LL)
/* "Stop personalising", "forget me" and "not interested in X" act on the customer's whole
 * state: they count only when recognised at least this surely (vague answers such as "no
 * idea" or "all sorts" score around 0.5 against them, real requests above 0.9) and when
 * the message has one of their key words ("stop" alone or "forget it" score 0.98). */
#define PL_PRIVACY_MIN_CONFIDENCE 0.8

typedef struct pl_runtime pl_runtime_t;

/* Loads and validates the bot at path and builds its NLU index. Diagnostics go to d.
 * Returns 0, PL_EINVALID (the bot has errors), PL_ENOMEM. *out (one reference) only on
 * success. */
int pl_runtime_load(const char *path, pl_diags_t *d, pl_runtime_t **out);
pl_runtime_t *pl_runtime_ref(pl_runtime_t *rt);
/* Drops a reference; the last one frees the bot. NULL is a no-op. */
void pl_runtime_unref(pl_runtime_t *rt);
const pl_bot_t *pl_runtime_bot(const pl_runtime_t *rt);
/* The bot's NLU index (borrowed), for tools that measure understanding alone. */
const pl_nlu_t *pl_runtime_nlu(const pl_runtime_t *rt);

typedef struct {
    pl_event_kind_t kind;
    const char *text; /* the customer's message, UTF-8 (PL_EVENT_MESSAGE) */
    size_t len;
    pl_channel_t channel;
    int64_t now_ms;    /* UTC ms from the caller's clock */
    const char *offer; /* PL_EVENT_ACCEPT_OFFER / DECLINE_OFFER: the offer's id */
    const char *intent; /* PL_EVENT_MESSAGE: an intent id a voice platform already understood
                           (NULL: parley's NLU decides); text then holds its slot values */
} pl_event_t;

typedef struct {
    pl_channel_t channel;        /* where the message came from */
    pl_understanding_t nlu;
    pl_signals_t signals;        /* how this message was written */
    pl_persona_choice_t persona; /* who the customer seems to be, and the tone */
    pl_actions_t actions;
    pl_reply_t reply;
    int erase; /* the customer confirmed "forget me": the caller erases them, not saves */
    int link_code; /* the customer asked for a link code: the caller may show one */
} pl_turn_t;

/* Runs one turn on the conversation state *state (a cJSON object the caller owns; an empty
 * object starts a conversation). When the customer confirmed "forget me", out->erase is set
 * and *state becomes an empty object: the caller erases the customer from its store. On success *state is replaced by the new state (the old
 * one is freed) and out holds the reply, its strings in scratch. On failure *state is left
 * exactly as it was. Returns 0, PL_EINVAL (text is not UTF-8), PL_ELIMIT (text longer than
 * PL_MAX_MESSAGE_BYTES), PL_ENOMEM. */
int pl_runtime_turn(const pl_runtime_t *rt, cJSON **state, const pl_event_t *ev,
                    pl_arena_t *scratch, pl_turn_t *out);

/* The turn as one JSON object for tools and tests: intent, confidence, intents (top 3 with
 * scores), entities, flow, step, slots, messages, trace, understood, persona, tone and
 * signals (this message's, by name). Returns NULL on
 * allocation failure; free with cJSON_Delete. */
cJSON *pl_turn_to_json(const pl_runtime_t *rt, const cJSON *state, const pl_turn_t *turn);

#endif
