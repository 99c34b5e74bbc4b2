/* Linking a voice assistant in conversation: a signed-in customer asks for a code on the web,
 * says it by voice, and the voice channel becomes the same customer, with what it did before
 * merged in. Wrong codes are refused alike and paused after five; an anonymous customer gets
 * no code; six digits in other messages are no attempt. */
#include "test_helpers.h"

#include "base/mem.h"
#include "session/link_code.h"
#include "session/session.h"
#include "session/sign_in.h"
#include "test_tokens.h"

static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef-site";
#define NOW_MS 1800000000000LL
#define ALICE "{\"sub\":\"alice\",\"exp\":1800000600}"

typedef struct {
    pl_runtime_t *rt;
    pl_store_t *s;
    pl_arena_t a;
    pl_turn_t t;
    pl_session_result_t res;
} link_t;

static link_t *start(void)
{
    link_t *l = calloc(1, sizeof(*l));
    l->rt = th_runtime("link.yaml", TH_BUDGET_BOT);
    assert_int_equal(pl_store_open("memory", &l->s, NULL, 0), 0);
    pl_arena_init(&l->a, 0);
    return l;
}

static void stop(link_t *l)
{
    cJSON_Delete(l->res.state);
    pl_store_close(l->s);
    pl_runtime_unref(l->rt);
    pl_arena_cleanup(&l->a);
    free(l);
}

/* Says text as channel user `user`; returns the whole reply (static). */
static const char *say(link_t *l, const char *user, pl_channel_t ch, const char *text)
{
    pl_event_t ev = {.text = text, .len = strlen(text), .channel = ch, .now_ms = NOW_MS};
    cJSON_Delete(l->res.state);
    assert_int_equal(pl_session_turn(l->rt, l->s, user, &ev, &l->a, &l->t, &l->res), 0);
    static char reply[2048];
    reply[0] = '\0';
    for (size_t i = 0; i < l->t.reply.n; i++) {
        strncat(reply, l->t.reply.items[i].text, sizeof(reply) - strlen(reply) - 2);
        strcat(reply, "\n");
    }
    return reply;
}

/* Web user w1 signs in as Alice with a token from the site's login. */
static void sign_in_alice(link_t *l)
{
    char account[PL_STORE_MAX_KEY + 1], why[128];
    assert_int_equal(pl_sign_in(l->s, "web", "w1", tt_make(HS256, ALICE, SECRET), SECRET,
                                strlen((const char *)SECRET), NOW_MS, account, why, sizeof(why)),
                     0);
}

/* The six digits of "Your code is 482 019." in reply. */
static void code_in(const char *reply, char code[7])
{
    const char *p = strstr(reply, "Your code is ");
    assert_non_null(p);
    size_t n = 0;
    for (p += 13; *p && n < 6; p++)
        if (*p >= '0' && *p <= '9')
            code[n++] = *p;
    code[n] = '\0';
    assert_int_equal(n, 6);
}

static void a_code_from_the_web_links_the_voice_assistant(void **state)
{
    (void)state;
    link_t *l = start();
    sign_in_alice(l);
    /* by voice, before linking: an anonymous customer with a budget */
    say(l, "v1", PL_CHANNEL_VOICE, "I want to buy a camera");
    say(l, "v1", PL_CHANNEL_VOICE, "900 euros");
    char anon[PL_STORE_MAX_KEY + 1];
    strcpy(anon, l->res.customer);
    const char *reply = say(l, "w1", PL_CHANNEL_WEB, "link my voice assistant");
    assert_string_equal(l->res.customer, "a:alice");
    char code[7];
    code_in(reply, code);
    char said[64];
    snprintf(said, sizeof(said), "my code is %.3s %.3s", code, code + 3);
    reply = say(l, "v1", PL_CHANNEL_VOICE, said);
    th_assert_contains(reply, "this device is now linked to your account");
    assert_string_equal(l->res.customer, "a:alice");
    /* what voice did anonymously is Alice's now; the anonymous customer is gone */
    const cJSON *budget = cJSON_GetObjectItem(cJSON_GetObjectItem(l->res.state, "slots"), "budget");
    assert_true(cJSON_IsNumber(budget) && budget->valuedouble == 900);
    char *doc;
    int64_t v;
    assert_int_equal(pl_store_load(l->s, anon, &doc, &v), PL_ENOTFOUND);
    /* the code is used up: said again by someone else it is refused like any wrong code */
    reply = say(l, "v2", PL_CHANNEL_VOICE, said);
    th_assert_contains(reply, "That code did not work.");
    assert_string_not_equal(l->res.customer, "a:alice");
    stop(l);
}

