/* Unit tests of runtime/render/ssml: the reply as speech and as a card's plain text, in English
 * and German. Escaping, no URLs, e-mail addresses or emoji read out, at most three options,
 * offers as one sentence with their exact terms, pauses, "sent to your app", Alexa's length
 * limit, and failures that leave the output as it was. Every SSML rendered here is checked for
 * well-formedness; with PL_SSML_OUT=DIR each is also written to DIR/NNNN.ssml, so that
 * tests/voice/ssml_wellformed.sh can check them with xmllint. */
#include "test_helpers.h"

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "render/render.h"
#include "render/ssml.h"

static const char bot_en[] =
    "bot: {id: v, name: Vox, language: en}\n"
    "intents:\n"
    "  buy: [I want a camera, I am looking for a camera]\n"
    "  compare: [compare cameras side by side, show me a comparison table]\n"
    "capabilities:\n"
    "  can:\n"
    "    advice: {description: help you choose a camera}\n"
    "    table: {description: compare cameras side by side, channels: [web, app],\n"
    "            elsewhere: it needs a screen}\n"
    "flows:\n"
    "  buy: {trigger: buy, capability: advice, steps: [{end: Noted.}]}\n"
    "  compare: {trigger: compare, capability: table, steps: [{end: Here is the table.}]}\n";

static const char bot_de[] =
    "bot: {id: v, name: Vox, language: de}\n"
    "intents:\n"
    "  buy: [ich suche eine Kamera, ich will eine Kamera kaufen]\n"
    "  compare: [Kameras nebeneinander vergleichen, zeig mir eine Vergleichstabelle]\n"
    "capabilities:\n"
    "  can:\n"
    "    advice: {description: bei der Wahl einer Kamera helfen}\n"
    "    table: {description: Kameras nebeneinander vergleichen, channels: [web, app],\n"
    "            elsewhere: dafür braucht es einen Bildschirm}\n"
    "flows:\n"
    "  buy: {trigger: buy, capability: advice, steps: [{end: Notiert.}]}\n"
    "  compare: {trigger: compare, capability: table, steps: [{end: Hier ist die Tabelle.}]}\n";

static pl_bot_t *load(const char *text)
{
    pl_bot_t *bot;
    char *diag;
    int rc = th_load(text, &bot, &diag);
    if (rc != 0)
        print_error("%s", diag);
    free(diag);
    assert_int_equal(rc, 0);
    return bot;
}

/* --- well-formedness ----------------------------------------------------------------------- */

/* NULL when ssml is one <speak> element of text, <break/> and <say-as> elements and the five
 * XML entities, within Alexa's limit, in valid UTF-8 of XML characters; else what is wrong. */
static const char *ill_formed(const char *ssml)
{
    size_t len = strlen(ssml);
    if (len > PL_SSML_MAX)
        return "longer than PL_SSML_MAX";
    if (!pl_utf8_valid(ssml, len))
        return "not valid UTF-8";
    if (strncmp(ssml, "<speak>", 7) != 0 || len < 15 || strcmp(ssml + len - 8, "</speak>") != 0)
        return "not one <speak> element";
    char stack[8][16];
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)ssml[i];
        if (ch < 0x20)
            return "a control character";
        if (ch == '>' || ch == '"')
            return "an unescaped '>' or '\"' in text";
        if (ch == '&') {
            static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            int ok = 0;
            for (int k = 0; k < 5; k++)
                ok |= strncmp(ssml + i, ents[k], strlen(ents[k])) == 0;
            if (!ok)
                return "a bare '&'";
            continue;
        }
        if (ch != '<')
            continue;
        const char *end = strchr(ssml + i, '>');
        if (end == NULL)
            return "an unclosed tag";
        char tag[128];
        size_t n = (size_t)(end - ssml) - i - 1;
        if (n >= sizeof(tag))
            return "a tag too long";
        memcpy(tag, ssml + i + 1, n);
        tag[n] = '\0';
        if (tag[0] == '/') {
            if (depth == 0 || strcmp(stack[depth - 1], tag + 1) != 0)
                return "a closing tag that does not match";
            depth--;
        } else if (strcmp(tag, "break time=\"300ms\"/") == 0) {
            if (depth == 0)
                return "a break outside <speak>";
        } else if (strcmp(tag, "speak") == 0 || strcmp(tag, "say-as interpret-as=\"date\"") == 0) {
            if ((strcmp(tag, "speak") == 0) != (depth == 0) || depth == 8)
                return "<speak> not the root, or nested too deep";
            snprintf(stack[depth++], sizeof(stack[0]), "%s", strtok(tag, " "));
        } else {
            return "an element that is not speak, break or say-as";
        }
        i = (size_t)(end - ssml);
    }
    return depth == 0 ? NULL : "an element left open";
}

