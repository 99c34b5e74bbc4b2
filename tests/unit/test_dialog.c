/* Unit tests of runtime/dialog: the YAML reader's limits, the loader's diagnostics, the
 * validator's graph checks, and the flow engine as a pure function of state and input. */
#include "test_helpers.h"

#include "base/mem.h"
#include "dialog/engine.h"
#include "dialog/yaml_tree.h"

/* ---- loader ---- */

static const char good_bot[] =
    "bot:\n"
    "  id: t\n"
    "  name: Test bot\n"
    "  language: en\n"
    "  tones: [friendly, formal]\n"
    "intents:\n"
    "  buy: [I want a camera, buy a camera]\n"
    "  human: [talk to a person]\n"
    "  yes: [yes]\n"
    "entities:\n"
    "  money: {type: money}\n"
    "  kind:\n"
    "    type: list\n"
    "    values:\n"
    "      dslr: [reflex camera]\n"
    "      mirrorless: [system camera]\n"
    "  code: {type: regex, pattern: 'LU-[0-9]{3}'}\n"
    "slots:\n"
    "  budget: {entity: money, prompt: What is your budget?, reprompt: How much?, attempts: 2}\n"
    "  kind: {entity: kind, prompt: Which kind?}\n"
    "  note: {type: text, prompt: Anything else?}\n"
    "  code: {entity: code, prompt: Your code?, attempts: 2}\n"
    "offers:\n"
    "  kit: {title: Starter kit, price: 499, valid_days: 7, text: 'Kit for {{offer.price}}'}\n"
    "flows:\n"
    "  buy:\n"
    "    trigger: buy\n"
    "    steps:\n"
    "      - ask: budget\n"
    "        on_fail: give_up\n"
    "      - ask: kind\n"
    "      - branch:\n"
    "          - if: {slot: budget, below: 500}\n"
    "            goto: cheap\n"
    "          - if: {all: [{slot: kind, is: dslr}, {channel: voice}]}\n"
    "            goto: voice_dslr\n"
    "          - goto: offer\n"
    "      - id: cheap\n"
    "        say: Too little for {{slot.kind}}.\n"
    "        goto: done\n"
    "      - id: voice_dslr\n"
    "        say: A DSLR, by voice.\n"
    "        goto: done\n"
    "      - id: offer\n"
    "        offer: kit\n"
    "      - id: done\n"
    "        end: Bye {{profile.name|friend}}.\n"
    "      - id: give_up\n"
    "        say: No budget, no camera.\n"
    "        flow: human\n"
    "  human:\n"
    "    trigger: human\n"
    "    steps:\n"
    "      - handoff:\n"
    "          default: Connecting you.\n"
    "          voice: Please hold.\n"
    "  check:\n"
    "    steps:\n"
    "      - branch:\n"
    "          - if: {intent: yes}\n"
    "            goto: ok\n"
    "      - ask: code\n"
    "      - ask: note\n"
    "      - id: ok\n"
    "        end: Done.\n"
    "fallback:\n"
    "  say: Sorry?\n"
    "  escalate_after: 2\n"
    "  escalate_to: check\n";

static void loader_loads_a_valid_bot(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load(good_bot, &bot, &diag);
    if (rc != 0)
        print_error("%s", diag);
    assert_int_equal(rc, 0);
    assert_string_equal(diag, "");
    assert_string_equal(bot->id, "t");
    assert_string_equal(bot->default_tone, "friendly");
    assert_int_equal(bot->nintents, 3 + 7); /* its own and the seven built-in ones */
    /* positions outlive loading: they name the bot's own copy of the file name */
    assert_non_null(strstr(bot->intents[0].pos.file, "bot.yaml"));
    assert_true(bot->intents[0].pos.line > 0);
    assert_int_equal(bot->nflows, 3);
    const pl_flow_t *buy = &bot->flows[pl_bot_flow(bot, "buy")];
    assert_int_equal(buy->nsteps, 8);
    assert_string_equal(buy->steps[0].id, "#1");
    assert_string_equal(buy->steps[3].id, "cheap");
    assert_int_equal(buy->steps[2].nbranches, 3);
    assert_int_equal(bot->entities[pl_bot_entity(bot, "kind")].values[0].nsynonyms, 2);
    free(diag);
    pl_bot_free(bot);
}

