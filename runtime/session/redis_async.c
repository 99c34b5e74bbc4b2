/* hiredis' asynchronous API on a libuv loop, for fibers (see redis_async.h). Each waiting
 * command is a waiter on its fiber's stack, in a list oldest first; the reply callback takes
 * it off and resumes its fiber. A timer, running while anything waits, drops the connection
 * when the oldest command has waited too long: hiredis then fails every waiting command, so no
 * fiber is left waiting for an answer that will not come. */
#include "session/redis_async.h"
#include "base/error.h"
#include "base/fiber.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK_EVERY_MS 100

typedef struct waiter {
    struct waiter *prev, *next;
    pl_fiber_t *fiber;
    redisReply *reply;
    int done;
    int64_t sent_ms;
} waiter_t;

struct pl_redis_async {
    pl_redis_endpoint_t at;
    redisAsyncContext *ac; /* NULL: not connected */
    int64_t retry_at;
    uv_timer_t timer;
    int timer_on;
    waiter_t *head, *tail; /* oldest first */
    int up;                /* what notify was last told (starts as up) */
    pl_redis_notify_fn notify;
    void *notify_arg;
    int closing;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void set_up(pl_redis_async_t *a, int up, const char *why)
{
    if (a->up == up)
        return;
    a->up = up;
    if (a->notify != NULL)
        a->notify(a->notify_arg, up, why);
}

static void unlink_waiter(pl_redis_async_t *a, waiter_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        a->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        a->tail = w->prev;
    w->prev = w->next = NULL;
}

/* Drops the connection: hiredis calls every waiting command back with no reply. */
static void drop(pl_redis_async_t *a, const char *why)
{
    redisAsyncContext *ac = a->ac;
    a->ac = NULL;
    a->retry_at = now_ms() + PL_REDIS_RETRY_PAUSE_MS;
    set_up(a, 0, why);
    if (ac != NULL)
        redisAsyncFree(ac);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    waiter_t *w = priv;
    pl_redis_async_t *a = ac->data;
    unlink_waiter(a, w);
    w->reply = reply;
    w->done = 1;
    if (reply != NULL)
        set_up(a, 1, NULL);
    pl_fiber_resume(w->fiber); /* the reply is read before hiredis frees it on return */
}

static void check_timeouts(uv_timer_t *t)
{
    pl_redis_async_t *a = t->data;
    if (a->head == NULL) {
        uv_timer_stop(t);
        a->timer_on = 0;
        return;
    }
    if (now_ms() - a->head->sent_ms > PL_REDIS_TIMEOUT_MS) {
        char why[600];
        snprintf(why, sizeof(why), "redis %s:%d: no answer within %d ms", a->at.host, a->at.port,
                 PL_REDIS_TIMEOUT_MS);
        drop(a, why);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    pl_redis_async_t *a = ac->data;
    if (status == REDIS_OK || a->ac != ac)
        return;
    /* hiredis frees the context after this and fails the commands queued on it */
    char why[600];
    snprintf(why, sizeof(why), "redis %s:%d: cannot connect: %s", a->at.host, a->at.port,
             ac->errstr);
    a->ac = NULL;
    a->retry_at = now_ms() + PL_REDIS_RETRY_PAUSE_MS;
    set_up(a, 0, why);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    pl_redis_async_t *a = ac->data;
    if (a->ac != ac)
        return; /* dropped by us */
    a->ac = NULL;
    if (status != REDIS_OK) {
        char why[600];
        snprintf(why, sizeof(why), "redis %s:%d: connection lost: %s", a->at.host, a->at.port,
                 ac->errstr);
        set_up(a, 0, why);
    }
}

/* AUTH and SELECT: a refusal drops the connection (the commands behind them fail too). */
static void on_setup(redisAsyncContext *ac, void *reply, void *priv)
{
    pl_redis_async_t *a = ac->data;
    redisReply *r = reply;
    (void)priv;
    if (r == NULL || r->type != REDIS_REPLY_ERROR || a->ac != ac)
        return;
    char why[600];
    snprintf(why, sizeof(why), "redis %s:%d: %s refused: %.200s", a->at.host, a->at.port,
             priv ? "AUTH (the Redis password)" : "SELECT", r->str);
    a->ac = NULL;
    a->retry_at = now_ms() + PL_REDIS_RETRY_PAUSE_MS;
    set_up(a, 0, why);
    redisAsyncDisconnect(ac);
}

int pl_redis_endpoint_init(pl_redis_endpoint_t *e, uv_loop_t *loop, const char *host, int port,
                           int db, const char *password)
{
    memset(e, 0, sizeof(*e));
    e->loop = loop;
    snprintf(e->host, sizeof(e->host), "%s", host);
    e->port = port;
    e->db = db;
    if (password != NULL && (e->password = strdup(password)) == NULL)
        return PL_ENOMEM;
    return 0;
}

void pl_redis_endpoint_cleanup(pl_redis_endpoint_t *e)
{
    free(e->password);
    e->password = NULL;
}

redisAsyncContext *pl_redis_endpoint_connect(const pl_redis_endpoint_t *e, void *data,
                                             redisConnectCallback *connected,
                                             redisDisconnectCallback *disconnected,
                                             redisCallbackFn *on_auth, char *why, size_t whylen)
{
    redisAsyncContext *ac = redisAsyncConnect(e->host, e->port);
    if (ac == NULL || ac->err || redisLibuvAttach(ac, e->loop) != REDIS_OK) {
        snprintf(why, whylen, "redis %s:%d: cannot connect: %s", e->host, e->port,
                 ac == NULL ? "out of memory" : ac->err ? ac->errstr : "cannot use the loop");
        if (ac != NULL)
            redisAsyncFree(ac);
        return NULL;
    }
    ac->data = data;
    redisAsyncSetConnectCallback(ac, connected);
    redisAsyncSetDisconnectCallback(ac, disconnected);
    /* queued now, sent once connected, answered before anything queued after it */
    if (e->password != NULL) {
        const char *auth[] = {"AUTH", e->password};
        redisAsyncCommandArgv(ac, on_auth, data, 2, auth, NULL);
    }
    return ac;
}

static int connect_async(pl_redis_async_t *a)
{
    if (now_ms() < a->retry_at)
        return -1;
    char why[600];
    a->ac = pl_redis_endpoint_connect(&a->at, a, on_connect, on_disconnect, on_setup, why,
                                      sizeof(why));
    if (a->ac == NULL) {
        a->retry_at = now_ms() + PL_REDIS_RETRY_PAUSE_MS;
        set_up(a, 0, why);
        return -1;
    }
    if (a->at.db != 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", a->at.db);
        const char *sel[] = {"SELECT", db};
        redisAsyncCommandArgv(a->ac, on_setup, NULL, 2, sel, NULL);
    }
    return 0;
}

pl_redis_async_t *pl_redis_async_new(uv_loop_t *loop, const char *host, int port, int db,
                                     const char *password, pl_redis_notify_fn notify, void *arg)
{
    pl_redis_async_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    if (pl_redis_endpoint_init(&a->at, loop, host, port, db, password) != 0) {
        free(a);
        return NULL;
    }
    a->up = 1;
    a->notify = notify;
    a->notify_arg = arg;
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    return a;
}

redisReply *pl_redis_async_command(pl_redis_async_t *a, int argc, const char **argv,
                                   const size_t *len)
{
    if (a->closing || (a->ac == NULL && connect_async(a) != 0))
        return NULL;
    waiter_t w = {.fiber = pl_fiber_current(), .sent_ms = now_ms()};
    if (w.fiber == NULL || redisAsyncCommandArgv(a->ac, on_reply, &w, argc, argv, len) != REDIS_OK)
        return NULL;
    /* The waiter lives on this fiber's stack, which stays put until the reply (or the failure)
     * has taken it off the list again: the pointer never outlives it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
    w.prev = a->tail;
    if (a->tail)
        a->tail->next = &w;
    else
        a->head = &w;
    a->tail = &w;
#pragma GCC diagnostic pop
    if (!a->timer_on) {
        a->timer_on = 1;
        uv_timer_start(&a->timer, check_timeouts, CHECK_EVERY_MS, CHECK_EVERY_MS);
    }
    while (!w.done)
        pl_fiber_wait();
    return w.reply;
}

typedef struct {
    uv_timer_t t;
    pl_fiber_t *fiber;
    int fired, closed;
} sleeper_t;

static void sleeper_fired(uv_timer_t *t)
{
    sleeper_t *s = t->data;
    s->fired = 1;
    pl_fiber_resume(s->fiber);
}

static void sleeper_closed(uv_handle_t *h)
{
    sleeper_t *s = h->data;
    s->closed = 1;
    pl_fiber_resume(s->fiber);
}

void pl_redis_async_sleep(pl_redis_async_t *a, int ms)
{
    sleeper_t s = {.fiber = pl_fiber_current()};
    if (s.fiber == NULL)
        return;
    uv_timer_init(a->at.loop, &s.t);
    s.t.data = &s;
    uv_timer_start(&s.t, sleeper_fired, (uint64_t)(ms > 0 ? ms : 0), 0);
    while (!s.fired)
        pl_fiber_wait();
    /* the handle lives on this fiber's stack: wait until libuv is done with it */
    uv_close((uv_handle_t *)&s.t, sleeper_closed);
    while (!s.closed)
        pl_fiber_wait();
}

static void timer_closed(uv_handle_t *h)
{
    pl_redis_async_t *a = h->data;
    pl_redis_endpoint_cleanup(&a->at);
    free(a);
}

void pl_redis_async_free(pl_redis_async_t *a)
{
    if (a == NULL)
        return;
    a->closing = 1;
    a->notify = NULL;
    if (a->ac != NULL) {
        redisAsyncContext *ac = a->ac;
        a->ac = NULL;
        redisAsyncFree(ac);
    }
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, timer_closed);
}
