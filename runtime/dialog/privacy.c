/* Consent and suppressions in the customer's state (see privacy.h). */
#include "dialog/privacy.h"
#include "base/error.h"
#include "dialog/offers.h"

#include <stdio.h>
#include <string.h>

int pl_consent_given(const cJSON *state, const char *name)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(state, "consent"), name);
    return cJSON_IsTrue(c) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "given"));
}

int pl_consent_answered(const cJSON *state, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(state, "consent"),
                                            name) != NULL;
}

/* A fact with when and where it was learnt: {at, channel}, plus what the caller adds. */
static cJSON *fact(int64_t now_ms, pl_channel_t ch)
{
    cJSON *f = cJSON_CreateObject();
    if (f == NULL || !cJSON_AddNumberToObject(f, "at", (double)now_ms) ||
        !cJSON_AddStringToObject(f, "channel", pl_channel_name(ch))) {
        cJSON_Delete(f);
        return NULL;
    }
    return f;
}

/* state[section][key] = item, replacing what was there. Takes item, also on failure. */
static int set_in(cJSON *state, const char *section, const char *key, cJSON *item)
{
    if (item == NULL)
        return PL_ENOMEM;
    cJSON *sec = cJSON_GetObjectItemCaseSensitive(state, section);
    if (!cJSON_IsObject(sec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(state, section);
        sec = cJSON_AddObjectToObject(state, section);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(sec, key);
    if (sec == NULL || !cJSON_AddItemToObject(sec, key, item)) {
        cJSON_Delete(item);
        return PL_ENOMEM;
    }
    return 0;
}

int pl_consent_set(cJSON *state, const char *name, int given, int64_t now_ms, pl_channel_t ch)
{
    cJSON *f = fact(now_ms, ch);
    if (f != NULL && !cJSON_AddBoolToObject(f, "given", given)) {
        cJSON_Delete(f);
        f = NULL;
    }
    return set_in(state, "consent", name, f);
}

void pl_personal_purge(cJSON *state)
{
    static const char *const learnt[] = {"persona",    "interests", "interest",
                                         "signals_at", "returning", "signals_seen"};
    for (size_t i = 0; i < sizeof(learnt) / sizeof(learnt[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(state, learnt[i]);
}

void pl_profile_purge(cJSON *state)
{
    pl_personal_purge(state);
    cJSON_DeleteItemFromObjectCaseSensitive(state, "profile");
    cJSON *facts = cJSON_GetObjectItemCaseSensitive(state, "facts");
    cJSON_DeleteItemFromObjectCaseSensitive(facts, "profile.name");
    cJSON_DeleteItemFromObjectCaseSensitive(facts, "profile.address");
}

void pl_conversation_forget(cJSON *state)
{
    static const char *const memory[] = {"slots",    "slot_currency", "facts",   "cursors",
                                         "flow",     "step",          "attempts", "pending",
                                         "misunderstood", "confirming", "profile", "channel"};
    for (size_t i = 0; i < sizeof(memory) / sizeof(memory[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(state, memory[i]);
}

int pl_fact_note(cJSON *state, const char *key, int64_t now_ms, pl_channel_t ch, int confirmed)
{
    cJSON *f = fact(now_ms, ch);
    if (f != NULL && confirmed && !cJSON_AddTrueToObject(f, "confirmed")) {
        cJSON_Delete(f);
        f = NULL;
    }
    return set_in(state, "facts", key, f);
}

int pl_profile_set(cJSON *state, const char *field, const char *value, int64_t now_ms,
                   pl_channel_t ch)
{
    char key[64];
    snprintf(key, sizeof(key), "profile.%s", field);
    int rc = set_in(state, "profile", field, cJSON_CreateString(value));
    return rc ? rc : pl_fact_note(state, key, now_ms, ch, 1);
}

int pl_signal_seen(cJSON *state, const char *key, int64_t now_ms, pl_channel_t ch)
{
    cJSON *seen = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(state,
                                                                                    "signals_seen"),
                                                   key);
    cJSON *at = cJSON_GetObjectItemCaseSensitive(seen, "at");
    const char *was = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(seen, "channel"));
    if (cJSON_IsNumber(at) && was != NULL && strcmp(was, pl_channel_name(ch)) == 0) {
        cJSON_SetNumberValue(at, (double)now_ms); /* the usual case: seen again, same channel */
        return 0;
    }
    return set_in(state, "signals_seen", key, fact(now_ms, ch));
}

void pl_signals_expire(cJSON *state, int64_t now_ms, int64_t max_age_ms)
{
    cJSON *seen = cJSON_GetObjectItemCaseSensitive(state, "signals_seen");
    cJSON *persona = cJSON_GetObjectItemCaseSensitive(state, "persona");
    cJSON *evidence = cJSON_GetObjectItemCaseSensitive(persona, "evidence");
    cJSON *interests = cJSON_GetObjectItemCaseSensitive(state, "interests");
    int purged = 0;
    for (cJSON *s = seen ? seen->child : NULL, *next; s != NULL; s = next) {
        next = s->next;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(s, "at");
        if (s->string == NULL || (cJSON_IsNumber(at) && now_ms - (int64_t)at->valuedouble <=
                                                            max_age_ms))
            continue;
        if (strncmp(s->string, "persona.", 8) == 0)
            cJSON_DeleteItemFromObjectCaseSensitive(evidence, s->string + 8);
        if (strncmp(s->string, "interest.", 9) == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(interests, s->string + 9);
            const char *top = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state,
                                                                                    "interest"));
            if (top != NULL && strcmp(top, s->string + 9) == 0)
                cJSON_DeleteItemFromObjectCaseSensitive(state, "interest");
        }
        cJSON_Delete(cJSON_DetachItemViaPointer(seen, s));
        purged = 1;
    }
    if (purged && persona != NULL && (evidence == NULL || evidence->child == NULL))
        cJSON_DeleteItemFromObjectCaseSensitive(state, "persona"); /* nothing left to go on */
    if (purged && interests != NULL && interests->child == NULL)
        cJSON_DeleteItemFromObjectCaseSensitive(state, "interests");
}

int pl_suppressed(const cJSON *state, const char *category)
{
    return category != NULL &&
           cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(state, "suppressed"),
                                            category) != NULL;
}

int pl_suppress(cJSON *state, const char *category, int64_t now_ms, pl_channel_t ch)
{
    int rc = set_in(state, "suppressed", category, fact(now_ms, ch));
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(state, "offers"))
    {
        const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "category"));
        if (rc == 0 && c != NULL && strcmp(c, category) == 0 && pl_offer_is_open(o))
            rc = pl_offer_close(o, "withdrawn", now_ms, ch);
    }
    return rc;
}
