/* Unit tests of the honest bot, through loader, engine and render: the disclosure and manifest
 * at the start of each channel, "are you a bot?", "what can you do?", a capability missing on
 * this channel, what the bot cannot do, the built-in handoff recorded in state, and the lint
 * rules that keep a bot from hiding what it is. */
#include "test_helpers.h"

#include "render/manifest.h"
#include "runtime.h"

static const char bot_text[] =
    "bot:\n"
    "  id: h\n"
    "  name: Hana\n"
    "  language: en\n"
    "  personality: {name: Hana, voice: calm}\n"
    "  disclosure: \"I am {{bot.name}}, a virtual assistant of the shop, not a person.\"\n"
    "intents:\n"
    "  buy: [I want a camera, I am looking for a camera]\n"
    "  compare: [compare cameras side by side, show me a comparison table]\n"
    "  feedback: [I have feedback, I want to leave a comment]\n"
    "  repair: [can you repair my camera, my camera is broken, fix my lens]\n"
    "entities: {money: {type: money}}\n"
    "slots: {budget: {entity: money, prompt: What is your budget?},\n"
    "        comment: {type: text, prompt: What would you like to tell us?}}\n"
    "capabilities:\n"
    "  can:\n"
    "    advice: {description: help you choose a camera}\n"
    "    table: {description: compare cameras side by side, channels: [web, app],\n"
    "            elsewhere: it needs a screen}\n"
    "  cannot:\n"
    "    repairs: {description: repair cameras, alternative: \"Our repair service: 030 1234.\",\n"
    "              intents: [repair]}\n"
    "  human: {web: the button below the chat, voice: call 030 5555, hours: Mon-Fri 9-18}\n"
    "flows:\n"
    "  buy: {trigger: buy, capability: advice, steps: [{ask: budget}, {end: Noted.}]}\n"
    "  compare: {trigger: compare, capability: table, steps: [{end: Here is the table.}]}\n"
    "  feedback: {trigger: feedback, steps: [{ask: comment}, {end: Thank you.}]}\n";

typedef struct {
    pl_runtime_t *rt;
    cJSON *state;
    pl_arena_t a;
    pl_turn_t t;
    pl_strbuf_t said; /* the turn's messages joined by '|' */
} conv_t;

static int setup(void **state)
{
    conv_t *c = calloc(1, sizeof(*c));
    const char *path = th_write("honest.yaml", bot_text);
    pl_diags_t d;
    pl_diags_init(&d);
    int rc = pl_runtime_load(path, &d, &c->rt);
    pl_diags_print(&d, stderr);
    pl_diags_cleanup(&d);
    if (rc != 0)
        return -1;
    c->state = cJSON_CreateObject();
    pl_arena_init(&c->a, 0);
    pl_strbuf_init(&c->said, 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    conv_t *c = *state;
    cJSON_Delete(c->state);
    pl_arena_cleanup(&c->a);
    pl_strbuf_cleanup(&c->said);
    pl_runtime_unref(c->rt);
    free(c);
    return 0;
}

static const char *say(conv_t *c, const char *text, pl_channel_t ch)
{
    pl_arena_reset(&c->a);
    pl_event_t ev = {.text = text, .len = strlen(text), .channel = ch, .now_ms = 1767225600000LL};
    assert_int_equal(pl_runtime_turn(c->rt, &c->state, &ev, &c->a, &c->t), 0);
    pl_strbuf_clear(&c->said);
    for (size_t i = 0; i < c->t.reply.n; i++) {
        if (i > 0)
            pl_strbuf_putc(&c->said, '|');
        pl_strbuf_puts(&c->said, c->t.reply.items[i].text);
    }
    return pl_strbuf_str(&c->said);
}

static void first_reply_on_each_channel_carries_the_disclosure_and_manifest(void **state)
{
    conv_t *c = *state;
    say(c, "I want a camera", PL_CHANNEL_WEB);
    assert_int_equal(c->t.reply.items[0].kind, PL_MSG_CAPABILITIES);
    th_assert_contains(c->t.reply.items[0].text, "I am Hana, a virtual assistant of the shop");
    th_assert_contains(c->t.reply.items[0].text,
                       "I can help you choose a camera and compare cameras side by side.");
    th_assert_contains(c->t.reply.items[0].text, "To reach a person: the button below the chat.");
    say(c, "500 euros", PL_CHANNEL_WEB);
    assert_int_not_equal(c->t.reply.items[0].kind, PL_MSG_CAPABILITIES);
    /* the same customer on voice: disclosed again, spoken, two sentences, only what voice can */
    const char *v = say(c, "I want a camera", PL_CHANNEL_VOICE);
    assert_int_equal(c->t.reply.items[0].kind, PL_MSG_TEXT);
    assert_string_equal(c->t.reply.items[0].text,
                        "I am Hana, a virtual assistant of the shop, not a person. I can help you "
                        "choose a camera.");
    th_assert_contains(v, "|Noted."); /* the budget given on the web is remembered */
}

static void a_capability_missing_on_this_channel_is_said_not_run(void **state)
{
    conv_t *c = *state;
    say(c, "hello", PL_CHANNEL_VOICE);
    const char *v = say(c, "compare cameras side by side", PL_CHANNEL_VOICE);
    assert_string_equal(v, "I cannot compare cameras side by side here, but on the website or in "
                           "the app I can (it needs a screen).");
    assert_null(cJSON_GetObjectItem(c->state, "flow"));
    const char *w = say(c, "compare cameras side by side", PL_CHANNEL_WEB);
    th_assert_contains(w, "Here is the table.");
}

static void what_the_bot_cannot_do_gets_the_alternative(void **state)
{
    conv_t *c = *state;
    say(c, "hello", PL_CHANNEL_WEB);
    const char *r = say(c, "my camera is broken", PL_CHANNEL_WEB);
    assert_string_equal(r, "Sorry, I cannot repair cameras. Our repair service: 030 1234.");
}

static void are_you_a_bot_is_answered_truthfully_even_mid_question(void **state)
{
    conv_t *c = *state;
    say(c, "I want a camera", PL_CHANNEL_WEB);
    const char *r = say(c, "are you a bot?", PL_CHANNEL_WEB);
    assert_string_equal(r, "I am Hana, a virtual assistant of the shop, not a person.|What is your "
                           "budget?");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c->state, "flow")), "buy");
    r = say(c, "about 500 euros", PL_CHANNEL_WEB);
    assert_string_equal(r, "Noted.");
}