/* Checks ssml and, with PL_SSML_OUT set, writes it there for xmllint. */
static void check_ssml(const char *ssml)
{
    static int count;
    const char *why = ill_formed(ssml);
    if (why != NULL) {
        print_error("ill-formed SSML (%s):\n%s\n", why, ssml);
        fail();
    }
    const char *dir = getenv("PL_SSML_OUT");
    if (dir == NULL || dir[0] == '\0')
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/%04d.ssml", dir, count++);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(ssml, f);
    fclose(f);
}

/* --- helpers ------------------------------------------------------------------------------- */

/* The SSML of reply, checked; caller frees. */
static char *speak(const pl_bot_t *bot, const pl_reply_t *reply, int app_linked)
{
    pl_strbuf_t b;
    pl_strbuf_init(&b, 0);
    pl_ssml_opts_t o = {.app_linked = app_linked};
    assert_int_equal(pl_ssml_render(bot, reply, &o, &b), 0);
    check_ssml(pl_strbuf_str(&b));
    char *s = strdup(pl_strbuf_str(&b));
    pl_strbuf_cleanup(&b);
    return s;
}

/* The plain text of reply; caller frees. */
static char *plain(const pl_bot_t *bot, const pl_reply_t *reply)
{
    pl_strbuf_t b;
    pl_strbuf_init(&b, 0);
    assert_int_equal(pl_ssml_plain(bot, reply, &b), 0);
    char *s = strdup(pl_strbuf_str(&b));
    pl_strbuf_cleanup(&b);
    assert_true(strlen(s) <= PL_SSML_MAX);
    assert_true(pl_utf8_valid(s, strlen(s)));
    return s;
}

/* The SSML without <speak> and </speak>, for comparing with a table (static). */
static const char *inner(const char *ssml)
{
    static char buf[PL_SSML_MAX + 1];
    size_t len = strlen(ssml);
    snprintf(buf, sizeof(buf), "%.*s", (int)(len - 15), ssml + 7);
    return buf;
}

/* Compares the SSML (inside <speak>) and the plain text of reply with the wanted ones; prints
 * what differs. Returns the number of differences (0, 1 or 2). */
static int differs(const pl_bot_t *bot, const pl_reply_t *reply, const char *want,
                   const char *want_plain, const char *what, size_t i)
{
    char *s = speak(bot, reply, 0), *p = plain(bot, reply);
    int n = 0;
    if (strcmp(inner(s), want) != 0) {
        print_error("%s %zu SSML:\n  want %s\n  got  %s\n", what, i, want, inner(s));
        n++;
    }
    if (strcmp(p, want_plain) != 0) {
        print_error("%s %zu plain:\n  want %s\n  got  %s\n", what, i, want_plain, p);
        n++;
    }
    free(s);
    free(p);
    return n;
}

/* Element i of a reply: a text message with quick replies qr (NULL-terminated, or NULL). */
static void text_msg(pl_reply_t *r, const char *text, const char *const *qr)
{
    pl_message_t *m = &r->items[r->n++];
    memset(m, 0, sizeof(*m));
    m->kind = PL_MSG_TEXT;
    m->text = text;
    m->variant = "default";
    m->quick_replies = qr;
    while (qr != NULL && qr[m->nquick_replies] != NULL)
        m->nquick_replies++;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}


