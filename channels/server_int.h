/* Private to channels/: the server's state shared by its files (server.c runs the loop,
 * bots.c loads and reloads bots, http.c answers HTTP, ws.c speaks the WebSocket protocol,
 * hub.c runs turns and pushes state, metrics.c counts). */
#ifndef PL_SERVER_INT_H
#define PL_SERVER_INT_H

#include "server.h"
#include "runtime.h"
#include "session/session.h"

#include <libwebsockets.h>
#include <uv.h>
#include <signal.h>
#include <stdint.h>

#define PL_SRV_MAX_FRAME (64 * 1024)   /* bytes of one WebSocket message or HTTP body */
#define PL_SRV_MAX_DEPTH 32            /* JSON nesting */
#define PL_SRV_RATE_N 100              /* the most messages the rate limit may allow ... */
#define PL_SRV_RATE_WINDOW_MS 10000    /* ... per this window, per connection */
#define PL_SRV_QUEUE_MAX 1024          /* unsent messages ... */
#define PL_SRV_QUEUE_BYTES (1 << 20)   /* ... or bytes before a connection counts as stuck */
#define PL_SRV_MAX_BOTS 16
#define PL_SRV_APP_USERS 1024          /* app users whose recent turns are counted */
#define PL_SRV_WAITING_MAX 200         /* messages of one connection waiting for its task */
#define PL_SRV_TASKS_MAX 4096          /* requests running at once (waiting for the store) */

/* ---- bots (bots.c) ---- */

typedef struct {
    const char *path;
    pl_runtime_t *rt; /* the running version; replaced only by one that loads cleanly */
    size_t last_errors; /* errors of the latest reload that failed; 0 after a good one */
} pl_srv_bot_t;

typedef struct {
    pl_srv_bot_t items[PL_SRV_MAX_BOTS];
    size_t n;
    int inotify_fd;  /* -1 when file watching is not available */
    int dirty;       /* a watched file changed: reload at the next tick */
    int64_t dirty_at;
} pl_srv_bots_t;

/* ---- metrics (metrics.c) ---- */

enum { PL_SRV_LAT_BUCKETS = 10 };
typedef enum {
    PL_ERR_BAD_JSON,
    PL_ERR_TOO_DEEP,
    PL_ERR_NOT_UTF8,
    PL_ERR_UNKNOWN_TYPE,
    PL_ERR_HELLO_FIRST,
    PL_ERR_BAD_HELLO,
    PL_ERR_BAD_TOKEN,
    PL_ERR_BAD_REQUEST,
    PL_ERR_TOO_LONG,
    PL_ERR_RATE_LIMITED,
    PL_ERR_UNAVAILABLE,
    PL_ERR_TOO_LARGE,
    PL_ERR_ORIGIN,
    PL_ERR_VOICE_VERIFY,
    PL_ERR_COUNT
} pl_srv_err_t;

typedef struct {
    uint64_t turns[3]; /* by pl_channel_t */
    uint64_t lat_buckets[PL_SRV_LAT_BUCKETS + 1];
    double lat_sum;
    uint64_t lat_count;
    uint64_t errors[PL_ERR_COUNT];
    uint64_t reloads_ok, reloads_failed;
    int64_t open_connections;
    int store_down;          /* the store stopped answering and has not answered since */
    uint64_t store_outages;  /* how often it stopped answering */
    uint64_t store_failures; /* turns and requests that failed because of it */
    int64_t store_down_at;
} pl_srv_metrics_t;

/* ---- connections ---- */

typedef struct pl_out {
    struct pl_out *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the frame */
} pl_out_t;

/* A WebSocket message that came while the connection's task was running. */
typedef struct pl_queued {
    struct pl_queued *next;
    size_t len;
    char text[];
} pl_queued_t;

typedef struct pl_task pl_task_t;

/* One per connection, allocated on its first callback; libwebsockets' per-session data holds
 * only the pointer, so a task can outlive the connection (see task.c). */
