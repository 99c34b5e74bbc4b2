/* The flow engine (see engine.h): advances a conversation by one customer message.
 * It fills slots from entities, runs steps until the bot must wait for the customer (an
 * 'ask') or the flow ends, and falls back with escalation when it did not understand. */
#include "dialog/engine.h"
#include "base/error.h"
#include "dialog/cursors.h"
#include "dialog/offers.h"
#include "dialog/privacy.h"
#include "dialog/yes_no.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STEP_BUDGET 64    /* steps one turn may run before the engine assumes a loop */
#define FREE_TEXT_MAX 500 /* bytes of free text kept in a slot */
#define DAY_MS 86400000LL

typedef struct {
    const pl_bot_t *bot;
    cJSON *state;
    const pl_input_t *in;
    pl_arena_t *scratch;
    pl_actions_t *out;
    char used[64]; /* entity matches already consumed by a slot this turn */
    int oom;
} turn_t;

static void trace(turn_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(turn_t *t, const char *fmt, ...)
{
    if (t->out->ntrace == PL_MAX_TRACE)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    const char *s = pl_arena_strdup(t->scratch, buf);
    if (s == NULL)
        t->oom = 1;
    else
        t->out->trace[t->out->ntrace++] = s;
}

static void emit(turn_t *t, pl_action_kind_t kind, const pl_text_t *text, const char *const *qr,
                 size_t nqr, const char *offer)
{
    if (t->out->n == PL_MAX_ACTIONS)
        return;
    pl_action_t *a = &t->out->items[t->out->n++];
    a->kind = kind;
    a->text = text && text->nvariants ? text : NULL;
    a->quick_replies = qr;
    a->nquick_replies = nqr;
    a->offer = offer;
}

/* ---- state helpers: each returns 0 or sets t->oom ---- */

static cJSON *obj(turn_t *t, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(t->state, key);
    if (cJSON_IsObject(o))
        return o;
    cJSON_DeleteItemFromObjectCaseSensitive(t->state, key);
    o = cJSON_AddObjectToObject(t->state, key);
    if (o == NULL)
        t->oom = 1;
    return o;
}

static void set_str(turn_t *t, cJSON *o, const char *key, const char *v)
{
    cJSON *item = cJSON_CreateString(v);
    if (item == NULL ||
        !(cJSON_HasObjectItem(o, key) ? cJSON_ReplaceItemInObjectCaseSensitive(o, key, item)
                                      : cJSON_AddItemToObject(o, key, item))) {
        cJSON_Delete(item);
        t->oom = 1;
    }
}

static void set_num(turn_t *t, cJSON *o, const char *key, double v)
{
    cJSON *item = cJSON_CreateNumber(v);
    if (item == NULL ||
        !(cJSON_HasObjectItem(o, key) ? cJSON_ReplaceItemInObjectCaseSensitive(o, key, item)
                                      : cJSON_AddItemToObject(o, key, item))) {
        cJSON_Delete(item);
        t->oom = 1;
    }
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int get_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static void set_position(turn_t *t, const pl_flow_t *f, const pl_step_t *st)
{
    if (f == NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->state, "flow");
        cJSON_DeleteItemFromObjectCaseSensitive(t->state, "step");
        return;
    }
    set_str(t, t->state, "flow", f->id);
    set_str(t, t->state, "step", st->id);
}

const char *pl_state_persona(const cJSON *state)
{
    return get_str(cJSON_GetObjectItemCaseSensitive(state, "persona"), "id");
}

const char *pl_state_tone(const cJSON *state)
{
    return get_str(cJSON_GetObjectItemCaseSensitive(state, "persona"), "tone");
}

/* ---- slots ---- */

static const cJSON *slot_value(turn_t *t, const char *slot)
{
    const cJSON *slots = cJSON_GetObjectItemCaseSensitive(t->state, "slots");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(slots, slot);
    return (cJSON_IsString(v) || cJSON_IsNumber(v)) ? v : NULL;
}

static void note_fact(turn_t *t, const char *key, int confirmed)
{
    if (pl_fact_note(t->state, key, t->in->now_ms, t->in->channel, confirmed) != 0)
        t->oom = 1;
}

static void note_slot(turn_t *t, const pl_slot_t *slot)
{
    char key[160];
    snprintf(key, sizeof(key), "slots.%s", slot->id);
    note_fact(t, key, 0);
}

static int slot_confirmed(turn_t *t, const pl_slot_t *slot)
{
    char key[160];
    snprintf(key, sizeof(key), "slots.%s", slot->id);
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->state, "facts"), key),
        "confirmed"));
}

/* Fills slot from this turn's entities (or free text when asked). Returns 1 when filled. */
static int fill_slot(turn_t *t, const pl_slot_t *slot, int asked)
{
    const pl_input_t *in = t->in;
    cJSON *slots = obj(t, "slots");
    if (slots == NULL)
        return 0;
    if (slot->entity < 0) {
        if (!asked)
            return 0;
        size_t len = strlen(in->text);
        while (len > 0 && (in->text[len - 1] == ' ' || in->text[len - 1] == '\n'))
            len--;
        const char *s = in->text;
        while (len > 0 && *s == ' ')
            s++, len--;
        if (len == 0)
            return 0;
        if (len > FREE_TEXT_MAX) {
            len = FREE_TEXT_MAX;
            while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
                len--; /* do not cut a UTF-8 character in half */
        }
        char *v = pl_arena_strndup(t->scratch, s, len);
        if (v == NULL) {
            t->oom = 1;
            return 0;
        }
        set_str(t, slots, slot->id, v);
        note_slot(t, slot);
        return 1;
    }
    const pl_entity_t *en = &t->bot->entities[slot->entity];
    for (size_t i = 0; i < in->nentities && i < sizeof(t->used); i++) {
        const pl_entity_match_t *m = &in->entities[i];
        if (m->entity != slot->entity || t->used[i])
            continue;
        /* a bare number counts as money only as the answer to a money question */
        if (en->kind == PL_ENTITY_MONEY && m->currency == NULL && !asked)
            continue;
        if (en->kind == PL_ENTITY_NUMBER || en->kind == PL_ENTITY_MONEY)
            set_num(t, slots, slot->id, m->number);
        else
            set_str(t, slots, slot->id, m->value);
        if (en->kind == PL_ENTITY_MONEY) {
            /* the amount is kept as a number; its currency beside it, for printing */
            cJSON *cur = obj(t, "slot_currency");
            if (cur != NULL && m->currency != NULL)
                set_str(t, cur, slot->id, m->currency);
            else if (cur != NULL)
                cJSON_DeleteItemFromObjectCaseSensitive(cur, slot->id);
        }
        note_slot(t, slot);
        /* the same words fill one slot only: "300 dollars" is a budget, not also a count */
        for (size_t j = 0; j < in->nentities && j < sizeof(t->used); j++)
            if (in->entities[j].start < m->end && m->start < in->entities[j].end)
                t->used[j] = 1;
        return 1;
    }
    return 0;
}

