/* Persona detection over a conversation: each turn's signals add to evidence that fades
 * (recent turns count most); a persona is chosen only when it leads for two turns in a row,
 * so one odd message never flips it. The tone follows the persona, within the German address
 * form the customer uses: the bot keeps "Sie" until the customer clearly says "du".
 * State: one object "persona": {id, tone (read by flows and replies), address (German
 * bots), evidence: {signal: value}, candidate, streak, last_at (written by the runtime)}. */
#include "persona/persona.h"
#include "base/error.h"

#include <string.h>

/* What a turn's evidence keeps of the turns before: half. */
#define DECAY 0.5
/* A persona needs this much weighted evidence to be chosen at all. */
#define MIN_SCORE 1.0
/* To take over from the current persona, a rival must lead it by this much. */
#define MARGIN 0.3
/* Turns a new leader must lead in a row before it is taken. */
#define STREAK 2

/* Puts item (which may be NULL after a failed allocation) under key, replacing what was there. */
static int set_item(cJSON *o, const char *key, cJSON *item)
{
    if (item == NULL)
        return PL_ENOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return PL_ENOMEM;
    }
    return 0;
}

static int set_str(cJSON *o, const char *key, const char *v)
{
    return set_item(o, key, cJSON_CreateString(v));
}

static int set_num(cJSON *o, const char *key, double v)
{
    return set_item(o, key, cJSON_CreateNumber(v));
}

/* The decayed evidence plus this turn's signals, kept in ev: only for signals that some
 * persona listens to, so the state stays small. The few entries there are decay in place; only
 * the signals of this message are looked up. */
static int add_evidence(const pl_bot_t *bot, cJSON *ev, const pl_signals_t *s, double *e)
{
    for (cJSON *x = ev->child, *next; x != NULL; x = next) {
        next = x->next;
        int i = -1; /* among the signals personas use only: a few names to compare */
        for (int k = 0; k < s->n && i < 0; k++)
            if ((bot->persona_signals >> k & 1) && strcmp(pl_signal_name(bot, k), x->string) == 0)
                i = k;
        double v = cJSON_IsNumber(x) && i >= 0 ? x->valuedouble * DECAY : 0;
        if (i < 0 || v + s->v[i] < 0.01) {
            cJSON_Delete(cJSON_DetachItemViaPointer(ev, x));
            continue;
        }
        e[i] = v + s->v[i];
        cJSON_SetNumberValue(x, (double)(int)(e[i] * 1000) / 1000);
    }
    for (int i = 0; i < s->n; i++) {
        if (s->v[i] < 0.01 || e[i] > 0 || (bot->persona_signals >> i & 1) == 0)
            continue; /* nothing new, or already updated above */
        e[i] = s->v[i];
        if (cJSON_AddNumberToObject(ev, pl_signal_name(bot, i),
                                    (double)(int)(e[i] * 1000) / 1000) == NULL)
            return PL_ENOMEM;
    }
    return 0;
}

/* A sub-object of o, made if missing. */
static cJSON *object_in(cJSON *o, const char *key)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsObject(x))
        return x;
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    return cJSON_AddObjectToObject(o, key);
}

static double score(const pl_persona_t *p, const double *e)
{
    double sc = 0;
    for (size_t k = 0; k < p->nsignals; k++)
        sc += p->signals[k].weight * e[p->signals[k].signal];
    return sc;
}

/* The tone for persona p (NULL: none) that fits the address form: a tone whose German texts
 * say "du" is not used while the customer is addressed with "Sie", and the other way round. */
static const char *fitting_tone(const pl_bot_t *bot, const pl_persona_t *p, int address)
{
    const char *want = p && p->tone ? p->tone : bot->default_tone;
    if (address == 0 || bot->tone_address == NULL)
        return want;
    int other = address == PL_ADDRESS_SIE ? PL_ADDRESS_DU : PL_ADDRESS_SIE;
    int t = pl_bot_tone(bot, want);
    if (t < 0 || (bot->tone_address[t] & other) == 0)
        return want;
    /* the default tone if it fits, else the first tone that does */
    int d = pl_bot_tone(bot, bot->default_tone);
    if (d >= 0 && (bot->tone_address[d] & other) == 0)
        return bot->default_tone;
    for (size_t i = 0; i < bot->ntones; i++)
        if ((bot->tone_address[i] & other) == 0)
            return bot->tones[i];
    return want;
}

