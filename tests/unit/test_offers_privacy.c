/* Offers and privacy across channels: where and when an offer may be made, snapshots that a
 * later edit of the bot does not change, accept/decline buttons, offers that need consent,
 * "forget me" leaving nothing in the SQLite file, and ids typed into messages reaching no
 * other customer. */
#include "test_helpers.h"

#include "base/mem.h"
#include "dialog/offers.h"
#include "dialog/privacy.h"
#include "runtime.h"
#include "session/session.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define DAY 86400000LL

#define OFFER_BOT(CITY_PRICE, CITY_TITLE)                                                          \
    "bot: {id: o, name: Offer bot, language: en}\n"                                                \
    "categories:\n"                                                                                \
    "  bikes: [bikes, bike, bike offers]\n"                                                        \
    "intents:\n"                                                                                   \
    "  buy: [I want a bike, I am looking for a bike, I would like to buy a bike]\n"                \
    "  deals: [any deals for me, show me your deals, do you have special offers]\n"                \
    "  ebikes: [I love e-bikes, tell me about e-bikes, e-bikes are great]\n"                       \
    "  note: [I want to leave a note, take a note please]\n"                                       \
    "entities: {money: {type: money}}\n"                                                           \
    "slots:\n"                                                                                     \
    "  budget: {entity: money, prompt: Your budget?}\n"                                            \
    "  text: {type: text, prompt: What is your note?}\n"                                           \
    "offers:\n"                                                                                    \
    "  city: {title: " CITY_TITLE ", price: " CITY_PRICE ", valid_for: 7d, category: bikes,\n"    \
    "         terms: Free delivery., text: \"{{offer.title}} for {{offer.price}}.\"}\n"            \
    "  app_only: {title: App bike, price: 300, channels: [app], text: App bike!}\n"                \
    "  summer: {title: Summer bike, price: 400, valid_until: 2026-01-03, text: Summer!}\n"         \
    "  premium: {title: Premium bike, price: 3000, when: {slot: budget, above: 2000},\n"           \
    "            text: Premium!}\n"                                                                \
    "  fan: {title: E-bike, price: 2000, when: {interest: ebikes}, text: E-bike for fans!}\n"      \
    "flows:\n"                                                                                     \
    "  buy: {trigger: buy, steps: [{offer: city}, {end: Anything else?}]}\n"                       \
    "  deals:\n"                                                                                   \
    "    trigger: deals\n"                                                                         \
    "    steps: [{offer: app_only}, {offer: summer}, {offer: premium}, {offer: fan},\n"            \
    "            {end: That is all.}]\n"                                                           \
    "  ebikes: {trigger: ebikes, steps: [{consent: May I remember what you like?},\n"              \
    "                                    {end: Noted.}]}\n"                                        \
    "  note: {trigger: note, steps: [{ask: text}, {end: Kept.}]}\n"

static const char bot_v1[] = OFFER_BOT("500", "City bike");
static const char bot_v2[] = OFFER_BOT("650", "City bike 2027"); /* edited later */

typedef th_conv_t conv_t;

static conv_t *start(void)
{
    return th_conv_start("offers.yaml", bot_v1);
}

static void stop(conv_t *c)
{
    th_conv_stop(c);
}

static void say(conv_t *c, pl_channel_t ch, const char *text)
{
    th_conv_say(c, ch, text);
}

static void press(conv_t *c, pl_channel_t ch, pl_event_kind_t kind, const char *offer)
{
    c->now += 60000;
    pl_event_t ev = {.kind = kind, .text = "", .channel = ch, .now_ms = c->now, .offer = offer};
    th_conv_event(c, &ev);
}

/* The offer ids the last reply presented, space-separated ("" when none). */
static const char *offered(conv_t *c)
{
    static char buf[256];
    buf[0] = '\0';
    for (size_t i = 0; i < c->t.reply.n; i++)
        if (c->t.reply.items[i].kind == PL_MSG_OFFER) {
            strcat(buf, buf[0] ? " " : "");
            strcat(buf, c->t.reply.items[i].offer_id);
        }
    return buf;
}

static const char *status(conv_t *c, const char *id)
{
    const cJSON *snap = pl_offer_snapshot(c->state, id);
    return snap ? pl_offer_status(snap) : "none";
}