/* Free text takes any words: the honest answers and the channel check come first there. */
static void a_free_text_question_does_not_swallow_honest_questions(void **state)
{
    conv_t *c = *state;
    say(c, "I have feedback", PL_CHANNEL_VOICE);
    const char *r = say(c, "are you a bot?", PL_CHANNEL_VOICE);
    assert_string_equal(r,
                        "I am Hana, a virtual assistant of the shop, not a person.|What would you "
                        "like to tell us?");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "slots"), "comment"));
    r = say(c, "compare cameras side by side", PL_CHANNEL_VOICE);
    th_assert_contains(r, "I cannot compare cameras side by side here");
    r = say(c, "the shop is lovely", PL_CHANNEL_VOICE);
    assert_string_equal(r, "Thank you.");
}

static void what_can_you_do_lists_this_channel(void **state)
{
    conv_t *c = *state;
    say(c, "hello", PL_CHANNEL_APP);
    const char *r = say(c, "what can you do?", PL_CHANNEL_APP);
    assert_string_equal(r, "I can help you choose a camera and compare cameras side by side.");
}

static void a_person_please_hands_off_and_records_it(void **state)
{
    conv_t *c = *state;
    say(c, "hello", PL_CHANNEL_WEB);
    say(c, "I want to talk to a person", PL_CHANNEL_WEB);
    assert_int_equal(c->t.reply.items[0].kind, PL_MSG_HANDOFF);
    assert_string_equal(c->t.reply.items[0].text,
                        "Here is how to reach a person: the button below the chat (Mon-Fri 9-18).");
    const cJSON *h = cJSON_GetObjectItem(c->state, "handoff");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "channel")), "web");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "from")), "built-in");
}

static void the_built_in_fallback_reminds_what_the_bot_can_do(void **state)
{
    conv_t *c = *state;
    say(c, "hello", PL_CHANNEL_WEB);
    const char *r = say(c, "xyzzy plugh", PL_CHANNEL_WEB);
    assert_string_equal(r, "Sorry, I did not understand that. Could you say it differently?|I can "
                           "help you choose a camera and compare cameras side by side.");
}

