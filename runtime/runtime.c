/* The turn pipeline (see runtime.h): normalise and understand → advance the flow → render.
 * The engine works on a copy of the state, so a failed turn loses nothing. */
#include "runtime.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/utf8.h"
#include "dialog/privacy.h"
#include "render/render.h"

#include <stdio.h>
#include <string.h>

struct pl_runtime {
    pl_bot_t *bot;
    pl_nlu_t *nlu;
    pl_persona_index_t *persona;
    int refs;
};

int pl_runtime_load(const char *path, pl_diags_t *d, pl_runtime_t **out)
{
    pl_bot_t *bot = NULL;
    int rc = pl_bot_load(path, d, &bot);
    if (rc != 0)
        return rc;
    pl_runtime_t *rt = pl_calloc(1, sizeof(*rt));
    if (rt == NULL || (rc = pl_nlu_new(bot, &rt->nlu)) != 0 ||
        (rc = pl_persona_index_new(bot, &rt->persona)) != 0) {
        if (rt != NULL)
            pl_nlu_free(rt->nlu);
        pl_free(rt);
        pl_bot_free(bot);
        return rc ? rc : PL_ENOMEM;
    }
    rt->bot = bot;
    rt->refs = 1;
    *out = rt;
    return 0;
}

pl_runtime_t *pl_runtime_ref(pl_runtime_t *rt)
{
    rt->refs++;
    return rt;
}

void pl_runtime_unref(pl_runtime_t *rt)
{
    if (rt == NULL || --rt->refs > 0)
        return;
    pl_nlu_free(rt->nlu);
    pl_persona_index_free(rt->persona);
    pl_bot_free(rt->bot);
    pl_free(rt);
}

const pl_bot_t *pl_runtime_bot(const pl_runtime_t *rt)
{
    return rt->bot;
}

const pl_nlu_t *pl_runtime_nlu(const pl_runtime_t *rt)
{
    return rt->nlu;
}

/* A reproducible seed for choosing among alternative texts, from the turn number: a replayed
 * conversation always says the same thing, so conversation tests are stable. */
static uint64_t turn_seed(const cJSON *state)
{
    const cJSON *turn = cJSON_GetObjectItemCaseSensitive(state, "turn");
    return (uint64_t)(cJSON_IsNumber(turn) ? turn->valueint : 0) * 0x9e3779b97f4a7c15ULL;
}

/* Behavioural signals (persona evidence and address form, the interest profile) may be used
 * for the bot's signal_max_age after the last message that gave any; older ones are purged
 * before this message is read, so nothing stale personalises a reply. Without consent to
 * personalisation, what the bot learnt and the conversation itself (slots, where it waits)
 * last one conversation only: until a pause of PL_CONVERSATION_GAP_MS. "signals_at" is when
 * the last message came. */
static int expire_signals(const pl_bot_t *bot, cJSON *state, int64_t now_ms)
{
    cJSON *at = cJSON_GetObjectItemCaseSensitive(state, "signals_at");
    int64_t gap = cJSON_IsNumber(at) ? now_ms - (int64_t)at->valuedouble : 0;
    if (!pl_consent_given(state, PL_CONSENT_PERSONALISATION)) {
        if (gap > PL_CONVERSATION_GAP_MS) {
            pl_personal_purge(state);
            pl_conversation_forget(state);
            at = NULL;
        }
    } else {
        if (cJSON_GetObjectItemCaseSensitive(state, "signals_seen") != NULL)
            pl_signals_expire(state, now_ms, bot->signal_max_age_ms); /* each by its own age */
        else if (gap > bot->signal_max_age_ms)
            pl_personal_purge(state); /* a state from before signals had their own times */
        /* a new conversation of a customer the bot may remember: the "returning" signal */
        if (gap > PL_CONVERSATION_GAP_MS && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                                 state, "returning"))) {
            cJSON_DeleteItemFromObjectCaseSensitive(state, "returning");
            if (cJSON_AddTrueToObject(state, "returning") == NULL)
                return PL_ENOMEM;
        }
        if (gap > bot->signal_max_age_ms)
            at = NULL;
    }
    if (cJSON_IsNumber(at)) {
        cJSON_SetNumberValue(at, (double)now_ms);
        return 0;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(state, "signals_at");
    return cJSON_AddNumberToObject(state, "signals_at", (double)now_ms) ? 0 : PL_ENOMEM;
}