/* Fills, from this turn's entities, every slot that the flow asks for. Plain number slots
 * come last: the digits of "300 dollars" belong to the budget, not to "how many". */
static void fill_flow_slots(turn_t *t, const pl_flow_t *f)
{
    for (int numbers = 0; numbers < 2; numbers++) {
        for (size_t i = 0; i < f->nsteps; i++) {
            const pl_step_t *st = &f->steps[i];
            if (st->kind != PL_STEP_ASK || st->slot < 0)
                continue;
            const pl_slot_t *slot = &t->bot->slots[st->slot];
            if (slot->entity < 0 ||
                (t->bot->entities[slot->entity].kind == PL_ENTITY_NUMBER) != numbers)
                continue;
            if (fill_slot(t, slot, 0))
                trace(t, "filled slot '%s' from the message", slot->id);
        }
    }
}

/* ---- conditions ---- */

static int slot_is(const cJSON *v, const char *want)
{
    if (cJSON_IsString(v))
        return strcasecmp(v->valuestring, want) == 0;
    char *end;
    double w = strtod(want, &end);
    return end != want && *end == '\0' && fabs(v->valuedouble - w) < 1e-9;
}

static int eval(turn_t *t, const pl_cond_t *c)
{
    const cJSON *st = t->state;
    switch (c->kind) {
    case PL_COND_SLOT: {
        const cJSON *v = slot_value(t, c->name);
        switch (c->op) {
        case PL_SLOT_FILLED:
            return v != NULL;
        case PL_SLOT_EMPTY:
            return v == NULL;
        case PL_SLOT_IS:
            return v != NULL && slot_is(v, c->value);
        case PL_SLOT_IS_NOT:
            return v == NULL || !slot_is(v, c->value);
        case PL_SLOT_BELOW:
            return cJSON_IsNumber(v) && v->valuedouble < c->number;
        case PL_SLOT_ABOVE:
            return cJSON_IsNumber(v) && v->valuedouble > c->number;
        }
        return 0;
    }
    case PL_COND_INTENT: {
        const char *i = get_str(st, "intent");
        return i != NULL && strcmp(i, c->name) == 0;
    }
    case PL_COND_CHANNEL:
        return (int)t->in->channel == c->index;
    case PL_COND_PERSONA: {
        const char *p = pl_state_persona(st);
        return p != NULL && strcmp(p, c->name) == 0;
    }
    case PL_COND_TONE: {
        const char *tone = pl_state_tone(st);
        return strcmp(tone ? tone : t->bot->default_tone, c->name) == 0;
    }
    case PL_COND_CONSENT:
        return pl_consent_given(st, c->name);
    case PL_COND_OFFERED:
        return pl_offer_snapshot(st, c->name) != NULL;
    case PL_COND_DECLINED:
    case PL_COND_ACCEPTED: {
        const cJSON *snap = pl_offer_snapshot(st, c->name);
        return snap != NULL &&
               strcmp(pl_offer_status(snap),
                      c->kind == PL_COND_DECLINED ? "declined" : "accepted") == 0;
    }
    case PL_COND_OPEN_OFFER:
        return c->index < 0 ? pl_offers_any_open(st)
                            : pl_offer_is_open(pl_offer_snapshot(st, c->name));
    case PL_COND_INTEREST: {
        const char *i = get_str(st, "interest");
        return i != NULL && strcmp(i, c->name) == 0;
    }
    case PL_COND_ALL:
        for (size_t i = 0; i < c->nkids; i++)
            if (!eval(t, &c->kids[i]))
                return 0;
        return 1;
    case PL_COND_ANY:
        for (size_t i = 0; i < c->nkids; i++)
            if (eval(t, &c->kids[i]))
                return 1;
        return 0;
    case PL_COND_NOT:
        return c->nkids == 1 && !eval(t, &c->kids[0]);
    }
    return 0;
}

/* ---- offers ---- */

static void remember_pending(turn_t *t, const char *kind, const char *offer);

/* Why offer o may not be presented now, or NULL when it may. */
static const char *not_presentable(turn_t *t, const pl_offer_t *o, const cJSON *snap)
{
    if (snap != NULL && !pl_offer_is_open(snap))
        return pl_offer_status(snap); /* closed offers never come back, on any channel */
    if (!(o->channels >> t->in->channel & 1))
        return "not for this channel";
    if (snap != NULL)
        return NULL;
    if (o->category >= 0 && pl_suppressed(t->state, t->bot->categories[o->category].id))
        return "its category is suppressed";
    if (o->personal && !pl_consent_given(t->state, PL_CONSENT_PERSONALISATION))
        return "personalised, without consent";
    if (o->has_when && !eval(t, &o->when))
        return "not eligible";
    if (o->valid_until_ms && o->valid_until_ms <= t->in->now_ms)
        return "ended";
    return NULL;
}