typedef struct pl_conn {
    struct pl_server *srv;
    struct lws *wsi; /* NULL once the connection is gone */
    int refs;        /* libwebsockets' until it is gone, and one per running task */
    int busy;        /* a task of this connection is running */
    pl_task_t *task; /* ... this one */
    pl_queued_t *q_head, *q_tail; /* messages waiting for the task to end */
    size_t nq;
    int ready; /* in the server's list of connections with a queued message to start */
    struct pl_conn *ready_next;
    /* WebSocket */
    int ws, hello, no_origin, bad_origin, closing;
    int bot;
    pl_channel_t channel;
    char user[96];                      /* the channel user: the client id */
    char customer[PL_STORE_MAX_KEY + 1]; /* "" until known; set with pl__conn_set_customer */
    int watching;                        /* the store tells of the customer's changes */
    int64_t pushed_version;              /* of the customer's state this connection was sent */
    cJSON *pending_state;  /* a state push that came while its task ran: sent when it ends, */
    int64_t pending_version; /* after the task's own reply and state */
    char *rx;                            /* the message being received, in fragments */
    size_t rxlen;
    int64_t sent_at[PL_SRV_RATE_N];      /* when the last messages came, a ring */
    size_t sent_next;
    pl_out_t *out_head, *out_tail;
    size_t nout, outbytes;
    int close_code;
    struct pl_conn *prev, *next;         /* every open WebSocket */
    /* HTTP */
    int post;
    char path[160];
    char *body;
    size_t bodylen;
    int body_too_large;
    int responded; /* an answer is on its way: the rest of the body is not read */
    char *resp;
    size_t resplen;
    int status;
    const char *ctype;
} pl_conn_t;

typedef void (*pl_task_fn)(pl_task_t *t);

struct pl_task {
    pl_conn_t *conn;
    pl_task_fn fn;
    char *text; /* a WebSocket message (malloc'd, NUL-terminated), or NULL */
    size_t len;
    pl_arena_t scratch; /* the turn's strings live here until the task ends */
    pl_runtime_t *held[4]; /* bots its turns ran on: a reload frees none before it ends */
    int nheld;
    pl_task_t *next;    /* in the pool */
};

typedef struct pl_server {
    const pl_server_config_t *cfg;
    uv_loop_t loop;
    int loop_open;
    struct lws_context *ctx;
    pl_store_t *store;
    pl_srv_bots_t bots;
    /* tasks (task.c) */
    int tasks;                  /* running or waiting */
    pl_task_t *task_pool;       /* ended tasks kept for reuse, with their arenas */
    size_t ntask_pool;
    pl_conn_t *ready;           /* connections with a queued message to start */
    uv_idle_t drain;            /* ... started from the loop by this */
    pl_task_fn queued_fn;       /* what runs a queued message */
    pl_srv_metrics_t metrics;
    pl_conn_t *conns; /* open WebSockets */
    struct {
        uint64_t who; /* hash of the app user; 0: free */
        int64_t at[PL_SRV_RATE_N];
        size_t next;
    } app_rate[PL_SRV_APP_USERS];
    char own_origin[2][96];
    unsigned char demo_secret[48];
    lws_sorted_usec_list_t tick;
    int stopping;
    int64_t stop_at;
} pl_server_t;

extern volatile sig_atomic_t pl__srv_stop, pl__srv_reload;

