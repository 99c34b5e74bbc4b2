/* POST /v1/voice/alexa: the Alexa custom-skill request envelope in, the response envelope
 * out. The request is verified first (voice_verify.c; a failure is a 400 and changes
 * nothing), then mapped to one turn: LaunchRequest opens the session, an IntentRequest is a
 * message (the skill's own intent mapped back by name, or the catch-all free text through
 * parley's NLU), the built-in Stop/Cancel/Help/Fallback/NavigateHome intents have their own
 * meaning, SessionEndedRequest closes this channel's place. The reply is spoken as SSML. */
#include "server_int.h"
#include "base/error.h"
#include "base/hash.h"
#include "render/notices.h"
#include "render/ssml.h"
#include "session/identity_jwt.h"
#include "session/sign_in.h"
#include "voice.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define FREE_TEXT_INTENT "ParleyFreeTextIntent"
#define FREE_TEXT_SLOT "text"

static const char *str_at(const cJSON *o, const char *const *path)
{
    for (; *path != NULL && o != NULL; path++)
        o = cJSON_GetObjectItemCaseSensitive(o, *path);
    return cJSON_GetStringValue(o);
}

static cJSON *error_json(const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "error");
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", message);
    return o;
}

/* The voice platform's user id, which can be long, as a short store key. */
static void user_key(const char *user_id, char out[48])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)user_id, strlen(user_id), d);
    int n = snprintf(out, 48, "alexa-");
    for (int i = 0; i < 16; i++)
        n += snprintf(out + n, (size_t)(48 - n), "%02x", d[i]);
}

/* The words of the request's slots, in order, for the NLU to find entities in. */
static void slot_words(const cJSON *slots, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    const cJSON *slot;
    cJSON_ArrayForEach(slot, slots)
    {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(slot, "value"));
        if (v != NULL && n + strlen(v) + 2 < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", v);
    }
}

/* The request as one event; NULL intent name means parley's NLU decides. Returns 0, or -1
 * for a request this endpoint does not take. */
static int event_of(const cJSON *req, pl_event_t *ev, char *words, size_t cap, int de,
                    int *end_session)
{
    static const char *const type_path[] = {"type", NULL}, *const name_path[] = {"intent", "name", NULL};
    const char *type = str_at(req, type_path);
    *end_session = 0;
    ev->kind = PL_EVENT_MESSAGE;
    ev->text = "";
    if (type == NULL)
        return -1;
    if (strcmp(type, "LaunchRequest") == 0) {
        ev->kind = PL_EVENT_LAUNCH;
        return 0;
    }
    if (strcmp(type, "SessionEndedRequest") == 0) {
        ev->kind = PL_EVENT_SESSION_END;
        *end_session = 1;
        return 0;
    }
    if (strcmp(type, "IntentRequest") != 0)
        return -1;
    const char *name = str_at(req, name_path);
    const cJSON *slots = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(req, "intent"), "slots");
    if (name == NULL)
        return -1;
    if (strcmp(name, "AMAZON.StopIntent") == 0 || strcmp(name, "AMAZON.CancelIntent") == 0) {
        ev->kind = PL_EVENT_STOP;
        *end_session = 1;
    } else if (strcmp(name, "AMAZON.NavigateHomeIntent") == 0) {
        ev->kind = PL_EVENT_HOME;
    } else if (strcmp(name, "AMAZON.HelpIntent") == 0) {
        ev->intent = PL_INTENT_WHAT_CAN_YOU_DO;
    } else if (strcmp(name, "AMAZON.YesIntent") == 0 || strcmp(name, "AMAZON.NoIntent") == 0) {
        /* an answer to the bot's yes/no question, as the customer would type it */
        int yes = strcmp(name, "AMAZON.YesIntent") == 0;
        snprintf(words, cap, "%s", de ? (yes ? "ja" : "nein") : (yes ? "yes" : "no"));
        ev->text = words;
    } else if (strcmp(name, "AMAZON.FallbackIntent") == 0) {
        /* nothing understood: the bot's fallback answers */
    } else if (strcmp(name, FREE_TEXT_INTENT) == 0) {
        slot_words(slots, words, cap);
        ev->text = words;
    } else if (strncmp(name, "AMAZON.", 7) == 0) {
        return -1;
    } else {
        slot_words(slots, words, cap);
        ev->text = words;
        ev->intent = name;
    }
    ev->len = strlen(ev->text);
    return 0;
}

