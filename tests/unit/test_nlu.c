/* Unit tests of runtime/nlu: normalisation (table-driven, German and English), intent matching,
 * entity extraction of every kind, and bounds on huge messages. Test bots are built in memory. */
#include "base/arena.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "nlu/nlu.h"
#include "nlu/index_int.h"
#include "nlu/nlu_int.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof(*(a)))

/* ---- test bots ---- */

static const char *greet_ex[] = {"hi", "hello", "good morning"};
static const char *buy_ex[] = {"I want to buy a camera", "I would like to purchase a new camera",
                               "looking for a camera"};
static const char *ship_ex[] = {"how long does shipping take", "when will my order arrive",
                                "delivery time"};
static const char *price_ex[] = {"how much does it cost", "what is the price"};
static const char *human_ex[] = {"I want to talk to a human", "speak to an agent"};

static pl_intent_t en_intents[] = {
    {.id = "greet", .examples = greet_ex, .nexamples = N(greet_ex)},
    {.id = "buy_camera", .examples = buy_ex, .nexamples = N(buy_ex)},
    {.id = "shipping", .examples = ship_ex, .nexamples = N(ship_ex)},
    {.id = "price", .examples = price_ex, .nexamples = N(price_ex)},
    {.id = "human", .examples = human_ex, .nexamples = N(human_ex)},
};

static const char *hallo_ex[] = {"hallo", "guten Tag"};
static const char *kaufen_ex[] = {"Ich möchte eine Kamera kaufen", "Ich suche eine neue Kamera"};
static const char *rueck_ex[] = {"Ich möchte die Kamera zurückgeben", "Rücksendung"};
static const char *liefer_ex[] = {"Wie lange dauert die Lieferung", "Wann kommt mein Paket"};

static pl_intent_t de_intents[] = {
    {.id = "hallo", .examples = hallo_ex, .nexamples = N(hallo_ex)},
    {.id = "kaufen", .examples = kaufen_ex, .nexamples = N(kaufen_ex)},
    {.id = "rueckgabe", .examples = rueck_ex, .nexamples = N(rueck_ex)},
    {.id = "lieferung", .examples = liefer_ex, .nexamples = N(liefer_ex)},
};

static const char *dslr_syn[] = {"dslr", "Spiegelreflex Kamera", "Spiegelreflexkamera"};
static const char *system_syn[] = {"systemkamera", "spiegellose"};
static const char *sony_syn[] = {"sony"};
static const char *alpha_syn[] = {"Sony Alpha", "alpha"};
static pl_entity_value_t camera_values[] = {
    {.value = "dslr", .synonyms = dslr_syn, .nsynonyms = N(dslr_syn)},
    {.value = "system", .synonyms = system_syn, .nsynonyms = N(system_syn)},
    {.value = "sony", .synonyms = sony_syn, .nsynonyms = N(sony_syn)},
    {.value = "sony_alpha", .synonyms = alpha_syn, .nsynonyms = N(alpha_syn)},
};

enum { E_NUMBER, E_MONEY, E_CAMERA, E_ORDER };

static regex_t order_re;
static pl_entity_t entities[] = {
    [E_NUMBER] = {.id = "count", .kind = PL_ENTITY_NUMBER},
    [E_MONEY] = {.id = "budget", .kind = PL_ENTITY_MONEY},
    [E_CAMERA] = {.id = "camera",
                  .kind = PL_ENTITY_LIST,
                  .values = camera_values,
                  .nvalues = N(camera_values)},
    [E_ORDER] = {.id = "order",
                 .kind = PL_ENTITY_REGEX,
                 .pattern = "A-[0-9]{4}",
                 .regex = &order_re},
};

static pl_bot_t make_bot(const char *language, pl_intent_t *intents, size_t nintents)
{
    return (pl_bot_t){.id = "test",
                      .language = language,
                      .threshold = 0.5,
                      .intents = intents,
                      .nintents = nintents,
                      .entities = entities,
                      .nentities = N(entities)};
}

static int setup(void **state)
{
    (void)state;
    return regcomp(&order_re, entities[E_ORDER].pattern, REG_EXTENDED | REG_ICASE);
}

static int teardown(void **state)
{
    (void)state;
    regfree(&order_re);
    return 0;
}

/* ---- normalisation ---- */

typedef struct {
    const char *in;
    const char *want;
} norm_row_t;

