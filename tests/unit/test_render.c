/* Unit tests of runtime/render: which variant wins, reproducible alternatives, placeholder
 * expansion (customer text stays text) and the money and date formats. */
#include "test_helpers.h"

#include "render/render.h"
#include "render/template.h"

static const char bot_text[] =
    "bot: {id: r, name: Render bot, language: en, tones: [friendly, formal]}\n"
    "intents: {hi: [hello]}\n"
    "entities: {money: {type: money}}\n"
    "slots:\n"
    "  budget: {entity: money, prompt: Budget?}\n"
    "  note: {type: text, prompt: Note?}\n"
    "flows:\n"
    "  f:\n"
    "    trigger: hi\n"
    "    steps:\n"
    "      - say:\n"
    "          default: D\n"
    "          formal: F\n"
    "          voice: V\n"
    "          formal/voice: FV\n"
    "          friendly/app: [A1, A2, A3, A4, A5, A6, A7, A8]\n"
    "      - ask: budget\n"
    "      - ask: note\n"
    "      - end: \"Budget {{slot.budget}}, note {{slot.note}}, name {{profile.name|friend}}\"\n";

static pl_bot_t *load(void)
{
    pl_bot_t *bot;
    char *diag;
    int rc = th_load(bot_text, &bot, &diag);
    if (rc != 0)
        print_error("%s", diag);
    free(diag);
    assert_int_equal(rc, 0);
    return bot;
}

static void variant_order_is_tone_channel_then_tone_then_channel_then_default(void **state)
{
    (void)state;
    pl_bot_t *bot = load();
    const pl_text_t *t = &bot->flows[0].steps[0].text;
    static const struct {
        const char *tone;
        pl_channel_t ch;
        const char *want;
    } rows[] = {
        {"formal", PL_CHANNEL_VOICE, "FV"}, {"formal", PL_CHANNEL_WEB, "F"},
        {"formal", PL_CHANNEL_APP, "F"},    {"friendly", PL_CHANNEL_VOICE, "V"},
        {"friendly", PL_CHANNEL_WEB, "D"},  {NULL, PL_CHANNEL_VOICE, "V"},
        {"friendly", PL_CHANNEL_APP, "A1"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const pl_variant_t *v = pl_render_variant(t, rows[i].tone, rows[i].ch);
        if (strcmp(v->alts[0], rows[i].want) != 0) {
            print_error("row %zu (%s, %s): want %s, got %s\n", i, rows[i].tone ? rows[i].tone : "-",
                        pl_channel_name(rows[i].ch), rows[i].want, v->alts[0]);
            fail();
        }
    }
    pl_bot_free(bot);
}

static void alternatives_are_reproducible_and_vary_with_the_seed(void **state)
{
    (void)state;
    pl_bot_t *bot = load();
    pl_actions_t acts = {.n = 1};
    acts.items[0].kind = PL_ACT_SAY;
    acts.items[0].text = &bot->flows[0].steps[0].text;
    cJSON *st = cJSON_CreateObject();
    pl_arena_t scratch;
    pl_arena_init(&scratch, 0);
    int seen[8] = {0};
    for (uint64_t seed = 0; seed < 64; seed++) {
        pl_reply_t a, b;
        assert_int_equal(pl_render(bot, st, &acts, PL_CHANNEL_APP, "friendly", seed, &scratch, &a),
                         0);
        assert_int_equal(pl_render(bot, st, &acts, PL_CHANNEL_APP, "friendly", seed, &scratch, &b),
                         0);
        assert_string_equal(a.items[0].text, b.items[0].text);
        seen[a.items[0].text[1] - '1'] = 1;
    }
    int distinct = 0;
    for (int i = 0; i < 8; i++)
        distinct += seen[i];
    assert_true(distinct >= 6); /* 64 seeds over 8 alternatives reach nearly all of them */
    cJSON_Delete(st);
    pl_arena_cleanup(&scratch);
    pl_bot_free(bot);
}

static void customer_text_in_a_slot_is_never_evaluated_as_a_template(void **state)
{
    (void)state;
    pl_bot_t *bot = load();
    cJSON *st = cJSON_Parse("{\"slots\":{\"budget\":800,\"note\":\"{{slot.budget}} <b>&\"},"
                            "\"slot_currency\":{\"budget\":\"USD\"}}");
    pl_template_ctx_t ctx = {.bot = bot, .state = st};
    pl_strbuf_t out;
    pl_strbuf_init(&out, 0);
    const pl_step_t *end = &bot->flows[0].steps[3];
    assert_int_equal(pl_template_expand(end->text.variants[0].alts[0], &ctx, &out), 0);
    assert_string_equal(pl_strbuf_str(&out), "Budget $800, note {{slot.budget}} <b>&, name friend");
    pl_strbuf_cleanup(&out);
    cJSON_Delete(st);
    pl_bot_free(bot);
}

static void money_and_dates_follow_the_bot_language(void **state)
{
    (void)state;
    static const struct {
        const char *lang;
        double amount;
        const char *cur;
        const char *want;
    } rows[] = {
        {"en", 849, "EUR", "€849"},           {"en", 849.5, "USD", "$849.50"},
        {"de", 849, "EUR", "849 €"},          {"de", 1299.99, "EUR", "1.299,99 €"},
        {"en", 1234567, "EUR", "€1,234,567"}, {"de", 2500, "EUR", "2.500 €"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        pl_strbuf_t b;
        pl_strbuf_init(&b, 0);
        assert_int_equal(pl_format_money(rows[i].lang, rows[i].amount, rows[i].cur, &b), 0);
        if (strcmp(pl_strbuf_str(&b), rows[i].want) != 0) {
            print_error("row %zu: want %s, got %s\n", i, rows[i].want, pl_strbuf_str(&b));
            fail();
        }
        pl_strbuf_cleanup(&b);
    }
    pl_strbuf_t b;
    pl_strbuf_init(&b, 0);
    assert_int_equal(pl_format_date("en", 1767830400000LL, &b), 0); /* 2026-01-08 */
    assert_string_equal(pl_strbuf_str(&b), "8 January 2026");
    pl_strbuf_clear(&b);
    assert_int_equal(pl_format_date("de", 1767830400000LL, &b), 0);
    assert_string_equal(pl_strbuf_str(&b), "08.01.2026");
    pl_strbuf_cleanup(&b);
}

static void unknown_or_empty_values_use_the_fallback_or_nothing(void **state)
{
    (void)state;
    pl_bot_t *bot = load();
    cJSON *st = cJSON_Parse("{\"profile\":{\"name\":\"\"}}");
    pl_template_ctx_t ctx = {.bot = bot, .state = st};
    pl_strbuf_t out;
    pl_strbuf_init(&out, 0);
    assert_int_equal(
        pl_template_expand("[{{slot.budget}}][{{profile.name | there}}][{{offer.price}}]", &ctx,
                           &out),
        0);
    assert_string_equal(pl_strbuf_str(&out), "[][there][]");
    pl_strbuf_cleanup(&out);
    cJSON_Delete(st);
    pl_bot_free(bot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variant_order_is_tone_channel_then_tone_then_channel_then_default),
        cmocka_unit_test(alternatives_are_reproducible_and_vary_with_the_seed),
        cmocka_unit_test(customer_text_in_a_slot_is_never_evaluated_as_a_template),
        cmocka_unit_test(money_and_dates_follow_the_bot_language),
        cmocka_unit_test(unknown_or_empty_values_use_the_fallback_or_nothing),
    };
    return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