/* Makes the offer: copies its terms into state (a snapshot), unless an open snapshot of it
 * exists, in which case the same terms are presented again. An offer that was closed, is
 * not for this channel, not eligible or suppressed is left out (the flow goes on). */
static void make_offer(turn_t *t, const pl_offer_t *o)
{
    cJSON *snap = pl_offer_snapshot(t->state, o->id);
    const char *why = not_presentable(t, o, snap);
    if (why != NULL) {
        trace(t, "offer '%s' not presented: %s", o->id, why);
        return;
    }
    if (snap != NULL) {
        trace(t, "offer '%s' presented again with its original terms", o->id);
    } else if (pl_offer_snapshot_new(t->bot, t->state, o, t->in->now_ms, t->in->channel) != 0) {
        t->oom = 1;
        return;
    }
    emit(t, PL_ACT_OFFER, &o->text, NULL, 0, o->id);
    remember_pending(t, "offer", o->id);
}

/* ---- running steps ---- */

/* Moves the position (flow fi, step si) to where target tg points. */
static void follow(int *fi, int *si, const pl_target_t *tg)
{
    if (tg->flow >= 0) {
        *fi = tg->flow;
        *si = 0;
    } else {
        *si = tg->step;
    }
}

static void ask(turn_t *t, const pl_flow_t *f, const pl_step_t *st, int again)
{
    const pl_slot_t *slot = &t->bot->slots[st->slot];
    const pl_text_t *text = again && slot->reprompt.nvariants ? &slot->reprompt : &slot->prompt;
    const char *const *qr = st->nquick_replies ? st->quick_replies : slot->quick_replies;
    size_t nqr = st->nquick_replies ? st->nquick_replies : slot->nquick_replies;
    emit(t, PL_ACT_SAY, text, qr, nqr, NULL);
    set_position(t, f, st);
}

static const char *const *yes_no(const pl_bot_t *bot);

/* "Shall I call you Alex?": the value waits for the customer's yes at this step. */
static void ask_confirmation(turn_t *t, const pl_flow_t *f, const pl_step_t *st)
{
    emit(t, PL_ACT_SAY, &t->bot->slots[st->slot].confirm, yes_no(t->bot), 2, NULL);
    set_str(t, t->state, "confirming", t->bot->slots[st->slot].id);
    set_position(t, f, st);
}

