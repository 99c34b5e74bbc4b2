/* Unit tests of runtime/persona: the signals of single messages in English and German
 * (table-driven), detection that needs two agreeing turns and ignores one outlier, the German
 * address form, and the persona's behaviour in replies. */
#include "test_helpers.h"

#include "nlu/nlu.h"
#include "persona/persona.h"
#include "dialog/privacy.h"
#include "runtime.h"

static const char en_bot[] =
    "bot: {id: p, name: P, language: en, tones: [neutral, formal, casual, concise]}\n"
    "intents: {buy: [I want a camera, looking for a camera], help: [help me]}\n"
    "signals:\n"
    "  expert: {words: [full frame, dynamic range, aperture, ISO noise]}\n"
    "personas:\n"
    "  polite: {signals: {formal: 2}, tone: formal, emoji: false}\n"
    "  relaxed: {signals: {casual: 1.5, emoji: 1}, tone: casual, max_options: 2}\n"
    "  pro: {signals: {expert: 2}, tone: concise, patience: 1}\n"
    "flows:\n"
    "  buy:\n"
    "    trigger: buy\n"
    "    steps:\n"
    "      - say:\n"
    "          default: \"Let us find one \xF0\x9F\x98\x80 for you.\"\n"
    "          formal: \"Certainly. Let us find a suitable camera \xF0\x9F\x93\xB7 for you.\"\n"
    "          casual: \"Cool, let's go \xF0\x9F\x98\x8E\"\n"
    "        quick_replies: [Travel, People, Sports, Video]\n"
    "      - end:\n"
    "  help: {trigger: help, steps: [{handoff: A person will help.}]}\n"
    "fallback: {say: Sorry?, escalate_after: 3, escalate_to: help}\n";

static const char de_bot[] =
    "bot: {id: p, name: P, language: de, tones: [formell, locker]}\n"
    "intents: {buy: [ich suche eine Kamera, ich möchte eine Kamera kaufen]}\n"
    "personas:\n"
    "  locker: {signals: {casual: 2}, tone: locker}\n"
    "flows:\n"
    "  buy:\n"
    "    trigger: buy\n"
    "    steps:\n"
    "      - say:\n"
    "          default: Gerne helfe ich Ihnen bei der Auswahl.\n"
    "          locker: Klar, ich helf dir gern!\n"
    "      - end:\n"
    "fallback:\n"
    "  say: {default: \"Wie bitte?\", locker: \"Hä, was meinst du?\"}\n";

typedef struct {
    const char *text;
    const char *signal; /* the strongest signal, or NULL for none above 0.3 */
} row_t;

static void check_rows(const char *bot_text, const row_t *rows, size_t n)
{
    pl_bot_t *bot;
    char *diag;
    int rc = th_load(bot_text, &bot, &diag);
    if (rc != 0)
        print_error("%s", diag);
    free(diag);
    assert_int_equal(rc, 0);
    pl_nlu_t *nlu;
    pl_persona_index_t *ix;
    assert_int_equal(pl_nlu_new(bot, &nlu), 0);
    assert_int_equal(pl_persona_index_new(bot, &ix), 0);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    for (size_t i = 0; i < n; i++) {
        pl_arena_reset(&a);
        pl_understanding_t u;
        assert_int_equal(pl_nlu_understand(nlu, rows[i].text, strlen(rows[i].text), &a, &u), 0);
        pl_signal_input_t in = {.text = rows[i].text,
                                .u = &u,
                                .channel = PL_CHANNEL_WEB,
                                .gap_ms = -1};
        pl_signals_t s;
        assert_int_equal(pl_signals_extract(ix, &in, &a, &s), 0);
        int best = -1;
        for (int k = 0; k < s.n; k++)
            if (k != PL_SIG_SHORT_MESSAGE && s.v[k] >= 0.3 && (best < 0 || s.v[k] > s.v[best]))
                best = k;
        const char *got = best >= 0 ? pl_signal_name(bot, best) : NULL;
        if ((got == NULL) != (rows[i].signal == NULL) ||
            (got && strcmp(got, rows[i].signal) != 0)) {
            print_error("row %zu \"%s\": want %s, got %s\n", i, rows[i].text,
                        rows[i].signal ? rows[i].signal : "none", got ? got : "none");
            fail();
        }
    }
    pl_arena_cleanup(&a);
    pl_persona_index_free(ix);
    pl_nlu_free(nlu);
    pl_bot_free(bot);
}

