/* The loaded bot: an immutable, validated model of a bot's YAML files. Everything lives in
 * one arena and is freed with pl_bot_free. Steps, flows and slots are referred to by string
 * id from conversation state (never by pointer), so state survives a reload. */
#ifndef PL_BOT_H
#define PL_BOT_H

#include "base/arena.h"
#include "base/diag.h"

#include <regex.h>
#include <stdint.h>
#include <stddef.h>

struct pl_bot;

/* Where something was written: for diagnostics that come after loading. */
typedef struct {
    const char *file;
    int line, col, len;
} pl_pos_t;

/* The channels a customer can use. Order matters: it indexes per-channel tables. */
typedef enum { PL_CHANNEL_WEB, PL_CHANNEL_APP, PL_CHANNEL_VOICE, PL_CHANNEL_COUNT } pl_channel_t;
const char *pl_channel_name(pl_channel_t c);
/* Returns 0 and sets *out for "web", "app" or "voice"; PL_EINVAL otherwise. */
int pl_channel_parse(const char *name, pl_channel_t *out);

/* One variant of a text: used when tone and channel match (NULL/-1 match anything). */
typedef struct {
    const char *tone;  /* NULL: any tone */
    int channel;       /* -1: any channel, else pl_channel_t */
    const char **alts; /* alternatives; one is picked reproducibly */
    size_t nalts;
} pl_variant_t;

/* Text the bot says: variants by tone and channel; variant 0 is the default. */
typedef struct {
    pl_variant_t *variants;
    size_t nvariants;
    pl_pos_t pos;
} pl_text_t;

typedef enum {
    PL_ENTITY_LIST,
    PL_ENTITY_REGEX,
    PL_ENTITY_NUMBER,
    PL_ENTITY_MONEY
} pl_entity_kind_t;

typedef struct {
    const char *value;     /* canonical value, e.g. "dslr" */
    const char **synonyms; /* what customers say, including the value itself */
    size_t nsynonyms;
} pl_entity_value_t;

typedef struct {
    const char *id;
    pl_entity_kind_t kind;
    pl_entity_value_t *values; /* PL_ENTITY_LIST */
    size_t nvalues;
    const char *pattern; /* PL_ENTITY_REGEX, POSIX extended, matched case-insensitively */
    regex_t *regex;      /* compiled; freed with the bot */
    pl_pos_t pos;
} pl_entity_t;

typedef struct {
    const char *id;
    const char **examples;
    size_t nexamples;
    int builtin; /* one of the built-in intents, with its built-in examples */
    pl_pos_t pos;
} pl_intent_t;

typedef struct {
    const char *id;
    int entity; /* index into bot->entities; -1: free text */
    pl_text_t prompt;
    pl_text_t reprompt; /* nvariants == 0: repeat the prompt */
    const char **quick_replies;
    size_t nquick_replies;
    int max_attempts; /* asks before giving up */
    pl_text_t confirm; /* nvariants > 0: a yes/no question that confirms the value */
    int profile_name;  /* once confirmed, the value is the customer's name in the profile */
    pl_pos_t pos;
} pl_slot_t;

typedef enum {
    PL_COND_SLOT,
    PL_COND_INTENT,
    PL_COND_CHANNEL,
    PL_COND_PERSONA,
    PL_COND_TONE,
    PL_COND_CONSENT,
    PL_COND_OFFERED,
    PL_COND_ALL,
    PL_COND_ANY,
    PL_COND_NOT,
    PL_COND_INTEREST,
    PL_COND_DECLINED,  /* offer `index` was declined */
    PL_COND_ACCEPTED,  /* offer `index` was accepted */
    PL_COND_OPEN_OFFER /* offer `index` (-1: any offer) is open: made, valid, not answered */
} pl_cond_kind_t;

typedef enum {
    PL_SLOT_FILLED,
    PL_SLOT_EMPTY,
    PL_SLOT_IS,
    PL_SLOT_IS_NOT,
    PL_SLOT_BELOW,
    PL_SLOT_ABOVE
} pl_slot_op_t;