static void loader_reports_unknown_intent_with_position(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: en}\n"
                     "intents:\n"
                     "  buy_camera: [I want a camera]\n"
                     "flows:\n"
                     "  f:\n"
                     "    trigger: by_camera\n"
                     "    steps:\n"
                     "      - end: ok\n",
                     &bot, &diag);
    assert_int_equal(rc, PL_EINVALID);
    assert_null(bot);
    th_assert_contains(diag, "bot.yaml:6:14: error: unknown intent 'by_camera' (did you mean "
                             "'buy_camera'?)\n"
                             "    6 |     trigger: by_camera\n"
                             "      |              ^~~~~~~~~\n");
    free(diag);
}

static void loader_reports_every_problem_in_one_run(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: fr}\n"
                     "intents:\n"
                     "  a: []\n"
                     "flows:\n"
                     "  f:\n"
                     "    stepz: []\n"
                     "  g:\n"
                     "    steps:\n"
                     "      - ask: nothing\n"
                     "      - goto: nowhere\n",
                     &bot, &diag);
    assert_int_equal(rc, PL_EINVALID);
    th_assert_contains(diag, "1:33: error: language 'fr' is not supported");
    th_assert_contains(diag, "3:6: error: intent 'a' has no examples");
    th_assert_contains(diag, "6:5: error: unknown key 'stepz' in a flow (did you mean 'steps'?)");
    th_assert_contains(diag, "error: flow 'f' has no steps");
    th_assert_contains(diag, "9:14: error: unknown slot 'nothing'");
    th_assert_contains(diag, "10:15: error: unknown step 'nowhere' in flow 'g'");
    free(diag);
}

static void loader_reports_wrong_types_and_duplicates(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: en}\n"
                     "intents:\n"
                     "  a:\n"
                     "    examples: {x: y}\n"
                     "  a: [again]\n",
                     &bot, &diag);
    assert_int_equal(rc, PL_EINVALID);
    th_assert_contains(diag, "5:3: error: duplicate key 'a' (first defined at line 3)");
    free(diag);
    rc = th_load("bot: {id: t, name: T, language: en}\n"
                 "intents:\n"
                 "  a:\n"
                 "    examples: {x: y}\n",
                 &bot, &diag);
    th_assert_contains(diag, "4:15: error: an intent's examples must be a list ('- ' items), not a "
                             "mapping");
    free(diag);
}

static void loader_follows_includes_and_reports_cycles(void **state)
{
    (void)state;
    th_write("part.yaml", "intents:\n  hi: [hello]\ninclude: [part2.yaml]\n");
    th_write("part2.yaml", "include: [part.yaml]\n");
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: en}\n"
                     "include: [part.yaml, missing.yaml]\n"
                     "flows:\n"
                     "  f: {trigger: hi, steps: [{end: ok}]}\n",
                     &bot, &diag);
    assert_int_equal(rc, PL_EINVALID);
    th_assert_contains(diag, "part2.yaml:1:11: error: include cycle: ");
    th_assert_contains(diag, "/part.yaml includes ");
    th_assert_contains(diag, "/part2.yaml, which includes ");
    th_assert_contains(diag, "/part.yaml again; remove one of these includes");
    th_assert_contains(diag, "bot.yaml:2:22: error: included file 'missing.yaml' does not exist");
    free(diag);
    rc = th_load("bot: {id: t, name: T, language: en}\n"
                 "include: [part2.yaml]\n"
                 "flows:\n"
                 "  f: {trigger: hi, steps: [{end: ok}]}\n",
                 &bot, &diag);
    /* part2 includes part, which includes part2 again: still a cycle, no hang */
    assert_int_equal(rc, PL_EINVALID);
    free(diag);
    th_write("part3.yaml", "intents:\n  hi: [hello]\n");
    rc = th_load("bot: {id: t, name: T, language: en}\n"
                 "include: [part3.yaml]\n"
                 "flows:\n"
                 "  f: {trigger: hi, steps: [{end: ok}]}\n",
                 &bot, &diag);
    assert_int_equal(rc, 0);
    assert_int_equal(bot->nintents, 1 + 7);
    assert_int_equal(bot->nfiles, 2);
    free(diag);
    pl_bot_free(bot);
}