static void check_norm_rows(const norm_row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pl_strbuf_t b;
        pl_strbuf_init(&b, 0);
        int rc = pl_nlu_normalize(rows[i].in, strlen(rows[i].in), &b);
        int ok = rc == 0 && strcmp(pl_strbuf_str(&b), rows[i].want) == 0;
        if (!ok)
            print_error("row %zu: normalize(\"%s\") = \"%s\" (rc %d), want \"%s\"\n", i, rows[i].in,
                        pl_strbuf_str(&b), rc, rows[i].want);
        pl_strbuf_cleanup(&b);
        if (!ok)
            fail_msg("normalisation row %zu failed", i);
    }
}

static void normalize_folds_umlauts_to_ascii_pairs(void **state)
{
    (void)state;
    static const norm_row_t rows[] = {
        {"Ärger über Öl", "aerger ueber oel"},
        {"ÄÖÜ äöü", "aeoeue aeoeue"},
        {"Straße", "strasse"},
        {"GROẞ", "gross"},
        {"u\xCC\x88"
         "ber",
         "ueber"}, /* u + combining diaeresis composes first */
        {"Ich möchte eine Kamera kaufen!", "ich moechte eine kamera kaufen"},
        {"Spiegelreflex-Kamera", "spiegelreflex kamera"},
        {"Preis: 1.500 €", "preis 1 500"},
        {"Rück\xC2\xADsendung", "ruecksendung"}, /* soft hyphen is dropped, not a split */
        {"café", "café"},                        /* only German letters are folded */
    };
    check_norm_rows(rows, N(rows));
}

static void normalize_turns_punctuation_symbols_and_emoji_into_single_spaces(void **state)
{
    (void)state;
    static const norm_row_t rows[] = {
        {"Hello, World!", "hello world"},
        {"  lots\t of \n\n space  ", "lots of space"},
        {"I'd like a camera \xF0\x9F\x93\xB7 please", "i d like a camera please"},
        {"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", ""}, /* thumbs up with skin tone */
        {"50% off -- now!!!", "50 off now"},
        {"", ""},
        {"?!...", ""},
        {"email@example.com", "email example com"},
    };
    check_norm_rows(rows, N(rows));
}

static void normalize_applies_nfkc_and_case_folding(void **state)
{
    (void)state;
    static const norm_row_t rows[] = {
        {"\xEF\xAC\x81ne", "fine"},                      /* ﬁ ligature */
        {"\xEF\xBC\xA3\xEF\xBD\x81\xEF\xBD\x8D", "cam"}, /* full-width letters */
        {"x\xC2\xB2", "x2"},                             /* superscript two */
        {"CAMERA Camera camera", "camera camera camera"},
        {"\xCE\xA3\xCE\xA3", "\xCF\x83\xCF\x83"}, /* Greek capital sigma folds */
        {"Ｒｏｔ", "rot"},
    };
    check_norm_rows(rows, N(rows));
}

static void normalize_skips_invalid_utf8_bytes(void **state)
{
    (void)state;
    static const norm_row_t rows[] = {
        {"ab\xFF"
         "cd",
         "abcd"},
        {"\xC3", ""},
        {"k\xE2\x82"
         "a",
         "ka"},
        {"\xED\xA0\x80x", "x"}, /* an encoded surrogate is invalid */
    };
    check_norm_rows(rows, N(rows));
}

static void normalize_appends_and_reports_limit(void **state)
{
    (void)state;
    pl_strbuf_t b;
    pl_strbuf_init(&b, 8);
    assert_int_equal(pl_nlu_normalize("Ab", 2, &b), 0);
    assert_int_equal(pl_nlu_normalize(" C", 2, &b), 0);
    assert_string_equal(pl_strbuf_str(&b), "abc");
    assert_int_equal(pl_nlu_normalize("much too long", 13, &b), PL_ELIMIT);
    assert_string_equal(pl_strbuf_str(&b), "abc");
    pl_strbuf_cleanup(&b);
}

static void tokenize_spans_point_into_original_text(void **state)
{
    (void)state;
    const char *text = "Die Spiegelreflex-Kamera für 1.500 €";
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl__tokens_t t;
    assert_int_equal(pl__nlu_tokenize(text, strlen(text), &a, &t), 0);
    assert_string_equal(t.norm, "die spiegelreflex kamera fuer 1 500");
    static const char *want[] = {"Die", "Spiegelreflex", "Kamera", "für", "1", "500"};
    assert_int_equal(t.ntoks, N(want));
    for (size_t i = 0; i < t.ntoks; i++) {
        size_t n = t.toks[i].end - t.toks[i].start;
        if (n != strlen(want[i]) || memcmp(text + t.toks[i].start, want[i], n) != 0)
            fail_msg("token %zu spans \"%.*s\", want \"%s\"", i, (int)n, text + t.toks[i].start,
                     want[i]);
    }
    pl_arena_cleanup(&a);
}