typedef struct pl_cond pl_cond_t;
struct pl_cond {
    pl_cond_kind_t kind;
    const char *name;  /* slot, intent, persona, tone, consent or offer id */
    int index;         /* slot or offer index, channel number */
    pl_slot_op_t op;   /* PL_COND_SLOT */
    const char *value; /* PL_SLOT_IS / IS_NOT */
    double number;     /* PL_SLOT_BELOW / ABOVE */
    pl_cond_t *kids;   /* ALL / ANY / NOT */
    size_t nkids;
    pl_pos_t pos;
};

/* Where execution goes: a step of this flow, or the start of another flow. */
typedef struct {
    int flow; /* -1: same flow */
    int step; /* index in that flow; with another flow always 0 */
    const char *name;
    pl_pos_t pos;
} pl_target_t;

typedef struct {
    pl_cond_t cond; /* for the "else" arm: kind PL_COND_ALL with no kids (always true) */
    pl_target_t target;
} pl_branch_t;

typedef enum {
    PL_STEP_SAY,
    PL_STEP_ASK,
    PL_STEP_BRANCH,
    PL_STEP_GOTO,
    PL_STEP_OFFER,
    PL_STEP_HANDOFF,
    PL_STEP_END,
    PL_STEP_CONSENT /* asks once for consent to personalisation; waits for yes or no */
} pl_step_kind_t;

typedef struct {
    const char *id; /* written by the author, or "#N" (1-based position) */
    int explicit_id;
    pl_step_kind_t kind;
    pl_text_t text; /* say / handoff / end message (may be empty for end) */
    const char **quick_replies;
    size_t nquick_replies;
    int slot;              /* ask */
    int offer;             /* offer */
    pl_branch_t *branches; /* branch */
    size_t nbranches;
    int has_next; /* an explicit "goto"/"flow" after a say/offer/ask */
    pl_target_t next;
    int has_on_fail; /* ask: where to go when attempts run out */
    pl_target_t on_fail;
    pl_pos_t pos;
} pl_step_t;

typedef struct {
    const char *id;
    int capability;        /* index into bot->caps; -1: none named */
    const char **triggers; /* intent ids that start the flow */
    int *trigger_idx;
    size_t ntriggers;
    pl_step_t *steps;
    size_t nsteps;
    pl_pos_t pos;
} pl_flow_t;

/* An offer from the bot's catalogue. What the customer is promised is the snapshot copied
 * into their state when the offer is made (title, terms, price, currency, validity end). */
typedef struct {
    const char *id;
    const char *title;
    const char *terms; /* the conditions in one or two sentences; "" when none */
    double price;
    const char *currency;
    int64_t valid_ms;       /* how long it holds once made; 0: until valid_until_ms */
    int64_t valid_until_ms; /* the last moment it holds (an end date); 0: none */
    int category;           /* index into bot->categories; -1: none */
    int channels;           /* where it may be presented: bit 1 << pl_channel_t */
    int has_when;
    pl_cond_t when;   /* eligibility: made only when this holds */
    int personal;     /* when reads persona or interests: needs personalisation consent */
    pl_text_t text;
    pl_pos_t pos;
} pl_offer_t;

/* A kind of offer customers can say they no longer want ("no more lens offers"), with the
 * words they use for it. */
typedef struct {
    const char *id;
    const char **words;
    size_t nwords;
    pl_pos_t pos;
} pl_category_t;

/* Signals of how a customer writes, read by persona/. The built-in ones come first; a bot's
 * own word-list signals follow, numbered from PL_SIG_BUILTIN_COUNT. */
typedef enum {
    PL_SIG_FORMAL,
    PL_SIG_CASUAL,
    PL_SIG_EMOJI,
    PL_SIG_EXCLAMATION,
    PL_SIG_SHOUTING,
    PL_SIG_LONG_MESSAGE,
    PL_SIG_SHORT_MESSAGE,
    PL_SIG_FAST_PACE,
    PL_SIG_HESITATION,
    PL_SIG_URGENCY,
    PL_SIG_VOICE,
    PL_SIG_RETURNING,
    PL_SIG_BUILTIN_COUNT
} pl_builtin_signal_t;