/* --- rules, row by row --------------------------------------------------------------------- */

typedef struct {
    const char *lang;
    const char *text;
    const char *qr[12];
    const char *want;       /* inside <speak> */
    const char *want_plain; /* NULL: the same as want */
} row_t;

static const row_t rows[] = {
    /* a question that names its options already is not followed by them again */
    {"en",
     "What do you photograph most: travel, people or video?",
     {"Travel", "People", "Video", NULL},
     "What do you photograph most: travel, people or video?",
     NULL},
    /* customer text echoed in a reply is escaped, never markup */
    {"en",
     "You said: <speak>Tom & Jerry</speak> \"hi\" 'yo' ]]> &amp; <![CDATA[x]]>",
     {NULL},
     "You said: &lt;speak&gt;Tom &amp; Jerry&lt;/speak&gt; &quot;hi&quot; &apos;yo&apos; ]]&gt; "
     "&amp;amp; &lt;![CDATA[x]]&gt;",
     "You said: <speak>Tom & Jerry</speak> \"hi\" 'yo' ]]> &amp; <![CDATA[x]]>"},
    {"de",
     "Sie schrieben: „<break time=\"10s\"/>“ & <!-- x -->",
     {NULL},
     "Sie schrieben: „&lt;break time=&quot;10s&quot;/&gt;“ &amp; &lt;!-- x --&gt;",
     "Sie schrieben: „<break time=\"10s\"/>“ & <!-- x -->"},
    /* control characters and bytes that are not UTF-8 are not XML: gone */
    {"en",
     "Bell\x07 and\x01tab\there, bad \xff\xfe byte, \xef\xbf\xbf end.",
     {NULL},
     "Bell and tab here, bad byte, end.",
     NULL},
    /* URLs and e-mail addresses are never read out; the card keeps them */
    {"en",
     "See https://shop.example.com/cams?id=5&x=1 for details.",
     {NULL},
     "See the website for details.",
     "See https://shop.example.com/cams?id=5&x=1 for details."},
    {"en",
     "Visit www.Example-Shop.com/help! Or (http://x.io/a_(b)) now.",
     {NULL},
     "Visit the website! Or (the website) now.",
     "Visit www.Example-Shop.com/help! Or (http://x.io/a_(b)) now."},
    {"en",
     "Our shop: camera-shop.de/angebote, open daily.",
     {NULL},
     "Our shop: the website, open daily.",
     "Our shop: camera-shop.de/angebote, open daily."},
    {"en",
     "Write to info@camera-shop.de or mailto:Help.Desk+1@x.co.uk.",
     {NULL},
     "Write to our e-mail address or our e-mail address.",
     "Write to info@camera-shop.de or mailto:Help.Desk+1@x.co.uk."},
    {"de",
     "Mehr dazu unter https://camera-shop.de/hilfe oder per E-Mail an hilfe@camera-shop.de.",
     {NULL},
     "Mehr dazu unter der Webseite oder per E-Mail an unsere E-Mail-Adresse.",
     "Mehr dazu unter https://camera-shop.de/hilfe oder per E-Mail an hilfe@camera-shop.de."},
    {"de",
     "Siehe „https://de.wikipedia.org/wiki/Straße“.",
     {NULL},
     "Siehe „die Webseite“.",
     "Siehe „https://de.wikipedia.org/wiki/Straße“."},
    {"de",
     "Besuchen Sie www.camera-shop.de, auf https://x.de/a oder bei info@x.de nachfragen.",
     {NULL},
     "Besuchen Sie die Webseite, auf der Webseite oder bei unserer E-Mail-Adresse nachfragen.",
     "Besuchen Sie www.camera-shop.de, auf https://x.de/a oder bei info@x.de nachfragen."},
    /* ...but what only looks a little like one stays */
    {"en",
     "ASP.NET, Node.js, e.g. 2.5x zoom, Z50 at 16-50 mm; I.e. fine.",
     {NULL},
     "ASP.NET, Node.js, e.g. 2.5x zoom, Z50 at 16-50 mm; I.e. fine.",
     NULL},
    {"de",
     "z. B. 1.299,50 € bzw. ca. 3 Std., Mo.–Sa.",
     {NULL},
     "z. B. 1.299,50 € bzw. ca. 3 Std., Mo.–Sa.",
     NULL},
    /* emoji dropped: pictographs, flags, skin tones, ZWJ sequences, variation selectors */
    {"en",
     "Great choice 🎉! 👍🏽 Flags 🇩🇪 and 👨‍👩‍👧 family ❤️ 1️⃣",
     {NULL},
     "Great choice! Flags and family 1",
     NULL},
    {"de", "🎉 Super Wahl 📷✨, wirklich 👌🏻!", {NULL}, "Super Wahl, wirklich!", NULL},
    /* options: at most three, as one question */
    {"en",
     "What will you photograph most?",
     {"Travel", "People", "Sports", NULL},
     "What will you photograph most? Travel, people or sports?",
     NULL},
    {"en",
     "What will you photograph most?",
     {"Travel", "People", "Sports", "Video", NULL},
     "What will you photograph most? Travel, people, sports, or something else?",
     NULL},
    {"de",
     "Was fotografieren Sie am meisten?",
     {"Reisen", "Porträts", "Sport", NULL},
     "Was fotografieren Sie am meisten? Reisen, Porträts oder Sport?",
     NULL},
    {"de",
     "Was fotografierst du?",
     {"Reisen", "Porträts", "Sport", "Video", "Tiere", "Natur", "Makro", "Architektur", "Nacht",
      "Familie", NULL},
     "Was fotografierst du? Reisen, Porträts, Sport, oder etwas anderes?",
     NULL},
    {"en", "Which type?", {"DSLR", "Mirrorless", NULL}, "Which type? DSLR or mirrorless?", NULL},
    {"en",
     "",
     {"Find a camera", "DSLR or mirrorless?", "Where is my order?", NULL},
     "Find a camera, DSLR or mirrorless or where is my order?",
     NULL},
    {"de", "Bitte wählen", {"Ja", NULL}, "Bitte wählen. Ja?", NULL},
    {"en",
     "Pick one:",
     {"🎉", "<b>Yes</b>", "https://x.de", "  ", NULL},
     "Pick one: &lt;b&gt;Yes&lt;/b&gt; or the website?",
     "Pick one: <b>Yes</b> or https://x.de?"},
    {"en",
     "Brand?",
     {"Canon", "Nikon", "Sony", "Fujifilm", NULL},
     "Brand? Canon, nikon, sony, or something else?",
     NULL},
};