/* ---- matcher ---- */

static pl_understanding_t understand(const pl_bot_t *bot, const char *text, pl_arena_t *scratch)
{
    pl_nlu_t *nlu;
    assert_int_equal(pl_nlu_new(bot, &nlu), 0);
    pl_understanding_t u;
    assert_int_equal(pl_nlu_understand(nlu, text, strlen(text), scratch, &u), 0);
    pl_nlu_free(nlu);
    return u;
}

static void matcher_exact_example_scores_one(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("en", en_intents, N(en_intents));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "I want to buy a camera", &a);
    assert_int_equal(u.intent, 1);
    assert_true(u.confidence > 0.9 && u.confidence <= 1.0);
    u = understand(&bot, "Hi!", &a);
    assert_int_equal(u.intent, 0);
    assert_true(u.confidence > 0.9);
    pl_arena_cleanup(&a);
}

static void matcher_paraphrase_with_extra_words_reaches_threshold(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("en", en_intents, N(en_intents));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "Hello, I want to buy cameras today", &a);
    assert_int_equal(u.intent, 1);
    assert_true(u.confidence >= 0.5 && u.confidence < 1.0);
    u = understand(&bot, "When will my order finally arrive?", &a);
    assert_int_equal(u.intent, 2);
    pl_arena_cleanup(&a);
}

static void matcher_german_paraphrase_with_ue_for_umlaut(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("de", de_intents, N(de_intents));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "ich moechte die kamera gerne zurueckgeben", &a);
    assert_int_equal(u.intent, 2);
    assert_true(u.confidence >= 0.5);
    u = understand(&bot, "Hallo! Ich möchte bitte eine Kamera kaufen.", &a);
    assert_int_equal(u.intent, 1);
    pl_arena_cleanup(&a);
}

static void matcher_unrelated_sentence_gives_no_intent(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("en", en_intents, N(en_intents));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "the weather in Paris is lovely in spring", &a);
    assert_int_equal(u.intent, -1);
    assert_true(u.confidence < 0.5);
    u = understand(&bot, "", &a);
    assert_int_equal(u.intent, -1);
    assert_int_equal(u.ntop, 0);
    assert_true(u.confidence == 0.0);
    pl_arena_cleanup(&a);
}

static const char *tight_ex[] = {"what is my balance", "show my balance",
                                       "my balance please", "tell me my balance",
                                       "what's my balance", "check my balance"};
static const char *varied_ex[] = {"I am going to Rome next week", "book a trip somewhere warm",
                                        "what should I pack for the beach", "recommend a city break",
                                        "flights to Lisbon in May", "is Norway nice in winter"};

static void an_intent_with_alike_examples_must_be_matched_more_closely(void **state)
{
    (void)state;
    pl_intent_t intents[] = {
        {.id = "balance", .examples = tight_ex, .nexamples = N(tight_ex)},
        {.id = "travel", .examples = varied_ex, .nexamples = N(varied_ex)},
    };
    pl_bot_t bot = make_bot("en", intents, N(intents));
    pl_nlu_t *nlu;
    assert_int_equal(pl_nlu_new(&bot, &nlu), 0);
    /* the tight intent asks more than the centre, the varied one less, and on average nothing */
    assert_true(nlu->offset[0] > 0.01f);
    assert_true(nlu->offset[1] < -0.01f);
    assert_true(fabsf(nlu->offset[0] + nlu->offset[1]) < 1e-6f);
    /* its own examples still reach it with full confidence */
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u;
    assert_int_equal(pl_nlu_understand(nlu, "show my balance", 15, &a, &u), 0);
    assert_int_equal(u.intent, 0);
    assert_true(u.confidence > 0.9);
    pl_arena_cleanup(&a);
    pl_nlu_free(nlu);
}