static void yaml_reader_rejects_billion_laughs_quickly(void **state)
{
    (void)state;
    char text[4096] = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'j'; c++) {
        char line[128];
        snprintf(line, sizeof(line), "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c,
                 c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
        strcat(text, line);
    }
    pl_diags_t d;
    pl_diags_init(&d);
    pl_ydoc_t doc;
    assert_int_equal(pl_ydoc_parse(&doc, "laughs.yaml", text, strlen(text), &d), PL_EINVALID);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].msg, "anchors and aliases"));
    assert_int_equal(d.items[0].line, 1);
    assert_int_equal(d.items[0].col, 4);
    pl_ydoc_cleanup(&doc);
    pl_diags_cleanup(&d);
}

static void yaml_reader_enforces_depth_and_node_limits(void **state)
{
    (void)state;
    size_t n = PL_YAML_MAX_DEPTH + 2;
    char *deep = malloc(2 * n + 2);
    for (size_t i = 0; i < n; i++)
        deep[i] = '[';
    for (size_t i = 0; i < n; i++)
        deep[n + i] = ']';
    deep[2 * n] = '\n';
    deep[2 * n + 1] = '\0';
    pl_diags_t d;
    pl_diags_init(&d);
    pl_ydoc_t doc;
    assert_int_equal(pl_ydoc_parse(&doc, "deep.yaml", deep, strlen(deep), &d), PL_EINVALID);
    assert_non_null(strstr(d.items[0].msg, "nesting deeper than 64"));
    pl_ydoc_cleanup(&doc);
    pl_diags_cleanup(&d);
    free(deep);

    size_t count = PL_YAML_MAX_NODES + 1;
    char *wide = malloc(2 * count + 4);
    char *p = wide;
    *p++ = '[';
    for (size_t i = 0; i < count; i++) {
        *p++ = '1';
        *p++ = ',';
    }
    p[-1] = ']';
    *p = '\0';
    pl_diags_init(&d);
    assert_int_equal(pl_ydoc_parse(&doc, "wide.yaml", wide, strlen(wide), &d), PL_EINVALID);
    assert_non_null(strstr(d.items[0].msg, "more than 100000 YAML nodes"));
    pl_ydoc_cleanup(&doc);
    pl_diags_cleanup(&d);
    free(wide);
}

static void yaml_reader_reports_bad_bytes_tabs_and_empty_files(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len;
        const char *msg;
        int line, col;
    } rows[] = {
        {"a: \xC3\x28\n", 6, "invalid UTF-8 (byte 0xC3 at byte offset 3)", 1, 4},
        {"a:\n\tb: 1\n", 9, "tab character in indentation", 2, 1},
        {"a: 1\0b", 6, "binary file", 0, 1},
        {"# only a comment\n", 17, "file is empty", 0, 1},
        {"", 0, "file is empty", 0, 1},
        {"a: [1, 2\n", 9, "YAML syntax", 2, 1},
        {"a: 1\n---\nb: 2\n", 14, "a second YAML document", 2, 1},
        {"a: 1\na: 2\n", 10, "duplicate key 'a' (first defined at line 1)", 2, 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        pl_diags_t d;
        pl_diags_init(&d);
        pl_ydoc_t doc;
        int rc = pl_ydoc_parse(&doc, "f.yaml", rows[i].text, rows[i].len, &d);
        if (rc != PL_EINVALID || d.n == 0 || strstr(d.items[0].msg, rows[i].msg) == NULL ||
            d.items[0].line != rows[i].line || d.items[0].col != rows[i].col) {
            print_error("row %zu: expected '%s' at %d:%d, got rc %d '%s' at %d:%d\n", i,
                        rows[i].msg, rows[i].line, rows[i].col, rc, d.n ? d.items[0].msg : "",
                        d.n ? d.items[0].line : 0, d.n ? d.items[0].col : 0);
            fail();
        }
        pl_ydoc_cleanup(&doc);
        pl_diags_cleanup(&d);
    }
}

static void loader_returns_enomem_without_leaking_on_any_failed_allocation(void **state)
{
    (void)state;
    const char *path = th_write("bot.yaml", good_bot);
    int saw_success = 0;
    for (long n = 0; n < 100000 && !saw_success; n++) {
        pl_diags_t d;
        pl_diags_init(&d);
        pl_bot_t *bot = NULL;
        pl_mem_fail_after(n);
        int rc = pl_bot_load(path, &d, &bot);
        pl_mem_fail_reset();
        if (rc == 0) {
            saw_success = 1;
            pl_bot_free(bot);
        } else {
            /* a failed allocation may surface as ENOMEM, or as an error it caused */
            assert_true(rc == PL_ENOMEM || rc == PL_EINVALID);
            assert_null(bot);
        }
        pl_diags_cleanup(&d);
    }
    assert_true(saw_success); /* LeakSanitizer (sanitizer build) checks nothing leaked */
}

