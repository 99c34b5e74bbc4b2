/* HTTP routes of parley serve (channels/README.md): the static files of the demo and the
 * widget, /healthz, /metrics, /v1/capabilities, the app channel (POST /v1/app/messages with a
 * bearer token) and, with --demo, /demo/token. Every answer is JSON or a file; errors are
 * {"type":"error","code":...,"message":...} with the fitting status. */
#include "server_int.h"
#include "base/error.h"
#include "base/hash.h"
#include "render/manifest.h"
#include "session/identity_jwt.h"
#include "session/sign_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Keeps a response for the writeable callback (takes body, malloc'd). A connection that went
 * while its task waited for the store gets nothing. */
static int respond(pl_conn_t *c, int status, const char *ctype, char *body, size_t len)
{
    struct lws *wsi = c->wsi;
    if (c->responded || wsi == NULL) {
        free(body);
        return 0;
    }
    c->responded = 1;
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof(buf) - 1;
    free(c->resp);
    c->resp = body;
    c->resplen = len;
    if (lws_add_http_common_headers(wsi, (unsigned int)status, ctype, len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_json(pl_conn_t *c, int status, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text == NULL)
        return 1;
    return respond(c, status, "application/json", text, strlen(text));
}

static int respond_error(pl_conn_t *c, int status, pl_srv_err_t e, const char *code,
                         const char *message)
{
    if (e < PL_ERR_COUNT)
        c->srv->metrics.errors[e]++;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "error");
    cJSON_AddStringToObject(o, "code", code ? code : pl__err_code(e));
    cJSON_AddStringToObject(o, "message", message);
    return respond_json(c, status, o);
}

static const char *mime_of(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
        {".png", "image/png"},                 {".json", "application/json"},
        {".ico", "image/x-icon"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

/* A file of the www directory: plain names only (no "..", no sub-paths), known types only. */
static int serve_static(struct lws *wsi, pl_conn_t *c, const char *uri)
{
    const char *name = strcmp(uri, "/") == 0 ? "index.html" : uri + 1;
    const char *mime = mime_of(name);
    int plain = name[0] != '.' && strlen(name) < 100;
    for (const char *p = name; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '.' || *p == '-' || *p == '_';
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", c->srv->cfg->www, name);
    if (!plain || mime == NULL || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return respond_error(c, 404, PL_ERR_COUNT, "not_found", "no such page");
    int n = lws_serve_http_file(wsi, path, mime, NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

static int capabilities(struct lws *wsi, pl_conn_t *c)
{
    char buf[64];
    const char *channel = lws_get_urlarg_by_name(wsi, "channel=", buf, sizeof(buf));
    char bbuf[160];
    const char *bot = lws_get_urlarg_by_name(wsi, "bot=", bbuf, sizeof(bbuf));
    pl_channel_t ch;
    if (channel == NULL || pl_channel_parse(channel, &ch) != 0)
        return respond_error(c, 400, PL_ERR_BAD_REQUEST, NULL,
                             "give ?channel=web, app or voice");
    int b = pl__bots_pick(c->srv, bot, NULL);
    if (b < 0)
        return respond_error(c, 404, PL_ERR_BAD_REQUEST, NULL, "no bot with that id");
    return respond_json(c, 200, pl_manifest_json(pl_runtime_bot(c->srv->bots.items[b].rt), ch));
}

static int healthz(pl_conn_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *bots = cJSON_AddArrayToObject(o, "bots");
    cJSON_AddStringToObject(o, "status", c->srv->stopping ? "stopping" : "ok");
    for (size_t i = 0; i < c->srv->bots.n; i++)
        cJSON_AddItemToArray(bots,
                             cJSON_CreateString(pl_runtime_bot(c->srv->bots.items[i].rt)->id));
    return respond_json(c, c->srv->stopping ? 503 : 200, o);
}

static int demo_token(struct lws *wsi, pl_conn_t *c)
{
    char buf[96];
    const char *sub = lws_get_urlarg_by_name(wsi, "sub=", buf, sizeof(buf));
    size_t n = sub ? strlen(sub) : 0;
    int ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (sub[i] >= 'a' && sub[i] <= 'z') || (sub[i] >= 'A' && sub[i] <= 'Z') ||
             (sub[i] >= '0' && sub[i] <= '9') || sub[i] == '_' || sub[i] == '-';
    if (!ok)
        return respond_error(c, 400, PL_ERR_BAD_REQUEST, NULL,
                             "give ?sub=NAME: 1 to 64 of A-Z a-z 0-9 _ -");
    char token[1024];
    const pl_server_config_t *cfg = c->srv->cfg;
    if (pl_jwt_sign(sub, (time_t)(pl__srv_now_ms() / 1000 + 3600), cfg->secret, cfg->secretlen,
                    token, sizeof(token)) != 0)
        return respond_error(c, 500, PL_ERR_COUNT, "internal", "could not sign a token");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    return respond_json(c, 200, o);
}

/* The app's limit: rate_messages turns per 10 s per app user, counted in a small table (users that
 * share a slot share a limit, which only ever makes it stricter). */
static int app_rate_limited(pl_server_t *s, const char *user)
{
    uint64_t h = pl_hash(user, strlen(user)) | 1;
    size_t slot = (size_t)(h % PL_SRV_APP_USERS);
    if (s->app_rate[slot].who != h) {
        memset(&s->app_rate[slot], 0, sizeof(s->app_rate[slot]));
        s->app_rate[slot].who = h;
    }
    int64_t now = pl__srv_now_ms();
    size_t n = (size_t)s->cfg->rate_messages, at = s->app_rate[slot].next % n;
    int64_t oldest = s->app_rate[slot].at[at];
    if (oldest != 0 && now - oldest < PL_SRV_RATE_WINDOW_MS)
        return 1;
    s->app_rate[slot].at[at] = now;
    s->app_rate[slot].next = (at + 1) % n;
    return 0;
}

/* POST /v1/app/messages, once the body is complete, in its task. */
static int app_message(pl_task_t *t)
{
    pl_conn_t *c = t->conn;
    struct lws *wsi = c->wsi; /* its headers are read before anything waits */
    pl_server_t *s = c->srv;
    if (c->body_too_large)
        return respond_error(c, 413, PL_ERR_TOO_LARGE, "too_large", "the body is over 64 KiB");
    char auth[PL_JWT_MAX_TOKEN + 32] = "", sub[PL_JWT_MAX_SUB + 1], why[160] = "";
    int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 7 || strncmp(auth, "Bearer ", 7) != 0 || s->cfg->secret == NULL ||
        pl_jwt_verify(auth + 7, s->cfg->secret, s->cfg->secretlen,
                      (time_t)(pl__srv_now_ms() / 1000), PL_JWT_DEFAULT_SKEW, sub, why,
                      sizeof(why)) != 0) {
        if (why[0])
            pl__srv_log(s, PL_LOG_INFO, "app token refused: %s", why);
        return respond_error(c, 401, PL_ERR_BAD_TOKEN, NULL,
                             "send 'Authorization: Bearer <token>' with a valid identity token");
    }
    pl_srv_err_t err;
    char msg[96];
    cJSON *m = pl__json_parse(c->body ? c->body : "", c->bodylen, &err, msg, sizeof(msg));
    if (m == NULL)
        return respond_error(c, 400, err, NULL, msg);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "text"));
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "action"));
    const char *offer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "offer"));
    const char *locale = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "locale"));
    const char *bot = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "bot"));
    pl_event_t ev = {.channel = PL_CHANNEL_APP, .now_ms = pl__srv_now_ms(), .text = ""};
    if (text != NULL && strlen(text) <= PL_MAX_MESSAGE_BYTES) {
        ev.text = text;
        ev.len = strlen(text);
    } else if (action != NULL && offer != NULL && strcmp(action, "accept_offer") == 0) {
        ev.kind = PL_EVENT_ACCEPT_OFFER;
        ev.offer = offer;
    } else if (action != NULL && offer != NULL && strcmp(action, "decline_offer") == 0) {
        ev.kind = PL_EVENT_DECLINE_OFFER;
        ev.offer = offer;
    } else {
        cJSON_Delete(m);
        return respond_error(c, 400, text ? PL_ERR_TOO_LONG : PL_ERR_BAD_REQUEST, NULL,
                             text ? "the text is longer than 4096 bytes"
                                  : "send {\"text\": ...} or {\"action\": \"accept_offer\", "
                                    "\"offer\": ...}");
    }
    int b = pl__bots_pick(s, bot, locale);
    char user[PL_JWT_MAX_SUB + 8], account[PL_STORE_MAX_KEY + 1], customer[PL_STORE_MAX_KEY + 1];
    snprintf(user, sizeof(user), "app:%s", sub);
    if (app_rate_limited(s, user)) {
        cJSON_Delete(m);
        return respond_error(c, 429, PL_ERR_RATE_LIMITED, NULL,
                             "too many messages in 10 seconds; wait a moment and try again");
    }
    /* the app's user is the account (the token was verified above): linked on first use */
    snprintf(account, sizeof(account), "%s%s", PL_ACCOUNT_PREFIX, sub);
    int rc = b < 0 ? PL_EINVAL : pl_customer_join(s->store, "app", user, account, pl__srv_now_ms());
    cJSON *reply = NULL;
    if (rc == 0)
        rc = pl__hub_turn(s, b, user, &ev, NULL, t, customer, &reply, NULL, NULL, NULL);
    cJSON_Delete(m);
    if (b < 0)
        return respond_error(c, 400, PL_ERR_BAD_REQUEST, NULL, "unknown 'bot'");
    if (rc == PL_EINVAL || rc == PL_ELIMIT)
        return respond_error(c, 400, PL_ERR_BAD_REQUEST, NULL, "the message cannot be taken");
    if (rc != 0) {
        pl__hub_failed(s, "an app turn", rc);
        return respond_error(c, 503, PL_ERR_UNAVAILABLE, NULL,
                             "please try again in a moment; nothing was changed");
    }
    return respond_json(c, 200, reply);
}