static void matcher_top3_is_ordered_best_first(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("en", en_intents, N(en_intents));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "I want to talk about the camera price", &a);
    /* buy_camera and human share "I want to", "camera" and "talk" split them; price follows */
    assert_int_equal(u.ntop, 3);
    assert_true((u.top[0].intent == 1 && u.top[1].intent == 4) ||
                (u.top[0].intent == 4 && u.top[1].intent == 1));
    assert_int_equal(u.top[2].intent, 3);
    assert_true(u.top[0].score >= u.top[1].score);
    assert_true(u.top[1].score >= u.top[2].score);
    assert_true(u.confidence == u.top[0].score);
    assert_int_equal(u.intent, u.top[0].intent);
    pl_arena_cleanup(&a);
}

static void matcher_ties_go_to_lower_intent_index(void **state)
{
    (void)state;
    static const char *ex[] = {"camera"};
    pl_intent_t twins[] = {
        {.id = "first", .examples = ex, .nexamples = 1},
        {.id = "second", .examples = ex, .nexamples = 1},
        {.id = "third", .examples = ex, .nexamples = 1},
        {.id = "fourth", .examples = ex, .nexamples = 1},
    };
    pl_bot_t bot = make_bot("en", twins, N(twins));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "camera", &a);
    assert_int_equal(u.ntop, 3);
    assert_int_equal(u.top[0].intent, 0);
    assert_int_equal(u.top[1].intent, 1);
    assert_int_equal(u.top[2].intent, 2);
    assert_int_equal(u.intent, 0);
    pl_arena_cleanup(&a);
}

static void matcher_threshold_zero_means_one_half(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("en", en_intents, N(en_intents));
    bot.threshold = 0;
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&bot, "speak", &a);
    assert_int_equal(u.intent, 4);
    /* no word in common but "in": a confidence under one half */
    const char *weak = "the weather in Paris is lovely in spring";
    u = understand(&bot, weak, &a);
    assert_int_equal(u.intent, -1);
    assert_true(u.confidence > 0.3 && u.confidence < 0.5);
    bot.threshold = 0.3;
    u = understand(&bot, weak, &a);
    assert_int_equal(u.intent, u.top[0].intent);
    pl_arena_cleanup(&a);
}

static void tokenize_keeps_punctuation_and_emoji_as_their_own_tokens(void **state)
{
    (void)state;
    const char *text = "Hallo!!! Kamera \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD f\xC3\xBCr 1.500 "
                       "\xE2\x82\xAC\xE2\x80\xA6";
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl__tokens_t t;
    assert_int_equal(pl__nlu_tokenize(text, strlen(text), &a, &t), 0);
    assert_string_equal(t.norm, "hallo kamera fuer 1 500");
    static const int kinds[] = {PL__TOK_WORD, PL__TOK_WORD, PL__TOK_WORD, PL__TOK_NUMBER,
                                PL__TOK_NUMBER};
    assert_int_equal(t.ntoks, N(kinds));
    for (size_t i = 0; i < t.ntoks; i++)
        if (t.toks[i].kind != kinds[i])
            fail_msg("token %zu has kind %d, want %d", i, t.toks[i].kind, kinds[i]);
    static const struct {
        int kind;
        const char *text, *span;
    } want[] = {
        {PL__TOK_PUNCT, "!", "!!!"},
        {PL__TOK_EMOJI, "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"},
        {PL__TOK_PUNCT, ".", "."},
        {PL__TOK_PUNCT, "\xE2\x82\xAC", "\xE2\x82\xAC"},
        {PL__TOK_PUNCT, ".", "\xE2\x80\xA6"}, /* NFKC makes the ellipsis three dots: one run */
    };
    assert_int_equal(t.nmarks, N(want));
    for (size_t i = 0; i < t.nmarks; i++) {
        const pl__token_t *m = &t.marks[i];
        size_t n = m->end - m->start;
        if (m->kind != want[i].kind || m->len != strlen(want[i].text) ||
            memcmp(t.marktext + m->off, want[i].text, m->len) != 0 || n != strlen(want[i].span) ||
            memcmp(text + m->start, want[i].span, n) != 0)
            fail_msg("mark %zu: kind %d text \"%.*s\" span \"%.*s\", want kind %d \"%s\" \"%s\"", i,
                     m->kind, (int)m->len, t.marktext + m->off, (int)n, text + m->start,
                     want[i].kind, want[i].text, want[i].span);
    }
    pl_arena_cleanup(&a);
}

