/* `parley test`: runs conversation tests that content teams write in YAML (format in
 * dialogs/README.md, "Conversation tests") and reports each failed expectation at its line. */
#include "cli.h"
#include "base/duration.h"
#include "base/error.h"
#include "dialog/yaml_tree.h"
#include "runtime.h"

#include <getopt.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: parley test [--verbose] BOT.yaml TESTS.yaml...\n"
    "\n"
    "Runs the conversations in each TESTS file against the bot and checks every expectation.\n"
    "Prints each failure with its file:line, then 'N passed, N failed' (one per conversation).\n"
    "\n"
    "  -v, --verbose  print every turn of every conversation\n"
    "  -h, --help     show this help\n"
    "\n"
    "Exit status: 0 all passed, 1 a conversation failed, 2 wrong usage or a broken file.\n";

/* Conversations start at a fixed time so that dates in replies are reproducible. */
#define TEST_EPOCH_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static const char *const conv_keys[] = {"name", "channel", "turns"};
static const char *const turn_keys[] = {
    "user",          "channel", "wait", "reply",       "reply_contains", "reply_not_contains",
    "reply_matches", "intent",  "flow", "step",        "slots",          "offer",
    "handoff",       "persona", "tone", "capabilities"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const pl_runtime_t *rt;
    pl_diags_t *d; /* problems with the test file itself */
    int verbose;
    int failures; /* of the current conversation */
    const char *conv;
} run_t;

static int check_keys(run_t *r, const pl_ynode_t *map, const char *const *keys, size_t n,
                      const char *what)
{
    int ok = 1;
    for (size_t i = 0; i < map->n; i++) {
        const pl_ynode_t *k = map->kids[2 * i];
        size_t j;
        for (j = 0; j < n; j++)
            if (k->kind == PL_Y_SCALAR && strcmp(k->str, keys[j]) == 0)
                break;
        if (j < n)
            continue;
        const char *guess = k->kind == PL_Y_SCALAR ? pl_did_you_mean(k->str, keys, n) : NULL;
        pl_diag(r->d, PL_DIAG_ERROR, k->file, k->line, k->col, k->len,
                "unknown key '%s' in %s%s%s%s", k->kind == PL_Y_SCALAR ? k->str : "?", what,
                guess ? " (did you mean '" : "", guess ? guess : "", guess ? "'?)" : "");
        ok = 0;
    }
    return ok;
}

static int bad(run_t *r, const pl_ynode_t *n, const char *msg)
{
    pl_diag(r->d, PL_DIAG_ERROR, n->file, n->line, n->col, n->len, "%s", msg);
    return 0;
}