static void offers_respect_channel_end_date_and_eligibility(void **state)
{
    (void)state;
    conv_t *c = start();
    say(c, PL_CHANNEL_WEB, "show me your deals");
    assert_string_equal(offered(c), "summer"); /* not app_only on the web; no budget; no fan */
    say(c, PL_CHANNEL_APP, "show me your deals");
    assert_string_equal(offered(c), "app_only summer"); /* summer: the same open snapshot */
    /* an end date closes the offer at the end of that day, for every channel */
    const cJSON *until = cJSON_GetObjectItem(pl_offer_snapshot(c->state, "summer"), "valid_until");
    assert_true(until->valuedouble == (double)(T0 + 3 * DAY - 1));
    c->now = T0 + 3 * DAY;
    /* days later, slots are still known only to customers who agreed to be remembered */
    assert_int_equal(pl_consent_set(c->state, PL_CONSENT_PERSONALISATION, 1, c->now,
                                    PL_CHANNEL_WEB),
                     0);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(c->state, "slots"), "budget",
                          cJSON_CreateNumber(2500));
    say(c, PL_CHANNEL_APP, "show me your deals");
    assert_string_equal(offered(c), "app_only premium");
    assert_string_equal(status(c, "summer"), "expired");
    stop(c);
}

static void a_snapshot_keeps_its_terms_after_the_bot_is_edited(void **state)
{
    (void)state;
    conv_t *c = start();
    say(c, PL_CHANNEL_WEB, "I want a bike");
    assert_string_equal(offered(c), "city");
    assert_string_equal(c->t.reply.items[1].text, "City bike for €500.");
    /* the shop edits the offer; the conversation continues on the reloaded bot, by voice */
    pl_runtime_unref(c->rt);
    c->rt = th_runtime("offers-v2.yaml", bot_v2);
    say(c, PL_CHANNEL_VOICE, "I am looking for a bike");
    assert_string_equal(offered(c), "city");
    const pl_message_t *m = &c->t.reply.items[c->t.reply.n - 2];
    assert_string_equal(m->text, "City bike for €500.");
    assert_true(m->offer_price == 500);
    assert_string_equal(m->offer_title, "City bike");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            pl_offer_snapshot(c->state, "city"), "terms")),
                        "Free delivery.");
    stop(c);
}

static void buttons_accept_and_decline_once_for_every_channel(void **state)
{
    (void)state;
    conv_t *c = start();
    say(c, PL_CHANNEL_WEB, "I want a bike");
    press(c, PL_CHANNEL_APP, PL_EVENT_DECLINE_OFFER, "city");
    assert_string_equal(status(c, "city"), "declined");
    assert_string_equal(c->t.reply.items[c->t.reply.n - 1].text,
                        "All right, I will not offer you the City bike again.");
    assert_null(cJSON_GetObjectItem(c->state, "persona")); /* a button says nothing of style */
    /* a later accept, on any channel, changes nothing: the offer is closed */
    press(c, PL_CHANNEL_WEB, PL_EVENT_ACCEPT_OFFER, "city");
    assert_string_equal(status(c, "city"), "declined");
    assert_string_equal(c->t.reply.items[c->t.reply.n - 1].text, "That offer is no longer open.");
    say(c, PL_CHANNEL_VOICE, "I would like to buy a bike");
    assert_string_equal(offered(c), "");
    /* an offer that was never made, and ids that are no ids */
    press(c, PL_CHANNEL_WEB, PL_EVENT_ACCEPT_OFFER, "premium");
    assert_string_equal(status(c, "premium"), "none");
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cJSON *before = cJSON_Duplicate(c->state, 1);
    pl_event_t ev = {.kind = PL_EVENT_ACCEPT_OFFER, .offer = big, .now_ms = c->now};
    assert_int_equal(pl_runtime_turn(c->rt, &c->state, &ev, &c->a, &c->t), PL_EINVAL);
    ev.offer = NULL;
    assert_int_equal(pl_runtime_turn(c->rt, &c->state, &ev, &c->a, &c->t), PL_EINVAL);
    ev.kind = (pl_event_kind_t)42;
    assert_int_equal(pl_runtime_turn(c->rt, &c->state, &ev, &c->a, &c->t), PL_EINVAL);
    assert_true(cJSON_Compare(before, c->state, 1));
    cJSON_Delete(before);
    stop(c);
}

static void a_yes_after_an_offer_accepts_it_but_not_after_a_question(void **state)
{
    (void)state;
    conv_t *c = start();
    say(c, PL_CHANNEL_VOICE, "I want a bike");
    say(c, PL_CHANNEL_VOICE, "Yes, please!");
    assert_string_equal(status(c, "city"), "accepted");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            pl_offer_snapshot(c->state, "city"), "closed_channel")),
                        "voice");
    stop(c);
    /* the yes comes a message too late: it answers nothing */
    c = start();
    say(c, PL_CHANNEL_WEB, "I want a bike");
    say(c, PL_CHANNEL_WEB, "I want to leave a note");
    say(c, PL_CHANNEL_WEB, "yes");
    assert_string_equal(status(c, "city"), "open");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(c->state, "slots"), "text")),
                        "yes");
    stop(c);
}

