/* Signing in with a token (see sign_in.h): verify, merge the anonymous state into the
 * account with compare-and-swap, relink, and erase the anonymous customer. The order makes a
 * crash harmless: until the anonymous customer is erased, signing in again merges again. */
#include "session/sign_in.h"
#include "base/error.h"
#include "base/mem.h"
#include "session/identity_jwt.h"
#include "session/session.h"

#include <stdio.h>
#include <string.h>

/* Sets key in obj to a copy of value, replacing what was there. */
static int put_copy(cJSON *obj, const char *key, const cJSON *value)
{
    cJSON *copy = cJSON_Duplicate(value, 1);
    if (copy == NULL)
        return PL_ENOMEM;
    if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
        return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, copy) ? 0 : PL_ENOMEM;
    return cJSON_AddItemToObject(obj, key, copy) ? 0 : PL_ENOMEM;
}

/* When a fact or snapshot was last decided: the later of its "at", "closed_at", "made_at". */
static double decided_at(const cJSON *o)
{
    static const char *const keys[] = {"at", "closed_at", "made_at"};
    double t = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (cJSON_IsNumber(v) && v->valuedouble > t)
            t = v->valuedouble;
    }
    return t;
}

/* How an object-valued member is merged key by key: the anonymous side wins, or the larger
 * number (interest weights), or the more recent fact (consent, facts, cursors, suppressions). */
typedef enum { MERGE_NEWER_SIDE, MERGE_LARGER, MERGE_RECENT } merge_mode_t;

static int merge_members(cJSON *into, const char *key, const cJSON *from, merge_mode_t mode)
{
    cJSON *dst = cJSON_GetObjectItemCaseSensitive(into, key);
    if (!cJSON_IsObject(dst))
        return put_copy(into, key, from);
    const cJSON *m;
    cJSON_ArrayForEach(m, from)
    {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(dst, m->string);
        if (mode == MERGE_LARGER && cJSON_IsNumber(old) && cJSON_IsNumber(m) &&
            old->valuedouble >= m->valuedouble)
            continue;
        if (mode == MERGE_RECENT && old != NULL && decided_at(old) >= decided_at(m))
            continue;
        if (put_copy(dst, m->string, m) != 0)
            return PL_ENOMEM;
    }
    return 0;
}

static int closed(const cJSON *offer)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(offer, "status"));
    return s != NULL && strcmp(s, "open") != 0;
}

static int same_offer(const cJSON *a, const cJSON *b)
{
    const cJSON *ia = cJSON_GetObjectItemCaseSensitive(a, "id");
    const cJSON *ib = cJSON_GetObjectItemCaseSensitive(b, "id");
    if (cJSON_IsString(ia) && cJSON_IsString(ib))
        return strcmp(ia->valuestring, ib->valuestring) == 0;
    return cJSON_Compare(a, b, 1);
}

static int merge_offers(cJSON *into, const cJSON *from)
{
    cJSON *dst = cJSON_GetObjectItemCaseSensitive(into, "offers");
    if (!cJSON_IsArray(dst))
        return put_copy(into, "offers", from);
    const cJSON *o;
    cJSON_ArrayForEach(o, from)
    {
        /* the same offer on both sides: a closed one stays closed (declined anywhere means
         * never again); between two closed or two open ones the later decision wins */
        int i = 0, at = -1;
        const cJSON *d;
        cJSON_ArrayForEach(d, dst)
        {
            if (same_offer(d, o))
                at = i;
            i++;
        }
        const cJSON *mine = at >= 0 ? cJSON_GetArrayItem(dst, at) : NULL;
        if (mine != NULL && (closed(mine) > closed(o) ||
                             (closed(mine) == closed(o) && decided_at(mine) >= decided_at(o))))
            continue;
        cJSON *copy = cJSON_Duplicate(o, 1);
        if (copy == NULL || (at >= 0 ? !cJSON_ReplaceItemInArray(dst, at, copy)
                                     : !cJSON_AddItemToArray(dst, copy))) {
            cJSON_Delete(copy);
            return PL_ENOMEM;
        }
    }
    return 0;
}