/* Prints one failed expectation at the position of the expectation in the test file. */
static void fail(run_t *r, const pl_ynode_t *at, int turn, const char *user, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(run_t *r, const pl_ynode_t *at, int turn, const char *user, const char *fmt, ...)
{
    if (r->failures++ == 0)
        printf("FAIL %s\n", r->conv);
    printf("  %s:%d:%d: turn %d (\"%s\"): ", at->file, at->line, at->col, turn, user);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* The conversation's messages; the capabilities banner of web and app is checked apart. */
static void joined_reply(const pl_turn_t *t, pl_strbuf_t *out)
{
    for (size_t i = 0; i < t->reply.n; i++) {
        if (t->reply.items[i].kind == PL_MSG_CAPABILITIES)
            continue;
        if (out->len > 0)
            pl_strbuf_putc(out, '\n');
        pl_strbuf_puts(out, t->reply.items[i].text);
    }
}

static int is_none(const pl_ynode_t *n)
{
    return pl_ynode_is_null(n) || (n->kind == PL_Y_SCALAR && strcmp(n->str, "none") == 0);
}

static void expect_text_list(run_t *r, const pl_ynode_t *n, int turn, const char *user,
                             const char *reply, int want)
{
    const pl_ynode_t *one[1] = {n};
    const pl_ynode_t *const *items = one;
    size_t count = 1;
    if (n->kind == PL_Y_SEQ) {
        items = (const pl_ynode_t *const *)n->kids;
        count = n->n;
    }
    for (size_t i = 0; i < count; i++) {
        const pl_ynode_t *it = items[i];
        if (it->kind != PL_Y_SCALAR)
            continue;
        int has = strstr(reply, it->str) != NULL;
        if (has != want)
            fail(r, it, turn, user, "expected the reply %s \"%s\"\n      got: \"%s\"",
                 want ? "to contain" : "not to contain", it->str, reply);
    }
}

static void expect_slots(run_t *r, const pl_ynode_t *n, int turn, const char *user,
                         const cJSON *state)
{
    const cJSON *slots = cJSON_GetObjectItemCaseSensitive(state, "slots");
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(slots, k->str);
        char buf[64];
        const char *gs = NULL;
        if (cJSON_IsString(got))
            gs = got->valuestring;
        else if (cJSON_IsNumber(got)) {
            snprintf(buf, sizeof(buf), "%g", got->valuedouble);
            gs = buf;
        }
        if (is_none(v)) {
            if (gs != NULL)
                fail(r, v, turn, user, "expected slot '%s' to be empty, got \"%s\"", k->str, gs);
            continue;
        }
        int ok = gs != NULL && strcmp(gs, v->str) == 0;
        if (!ok && cJSON_IsNumber(got)) {
            char *end;
            double want = strtod(v->str, &end);
            ok = end != v->str && *end == '\0' && fabs(want - got->valuedouble) < 1e-9;
        }
        if (!ok)
            fail(r, v, turn, user, "expected slot '%s' = \"%s\", got %s%s%s", k->str, v->str,
                 gs ? "\"" : "nothing", gs ? gs : "", gs ? "\"" : "");
    }
}

static void expect_name(run_t *r, const pl_ynode_t *n, int turn, const char *user, const char *what,
                        const char *got)
{
    if (is_none(n)) {
        if (got != NULL)
            fail(r, n, turn, user, "expected no %s, got '%s'", what, got);
    } else if (got == NULL || strcmp(got, n->str) != 0) {
        fail(r, n, turn, user, "expected %s '%s', got %s%s%s", what, n->str, got ? "'" : "none",
             got ? got : "", got ? "'" : "");
    }
}

/* Checks the expectations of one turn against what happened. */
static void check_turn(run_t *r, const pl_ynode_t *tn, int turn, const char *user,
                       const pl_turn_t *t, const cJSON *state)
{
    const pl_bot_t *bot = pl_runtime_bot(r->rt);
    pl_strbuf_t reply;
    pl_strbuf_init(&reply, 0);
    joined_reply(t, &reply);
    const char *text = pl_strbuf_str(&reply);
    const pl_ynode_t *n;
    if ((n = pl_ymap_get(tn, "reply")) != NULL && n->kind == PL_Y_SCALAR &&
        strcmp(text, n->str) != 0)
        fail(r, n, turn, user, "expected the reply \"%s\"\n      got: \"%s\"", n->str, text);
    if ((n = pl_ymap_get(tn, "reply_contains")) != NULL)
        expect_text_list(r, n, turn, user, text, 1);
    if ((n = pl_ymap_get(tn, "reply_not_contains")) != NULL)
        expect_text_list(r, n, turn, user, text, 0);
    if ((n = pl_ymap_get(tn, "reply_matches")) != NULL && n->kind == PL_Y_SCALAR) {
        regex_t re;
        if (regcomp(&re, n->str, REG_EXTENDED | REG_NOSUB) == 0) {
            if (regexec(&re, text, 0, NULL, 0) != 0)
                fail(r, n, turn, user, "expected the reply to match /%s/\n      got: \"%s\"",
                     n->str, text);
            regfree(&re);
        }
    }
    if ((n = pl_ymap_get(tn, "intent")) != NULL)
        expect_name(r, n, turn, user, "intent",
                    t->nlu.intent >= 0 ? bot->intents[t->nlu.intent].id : NULL);
    if ((n = pl_ymap_get(tn, "flow")) != NULL)
        expect_name(r, n, turn, user, "flow",
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state, "flow")));
    if ((n = pl_ymap_get(tn, "step")) != NULL)
        expect_name(r, n, turn, user, "step",
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state, "step")));
    if ((n = pl_ymap_get(tn, "slots")) != NULL && n->kind == PL_Y_MAP)
        expect_slots(r, n, turn, user, state);
    if ((n = pl_ymap_get(tn, "capabilities")) != NULL) {
        int want = 0, found = 0;
        pl_ynode_bool(n, &want);
        for (size_t i = 0; i < t->actions.n; i++)
            found |= t->actions.items[i].kind == PL_ACT_CAPABILITIES;
        if (found != want)
            fail(r, n, turn, user,
                 want ? "expected the disclosure and capabilities of the channel"
                      : "expected no capabilities message");
    }
    if ((n = pl_ymap_get(tn, "persona")) != NULL)
        expect_name(r, n, turn, user, "persona", pl_state_persona(state));
    if ((n = pl_ymap_get(tn, "tone")) != NULL)
        expect_name(r, n, turn, user, "tone", t->persona.tone);
    if ((n = pl_ymap_get(tn, "offer")) != NULL && n->kind == PL_Y_SCALAR) {
        int found = 0;
        for (size_t i = 0; i < t->reply.n; i++)
            found |= t->reply.items[i].kind == PL_MSG_OFFER &&
                     strcmp(t->reply.items[i].offer_id, n->str) == 0;
        if (!found)
            fail(r, n, turn, user, "expected offer '%s' in the reply", n->str);
    }
    if ((n = pl_ymap_get(tn, "handoff")) != NULL && n->kind == PL_Y_SCALAR) {
        int want = 0, found = 0;
        pl_ynode_bool(n, &want);
        for (size_t i = 0; i < t->reply.n; i++)
            found |= t->reply.items[i].kind == PL_MSG_HANDOFF;
        if (found != want)
            fail(r, n, turn, user,
                 want ? "expected a handoff to a person"
                      : "expected no handoff, but the bot handed off");
    }
    pl_strbuf_cleanup(&reply);
}