/* Notes when and where behavioural signal PREFIX+name was last seen. */
static int note_signal(cJSON *state, const char *prefix, const char *name, const pl_event_t *ev)
{
    char key[160];
    snprintf(key, sizeof(key), "%s%s", prefix, name);
    return pl_signal_seen(state, key, ev->now_ms, ev->channel);
}

/* Signals of this message, then persona and tone, into the new state. What only some
 * signals need (the time of the previous message, its intent, consent) is looked up only when
 * a persona listens to them. */
static int read_persona(const pl_runtime_t *rt, cJSON *state, const pl_event_t *ev,
                        const char *text, pl_arena_t *scratch, pl_turn_t *out)
{
    const pl_bot_t *bot = rt->bot;
    uint64_t used = bot->persona_signals;
    int rc = expire_signals(bot, state, ev->now_ms);
    if (rc != 0)
        return rc;
    cJSON *ps = cJSON_GetObjectItemCaseSensitive(state, "persona");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(ps, "last_at");
    int64_t gap = cJSON_IsNumber(last) ? ev->now_ms - (int64_t)last->valuedouble : -1;
    int repeated = 0, returning = 0;
    if (used >> PL_SIG_HESITATION & 1) {
        /* asking the same again counts as hesitation within a sitting, not a month later */
        const char *prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state, "intent"));
        repeated = prev != NULL && out->nlu.intent >= 0 && gap >= 0 && gap < 30 * 60 * 1000 &&
                   strcmp(prev, bot->intents[out->nlu.intent].id) == 0;
    }
    if (used >> PL_SIG_RETURNING & 1)
        returning = pl_consent_given(state, PL_CONSENT_PERSONALISATION) &&
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "returning"));
    int forms = strcmp(bot->language, "de") == 0 ? pl_address_of(text) : 0;
    pl_signal_input_t si = {
        .text = text,
        .u = &out->nlu,
        .channel = ev->channel,
        .gap_ms = gap,
        .repeated = repeated,
        .returning = returning,
        .address_forms = forms,
    };
    rc = pl_signals_extract(rt->persona, &si, scratch, &out->signals);
    if (rc == 0)
        rc = pl_persona_update(bot, state, &out->signals, forms, &out->persona);
    for (int i = 0; rc == 0 && i < out->signals.n; i++)
        if ((used >> i & 1) && out->signals.v[i] >= 0.01)
            rc = note_signal(state, "persona.", pl_signal_name(bot, i), ev);
    /* saying "du" or "Sie" is the customer's own choice: it goes into the profile */
    if (rc == 0 && (forms == PL_ADDRESS_DU || forms == PL_ADDRESS_SIE))
        rc = pl_profile_set(state, "address", forms == PL_ADDRESS_DU ? "du" : "Sie", ev->now_ms,
                            ev->channel);
    /* an interest profile is kept only for customers who agreed to personalisation */
    if (rc == 0 && bot->uses_interests && pl_consent_given(state, PL_CONSENT_PERSONALISATION))
        rc = pl_interests_update(bot, state, &out->nlu, ev->now_ms, ev->channel);
    if (rc != 0 || (used >> PL_SIG_FAST_PACE & 1) == 0)
        return rc;
    if (!cJSON_IsObject(ps)) /* made by the persona update on the first turn */
        ps = cJSON_GetObjectItemCaseSensitive(state, "persona");
    cJSON *at = cJSON_GetObjectItemCaseSensitive(ps, "last_at");
    if (cJSON_IsNumber(at)) {
        cJSON_SetNumberValue(at, (double)ev->now_ms);
        return 0;
    }
    return cJSON_AddNumberToObject(ps, "last_at", (double)ev->now_ms) ? 0 : PL_ENOMEM;
}

/* The built-in intents that change the customer's whole state need a clear request: one of
 * these words (normalised: lower case, umlauts as ae/oe/ue), so that "stop" or "forget it"
 * do not withdraw consent or start erasing someone. */
static const char *const *privacy_anchors(const pl_bot_t *bot, int intent)
{
    static const char *const stop_en[] = {"personalis", "personaliz", "my data", "track",
                                          "consent", "remember", NULL};
    static const char *const stop_de[] = {"personalisier", "daten", "einwilligung", "merk",
                                          NULL};
    static const char *const forget_en[] = {"forget me", "about me", "who i am", "my data",
                                            "personal", NULL};
    static const char *const forget_de[] = {"vergiss mich", "ueber mich", "meine daten",
                                            "persoenlich", "vergiss alles", NULL};
    static const char *const notint_en[] = {"interest", "offer", "no more", NULL};
    static const char *const notint_de[] = {"interesse", "angebot", "anbiet", "nicht mehr",
                                            NULL};
    int de = strcmp(bot->language, "de") == 0;
    if (intent == bot->builtin[PL_BUILTIN_STOP_PERSONALISING])
        return de ? stop_de : stop_en;
    if (intent == bot->builtin[PL_BUILTIN_FORGET_ME])
        return de ? forget_de : forget_en;
    if (intent == bot->builtin[PL_BUILTIN_NOT_INTERESTED])
        return de ? notint_de : notint_en;
    return NULL;
}

