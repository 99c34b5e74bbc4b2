/* The WebSocket protocol v1 (channels/README.md): hello, message, action, ping in; then
 * capabilities, reply, state, pong and error out. Frames are collected up to 64 KiB (a
 * bigger one closes the connection with 1009 before it is parsed), checked for UTF-8 and
 * depth, rate-limited per connection, and every write goes out in its own writeable
 * callback with LWS_PRE headroom. A client that reads too slowly is closed, never waited for. */
#include "server_int.h"
#include "base/error.h"
#include "base/mem.h"
#include "render/manifest.h"
#include "session/identity_jwt.h"
#include "session/link_code.h"
#include "session/sign_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pl__ws_send(pl_conn_t *c, const cJSON *o)
{
    if (c->closing || c->wsi == NULL)
        return; /* closing, or gone while its task waited */
    char *text = cJSON_PrintUnformatted(o);
    if (text == NULL)
        return;
    size_t len = strlen(text);
    if (c->nout >= PL_SRV_QUEUE_MAX || c->outbytes + len > PL_SRV_QUEUE_BYTES) {
        /* it does not read what it is sent: let it go rather than hold memory for it */
        free(text);
        pl__srv_log(c->srv, PL_LOG_WARN, "closing a connection that does not read its replies");
        pl__ws_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        return;
    }
    pl_out_t *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (m != NULL) {
        m->next = NULL;
        m->len = len;
        memcpy(m->data + LWS_PRE, text, len);
        if (c->out_tail)
            c->out_tail->next = m;
        else
            c->out_head = m;
        c->out_tail = m;
        c->nout++;
        c->outbytes += len;
        lws_callback_on_writable(c->wsi);
    }
    free(text);
}

void pl__ws_close(pl_conn_t *c, int code)
{
    if (c->closing || c->wsi == NULL)
        return;
    c->closing = 1;
    c->close_code = code;
    lws_callback_on_writable(c->wsi);
}

static void send_error(pl_conn_t *c, pl_srv_err_t e, const char *message, const char *id)
{
    c->srv->metrics.errors[e]++;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return;
    cJSON_AddStringToObject(o, "type", "error");
    cJSON_AddStringToObject(o, "code", pl__err_code(e));
    cJSON_AddStringToObject(o, "message", message);
    if (id != NULL)
        cJSON_AddStringToObject(o, "in_reply_to", id);
    pl__ws_send(c, o);
    cJSON_Delete(o);
}