static void an_offer_built_on_interests_needs_consent(void **state)
{
    (void)state;
    conv_t *c = start();
    for (int i = 0; i < 5; i++)
        say(c, PL_CHANNEL_WEB, "I love e-bikes");
    say(c, PL_CHANNEL_WEB, "any deals for me");
    assert_true(strstr(offered(c), "fan") == NULL);
    assert_null(cJSON_GetObjectItem(c->state, "interests"));
    stop(c);
    c = start();
    say(c, PL_CHANNEL_WEB, "I love e-bikes");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c->state, "step")), "#1");
    say(c, PL_CHANNEL_WEB, "sure");
    assert_true(pl_consent_given(c->state, PL_CONSENT_PERSONALISATION));
    for (int i = 0; i < 4; i++)
        say(c, PL_CHANNEL_APP, "I love e-bikes");
    /* answered once: the consent step is skipped on every channel now */
    assert_null(cJSON_GetObjectItem(c->state, "flow"));
    say(c, PL_CHANNEL_VOICE, "any deals for me");
    assert_string_equal(offered(c), "summer fan");
    /* consent withdrawn: what was learnt goes, and no new personal offer is made */
    say(c, PL_CHANNEL_VOICE, "stop personalising");
    assert_false(pl_consent_given(c->state, PL_CONSENT_PERSONALISATION));
    assert_null(cJSON_GetObjectItem(c->state, "interests"));
    stop(c);
}

static void not_interested_withdraws_and_suppresses_the_category(void **state)
{
    (void)state;
    conv_t *c = start();
    say(c, PL_CHANNEL_WEB, "I want a bike");
    say(c, PL_CHANNEL_APP, "I am not interested in bike offers any more");
    assert_string_equal(status(c, "city"), "withdrawn");
    assert_true(pl_suppressed(c->state, "bikes"));
    assert_string_equal(c->t.reply.items[c->t.reply.n - 1].text,
                        "Understood: no more offers for bikes, on any channel.");
    say(c, PL_CHANNEL_WEB, "I want a bike");
    assert_string_equal(offered(c), "");
    stop(c);
}

/* Runs one message of channel user `user` through the store. */
static int turn(pl_runtime_t *rt, pl_store_t *s, const char *user, pl_channel_t ch,
                const char *text, pl_session_result_t *res)
{
    static pl_arena_t a;
    static int ready;
    if (!ready)
        pl_arena_init(&a, 0), ready = 1;
    pl_turn_t t;
    pl_event_t ev = {.text = text, .len = strlen(text), .channel = ch, .now_ms = T0};
    cJSON_Delete(res->state);
    int rc = pl_session_turn(rt, s, user, &ev, &a, &t, res);
    return rc;
}

static void forget_me_leaves_nothing_in_the_database_file(void **state)
{
    (void)state;
    pl_runtime_t *rt = th_runtime("offers.yaml", bot_v1);
    pl_store_t *s;
    assert_int_equal(pl_store_open(th_db_fresh(), &s, NULL, 0), 0);
    pl_session_result_t r = {0}, other = {0};
    assert_int_equal(turn(rt, s, "web-user-77", PL_CHANNEL_WEB, "take a note please", &r), 0);
    assert_int_equal(turn(rt, s, "web-user-77", PL_CHANNEL_WEB, "PLANTEDMARK42", &r), 0);
    assert_int_equal(turn(rt, s, "web-user-77", PL_CHANNEL_WEB, "I want a bike", &r), 0);
    char customer[PL_STORE_MAX_KEY + 1];
    strcpy(customer, r.customer);
    assert_int_equal(pl_store_link(s, "voice", "voice-user-88", customer), 0);
    assert_int_equal(turn(rt, s, "other-99", PL_CHANNEL_WEB, "take a note please", &other), 0);
    assert_int_equal(turn(rt, s, "other-99", PL_CHANNEL_WEB, "KEEPTHISMARK", &other), 0);
    assert_true(th_db_contains("PLANTEDMARK42"));
    /* "forget me" on voice, then "no": nothing is deleted */
    assert_int_equal(turn(rt, s, "voice-user-88", PL_CHANNEL_VOICE, "forget me", &r), 0);
    assert_int_equal(turn(rt, s, "voice-user-88", PL_CHANNEL_VOICE, "no", &r), 0);
    assert_false(r.erased);
    assert_true(th_db_contains("PLANTEDMARK42"));
    assert_int_equal(turn(rt, s, "voice-user-88", PL_CHANNEL_VOICE, "delete my data", &r), 0);
    assert_int_equal(turn(rt, s, "voice-user-88", PL_CHANNEL_VOICE, "yes", &r), 0);
    assert_true(r.erased);
    assert_string_equal(r.customer, customer);
    char *found = NULL;
    int64_t v;
    assert_int_equal(pl_store_load(s, customer, &found, &v), PL_ENOTFOUND);
    assert_int_equal(pl_store_resolve(s, "web", "web-user-77", &found), PL_ENOTFOUND);
    assert_int_equal(pl_store_resolve(s, "voice", "voice-user-88", &found), PL_ENOTFOUND);
    assert_false(th_db_contains("PLANTEDMARK42"));
    assert_false(th_db_contains(customer));
    assert_false(th_db_contains("web-user-77"));
    assert_false(th_db_contains("voice-user-88"));
    assert_true(th_db_contains("KEEPTHISMARK")); /* the scan sees what is there */
    /* the next message is a new customer with nothing of the old one */
    assert_int_equal(turn(rt, s, "web-user-77", PL_CHANNEL_WEB, "hello", &r), 0);
    assert_string_not_equal(r.customer, customer);
    assert_null(cJSON_GetObjectItem(r.state, "slots"));
    assert_null(cJSON_GetObjectItem(r.state, "offers"));
    cJSON_Delete(r.state);
    cJSON_Delete(other.state);
    pl_store_close(s);
    pl_runtime_unref(rt);
}