static cJSON *speech(const char *ssml)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "SSML");
    cJSON_AddStringToObject(o, "ssml", ssml);
    return o;
}

/* The response envelope for a turn; screen: the details went to the customer's app. */
static cJSON *respond(pl_server_t *s, int b, const pl_turn_t *turn, const cJSON *state,
                      int screen, int end_session, int session_ended)
{
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "version", "1.0");
    cJSON *r = cJSON_AddObjectToObject(env, "response");
    cJSON_AddObjectToObject(env, "sessionAttributes");
    if (session_ended)
        return env; /* the platform wants no speech after the session ended */
    const pl_bot_t *bot = pl_runtime_bot(s->bots.items[b].rt);
    pl_ssml_opts_t opts = {.app_linked = screen};
    pl_strbuf_t ssml, plain;
    pl_strbuf_init(&ssml, 64 * 1024);
    pl_strbuf_init(&plain, 64 * 1024);
    if (pl_ssml_render(bot, &turn->reply, &opts, &ssml) == 0)
        cJSON_AddItemToObject(r, "outputSpeech", speech(pl_strbuf_str(&ssml)));
    /* while the bot waits for an answer, the question is asked again after a silence */
    if (!end_session && cJSON_GetObjectItemCaseSensitive(state, "flow") != NULL &&
        turn->reply.n > 0) {
        pl_reply_t last = {.n = 1};
        last.items[0] = turn->reply.items[turn->reply.n - 1];
        pl_strbuf_t re;
        pl_strbuf_init(&re, 64 * 1024);
        if (pl_ssml_render(bot, &last, &opts, &re) == 0) {
            cJSON *rp = cJSON_AddObjectToObject(r, "reprompt");
            cJSON_AddItemToObject(rp, "outputSpeech", speech(pl_strbuf_str(&re)));
        }
        pl_strbuf_cleanup(&re);
    }
    /* an offer is also shown as a card in the voice app, with its exact terms */
    for (size_t i = 0; i < turn->reply.n; i++) {
        const pl_message_t *m = &turn->reply.items[i];
        if (m->kind != PL_MSG_OFFER)
            continue;
        pl_reply_t one = {.n = 1};
        one.items[0] = *m;
        pl_strbuf_clear(&plain);
        if (pl_ssml_plain(bot, &one, &plain) == 0) {
            cJSON *card = cJSON_AddObjectToObject(r, "card");
            cJSON_AddStringToObject(card, "type", "Simple");
            cJSON_AddStringToObject(card, "title", m->offer_title ? m->offer_title : bot->name);
            cJSON_AddStringToObject(card, "content", pl_strbuf_str(&plain));
        }
        break;
    }
    cJSON_AddBoolToObject(r, "shouldEndSession", end_session);
    pl_strbuf_cleanup(&ssml);
    pl_strbuf_cleanup(&plain);
    return env;
}

/* "Please try again" said to the customer: the store did not answer, nothing changed. The
 * session stays open, so they can say it again. */
static cJSON *try_again(pl_server_t *s, int b, int session_ended)
{
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "version", "1.0");
    cJSON *r = cJSON_AddObjectToObject(env, "response");
    cJSON_AddObjectToObject(env, "sessionAttributes");
    if (session_ended)
        return env;
    pl_strbuf_t text, ssml;
    pl_strbuf_init(&text, 1024);
    pl_strbuf_init(&ssml, 2048);
    if (pl_notice_text(pl_runtime_bot(s->bots.items[b].rt), NULL, PL_NOTICE_TRY_AGAIN, NULL,
                       &text) == 0 &&
        pl_strbuf_printf(&ssml, "<speak>%s</speak>", pl_strbuf_str(&text)) == 0)
        cJSON_AddItemToObject(r, "outputSpeech", speech(pl_strbuf_str(&ssml)));
    cJSON_AddBoolToObject(r, "shouldEndSession", 0);
    pl_strbuf_cleanup(&text);
    pl_strbuf_cleanup(&ssml);
    return env;
}