/* ---- validator ---- */

static void validator_reports_unreachable_step_and_missing_way_out(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: en}\n"
                     "intents: {a: [hello]}\n"
                     "flows:\n"
                     "  f:\n"
                     "    trigger: a\n"
                     "    steps:\n"
                     "      - say: hi\n"
                     "        goto: last\n"
                     "      - say: never\n"
                     "      - id: last\n"
                     "        say: no way out\n",
                     &bot, &diag);
    assert_int_equal(rc, PL_EINVALID);
    th_assert_contains(diag, "9:9: error: step '#2' in flow 'f' can never run");
    th_assert_contains(diag, "      - say: never\n      |         ^~~\n");
    th_assert_contains(diag, "10:13: error: step 'last' is the last step of flow 'f' but has no "
                             "way out");
    free(diag);
}

static void validator_reports_loops_that_never_ask(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: en}\n"
                     "intents: {a: [hello]}\n"
                     "flows:\n"
                     "  f:\n"
                     "    trigger: a\n"
                     "    steps:\n"
                     "      - id: again\n"
                     "        say: hello\n"
                     "        flow: g\n"
                     "  g:\n"
                     "    steps:\n"
                     "      - flow: f\n",
                     &bot, &diag);
    assert_int_equal(rc, PL_EINVALID);
    th_assert_contains(diag, "steps loop without asking the customer anything");
    free(diag);
}

static void validator_warns_about_unused_intents(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    int rc = th_load("bot: {id: t, name: T, language: en}\n"
                     "intents: {a: [hello], b: [bye]}\n"
                     "flows:\n"
                     "  f: {trigger: a, steps: [{end: ok}]}\n",
                     &bot, &diag);
    assert_int_equal(rc, 0);
    th_assert_contains(diag, "2:23: warning: intent 'b' is not used");
    free(diag);
    pl_bot_free(bot);
}

/* ---- engine ---- */

typedef struct {
    pl_bot_t *bot;
    cJSON *state;
    pl_arena_t scratch;
    pl_actions_t out;
    int64_t now;
} conv_t;

static int setup_conv(void **state)
{
    conv_t *c = calloc(1, sizeof(*c));
    char *diag;
    if (th_load(good_bot, &c->bot, &diag) != 0) {
        print_error("%s", diag);
        free(diag);
        free(c);
        return -1;
    }
    free(diag);
    /* the disclosure has been made on every channel: these tests are about flows */
    c->state = cJSON_Parse("{\"disclosed\":{\"web\":true,\"app\":true,\"voice\":true}}");
    pl_arena_init(&c->scratch, 0);
    c->now = 1767225600000LL;
    *state = c;
    return 0;
}

static int teardown_conv(void **state)
{
    conv_t *c = *state;
    cJSON_Delete(c->state);
    pl_arena_cleanup(&c->scratch);
    pl_bot_free(c->bot);
    free(c);
    return 0;
}

/* Runs one turn with a given intent (or NULL) and entities. */
static void turn(conv_t *c, const char *text, const char *intent, pl_channel_t ch,
                 const pl_entity_match_t *ents, size_t nents)
{
    pl_arena_reset(&c->scratch);
    c->now += 1000;
    pl_input_t in = {.text = text,
                     .channel = ch,
                     .now_ms = c->now,
                     .intent = intent ? pl_bot_intent(c->bot, intent) : -1,
                     .confidence = intent ? 0.9 : 0.1,
                     .entities = ents,
                     .nentities = nents};
    assert_int_equal(pl_engine_turn(c->bot, c->state, &in, &c->scratch, &c->out), 0);
}

static const char *first_text(const conv_t *c, size_t i)
{
    assert_true(i < c->out.n);
    assert_non_null(c->out.items[i].text);
    return c->out.items[i].text->variants[0].alts[0];
}

static const char *state_str(const conv_t *c, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->state, key));
}

static pl_entity_match_t money(const pl_bot_t *bot, double v, const char *currency)
{
    return (pl_entity_match_t){
        .entity = pl_bot_entity(bot, "money"), .value = "x", .number = v, .currency = currency};
}