/* Checks the shape of one turn before running anything, so a broken file fails clearly. */
static int valid_turn(run_t *r, const pl_ynode_t *tn)
{
    if (tn->kind != PL_Y_MAP)
        return bad(r, tn, "a turn must be a mapping with at least 'user: TEXT'");
    int ok = check_keys(r, tn, turn_keys, COUNT(turn_keys), "a turn");
    const pl_ynode_t *n = pl_ymap_get(tn, "user");
    if (n == NULL || n->kind != PL_Y_SCALAR)
        ok = bad(r, n ? n : tn, "a turn needs 'user: TEXT', what the customer says");
    pl_channel_t ch;
    if ((n = pl_ymap_get(tn, "channel")) != NULL &&
        (n->kind != PL_Y_SCALAR || pl_channel_parse(n->str, &ch) != 0))
        ok = bad(r, n, "'channel' must be web, app or voice");
    int64_t ms;
    if ((n = pl_ymap_get(tn, "wait")) != NULL &&
        (n->kind != PL_Y_SCALAR || pl_parse_duration(n->str, &ms) != 0))
        ok = bad(r, n, "'wait' must be a duration such as +30d, 2h, 15m or 10s");
    if ((n = pl_ymap_get(tn, "reply_matches")) != NULL) {
        regex_t re;
        if (n->kind != PL_Y_SCALAR || regcomp(&re, n->str, REG_EXTENDED | REG_NOSUB) != 0)
            ok = bad(r, n, "'reply_matches' must be a valid regular expression");
        else
            regfree(&re);
    }
    if ((n = pl_ymap_get(tn, "slots")) != NULL && n->kind != PL_Y_MAP)
        ok = bad(r, n, "'slots' must be a mapping of slot names to expected values");
    static const char *const texts[] = {"reply", "intent",  "flow",    "step",
                                        "offer", "handoff", "persona", "tone"};
    for (size_t i = 0; i < COUNT(texts); i++)
        if ((n = pl_ymap_get(tn, texts[i])) != NULL && n->kind != PL_Y_SCALAR)
            ok = bad(r, n, "this expectation must be a single text");
    int yes;
    if ((n = pl_ymap_get(tn, "handoff")) != NULL && !pl_ynode_bool(n, &yes))
        ok = bad(r, n, "'handoff' must be true or false");
    if ((n = pl_ymap_get(tn, "capabilities")) != NULL && !pl_ynode_bool(n, &yes))
        ok = bad(r, n, "'capabilities' must be true or false");
    return ok;
}

/* Runs one conversation; returns 1 when it passed. */
static int run_conversation(run_t *r, const pl_ynode_t *cn, pl_arena_t *scratch)
{
    const pl_ynode_t *name = pl_ymap_get(cn, "name"), *turns = pl_ymap_get(cn, "turns");
    r->conv = name && name->kind == PL_Y_SCALAR ? name->str : "(unnamed)";
    r->failures = 0;
    pl_channel_t channel = PL_CHANNEL_WEB;
    const pl_ynode_t *ch = pl_ymap_get(cn, "channel");
    if (ch != NULL)
        pl_channel_parse(ch->str, &channel);
    cJSON *state = cJSON_CreateObject();
    if (state == NULL || !cJSON_AddStringToObject(state, "id", r->conv)) {
        cJSON_Delete(state);
        return 0;
    }
    int64_t now = TEST_EPOCH_MS;
    for (size_t i = 0; i < turns->n; i++) {
        const pl_ynode_t *tn = turns->kids[i], *n;
        const char *user = pl_ymap_get(tn, "user")->str;
        if ((n = pl_ymap_get(tn, "channel")) != NULL)
            pl_channel_parse(n->str, &channel);
        int64_t ms;
        if ((n = pl_ymap_get(tn, "wait")) != NULL && pl_parse_duration(n->str, &ms) == 0)
            now += ms;
        now += 1000; /* a second passes between messages */
        pl_arena_reset(scratch);
        pl_event_t ev = {.text = user, .len = strlen(user), .channel = channel, .now_ms = now};
        pl_turn_t t;
        int rc = pl_runtime_turn(r->rt, &state, &ev, scratch, &t);
        if (rc != 0) {
            fail(r, tn, (int)i + 1, user, "the turn failed: %s", pl_strerror(rc));
            continue;
        }
        if (r->verbose) {
            printf("  [%s] you> %s\n", pl_channel_name(channel), user);
            for (size_t m = 0; m < t.reply.n; m++)
                printf("  [%s] bot> %s\n", pl_channel_name(channel), t.reply.items[m].text);
        }
        check_turn(r, tn, (int)i + 1, user, &t, state);
    }
    cJSON_Delete(state);
    if (r->failures == 0)
        printf("PASS %s\n", r->conv);
    return r->failures == 0;
}