/* server.c */
void pl__srv_log(const pl_server_t *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int64_t pl__srv_now_ms(void);

/* task.c: connections and the tasks that run for them */
/* The connection of this per-session data, allocated on first use (NULL: no session data,
 * or out of memory). */
pl_conn_t *pl__conn_of(pl_server_t *s, struct lws *wsi, void *pss);
/* LWS_CALLBACK_WSI_DESTROY: the connection is gone; freed once no task holds it. */
void pl__conn_gone(pl_server_t *s, void *pss);
void pl__conn_hold(pl_conn_t *c);
void pl__conn_release(pl_conn_t *c);
/* Runs fn in a task of c (it takes text, malloc'd, or NULL). Returns 0 (it may still be
 * running), or PL_ELIMIT (PL_SRV_TASKS_MAX are running) or PL_ENOMEM when it could not
 * start (fn did not run, text is freed). */
int pl__task_start(pl_conn_t *c, pl_task_fn fn, char *text, size_t len);
/* Keeps a copy of a message for when c's task has ended; PL_ELIMIT when too many wait. */
int pl__task_queue(pl_conn_t *c, const char *text, size_t len);
void pl__tasks_init(pl_server_t *s, pl_task_fn queued_fn);
void pl__tasks_close(pl_server_t *s);

/* bots.c */
int pl__bots_load(pl_server_t *s);
void pl__bots_watch(pl_server_t *s);
void pl__bots_check(pl_server_t *s, int force);
void pl__bots_free(pl_server_t *s);
/* The bot for a request: by id, else the first in language ("de"/"en"), else the first. */
int pl__bots_pick(const pl_server_t *s, const char *id, const char *language);

/* metrics.c */
void pl__metrics_turn(pl_srv_metrics_t *m, pl_channel_t ch, double seconds);
char *pl__metrics_text(const pl_server_t *s, size_t *len); /* malloc'd Prometheus text */
const char *pl__err_code(pl_srv_err_t e);

/* hub.c: turns and the customers' connections */
/* Runs ev for channel user `user` with bot b in task t (its strings in t's scratch); *reply is
 * {"type":"reply","messages":[...]}.
 * Pushes the new state to the customer's other connections (not to `from`, whose state
 * message comes back in *state_msg, when asked, to be sent after the reply). Returns 0 or
 * the session's error. */
int pl__hub_turn(pl_server_t *s, int b, const char *user, const pl_event_t *ev,
                 pl_conn_t *from, pl_task_t *t, char customer[PL_STORE_MAX_KEY + 1],
                 cJSON **reply, cJSON **state_msg, pl_turn_t *turn, cJSON **state_keep);
/* Counts and logs a request that failed with rc (what: "a turn", "an app turn", ...). Store
 * failures are logged at debug level: the store's own outage line says it once. */
void pl__hub_failed(pl_server_t *s, const char *what, int rc);
/* 1 when the customer has a web or app WebSocket open. */
int pl__hub_has_screen(const pl_server_t *s, const char *customer);
/* {"type":"state", ...} for the customer's state (NULL: nothing stored yet). */
cJSON *pl__hub_state_json(const char *customer, const cJSON *state);
/* Sends the customer's state (at version; 0: unversioned) to every open WebSocket of
 * theirs except `except` that was not sent that version or a newer one yet. */
void pl__hub_push(pl_server_t *s, const char *customer, const cJSON *state, int64_t version,
                  const pl_conn_t *except);
/* The connection now belongs to customer ("": none); watches their changes in the store. */
void pl__conn_set_customer(pl_conn_t *c, const char *customer);
/* The store's events.change (arg: the server): pushes changes made elsewhere. */
void pl__hub_changed(void *arg, const char *customer, int64_t version, const char *doc,
                     size_t len);

/* ws.c */
/* A WebSocket message, taken in a task (t->text). */
void pl__ws_message_task(pl_task_t *t);
int pl__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);
/* Queues a JSON object for a WebSocket (takes nothing; the caller still owns o). */
void pl__ws_send(pl_conn_t *c, const cJSON *o);
void pl__ws_close(pl_conn_t *c, int code);

/* http.c */
int pl__http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);

/* voice_alexa.c: the answer (and *status) to one voice request with this raw body, in its
 * task (whose connection's headers carry the signature). */
cJSON *pl__voice_alexa(pl_task_t *t, const char *body, size_t len, int *status);

/* json_limits.c */
/* Nesting depth of the JSON text (brackets outside strings). */
int pl__json_depth(const char *s, size_t len);
/* Parses a JSON object within the limits: NULL with *err set (and a message in msg). */
cJSON *pl__json_parse(const char *s, size_t len, pl_srv_err_t *err, char *msg, size_t msglen);

#endif
