/* Turns and the customers' connections: every turn of every channel runs here, on the
 * server's one store, and the committed state is pushed to the customer's other open
 * WebSockets before the loop goes on — so an offer accepted in the app shows on the web at
 * once. */
#include "server_int.h"
#include "base/error.h"
#include "render/reply_json.h"
#include "session/sign_in.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

cJSON *pl__hub_state_json(const char *customer, const cJSON *state)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *type = cJSON_AddStringToObject(o, "type", "state");
    cJSON *offers = cJSON_AddArrayToObject(o, "offers");
    cJSON *consent = cJSON_AddObjectToObject(o, "consent");
    if (o == NULL || type == NULL || offers == NULL || consent == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    static const char *const terms[] = {"id", "title", "terms", "price", "currency",
                                        "valid_until", "status"};
    const cJSON *snap;
    cJSON_ArrayForEach(snap, cJSON_GetObjectItemCaseSensitive(state, "offers"))
    {
        cJSON *card = cJSON_CreateObject();
        if (card == NULL || !cJSON_AddItemToArray(offers, card)) {
            cJSON_Delete(card);
            cJSON_Delete(o);
            return NULL;
        }
        for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(snap, terms[i]);
            if (v != NULL)
                cJSON_AddItemToObject(card, terms[i], cJSON_Duplicate(v, 0));
        }
        if (!cJSON_HasObjectItem(card, "status"))
            cJSON_AddStringToObject(card, "status", "open");
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(state, "consent"), "personalisation");
    const cJSON *given = cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, "given") : p;
    if (cJSON_IsBool(given))
        cJSON_AddBoolToObject(consent, "personalisation", cJSON_IsTrue(given));
    else
        cJSON_AddNullToObject(consent, "personalisation");
    int signed_in = customer != NULL &&
                    strncmp(customer, PL_ACCOUNT_PREFIX, strlen(PL_ACCOUNT_PREFIX)) == 0;
    cJSON_AddBoolToObject(o, "signed_in", signed_in);
    return o;
}

void pl__hub_push(pl_server_t *s, const char *customer, const cJSON *state, int64_t version,
                  const pl_conn_t *except)
{
    cJSON *msg = NULL;
    for (pl_conn_t *c = s->conns; c != NULL; c = c->next) {
        if (c == except || !c->hello || c->closing || strcmp(c->customer, customer) != 0)
            continue;
        /* a version this connection was shown already (or a newer one) is not sent again:
         * the same change comes back from Redis, and changes may arrive out of order */
        if (version > 0 && version <= c->pushed_version)
            continue;
        if (msg == NULL && (msg = pl__hub_state_json(customer, state)) == NULL)
            return;
        if (c->busy) {
            /* its turn is running (waiting for the store): its reply and state go first */
            if (c->pending_state == NULL || version == 0 || version > c->pending_version) {
                cJSON_Delete(c->pending_state);
                c->pending_state = cJSON_Duplicate(msg, 1);
                c->pending_version = version;
            }
            continue;
        }
        pl__ws_send(c, msg);
        c->pushed_version = version;
    }
    cJSON_Delete(msg);
}

void pl__conn_set_customer(pl_conn_t *c, const char *customer)
{
    if (strcmp(c->customer, customer) == 0)
        return;
    pl_store_t *store = c->srv->store;
    if (c->customer[0] != '\0' && c->watching)
        pl_store_unwatch(store, c->customer);
    c->watching = 0;
    snprintf(c->customer, sizeof(c->customer), "%s", customer);
    c->pushed_version = 0;
    /* a WebSocket hears of changes made through other instances (Redis); best effort: a
     * failed subscription only means pushes come with this connection's next turn */
    if (c->ws && customer[0] != '\0')
        c->watching = pl_store_watch(store, customer) == 0;
}

/* A refresh after the change subscription was down: load and push what is there now. */
static void refresh_task(pl_task_t *t)
{
    pl_conn_t *c = t->conn;
    pl_server_t *s = c->srv;
    cJSON *state = NULL;
    int64_t version;
    if (c->wsi == NULL || c->customer[0] == '\0' ||
        pl_session_load_state(s->store, t->text, &state, &version) != 0)
        return;
    pl__hub_push(s, t->text, state, version, NULL);
    cJSON_Delete(state);
}