static void engine_asks_for_slots_and_takes_a_bare_number_as_money(void **state)
{
    conv_t *c = *state;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    assert_int_equal(c->out.n, 1);
    assert_string_equal(first_text(c, 0), "What is your budget?");
    assert_string_equal(state_str(c, "flow"), "buy");
    assert_string_equal(state_str(c, "step"), "#1");
    pl_entity_match_t m = money(c->bot, 800, NULL);
    turn(c, "800", NULL, PL_CHANNEL_WEB, &m, 1);
    assert_string_equal(first_text(c, 0), "Which kind?");
    const cJSON *budget =
        cJSON_GetObjectItem(cJSON_GetObjectItemCaseSensitive(c->state, "slots"), "budget");
    assert_true(cJSON_IsNumber(budget));
    assert_int_equal(budget->valueint, 800);
}

static void engine_fills_slots_from_the_first_message_and_skips_their_questions(void **state)
{
    conv_t *c = *state;
    pl_entity_match_t m[2] = {money(c->bot, 900, "EUR"),
                              {.entity = pl_bot_entity(c->bot, "kind"), .value = "mirrorless"}};
    turn(c, "a system camera for 900 euros", "buy", PL_CHANNEL_WEB, m, 2);
    /* budget and kind known: straight to the offer */
    assert_int_equal(c->out.n, 2);
    assert_int_equal(c->out.items[0].kind, PL_ACT_OFFER);
    assert_string_equal(c->out.items[0].offer, "kit");
    assert_string_equal(first_text(c, 1), "Bye {{profile.name|friend}}.");
    assert_null(state_str(c, "flow"));
}

static void engine_ignores_bare_numbers_for_money_slots_it_did_not_ask_for(void **state)
{
    conv_t *c = *state;
    pl_entity_match_t m = money(c->bot, 2, NULL);
    turn(c, "I want 2 cameras", "buy", PL_CHANNEL_WEB, &m, 1);
    assert_string_equal(first_text(c, 0), "What is your budget?");
}

static void engine_reprompts_then_follows_on_fail(void **state)
{
    conv_t *c = *state;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    turn(c, "hmm", NULL, PL_CHANNEL_WEB, NULL, 0);
    assert_string_equal(first_text(c, 0), "How much?");
    assert_false(c->out.understood);
    turn(c, "no idea", NULL, PL_CHANNEL_WEB, NULL, 0);
    /* attempts: 2 → on_fail: give_up, which moves on to the human flow */
    assert_int_equal(c->out.n, 2);
    assert_string_equal(first_text(c, 0), "No budget, no camera.");
    assert_int_equal(c->out.items[1].kind, PL_ACT_HANDOFF);
    assert_null(state_str(c, "flow"));
}

static void engine_leaves_a_question_when_another_flow_is_asked_for(void **state)
{
    conv_t *c = *state;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    turn(c, "let me talk to a person", "human", PL_CHANNEL_VOICE, NULL, 0);
    assert_int_equal(c->out.items[0].kind, PL_ACT_HANDOFF);
    assert_string_equal(c->out.items[0].text->variants[0].alts[0], "Connecting you.");
}

static void engine_branches_on_slot_values_and_channel(void **state)
{
    conv_t *c = *state;
    pl_entity_match_t cheap[2] = {money(c->bot, 300, "EUR"),
                                  {.entity = pl_bot_entity(c->bot, "kind"), .value = "dslr"}};
    turn(c, "reflex camera for 300 euros", "buy", PL_CHANNEL_WEB, cheap, 2);
    assert_string_equal(first_text(c, 0), "Too little for {{slot.kind}}.");
    cJSON_Delete(c->state);
    c->state = cJSON_Parse("{\"disclosed\":{\"voice\":true}}");
    pl_entity_match_t dslr[2] = {money(c->bot, 900, "EUR"),
                                 {.entity = pl_bot_entity(c->bot, "kind"), .value = "dslr"}};
    turn(c, "reflex camera for 900 euros", "buy", PL_CHANNEL_VOICE, dslr, 2);
    assert_string_equal(first_text(c, 0), "A DSLR, by voice.");
}

static void engine_escalates_after_repeated_misunderstandings(void **state)
{
    conv_t *c = *state;
    turn(c, "blah", NULL, PL_CHANNEL_WEB, NULL, 0);
    assert_string_equal(first_text(c, 0), "Sorry?");
    assert_false(c->out.understood);
    turn(c, "blah blah", NULL, PL_CHANNEL_WEB, NULL, 0);
    /* escalate_after: 2 → flow 'check', which asks for the code */
    assert_string_equal(first_text(c, 0), "Your code?");
    assert_string_equal(state_str(c, "flow"), "check");
}