/* Notes in state that the conversation was handed to a person: when, where, from which flow. */
static void record_handoff(turn_t *t, const char *from)
{
    cJSON *h = cJSON_CreateObject();
    if (h == NULL || !cJSON_AddNumberToObject(h, "at", (double)t->in->now_ms) ||
        !cJSON_AddStringToObject(h, "channel", pl_channel_name(t->in->channel)) ||
        !cJSON_AddStringToObject(h, "from", from)) {
        cJSON_Delete(h);
        t->oom = 1;
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(t->state, "handoff");
    if (!cJSON_AddItemToObject(t->state, "handoff", h)) {
        cJSON_Delete(h);
        t->oom = 1;
    }
}

static const char *const *yes_no(const pl_bot_t *bot)
{
    static const char *const en[] = {"Yes", "No"}, *const de[] = {"Ja", "Nein"};
    return strcmp(bot->language, "de") == 0 ? de : en;
}

/* Runs from step si of flow fi until the bot waits for the customer or the flow ends. */
static void run(turn_t *t, int fi, int si)
{
    const pl_bot_t *bot = t->bot;
    set_num(t, t->state, "attempts", 0);
    for (int budget = 0; budget < STEP_BUDGET && !t->oom; budget++) {
        const pl_flow_t *f = &bot->flows[fi];
        if (si < 0 || (size_t)si >= f->nsteps) {
            trace(t, "flow '%s' ran past its last step; conversation is idle", f->id);
            set_position(t, NULL, NULL);
            return;
        }
        const pl_step_t *st = &f->steps[si];
        switch (st->kind) {
        case PL_STEP_SAY:
            emit(t, PL_ACT_SAY, &st->text, st->quick_replies, st->nquick_replies, NULL);
            break;
        case PL_STEP_ASK:
            if (slot_value(t, bot->slots[st->slot].id) != NULL &&
                bot->slots[st->slot].confirm.nvariants > 0 &&
                !slot_confirmed(t, &bot->slots[st->slot])) {
                ask_confirmation(t, f, st);
                return;
            }
            if (slot_value(t, bot->slots[st->slot].id) != NULL) {
                trace(t, "slot '%s' already filled; step '%s' skipped", bot->slots[st->slot].id,
                      st->id);
                break;
            }
            ask(t, f, st, 0);
            return;
        case PL_STEP_BRANCH: {
            size_t b;
            for (b = 0; b < st->nbranches; b++)
                if (eval(t, &st->branches[b].cond))
                    break;
            if (b < st->nbranches) {
                trace(t, "branch '%s' took arm %zu", st->id, b + 1);
                follow(&fi, &si, &st->branches[b].target);
                continue;
            }
            break;
        }
        case PL_STEP_GOTO:
            follow(&fi, &si, &st->next);
            continue;
        case PL_STEP_OFFER:
            make_offer(t, &bot->offers[st->offer]);
            break;
        case PL_STEP_CONSENT:
            if (pl_consent_answered(t->state, PL_CONSENT_PERSONALISATION)) {
                trace(t, "consent already answered; step '%s' skipped", st->id);
                break;
            }
            emit(t, PL_ACT_SAY, &st->text, yes_no(bot), 2, NULL);
            trace(t, "asked for consent to personalisation");
            set_position(t, f, st);
            return;
        case PL_STEP_HANDOFF:
            emit(t, PL_ACT_HANDOFF, &st->text, NULL, 0, NULL);
            trace(t, "handed off to a human in flow '%s'", f->id);
            record_handoff(t, f->id);
            set_position(t, NULL, NULL);
            return;
        case PL_STEP_END:
            emit(t, PL_ACT_SAY, &st->text, NULL, 0, NULL);
            set_position(t, NULL, NULL);
            return;
        }
        if (st->has_next)
            follow(&fi, &si, &st->next);
        else
            si++;
    }
    if (!t->oom) {
        trace(t, "more than %d steps in one turn; the flow was stopped", STEP_BUDGET);
        set_position(t, NULL, NULL);
    }
}

/* Goes on after the step the conversation waited at: its jump, or the next step. */
static void run_after(turn_t *t, int fi, int si)
{
    const pl_step_t *st = &t->bot->flows[fi].steps[si];
    if (st->has_next)
        follow(&fi, &si, &st->next);
    else
        si++;
    run(t, fi, si);
}

static void start_flow(turn_t *t, int fi)
{
    const pl_flow_t *f = &t->bot->flows[fi];
    if (f->capability >= 0 && !(t->bot->caps[f->capability].channels >> t->in->channel & 1)) {
        /* never run what this channel cannot do: say where it is available instead */
        trace(t, "flow '%s' is not available on %s", f->id, pl_channel_name(t->in->channel));
        emit(t, PL_ACT_UNAVAILABLE, NULL, NULL, 0, NULL);
        t->out->items[t->out->n - 1].index = f->capability;
        set_position(t, NULL, NULL);
        return;
    }
    trace(t, "started flow '%s'", t->bot->flows[fi].id);
    fill_flow_slots(t, &t->bot->flows[fi]);
    run(t, fi, 0);
}

static int flow_for_intent(const pl_bot_t *bot, int intent)
{
    if (intent < 0)
        return -1;
    for (size_t fi = 0; fi < bot->nflows; fi++)
        for (size_t k = 0; k < bot->flows[fi].ntriggers; k++)
            if (bot->flows[fi].trigger_idx[k] == intent)
                return (int)fi;
    return -1;
}

static void not_understood(turn_t *t)
{
    const pl_fallback_t *fb = &t->bot->fallback;
    int n = get_int(t->state, "misunderstood") + 1;
    t->out->understood = 0;
    /* some customers forgive a bot nothing: their persona's patience comes first */
    int after = fb->escalate_after;
    int p = pl_bot_persona(t->bot, pl_state_persona(t->state));
    if (p >= 0 && t->bot->personas[p].patience > 0 && fb->escalate_flow >= 0)
        after = t->bot->personas[p].patience;
    if (after > 0 && n >= after && fb->escalate_flow >= 0) {
        trace(t, "%d misunderstandings in a row; escalating to flow '%s'", n,
              t->bot->flows[fb->escalate_flow].id);
        set_num(t, t->state, "misunderstood", 0);
        run(t, fb->escalate_flow, 0);
        return;
    }
    set_num(t, t->state, "misunderstood", n);
    emit(t, PL_ACT_SAY, &fb->say, NULL, 0, NULL);
    if (fb->builtin_say) /* an honest "I did not understand", and what the bot can do */
        emit(t, PL_ACT_REMINDER, NULL, NULL, 0, NULL);
}

static int is_intent(turn_t *t, pl_builtin_t b)
{
    return t->in->intent >= 0 && t->in->intent == t->bot->builtin[b];
}

/* The built-in intents, "cannot" requests, and flows not available on this channel: answered
 * here instead of running a flow. At a question, the question is asked again afterwards.
 * Returns 1 when the message was answered. */
static int answered_honestly(turn_t *t, int fi, int si, int wanted)
{
    const pl_bot_t *bot = t->bot;
    const pl_input_t *in = t->in;
    if (in->intent < 0)
        return 0;
    pl_action_kind_t kind;
    int index = 0;
    if (is_intent(t, PL_BUILTIN_ARE_YOU_A_BOT)) {
        kind = PL_ACT_DISCLOSURE;
        if (t->out->n > 0 && t->out->items[0].kind == PL_ACT_CAPABILITIES) {
            /* this reply opens with the disclosure already: say it once */
            set_num(t, t->state, "misunderstood", 0);
            if (fi >= 0 && si >= 0 && bot->flows[fi].steps[si].kind == PL_STEP_ASK)
                ask(t, &bot->flows[fi], &bot->flows[fi].steps[si], 0);
            return 1;
        }
    } else if (is_intent(t, PL_BUILTIN_WHAT_CAN_YOU_DO) && wanted < 0) {
        kind = PL_ACT_REMINDER;
    } else if (is_intent(t, PL_BUILTIN_TALK_TO_HUMAN) && wanted < 0) {
        emit(t, PL_ACT_HANDOFF, NULL, NULL, 0, NULL);
        trace(t, "handed off to a human (built in)");
        record_handoff(t, "built-in");
        set_position(t, NULL, NULL);
        return 1;
    } else if (wanted >= 0 && bot->flows[wanted].capability >= 0 &&
               !(bot->caps[bot->flows[wanted].capability].channels >> in->channel & 1)) {
        kind = PL_ACT_UNAVAILABLE;
        index = bot->flows[wanted].capability;
        trace(t, "flow '%s' is not available on %s", bot->flows[wanted].id,
              pl_channel_name(in->channel));
    } else {
        int c = -1;
        for (size_t k = 0; k < bot->ncannots && c < 0; k++)
            for (size_t i = 0; i < bot->cannots[k].nintents; i++)
                if (bot->cannots[k].intents[i] == in->intent)
                    c = (int)k;
        if (c < 0)
            return 0;
        kind = PL_ACT_CANNOT;
        index = c;
    }
    emit(t, kind, NULL, NULL, 0, NULL);
    t->out->items[t->out->n - 1].index = index;
    set_num(t, t->state, "misunderstood", 0);
    if (fi >= 0 && si >= 0 && bot->flows[fi].steps[si].kind == PL_STEP_ASK)
        ask(t, &bot->flows[fi], &bot->flows[fi].steps[si], 0);
    return 1;
}

/* ---- offers answered, privacy, yes/no questions ---- */

/* The bot's question to the customer (a yes/no one that is not part of a flow): remembered
 * for the next message on the same channel only. */
static void remember_pending(turn_t *t, const char *kind, const char *offer)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL || !cJSON_AddStringToObject(p, "kind", kind) ||
        !cJSON_AddStringToObject(p, "channel", pl_channel_name(t->in->channel)) ||
        (offer != NULL && !cJSON_AddStringToObject(p, "offer", offer))) {
        cJSON_Delete(p);
        t->oom = 1;
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(t->state, "pending");
    if (!cJSON_AddItemToObject(t->state, "pending", p)) {
        cJSON_Delete(p);
        t->oom = 1;
    }
}