static void every_rule_holds_row_by_row_in_both_languages(void **state)
{
    (void)state;
    pl_bot_t *bots[2] = {load(bot_en), load(bot_de)};
    int failed = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        const pl_bot_t *bot = bots[strcmp(r->lang, "de") == 0];
        pl_reply_t reply = {.n = 0};
        text_msg(&reply, r->text, r->qr[0] ? r->qr : NULL);
        failed += differs(bot, &reply, r->want, r->want_plain ? r->want_plain : r->want, "row", i);
    }
    pl_bot_free(bots[0]);
    pl_bot_free(bots[1]);
    assert_int_equal(failed, 0);
}

/* --- offers -------------------------------------------------------------------------------- */

#define JAN_8_2026 1767830400000LL /* 2026-01-08T00:00:00Z */

static void an_offer_is_one_sentence_ending_with_its_exact_price_and_validity(void **state)
{
    (void)state;
    static const struct {
        const char *lang, *title;
        double price;
        const char *currency;
        int64_t until;
        const char *want, *want_plain;
    } offers[] = {
        {"en", "Nikon Z50 starter kit", 849, "EUR", JAN_8_2026,
         "My offer: Nikon Z50 starter kit for 849 euros, valid until "
         "<say-as interpret-as=\"date\">20260108</say-as>.",
         "My offer: Nikon Z50 starter kit for €849, valid until 8 January 2026."},
        {"de", "Nikon Z50 Starter-Kit", 849, "EUR", JAN_8_2026,
         "Mein Angebot: Nikon Z50 Starter-Kit für 849 Euro, gültig bis "
         "<say-as interpret-as=\"date\">20260108</say-as>.",
         "Mein Angebot: Nikon Z50 Starter-Kit für 849 €, gültig bis 08.01.2026."},
        {"en", "Lens & bag 🎒", 499.5, "USD", 0,
         "My offer: Lens &amp; bag for 499 dollars and 50 cents.",
         "My offer: Lens & bag for $499.50."},
        {"de", "Objektiv \"Pro\"", 499.5, "EUR", 0,
         "Mein Angebot: Objektiv &quot;Pro&quot; für 499 Euro 50.",
         "Mein Angebot: Objektiv \"Pro\" für 499,50 €."},
        {"en", "Strap", 1, "EUR", 0, "My offer: Strap for 1 euro.", "My offer: Strap for €1."},
        {"en", "Cloth", 0.99, "EUR", 0, "My offer: Cloth for 99 cents.",
         "My offer: Cloth for €0.99."},
        {"en", "Body", 1299.01, "USD", 0, "My offer: Body for 1299 dollars and 1 cent.",
         "My offer: Body for $1,299.01."},
        {"de", "Tuch", 0.5, "EUR", 0, "Mein Angebot: Tuch für 50 Cent.",
         "Mein Angebot: Tuch für 0,50 €."},
        {"de", "Body", 2500, "USD", 0, "Mein Angebot: Body für 2500 Dollar.",
         "Mein Angebot: Body für 2.500 $."},
        {"en", NULL, 10, "EUR", JAN_8_2026,
         "My offer: 10 euros, valid until <say-as interpret-as=\"date\">20260108</say-as>.",
         "My offer: €10, valid until 8 January 2026."},
        {"en", "See https://x.de", 5, "EUR", 0, "My offer: See the website for 5 euros.",
         "My offer: See https://x.de for €5."},
    };
    pl_bot_t *bots[2] = {load(bot_en), load(bot_de)};
    int failed = 0;
    for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        const pl_bot_t *bot = bots[strcmp(offers[i].lang, "de") == 0];
        pl_reply_t reply = {.n = 1};
        pl_message_t *m = &reply.items[0];
        memset(m, 0, sizeof(*m));
        m->kind = PL_MSG_OFFER;
        /* the authored text is the screen's; speech says the snapshot's terms */
        m->text = "Here's a deal for you 🎉: the kit for €849, valid until 08.01.2026!";
        m->offer_id = "kit";
        m->offer_title = offers[i].title;
        m->offer_price = offers[i].price;
        m->offer_currency = offers[i].currency;
        m->offer_valid_until = offers[i].until;
        failed += differs(bot, &reply, offers[i].want, offers[i].want_plain, "offer", i);
    }
    pl_bot_free(bots[0]);
    pl_bot_free(bots[1]);
    assert_int_equal(failed, 0);
}