/* German address form: "Sie" until the customer clearly uses "du" (and back again). */
static int update_address(const pl_bot_t *bot, const cJSON *state, cJSON *ps, int forms,
                          int *address)
{
    *address = 0;
    if (strcmp(bot->language, "de") != 0)
        return 0;
    const char *cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ps, "address"));
    if (cur == NULL) /* the form the customer chose before, kept in the profile */
        cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(state, "profile"), "address"));
    int was_du = cur != NULL && strcmp(cur, "du") == 0, du = was_du;
    if (forms == PL_ADDRESS_DU)
        du = 1;
    else if (forms == PL_ADDRESS_SIE)
        du = 0;
    *address = du ? PL_ADDRESS_DU : PL_ADDRESS_SIE;
    return cur != NULL && du == was_du ? 0 : set_str(ps, "address", du ? "du" : "Sie");
}

int pl_persona_update(const pl_bot_t *bot, cJSON *state, const pl_signals_t *s, int address_forms,
                      pl_persona_choice_t *out)
{
    memset(out, 0, sizeof(*out));
    if (bot->npersonas == 0 && strcmp(bot->language, "de") != 0) {
        out->tone = bot->default_tone; /* nobody to detect, no address form to keep */
        return 0;
    }
    /* everything lives in one small object, so looking things up stays cheap */
    cJSON *ps = object_in(state, "persona");
    if (ps == NULL)
        return PL_ENOMEM;
    int address;
    int rc = update_address(bot, state, ps, address_forms, &address);
    if (rc != 0)
        return rc;
    if (bot->npersonas == 0) {
        /* nobody to detect: the default tone, within the address form */
        out->tone = fitting_tone(bot, NULL, address);
        if (strcmp(out->tone, bot->default_tone) != 0)
            return set_str(ps, "tone", out->tone);
        return 0;
    }
    cJSON *ev = object_in(ps, "evidence");
    if (ev == NULL)
        return PL_ENOMEM;
    double e[PL_MAX_SIGNALS] = {0};
    rc = add_evidence(bot, ev, s, e);
    if (rc != 0)
        return rc;

    const char *cur_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ps, "id"));
    int cur = pl_bot_persona(bot, cur_id);
    int lead = -1;
    double lead_sc = 0, cur_sc = cur >= 0 ? score(&bot->personas[cur], e) : 0;
    for (size_t i = 0; i < bot->npersonas; i++) {
        double sc = score(&bot->personas[i], e);
        if (sc > lead_sc) {
            lead_sc = sc;
            lead = (int)i;
        }
    }
    const char *cand_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ps, "candidate"));
    const cJSON *streak_item = cJSON_GetObjectItemCaseSensitive(ps, "streak");
    int streak = cJSON_IsNumber(streak_item) ? streak_item->valueint : 0;
    int challenger = lead >= 0 && lead != cur && lead_sc >= MIN_SCORE && lead_sc >= cur_sc + MARGIN;
    const char *next_cand = NULL;
    if (!challenger) {
        streak = 0;
    } else {
        const char *lead_id = bot->personas[lead].id;
        streak = cand_id != NULL && strcmp(cand_id, lead_id) == 0 ? streak + 1 : 1;
        if (streak >= STREAK) {
            cur = lead;
            streak = 0;
            out->switched = 1;
            rc = set_str(ps, "id", lead_id);
        } else {
            next_cand = lead_id;
        }
    }
    if (rc == 0 && next_cand != NULL)
        rc = set_str(ps, "candidate", next_cand);
    else if (rc == 0 && cand_id != NULL)
        cJSON_DeleteItemFromObjectCaseSensitive(ps, "candidate");
    if (rc == 0 && streak > 0)
        rc = set_num(ps, "streak", streak);
    else if (rc == 0 && streak_item != NULL)
        cJSON_DeleteItemFromObjectCaseSensitive(ps, "streak");
    const pl_persona_t *p = cur >= 0 ? &bot->personas[cur] : NULL;
    out->persona = p ? p->id : NULL;
    out->tone = fitting_tone(bot, p, address);
    /* the state names the tone only when it is not simply the default */
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ps, "tone"));
    if (rc == 0 && strcmp(out->tone, bot->default_tone) == 0) {
        if (old != NULL)
            cJSON_DeleteItemFromObjectCaseSensitive(ps, "tone");
    } else if (rc == 0 && (old == NULL || strcmp(old, out->tone) != 0)) {
        rc = set_str(ps, "tone", out->tone);
    }
    return rc;
}