static void engine_keeps_free_text_as_text_and_caps_it(void **state)
{
    conv_t *c = *state;
    turn(c, "x", NULL, PL_CHANNEL_WEB, NULL, 0);
    turn(c, "y", NULL, PL_CHANNEL_WEB, NULL, 0); /* now asking for the code */
    pl_entity_match_t code = {.entity = pl_bot_entity(c->bot, "code"), .value = "LU-123"};
    turn(c, "LU-123", NULL, PL_CHANNEL_WEB, &code, 1);
    assert_string_equal(first_text(c, 0), "Anything else?");
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "{{slot.code}}", 13);
    turn(c, big, NULL, PL_CHANNEL_WEB, NULL, 0);
    const cJSON *note =
        cJSON_GetObjectItem(cJSON_GetObjectItemCaseSensitive(c->state, "slots"), "note");
    assert_true(cJSON_IsString(note));
    assert_int_equal(strlen(note->valuestring), 500);
    assert_memory_equal(note->valuestring, "{{slot.code}}", 13); /* kept as typed */
}

static void engine_presents_an_offer_snapshot_again_until_it_expires_then_never(void **state)
{
    conv_t *c = *state;
    pl_entity_match_t m[2] = {money(c->bot, 900, "EUR"),
                              {.entity = pl_bot_entity(c->bot, "kind"), .value = "mirrorless"}};
    turn(c, "camera", "buy", PL_CHANNEL_WEB, m, 2);
    cJSON *offers = cJSON_GetObjectItemCaseSensitive(c->state, "offers");
    assert_int_equal(cJSON_GetArraySize(offers), 1);
    cJSON *snap = cJSON_GetArrayItem(offers, 0);
    double until = cJSON_GetObjectItem(snap, "valid_until")->valuedouble;
    assert_true(until == (double)(c->now + 7 * 86400000LL));
    /* someone changes the snapshot's price: the stored terms are what is presented again */
    cJSON_ReplaceItemInObject(snap, "price", cJSON_CreateNumber(450));
    c->now += 3 * 86400000LL;
    turn(c, "camera", "buy", PL_CHANNEL_APP, m, 2);
    offers = cJSON_GetObjectItemCaseSensitive(c->state, "offers");
    assert_int_equal(cJSON_GetArraySize(offers), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(offers, 0), "price")->valueint, 450);
    c->now += 5 * 86400000LL; /* past the 7 days: expired and closed, never made again */
    turn(c, "camera", "buy", PL_CHANNEL_APP, m, 2);
    for (size_t i = 0; i < c->out.n; i++)
        assert_int_not_equal(c->out.items[i].kind, PL_ACT_OFFER);
    offers = cJSON_GetObjectItemCaseSensitive(c->state, "offers");
    assert_int_equal(cJSON_GetArraySize(offers), 1);
    snap = cJSON_GetArrayItem(offers, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(snap, "status")), "expired");
    assert_true(cJSON_GetObjectItem(snap, "closed_at")->valuedouble == until);
    assert_int_equal(cJSON_GetObjectItem(snap, "price")->valueint, 450);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(snap, "channel")), "web");
}

/* Changes the position the web channel waits at, as a reloaded bot would find it. */
static void set_position(conv_t *c, const char *key, const char *value)
{
    cJSON *web = cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "cursors"), "web");
    assert_non_null(web);
    cJSON_ReplaceItemInObject(web, key, cJSON_CreateString(value));
    cJSON_ReplaceItemInObject(c->state, key, cJSON_CreateString(value));
}

static void engine_restarts_the_flow_when_its_step_vanished_after_a_reload(void **state)
{
    conv_t *c = *state;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    set_position(c, "step", "renamed_away");
    turn(c, "hello?", NULL, PL_CHANNEL_WEB, NULL, 0);
    assert_true(c->out.ntrace >= 1);
    assert_non_null(strstr(c->out.trace[0], "step 'renamed_away' no longer exists"));
    assert_string_equal(first_text(c, 0), "What is your budget?");
    set_position(c, "flow", "gone");
    turn(c, "hello?", NULL, PL_CHANNEL_WEB, NULL, 0);
    assert_non_null(strstr(c->out.trace[0], "flow 'gone' no longer exists"));
    assert_string_equal(first_text(c, 0), "Sorry?");
}

