/* Subscriptions to customers' change channels (see redis_watch.h). The watched customers are
 * kept in a small hash table with counts; the connection subscribes to each once. When the
 * connection fails, a timer connects again and subscribes to all of them anew; once that is
 * confirmed, every watched customer is reported as "may have missed changes" (version -1). Messages
 * are "VERSION DOCUMENT", or "0" for an erasure. */
#include "session/redis_watch.h"
#include "session/redis_async.h"
#include "base/error.h"
#include "base/hash.h"

#include <hiredis/async.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024
#define RECONNECT_MS 250
#define CHANNEL_PREFIX "parley:push:"

typedef struct entry {
    struct entry *next;
    int count;
    char customer[];
} entry_t;

struct pl_redis_watch {
    pl_redis_endpoint_t at;
    redisAsyncContext *ac; /* NULL: not connected */
    pl_redis_change_fn change;
    void *arg;
    entry_t *buckets[BUCKETS];
    size_t nwatched;
    uv_timer_t timer;
    int lost; /* the subscription was down: report everything as possibly missed */
    int closing;
};

int pl_redis_watch_channel(char *out, size_t cap, int db, const char *customer)
{
    int n = snprintf(out, cap, CHANNEL_PREFIX "%d:%s", db, customer);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static entry_t **slot_of(pl_redis_watch_t *w, const char *customer)
{
    entry_t **p = &w->buckets[pl_hash(customer, strlen(customer)) % BUCKETS];
    while (*p != NULL && strcmp((*p)->customer, customer) != 0)
        p = &(*p)->next;
    return p;
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv);

static void send_sub(pl_redis_watch_t *w, const char *verb, const char *customer)
{
    char ch[400];
    int n = pl_redis_watch_channel(ch, sizeof(ch), w->at.db, customer);
    if (w->ac == NULL || n < 0)
        return;
    const char *argv[] = {verb, ch};
    const size_t len[] = {strlen(verb), (size_t)n};
    redisAsyncCommandArgv(w->ac, on_message, w, 2, argv, len);
}

/* Every watched customer may have changed unheard: each is reported with version -1. */
static void report_all(pl_redis_watch_t *w)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (entry_t *e = w->buckets[b]; e != NULL; e = e->next)
            w->change(w->arg, e->customer, -1, NULL, 0);
}

/* ["message", channel, payload]. The first subscription confirmed after an outage reports
 * everything as possibly missed; failures (NULL) are left to the timer. */
static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    pl_redis_watch_t *w = priv;
    redisReply *r = reply;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(r->element[0]->str, "subscribe") == 0 && w->lost && !w->closing) {
        w->lost = 0;
        report_all(w);
        return;
    }
    if (strcmp(r->element[0]->str, "message") != 0 || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    char prefix[64];
    int plen = snprintf(prefix, sizeof(prefix), CHANNEL_PREFIX "%d:", w->at.db);
    const char *ch = r->element[1]->str;
    if ((size_t)plen >= r->element[1]->len || strncmp(ch, prefix, (size_t)plen) != 0)
        return;
    const char *customer = ch + plen, *p = r->element[2]->str;
    char *end;
    long long version = strtoll(p, &end, 10);
    if (end == p || version < 0)
        return;
    const char *doc = *end == ' ' ? end + 1 : NULL;
    size_t len = doc ? r->element[2]->len - (size_t)(doc - p) : 0;
    if (version > 0 && doc == NULL)
        return;
    w->change(w->arg, customer, version, version > 0 ? doc : NULL, len);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    pl_redis_watch_t *w = ac->data;
    if (status != REDIS_OK && w->ac == ac) {
        w->ac = NULL; /* hiredis frees it; the timer tries again */
        w->lost = 1;
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    pl_redis_watch_t *w = ac->data;
    if (w->ac == ac) {
        w->ac = NULL;
        w->lost = 1;
    }
}

/* Connects and subscribes to every watched customer; after an outage, reports them all. */
static void connect_and_subscribe(pl_redis_watch_t *w)
{
    char why[600];
    w->ac = pl_redis_endpoint_connect(&w->at, w, on_connect, on_disconnect, NULL, why, sizeof(why));
    if (w->ac == NULL) {
        w->lost = 1; /* the timer tries again; the command connection reports the outage */
        return;
    }
    for (size_t b = 0; b < BUCKETS; b++)
        for (entry_t *e = w->buckets[b]; e != NULL; e = e->next)
            send_sub(w, "SUBSCRIBE", e->customer);
}

static void tick(uv_timer_t *t)
{
    pl_redis_watch_t *w = t->data;
    if (w->closing || w->ac != NULL || w->nwatched == 0)
        return;
    connect_and_subscribe(w);
}

pl_redis_watch_t *pl_redis_watch_new(uv_loop_t *loop, const char *host, int port, int db,
                                     const char *password, pl_redis_change_fn change, void *arg)
{
    pl_redis_watch_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    if (pl_redis_endpoint_init(&w->at, loop, host, port, db, password) != 0) {
        free(w);
        return NULL;
    }
    w->change = change;
    w->arg = arg;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, tick, RECONNECT_MS, RECONNECT_MS);
    return w;
}

int pl_redis_watch_add(pl_redis_watch_t *w, const char *customer)
{
    entry_t **p = slot_of(w, customer);
    if (*p != NULL) {
        (*p)->count++;
        return 0;
    }
    size_t n = strlen(customer);
    entry_t *e = malloc(sizeof(*e) + n + 1);
    if (e == NULL)
        return PL_ENOMEM;
    e->next = NULL;
    e->count = 1;
    memcpy(e->customer, customer, n + 1);
    *p = e;
    w->nwatched++;
    if (w->ac == NULL && !w->closing)
        connect_and_subscribe(w); /* subscribes to all, this one too */
    else
        send_sub(w, "SUBSCRIBE", customer);
    return 0;
}

void pl_redis_watch_remove(pl_redis_watch_t *w, const char *customer)
{
    entry_t **p = slot_of(w, customer);
    if (*p == NULL || --(*p)->count > 0)
        return;
    entry_t *e = *p;
    *p = e->next;
    w->nwatched--;
    send_sub(w, "UNSUBSCRIBE", customer);
    free(e);
}

static void timer_closed(uv_handle_t *h)
{
    pl_redis_watch_t *w = h->data;
    for (size_t b = 0; b < BUCKETS; b++)
        while (w->buckets[b] != NULL) {
            entry_t *e = w->buckets[b];
            w->buckets[b] = e->next;
            free(e);
        }
    pl_redis_endpoint_cleanup(&w->at);
    free(w);
}

void pl_redis_watch_free(pl_redis_watch_t *w)
{
    if (w == NULL)
        return;
    w->closing = 1;
    if (w->ac != NULL) {
        redisAsyncContext *ac = w->ac;
        w->ac = NULL;
        redisAsyncFree(ac);
    }
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, timer_closed);
}
