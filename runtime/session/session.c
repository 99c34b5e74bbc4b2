/* The turn pipeline on a store (see session.h): resolve, load, turn, compare-and-swap save,
 * and again from the load when someone else saved first. */
#include "session/session.h"
#include "base/error.h"
#include "base/mem.h"
#include "session/link_code.h"
#include "session/sign_in.h"

#include <string.h>
#include <strings.h>

/* The customer the channel user is linked to, or PL_ENOTFOUND. */
static int existing_customer(pl_store_t *store, const char *channel, const char *user,
                             char out[PL_STORE_MAX_KEY + 1])
{
    char *found = NULL;
    int rc = pl_store_resolve(store, channel, user, &found);
    if (rc == 0) {
        size_t n = strlen(found);
        if (n > PL_STORE_MAX_KEY) {
            pl_free(found);
            return PL_ESTORE;
        }
        memcpy(out, found, n + 1);
        pl_free(found);
    }
    return rc;
}

/* The customer linked to the channel user, or a new one with an unguessable id. When two
 * processes meet a new channel user at once, the first link wins and both use it. */
static int customer_for(pl_store_t *store, const char *channel, const char *user,
                        char out[PL_STORE_MAX_KEY + 1])
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = existing_customer(store, channel, user, out);
        if (rc != PL_ENOTFOUND)
            return rc;
        char id[33];
        rc = pl_random_id(id);
        if (rc == 0)
            rc = pl_store_link_new(store, channel, user, id);
        if (rc == 0)
            memcpy(out, id, sizeof(id));
        if (rc != PL_ECONFLICT)
            return rc;
    }
    return PL_ECONFLICT;
}

/* A stored document as a state: an empty object for none; PL_ESTORE when it is not a JSON
 * object. Takes doc. */
static int parse_state(char *doc, int found, cJSON **state)
{
    *state = found ? cJSON_Parse(doc) : cJSON_CreateObject();
    pl_free(doc);
    if (*state == NULL || !cJSON_IsObject(*state)) {
        cJSON_Delete(*state);
        *state = NULL;
        return found ? PL_ESTORE : PL_ENOMEM;
    }
    return 0;
}

int pl_session_load_state(pl_store_t *store, const char *customer, cJSON **state,
                          int64_t *version)
{
    char *doc = NULL;
    int rc = pl_store_load(store, customer, &doc, version);
    if (rc != 0 && rc != PL_ENOTFOUND)
        return rc;
    if (rc == PL_ENOTFOUND)
        *version = 0;
    return parse_state(doc, rc == 0, state);
}

/* "my code is 482 019" (or "four eight two zero one nine"): a message that names a code and
 * holds six digits in words of their own. Other messages ("my order LU-123456", "the code is
 * VB-123456") are no attempt and never count as a wrong code. */
static int names_link_code(const char *text, size_t len)
{
    char copy[201], code[PL_LINK_CODE_DIGITS + 1];
    if (len > 200)
        return 0;
    memcpy(copy, text, len);
    copy[len] = '\0';
    int named = 0;
    for (size_t i = 0; i + 4 <= len && !named; i++)
        named = strncasecmp(copy + i, "code", 4) == 0;
    return named && pl_link_code_digits(copy, code) == 0;
}

/* Tries the link code the customer said; on success the channel user is now the code's
 * customer. Sets *result to "linked", "denied" or "limited" (NULL: no code after all). */
static int redeem_said_code(pl_store_t *store, const char *user, const pl_event_t *ev,
                            const char **result)
{
    char said[201], customer[PL_STORE_MAX_KEY + 1];
    memcpy(said, ev->text, ev->len);
    said[ev->len] = '\0';
    int rc = pl_link_code_redeem(store, pl_channel_name(ev->channel), user, said, ev->now_ms,
                                 customer);
    *result = rc == 0 ? "linked" : rc == PL_EDENIED ? "denied" : rc == PL_ELIMIT ? "limited" : NULL;
    return *result != NULL || rc == PL_EINVAL ? 0 : rc;
}

/* A signed-in customer asked for a code to link another channel: the turn is run again on
 * the state as it was, now showing a fresh code. */
