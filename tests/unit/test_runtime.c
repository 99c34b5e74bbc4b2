/* Unit tests of the turn pipeline: a whole turn through NLU, engine and render, and the
 * promise that a failed turn leaves the conversation state exactly as it was. */
#include "test_helpers.h"

#include "base/mem.h"
#include "runtime.h"

static const char bot_text[] = TH_BUDGET_BOT;

/* A conversation that has seen the disclosure on the web already: these tests are about turns. */
#define DISCLOSED "{\"disclosed\":{\"web\":true}}"

static pl_runtime_t *load(void)
{
    return th_runtime("rt.yaml", bot_text);
}

static int turn(pl_runtime_t *rt, cJSON **st, const char *text, pl_arena_t *a, pl_turn_t *t)
{
    pl_arena_reset(a);
    pl_event_t ev = {
        .text = text, .len = strlen(text), .channel = PL_CHANNEL_WEB, .now_ms = 1767225600000LL};
    return pl_runtime_turn(rt, st, &ev, a, t);
}

static void a_turn_understands_asks_and_fills_the_slot(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    cJSON *st = cJSON_Parse(DISCLOSED);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_turn_t t;
    assert_int_equal(turn(rt, &st, "I am looking for a camera", &a, &t), 0);
    assert_int_equal(t.nlu.intent, 0);
    assert_int_equal(t.reply.n, 1);
    assert_string_equal(t.reply.items[0].text, "What is your budget?");
    assert_int_equal(turn(rt, &st, "about 700 euros", &a, &t), 0);
    assert_string_equal(t.reply.items[0].text, "Noted, €700.");
    cJSON *json = pl_turn_to_json(rt, st, &t);
    assert_non_null(json);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(json, "intents")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(json, "messages")));
    cJSON_Delete(json);
    cJSON_Delete(st);
    pl_arena_cleanup(&a);
    pl_runtime_unref(rt);
}

static void bad_messages_are_refused_and_leave_state_untouched(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    cJSON *st = cJSON_Parse(DISCLOSED);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_turn_t t;
    assert_int_equal(turn(rt, &st, "I am looking for a camera", &a, &t), 0);
    char *before = cJSON_PrintUnformatted(st);
    assert_int_equal(turn(rt, &st, "bad \xFF byte", &a, &t), PL_EINVAL);
    char big[PL_MAX_MESSAGE_BYTES + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(turn(rt, &st, big, &a, &t), PL_ELIMIT);
    char *after = cJSON_PrintUnformatted(st);
    assert_string_equal(before, after);
    free(before);
    free(after);
    cJSON_Delete(st);
    pl_arena_cleanup(&a);
    pl_runtime_unref(rt);
}

static void an_allocation_failure_mid_turn_loses_nothing(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    cJSON *st = cJSON_Parse(DISCLOSED);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_turn_t t;
    assert_int_equal(turn(rt, &st, "I am looking for a camera", &a, &t), 0);
    char *before = cJSON_PrintUnformatted(st);
    /* cJSON allocates with malloc directly, our code through pl_malloc: fail each of ours */
    int ok = 0;
    for (long n = 0; n < 1000 && !ok; n++) {
        pl_arena_cleanup(&a);
        pl_arena_init(&a, 0);
        pl_mem_fail_after(n);
        int rc = turn(rt, &st, "700 euros", &a, &t);
        pl_mem_fail_reset();
        if (rc == 0) {
            ok = 1;
            break;
        }
        assert_int_equal(rc, PL_ENOMEM);
        char *now = cJSON_PrintUnformatted(st);
        assert_string_equal(before, now);
        free(now);
    }
    assert_true(ok);
    free(before);
    cJSON_Delete(st);
    pl_arena_cleanup(&a);
    pl_runtime_unref(rt);
}

/* Every awkward message gets a defined result: the fallback, or a clear error at the
 * boundary, and the conversation goes on. */
static void awkward_messages_get_the_fallback_or_a_clear_error(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    pl_arena_t a;
    pl_arena_init(&a, 0);
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        int rc;
    } rows[] = {
        {"", 0, 0},
        {"   \t  ", 0, 0},
        {"\x01\x02\x1b[31m\x7f", 0, 0},
        {"\xF0\x9F\x98\x80\xF0\x9F\x93\xB7\xE2\x9D\xA4\xEF\xB8\x8F", 0, 0},
        {"Привет カメラ مرحبا", 0, 0},
        {"caf\xC3\xA9 \xCC\x81\xCC\x81\xCC\x81", 0, 0},
        {"\xC3\x28 broken", 0, PL_EINVAL},
        {"\xED\xA0\x80 surrogate", 0, PL_EINVAL},
        {"a\0b", 3, PL_EINVAL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cJSON *st = cJSON_Parse(DISCLOSED);
        pl_turn_t t;
        pl_arena_reset(&a);
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].text);
        pl_event_t ev = {
            .text = rows[i].text, .len = len, .channel = PL_CHANNEL_WEB, .now_ms = 1767225600000LL};
        int rc = pl_runtime_turn(rt, &st, &ev, &a, &t);
        if (rc != rows[i].rc ||
            (rc == 0 && (t.nlu.intent != -1 || t.actions.understood || t.reply.n != 1))) {
            print_error("row %zu: rc %d (want %d), intent %d, understood %d, %zu messages\n", i, rc,
                        rows[i].rc, rc == 0 ? t.nlu.intent : -9,
                        rc == 0 ? t.actions.understood : -9, rc == 0 ? t.reply.n : 0);
            fail();
        }
        cJSON_Delete(st);
    }
    /* 64 KiB of one character: refused at the boundary, nothing read */
    char *big = malloc(64 * 1024);
    memset(big, 'a', 64 * 1024);
    cJSON *st = cJSON_CreateObject();
    pl_turn_t t;
    pl_event_t ev = {.text = big, .len = 64 * 1024, .channel = PL_CHANNEL_WEB};
    assert_int_equal(pl_runtime_turn(rt, &st, &ev, &a, &t), PL_ELIMIT);
    cJSON_Delete(st);
    free(big);
    pl_arena_cleanup(&a);
    pl_runtime_unref(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_turn_understands_asks_and_fills_the_slot),
        cmocka_unit_test(bad_messages_are_refused_and_leave_state_untouched),
        cmocka_unit_test(an_allocation_failure_mid_turn_loses_nothing),
        cmocka_unit_test(awkward_messages_get_the_fallback_or_a_clear_error),
    };
    return cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
}