static void notice(turn_t *t, pl_notice_t n, const char *subject)
{
    emit(t, PL_ACT_NOTICE, NULL, NULL, 0, subject);
    t->out->items[t->out->n - 1].index = (int)n;
}

/* After a side answer, the question the conversation waits at is asked again. */
static void ask_again(turn_t *t, int fi, int si)
{
    if (fi < 0 || si < 0)
        return;
    const pl_step_t *st = &t->bot->flows[fi].steps[si];
    if (st->kind == PL_STEP_ASK)
        ask(t, &t->bot->flows[fi], st, 0);
    else if (st->kind == PL_STEP_CONSENT &&
             pl_consent_answered(t->state, PL_CONSENT_PERSONALISATION))
        run_after(t, fi, si); /* answered meanwhile ("stop personalising"): not asked again */
    else if (st->kind == PL_STEP_CONSENT)
        emit(t, PL_ACT_SAY, &st->text, yes_no(t->bot), 2, NULL);
}

/* Accept or decline: the snapshot closes for every channel. */
static void answer_offer(turn_t *t, const char *id, int accept)
{
    cJSON *snap = id ? pl_offer_snapshot(t->state, id) : NULL;
    if (!pl_offer_is_open(snap)) {
        trace(t, "offer '%s' is not open (%s); nothing changed", id ? id : "",
              snap ? pl_offer_status(snap) : "never made");
        notice(t, PL_NOTICE_OFFER_CLOSED, id);
        return;
    }
    if (pl_offer_close(snap, accept ? "accepted" : "declined", t->in->now_ms, t->in->channel)) {
        t->oom = 1;
        return;
    }
    trace(t, "offer '%s' %s", id, accept ? "accepted" : "declined");
    notice(t, accept ? PL_NOTICE_OFFER_ACCEPTED : PL_NOTICE_OFFER_DECLINED, id);
}

/* The category the customer named in this message, or NULL. */
static const char *named_category(turn_t *t)
{
    for (size_t i = 0; i < t->in->nentities; i++)
        if (t->in->entities[i].entity == t->bot->category_entity)
            return t->in->entities[i].value;
    return NULL;
}

/* A voice platform opened, stopped or ended a session. Launch always says what the bot is
 * (a new session may be a new listener), then runs the bot's greeting: the flow its intent
 * "greet" starts, if it has one. */
static void answered_session(turn_t *t, pl_event_kind_t kind)
{
    set_position(t, NULL, NULL);
    if (kind == PL_EVENT_LAUNCH) {
        if (t->out->n == 0 || t->out->items[0].kind != PL_ACT_CAPABILITIES)
            emit(t, PL_ACT_CAPABILITIES, NULL, NULL, 0, NULL);
        int greet = flow_for_intent(t->bot, pl_bot_intent(t->bot, "greet"));
        if (greet >= 0)
            start_flow(t, greet);
        trace(t, "voice session opened");
    } else if (kind == PL_EVENT_STOP) {
        notice(t, PL_NOTICE_GOODBYE, NULL);
        trace(t, "the customer stopped; this channel's place is dropped");
    } else if (kind == PL_EVENT_HOME) {
        emit(t, PL_ACT_REMINDER, NULL, NULL, 0, NULL);
        trace(t, "back to the start");
    } else {
        trace(t, "the voice session ended; this channel's place is dropped");
    }
}

/* What the session did with a link code: shown one, or linked this channel (or not). */
static void answered_link(turn_t *t, const pl_input_t *in)
{
    const char *what = in->offer ? in->offer : "";
    if (in->kind == PL_EVENT_LINK_CODE) {
        trace(t, what[0] ? "showed a link code" : "no link code: the customer is not signed in");
        notice(t, what[0] ? PL_NOTICE_LINK_CODE : PL_NOTICE_LINK_SIGN_IN, what);
        return;
    }
    pl_notice_t n = strcmp(what, "linked") == 0    ? PL_NOTICE_LINKED
                    : strcmp(what, "limited") == 0 ? PL_NOTICE_LINK_LIMITED
                                                   : PL_NOTICE_LINK_DENIED;
    trace(t, "link code said: %s", n == PL_NOTICE_LINKED    ? "this channel is linked"
                                   : n == PL_NOTICE_LINK_LIMITED ? "too many wrong codes"
                                                                 : "not a valid code");
    notice(t, n, NULL);
}

/* Offer buttons, answers to the bot's last yes/no question, and the privacy requests every
 * channel understands. Returns 1 when the message was answered here. */
