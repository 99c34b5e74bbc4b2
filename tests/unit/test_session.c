/* The turn pipeline on a store: a channel user becomes a customer with a random id, state
 * is committed before the reply, and when another channel saves between our load and our
 * save the turn is run again on the fresh state — neither change is lost. */
#include "test_helpers.h"

#include "base/mem.h"
#include "runtime.h"
#include "session/session.h"

static const char bot_text[] = TH_BUDGET_BOT;

/* A store that passes everything to a memory store, except that before the first `meddle`
 * saves it writes a document of its own, as another channel of the same customer would. */
typedef struct {
    pl_store_t base;
    pl_store_t *inner;
    int meddle;
    int saves;
} meddler_t;

static int md_load(pl_store_t *s, const char *c, char **doc, int64_t *v)
{
    return pl_store_load(((meddler_t *)s)->inner, c, doc, v);
}

static int md_save(pl_store_t *s, const char *c, const char *doc, int64_t expected, int64_t *v)
{
    meddler_t *m = (meddler_t *)s;
    m->saves++;
    if (m->meddle > 0) {
        m->meddle--;
        char *cur = NULL;
        int64_t cv = 0;
        cJSON *other = pl_store_load(m->inner, c, &cur, &cv) == 0 ? cJSON_Parse(cur)
                                                                    : cJSON_CreateObject();
        pl_free(cur);
        cJSON_DeleteItemFromObject(other, "other_channel_wrote");
        cJSON_AddNumberToObject(other, "other_channel_wrote", (double)cv + 1);
        char *text = cJSON_PrintUnformatted(other);
        int64_t nv;
        assert_int_equal(pl_store_save(m->inner, c, text, cv, &nv), 0);
        cJSON_free(text);
        cJSON_Delete(other);
    }
    return pl_store_save(m->inner, c, doc, expected, v);
}

static int md_link(pl_store_t *s, const char *ch, const char *u, const char *c)
{
    return pl_store_link(((meddler_t *)s)->inner, ch, u, c);
}

static int md_link_new(pl_store_t *s, const char *ch, const char *u, const char *c)
{
    return pl_store_link_new(((meddler_t *)s)->inner, ch, u, c);
}

static int md_resolve(pl_store_t *s, const char *ch, const char *u, char **c)
{
    return pl_store_resolve(((meddler_t *)s)->inner, ch, u, c);
}

static int md_erase(pl_store_t *s, const char *c)
{
    return pl_store_erase(((meddler_t *)s)->inner, c);
}

static void md_close(pl_store_t *s)
{
    pl_store_close(((meddler_t *)s)->inner);
}

/* Link codes and relinking are not used by these tests: those entries stay NULL. */
static const pl_store_ops_t meddler_ops = {.load = md_load,
                                           .save = md_save,
                                           .link = md_link,
                                           .link_new = md_link_new,
                                           .resolve = md_resolve,
                                           .erase = md_erase,
                                           .close = md_close};

static pl_runtime_t *load(void)
{
    return th_runtime("session.yaml", bot_text);
}

static int say(pl_runtime_t *rt, pl_store_t *s, const char *user, pl_channel_t ch,
               const char *text, pl_arena_t *a, pl_session_result_t *res)
{
    pl_turn_t t;
    pl_event_t ev = {.text = text, .len = strlen(text), .channel = ch, .now_ms = 1767225600000LL};
    return pl_session_turn(rt, s, user, &ev, a, &t, res);
}