/* --- messages together --------------------------------------------------------------------- */

static void messages_are_separated_by_a_short_pause_and_empty_ones_skipped(void **state)
{
    (void)state;
    pl_bot_t *bot = load(bot_en);
    static const char *const qr[] = {"Yes", "No", NULL};
    pl_reply_t r = {.n = 0};
    text_msg(&r, "Hello.", NULL);
    text_msg(&r, " 🎉 ", NULL); /* nothing left to say */
    text_msg(&r, "", NULL);
    r.items[r.n] = r.items[0];
    r.items[r.n].kind = PL_MSG_CAPABILITIES; /* spoken as its text */
    r.items[r.n++].text = "I am Vox, a virtual assistant. I can help you choose a camera.";
    r.items[r.n] = r.items[0];
    r.items[r.n].kind = PL_MSG_HANDOFF;
    r.items[r.n++].text = "Here is how to reach a person: call 030 5555.";
    text_msg(&r, "Shall I go on?", qr);
    char *s = speak(bot, &r, 0), *p = plain(bot, &r);
    assert_string_equal(s, "<speak>Hello.<break time=\"300ms\"/>I am Vox, a virtual assistant. I "
                           "can help you choose a camera.<break time=\"300ms\"/>Here is how to "
                           "reach a person: call 030 5555.<break time=\"300ms\"/>Shall I go on? "
                           "Yes or no?</speak>");
    assert_string_equal(p, "Hello.\nI am Vox, a virtual assistant. I can help you choose a "
                           "camera.\nHere is how to reach a person: call 030 5555.\nShall I go "
                           "on? Yes or no?");
    free(s);
    free(p);
    pl_reply_t none = {.n = 0};
    s = speak(bot, &none, 0);
    assert_string_equal(s, "<speak></speak>");
    free(s);
    pl_bot_free(bot);
}