static void wrong_codes_pause_after_five_and_look_alike(void **state)
{
    (void)state;
    link_t *l = start();
    sign_in_alice(l);
    char code[7];
    code_in(say(l, "w1", PL_CHANNEL_WEB, "link my voice assistant"), code);
    /* six digits without the word "code", or inside a word, are no attempt */
    say(l, "v9", PL_CHANNEL_VOICE, "my order LU-123456 has not arrived");
    assert_null(strstr(say(l, "v9", PL_CHANNEL_VOICE, "the code is VB-123456"), "did not work"));
    int64_t tries;
    assert_int_equal(pl_store_attempts(l->s, "voice", "v9", NOW_MS, 900000, 0, &tries), 0);
    assert_int_equal(tries, 0);
    char first[2048];
    for (int i = 0; i < 5; i++) {
        char wrong[16];
        snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 1 + i) % 1000000);
        char said[64];
        snprintf(said, sizeof(said), "my code is %s", wrong);
        const char *reply = say(l, "v9", PL_CHANNEL_VOICE, said);
        if (i == 0)
            strcpy(first, reply);
        assert_string_equal(reply, first); /* never tells a used code from a wrong one */
    }
    char said[64];
    snprintf(said, sizeof(said), "Code %s", code);
    th_assert_contains(say(l, "v9", PL_CHANNEL_VOICE, said), "Too many wrong codes.");
    assert_string_not_equal(l->res.customer, "a:alice");
    stop(l);
}

static void an_anonymous_customer_gets_no_code(void **state)
{
    (void)state;
    link_t *l = start();
    const char *reply = say(l, "w5", PL_CHANNEL_WEB, "link my voice assistant");
    th_assert_contains(reply, "please sign in on the website or in the app first");
    assert_null(strstr(reply, "Your code is"));
    stop(l);
}

static void codes_are_read_in_digits_and_in_words(void **state)
{
    (void)state;
    static const struct {
        const char *said, *want; /* NULL: no code */
    } rows[] = {
        {"my code is 482 019", "482019"},
        {"Code 482-019", "482019"},
        {"my code is four eight two zero one nine", "482019"},
        {"mein Code ist vier acht zwei null eins neun", "482019"},
        {"Code: fünf zwo oh eins Eins sechs", "520116"},
        {"the code is VB-123456", NULL},
        {"my order LU-123456", NULL},
        {"code 12345", NULL},
        {"code 1234567", NULL},
        {"code four eight two", NULL},
        {"code 48 two one nine 0", "482190"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char code[7] = "";
        int rc = pl_link_code_digits(rows[i].said, code);
        if (rows[i].want == NULL) {
            if (rc != -1)
                fail_msg("'%s' should hold no code, got %s", rows[i].said, code);
        } else if (rc != 0 || strcmp(code, rows[i].want) != 0) {
            fail_msg("'%s' should be %s, got %d '%s'", rows[i].said, rows[i].want, rc, code);
        }
    }
}

/* By voice the code may arrive as words: it links all the same. */
static void a_code_said_in_words_links_too(void **state)
{
    (void)state;
    link_t *l = start();
    sign_in_alice(l);
    char code[7];
    code_in(say(l, "w1", PL_CHANNEL_WEB, "link my voice assistant"), code);
    static const char *const names[] = {"zero", "one", "two", "three", "four",
                                        "five", "six", "seven", "eight", "nine"};
    char said[128] = "my code is";
    for (int i = 0; i < 6; i++) {
        strcat(said, " ");
        strcat(said, names[code[i] - '0']);
    }
    th_assert_contains(say(l, "v7", PL_CHANNEL_VOICE, said), "this device is now linked");
    assert_string_equal(l->res.customer, "a:alice");
    stop(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_code_from_the_web_links_the_voice_assistant),
        cmocka_unit_test(wrong_codes_pause_after_five_and_look_alike),
        cmocka_unit_test(an_anonymous_customer_gets_no_code),
        cmocka_unit_test(codes_are_read_in_digits_and_in_words),
        cmocka_unit_test(a_code_said_in_words_links_too),
    };
    return cmocka_run_group_tests_name("link codes in conversation", tests, NULL, NULL);
}