static int answered_builtin(turn_t *t, const char *pending, const char *pending_offer, int fi,
                            int si)
{
    const pl_input_t *in = t->in;
    if (in->kind >= PL_EVENT_LAUNCH) {
        answered_session(t, in->kind);
        return 1;
    }
    if (in->kind == PL_EVENT_LINK_CODE || in->kind == PL_EVENT_LINK_RESULT) {
        answered_link(t, in);
        ask_again(t, fi, si);
        return 1;
    }
    if (in->kind != PL_EVENT_MESSAGE) {
        answer_offer(t, in->offer, in->kind == PL_EVENT_ACCEPT_OFFER);
        ask_again(t, fi, si);
        return 1;
    }
    if (is_intent(t, PL_BUILTIN_LINK_CHANNEL)) {
        /* the session shows a code when the customer is signed in; until then, or without a
         * session, the honest answer is that they must sign in first */
        trace(t, "a code to link another channel was asked for");
        notice(t, PL_NOTICE_LINK_SIGN_IN, NULL);
        t->out->link_code = 1;
        ask_again(t, fi, si);
        return 1;
    }
    int answer = pending != NULL ? pl_yes_no(t->bot->language, in->text) : 0;
    int yes = answer > 0, no = answer < 0;
    if (pending != NULL && (yes || no) && strcmp(pending, "offer") == 0) {
        answer_offer(t, pending_offer, yes);
        return 1;
    }
    if (pending != NULL && (yes || no) && strcmp(pending, "forget") == 0) {
        if (no) {
            notice(t, PL_NOTICE_FORGET_KEPT, NULL);
            ask_again(t, fi, si);
            return 1;
        }
        trace(t, "the customer confirmed 'forget me': everything about them is erased");
        notice(t, PL_NOTICE_FORGOTTEN, NULL);
        t->out->erase = 1;
        set_position(t, NULL, NULL);
        return 1;
    }
    if (is_intent(t, PL_BUILTIN_STOP_PERSONALISING)) {
        if (pl_consent_set(t->state, PL_CONSENT_PERSONALISATION, 0, in->now_ms, in->channel))
            t->oom = 1;
        pl_profile_purge(t->state);
        trace(t, "personalisation stopped on every channel; what it had learnt is deleted");
        notice(t, PL_NOTICE_STOPPED, NULL);
        ask_again(t, fi, si);
        return 1;
    }
    if (is_intent(t, PL_BUILTIN_FORGET_ME)) {
        trace(t, "'forget me' asked; waiting for the customer to confirm");
        notice(t, PL_NOTICE_FORGET_CONFIRM, NULL);
        t->out->items[t->out->n - 1].quick_replies = yes_no(t->bot);
        t->out->items[t->out->n - 1].nquick_replies = 2;
        remember_pending(t, "forget", NULL);
        return 1;
    }
    int answers = pending != NULL && strcmp(pending, "category") == 0 && named_category(t);
    if (!answers && !is_intent(t, PL_BUILTIN_NOT_INTERESTED))
        return 0;
    const char *cat = named_category(t);
    const cJSON *snap = pending_offer ? pl_offer_snapshot(t->state, pending_offer) : NULL;
    if (cat == NULL && snap != NULL) /* "not interested" right after an offer: its kind */
        cat = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "category"));
    if (cat != NULL) {
        if (pl_suppress(t->state, cat, in->now_ms, in->channel))
            t->oom = 1;
        trace(t, "offers of category '%s' suppressed on every channel", cat);
        notice(t, PL_NOTICE_SUPPRESSED, cat);
    } else if (snap != NULL) {
        answer_offer(t, pending_offer, 0);
    } else if (t->bot->ncategories > 0) {
        notice(t, PL_NOTICE_WHICH_CATEGORY, NULL);
        remember_pending(t, "category", NULL);
        return 1; /* the answer names the category; the question waits */
    } else {
        return 0;
    }
    ask_again(t, fi, si);
    return 1;
}

/* The customer's answer to a consent step: recorded for every channel, and the flow goes
 * on. Returns 0 when the message is no answer (nothing recorded; asked another time). */
static int answered_consent(turn_t *t, int fi, int si)
{
    int answer = pl_yes_no(t->bot->language, t->in->text), yes = answer > 0, no = answer < 0;
    if (!yes && !no) {
        trace(t, "no answer to the consent question; it is asked another time");
        set_position(t, NULL, NULL);
        return 0;
    }
    if (pl_consent_set(t->state, PL_CONSENT_PERSONALISATION, yes, t->in->now_ms, t->in->channel))
        t->oom = 1;
    trace(t, "consent to personalisation %s", yes ? "given" : "refused");
    notice(t, yes ? PL_NOTICE_CONSENT_GIVEN : PL_NOTICE_CONSENT_REFUSED, NULL);
    run_after(t, fi, si);
    return 1;
}

/* ---- confirmed slots and the profile ---- */

/* The customer's yes or no to "Shall I call you Alex?". Returns 1 when answered; anything
 * else is a new answer to the question itself. */
static int answered_confirmation(turn_t *t, int fi, int si)
{
    const char *confirming = get_str(t->state, "confirming");
    if (fi < 0 || si < 0 || confirming == NULL)
        return 0;
    const pl_flow_t *f = &t->bot->flows[fi];
    const pl_step_t *st = &f->steps[si];
    const pl_slot_t *slot = st->kind == PL_STEP_ASK ? &t->bot->slots[st->slot] : NULL;
    int answer = pl_yes_no(t->bot->language, t->in->text);
    if (slot == NULL || strcmp(slot->id, confirming) != 0 || answer == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->state, "confirming");
        return 0;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(t->state, "confirming");
    if (answer < 0) {
        trace(t, "the customer did not confirm slot '%s'; asked again", slot->id);
        cJSON_DeleteItemFromObjectCaseSensitive(obj(t, "slots"), slot->id);
        ask(t, f, st, 1);
        return 1;
    }
    char key[160];
    snprintf(key, sizeof(key), "slots.%s", slot->id);
    note_fact(t, key, 1);
    const cJSON *v = slot_value(t, slot->id);
    if (slot->profile_name && cJSON_IsString(v)) {
        /* a name is used only once the customer said it is theirs */
        if (pl_profile_set(t->state, "name", v->valuestring, t->in->now_ms, t->in->channel))
            t->oom = 1;
        trace(t, "the customer confirmed their name; it is in the profile");
    } else {
        trace(t, "the customer confirmed slot '%s'", slot->id);
    }
    run_after(t, fi, si);
    return 1;
}