static int needs_screen(const pl_turn_t *turn)
{
    for (size_t i = 0; i < turn->reply.n; i++)
        if (turn->reply.items[i].unavailable)
            return 1;
    return 0;
}

/* What voice cannot show goes to the customer's open web or app connection: the same request
 * is taken there, and its answer (a table, a card) is sent to it. 1 when it was. */
static int send_to_screen(pl_task_t *t, const char *customer, const pl_event_t *ev)
{
    pl_server_t *s = t->conn->srv;
    pl_conn_t *c = s->conns;
    while (c != NULL && (!c->hello || c->closing || strcmp(c->customer, customer) != 0))
        c = c->next;
    if (c == NULL)
        return 0;
    pl_event_t there = *ev;
    there.channel = c->channel;
    cJSON *reply = NULL, *state = NULL, *kept = NULL;
    pl_turn_t turn;
    pl__conn_hold(c); /* it may close while the turn waits for the store */
    int rc = pl__hub_turn(s, c->bot, c->user, &there, c, t, c->customer, &reply, &state, &turn, &kept);
    int sent = rc == 0 && !needs_screen(&turn) && c->wsi != NULL && !c->closing;
    if (sent) {
        pl__ws_send(c, reply);
        pl__ws_send(c, state);
    }
    cJSON_Delete(reply);
    cJSON_Delete(state);
    cJSON_Delete(kept);
    pl__conn_release(c);
    return sent;
}