static void matcher_typos_and_compounds_still_match(void **state)
{
    (void)state;
    pl_bot_t en = make_bot("en", en_intents, N(en_intents));
    pl_bot_t de = make_bot("de", de_intents, N(de_intents));
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_understanding_t u = understand(&en, "I want to buy a camra", &a);
    assert_int_equal(u.intent, 1);
    u = understand(&de, "ich suche eine neue kammera", &a);
    assert_int_equal(u.intent, 1);
    u = understand(&de, "Ruecksendung der Spiegelreflexkamera", &a);
    assert_int_equal(u.top[0].intent, 2);
    pl_arena_cleanup(&a);
}

static void matcher_new_reports_enomem_without_leaking(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("de", de_intents, N(de_intents));
    int rc = PL_ENOMEM;
    for (long n = 0; rc == PL_ENOMEM; n++) {
        pl_nlu_t *nlu = (pl_nlu_t *)&bot; /* must stay untouched on failure */
        pl_mem_fail_after(n);
        rc = pl_nlu_new(&bot, &nlu);
        pl_mem_fail_reset();
        if (rc == PL_ENOMEM)
            assert_ptr_equal(nlu, (pl_nlu_t *)&bot);
        else
            pl_nlu_free(nlu);
    }
    assert_int_equal(rc, 0);
}

static void understand_reports_enomem_and_leaves_output_alone(void **state)
{
    (void)state;
    pl_bot_t bot = make_bot("en", en_intents, N(en_intents));
    pl_nlu_t *nlu;
    assert_int_equal(pl_nlu_new(&bot, &nlu), 0);
    const char *text = "I want to buy 2 Sony Alpha cameras for $1,500 (order A-1234)";
    int rc = PL_ENOMEM;
    for (long n = 0; rc == PL_ENOMEM; n++) {
        pl_arena_t a;
        pl_arena_init(&a, 256); /* small chunks: many allocations to fail */
        pl_understanding_t u = {.intent = 42};
        pl_mem_fail_after(n);
        rc = pl_nlu_understand(nlu, text, strlen(text), &a, &u);
        pl_mem_fail_reset();
        if (rc == PL_ENOMEM)
            assert_int_equal(u.intent, 42);
        else
            assert_int_equal(u.intent, 1);
        pl_arena_cleanup(&a);
    }
    assert_int_equal(rc, 0);
    pl_nlu_free(nlu);
}

/* ---- entities ---- */

typedef struct {
    int entity;
    const char *value;
    double number;
    const char *currency;
    const char *span; /* the original text it covers */
} want_t;

/* Finds the entities of text and compares them with want (which ends at entity -1). */
static void check_entities(const char *lang, int only, const char *text, const want_t *want)
{
    pl_bot_t bot = make_bot(lang, NULL, 0);
    pl_entity_t one;
    if (only >= 0) {
        one = entities[only];
        bot.entities = &one;
        bot.nentities = 1;
    }
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_entity_match_t *m;
    size_t n;
    assert_int_equal(pl_nlu_entities(&bot, text, strlen(text), &a, &m, &n), 0);
    size_t nwant = 0;
    while (want[nwant].entity != -1)
        nwant++;
    int ok = n == nwant;
    for (size_t i = 0; ok && i < n; i++) {
        int entity = only >= 0 ? only : m[i].entity;
        const want_t *w = &want[i];
        size_t spanlen = m[i].end - m[i].start;
        ok = entity == w->entity && m[i].value != NULL && strcmp(m[i].value, w->value) == 0 &&
             m[i].number > w->number - 1e-9 && m[i].number < w->number + 1e-9 &&
             (m[i].currency == NULL) == (w->currency == NULL) &&
             (w->currency == NULL || strcmp(m[i].currency, w->currency) == 0) &&
             spanlen == strlen(w->span) && memcmp(text + m[i].start, w->span, spanlen) == 0;
    }
    if (!ok) {
        print_error("entities of \"%s\" (%s):\n", text, lang);
        for (size_t i = 0; i < n; i++)
            print_error("  got  entity %d value \"%s\" number %g currency %s span \"%.*s\"\n",
                        only >= 0 ? only : m[i].entity, m[i].value, m[i].number,
                        m[i].currency ? m[i].currency : "-", (int)(m[i].end - m[i].start),
                        text + m[i].start);
        for (size_t i = 0; i < nwant; i++)
            print_error("  want entity %d value \"%s\" number %g currency %s span \"%s\"\n",
                        want[i].entity, want[i].value, want[i].number,
                        want[i].currency ? want[i].currency : "-", want[i].span);
    }
    pl_arena_cleanup(&a);
    if (!ok)
        fail_msg("entities of \"%s\" differ", text);
}