/* ---- continuing on another channel ---- */

static void resolve_position(turn_t *t, int *fi, int *si);

/* The answer to "shall we continue where you left off there?". Returns 1 when answered. */
static int answered_resume(turn_t *t, const char *pending, const char *from_name, int *fi,
                           int *si)
{
    pl_channel_t from;
    if (pending == NULL || strcmp(pending, "resume") != 0 || from_name == NULL ||
        pl_channel_parse(from_name, &from) != 0)
        return 0;
    int answer = pl_yes_no(t->bot->language, t->in->text);
    if (answer == 0)
        return 0;
    if (answer < 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->state, "cursors"),
                                                from_name);
        trace(t, "the customer does not continue where they left off on %s", from_name);
        notice(t, PL_NOTICE_FRESH_START, NULL);
        return 1;
    }
    if (pl_cursor_take(t->state, from) != 0)
        t->oom = 1;
    resolve_position(t, fi, si);
    trace(t, "continued here where the customer left off on %s", from_name);
    ask_again(t, *fi, *si);
    return 1;
}

/* A message that answers the question another channel waits at ("900 euros" by voice after
 * the web asked for the budget) continues that conversation here. */
static void continued_elsewhere(turn_t *t, int *fi, int *si)
{
    pl_channel_t from;
    const cJSON *c = pl_cursor_elsewhere(t->state, t->in->channel, t->in->now_ms, &from);
    int f = c ? pl_bot_flow(t->bot, get_str(c, "flow")) : -1;
    int s = f >= 0 ? pl_flow_step(&t->bot->flows[f], get_str(c, "step")) : -1;
    if (s < 0 || t->bot->flows[f].steps[s].kind != PL_STEP_ASK)
        return;
    int entity = t->bot->slots[t->bot->flows[f].steps[s].slot].entity;
    size_t i = 0;
    while (entity >= 0 && i < t->in->nentities && t->in->entities[i].entity != entity)
        i++;
    if (entity < 0 || i == t->in->nentities)
        return;
    if (pl_cursor_take(t->state, from) != 0)
        t->oom = 1;
    resolve_position(t, fi, si);
    trace(t, "continued here where the customer left off on %s", pl_channel_name(from));
}

/* When another channel still waits at a question and nothing else goes on here, the bot
 * offers to continue there — once per question. */
static void offer_to_resume(turn_t *t)
{
    pl_channel_t from;
    cJSON *c = (cJSON *)pl_cursor_elsewhere(t->state, t->in->channel, t->in->now_ms, &from);
    if (c == NULL || get_str(t->state, "flow") != NULL ||
        cJSON_GetObjectItemCaseSensitive(t->state, "pending") != NULL ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "resume_offered")))
        return;
    for (size_t i = 0; i < t->out->n; i++)
        if (t->out->items[i].kind == PL_ACT_HANDOFF)
            return; /* a person takes over: they do not need the bot's question */
    if (!cJSON_AddTrueToObject(c, "resume_offered")) {
        t->oom = 1;
        return;
    }
    const char *name = pl_channel_name(from);
    trace(t, "offered to continue where the customer left off on %s", name);
    notice(t, PL_NOTICE_RESUME, name);
    t->out->items[t->out->n - 1].quick_replies = yes_no(t->bot);
    t->out->items[t->out->n - 1].nquick_replies = 2;
    remember_pending(t, "resume", name);
}

/* The position stored in state, resolved against this bot. Reports in the trace when the
 * bot changed under the conversation. */
static void resolve_position(turn_t *t, int *fi, int *si)
{
    *fi = *si = -1;
    const char *flow = get_str(t->state, "flow"), *step = get_str(t->state, "step");
    if (flow == NULL)
        return;
    *fi = pl_bot_flow(t->bot, flow);
    if (*fi < 0) {
        trace(t, "flow '%s' no longer exists; the conversation starts afresh", flow);
        set_position(t, NULL, NULL);
        return;
    }
    *si = step ? pl_flow_step(&t->bot->flows[*fi], step) : -1;
    if (*si < 0) {
        trace(t, "step '%s' no longer exists in flow '%s'; the flow restarts", step ? step : "",
              flow);
        *si = -2; /* restart */
    } else if (t->bot->flows[*fi].steps[*si].kind != PL_STEP_ASK &&
               t->bot->flows[*fi].steps[*si].kind != PL_STEP_CONSENT) {
        /* conversations wait only at questions: the bot changed under this one */
        trace(t, "step '%s' in flow '%s' is no longer a question; the flow restarts", step, flow);
        *si = -2;
    }
}