#define PL_MAX_CUSTOM_SIGNALS 32
#define PL_MAX_SIGNALS (PL_SIG_BUILTIN_COUNT + PL_MAX_CUSTOM_SIGNALS)

/* The name of signal i of bot (built-in or the bot's own); "?" when out of range. */
const char *pl_signal_name(const struct pl_bot *bot, int i);
/* The index of the signal called name, or -1. */
int pl_signal_index(const struct pl_bot *bot, const char *name);

/* A bot's own signal: a list of words or phrases, matched after NLU normalisation. */
typedef struct {
    const char *id;
    const char **words;
    size_t nwords;
    pl_pos_t pos;
} pl_signal_def_t;

typedef struct {
    int signal; /* see pl_builtin_signal_t */
    double weight;
} pl_persona_signal_t;

typedef struct {
    const char *id;
    pl_persona_signal_t *signals;
    size_t nsignals;
    const char *tone; /* NULL: the bot's default tone */
    int emoji;        /* emoji allowed in replies */
    int max_options;  /* quick replies shown at most; 0: all */
    int patience;     /* misunderstandings before a human is offered; 0: the fallback's */
    pl_pos_t pos;
} pl_persona_t;

/* Something the bot can do, and on which channels (bit 1 << pl_channel_t). */
typedef struct {
    const char *id;
    const char *description; /* short, in the bot's language: "help you choose a camera" */
    int channels;
    const char *elsewhere; /* why not on the other channels, e.g. "needs a screen"; or NULL */
    pl_pos_t pos;
} pl_capability_t;

/* Something the bot cannot do, with where to go instead. */
typedef struct {
    const char *id;
    const char *description; /* "repair cameras" */
    const char *alternative; /* "our repair service: 030 1234567, Mon-Fri 9-18"; NULL: none */
    int *intents;            /* requests that ask for it */
    size_t nintents;
    pl_pos_t pos;
} pl_cannot_t;

/* How long behavioural signals (persona evidence, interests) stay usable by default. */
#define PL_DEFAULT_SIGNAL_MAX_AGE_MS (28 * 86400000LL)

/* Built-in intents every bot understands (in its language); a bot may give its own examples
 * under the same id. The answer to "are you a bot?" is always the built-in, truthful one. */
#define PL_INTENT_WHAT_CAN_YOU_DO "what_can_you_do"
#define PL_INTENT_ARE_YOU_A_BOT "are_you_a_bot"
#define PL_INTENT_TALK_TO_HUMAN "talk_to_human"
/* Privacy, on every channel (session/privacy.c answers them): */
#define PL_INTENT_STOP_PERSONALISING "stop_personalising"
#define PL_INTENT_FORGET_ME "forget_me"
#define PL_INTENT_NOT_INTERESTED "not_interested"
/* A code to link another channel (voice) to this customer: */
#define PL_INTENT_LINK_CHANNEL "link_channel"
/* 1 when id names a built-in intent. */
int pl_builtin_intent(const char *id);

/* The built-in intents by number: bot->builtin[i] is the intent's index in bot->intents
 * (-1 for a bot loaded without them), so a turn compares numbers, not names. */
typedef enum {
    PL_BUILTIN_WHAT_CAN_YOU_DO,
    PL_BUILTIN_ARE_YOU_A_BOT,
    PL_BUILTIN_TALK_TO_HUMAN,
    PL_BUILTIN_STOP_PERSONALISING,
    PL_BUILTIN_FORGET_ME,
    PL_BUILTIN_NOT_INTERESTED,
    PL_BUILTIN_LINK_CHANNEL,
    PL_BUILTIN_COUNT
} pl_builtin_t;

struct pl_bot;
/* 1 when intent (an index) is one of the bot's built-in intents. */
int pl_bot_is_builtin(const struct pl_bot *bot, int intent);