static void output_is_appended_and_left_unchanged_on_failure(void **state)
{
    (void)state;
    pl_bot_t *bot = load(bot_en);
    pl_reply_t r = {.n = 0};
    text_msg(&r, "Hello there.", NULL);
    pl_strbuf_t b;
    pl_strbuf_init(&b, 40);
    assert_int_equal(pl_strbuf_puts(&b, "before|"), 0);
    assert_int_equal(pl_ssml_render(bot, &r, NULL, &b), 0);
    assert_string_equal(pl_strbuf_str(&b), "before|<speak>Hello there.</speak>");
    /* no room for more: PL_ELIMIT, and what was there stays */
    assert_int_equal(pl_ssml_render(bot, &r, NULL, &b), PL_ELIMIT);
    assert_string_equal(pl_strbuf_str(&b), "before|<speak>Hello there.</speak>");
    assert_int_equal(pl_ssml_plain(bot, &r, &b), PL_ELIMIT);
    assert_string_equal(pl_strbuf_str(&b), "before|<speak>Hello there.</speak>");
    pl_strbuf_cleanup(&b);
    pl_bot_free(bot);
}

static void allocation_failures_return_enomem_and_leave_the_output_unchanged(void **state)
{
    (void)state;
    pl_bot_t *bot = load(bot_de);
    static const char *const qr[] = {"Reisen 🎉", "Porträts", "Sport", "Video", NULL};
    pl_reply_t r = {.n = 0};
    text_msg(&r, "Was fotografieren Sie? Mehr auf https://x.de & bei info@x.de.", qr);
    r.items[r.n] = r.items[0];
    r.items[r.n].kind = PL_MSG_OFFER;
    r.items[r.n].offer_title = "Kit";
    r.items[r.n].offer_price = 849;
    r.items[r.n].offer_currency = "EUR";
    r.items[r.n++].offer_valid_until = JAN_8_2026;
    for (int spoken = 0; spoken < 2; spoken++) {
        int ok = 0;
        for (long n = 0; n < 1000 && !ok; n++) {
            pl_strbuf_t b;
            pl_strbuf_init(&b, 0);
            assert_int_equal(pl_strbuf_puts(&b, "x"), 0);
            pl_mem_fail_after(n);
            int rc = spoken ? pl_ssml_render(bot, &r, NULL, &b) : pl_ssml_plain(bot, &r, &b);
            pl_mem_fail_reset();
            if (rc == 0) {
                ok = 1;
                th_assert_contains(pl_strbuf_str(&b), "Mein Angebot: Kit für 849");
            } else {
                assert_int_equal(rc, PL_ENOMEM);
                assert_string_equal(pl_strbuf_str(&b), "x");
            }
            pl_strbuf_cleanup(&b);
        }
        assert_true(ok);
    }
    pl_bot_free(bot);
}

/* --- "sent to your app" -------------------------------------------------------------------- */

/* A turn of runtime rt on voice; the reply is in *t. */
static void voice_turn(pl_runtime_t *rt, cJSON **st, pl_arena_t *a, const char *text, pl_turn_t *t)
{
    pl_arena_reset(a);
    pl_event_t ev = {
        .text = text, .len = strlen(text), .channel = PL_CHANNEL_VOICE, .now_ms = 1767225600000LL};
    assert_int_equal(pl_runtime_turn(rt, st, &ev, a, t), 0);
}