static void signals_of_english_messages(void **state)
{
    (void)state;
    static const row_t rows[] = {
        {"Dear Sir or Madam, I would be grateful for your advice on a camera.", "formal"},
        {"hey dude, gonna need a cam lol", "casual"},
        {"I want a camera \xF0\x9F\x98\x8D\xF0\x9F\x98\x8D", "emoji"},
        {"this is great :-) thanks :)", "emoji"},
        {"Wow this camera is amazing!!!", "exclamation"},
        {"WHERE IS MY CAMERA I ORDERED IT WEEKS AGO", "shouting"},
        {"I'm not sure, maybe a beginner model? I don't know much.", "hesitation"},
        {"I need it urgently, can you ship today asap", "urgency"},
        {"How does the dynamic range of full frame compare at high ISO noise levels", "expert"},
        {"I am looking for a camera for my holidays", NULL},
    };
    check_rows(en_bot, rows, sizeof(rows) / sizeof(rows[0]));
}

static void signals_of_german_messages(void **state)
{
    (void)state;
    static const row_t rows[] = {
        {"Sehr geehrte Damen und Herren, ich hätte gerne eine Beratung.", "formal"},
        {"Könnten Sie mir bitte eine Kamera empfehlen?", "formal"},
        {"hey, hast du ne kamera für mich?", "casual"},
        {"Weiß nicht so recht, bin Anfänger und unsicher", "hesitation"},
        {"weiss nicht, keine ahnung", "hesitation"},
        {"Ich brauche die Kamera dringend, bitte sofort liefern", "urgency"},
        {"Ich suche eine Kamera für den Urlaub", NULL},
        {"Sie hat gesagt, die Kamera sei gut.", NULL}, /* "Sie" opening a sentence: she */
    };
    check_rows(de_bot, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Length, pace, channel, returning and repeated questions come from the turn, not from word
 * lists: each extractor with its input. */
static void signals_of_length_pace_channel_and_returning(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(th_load(en_bot, &bot, &diag), 0);
    free(diag);
    pl_nlu_t *nlu;
    pl_persona_index_t *ix;
    assert_int_equal(pl_nlu_new(bot, &nlu), 0);
    assert_int_equal(pl_persona_index_new(bot, &ix), 0);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    char longer[600] = "";
    for (int i = 0; i < 45; i++)
        strcat(longer, "word ");
    static const struct {
        const char *text;
        pl_channel_t ch;
        int64_t gap;
        int repeated, returning;
        int signal;
        double min, max;
    } rows[] = {
        {NULL, PL_CHANNEL_WEB, -1, 0, 0, PL_SIG_LONG_MESSAGE, 1, 1},
        {"ok thanks", PL_CHANNEL_WEB, -1, 0, 0, PL_SIG_SHORT_MESSAGE, 1, 1},
        {"I would like to know more about your cameras please", PL_CHANNEL_WEB, -1, 0, 0,
         PL_SIG_SHORT_MESSAGE, 0, 0},
        {"and now?", PL_CHANNEL_WEB, 2000, 0, 0, PL_SIG_FAST_PACE, 1, 1},
        {"and now?", PL_CHANNEL_WEB, 8000, 0, 0, PL_SIG_FAST_PACE, 0.5, 0.5},
        {"and now?", PL_CHANNEL_WEB, 60000, 0, 0, PL_SIG_FAST_PACE, 0, 0},
        {"and now?", PL_CHANNEL_WEB, -1, 0, 0, PL_SIG_FAST_PACE, 0, 0},
        {"what now", PL_CHANNEL_VOICE, -1, 0, 0, PL_SIG_VOICE, 1, 1},
        {"what now", PL_CHANNEL_APP, -1, 0, 0, PL_SIG_VOICE, 0, 0},
        {"hello again", PL_CHANNEL_WEB, -1, 0, 1, PL_SIG_RETURNING, 1, 1},
        {"I want a camera", PL_CHANNEL_WEB, -1, 1, 0, PL_SIG_HESITATION, 0.5, 0.7},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *text = rows[i].text ? rows[i].text : longer;
        pl_arena_reset(&a);
        pl_understanding_t u;
        assert_int_equal(pl_nlu_understand(nlu, text, strlen(text), &a, &u), 0);
        pl_signal_input_t in = {.text = text,
                                .u = &u,
                                .channel = rows[i].ch,
                                .gap_ms = rows[i].gap,
                                .repeated = rows[i].repeated,
                                .returning = rows[i].returning};
        pl_signals_t s;
        assert_int_equal(pl_signals_extract(ix, &in, &a, &s), 0);
        double v = s.v[rows[i].signal];
        if (v < rows[i].min - 1e-9 || v > rows[i].max + 1e-9) {
            print_error("row %zu: %s = %.2f, want %.2f..%.2f\n", i,
                        pl_signal_name(bot, rows[i].signal), v, rows[i].min, rows[i].max);
            fail();
        }
    }
    pl_arena_cleanup(&a);
    pl_persona_index_free(ix);
    pl_nlu_free(nlu);
    pl_bot_free(bot);
}

typedef th_conv_t conv_t;

static conv_t *start(const char *bot_text)
{
    return th_conv_start("persona.yaml", bot_text);
}

static void say(conv_t *c, const char *text)
{
    th_conv_say(c, PL_CHANNEL_WEB, text);
}

static void stop(conv_t *c)
{
    th_conv_stop(c);
}

static const char *persona_of(const conv_t *c)
{
    return c->t.persona.persona ? c->t.persona.persona : "none";
}

static void persona_switches_after_two_agreeing_turns_only(void **state)
{
    (void)state;
    conv_t *c = start(en_bot);
    say(c, "Dear Sir, I would be grateful for advice.");
    assert_string_equal(persona_of(c), "none"); /* one turn is not enough */
    say(c, "Kind regards, and thank you in advance for your help.");
    assert_string_equal(persona_of(c), "polite");
    assert_string_equal(c->t.persona.tone, "formal");
    assert_true(c->t.persona.switched);
    /* one casual outlier does not flip a polite customer */
    say(c, "lol cool dude \xF0\x9F\x98\x8E");
    assert_string_equal(persona_of(c), "polite");
    say(c, "I would appreciate a recommendation, please.");
    assert_string_equal(persona_of(c), "polite");
    /* a consistent change does, after two turns */
    say(c, "hey dude, gonna get one lol \xF0\x9F\x98\x8E");
    assert_string_equal(persona_of(c), "polite");
    say(c, "yo thx, cool \xF0\x9F\x91\x8D");
    assert_string_equal(persona_of(c), "relaxed");
    assert_string_equal(c->t.persona.tone, "casual");
    stop(c);
}

static void persona_behaviour_shapes_the_reply(void **state)
{
    (void)state;
    conv_t *c = start(en_bot);
    say(c, "Dear Sir, I would be grateful for advice.");
    say(c, "Kind regards. I would like a camera, thank you in advance.");
    say(c, "I want a camera");
    /* polite: formal variant, emoji removed */
    assert_string_equal(c->t.reply.items[0].variant, "formal");
    assert_string_equal(c->t.reply.items[0].text,
                        "Certainly. Let us find a suitable camera for you.");
    stop(c);
    c = start(en_bot);
    say(c, "hey dude lol \xF0\x9F\x98\x8E");
    say(c, "yo cool thx \xF0\x9F\x91\x8D");
    say(c, "I want a camera");
    /* relaxed: casual variant keeps its emoji, two options at most */
    assert_string_equal(c->t.reply.items[0].variant, "casual");
    assert_string_equal(c->t.reply.items[0].text, "Cool, let's go \xF0\x9F\x98\x8E");
    assert_int_equal(c->t.reply.items[0].nquick_replies, 2);
    stop(c);
}

static void impatient_persona_gets_a_human_sooner(void **state)
{
    (void)state;
    conv_t *c = start(en_bot);
    say(c, "what aperture and dynamic range at full frame?");
    say(c, "and ISO noise at full frame aperture?");
    assert_string_equal(persona_of(c), "pro");
    say(c, "blorp"); /* patience 1: the first misunderstanding already escalates */
    assert_int_equal(c->t.reply.items[0].kind, PL_MSG_HANDOFF);
    stop(c);
}

static void german_address_stays_sie_until_the_customer_says_du(void **state)
{
    (void)state;
    conv_t *c = start(de_bot);
    say(c, "hey, cool, servus");
    say(c, "moin, krass, cool");
    /* casual enough for the 'locker' persona, but nobody said "du": the bot keeps "Sie" */
    assert_string_equal(persona_of(c), "locker");
    assert_string_equal(c->t.persona.tone, "formell");
    say(c, "ich suche eine Kamera");
    assert_string_equal(c->t.reply.items[0].text, "Gerne helfe ich Ihnen bei der Auswahl.");
    say(c, "kannst du mir eine Kamera zeigen? ich suche eine Kamera");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(c->state, "persona"), "address")),
                        "du");
    assert_string_equal(c->t.persona.tone, "locker");
    assert_string_equal(c->t.reply.items[0].text, "Klar, ich helf dir gern!");
    stop(c);
}