static void engine_lets_a_clear_request_escape_a_free_text_question(void **state)
{
    conv_t *c = *state;
    turn(c, "x", NULL, PL_CHANNEL_WEB, NULL, 0);
    turn(c, "y", NULL, PL_CHANNEL_WEB, NULL, 0);
    pl_entity_match_t code = {.entity = pl_bot_entity(c->bot, "code"), .value = "LU-123"};
    turn(c, "LU-123", NULL, PL_CHANNEL_WEB, &code, 1);
    assert_string_equal(first_text(c, 0), "Anything else?"); /* free text */
    turn(c, "let me talk to a person", "human", PL_CHANNEL_WEB, NULL, 0);
    assert_int_equal(c->out.items[0].kind, PL_ACT_HANDOFF);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "slots"), "note"));
}

static void engine_fills_one_slot_from_the_same_words(void **state)
{
    conv_t *c = *state;
    /* an amount and (artificially) a kind over the same words: only the asked budget fills */
    pl_entity_match_t m[2] = {money(c->bot, 300, "USD"),
                              {.entity = pl_bot_entity(c->bot, "kind"), .value = "dslr"}};
    m[0].start = 0, m[0].end = 11;
    m[1].start = 4, m[1].end = 11;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    turn(c, "300 dollars", NULL, PL_CHANNEL_WEB, m, 2);
    const cJSON *slots = cJSON_GetObjectItem(c->state, "slots");
    assert_int_equal(cJSON_GetObjectItem(slots, "budget")->valueint, 300);
    assert_null(cJSON_GetObjectItem(slots, "kind"));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(c->state, "slot_currency"), "budget")),
                        "USD");
    assert_string_equal(first_text(c, 0), "Which kind?");
}

static void engine_gives_plain_numbers_to_number_slots_last(void **state)
{
    (void)state;
    pl_bot_t *bot;
    char *diag;
    assert_int_equal(
        th_load("bot: {id: o, name: O, language: en}\n"
                "intents: {rent: [rent bikes]}\n"
                "entities: {money: {type: money}, count: {type: number}}\n"
                "slots:\n"
                "  bikes: {entity: count, prompt: How many?}\n"
                "  budget: {entity: money, prompt: Budget?}\n"
                "flows:\n"
                "  rent: {trigger: rent, steps: [{ask: bikes}, {ask: budget}, {end: ok}]}\n",
                &bot, &diag),
        0);
    free(diag);
    /* "rent bikes, 300 dollars, 2 bikes": the amount and the plain numbers it contains */
    int money = pl_bot_entity(bot, "money"), count = pl_bot_entity(bot, "count");
    pl_entity_match_t m[4] = {
        {.entity = money, .value = "300", .number = 300, .currency = "USD", .start = 12, .end = 23},
        {.entity = count, .value = "300", .number = 300, .start = 12, .end = 15},
        {.entity = money, .value = "2", .number = 2, .start = 25, .end = 26},
        {.entity = count, .value = "2", .number = 2, .start = 25, .end = 26},
    };
    cJSON *st = cJSON_CreateObject();
    pl_arena_t a;
    pl_arena_init(&a, 0);
    pl_actions_t out;
    pl_input_t in = {.text = "rent bikes, 300 dollars, 2 bikes",
                     .intent = 0,
                     .confidence = 1,
                     .entities = m,
                     .nentities = 4};
    assert_int_equal(pl_engine_turn(bot, st, &in, &a, &out), 0);
    const cJSON *slots = cJSON_GetObjectItem(st, "slots");
    assert_int_equal(cJSON_GetObjectItem(slots, "budget")->valueint, 300);
    assert_int_equal(cJSON_GetObjectItem(slots, "bikes")->valueint, 2);
    cJSON_Delete(st);
    pl_arena_cleanup(&a);
    pl_bot_free(bot);
}

static void engine_restarts_when_its_position_is_no_longer_a_question(void **state)
{
    conv_t *c = *state;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    set_position(c, "step", "cheap"); /* a 'say' now */
    turn(c, "hm", NULL, PL_CHANNEL_WEB, NULL, 0);
    assert_non_null(strstr(c->out.trace[0], "is no longer a question"));
    assert_string_equal(first_text(c, 0), "What is your budget?");
    /* a restart gives way to what the customer asks for */
    set_position(c, "step", "gone");
    turn(c, "a person please", "human", PL_CHANNEL_WEB, NULL, 0);
    assert_int_equal(c->out.items[0].kind, PL_ACT_HANDOFF);
}