static int show_link_code(const pl_runtime_t *rt, pl_store_t *store, const char *customer,
                          const pl_event_t *ev, pl_arena_t *scratch, pl_turn_t *out,
                          cJSON **state, int64_t *version)
{
    char code[PL_LINK_CODE_DIGITS + 1];
    int rc = pl_link_code_issue(store, customer, ev->now_ms, code);
    if (rc != 0)
        return rc;
    cJSON_Delete(*state);
    *state = NULL;
    if ((rc = pl_session_load_state(store, customer, state, version)) != 0)
        return rc;
    char *shown = pl_arena_strdup(scratch, code);
    if (shown == NULL)
        return PL_ENOMEM;
    pl_event_t show = *ev;
    show.kind = PL_EVENT_LINK_CODE;
    show.offer = shown;
    return pl_runtime_turn(rt, state, &show, scratch, out);
}

/* Lock and load, turn, compare-and-swap save with the release of the lock, and from the load
 * again on a conflict (possible only when the lock expired meanwhile). token is the lock's
 * while it is held, empty once released. */
static int locked_turn(const pl_runtime_t *rt, pl_store_t *store, const pl_event_t *ev,
                       pl_arena_t *scratch, pl_turn_t *out, pl_session_result_t *res,
                       char token[33])
{
    int rc;
    for (int attempt = 0; attempt < PL_SESSION_MAX_RETRIES; attempt++) {
        cJSON *state = NULL;
        int64_t version = 0;
        char *doc = NULL;
        if (attempt == 0) {
            /* one turn of this customer at a time, in every process sharing the store */
            rc = pl_store_lock_load(store, res->customer, PL_SESSION_LOCK_WAIT_MS, token, &doc,
                                    &version);
            if (rc != 0 && rc != PL_ENOTFOUND)
                return rc;
            int found = rc == 0;
            if (!found)
                version = 0;
            if ((rc = parse_state(doc, found, &state)) != 0)
                return rc;
        } else if ((rc = pl_session_load_state(store, res->customer, &state, &version)) != 0) {
            return rc;
        }
        pl_arena_reset(scratch);
        rc = pl_runtime_turn(rt, &state, ev, scratch, out);
        if (rc == 0 && out->link_code &&
            strncmp(res->customer, PL_ACCOUNT_PREFIX, strlen(PL_ACCOUNT_PREFIX)) == 0)
            rc = show_link_code(rt, store, res->customer, ev, scratch, out, &state, &version);
        if (rc == 0 && out->erase) {
            /* "forget me", confirmed: every row, link and code of the customer goes */
            rc = pl_store_erase(store, res->customer);
            if (rc == 0) {
                res->erased = 1;
                res->state = state;
                return 0;
            }
            cJSON_Delete(state);
            return rc;
        }
        doc = rc == 0 ? cJSON_PrintUnformatted(state) : NULL;
        if (rc == 0 && doc == NULL)
            rc = PL_ENOMEM;
        if (rc == 0)
            rc = pl_store_save_unlock(store, res->customer, doc, version, &res->version, token);
        cJSON_free(doc);
        if (rc == 0) {
            res->state = state;
            return 0;
        }
        cJSON_Delete(state);
        if (rc != PL_ECONFLICT)
            return rc;
        res->retries++;
    }
    return PL_ECONFLICT;
}

int pl_session_turn(const pl_runtime_t *rt, pl_store_t *store, const char *user,
                    const pl_event_t *ev, pl_arena_t *scratch, pl_turn_t *out,
                    pl_session_result_t *res)
{
    memset(res, 0, sizeof(*res));
    pl_event_t linked;
    if (ev->kind == PL_EVENT_MESSAGE && names_link_code(ev->text, ev->len)) {
        const char *result = NULL;
        int rc = redeem_said_code(store, user, ev, &result);
        if (rc != 0)
            return rc;
        if (result != NULL) {
            linked = *ev;
            linked.kind = PL_EVENT_LINK_RESULT;
            linked.offer = result;
            ev = &linked;
        }
    }
    int rc = customer_for(store, pl_channel_name(ev->channel), user, res->customer);
    if (rc != 0)
        return rc;
    char token[33] = "";
    rc = locked_turn(rt, store, ev, scratch, out, res, token);
    /* still held after a failure or an erasure; a release that fails changes nothing
     * committed: the lock expires by itself */
    (void)pl_store_unlock(store, res->customer, token);
    return rc;
}
