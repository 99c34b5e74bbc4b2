/* Unit tests of entity extraction in runtime/nlu (entities.c, numwords.c), table-driven in
 * English and German: numbers in words and digits with scale words, money with words,
 * list entities with typos and compounds, and the spans into the original text. */
#include "test_helpers.h"

#include "nlu/nlu.h"

static const char en_bot[] = "bot: {id: e, name: E, language: en}\n"
                             "intents: {x: [xyzzy]}\n"
                             "entities:\n"
                             "  num: {type: number}\n"
                             "  money: {type: money}\n"
                             "  kind:\n"
                             "    type: list\n"
                             "    values:\n"
                             "      dslr: [DSLR, reflex camera]\n"
                             "      mirrorless: [mirrorless, system camera]\n"
                             "      video: [videos]\n"
                             "flows: {f: {trigger: x, steps: [{end: ok}]}}\n";

static const char de_bot[] = "bot: {id: e, name: E, language: de}\n"
                             "intents: {x: [xyzzy]}\n"
                             "entities:\n"
                             "  num: {type: number}\n"
                             "  money: {type: money}\n"
                             "  kind:\n"
                             "    type: list\n"
                             "    values:\n"
                             "      dslr: [Spiegelreflexkamera, DSLR]\n"
                             "      mirrorless: [Systemkamera, spiegellos]\n"
                             "flows: {f: {trigger: x, steps: [{end: ok}]}}\n";

typedef struct {
    const char *text;
    const char *entity; /* NULL: expect no match of any entity named below */
    const char *value;  /* list value, or the number as digits */
    const char *currency;
    const char *span; /* the original text the match must cover */
} row_t;

/* Runs each row: the first match of the named entity must have the value, currency and span. */
static void run_rows(const char *bot_text, const row_t *rows, size_t n)
{
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(th_load(bot_text, &bot, &diag), 0);
    free(diag);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        pl_entity_match_t *m;
        size_t nm;
        pl_arena_reset(&a);
        assert_int_equal(pl_nlu_entities(bot, r->text, strlen(r->text), &a, &m, &nm), 0);
        const pl_entity_match_t *hit = NULL;
        for (size_t k = 0; k < nm && hit == NULL; k++)
            if (r->entity && strcmp(bot->entities[m[k].entity].id, r->entity) == 0)
                hit = &m[k];
        int ok;
        if (r->entity == NULL) {
            ok = nm == 0;
        } else {
            ok = hit != NULL && strcmp(hit->value, r->value) == 0 &&
                 ((r->currency == NULL && hit->currency == NULL) ||
                  (r->currency && hit->currency && strcmp(r->currency, hit->currency) == 0)) &&
                 hit->end - hit->start == strlen(r->span) &&
                 memcmp(r->text + hit->start, r->span, strlen(r->span)) == 0;
        }
        if (!ok) {
            print_error("row %zu \"%s\": want %s=%s %s [%s], got", i, r->text,
                        r->entity ? r->entity : "(nothing)", r->value ? r->value : "",
                        r->currency ? r->currency : "", r->span ? r->span : "");
            for (size_t k = 0; k < nm; k++)
                print_error(" %s=%s %s [%.*s]", bot->entities[m[k].entity].id, m[k].value,
                            m[k].currency ? m[k].currency : "", (int)(m[k].end - m[k].start),
                            r->text + m[k].start);
            print_error("\n");
            fail();
        }
    }
    pl_arena_cleanup(&a);
    pl_bot_free(bot);
}

static void numbers_in_words_and_digits_english(void **state)
{
    (void)state;
    static const row_t rows[] = {
        {"two thousand five hundred", "num", "2500", NULL, "two thousand five hundred"},
        {"about twenty-one bikes", "num", "21", NULL, "twenty-one"},
        {"a hundred and five", "num", "105", NULL, "a hundred and five"},
        {"one million", "num", "1000000", NULL, "one million"},
        {"just one", "num", "1", NULL, "one"},
        {"the one with the big lens", NULL, NULL, NULL, NULL},
        {"2 thousand", "num", "2000", NULL, "2 thousand"},
        {"1,500", "num", "1500", NULL, "1,500"},
        {"1.500", "num", "1500", NULL, "1.500"},
        {"2.5", "num", "2.5", NULL, "2.5"},
        {"1.5 million", "num", "1500000", NULL, "1.5 million"},
        {"fifteen", "num", "15", NULL, "fifteen"},
    };
    run_rows(en_bot, rows, sizeof(rows) / sizeof(rows[0]));
}

static void numbers_in_words_and_digits_german(void **state)
{
    (void)state;
    static const row_t rows[] = {
        {"zweitausendfünfhundert", "num", "2500", NULL, "zweitausendfünfhundert"},
        {"zweitausendfuenfhundert", "num", "2500", NULL, "zweitausendfuenfhundert"},
        {"fünfhundert", "num", "500", NULL, "fünfhundert"},
        {"einundzwanzig", "num", "21", NULL, "einundzwanzig"},
        {"zwei Millionen", "num", "2000000", NULL, "zwei Millionen"},
        {"eine Million", "num", "1000000", NULL, "eine Million"},
        {"fünf hundert", "num", "500", NULL, "fünf hundert"},
        {"neunzehnhundert", "num", "1900", NULL, "neunzehnhundert"},
        {"dreihundertzwanzig", "num", "320", NULL, "dreihundertzwanzig"},
        {"tausend", "num", "1000", NULL, "tausend"},
        {"eins bitte", "num", "1", NULL, "eins"},
        {"eine Kamera", NULL, NULL, NULL, NULL},
        {"1.500", "num", "1500", NULL, "1.500"},
        {"2,5", "num", "2.5", NULL, "2,5"},
        {"1,5 Millionen", "num", "1500000", NULL, "1,5 Millionen"},
    };
    run_rows(de_bot, rows, sizeof(rows) / sizeof(rows[0]));
}