#define END                                                                                        \
    {                                                                                              \
        .entity = -1                                                                               \
    }

static void entities_list_matches_synonyms_across_hyphens_case_and_umlauts(void **state)
{
    (void)state;
    check_entities("de", E_CAMERA, "Ich suche eine Spiegelreflex-Kamera oder SYSTEMKAMERA",
                   (want_t[]){{E_CAMERA, "dslr", 0, NULL, "Spiegelreflex-Kamera"},
                              {E_CAMERA, "system", 0, NULL, "SYSTEMKAMERA"},
                              END});
    check_entities("de", E_CAMERA, "zwei Systemkameras, eine DSLR",
                   (want_t[]){{E_CAMERA, "system", 0, NULL, "Systemkameras"},
                              {E_CAMERA, "dslr", 0, NULL, "DSLR"},
                              END});
    check_entities("de", E_CAMERA, "keine kamera hier", (want_t[]){END});
}

static void entities_list_longest_synonym_wins(void **state)
{
    (void)state;
    check_entities("en", E_CAMERA, "a Sony Alpha or a sony",
                   (want_t[]){{E_CAMERA, "sony_alpha", 0, NULL, "Sony Alpha"},
                              {E_CAMERA, "sony", 0, NULL, "sony"},
                              END});
}

static void entities_regex_reports_every_match_with_its_text(void **state)
{
    (void)state;
    check_entities("en", E_ORDER, "orders A-1234, a-5678 and A-12",
                   (want_t[]){{E_ORDER, "A-1234", 0, NULL, "A-1234"},
                              {E_ORDER, "a-5678", 0, NULL, "a-5678"},
                              END});
}

static void entities_number_reads_thousands_and_decimals_by_language(void **state)
{
    (void)state;
    static const struct {
        const char *lang, *text, *value;
        double number;
        const char *span;
    } rows[] = {
        {"de", "1500", "1500", 1500, "1500"},
        {"de", "etwa 1.500 Stück", "1500", 1500, "1.500"},
        {"de", "1,500", "1500", 1500, "1,500"},
        {"de", "2,5 kg", "2.5", 2.5, "2,5"},
        {"de", "2.5", "2.5", 2.5, "2.5"},
        {"de", "1.500,50", "1500.50", 1500.5, "1.500,50"},
        {"de", "1.000.000", "1000000", 1e6, "1.000.000"},
        {"en", "1.500", "1500", 1500, "1.500"},
        {"en", "1,500", "1500", 1500, "1,500"},
        {"en", "2.5", "2.5", 2.5, "2.5"},
        {"en", "1,500.25", "1500.25", 1500.25, "1,500.25"},
        {"en", "0.500", "0.500", 0.5, "0.500"},
        {"en", "about 3.", "3", 3, "3"},
    };
    for (size_t i = 0; i < N(rows); i++) {
        check_entities(
            rows[i].lang, E_NUMBER, rows[i].text,
            (want_t[]){{E_NUMBER, rows[i].value, rows[i].number, NULL, rows[i].span}, END});
    }
    /* a comma is no decimal point in English: "2,5" lists two numbers */
    check_entities("en", E_NUMBER, "sizes 2,5",
                   (want_t[]){{E_NUMBER, "2", 2, NULL, "2"}, {E_NUMBER, "5", 5, NULL, "5"}, END});
    /* dates, versions and model names are no numbers */
    check_entities("de", E_NUMBER, "am 12.03.2024, Version 1.2.3, die X100V", (want_t[]){END});
}