static void not_here_becomes_sent_to_your_app_when_the_app_is_open(void **state)
{
    (void)state;
    static const struct {
        const char *bot, *hello, *ask, *said, *sent;
    } langs[] = {
        {bot_en, "I want a camera", "compare cameras side by side",
         "I cannot compare cameras side by side here, but on the website or in the app I can (it "
         "needs a screen).",
         "I have sent the details to your app."},
        {bot_de, "ich suche eine Kamera", "Kameras nebeneinander vergleichen",
         "„Kameras nebeneinander vergleichen“ geht hier leider nicht, aber auf der Website oder in "
         "der App geht es (dafür braucht es einen Bildschirm).",
         "Die Details habe ich in die App geschickt."},
    };
    for (size_t i = 0; i < 2; i++) {
        pl_runtime_t *rt = th_runtime(i ? "de.yaml" : "en.yaml", langs[i].bot);
        const pl_bot_t *bot = pl_runtime_bot(rt);
        cJSON *st = cJSON_CreateObject();
        pl_arena_t a;
        pl_arena_init(&a, 0);
        pl_turn_t t;
        voice_turn(rt, &st, &a, langs[i].hello, &t);
        for (size_t k = 0; k < t.reply.n; k++)
            assert_false(t.reply.items[k].unavailable);
        voice_turn(rt, &st, &a, langs[i].ask, &t);
        assert_int_equal(t.reply.n, 1);
        assert_true(t.reply.items[0].unavailable);
        assert_string_equal(t.reply.items[0].variant, "built-in");
        char *away = speak(bot, &t.reply, 0), *open = speak(bot, &t.reply, 1);
        char *p = plain(bot, &t.reply);
        assert_string_equal(inner(away), langs[i].said);
        assert_string_equal(inner(open), langs[i].sent);
        assert_string_equal(p, langs[i].said); /* the card shows the details */
        free(away);
        free(open);
        free(p);
        /* other messages are spoken as they are with the app open too */
        pl_reply_t other = {.n = 0};
        text_msg(&other, "Noted.", NULL);
        char *s = speak(bot, &other, 1);
        assert_string_equal(s, "<speak>Noted.</speak>");
        free(s);
        cJSON_Delete(st);
        pl_arena_cleanup(&a);
        pl_runtime_unref(rt);
    }
}

/* --- length -------------------------------------------------------------------------------- */

/* n bytes of text made of sentences "Sentence 12 is here & fine. " (static buffer). */
static const char *sentences(size_t n)
{
    static char buf[24 * 1024];
    assert_true(n < sizeof(buf));
    size_t len = 0;
    for (int k = 0; len < n; k++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "Sentence %d is here & fine. ", k);
    buf[n] = '\0';
    return buf;
}

static void a_long_reply_is_cut_after_the_last_sentence_that_fits(void **state)
{
    (void)state;
    pl_bot_t *bot = load(bot_en);
    /* 20 KB in one message: cut after a whole sentence, within the limit */
    pl_reply_t r = {.n = 0};
    text_msg(&r, sentences(20 * 1024), NULL);
    char *s = speak(bot, &r, 0);
    size_t len = strlen(s);
    assert_true(len <= PL_SSML_MAX && len > PL_SSML_MAX - 40);
    assert_true(ends_with(s, "is here &amp; fine.</speak>"));
    free(s);
    char *p = plain(bot, &r);
    assert_true(strlen(p) <= PL_SSML_MAX && strlen(p) > PL_SSML_MAX - 40);
    assert_true(ends_with(p, "is here & fine."));
    free(p);

    /* several messages: all that fit, then the next cut at a sentence, then nothing */
    static char first[5001];
    memset(first, 'a', 5000);
    first[4999] = '.';
    pl_reply_t m = {.n = 0};
    text_msg(&m, first, NULL);
    text_msg(&m, sentences(5000), NULL);
    text_msg(&m, "Never said.", NULL);
    s = speak(bot, &m, 0);
    th_assert_contains(s, ".<break time=\"300ms\"/>Sentence 0 is here &amp; fine. Sentence 1");
    assert_null(strstr(s, "Never said."));
    assert_true(ends_with(s, "is here &amp; fine.</speak>"));
    free(s);

    /* a following message without a sentence that fits is left out entirely */
    static char second[3001];
    memset(second, 'b', 3000);
    second[3000] = '\0';
    m.n = 0;
    text_msg(&m, first, NULL);
    text_msg(&m, second, NULL);
    s = speak(bot, &m, 0);
    assert_int_equal(strlen(s), 7 + 5000 + 8);
    free(s);
    pl_bot_free(bot);
}