static void lint_warns_about_mixed_address_forms(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(th_load("bot: {id: p, name: P, language: de}\n"
                             "intents: {a: [hallo]}\n"
                             "flows:\n"
                             "  f:\n"
                             "    trigger: a\n"
                             "    steps:\n"
                             "      - say: Schön, dass du da bist. Wie kann ich Ihnen helfen?\n"
                             "      - end:\n",
                             &bot, &diag),
                     0);
    th_assert_contains(diag, "7:14: warning: this text mixes 'du' and 'Sie'");
    free(diag);
    pl_bot_free(bot);
    assert_int_equal(th_load("bot: {id: p, name: P, language: en}\n"
                             "intents: {a: [hi]}\n"
                             "personas: {x: {signals: {formla: 1}}}\n"
                             "flows: {f: {trigger: a, steps: [{end: ok}]}}\n",
                             &bot, &diag),
                     PL_EINVALID);
    th_assert_contains(diag, "3:26: error: unknown signal 'formla' (did you mean 'formal'?)");
    free(diag);
}

static const char shop_bot[] =
    "bot: {id: s, name: S, language: en}\n"
    "intents:\n"
    "  ask_camera: [tell me about DSLR cameras, is a DSLR good for travel, which lenses fit a "
    "DSLR, how long does the battery of a DSLR last, do you have mirrorless cameras]\n"
    "  recommend: [what do you recommend, what should I buy, recommend me something]\n"
    "entities:\n"
    "  product:\n"
    "    type: list\n"
    "    values:\n"
    "      dslr: [DSLR, reflex camera, SLR]\n"
    "      mirrorless: [mirrorless, system camera]\n"
    "      generator: [diesel generator, generator]\n"
    "flows:\n"
    "  ask: {trigger: ask_camera, steps: [{end: Good question.}]}\n"
    "  recommend:\n"
    "    trigger: recommend\n"
    "    steps:\n"
    "      - branch:\n"
    "          - if: {interest: dslr}\n"
    "            goto: dslr\n"
    "          - if: {interest: generator}\n"
    "            goto: generator\n"
    "          - goto: general\n"
    "      - id: dslr\n"
    "        end: I recommend the Canon EOS 250D, a DSLR.\n"
    "      - id: generator\n"
    "        end: Our diesel generators are in the garden section.\n"
    "      - id: general\n"
    "        end: Tell me what you like to photograph.\n";