/* Whether a recognised privacy request is clear enough to act on. */
static int clear_request(const pl_bot_t *bot, const pl_understanding_t *u, const char *text,
                         size_t len)
{
    const char *const *anchors = privacy_anchors(bot, u->intent);
    if (anchors == NULL)
        return 1;
    if (u->confidence < PL_PRIVACY_MIN_CONFIDENCE)
        return 0;
    pl_strbuf_t norm;
    pl_strbuf_init(&norm, PL_MAX_MESSAGE_BYTES * 4);
    int found = 0;
    if (pl_nlu_normalize(text, len, &norm) == 0)
        for (size_t i = 0; anchors[i] != NULL && !found; i++)
            found = strstr(pl_strbuf_str(&norm), anchors[i]) != NULL;
    pl_strbuf_cleanup(&norm);
    return found;
}

int pl_runtime_turn(const pl_runtime_t *rt, cJSON **state, const pl_event_t *ev,
                    pl_arena_t *scratch, pl_turn_t *out)
{
    int message = ev->kind == PL_EVENT_MESSAGE;
    if ((unsigned)ev->kind > PL_EVENT_SESSION_END)
        return PL_EINVAL;
    if (!message && ev->kind < PL_EVENT_LAUNCH && (ev->offer == NULL || strlen(ev->offer) > 128))
        return PL_EINVAL;
    if (message && ev->len > PL_MAX_MESSAGE_BYTES)
        return PL_ELIMIT;
    if (message && !pl_utf8_valid(ev->text, ev->len))
        return PL_EINVAL;
    char *text = message ? pl_arena_strndup(scratch, ev->text, ev->len) : pl_arena_strdup(scratch, "");
    if (text == NULL)
        return PL_ENOMEM;
    memset(out, 0, sizeof(*out));
    out->channel = ev->channel;
    out->nlu.intent = -1;
    int rc = message ? pl_nlu_understand(rt->nlu, text, ev->len, scratch, &out->nlu) : 0;
    if (rc != 0)
        return rc;
    if (out->nlu.intent >= 0 && !clear_request(rt->bot, &out->nlu, text, ev->len))
        out->nlu.intent = -1; /* "keine Ahnung" or "stop" must not stop personalisation */
    if (message && ev->intent != NULL) {
        /* a voice platform understood the intent already (the skill's own model) */
        int i = pl_bot_intent(rt->bot, ev->intent);
        if (i < 0)
            return PL_EINVAL;
        out->nlu.intent = i;
        out->nlu.confidence = 1.0;
    }
    cJSON *next = *state ? cJSON_Duplicate(*state, 1) : cJSON_CreateObject();
    if (next == NULL)
        return PL_ENOMEM;
    /* pressing a button says nothing about how the customer writes */
    rc = message ? read_persona(rt, next, ev, text, scratch, out) : 0;
    if (rc != 0) {
        cJSON_Delete(next);
        return rc;
    }
    pl_input_t in = {
        .kind = ev->kind,
        .offer = ev->offer,
        .text = text,
        .channel = ev->channel,
        .now_ms = ev->now_ms,
        .intent = out->nlu.intent,
        .confidence = out->nlu.confidence,
        .entities = out->nlu.entities,
        .nentities = out->nlu.nentities,
    };
    rc = pl_engine_turn(rt->bot, next, &in, scratch, &out->actions);
    if (rc == 0) {
        const char *tone = pl_state_tone(next);
        rc = pl_render(rt->bot, next, &out->actions, ev->channel, tone, turn_seed(next), scratch,
                       &out->reply);
    }
    if (rc == 0 && out->actions.erase) {
        /* "forget me": nothing of the customer is kept, not even in this state */
        cJSON_Delete(next);
        next = cJSON_CreateObject();
        out->erase = 1;
        if (next == NULL)
            rc = PL_ENOMEM;
    }
    out->link_code = out->actions.link_code;
    if (rc != 0) {
        cJSON_Delete(next);
        return rc;
    }
    cJSON_Delete(*state);
    *state = next;
    return 0;
}
