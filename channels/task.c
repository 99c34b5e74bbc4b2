/* Connections and the tasks that run for them. A request that may reach the store runs as a
 * task: a fiber (base/fiber.h) with its own scratch arena, holding a reference to its
 * connection. With the memory or SQLite store a task ends before its callback returns; with
 * Redis it pauses while Redis answers, the loop serves everyone else meanwhile, and the task
 * goes on when the reply comes. A connection runs one task at a time: WebSocket messages that
 * arrive meanwhile wait in order in its queue and are started from the loop (never from
 * inside another task's fiber, so fibers do not nest without bound). A connection that closes
 * while its task waits stays allocated until the task ends; sends to it are dropped. */
#include "server_int.h"
#include "base/error.h"
#include "base/fiber.h"

#include <stdlib.h>
#include <string.h>

#define TASK_POOL_MAX 64
#define TASK_ARENA_CHUNK (64 * 1024)

pl_conn_t *pl__conn_of(pl_server_t *s, struct lws *wsi, void *pss)
{
    pl_conn_t **slot = pss;
    if (slot == NULL)
        return NULL;
    if (*slot == NULL) {
        pl_conn_t *c = calloc(1, sizeof(*c));
        if (c == NULL)
            return NULL;
        c->srv = s;
        c->wsi = wsi;
        c->refs = 1; /* libwebsockets' own, until LWS_CALLBACK_WSI_DESTROY */
        *slot = c;
    }
    return *slot;
}

void pl__conn_hold(pl_conn_t *c)
{
    c->refs++;
}

void pl__conn_release(pl_conn_t *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    while (c->q_head != NULL) {
        pl_queued_t *n = c->q_head->next;
        free(c->q_head);
        c->q_head = n;
    }
    cJSON_Delete(c->pending_state);
    free(c->rx);
    free(c->body);
    free(c->resp);
    free(c);
}

void pl__conn_gone(pl_server_t *s, void *pss)
{
    pl_conn_t **slot = pss;
    if (slot == NULL || *slot == NULL)
        return;
    pl_conn_t *c = *slot;
    *slot = NULL;
    c->wsi = NULL;
    if (c->ready) { /* waiting to be drained: unlink */
        for (pl_conn_t **p = &s->ready; *p != NULL; p = &(*p)->ready_next)
            if (*p == c) {
                *p = c->ready_next;
                break;
            }
        c->ready = 0;
        pl__conn_release(c);
    }
    pl__conn_release(c);
}

static pl_task_t *task_new(pl_server_t *s)
{
    pl_task_t *t = s->task_pool;
    if (t != NULL) {
        s->task_pool = t->next;
        s->ntask_pool--;
        return t;
    }
    t = calloc(1, sizeof(*t));
    if (t != NULL)
        pl_arena_init(&t->scratch, TASK_ARENA_CHUNK);
    return t;
}

static void task_free(pl_server_t *s, pl_task_t *t)
{
    free(t->text);
    t->text = NULL;
    while (t->nheld > 0)
        pl_runtime_unref(t->held[--t->nheld]);
    if (s->ntask_pool < TASK_POOL_MAX) {
        pl_arena_reset(&t->scratch);
        t->next = s->task_pool;
        s->task_pool = t;
        s->ntask_pool++;
        return;
    }
    pl_arena_cleanup(&t->scratch);
    free(t);
}

static void drain_cb(uv_idle_t *idle);

/* The connection has queued messages and no task: start the next one from the loop. */
static void mark_ready(pl_server_t *s, pl_conn_t *c)
{
    if (c->ready || c->wsi == NULL)
        return;
    c->ready = 1;
    pl__conn_hold(c);
    c->ready_next = s->ready;
    s->ready = c;
    uv_idle_start(&s->drain, drain_cb);
}

static void task_main(void *arg)
{
    pl_task_t *t = arg;
    pl_conn_t *c = t->conn;
    pl_server_t *s = c->srv;
    t->fn(t);
    c->task = NULL;
    c->busy = 0;
    if (c->pending_state != NULL) { /* a push that came meanwhile, unless this turn was newer */
        if (c->pending_version == 0 || c->pending_version > c->pushed_version) {
            pl__ws_send(c, c->pending_state);
            c->pushed_version = c->pending_version;
        }
        cJSON_Delete(c->pending_state);
        c->pending_state = NULL;
    }
    s->tasks--;
    if (c->q_head != NULL)
        mark_ready(s, c);
    task_free(s, t);
    pl__conn_release(c);
}

int pl__task_start(pl_conn_t *c, pl_task_fn fn, char *text, size_t len)
{
    pl_server_t *s = c->srv;
    if (s->tasks >= PL_SRV_TASKS_MAX) { /* each holds a stack while it waits: bounded */
        free(text);
        return PL_ELIMIT;
    }
    pl_task_t *t = task_new(s);
    if (t == NULL) {
        free(text);
        return PL_ENOMEM;
    }
    t->conn = c;
    t->fn = fn;
    t->text = text;
    t->len = len;
    pl__conn_hold(c);
    c->busy = 1;
    c->task = t;
    s->tasks++;
    pl_fiber_t *f = NULL;
    int rc = pl_fiber_start(task_main, t, &f);
    if (rc != 0) {
        c->task = NULL;
        c->busy = 0;
        s->tasks--;
        task_free(s, t);
        pl__conn_release(c);
    }
    return rc;
}

int pl__task_queue(pl_conn_t *c, const char *text, size_t len)
{
    if (c->nq >= PL_SRV_WAITING_MAX)
        return PL_ELIMIT;
    pl_queued_t *q = malloc(sizeof(*q) + len + 1);
    if (q == NULL)
        return PL_ENOMEM;
    q->next = NULL;
    q->len = len;
    memcpy(q->text, text, len);
    q->text[len] = '\0';
    if (c->q_tail)
        c->q_tail->next = q;
    else
        c->q_head = q;
    c->q_tail = q;
    c->nq++;
    if (!c->busy)
        mark_ready(c->srv, c);
    return 0;
}

/* Starts the first queued message of every ready connection (each keeps its order). */
static void drain_cb(uv_idle_t *idle)
{
    pl_server_t *s = idle->data;
    pl_conn_t *list = s->ready;
    s->ready = NULL;
    uv_idle_stop(idle);
    while (list != NULL) {
        pl_conn_t *c = list;
        list = c->ready_next;
        c->ready = 0;
        if (c->wsi != NULL && !c->busy && c->q_head != NULL) {
            pl_queued_t *q = c->q_head;
            c->q_head = q->next;
            if (c->q_head == NULL)
                c->q_tail = NULL;
            c->nq--;
            /* the queued block becomes the task's text: moved, not copied */
            size_t n = q->len;
            memmove(q, q->text, n + 1);
            pl__task_start(c, s->queued_fn, (char *)q, n);
        }
        pl__conn_release(c);
    }
}

void pl__tasks_init(pl_server_t *s, pl_task_fn queued_fn)
{
    s->queued_fn = queued_fn;
    uv_idle_init(&s->loop, &s->drain);
    s->drain.data = s;
}

void pl__tasks_close(pl_server_t *s)
{
    uv_idle_stop(&s->drain);
    uv_close((uv_handle_t *)&s->drain, NULL);
    while (s->task_pool != NULL) {
        pl_task_t *t = s->task_pool;
        s->task_pool = t->next;
        pl_arena_cleanup(&t->scratch);
        free(t);
    }
    s->ntask_pool = 0;
    pl_fiber_release_pool();
}