static void new_user_gets_a_random_customer_and_state_is_committed(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    pl_store_t *s;
    assert_int_equal(pl_store_open("memory", &s, NULL, 0), 0);
    pl_arena_t a;
    pl_arena_init(&a, 4096);
    pl_session_result_t r1, r2;
    assert_int_equal(say(rt, s, "u1", PL_CHANNEL_WEB, "I want to buy a camera", &a, &r1), 0);
    assert_int_equal(strlen(r1.customer), 32);
    assert_int_equal(strspn(r1.customer, "0123456789abcdef"), 32);
    assert_int_equal(r1.version, 1);
    assert_int_equal(r1.retries, 0);
    /* What the store holds is what the turn produced. */
    char *doc;
    int64_t v;
    assert_int_equal(pl_store_load(s, r1.customer, &doc, &v), 0);
    cJSON *stored = cJSON_Parse(doc);
    assert_true(cJSON_Compare(stored, r1.state, 1));
    assert_string_equal(cJSON_GetObjectItem(stored, "flow")->valuestring, "buy");
    cJSON_Delete(stored);
    pl_free(doc);
    /* Another user is another customer with their own state. */
    assert_int_equal(say(rt, s, "u2", PL_CHANNEL_WEB, "hello", &a, &r2), 0);
    assert_string_not_equal(r1.customer, r2.customer);
    /* u2 never started the buy flow. */
    assert_false(cJSON_IsString(cJSON_GetObjectItem(r2.state, "flow")));
    cJSON_Delete(r1.state);
    cJSON_Delete(r2.state);
    pl_arena_cleanup(&a);
    pl_store_close(s);
    pl_runtime_unref(rt);
}

static void conflict_reruns_the_turn_on_fresh_state(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    meddler_t m = {.base.ops = &meddler_ops};
    assert_int_equal(pl_store_open("memory", &m.inner, NULL, 0), 0);
    pl_arena_t a;
    pl_arena_init(&a, 4096);
    pl_session_result_t r;
    assert_int_equal(say(rt, &m.base, "u1", PL_CHANNEL_WEB, "I want to buy a camera", &a, &r), 0);
    cJSON_Delete(r.state);
    m.meddle = 2; /* two other writes land while we are busy */
    m.saves = 0;
    assert_int_equal(say(rt, &m.base, "u1", PL_CHANNEL_WEB, "500 euros", &a, &r), 0);
    assert_int_equal(r.retries, 2);
    assert_int_equal(m.saves, 3);
    assert_int_equal(r.version, 4); /* ours, after 1 + two others */
    /* Both the other channel's change and our turn are in the committed state. */
    assert_int_equal(cJSON_GetObjectItem(r.state, "other_channel_wrote")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.state, "slots"), "budget")->valueint,
                     500);
    cJSON_Delete(r.state);
    /* Someone who always gets there first: we give up with PL_ECONFLICT, having saved nothing. */
    m.meddle = PL_SESSION_MAX_RETRIES;
    assert_int_equal(say(rt, &m.base, "u1", PL_CHANNEL_WEB, "hello", &a, &r), PL_ECONFLICT);
    assert_null(r.state);
    pl_arena_cleanup(&a);
    md_close(&m.base);
    pl_runtime_unref(rt);
}

static void corrupt_stored_state_is_reported_not_overwritten(void **state)
{
    (void)state;
    pl_runtime_t *rt = load();
    pl_store_t *s;
    assert_int_equal(pl_store_open("memory", &s, NULL, 0), 0);
    int64_t v;
    assert_int_equal(pl_store_link(s, "web", "u1", "c-broken"), 0);
    assert_int_equal(pl_store_save(s, "c-broken", "{not json", 0, &v), 0);
    pl_arena_t a;
    pl_arena_init(&a, 4096);
    pl_session_result_t r;
    assert_int_equal(say(rt, s, "u1", PL_CHANNEL_WEB, "hello", &a, &r), PL_ESTORE);
    char *doc;
    assert_int_equal(pl_store_load(s, "c-broken", &doc, &v), 0);
    assert_string_equal(doc, "{not json");
    assert_int_equal(v, 1);
    pl_free(doc);
    pl_arena_cleanup(&a);
    pl_store_close(s);
    pl_runtime_unref(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_user_gets_a_random_customer_and_state_is_committed),
        cmocka_unit_test(conflict_reruns_the_turn_on_fresh_state),
        cmocka_unit_test(corrupt_stored_state_is_reported_not_overwritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