/* German address forms (dialog/address.c): PL_ADDRESS_DU | PL_ADDRESS_SIE bits for the forms
 * text uses: "du/dich/dir/dein..." and "Sie/Ihnen/Ihr..." with a capital inside a sentence. */
#define PL_ADDRESS_DU 1
#define PL_ADDRESS_SIE 2
int pl_address_of(const char *text);

typedef struct {
    pl_text_t say;      /* when the bot did not understand */
    int builtin_say;    /* say is parley's own text (the bot wrote none) */
    int escalate_after; /* misunderstandings in a row before escalating; 0: never */
    int escalate_flow;  /* flow to run then, -1 if none */
    pl_target_t escalate;
} pl_fallback_t;

typedef struct pl_bot {
    pl_arena_t arena;
    const char *id;
    const char *name;
    const char *language; /* "de" or "en" */
    const char *default_tone;
    const char **tones;
    size_t ntones;
    double threshold; /* minimum intent confidence */

    pl_intent_t *intents;
    size_t nintents;
    int builtin[PL_BUILTIN_COUNT]; /* see pl_builtin_t */
    pl_entity_t *entities;
    size_t nentities;
    pl_slot_t *slots;
    size_t nslots;
    pl_flow_t *flows;
    size_t nflows;
    pl_offer_t *offers;
    size_t noffers;
    pl_category_t *categories;
    size_t ncategories;
    int category_entity; /* the hidden list entity that finds categories in text; -1: none */
    pl_fallback_t fallback;

    pl_signal_def_t *signals; /* the bot's own signals */
    size_t nsignals;
    pl_persona_t *personas;
    size_t npersonas;
    int *tone_address;  /* per tone: PL_ADDRESS_* bits its German texts use */
    int uses_interests; /* some condition reads the interest profile */
    int64_t signal_max_age_ms; /* behavioural signals older than this are purged (28 days) */

    /* honesty: what the bot is and can do, per channel */
    const char *disclosure;   /* that it is automated; built in when the bot has none */
    const char *persona_name; /* personality: a name the bot goes by, or NULL */
    const char *voice_hints;  /* personality: how it should sound on voice, or NULL */
    pl_capability_t *caps;
    size_t ncaps;
    pl_cannot_t *cannots;
    size_t ncannots;
    const char *human[PL_CHANNEL_COUNT]; /* how to reach a person on each channel, or NULL */
    const char *human_hours;
    uint64_t persona_signals; /* bit i: some persona listens to signal i */

    const char **files; /* every file the bot was read from, main file first */
    size_t nfiles;
} pl_bot_t;

/* Loads the bot at path (and the files it includes), validates it and returns it in *out.
 * Every problem goes to d. Returns 0 when the bot has no errors (warnings allowed),
 * PL_EINVALID when it has errors, PL_ENOMEM. *out is set only on success; free it with
 * pl_bot_free. */
int pl_bot_load(const char *path, pl_diags_t *d, pl_bot_t **out);
/* The same for a main file whose text is in memory (len bytes, as read from a file);
 * name stands for its path in diagnostics and includes resolve relative to it. */
/* With PL_LOAD_NO_BUILTIN_INTENTS the bot gets only its own intents (for measuring how well a
 * data set's intents are recognised). */
#define PL_LOAD_NO_BUILTIN_INTENTS 1
int pl_bot_load_text(const char *name, const char *text, size_t len, int flags, pl_diags_t *d,
                     pl_bot_t **out);
void pl_bot_free(pl_bot_t *bot);

/* Lookups by id; -1 when absent. */
int pl_bot_intent(const pl_bot_t *bot, const char *id);
int pl_bot_flow(const pl_bot_t *bot, const char *id);
int pl_bot_slot(const pl_bot_t *bot, const char *id);
int pl_bot_offer(const pl_bot_t *bot, const char *id);
int pl_bot_entity(const pl_bot_t *bot, const char *id);
int pl_bot_persona(const pl_bot_t *bot, const char *id);
int pl_bot_tone(const pl_bot_t *bot, const char *tone);
int pl_flow_step(const pl_flow_t *flow, const char *id);

#endif