void pl__hub_changed(void *arg, const char *customer, int64_t version, const char *doc,
                      size_t len)
{
    pl_server_t *s = arg;
    if (version < 0) {
        for (pl_conn_t *c = s->conns; c != NULL; c = c->next)
            if (c->hello && !c->closing && !c->busy && strcmp(c->customer, customer) == 0) {
                size_t n = strlen(customer);
                char *name = malloc(n + 1);
                if (name != NULL) {
                    memcpy(name, customer, n + 1);
                    pl__task_start(c, refresh_task, name, n);
                }
                return; /* one load pushes to all of the customer's connections */
            }
        return;
    }
    if (version == 0) { /* erased elsewhere: nothing of them is shown any more */
        cJSON *empty = pl__hub_state_json(NULL, NULL);
        for (pl_conn_t *c = s->conns; c != NULL; c = c->next)
            if (c->hello && !c->closing && strcmp(c->customer, customer) == 0) {
                if (empty != NULL)
                    pl__ws_send(c, empty);
                pl__conn_set_customer(c, "");
            }
        cJSON_Delete(empty);
        return;
    }
    cJSON *state = cJSON_ParseWithLength(doc, len);
    if (state != NULL)
        pl__hub_push(s, customer, state, version, NULL);
    cJSON_Delete(state);
}


int pl__hub_turn(pl_server_t *s, int b, const char *user, const pl_event_t *ev,
                 pl_conn_t *from, pl_task_t *t, char customer[PL_STORE_MAX_KEY + 1],
                 cJSON **reply, cJSON **state_msg, pl_turn_t *turn_out, cJSON **state_keep)
{
    *reply = NULL;
    if (state_msg != NULL)
        *state_msg = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pl_turn_t local, *tp = turn_out ? turn_out : &local;
    pl_session_result_t res;
    /* a reload while the turn waits for the store must not free the bot under it, nor
     * under the reply, whose strings may be the bot's: the task lets go when it ends */
    pl_runtime_t *rt = s->bots.items[b].rt;
    if (t->nheld == (int)(sizeof(t->held) / sizeof(t->held[0])))
        return PL_ELIMIT;
    t->held[t->nheld++] = pl_runtime_ref(rt);
    int rc = pl_session_turn(rt, s->store, user, ev, &t->scratch, tp, &res);
    if (rc != 0)
        return rc;
    pl__metrics_turn(&s->metrics, ev->channel, seconds_since(&t0));
    cJSON *msgs = pl_reply_to_json(&tp->reply);
    cJSON *r = cJSON_CreateObject();
    if (msgs == NULL || r == NULL || !cJSON_AddStringToObject(r, "type", "reply") ||
        !cJSON_AddItemToObject(r, "messages", msgs)) {
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "messages")))
            cJSON_Delete(msgs);
        cJSON_Delete(r);
        cJSON_Delete(res.state);
        return PL_ENOMEM;
    }
    /* the connections that knew this customer by another id: before an erasure or a merge */
    char before[PL_STORE_MAX_KEY + 1];
    snprintf(before, sizeof(before), "%s",
             from != NULL && from->customer[0] ? from->customer : res.customer);
    if (from != NULL)
        pl__conn_set_customer(from, res.customer);
    if (from == NULL || customer != from->customer)
        memcpy(customer, res.customer, sizeof(res.customer));
    /* other connections of the same channel user (a second tab of a new visitor) did not know
     * the customer this turn may just have created */
    for (pl_conn_t *c = s->conns; c != NULL; c = c->next)
        if (c->hello && c->customer[0] == '\0' && c->channel == ev->channel &&
            strcmp(c->user, user) == 0)
            pl__conn_set_customer(c, res.customer);
    if (strcmp(before, res.customer) != 0)
        pl__hub_push(s, before, res.state, 0, from);
    pl__hub_push(s, res.customer, res.state, res.version, from);
    if (state_msg != NULL) {
        *state_msg = pl__hub_state_json(res.customer, res.state);
        if (from != NULL)
            from->pushed_version = res.version;
    }
    /* the turn's reply borrows offer titles from the state: whoever reads it keeps it */
    if (state_keep != NULL)
        *state_keep = res.state;
    else
        cJSON_Delete(res.state);
    *reply = r;
    return 0;
}

int pl__hub_has_screen(const pl_server_t *s, const char *customer)
{
    for (const pl_conn_t *c = s->conns; c != NULL; c = c->next)
        if (c->hello && !c->closing && strcmp(c->customer, customer) == 0)
            return 1;
    return 0;
}

void pl__hub_failed(pl_server_t *s, const char *what, int rc)
{
    int store = rc == PL_ESTORE || rc == PL_EBUSY;
    if (store)
        s->metrics.store_failures++;
    pl__srv_log(s, store ? PL_LOG_DEBUG : PL_LOG_ERROR, "%s failed: %s", what, pl_strerror(rc));
}