static void entities_money_reads_currency_before_and_after(void **state)
{
    (void)state;
    static const struct {
        const char *text, *currency, *span;
    } rows[] = {
        {"500 €", "EUR", "500 €"},
        {"500€", "EUR", "500€"},
        {"€500", "EUR", "€500"},
        {"500 Euro", "EUR", "500 Euro"},
        {"500 euros", "EUR", "500 euros"},
        {"EUR 500", "EUR", "EUR 500"},
        {"eur500", "EUR", "eur500"},
        {"$500", "USD", "$500"},
        {"500 dollars", "USD", "500 dollars"},
        {"500 USD", "USD", "500 USD"},
        {"500 bucks", "USD", "500 bucks"},
        {"500\xC2\xA0€", "EUR", "500\xC2\xA0€"},
        {"500", NULL, "500"},
        {"500 Eurostar", NULL, "500"},
    };
    for (size_t i = 0; i < N(rows); i++) {
        check_entities("de", E_MONEY, rows[i].text,
                       (want_t[]){{E_MONEY, "500", 500, rows[i].currency, rows[i].span}, END});
    }
    check_entities("de", E_MONEY, "höchstens 1.500,50 € bitte",
                   (want_t[]){{E_MONEY, "1500.50", 1500.5, "EUR", "1.500,50 €"}, END});
    check_entities("en", E_MONEY, "$1,500.50 or 300 euros",
                   (want_t[]){{E_MONEY, "1500.50", 1500.5, "USD", "$1,500.50"},
                              {E_MONEY, "300", 300, "EUR", "300 euros"},
                              END});
    /* a marker belongs to one amount */
    check_entities(
        "de", E_MONEY, "500€ 300",
        (want_t[]){{E_MONEY, "500", 500, "EUR", "500€"}, {E_MONEY, "300", 300, NULL, "300"}, END});
    check_entities("de", E_MONEY, "zwischen 300 und 500 Euro",
                   (want_t[]){{E_MONEY, "300", 300, NULL, "300"},
                              {E_MONEY, "500", 500, "EUR", "500 Euro"},
                              END});
}

static void entities_sorted_by_start_then_entity_index(void **state)
{
    (void)state;
    check_entities("de", -1, "2 Sony Alpha für 500 € (A-1234)",
                   (want_t[]){{E_NUMBER, "2", 2, NULL, "2"},
                              {E_MONEY, "2", 2, NULL, "2"},
                              {E_CAMERA, "sony_alpha", 0, NULL, "Sony Alpha"},
                              {E_NUMBER, "500", 500, NULL, "500"},
                              {E_MONEY, "500", 500, "EUR", "500 €"},
                              {E_ORDER, "A-1234", 0, NULL, "A-1234"},
                              {E_NUMBER, "1234", 1234, NULL, "1234"},
                              {E_MONEY, "1234", 1234, NULL, "1234"},
                              END});
}

static void entities_capped_at_64_matches(void **state)
{
    (void)state;
    char text[400] = "";
    for (int i = 0; i < 100; i++)
        strcat(text, "7 ");
    pl_bot_t bot = make_bot("en", NULL, 0);
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_entity_match_t *m;
    size_t n;
    assert_int_equal(pl_nlu_entities(&bot, text, strlen(text), &a, &m, &n), 0);
    assert_int_equal(n, 64);
    for (size_t i = 1; i < n; i++)
        assert_true(m[i - 1].start < m[i].start ||
                    (m[i - 1].start == m[i].start && m[i - 1].entity < m[i].entity));
    assert_int_equal(m[0].start, 0);
    assert_int_equal(m[63].start, 62); /* 32 numbers, each as number and as money */
    pl_arena_cleanup(&a);
}

/* ---- bounds ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 64 KiB message of one pattern must take linear time and allocate only in scratch. */
static void understand_huge_message(const char *lang, const char *unit)
{
    size_t len = 64 * 1024, ulen = strlen(unit);
    char *text = pl_malloc(len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < len; i++)
        text[i] = unit[i % ulen];
    text[len] = '\0';

    pl_bot_t bot = make_bot(lang, en_intents, N(en_intents));
    bot.entities = entities; /* without the regex: regexec allocates with malloc itself */
    bot.nentities = E_ORDER;
    pl_nlu_t *nlu;
    assert_int_equal(pl_nlu_new(&bot, &nlu), 0);
    pl_arena_t a;
    /* one chunk scratch may use: 64 KiB of "1," are 65,536 tokens, listed for the caller */
    pl_arena_init(&a, 16 * 1024 * 1024);
    assert_non_null(pl_arena_alloc(&a, 1));
    pl_arena_reset(&a);

    pl_understanding_t u;
    double t0 = now_s();
    pl_mem_fail_after(0); /* any heap allocation outside the scratch chunk now fails */
    int rc = pl_nlu_understand(nlu, text, len, &a, &u);
    pl_mem_fail_reset();
    double dt = now_s() - t0;
    print_message("%s x %zu (%s): %.1f ms, %zu scratch bytes, %zu entities\n", unit, len / ulen,
                  lang, dt * 1e3, a.total, u.nentities);
    assert_int_equal(rc, 0);
    assert_true(a.total > 0);
    assert_true(dt < 1.0);
    assert_true(u.nentities <= 64);
    pl_arena_cleanup(&a);
    pl_nlu_free(nlu);
    pl_free(text);
}

