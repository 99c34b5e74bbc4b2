/* Offer snapshots in the customer's state (see offers.h). */
#include "dialog/offers.h"
#include "base/error.h"

#include <string.h>

static const char *str_of(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

cJSON *pl_offer_snapshot(const cJSON *state, const char *id)
{
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(state, "offers"))
    {
        const char *oid = str_of(o, "id");
        if (oid != NULL && strcmp(oid, id) == 0)
            return o;
    }
    return NULL;
}

const char *pl_offer_status(const cJSON *snap)
{
    const char *s = str_of(snap, "status");
    return s ? s : "open";
}

int pl_offer_is_open(const cJSON *snap)
{
    return snap != NULL && strcmp(pl_offer_status(snap), "open") == 0;
}

int pl_offers_any_open(const cJSON *state)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(state, "offers"))
    {
        if (pl_offer_is_open(o))
            return 1;
    }
    return 0;
}

static int put(cJSON *o, const char *key, cJSON *item)
{
    if (item == NULL)
        return PL_ENOMEM;
    if (cJSON_HasObjectItem(o, key) ? cJSON_ReplaceItemInObjectCaseSensitive(o, key, item)
                                    : cJSON_AddItemToObject(o, key, item))
        return 0;
    cJSON_Delete(item);
    return PL_ENOMEM;
}

int pl_offer_close(cJSON *snap, const char *status, int64_t now_ms, pl_channel_t ch)
{
    int rc = put(snap, "status", cJSON_CreateString(status));
    if (rc == 0)
        rc = put(snap, "closed_at", cJSON_CreateNumber((double)now_ms));
    if (rc == 0)
        rc = put(snap, "closed_channel", cJSON_CreateString(pl_channel_name(ch)));
    return rc;
}

int pl_offers_expire(cJSON *state, int64_t now_ms)
{
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(state, "offers"))
    {
        const cJSON *until = cJSON_GetObjectItemCaseSensitive(o, "valid_until");
        if (!pl_offer_is_open(o) || !cJSON_IsNumber(until) || until->valuedouble > (double)now_ms)
            continue;
        /* closed when it ended, so a customer returning later sees when that was */
        int rc = put(o, "status", cJSON_CreateString("expired"));
        if (rc == 0)
            rc = put(o, "closed_at", cJSON_CreateNumber(until->valuedouble));
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pl_offer_snapshot_new(const pl_bot_t *bot, cJSON *state, const pl_offer_t *o, int64_t now_ms,
                          pl_channel_t ch)
{
    cJSON *offers = cJSON_GetObjectItemCaseSensitive(state, "offers");
    if (!cJSON_IsArray(offers)) {
        cJSON_DeleteItemFromObjectCaseSensitive(state, "offers");
        if ((offers = cJSON_AddArrayToObject(state, "offers")) == NULL)
            return PL_ENOMEM;
    }
    int64_t until = o->valid_until_ms ? o->valid_until_ms : now_ms + o->valid_ms;
    cJSON *snap = cJSON_CreateObject();
    if (snap == NULL || !cJSON_AddItemToArray(offers, snap)) {
        cJSON_Delete(snap);
        return PL_ENOMEM;
    }
    int ok = cJSON_AddStringToObject(snap, "id", o->id) &&
             cJSON_AddStringToObject(snap, "title", o->title) &&
             (o->terms[0] == '\0' || cJSON_AddStringToObject(snap, "terms", o->terms)) &&
             cJSON_AddNumberToObject(snap, "price", o->price) &&
             cJSON_AddStringToObject(snap, "currency", o->currency) &&
             (o->category < 0 ||
              cJSON_AddStringToObject(snap, "category", bot->categories[o->category].id)) &&
             cJSON_AddNumberToObject(snap, "made_at", (double)now_ms) &&
             cJSON_AddNumberToObject(snap, "valid_until", (double)until) &&
             cJSON_AddStringToObject(snap, "channel", pl_channel_name(ch)) &&
             cJSON_AddStringToObject(snap, "status", "open");
    return ok ? 0 : PL_ENOMEM;
}