cJSON *pl__voice_alexa(pl_task_t *t, const char *body, size_t len, int *status)
{
    pl_server_t *s = t->conn->srv;
    struct lws *wsi = t->conn->wsi; /* its headers are read before anything waits */
    const pl_server_config_t *cfg = s->cfg;
    char why[200] = "";
    *status = 400;
    if (!cfg->voice_insecure) {
        char url[512] = "", sig[2100] = "";
        int ul = lws_hdr_custom_copy(wsi, url, sizeof(url), "signaturecertchainurl:", 22);
        int sl = lws_hdr_custom_copy(wsi, sig, sizeof(sig), "signature-256:", 14);
        pl_voice_trust_t trust = {.cert_cache = cfg->voice_cert_cache,
                                  .trusted_ca = cfg->voice_trusted_ca};
        if (pl_voice_verify(&trust, ul > 0 ? url : NULL, sl > 0 ? sig : NULL, body, len,
                            (time_t)(pl__srv_now_ms() / 1000), why, sizeof(why)) != 0) {
            s->metrics.errors[PL_ERR_VOICE_VERIFY]++;
            pl__srv_log(s, PL_LOG_WARN, "voice request refused: %s", why);
            return error_json("verification_failed", why);
        }
    } else {
        pl__srv_log(s, PL_LOG_WARN, "voice request NOT verified (--insecure-skip-voice-verification)");
    }
    pl_srv_err_t err;
    char msg[96];
    cJSON *env = pl__json_parse(body, len, &err, msg, sizeof(msg));
    if (env == NULL)
        return error_json(pl__err_code(err), msg);
    static const char *const ts_path[] = {"request", "timestamp", NULL};
    static const char *const app_path[] = {"context", "System", "application", "applicationId",
                                           NULL};
    static const char *const user_path[] = {"context", "System", "user", "userId", NULL};
    static const char *const token_path[] = {"context", "System", "user", "accessToken", NULL};
    static const char *const locale_path[] = {"request", "locale", NULL};
    const char *app = str_at(env, app_path), *uid = str_at(env, user_path);
    int known = 0;
    for (size_t i = 0; app != NULL && i < cfg->nvoice_skills; i++)
        known |= strcmp(app, cfg->voice_skills[i]) == 0;
    cJSON *out = NULL;
    if (!cfg->voice_insecure && pl_voice_fresh(str_at(env, ts_path),
                                               (time_t)(pl__srv_now_ms() / 1000), why,
                                               sizeof(why)) != 0)
        out = error_json("verification_failed", why);
    else if (!known && (!cfg->voice_insecure || cfg->nvoice_skills > 0))
        out = error_json("verification_failed", "the request is not for a configured skill id");
    else if (uid == NULL || strlen(uid) > 1024)
        out = error_json("bad_request", "the request has no context.System.user.userId");
    if (out != NULL) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(out, "code")), "verification_failed") == 0) {
            s->metrics.errors[PL_ERR_VOICE_VERIFY]++;
            pl__srv_log(s, PL_LOG_WARN, "voice request refused: %s",
                        cJSON_GetStringValue(cJSON_GetObjectItem(out, "message")));
        }
        cJSON_Delete(env);
        return out;
    }
    char user[48], words[1024];
    user_key(uid, user);
    const char *locale = str_at(env, locale_path);
    char lang[3] = "";
    if (locale != NULL && strlen(locale) >= 2)
        memcpy(lang, locale, 2);
    int b = pl__bots_pick(s, NULL, lang[0] ? lang : NULL);
    pl_event_t ev = {.channel = PL_CHANNEL_VOICE, .now_ms = pl__srv_now_ms()};
    int end_session;
    if (event_of(cJSON_GetObjectItemCaseSensitive(env, "request"), &ev, words, sizeof(words),
                 strcmp(lang, "de") == 0, &end_session) != 0) {
        cJSON_Delete(env);
        return error_json("bad_request", "a request of a type this skill does not take");
    }
    /* account linking: the same signed identity as on the web and in the app */
    const char *token = str_at(env, token_path);
    if (token != NULL && cfg->secret != NULL) {
        char account[PL_STORE_MAX_KEY + 1];
        if (pl_sign_in(s->store, "voice", user, token, cfg->secret, cfg->secretlen,
                       pl__srv_now_ms(), account, why, sizeof(why)) != 0)
            pl__srv_log(s, PL_LOG_INFO, "voice account token refused: %s", why);
    }
    char customer[PL_STORE_MAX_KEY + 1];
    cJSON *reply = NULL, *state = NULL;
    pl_turn_t turn;
    int rc = pl__hub_turn(s, b, user, &ev, NULL, t, customer, &reply, NULL, &turn, &state);
    cJSON_Delete(reply);
    if (rc != 0) {
        cJSON_Delete(env);
        pl__hub_failed(s, "a voice turn", rc);
        if (rc == PL_ESTORE || rc == PL_EBUSY || rc == PL_ECONFLICT) {
            /* the customer hears why, in the bot's language, instead of the platform's
             * "there was a problem with the skill" */
            *status = 200;
            return try_again(s, b, ev.kind == PL_EVENT_SESSION_END);
        }
        *status = rc == PL_EINVAL ? 400 : 503;
        return error_json(rc == PL_EINVAL ? "bad_request" : "unavailable",
                          rc == PL_EINVAL ? "the request cannot be taken (unknown intent?)"
                                          : "please try again in a moment; nothing was changed");
    }
    *status = 200;
    int ended = ev.kind == PL_EVENT_SESSION_END;
    cJSON *resp = respond(s, b, &turn, state, 0, end_session, ended);
    if (needs_screen(&turn) && pl__hub_has_screen(s, customer)) {
        /* both wordings first: the screen's turn reuses the memory this reply's text is in */
        cJSON *sent = respond(s, b, &turn, state, 1, end_session, ended);
        if (send_to_screen(t, customer, &ev)) {
            cJSON_Delete(resp);
            resp = sent;
        } else {
            cJSON_Delete(sent);
        }
    }
    cJSON_Delete(state);
    cJSON_Delete(env);
    return resp;
}