int pl_state_merge(cJSON *account, const cJSON *anon, int64_t now_ms, const char *channel)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, anon)
    {
        const char *k = m->string;
        int rc;
        if (strcmp(k, "merged") == 0)
            continue;
        if (strcmp(k, "persona") == 0 && cJSON_IsObject(cJSON_GetObjectItem(account, k)))
            continue;
        if (strcmp(k, "offers") == 0 && cJSON_IsArray(m))
            rc = merge_offers(account, m);
        else if (cJSON_IsObject(m) && (strcmp(k, "slots") == 0 || strcmp(k, "slot_currency") == 0 ||
                                       strcmp(k, "disclosed") == 0))
            rc = merge_members(account, k, m, MERGE_NEWER_SIDE);
        else if (cJSON_IsObject(m) && strcmp(k, "interests") == 0)
            rc = merge_members(account, k, m, MERGE_LARGER);
        else if (cJSON_IsObject(m) &&
                 (strcmp(k, "consent") == 0 || strcmp(k, "facts") == 0 ||
                  strcmp(k, "cursors") == 0 || strcmp(k, "suppressed") == 0))
            rc = merge_members(account, k, m, MERGE_RECENT);
        else if (cJSON_IsObject(m) && strcmp(k, "profile") == 0)
            rc = merge_members(account, k, m, MERGE_NEWER_SIDE);
        else
            rc = put_copy(account, k, m);
        if (rc != 0)
            return rc;
    }
    cJSON *log = cJSON_GetObjectItemCaseSensitive(account, "merged");
    if (!cJSON_IsArray(log)) {
        cJSON_DeleteItemFromObjectCaseSensitive(account, "merged");
        log = cJSON_AddArrayToObject(account, "merged");
    }
    cJSON *entry = cJSON_CreateObject();
    if (log == NULL || entry == NULL || !cJSON_AddItemToArray(log, entry)) {
        cJSON_Delete(entry);
        return PL_ENOMEM;
    }
    if (cJSON_AddNumberToObject(entry, "at", (double)now_ms) == NULL ||
        cJSON_AddStringToObject(entry, "channel", channel) == NULL)
        return PL_ENOMEM;
    return 0;
}

/* Merges the anonymous customer's state into the account's, retrying on conflicts. */
static int merge_into_account(pl_store_t *s, const char *anon, const char *account,
                              int64_t now_ms, const char *channel)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        cJSON *from = NULL, *into = NULL;
        int64_t vfrom, vinto, nv;
        int rc = pl_session_load_state(s, anon, &from, &vfrom);
        if (rc == 0)
            rc = pl_session_load_state(s, account, &into, &vinto);
        if (rc == 0 && vfrom > 0)
            rc = pl_state_merge(into, from, now_ms, channel);
        char *doc = rc == 0 && vfrom > 0 ? cJSON_PrintUnformatted(into) : NULL;
        if (rc == 0 && vfrom > 0)
            rc = doc ? pl_store_save(s, account, doc, vinto, &nv) : PL_ENOMEM;
        cJSON_free(doc);
        cJSON_Delete(from);
        cJSON_Delete(into);
        if (rc != PL_ECONFLICT)
            return rc;
    }
    return PL_ECONFLICT;
}

int pl_sign_in(pl_store_t *s, const char *channel, const char *user, const char *token,
               const unsigned char *secret, size_t secretlen, int64_t now_ms,
               char account[PL_STORE_MAX_KEY + 1], char *why, size_t whylen)
{
    char sub[PL_JWT_MAX_SUB + 1];
    int rc = pl_jwt_verify(token, secret, secretlen, (time_t)(now_ms / 1000),
                           PL_JWT_DEFAULT_SKEW, sub, why, whylen);
    if (rc != 0)
        return rc;
    char id[PL_STORE_MAX_KEY + 1];
    snprintf(id, sizeof(id), "%s%s", PL_ACCOUNT_PREFIX, sub);
    rc = pl_customer_join(s, channel, user, id, now_ms);
    if (rc == 0)
        memcpy(account, id, strlen(id) + 1);
    return rc;
}

int pl_customer_join(pl_store_t *s, const char *channel, const char *user, const char *customer,
                     int64_t now_ms)
{
    char *before = NULL;
    int rc = pl_store_resolve(s, channel, user, &before);
    if (rc != 0 && rc != PL_ENOTFOUND)
        return rc;
    if (before != NULL && strcmp(before, customer) == 0) {
        pl_free(before); /* linked already: nothing to write */
        return 0;
    }
    /* Only an anonymous customer is merged; an account, even another one, never is. */
    int anonymous = before != NULL && strcmp(before, customer) != 0 &&
                    strncmp(before, PL_ACCOUNT_PREFIX, strlen(PL_ACCOUNT_PREFIX)) != 0;
    rc = anonymous ? merge_into_account(s, before, customer, now_ms, channel) : 0;
    if (rc == 0)
        rc = pl_store_link(s, channel, user, customer);
    /* Other channels the anonymous customer was known on follow them to the account. */
    if (rc == 0 && anonymous)
        rc = pl_store_relink(s, before, customer);
    if (rc == 0 && anonymous)
        rc = pl_store_erase(s, before);
    pl_free(before);
    return rc;
}