static const char *str_field(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* A client id: 16 to 64 of A-Z a-z 0-9 _ - (made from a random source by the client). */
static int valid_client_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 16 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* The customer's stored state (NULL: none yet). *rc is 0, or the store's failure. */
static cJSON *stored_state(pl_conn_t *c, int *rc)
{
    char *found = NULL;
    cJSON *state = NULL;
    int64_t v;
    *rc = pl_store_resolve(c->srv->store, pl_channel_name(c->channel), c->user, &found);
    if (*rc == 0 && strlen(found) <= PL_STORE_MAX_KEY) {
        *rc = pl_session_load_state(c->srv->store, found, &state, &v);
        if (*rc == 0 && c->wsi != NULL) {
            pl__conn_set_customer(c, found);
            c->pushed_version = v;
        }
    } else if (*rc == PL_ENOTFOUND) {
        *rc = 0;
    }
    pl_free(found);
    return state;
}

static const char *const try_again = "please try again in a moment; nothing was changed";

static void on_hello(pl_conn_t *c, const cJSON *m, const char *id)
{
    pl_server_t *s = c->srv;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "v");
    const char *channel = str_field(m, "channel"), *client = str_field(m, "client_id");
    const char *token = str_field(m, "token"), *locale = str_field(m, "locale");
    const char *bot = str_field(m, "bot");
    pl_channel_t ch;
    const char *problem = NULL;
    if (c->hello)
        problem = "hello was already sent on this connection";
    else if (!cJSON_IsNumber(v) || v->valueint != 1)
        problem = "'v' must be 1 (this server speaks protocol version 1)";
    else if (channel == NULL || pl_channel_parse(channel, &ch) != 0 || ch == PL_CHANNEL_VOICE)
        problem = "'channel' must be \"web\" or \"app\"";
    else if (!valid_client_id(client))
        problem = "'client_id' must be 16 to 64 characters of A-Z a-z 0-9 _ -";
    else if (locale != NULL && strcmp(locale, "de") != 0 && strcmp(locale, "en") != 0)
        problem = "'locale' must be \"de\" or \"en\"";
    else if ((c->bot = pl__bots_pick(s, bot, locale)) < 0)
        problem = "unknown 'bot'";
    if (problem != NULL) {
        send_error(c, PL_ERR_BAD_HELLO, problem, id);
        return;
    }
    c->channel = ch;
    snprintf(c->user, sizeof(c->user), "%s", client);
    if (token != NULL || c->no_origin) {
        char account[PL_STORE_MAX_KEY + 1], why[160] = "";
        int rc = token == NULL ? PL_EDENIED
                 : s->cfg->secret == NULL
                     ? PL_EDENIED
                     : pl_sign_in(s->store, channel, c->user, token, s->cfg->secret,
                                  s->cfg->secretlen, pl__srv_now_ms(), account, why, sizeof(why));
        if (rc == PL_ESTORE || rc == PL_EBUSY) { /* not the token's fault: hello may come again */
            pl__hub_failed(s, "a sign-in", rc);
            send_error(c, PL_ERR_UNAVAILABLE, try_again, id);
            return;
        }
        if (rc != 0) {
            pl__srv_log(s, PL_LOG_INFO, "identity refused: %s",
                        token == NULL        ? "no Origin and no token"
                        : s->cfg->secret == NULL ? "no secret configured"
                        : why[0]             ? why
                                             : pl_strerror(rc));
            send_error(c, PL_ERR_BAD_TOKEN,
                       token == NULL ? "a connection without an Origin needs a signed identity"
                                     : "the identity token is not accepted",
                       id);
            pl__ws_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
            return;
        }
    }
    int rc;
    cJSON *state = stored_state(c, &rc);
    if (rc != 0) {
        pl__hub_failed(s, "loading the state for a hello", rc);
        send_error(c, PL_ERR_UNAVAILABLE, try_again, id);
        return;
    }
    c->hello = 1;
    const pl_bot_t *b = pl_runtime_bot(s->bots.items[c->bot].rt);
    cJSON *caps = cJSON_CreateObject();
    cJSON *manifest = pl_manifest_json(b, ch);
    if (caps != NULL && manifest != NULL) {
        cJSON_AddStringToObject(caps, "type", "capabilities");
        cJSON_AddNumberToObject(caps, "v", 1);
        cJSON_AddStringToObject(caps, "bot", b->id);
        cJSON_AddBoolToObject(caps, "signed_in",
                              strncmp(c->customer, PL_ACCOUNT_PREFIX, 2) == 0);
        cJSON_AddItemToObject(caps, "manifest", manifest);
        manifest = NULL;
        if (id != NULL)
            cJSON_AddStringToObject(caps, "in_reply_to", id);
        pl__ws_send(c, caps);
    }
    cJSON_Delete(manifest);
    cJSON_Delete(caps);
    cJSON *st = pl__hub_state_json(c->customer[0] ? c->customer : NULL, state);
    if (st != NULL)
        pl__ws_send(c, st);
    cJSON_Delete(st);
    cJSON_Delete(state);
}

/* A message or an action becomes one turn. */
static void on_turn(pl_task_t *t, const cJSON *m, const char *type, const char *id)
{
    pl_conn_t *c = t->conn;
    pl_server_t *s = c->srv;
    pl_event_t ev = {.channel = c->channel, .now_ms = pl__srv_now_ms(), .text = ""};
    char said[64];
    if (strcmp(type, "message") == 0) {
        const char *text = str_field(m, "text");
        if (text == NULL) {
            send_error(c, PL_ERR_BAD_REQUEST, "a message needs 'text'", id);
            return;
        }
        ev.text = text;
        ev.len = strlen(text);
        if (ev.len > PL_MAX_MESSAGE_BYTES) {
            send_error(c, PL_ERR_TOO_LONG, "the text is longer than 4096 bytes", id);
            return;
        }
    } else {
        const char *action = str_field(m, "action"), *offer = str_field(m, "offer");
        const char *code = str_field(m, "code");
        if (action != NULL && offer != NULL && strcmp(action, "accept_offer") == 0)
            ev.kind = PL_EVENT_ACCEPT_OFFER;
        else if (action != NULL && offer != NULL && strcmp(action, "decline_offer") == 0)
            ev.kind = PL_EVENT_DECLINE_OFFER;
        else if (action != NULL && strcmp(action, "quick_reply") == 0 &&
                 str_field(m, "text") != NULL && strlen(str_field(m, "text")) <= 200) {
            ev.text = str_field(m, "text"); /* a pressed quick reply says its words */
            ev.len = strlen(ev.text);
        } else if (action != NULL && code != NULL && strcmp(action, "link_code") == 0 &&
                 strlen(code) <= 16) {
            /* said the way a customer would, so the session's link-code path takes it */
            snprintf(said, sizeof(said), "code %s", code);
            ev.text = said;
            ev.len = strlen(said);
        } else {
            send_error(c, PL_ERR_BAD_REQUEST,
                       "an action is accept_offer or decline_offer with 'offer', quick_reply "
                       "with 'text', or link_code with 'code'",
                       id);
            return;
        }
        ev.offer = offer;
    }
    cJSON *reply = NULL, *state = NULL;
    int rc = pl__hub_turn(s, c->bot, c->user, &ev, c, t, c->customer, &reply, &state, NULL, NULL);
    if (rc == PL_EINVAL || rc == PL_ELIMIT) {
        send_error(c, rc == PL_ELIMIT ? PL_ERR_TOO_LONG : PL_ERR_BAD_REQUEST,
                   "the message cannot be taken (is it text?)", id);
        return;
    }
    if (rc != 0) {
        pl__hub_failed(s, "a turn", rc);
        send_error(c, PL_ERR_UNAVAILABLE, try_again, id);
        return;
    }
    if (id != NULL)
        cJSON_AddStringToObject(reply, "in_reply_to", id);
    pl__ws_send(c, reply);
    if (state != NULL) /* what the turn left, as every other connection of the customer sees */
        pl__ws_send(c, state);
    cJSON_Delete(reply);
    cJSON_Delete(state);
}