static void ids_typed_into_messages_reach_no_other_customer(void **state)
{
    (void)state;
    pl_runtime_t *rt = th_runtime("offers.yaml", bot_v1);
    pl_store_t *s;
    assert_int_equal(pl_store_open("memory", &s, NULL, 0), 0);
    pl_session_result_t a = {0}, b = {0};
    assert_int_equal(turn(rt, s, "alice", PL_CHANNEL_WEB, "take a note please", &a), 0);
    assert_int_equal(turn(rt, s, "alice", PL_CHANNEL_WEB, "ALICE-SECRET", &a), 0);
    char alice[PL_STORE_MAX_KEY + 1];
    strcpy(alice, a.customer);
    int64_t alice_version = a.version;
    assert_int_equal(turn(rt, s, "bob", PL_CHANNEL_WEB, "hello", &b), 0);
    char bob[PL_STORE_MAX_KEY + 1];
    strcpy(bob, b.customer);
    char attempts[6][400];
    snprintf(attempts[0], 400, "%s", alice);
    snprintf(attempts[1], 400, "I am customer %s, show my offers", alice);
    snprintf(attempts[2], 400, "{\"customer\":\"%s\",\"channel\":\"web\",\"user\":\"alice\"}", alice);
    snprintf(attempts[3], 400, "alice");
    snprintf(attempts[4], 400, "/channel web alice");
    snprintf(attempts[5], 400, "take a note please");
    for (int i = 0; i < 6; i++) {
        assert_int_equal(turn(rt, s, "bob", PL_CHANNEL_WEB, attempts[i], &b), 0);
        assert_string_equal(b.customer, bob);
        char *doc = cJSON_PrintUnformatted(b.state);
        assert_null(strstr(doc, "ALICE-SECRET"));
        cJSON_free(doc);
    }
    /* a note is free text: Bob's own state holds what he typed, Alice's is untouched */
    char *doc = NULL;
    int64_t v;
    assert_int_equal(pl_store_load(s, alice, &doc, &v), 0);
    assert_int_equal(v, alice_version);
    assert_non_null(strstr(doc, "ALICE-SECRET"));
    pl_free(doc);
    cJSON_Delete(a.state);
    cJSON_Delete(b.state);
    pl_store_close(s);
    pl_runtime_unref(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offers_respect_channel_end_date_and_eligibility),
        cmocka_unit_test(a_snapshot_keeps_its_terms_after_the_bot_is_edited),
        cmocka_unit_test(buttons_accept_and_decline_once_for_every_channel),
        cmocka_unit_test(a_yes_after_an_offer_accepts_it_but_not_after_a_question),
        cmocka_unit_test(an_offer_built_on_interests_needs_consent),
        cmocka_unit_test(not_interested_withdraws_and_suppresses_the_category),
        cmocka_unit_test(forget_me_leaves_nothing_in_the_database_file),
        cmocka_unit_test(ids_typed_into_messages_reach_no_other_customer),
    };
    return cmocka_run_group_tests_name("offers and privacy", tests, NULL, NULL);
}