static void huge_messages_finish_and_allocate_only_in_scratch(void **state)
{
    (void)state;
    understand_huge_message("en", "1,");
    understand_huge_message("de", "1,");
    understand_huge_message("de", "1.");
    understand_huge_message("en", "\xF0\x9F\x98\x80"); /* emoji */
    understand_huge_message("en", "\xCC\x88\xCC\xA3"); /* marks only, to be reordered */
    understand_huge_message("de", "5");
    understand_huge_message("en", "!?");
    understand_huge_message("en", "buy camera ");
}

/* Snowball stems of normalised words: inflections meet, in both languages; row-reporting. */
static void stemmer_joins_inflections_in_both_languages(void **state)
{
    (void)state;
    static const struct {
        int de;
        const char *a, *b; /* two forms that must share a stem */
    } rows[] = {
        {0, "cameras", "camera"},          {0, "recommending", "recommend"},
        {0, "shipped", "shipping"},        {0, "photographs", "photograph"},
        {1, "objektive", "objektiv"},      {1, "empfehlungen", "empfehlung"},
        {1, "bestellung", "bestellungen"}, {1, "fotografieren", "fotografiere"},
        {1, "guenstige", "guenstigen"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        pl__stemmer_t *st;
        assert_int_equal(pl__stemmer_new(rows[i].de, &st), 0);
        char sa[PL__STEM_MAX_WORD], sb[PL__STEM_MAX_WORD];
        size_t la = pl__stemmer_stem(st, rows[i].a, strlen(rows[i].a), sa);
        size_t lb = pl__stemmer_stem(st, rows[i].b, strlen(rows[i].b), sb);
        if (la != lb || memcmp(sa, sb, la) != 0) {
            print_error("row %zu: '%s' -> '%.*s' but '%s' -> '%.*s'\n", i, rows[i].a, (int)la, sa,
                        rows[i].b, (int)lb, sb);
            pl__stemmer_free(st);
            fail();
        }
        pl__stemmer_free(st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_folds_umlauts_to_ascii_pairs),
        cmocka_unit_test(normalize_turns_punctuation_symbols_and_emoji_into_single_spaces),
        cmocka_unit_test(normalize_applies_nfkc_and_case_folding),
        cmocka_unit_test(normalize_skips_invalid_utf8_bytes),
        cmocka_unit_test(normalize_appends_and_reports_limit),
        cmocka_unit_test(tokenize_spans_point_into_original_text),
        cmocka_unit_test(tokenize_keeps_punctuation_and_emoji_as_their_own_tokens),
        cmocka_unit_test(stemmer_joins_inflections_in_both_languages),
        cmocka_unit_test(matcher_exact_example_scores_one),
        cmocka_unit_test(matcher_paraphrase_with_extra_words_reaches_threshold),
        cmocka_unit_test(matcher_german_paraphrase_with_ue_for_umlaut),
        cmocka_unit_test(matcher_unrelated_sentence_gives_no_intent),
        cmocka_unit_test(matcher_top3_is_ordered_best_first),
        cmocka_unit_test(an_intent_with_alike_examples_must_be_matched_more_closely),
        cmocka_unit_test(matcher_ties_go_to_lower_intent_index),
        cmocka_unit_test(matcher_threshold_zero_means_one_half),
        cmocka_unit_test(matcher_typos_and_compounds_still_match),
        cmocka_unit_test(matcher_new_reports_enomem_without_leaking),
        cmocka_unit_test(understand_reports_enomem_and_leaves_output_alone),
        cmocka_unit_test(entities_list_matches_synonyms_across_hyphens_case_and_umlauts),
        cmocka_unit_test(entities_list_longest_synonym_wins),
        cmocka_unit_test(entities_regex_reports_every_match_with_its_text),
        cmocka_unit_test(entities_number_reads_thousands_and_decimals_by_language),
        cmocka_unit_test(entities_money_reads_currency_before_and_after),
        cmocka_unit_test(entities_sorted_by_start_then_entity_index),
        cmocka_unit_test(entities_capped_at_64_matches),
        cmocka_unit_test(huge_messages_finish_and_allocate_only_in_scratch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