/* Whether this message is one too many in the window; remembers it otherwise. */
static int rate_limited(pl_conn_t *c)
{
    size_t n = (size_t)c->srv->cfg->rate_messages;
    int64_t now = pl__srv_now_ms(), oldest = c->sent_at[c->sent_next % n];
    if (oldest != 0 && now - oldest < PL_SRV_RATE_WINDOW_MS)
        return 1;
    c->sent_at[c->sent_next % n] = now;
    c->sent_next = (c->sent_next + 1) % n;
    return 0;
}

/* One message, in its task: hello, ping, message and action may all wait for the store. */
void pl__ws_message_task(pl_task_t *t)
{
    pl_conn_t *c = t->conn;
    const char *data = t->text;
    size_t len = t->len;
    if (c->wsi == NULL || c->closing)
        return; /* queued, and the connection went meanwhile */
    pl_srv_err_t err;
    char why[96];
    cJSON *m = pl__json_parse(data, len, &err, why, sizeof(why));
    if (m == NULL) {
        send_error(c, err, why, NULL);
        return;
    }
    const char *type = str_field(m, "type"), *id = str_field(m, "id");
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(m, "id");
    if (idv != NULL && (id == NULL || strlen(id) > 64)) {
        send_error(c, PL_ERR_BAD_REQUEST, "'id' must be a text of at most 64 characters", NULL);
    } else if (type == NULL) {
        send_error(c, PL_ERR_BAD_REQUEST, "every message needs a 'type'", id);
    } else if (strcmp(type, "hello") == 0) {
        on_hello(c, m, id);
    } else if (!c->hello && (strcmp(type, "ping") == 0 || strcmp(type, "message") == 0 ||
                             strcmp(type, "action") == 0)) {
        send_error(c, PL_ERR_HELLO_FIRST, "send 'hello' first", id);
    } else if (strcmp(type, "ping") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "pong");
        if (id != NULL)
            cJSON_AddStringToObject(o, "in_reply_to", id);
        pl__ws_send(c, o);
        cJSON_Delete(o);
    } else if (strcmp(type, "message") != 0 && strcmp(type, "action") != 0) {
        char msg[120];
        snprintf(msg, sizeof(msg), "unknown message type '%.40s'", type);
        send_error(c, PL_ERR_UNKNOWN_TYPE, msg, id);
    } else if (rate_limited(c)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "more than %d messages in 10 seconds; wait a moment and try again",
                 c->srv->cfg->rate_messages);
        send_error(c, PL_ERR_RATE_LIMITED, msg, id);
    } else {
        on_turn(t, m, type, id);
    }
    cJSON_Delete(m);
}

/* Collects a message's fragments; a message over the limit closes with 1009 unread. */
static int on_receive(pl_conn_t *c, const char *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(c->wsi);
    if (c->rxlen + len + remaining > PL_SRV_MAX_FRAME) {
        c->srv->metrics.errors[PL_ERR_TOO_LARGE]++;
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message over 64 KiB", 19);
        return -1;
    }
    char *grown = realloc(c->rx, c->rxlen + len + 1);
    if (grown == NULL)
        return -1;
    c->rx = grown;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (remaining > 0 || !lws_is_final_fragment(c->wsi))
        return 0;
    c->rx[c->rxlen] = '\0';
    lws_set_timer_usecs(c->wsi, (lws_usec_t)c->srv->cfg->idle_seconds * LWS_US_PER_SEC);
    if (lws_frame_is_binary(c->wsi)) {
        send_error(c, PL_ERR_BAD_JSON, "send JSON as text frames", NULL);
    } else if (c->busy || c->q_head != NULL) {
        /* the previous message still waits for the store: this one waits its turn */
        if (pl__task_queue(c, c->rx, c->rxlen) != 0) {
            send_error(c, PL_ERR_RATE_LIMITED, "too many messages are waiting; slow down", NULL);
            pl__ws_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        }
    } else {
        char *text = c->rx; /* the task owns it now */
        size_t n = c->rxlen;
        c->rx = NULL;
        c->rxlen = 0;
        if (pl__task_start(c, pl__ws_message_task, text, n) != 0)
            send_error(c, PL_ERR_UNAVAILABLE, "the server is too busy; try again in a moment",
                       NULL);
    }
    c->rxlen = 0;
    return 0;
}