/* A response that could not be started ends the connection. */
static void app_task(pl_task_t *t)
{
    if (app_message(t) != 0 && t->conn->wsi != NULL)
        lws_set_timeout(t->conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void voice_task(pl_task_t *t)
{
    pl_conn_t *c = t->conn;
    int status;
    cJSON *o = pl__voice_alexa(t, c->body ? c->body : "", c->bodylen, &status);
    if (respond_json(c, status, o) != 0 && c->wsi != NULL)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int on_request(struct lws *wsi, pl_conn_t *c, const char *uri)
{
    pl_server_t *s = c->srv;
    if (c->post) {
        c->body_too_large = 1; /* until it is known to fit: nothing is kept */
        if (strcmp(uri, "/v1/app/messages") != 0 && strcmp(uri, "/v1/voice/alexa") != 0)
            return respond_error(c, 404, PL_ERR_COUNT, "not_found", "no such endpoint");
        char len[32] = "";
        if (lws_hdr_copy(wsi, len, sizeof(len), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
            return respond_error(c, 411, PL_ERR_BAD_REQUEST, NULL,
                                 "send the body with a Content-Length");
        if (atoll(len) > PL_SRV_MAX_FRAME)
            return respond_error(c, 413, PL_ERR_TOO_LARGE, "too_large",
                                 "the body is over 64 KiB");
        c->body_too_large = 0;
        return 0; /* the body comes next */
    }
    if (strcmp(uri, "/healthz") == 0)
        return healthz(c);
    if (strcmp(uri, "/metrics") == 0) {
        size_t n = 0;
        char *text = pl__metrics_text(s, &n);
        return text ? respond(c, 200, "text/plain; version=0.0.4", text, n) : 1;
    }
    if (strcmp(uri, "/v1/capabilities") == 0)
        return capabilities(wsi, c);
    if (strcmp(uri, "/demo/token") == 0 && s->cfg->demo)
        return demo_token(wsi, c);
    if (strcmp(uri, "/v1/app/messages") == 0)
        return respond_error(c, 405, PL_ERR_BAD_REQUEST, NULL, "POST your message");
    return serve_static(wsi, c, uri);
}

int pl__http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    pl_conn_t *c = user;
    pl_server_t *s = lws_context_user(lws_get_context(wsi));
    if (c == NULL) /* a connection that closed before its request was read */
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        c->srv = s;
        c->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        snprintf(c->path, sizeof(c->path), "%s", (const char *)in);
        return on_request(wsi, c, c->path);
    case LWS_CALLBACK_HTTP_BODY:
        if (c->body_too_large || c->bodylen + len > PL_SRV_MAX_FRAME) {
            c->body_too_large = 1;
            return 0;
        }
        {
            char *grown = realloc(c->body, c->bodylen + len + 1);
            if (grown == NULL)
                return -1;
            c->body = grown;
            memcpy(c->body + c->bodylen, in, len);
            c->bodylen += len;
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->responded)
            return 0;
        /* the answer is sent when the task ends, now or after the store has answered */
        if (pl__task_start(c, strcmp(c->path, "/v1/voice/alexa") == 0 ? voice_task : app_task,
                           NULL, 0) != 0)
            return respond_error(c, 503, PL_ERR_UNAVAILABLE, NULL,
                                 "the server is too busy; try again in a moment");
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (c->resp == NULL)
            return 0;
        unsigned char *buf = malloc(LWS_PRE + c->resplen + 1);
        if (buf == NULL)
            return -1;
        memcpy(buf + LWS_PRE, c->resp, c->resplen);
        int n = lws_write(wsi, buf + LWS_PRE, c->resplen, LWS_WRITE_HTTP_FINAL);
        free(buf);
        free(c->resp);
        c->resp = NULL;
        if (n < 0)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c->busy)
            return 0; /* its task still reads the body; all goes when the task lets go */
        free(c->resp);
        free(c->body);
        c->resp = c->body = NULL;
        c->bodylen = 0;
        c->responded = c->body_too_large = 0;
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