static void engine_is_a_pure_function_of_state_and_input(void **state)
{
    conv_t *c = *state;
    cJSON *copy = cJSON_Duplicate(c->state, 1);
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    char *a = cJSON_PrintUnformatted(c->state);
    cJSON_Delete(c->state);
    c->state = copy;
    c->now -= 1000;
    turn(c, "I want a camera", "buy", PL_CHANNEL_WEB, NULL, 0);
    char *b = cJSON_PrintUnformatted(c->state);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void engine_evaluates_intent_conditions_on_this_message(void **state)
{
    conv_t *c = *state;
    turn(c, "?", NULL, PL_CHANNEL_WEB, NULL, 0);
    turn(c, "yes", "yes", PL_CHANNEL_WEB, NULL, 0);
    /* 'yes' starts no flow, so it is a misunderstanding → escalation into 'check',
     * whose first branch tests this message's intent */
    assert_string_equal(first_text(c, 0), "Done.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loader_loads_a_valid_bot),
        cmocka_unit_test(loader_reports_unknown_intent_with_position),
        cmocka_unit_test(loader_reports_every_problem_in_one_run),
        cmocka_unit_test(loader_reports_wrong_types_and_duplicates),
        cmocka_unit_test(loader_follows_includes_and_reports_cycles),
        cmocka_unit_test(yaml_reader_rejects_billion_laughs_quickly),
        cmocka_unit_test(yaml_reader_enforces_depth_and_node_limits),
        cmocka_unit_test(yaml_reader_reports_bad_bytes_tabs_and_empty_files),
        cmocka_unit_test(loader_returns_enomem_without_leaking_on_any_failed_allocation),
        cmocka_unit_test(validator_reports_unreachable_step_and_missing_way_out),
        cmocka_unit_test(validator_reports_loops_that_never_ask),
        cmocka_unit_test(validator_warns_about_unused_intents),
        cmocka_unit_test_setup_teardown(engine_asks_for_slots_and_takes_a_bare_number_as_money,
                                        setup_conv, teardown_conv),
        cmocka_unit_test_setup_teardown(
            engine_fills_slots_from_the_first_message_and_skips_their_questions, setup_conv,
            teardown_conv),
        cmocka_unit_test_setup_teardown(
            engine_ignores_bare_numbers_for_money_slots_it_did_not_ask_for, setup_conv,
            teardown_conv),
        cmocka_unit_test_setup_teardown(engine_reprompts_then_follows_on_fail, setup_conv,
                                        teardown_conv),
        cmocka_unit_test_setup_teardown(engine_leaves_a_question_when_another_flow_is_asked_for,
                                        setup_conv, teardown_conv),
        cmocka_unit_test_setup_teardown(engine_branches_on_slot_values_and_channel, setup_conv,
                                        teardown_conv),
        cmocka_unit_test_setup_teardown(engine_escalates_after_repeated_misunderstandings,
                                        setup_conv, teardown_conv),
        cmocka_unit_test_setup_teardown(engine_keeps_free_text_as_text_and_caps_it, setup_conv,
                                        teardown_conv),
        cmocka_unit_test_setup_teardown(engine_presents_an_offer_snapshot_again_until_it_expires_then_never,
                                        setup_conv, teardown_conv),
        cmocka_unit_test_setup_teardown(
            engine_restarts_the_flow_when_its_step_vanished_after_a_reload, setup_conv,
            teardown_conv),
        cmocka_unit_test_setup_teardown(engine_is_a_pure_function_of_state_and_input, setup_conv,
                                        teardown_conv),
        cmocka_unit_test_setup_teardown(engine_lets_a_clear_request_escape_a_free_text_question,
                                        setup_conv, teardown_conv),
        cmocka_unit_test_setup_teardown(engine_fills_one_slot_from_the_same_words, setup_conv,
                                        teardown_conv),
        cmocka_unit_test(engine_gives_plain_numbers_to_number_slots_last),
        cmocka_unit_test_setup_teardown(engine_restarts_when_its_position_is_no_longer_a_question,
                                        setup_conv, teardown_conv),
        cmocka_unit_test_setup_teardown(engine_evaluates_intent_conditions_on_this_message,
                                        setup_conv, teardown_conv),
    };
    return cmocka_run_group_tests_name("dialog", tests, NULL, NULL);
}
