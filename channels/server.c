/* parley serve's event loop (see server.h): one libuv loop carrying one libwebsockets context
 * on one port (and, with the Redis store, hiredis' connections: nothing waits for Redis on this
 * thread), the store, the bots; a tick every 250 ms for reloads and the shutdown; SIGHUP
 * reloads, SIGTERM/SIGINT stop accepting, close every WebSocket with 1001, close the store,
 * exit 0. */
#include "server_int.h"
#include "base/error.h"
#include "voice.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t pl__srv_stop, pl__srv_reload;

#define TICK_US (250 * LWS_US_PER_MS)
#define SHUTDOWN_GRACE_MS 3000

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void pl__srv_log(const pl_server_t *s, int level, const char *fmt, ...)
{
    if (level > s->cfg->log_level)
        return;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s parley serve: %s: ", when, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int64_t pl__srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The store stopped or started answering: one log line each way, and the metrics. */
static void on_store(void *arg, int up, const char *why)
{
    pl_server_t *s = arg;
    pl_srv_metrics_t *m = &s->metrics;
    if (!up) {
        m->store_down = 1;
        m->store_outages++;
        m->store_down_at = pl__srv_now_ms();
        pl__srv_log(s, PL_LOG_ERROR, "the store does not answer (%s); customers are asked to "
                    "try again until it does", why ? why : "no reason given");
        return;
    }
    m->store_down = 0;
    pl__srv_log(s, PL_LOG_INFO, "the store answers again after %lld ms",
                (long long)(pl__srv_now_ms() - m->store_down_at));
}

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        pl__srv_reload = 1;
    else
        pl__srv_stop = 1;
}

static int protocol_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    return pl__ws_callback(wsi, reason, user, in, len);
}

/* Browsers' chat libraries often ask for no subprotocol: the first protocol takes those. The
 * session data is a pointer to the connection (task.c). */
static const struct lws_protocols protocols[] = {
    {"parley.v1", protocol_cb, sizeof(pl_conn_t *), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void begin_shutdown(pl_server_t *s)
{
    s->stopping = 1;
    s->stop_at = pl__srv_now_ms();
    pl__srv_log(s, PL_LOG_INFO, "stopping: closing %lld connection(s)",
                (long long)s->metrics.open_connections);
    for (pl_conn_t *c = s->conns; c != NULL; c = c->next)
        pl__ws_close(c, LWS_CLOSE_STATUS_GOINGAWAY);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    pl_server_t *s = lws_container_of(sul, pl_server_t, tick);
    if (pl__srv_stop && !s->stopping)
        begin_shutdown(s);
    if (s->stopping && (s->conns == NULL || pl__srv_now_ms() - s->stop_at > SHUTDOWN_GRACE_MS)) {
        /* the first step of destroying the context, inside the loop: libwebsockets closes its
         * handles as the loop runs on, the store closes its connections (Redis), and uv_run
         * returns when none is left */
        pl_store_detach_loop(s->store);
        lws_context_destroy(s->ctx);
        return;
    }
    if (!s->stopping) {
        int force = pl__srv_reload;
        pl__srv_reload = 0;
        if (force)
            pl__srv_log(s, PL_LOG_INFO, "SIGHUP: reloading the bots");
        pl__bots_check(s, force);
    }
    lws_sul_schedule(s->ctx, 0, &s->tick, tick, TICK_US);
}

/* Finishes destroying the context (it sets s->ctx to NULL once it is gone), runs the loop
 * until every handle has closed, then closes the loop. */
static void close_loop(pl_server_t *s)
{
    if (!s->loop_open)
        return;
    pl_store_detach_loop(s->store);
    pl__tasks_close(s);
    for (int i = 0; i < 1000 && s->ctx != NULL; i++) {
        lws_context_destroy(s->ctx);
        uv_run(&s->loop, UV_RUN_NOWAIT);
    }
    for (int i = 0; i < 1000 && uv_loop_close(&s->loop) == UV_EBUSY; i++)
        uv_run(&s->loop, UV_RUN_NOWAIT);
    s->loop_open = 0;
}

/* "127.0.0.1" binds only there: with IPv6 on, libwebsockets 4.1 would listen on every
 * interface, so IPv6 is switched off for an IPv4 address. */
static struct lws_context *make_context(pl_server_t *s)
{
    const pl_server_config_t *cfg = s->cfg;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = cfg->port;
    info.iface = cfg->host;
    info.protocols = protocols;
    info.user = s;
    /* libwebsockets runs on our libuv loop, which other libraries (hiredis) share */
    info.options = LWS_SERVER_OPTION_LIBUV;
    void *loops[1] = {&s->loop};
    info.foreign_loops = loops;
    info.pcontext = &s->ctx; /* set to NULL when the context is gone */
    if (strchr(cfg->host, ':') == NULL)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 10;
    info.max_http_header_data = 8192;
    info.pt_serv_buf_size = 64 * 1024 + LWS_PRE;
    return lws_create_context(&info);
}

int pl_server_run(const pl_server_config_t *cfg)
{
    static pl_server_t srv;
    pl_server_t *s = &srv;
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    lws_set_log_level(cfg->log_level >= PL_LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, NULL);
    char err[256] = "";
    int rc = pl_store_open(cfg->store, &s->store, err, sizeof(err));
    if (rc != 0) {
        pl__srv_log(s, PL_LOG_ERROR, "cannot open the store %s: %s", cfg->store,
                    err[0] ? err : pl_strerror(rc));
        return rc;
    }
    rc = pl__bots_load(s);
    if (rc == 0) {
        if (uv_loop_init(&s->loop) != 0) {
            pl__srv_log(s, PL_LOG_ERROR, "cannot start the event loop");
            rc = PL_EIO;
        } else {
            s->loop_open = 1;
            pl__tasks_init(s, pl__ws_message_task);
            pl_store_events_t events = {.status = on_store, .change = pl__hub_changed, .arg = s};
            rc = pl_store_attach_loop(s->store, &s->loop, &events);
        }
        if (rc == 0)
            s->ctx = make_context(s);
        if (rc == 0 && s->ctx == NULL) {
            pl__srv_log(s, PL_LOG_ERROR, "cannot listen on %s port %d (in use, or not an address of "
                        "this machine?)", cfg->host, cfg->port);
            rc = PL_EIO;
        }
    }
    if (rc != 0) {
        close_loop(s);
        pl__bots_free(s);
        pl_store_close(s->store);
        return rc;
    }
    int port = lws_get_vhost_listen_port(lws_get_vhost_by_name(s->ctx, "default"));
    int v6 = strchr(cfg->host, ':') != NULL;
    snprintf(s->own_origin[0], sizeof(s->own_origin[0]), v6 ? "http://[%s]:%d" : "http://%s:%d",
             cfg->host, port);
    snprintf(s->own_origin[1], sizeof(s->own_origin[1]), "http://localhost:%d", port);
    pl__bots_watch(s);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lws_sul_schedule(s->ctx, 0, &s->tick, tick, TICK_US);
    pl__srv_log(s, PL_LOG_INFO, "listening on http://%s%s%s:%d (store %s)", v6 ? "[" : "",
                cfg->host, v6 ? "]" : "", port, cfg->store);
    fprintf(stdout, "parley serve: listening on http://%s%s%s:%d\n", v6 ? "[" : "", cfg->host,
            v6 ? "]" : "", port);
    fflush(stdout);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    close_loop(s);
    pl_voice_trust_release();
    pl__bots_free(s);
    pl_store_close(s->store);
    pl__srv_log(s, PL_LOG_INFO, "stopped");
    return 0;
}
