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

/* What happened: the customer wrote a message (the default) or pressed accept or decline on
 * an offer card (channels with buttons; voice customers say it instead); or the session
 * linked channels: a link code to show (`offer` holds it, "" when the customer must sign in
 * first), or the outcome of a code the customer said ("linked", "denied", "limited"). */
typedef enum {
    PL_EVENT_MESSAGE,
    PL_EVENT_ACCEPT_OFFER,
    PL_EVENT_DECLINE_OFFER,
    PL_EVENT_LINK_CODE,
    PL_EVENT_LINK_RESULT,
    /* voice sessions (a voice platform opens and closes them): */
    PL_EVENT_LAUNCH,      /* disclosure and what the bot can do, then the bot's greeting */
    PL_EVENT_STOP,        /* the customer stops: goodbye, and this channel's place is dropped */
    PL_EVENT_HOME,        /* back to the start: the place is dropped, what the bot can do */
    PL_EVENT_SESSION_END  /* the platform ended the session: the place is dropped, nothing said */
} pl_event_kind_t;

/* What the NLU understood of one message, plus the turn's context. */
typedef struct {
    pl_event_kind_t kind;
    const char *offer; /* PL_EVENT_ACCEPT_OFFER / DECLINE_OFFER: the offer's id */
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
    PL_ACT_CANNOT,       /* the bot cannot do `index` (bot->cannots): says so, with the alternative */
    PL_ACT_NOTICE        /* parley's own words on offers and privacy: notice `index` about `offer` */
} pl_action_kind_t;

/* What PL_ACT_NOTICE says; `offer` names the offer or category it is about. */
typedef enum {
    PL_NOTICE_OFFER_ACCEPTED,
    PL_NOTICE_OFFER_DECLINED,
    PL_NOTICE_OFFER_CLOSED,  /* that offer is no longer open (or was never made) */
    PL_NOTICE_CONSENT_GIVEN, /* thanks: I will remember your preferences */
    PL_NOTICE_CONSENT_REFUSED,
    PL_NOTICE_STOPPED,        /* "stop personalising" done, everywhere */
    PL_NOTICE_FORGET_CONFIRM, /* "forget me": are you sure? */
    PL_NOTICE_FORGOTTEN,
    PL_NOTICE_FORGET_KEPT, /* the customer said no: nothing was deleted */
    PL_NOTICE_SUPPRESSED,  /* no more offers of category `offer` */
    PL_NOTICE_WHICH_CATEGORY,
    PL_NOTICE_RESUME,      /* continue where you left off on channel `offer`? */
    PL_NOTICE_FRESH_START, /* the customer did not want to continue */
    PL_NOTICE_LINK_CODE,   /* the code `offer`, to say on another channel */
    PL_NOTICE_LINK_SIGN_IN,
    PL_NOTICE_LINKED,
    PL_NOTICE_LINK_DENIED,
    PL_NOTICE_LINK_LIMITED,
    PL_NOTICE_GOODBYE,
    PL_NOTICE_TRY_AGAIN, /* said by a channel, not the engine: the store did not answer */
    PL_NOTICE_COUNT
} pl_notice_t;

typedef struct {
    pl_action_kind_t kind;
    const pl_text_t *text; /* what to say; NULL for none */
    const char *const *quick_replies;
    size_t nquick_replies;
    const char *offer; /* PL_ACT_OFFER: id of the snapshot in state.offers; PL_ACT_NOTICE: its
                          subject (offer or category id), or NULL */
    int index;         /* PL_ACT_UNAVAILABLE: capability; PL_ACT_CANNOT: cannot entry;
                          PL_ACT_NOTICE: pl_notice_t */
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
    int erase;      /* the customer confirmed "forget me": erase them everywhere */
    int link_code;  /* the customer asked for a code to link another channel */
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