/* Five turns about reflex cameras, then a joke about a diesel generator: the customer still
 * gets a camera recommendation. */
/* The customer agreed to personalisation (as a consent step records it). */
static void consent(conv_t *c)
{
    assert_int_equal(pl_consent_set(c->state, PL_CONSENT_PERSONALISATION, 1, c->now,
                                    PL_CHANNEL_WEB),
                     0);
}

static void a_joke_does_not_replace_a_sustained_interest(void **state)
{
    (void)state;
    conv_t *c = start(shop_bot);
    consent(c);
    say(c, "tell me about DSLR cameras");
    say(c, "is a DSLR good for travel?");
    say(c, "which lenses fit a DSLR?");
    say(c, "how long does the battery of a DSLR last?");
    say(c, "and a reflex camera for birds?");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c->state, "interest")), "dslr");
    say(c, "haha, do you also sell a diesel generator for my garden party?");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c->state, "interest")), "dslr");
    say(c, "so what do you recommend?");
    assert_string_equal(c->t.reply.items[0].text, "I recommend the Canon EOS 250D, a DSLR.");
    stop(c);
    /* without consent no interest profile is kept at all */
    c = start(shop_bot);
    for (int i = 0; i < 5; i++)
        say(c, "tell me about DSLR cameras");
    assert_null(cJSON_GetObjectItem(c->state, "interests"));
    assert_null(cJSON_GetObjectItem(c->state, "interest"));
    stop(c);
    /* asking what the bot can do is no taste: built-in intents never become interests */
    c = start(shop_bot);
    consent(c);
    for (int i = 0; i < 5; i++)
        say(c, "what can you do");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "interests"), "what_can_you_do"));
    assert_null(cJSON_GetObjectItem(c->state, "interest"));
    stop(c);
    /* one mention alone is no sustained interest */
    c = start(shop_bot);
    consent(c);
    say(c, "do you sell a diesel generator?");
    assert_null(cJSON_GetObjectItem(c->state, "interest"));
    say(c, "what do you recommend?");
    assert_string_equal(c->t.reply.items[0].text, "Tell me what you like to photograph.");
    stop(c);
}