static void money_with_words_and_symbols_in_both_languages(void **state)
{
    (void)state;
    static const row_t en[] = {
        {"500 bucks", "money", "500", "USD", "500 bucks"},
        {"$500", "money", "500", "USD", "$500"},
        {"€500", "money", "500", "EUR", "€500"},
        {"five hundred dollars", "money", "500", "USD", "five hundred dollars"},
        {"two thousand euros", "money", "2000", "EUR", "two thousand euros"},
        {"800", "money", "800", NULL, "800"},
    };
    run_rows(en_bot, en, sizeof(en) / sizeof(en[0]));
    static const row_t de[] = {
        {"500 €", "money", "500", "EUR", "500 €"},
        {"500 Euro", "money", "500", "EUR", "500 Euro"},
        {"zweitausend Euro", "money", "2000", "EUR", "zweitausend Euro"},
        {"fünfhundert Euro", "money", "500", "EUR", "fünfhundert Euro"},
        {"1.500 €", "money", "1500", "EUR", "1.500 €"},
    };
    run_rows(de_bot, de, sizeof(de) / sizeof(de[0]));
}

static void list_entities_tolerate_typos_and_compounds(void **state)
{
    (void)state;
    static const row_t en[] = {
        {"a mirrorles one", "kind", "mirrorless", NULL, "mirrorles"},
        {"a sytem camera", "kind", "mirrorless", NULL, "sytem camera"},
        {"reflex kamera", "kind", "dslr", NULL, "reflex kamera"},
        {"for vidoes", "kind", "video", NULL, "vidoes"},
        {"DSLR please", "kind", "dslr", NULL, "DSLR"},
        {"a DSRL", NULL, NULL, NULL, NULL}, /* four letters: no typo allowed */
        /* a long word after the typo does not stop the one-word reading */
        {"mirrorles supercalifragilisticexpialidociousandthensomemoreletterstoo", "kind",
         "mirrorless", NULL, "mirrorles"},
    };
    run_rows(en_bot, en, sizeof(en) / sizeof(en[0]));
    static const row_t de[] = {
        {"eine Spiegelreflex-Kamera", "kind", "dslr", NULL, "Spiegelreflex-Kamera"},
        {"Spiegelreflex Kamera", "kind", "dslr", NULL, "Spiegelreflex Kamera"},
        {"eine Systemkammera", "kind", "mirrorless", NULL, "Systemkammera"},
        {"System Kamera", "kind", "mirrorless", NULL, "System Kamera"},
        {"SPIEGELLOS", "kind", "mirrorless", NULL, "SPIEGELLOS"},
    };
    run_rows(de_bot, de, sizeof(de) / sizeof(de[0]));
}

static void long_messages_of_number_words_stay_bounded(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(th_load(en_bot, &bot, &diag), 0);
    free(diag);
    size_t len = 64 * 1024;
    char *text = malloc(len + 1);
    for (size_t i = 0; i < len; i += 4)
        memcpy(text + i, "one ", 4);
    text[len] = '\0';
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_entity_match_t *m;
    size_t nm;
    assert_int_equal(pl_nlu_entities(bot, text, len, &a, &m, &nm), 0);
    assert_true(nm <= 64);
    pl_arena_cleanup(&a);
    free(text);
    pl_bot_free(bot);
}

/* "hundred" said again and again multiplies: the number stops below 10^15 like numbers in
 * digits do, instead of overflowing (undefined behaviour) or becoming "inf". */
static void repeated_scale_words_stay_finite(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(th_load(en_bot, &bot, &diag), 0);
    free(diag);
    char text[4096] = "one";
    for (int i = 0; i < 200; i++)
        strcat(text, " hundred");
    strcat(text, " five");
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_entity_match_t *m;
    size_t nm;
    assert_int_equal(pl_nlu_entities(bot, text, strlen(text), &a, &m, &nm), 0);
    assert_true(nm >= 1);
    for (size_t k = 0; k < nm; k++) {
        char *end;
        double v = strtod(m[k].value, &end);
        if (*end != '\0' || !(v < 1e15))
            fail_msg("value '%s' is not a finite number below 10^15", m[k].value);
    }
    pl_arena_cleanup(&a);
    pl_bot_free(bot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_in_words_and_digits_english),
        cmocka_unit_test(numbers_in_words_and_digits_german),
        cmocka_unit_test(money_with_words_and_symbols_in_both_languages),
        cmocka_unit_test(list_entities_tolerate_typos_and_compounds),
        cmocka_unit_test(long_messages_of_number_words_stay_bounded),
        cmocka_unit_test(repeated_scale_words_stay_finite),
    };
    return cmocka_run_group_tests_name("nlu_entities", tests, NULL, NULL);
}