/* Loads a test file and checks its shape; returns its conversations or NULL. */
static const pl_ynode_t *load_tests(run_t *r, pl_ydoc_t *doc, const char *path)
{
    if (pl_ydoc_load(doc, path, r->d) != 0)
        return NULL;
    const pl_ynode_t *root = doc->root, *convs;
    if (root->kind != PL_Y_MAP || (convs = pl_ymap_get(root, "conversations")) == NULL ||
        convs->kind != PL_Y_SEQ) {
        bad(r, root, "a test file is a mapping with 'conversations:', a list of conversations");
        return NULL;
    }
    static const char *const top[] = {"conversations"};
    int ok = check_keys(r, root, top, 1, "a test file");
    for (size_t i = 0; i < convs->n; i++) {
        const pl_ynode_t *cn = convs->kids[i], *n;
        if (cn->kind != PL_Y_MAP) {
            ok = bad(r, cn, "a conversation must be a mapping with 'name' and 'turns'");
            continue;
        }
        ok &= check_keys(r, cn, conv_keys, COUNT(conv_keys), "a conversation");
        if ((n = pl_ymap_get(cn, "name")) == NULL || n->kind != PL_Y_SCALAR)
            ok = bad(r, n ? n : cn, "a conversation needs 'name: TEXT'");
        pl_channel_t ch;
        if ((n = pl_ymap_get(cn, "channel")) != NULL &&
            (n->kind != PL_Y_SCALAR || pl_channel_parse(n->str, &ch) != 0))
            ok = bad(r, n, "'channel' must be web, app or voice");
        if ((n = pl_ymap_get(cn, "turns")) == NULL || n->kind != PL_Y_SEQ || n->n == 0) {
            ok = bad(r, n ? n : cn, "a conversation needs 'turns:', a non-empty list");
            continue;
        }
        for (size_t j = 0; j < n->n; j++)
            ok &= valid_turn(r, n->kids[j]);
    }
    return ok ? convs : NULL;
}

int pl_cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    int verbose = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        if (c == 'v')
            verbose = 1;
        else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else
            return pl_cli_usage_error("test", "unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind < 2)
        return pl_cli_usage_error("test", "give a bot file and at least one test file");
    pl_runtime_t *rt = pl_cli_load_runtime("test", argv[optind], stdout);
    if (rt == NULL)
        return PL_EXIT_USAGE;
    pl_diags_t d;
    pl_arena_t scratch;
    pl_arena_init(&scratch, 64 * 1024);
    int passed = 0, failed = 0, broken = 0;
    for (int i = optind + 1; i < argc; i++) {
        pl_diags_init(&d);
        run_t r = {.rt = rt, .d = &d, .verbose = verbose};
        pl_ydoc_t doc;
        const pl_ynode_t *convs = load_tests(&r, &doc, argv[i]);
        if (convs == NULL) {
            pl_diags_sort(&d);
            pl_diags_print(&d, stdout);
            broken++;
        }
        for (size_t j = 0; convs != NULL && j < convs->n; j++) {
            if (run_conversation(&r, convs->kids[j], &scratch))
                passed++;
            else
                failed++;
        }
        pl_ydoc_cleanup(&doc);
        pl_diags_cleanup(&d);
    }
    pl_arena_cleanup(&scratch);
    pl_runtime_unref(rt);
    printf("%d passed, %d failed\n", passed, failed);
    if (broken)
        return PL_EXIT_USAGE;
    return failed ? PL_EXIT_FAIL : 0;
}