static const cJSON *seen(conv_t *c, const char *key)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "signals_seen"), key);
}

/* Each behavioural signal carries when and where it was last seen, and goes by its own age:
 * formal writing from a month ago is forgotten while last week's emoji are not. */
static void a_new_conversation_with_consent_makes_a_returning_customer(void **state)
{
    (void)state;
    conv_t *c = start(en_bot);
    say(c, "hello");
    c->now += 3600000;
    say(c, "hello again");
    assert_null(cJSON_GetObjectItem(c->state, "returning")); /* without consent: a stranger */
    consent(c);
    c->now += 3600000;
    say(c, "hello once more");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c->state, "returning")));
    stop(c);
}

static void each_signal_expires_by_its_own_age(void **state)
{
    (void)state;
    conv_t *c = start(en_bot);
    consent(c);
    say(c, "Dear Sir, I would be grateful for advice.");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(seen(c, "persona.formal"),
                                                                 "channel")),
                        "web");
    assert_true(cJSON_GetObjectItem(seen(c, "persona.formal"), "at")->valuedouble == c->now);
    c->now += 20 * 86400000LL;
    say(c, "cool \xF0\x9F\x98\x8E");
    assert_non_null(seen(c, "persona.emoji"));
    assert_non_null(seen(c, "persona.formal")); /* 20 days: still within 28 */
    c->now += 10 * 86400000LL;
    say(c, "ok");
    assert_null(seen(c, "persona.formal")); /* 30 days since it was last seen */
    const cJSON *ev = cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "persona"), "evidence");
    assert_null(cJSON_GetObjectItem(ev, "formal"));
    assert_non_null(cJSON_GetObjectItem(ev, "emoji"));
    assert_non_null(seen(c, "persona.emoji"));
    stop(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signals_of_english_messages),
        cmocka_unit_test(signals_of_german_messages),
        cmocka_unit_test(signals_of_length_pace_channel_and_returning),
        cmocka_unit_test(persona_switches_after_two_agreeing_turns_only),
        cmocka_unit_test(persona_behaviour_shapes_the_reply),
        cmocka_unit_test(impatient_persona_gets_a_human_sooner),
        cmocka_unit_test(german_address_stays_sie_until_the_customer_says_du),
        cmocka_unit_test(lint_warns_about_mixed_address_forms),
        cmocka_unit_test(a_joke_does_not_replace_a_sustained_interest),
        cmocka_unit_test(each_signal_expires_by_its_own_age),
        cmocka_unit_test(a_new_conversation_with_consent_makes_a_returning_customer),
    };
    return cmocka_run_group_tests_name("persona", tests, NULL, NULL);
}
