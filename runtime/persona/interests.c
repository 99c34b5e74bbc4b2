/* Interests, not last clicks: every understood intent and every value of a list entity the
 * customer mentions adds to an interest profile (values count twice as much as intents) that fades
 * by a tenth each turn. The strongest interest that has been sustained over several turns is what
 * flows may read; one joke about a diesel generator does not replace five turns about reflex
 * cameras. */
#include "persona/persona.h"
#include "base/error.h"
#include "dialog/privacy.h"

#include <stdio.h>
#include <string.h>

#define FADE 0.9      /* what an interest keeps of itself per turn */
#define SUSTAINED 1.5 /* more than one mention, or one mention kept up */
#define FORGOTTEN 0.3 /* below this an interest says nothing: it goes, keeping the state small */
#define MAX_INTERESTS 8

/* A thing the customer names (a reflex camera) says more about their interest than what they
 * do with it (asking, buying), so entity values count fully and intents half. */
#define VALUE_WEIGHT 1.0
#define INTENT_WEIGHT 0.5

/* Adds to interest key and notes when and where it was last seen. */
static int bump(cJSON *state, cJSON *profile, const char *key, double by, int64_t now_ms,
                pl_channel_t ch)
{
    char seen[160];
    snprintf(seen, sizeof(seen), "interest.%s", key);
    int rc = pl_signal_seen(state, seen, now_ms, ch);
    if (rc != 0)
        return rc;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(profile, key);
    if (cJSON_IsNumber(v)) {
        cJSON_SetNumberValue(v, v->valuedouble + by);
        return 0;
    }
    return cJSON_AddNumberToObject(profile, key, by) ? 0 : PL_ENOMEM;
}

int pl_interests_update(const pl_bot_t *bot, cJSON *state, const pl_understanding_t *u,
                        int64_t now_ms, pl_channel_t ch)
{
    cJSON *profile = cJSON_GetObjectItemCaseSensitive(state, "interests");
    if (!cJSON_IsObject(profile)) {
        cJSON_DeleteItemFromObjectCaseSensitive(state, "interests");
        if ((profile = cJSON_AddObjectToObject(state, "interests")) == NULL)
            return PL_ENOMEM;
    }
    /* fade, and forget what has faded away */
    cJSON *it = profile->child;
    while (it != NULL) {
        cJSON *next = it->next;
        double v = cJSON_IsNumber(it) ? it->valuedouble * FADE : 0;
        if (v < FORGOTTEN)
            cJSON_Delete(cJSON_DetachItemViaPointer(profile, it));
        else
            cJSON_SetNumberValue(it, v);
        it = next;
    }
    int rc = 0;
    /* asking what the bot is, for a person or for privacy says nothing about tastes */
    if (u->intent >= 0 && !pl_bot_is_builtin(bot, u->intent))
        rc = bump(state, profile, bot->intents[u->intent].id, INTENT_WEIGHT, now_ms, ch);
    for (size_t i = 0; rc == 0 && i < u->nentities; i++)
        /* offer categories are found only to suppress them, not to profile anyone */
        if (bot->entities[u->entities[i].entity].kind == PL_ENTITY_LIST &&
            u->entities[i].entity != bot->category_entity)
            rc = bump(state, profile, u->entities[i].value, VALUE_WEIGHT, now_ms, ch);
    if (rc != 0)
        return rc;
    /* keep the profile small: drop the weakest beyond the limit */
    while (cJSON_GetArraySize(profile) > MAX_INTERESTS) {
        cJSON *weakest = profile->child;
        for (cJSON *x = profile->child; x; x = x->next)
            if (x->valuedouble < weakest->valuedouble)
                weakest = x;
        cJSON_Delete(cJSON_DetachItemViaPointer(profile, weakest));
    }
    const cJSON *top = NULL;
    for (const cJSON *x = profile->child; x; x = x->next)
        if (top == NULL || x->valuedouble > top->valuedouble)
            top = x;
    cJSON_DeleteItemFromObjectCaseSensitive(state, "interest");
    if (top != NULL && top->valuedouble >= SUSTAINED &&
        cJSON_AddStringToObject(state, "interest", top->string) == NULL)
        return PL_ENOMEM;
    return 0;
}