static void manifest_json_has_the_documented_shape(void **state)
{
    conv_t *c = *state;
    cJSON *m = pl_manifest_json(pl_runtime_bot(c->rt), PL_CHANNEL_VOICE);
    char *s = cJSON_PrintUnformatted(m);
    assert_string_equal(
        s, "{\"bot\":{\"id\":\"h\",\"name\":\"Hana\",\"persona_name\":\"Hana\",\"automated\":true},"
           "\"channel\":\"voice\",\"language\":\"en\",\"disclosure\":\"I am Hana, a virtual "
           "assistant of the shop, not a person.\",\"can\":[{\"id\":\"advice\",\"description\":"
           "\"help you choose a camera\"}],\"elsewhere\":[{\"id\":\"table\",\"description\":"
           "\"compare cameras side by side\",\"channels\":[\"web\",\"app\"],\"reason\":\"it needs "
           "a screen\"}],\"cannot\":[{\"id\":\"repairs\",\"description\":\"repair cameras\","
           "\"alternative\":\"Our repair service: 030 1234.\"}],\"human\":{\"contact\":\"call 030 "
           "5555\",\"hours\":\"Mon-Fri 9-18\"}}");
    free(s);
    cJSON_Delete(m);
}

/* On a screen the manifest also says where the rest is; a bot without a disclosure of its own
 * gets the built-in one in its language. */
static void manifest_says_where_the_rest_is_and_discloses_by_default(void **state)
{
    conv_t *c = *state;
    pl_strbuf_t b;
    pl_strbuf_init(&b, 0);
    const char *path =
        th_write("plain.yaml", "bot: {id: p, name: Shop helper, language: de}\n"
                               "intents: {a: [hallo]}\n"
                               "capabilities:\n"
                               "  can:\n"
                               "    status: {description: Bestellungen prüfen}\n"
                               "    table: {description: Kameras vergleichen,\n"
                               "            channels: [web], elsewhere: mit Bildschirm}\n"
                               "flows: {f: {trigger: a, steps: [{end: ok}]}}\n");
    pl_diags_t d;
    pl_diags_init(&d);
    pl_bot_t *bot = NULL;
    assert_int_equal(pl_bot_load(path, &d, &bot), 0);
    pl_diags_cleanup(&d);
    assert_int_equal(pl_manifest_text(bot, PL_CHANNEL_APP, &b), 0);
    assert_string_equal(pl_strbuf_str(&b),
                        "Ich bin Shop helper, ein automatischer Assistent – kein "
                        "Mensch. Ich kann: Bestellungen prüfen. Kameras "
                        "vergleichen: auf der Website.");
    pl_strbuf_cleanup(&b);
    pl_bot_free(bot);
    (void)c;
}

static void lint_keeps_a_bot_from_hiding_what_it_is(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(
        th_load("bot: {id: h, name: Hana, language: en, disclosure: \"Hi, I am Hana "
                "from {{bot.name}}.\"}\n"
                "intents: {hi: [hello]}\n"
                "flows:\n"
                "  human_lie: {trigger: are_you_a_bot, steps: [{end: I am a person.}]}\n"
                "  f: {trigger: hi, capability: magic, steps: [{end: ok}]}\n"
                "capabilities: {cannot: {refunds: {description: give refunds}}}\n",
                &bot, &diag),
        PL_EINVALID);
    th_assert_contains(diag, "error: the disclosure must say that the customer talks to an "
                             "automated assistant");
    th_assert_contains(diag, "error: flow 'human_lie' answers 'are you a bot?'");
    th_assert_contains(diag, "error: unknown capability 'magic'");
    th_assert_contains(diag, "warning: 'refunds' says what the bot cannot do but not where to go "
                             "instead");
    free(diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            first_reply_on_each_channel_carries_the_disclosure_and_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(a_capability_missing_on_this_channel_is_said_not_run, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(what_the_bot_cannot_do_gets_the_alternative, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(are_you_a_bot_is_answered_truthfully_even_mid_question,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(what_can_you_do_lists_this_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(a_free_text_question_does_not_swallow_honest_questions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_person_please_hands_off_and_records_it, setup, teardown),
        cmocka_unit_test_setup_teardown(the_built_in_fallback_reminds_what_the_bot_can_do, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(manifest_json_has_the_documented_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(manifest_says_where_the_rest_is_and_discloses_by_default,
                                        setup, teardown),
        cmocka_unit_test(lint_keeps_a_bot_from_hiding_what_it_is),
    };
    return cmocka_run_group_tests_name("honesty", tests, NULL, NULL);
}