static int origin_allowed(const pl_server_t *s, const char *origin)
{
    for (size_t i = 0; i < s->cfg->norigins; i++)
        if (strcmp(s->cfg->origins[i], origin) == 0)
            return 1;
    if (s->cfg->norigins > 0)
        return 0;
    return strcmp(origin, s->own_origin[0]) == 0 || strcmp(origin, s->own_origin[1]) == 0;
}

static void forget(pl_conn_t *c)
{
    pl_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else if (s->conns == c)
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    while (c->out_head) {
        pl_out_t *n = c->out_head->next;
        free(c->out_head);
        c->out_head = n;
    }
    c->out_tail = NULL;
    c->nout = c->outbytes = 0;
    free(c->rx);
    c->rx = NULL;
    pl__conn_set_customer(c, ""); /* no more changes to hear of */
    c->closing = 1; /* a task still waiting for the store sends nothing more */
    s->metrics.open_connections--;
}

int pl__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    pl_server_t *s = lws_context_user(lws_get_context(wsi));
    pl_conn_t *c = user != NULL ? *(pl_conn_t **)user : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
    case LWS_CALLBACK_WSI_DESTROY:
        /* libwebsockets frees the session data after these (an HTTP request ended, a
         * WebSocket closed, the connection went); a next request gets a new connection */
        if (c != NULL && reason == LWS_CALLBACK_HTTP_DROP_PROTOCOL)
            pl__http_callback(wsi, reason, c, in, len);
        if (c != NULL && c->ws && reason != LWS_CALLBACK_HTTP_DROP_PROTOCOL) {
            forget(c);
            c->ws = 0;
        }
        pl__conn_gone(s, user);
        return 0;
    case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_WS_SERVER_BIND_PROTOCOL:
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
        /* session data that lives until one of the above: the connection is made here only */
        c = pl__conn_of(s, wsi, user);
        break;
    default:
        break;
    }
    if (c == NULL)
        return pl__http_callback(wsi, reason, NULL, in, len);
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64] = "", origin[256] = "";
        lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
        if (strcmp(uri, "/v1/ws") != 0)
            return 1;
        if (s->stopping)
            return 1;
        int n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
        /* a page of another site: let the handshake finish, say why, and close with 1008
         * (libwebsockets drops a refused handshake without any answer) */
        c->bad_origin = n > 0 && !origin_allowed(s, origin);
        if (c->bad_origin)
            pl__srv_log(s, PL_LOG_INFO, "refused a WebSocket from Origin %s", origin);
        c->no_origin = n <= 0;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        c->srv = s;
        c->wsi = wsi;
        c->ws = 1;
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->metrics.open_connections++;
        lws_set_timer_usecs(wsi, (lws_usec_t)s->cfg->idle_seconds * LWS_US_PER_SEC);
        if (c->bad_origin) {
            send_error(c, PL_ERR_ORIGIN, "pages of this Origin may not talk to this server", NULL);
            pl__ws_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        }
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c->bad_origin || c->closing)
            return 0; /* nothing from it is read */
        return on_receive(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (c->out_head != NULL) {
            pl_out_t *m = c->out_head;
            if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
                return -1;
            c->out_head = m->next;
            if (c->out_head == NULL)
                c->out_tail = NULL;
            c->nout--;
            c->outbytes -= m->len;
            free(m);
            if (c->out_head != NULL || c->closing)
                lws_callback_on_writable(wsi);
            return 0;
        }
        if (c->closing) {
            static const char *const why[] = {"going away", "policy"};
            const char *w = c->close_code == LWS_CLOSE_STATUS_GOINGAWAY ? why[0] : why[1];
            lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)w,
                             strlen(w));
            /* Not by returning -1: Debian's libwebsockets 4.1.6 on libuv then closes a second
             * time (a debug check) and the close frame is lost. This starts the same polite
             * close (frame, then the peer's answer) directly; the wsi stays until it ends. */
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
            return 0;
        }
        return 0;
    }
    case LWS_CALLBACK_TIMER:
        pl__ws_close(c, LWS_CLOSE_STATUS_GOINGAWAY); /* idle for too long */
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c->ws)
            forget(c);
        c->ws = 0;
        return 0;
    default:
        return pl__http_callback(wsi, reason, c, in, len);
    }
}