int pl_engine_turn(const pl_bot_t *bot, cJSON *state, const pl_input_t *in, pl_arena_t *scratch,
                   pl_actions_t *out)
{
    memset(out, 0, sizeof(*out));
    out->understood = 1;
    turn_t t = {.bot = bot, .state = state, .in = in, .scratch = scratch, .out = out};
    set_num(&t, state, "turn", get_int(state, "turn") + 1);
    if (in->intent >= 0 && (size_t)in->intent < bot->nintents)
        set_str(&t, state, "intent", bot->intents[in->intent].id);
    else
        cJSON_DeleteItemFromObjectCaseSensitive(state, "intent");

    /* the first reply on every channel says what the bot is and what it can do there */
    cJSON *seen = obj(&t, "disclosed");
    const char *ch = pl_channel_name(in->channel);
    if (seen != NULL && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(seen, ch))) {
        emit(&t, PL_ACT_CAPABILITIES, NULL, NULL, 0, NULL);
        if (cJSON_AddTrueToObject(seen, ch) == NULL)
            t.oom = 1;
    }

    if (pl_offers_expire(state, in->now_ms) != 0 || pl_cursor_enter(state, in->channel) != 0)
        t.oom = 1;
    int fi, si;
    resolve_position(&t, &fi, &si);
    /* a yes/no question outside a flow is answered by the very next message, or never */
    /* asked on another channel, it stays for that channel: a yes here does not answer it */
    const char *pch = get_str(cJSON_GetObjectItemCaseSensitive(state, "pending"), "channel");
    cJSON *pending = pch == NULL || strcmp(pch, pl_channel_name(in->channel)) == 0
                         ? cJSON_DetachItemFromObjectCaseSensitive(state, "pending")
                         : NULL;
    const char *pkind = get_str(pending, "kind"), *poffer = get_str(pending, "offer");
    /* the actions may name the offer after pending is gone: copies in scratch */
    pkind = pkind ? pl_arena_strdup(scratch, pkind) : NULL;
    poffer = poffer ? pl_arena_strdup(scratch, poffer) : NULL;
    cJSON_Delete(pending);
    int handled = answered_resume(&t, pkind, poffer, &fi, &si);
    handled = handled || answered_confirmation(&t, fi, si);
    if (!handled && fi < 0)
        continued_elsewhere(&t, &fi, &si);
    handled = handled || answered_builtin(&t, pkind, poffer, fi, si);
    if (!handled && fi >= 0 && si >= 0 && bot->flows[fi].steps[si].kind == PL_STEP_CONSENT) {
        handled = answered_consent(&t, fi, si);
        if (!handled)
            fi = si = -1;
    }
    int wanted = flow_for_intent(bot, in->intent);
    int free_text_question = fi >= 0 && si >= 0 && bot->flows[fi].steps[si].kind == PL_STEP_ASK &&
                             bot->slots[bot->flows[fi].steps[si].slot].entity < 0;
    if (handled) {
        /* answered above */
    } else if (si == -2) {
        start_flow(&t, wanted >= 0 ? wanted : fi);
    } else if (free_text_question && in->intent >= 0 &&
               answered_honestly(&t, fi, si, wanted == fi ? -1 : wanted)) {
        /* answered; the free-text question stands */
    } else if (free_text_question && wanted >= 0 && wanted != fi) {
        /* free text takes any words, so a clear request for something else must win:
         * otherwise "let me talk to a person" would become the answer */
        trace(&t, "left flow '%s' for flow '%s'", bot->flows[fi].id, bot->flows[wanted].id);
        set_num(&t, state, "misunderstood", 0);
        start_flow(&t, wanted);
    } else if (fi >= 0 && bot->flows[fi].steps[si].kind == PL_STEP_ASK) {
        const pl_flow_t *f = &bot->flows[fi];
        const pl_step_t *st = &f->steps[si];
        const pl_slot_t *slot = &bot->slots[st->slot];
        /* the asked slot first, so a bare number answers "what is your budget?" (a free-text
         * slot was offered to the honest answers above already) */
        int filled = fill_slot(&t, slot, 1);
        if (!filled && slot->entity >= 0 &&
            answered_honestly(&t, fi, si, wanted == fi ? -1 : wanted)) {
            /* answered; the question stands */
        } else if (filled && slot->confirm.nvariants > 0) {
            trace(&t, "filled slot '%s'; asking the customer to confirm it", slot->id);
            set_num(&t, state, "misunderstood", 0);
            ask_confirmation(&t, f, st);
        } else if (filled) {
            trace(&t, "filled slot '%s'", slot->id);
            fill_flow_slots(&t, f);
            set_num(&t, state, "misunderstood", 0);
            if (st->has_next)
                follow(&fi, &si, &st->next);
            else
                si++;
            run(&t, fi, si);
        } else if (wanted >= 0 && wanted != fi) {
            /* the flow's own trigger is not a reason to start it over: that would reset
             * the attempts and ask the same question forever */
            trace(&t, "left flow '%s' for flow '%s'", f->id, bot->flows[wanted].id);
            set_num(&t, state, "misunderstood", 0);
            start_flow(&t, wanted);
        } else {
            int attempts = get_int(state, "attempts") + 1;
            out->understood = 0;
            if (attempts >= slot->max_attempts) {
                trace(&t, "no answer for slot '%s' after %d attempts", slot->id, attempts);
                if (st->has_on_fail) {
                    follow(&fi, &si, &st->on_fail);
                    run(&t, fi, si);
                } else {
                    set_position(&t, NULL, NULL);
                    not_understood(&t);
                }
            } else {
                ask(&t, f, st, 1);
                set_num(&t, state, "attempts", attempts);
            }
        }
    } else if (answered_honestly(&t, -1, -1, wanted)) {
        /* the built-in answers, "cannot" and "not on this channel" */
    } else if (wanted >= 0) {
        set_num(&t, state, "misunderstood", 0);
        start_flow(&t, wanted);
    } else {
        not_understood(&t);
    }
    /* "yes" to a question of a flow must not accept an offer made before it */
    const char *left = get_str(cJSON_GetObjectItemCaseSensitive(state, "pending"), "kind");
    if (get_str(state, "flow") != NULL && left != NULL && strcmp(left, "offer") == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(state, "pending");
    if (!handled)
        offer_to_resume(&t);
    if (pl_cursor_leave(state, in->channel, in->now_ms) != 0)
        t.oom = 1;
    return t.oom ? PL_ENOMEM : 0;
}