static void a_first_message_without_sentences_is_cut_after_a_word_or_a_character(void **state)
{
    (void)state;
    pl_bot_t *bot = load(bot_de);
    static char buf[20 * 1024 + 1];
    static const struct {
        const char *unit; /* repeated to 20 KB */
        const char *want_end;
    } rows2[] = {
        {"Wort, ", "Wort.</speak>"},           /* no sentence end: after a word, with a '.' */
        {"ä", "ä.</speak>"},                   /* no space: after a whole character */
        {"&", "&amp;.</speak>"},               /* never inside an entity */
        {"<speak>", "&lt;speak&gt;.</speak>"}, /* nor inside escaped markup */
        {"🎉 Prima ", "Prima.</speak>"},        /* emoji gone before measuring */
    };
    for (size_t i = 0; i < sizeof(rows2) / sizeof(rows2[0]); i++) {
        size_t n = 0, k = strlen(rows2[i].unit);
        while (n + k < sizeof(buf))
            memcpy(buf + n, rows2[i].unit, k), n += k;
        buf[n] = '\0';
        pl_reply_t r = {.n = 0};
        text_msg(&r, buf, NULL);
        char *s = speak(bot, &r, 0);
        size_t len = strlen(s);
        if (len < PL_SSML_MAX - 16 || !ends_with(s, rows2[i].want_end)) {
            print_error("row %zu: %zu bytes ending %s\n", i, len, s + (len > 40 ? len - 40 : 0));
            fail();
        }
        free(s);
    }
    pl_bot_free(bot);
}

static void a_reply_of_exactly_the_limit_is_not_cut(void **state)
{
    (void)state;
    pl_bot_t *bot = load(bot_en);
    size_t room = PL_SSML_MAX - strlen("<speak></speak>");
    char *text = malloc(room + 2);
    memset(text, 'x', room + 1);
    text[room - 1] = '.';
    text[room] = '\0';
    pl_reply_t r = {.n = 0};
    text_msg(&r, text, NULL);
    char *s = speak(bot, &r, 0);
    assert_int_equal(strlen(s), PL_SSML_MAX);
    free(s);
    /* one byte more, in a single "word": cut after a character, with a '.' */
    memset(text, 'x', room + 1);
    text[room] = '.';
    text[room + 1] = '\0';
    s = speak(bot, &r, 0);
    assert_int_equal(strlen(s), PL_SSML_MAX);
    assert_true(ends_with(s, "xx.</speak>"));
    free(s);
    free(text);
    pl_bot_free(bot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_rule_holds_row_by_row_in_both_languages),
        cmocka_unit_test(an_offer_is_one_sentence_ending_with_its_exact_price_and_validity),
        cmocka_unit_test(messages_are_separated_by_a_short_pause_and_empty_ones_skipped),
        cmocka_unit_test(output_is_appended_and_left_unchanged_on_failure),
        cmocka_unit_test(allocation_failures_return_enomem_and_leave_the_output_unchanged),
        cmocka_unit_test(not_here_becomes_sent_to_your_app_when_the_app_is_open),
        cmocka_unit_test(a_long_reply_is_cut_after_the_last_sentence_that_fits),
        cmocka_unit_test(a_first_message_without_sentences_is_cut_after_a_word_or_a_character),
        cmocka_unit_test(a_reply_of_exactly_the_limit_is_not_cut),
    };
    return cmocka_run_group_tests_name("ssml", tests, NULL, NULL);
}
