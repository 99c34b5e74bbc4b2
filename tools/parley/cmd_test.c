/* `parley test`: runs conversation tests that content teams write in YAML (format in
 * dialogs/README.md, "Conversation tests") through the store-backed session pipeline, as the
 * channels do, and reports each failed expectation at its line (checks in test_expect.c). */
#include "cli.h"
#include "test_expect.h"
#include "base/duration.h"
#include "base/error.h"
#include "base/mem.h"
#include "session/session.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: parley test [--verbose] BOT.yaml TESTS.yaml...\n"
    "\n"
    "Runs the conversations in each TESTS file against the bot and checks every expectation.\n"
    "Prints each failure with its file:line, then 'N passed, N failed' (one per conversation).\n"
    "\n"
    "Every conversation runs on a fresh store of its own: 'store: memory' (the default) or\n"
    "'store: sqlite' (a temporary SQLite file, removed afterwards). Besides 'user', a turn can\n"
    "'accept' or 'decline' an offer card, switch 'channel' (same customer), 'wait' (move the\n"
    "clock) and 'restart' (load the bot and open the store again; needs 'store: sqlite').\n"
    "The format: dialogs/README.md, section 7 \"Conversation tests\".\n"
    "\n"
    "  -v, --verbose  print every turn of every conversation\n"
    "  -h, --help     show this help\n"
    "\n"
    "Exit status: 0 all passed, 1 a conversation failed, 2 wrong usage or a broken file.\n";

/* Conversations start at a fixed time so that dates in replies are reproducible. */
#define TEST_EPOCH_MS 1767225600000LL /* 2026-01-01T00:00:00Z */
#define PATH_BYTES 1024

static const char *const conv_keys[] = {"name", "channel", "store", "turns"};
static const char *const turn_keys[] = {
    "user",          "accept",      "decline",    "channel",        "wait",
    "restart",       "reply",       "intent",     "reply_contains", "reply_not_contains",
    "reply_matches", "flow",        "step",       "slots",          "offer",
    "offers",        "offer_terms", "handoff",    "persona",        "tone",
    "capabilities",  "consent",     "suppressed", "new_customer"};
/* The SQLite store's file and what SQLite puts next to it. */
static const char *const db_files[] = {"state.db", "state.db-wal", "state.db-shm",
                                       "state.db-journal"};

typedef struct {
    pl_test_run_t t;
    pl_runtime_t *rt; /* NULL after a restart that could not load the bot again */
    const char *bot_path;
    int verbose;
    pl_arena_t *scratch;
} run_t;

/* One conversation: its own store, the customer, the channel and the clock. */
typedef struct {
    char dir[PATH_BYTES];       /* the temporary directory of an SQLite store, or "" */
    char spec[PATH_BYTES + 32]; /* "memory" or "sqlite:DIR/state.db" */
    pl_store_t *store;
    char customer[PL_STORE_MAX_KEY + 1]; /* "" before the first turn and after "forget me" */
    char previous[PL_STORE_MAX_KEY + 1]; /* the customer of the turn before */
    pl_channel_t channel;
    int64_t now;
} conv_t;

/* ---- the runtime and the store ---- */

static int load_runtime(run_t *r, const pl_ynode_t *at)
{
    pl_diags_t d;
    pl_diags_init(&d);
    int rc = pl_runtime_load(r->bot_path, &d, &r->rt);
    pl_diags_cleanup(&d);
    if (rc != 0)
        pl_test_fail(&r->t, at, NULL, "cannot load the bot %s again: %s (%s)", r->bot_path,
                     pl_strerror(rc), pl_err_name(rc));
    return rc == 0 ? 0 : -1;
}

/* Makes a fresh temporary directory for the conversation's SQLite file. */
static int make_sqlite_spec(run_t *r, conv_t *c, const pl_ynode_t *at)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    int n = snprintf(c->dir, sizeof(c->dir), "%s/parley-conv-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof(c->dir) || mkdtemp(c->dir) == NULL) {
        pl_test_fail(&r->t, at, NULL, "cannot make a temporary directory for the store in %s: %s",
                     tmp, n < 0 || (size_t)n >= sizeof(c->dir) ? "path too long" : strerror(errno));
        c->dir[0] = '\0';
        return -1;
    }
    snprintf(c->spec, sizeof(c->spec), "sqlite:%s/%s", c->dir, db_files[0]);
    return 0;
}

static int open_store(run_t *r, conv_t *c, const pl_ynode_t *at)
{
    char err[512] = "";
    int rc = pl_store_open(c->spec, &c->store, err, sizeof(err));
    if (rc != 0) {
        c->store = NULL;
        pl_test_fail(&r->t, at, NULL, "cannot open the store %s: %s (%s)", c->spec,
                     err[0] ? err : pl_strerror(rc), pl_err_name(rc));
    }
    return rc == 0 ? 0 : -1;
}

/* Closes the store and removes an SQLite store's files and directory. */
static void remove_store(conv_t *c)
{
    pl_store_close(c->store);
    c->store = NULL;
    if (c->dir[0] == '\0')
        return;
    char path[PATH_BYTES + 32];
    for (size_t i = 0; i < PL_TEST_COUNT(db_files); i++) {
        snprintf(path, sizeof(path), "%s/%s", c->dir, db_files[i]);
        unlink(path);
    }
    rmdir(c->dir);
    c->dir[0] = '\0';
}

/* Stops everything as a process restart would, and starts again on the same store file:
 * what the conversation knows must come back from the store. */
static int restart(run_t *r, conv_t *c, const pl_ynode_t *at)
{
    pl_store_close(c->store);
    c->store = NULL;
    pl_runtime_unref(r->rt);
    r->rt = NULL;
    if (r->verbose)
        printf("  (restart: the bot and the store are opened again)\n");
    if (load_runtime(r, at) != 0)
        return -1;
    return open_store(r, c, at);
}

/* ---- the customer ---- */

/* A new customer linked to the channel user, whose stored state starts as {"id": NAME}: a
 * document left in a store says which conversation made it. (Which alternative text a turn
 * gets depends on the turn number alone.) */
static int create_customer(run_t *r, conv_t *c, const char *user)
{
    char id[33];
    int rc = pl_random_id(id);
    cJSON *state = rc == 0 ? cJSON_CreateObject() : NULL;
    char *doc = NULL;
    if (rc == 0 && (state == NULL || !cJSON_AddStringToObject(state, "id", r->t.conv) ||
                    (doc = cJSON_PrintUnformatted(state)) == NULL))
        rc = PL_ENOMEM;
    int64_t version;
    if (rc == 0)
        rc = pl_store_save(c->store, id, doc, 0, &version);
    if (rc == 0)
        rc = pl_store_link(c->store, pl_channel_name(c->channel), user, id);
    if (rc == 0)
        memcpy(c->customer, id, sizeof(id));
    cJSON_free(doc);
    cJSON_Delete(state);
    return rc;
}

/* Makes the channel user the conversation's customer on the current channel: a new customer
 * on the first turn (and after "forget me"), otherwise a link for a channel not used yet. */
static int link_user(run_t *r, conv_t *c, const char *user)
{
    if (c->customer[0] == '\0')
        return create_customer(r, c, user);
    char *found = NULL;
    int rc = pl_store_resolve(c->store, pl_channel_name(c->channel), user, &found);
    pl_free(found);
    if (rc == PL_ENOTFOUND)
        rc = pl_store_link(c->store, pl_channel_name(c->channel), user, c->customer);
    return rc;
}

/* ---- turns ---- */

/* The event of a turn: a message, or accept/decline on an offer card. */
static pl_event_t event_of(const pl_ynode_t *tn, const conv_t *c, pl_test_turn_t *t)
{
    pl_event_t ev = {.kind = PL_EVENT_MESSAGE, .text = "", .channel = c->channel, .now_ms = c->now};
    const pl_ynode_t *n;
    if ((n = pl_ymap_get(tn, "accept")) != NULL) {
        ev.kind = PL_EVENT_ACCEPT_OFFER;
        t->action = "accept";
        ev.offer = n->str;
    } else if ((n = pl_ymap_get(tn, "decline")) != NULL) {
        ev.kind = PL_EVENT_DECLINE_OFFER;
        t->action = "decline";
        ev.offer = n->str;
    } else {
        n = pl_ymap_get(tn, "user");
        ev.text = n->str;
        ev.len = strlen(n->str);
    }
    t->text = n->str;
    return ev;
}

static void print_turn(const conv_t *c, const pl_test_turn_t *t, int erased)
{
    const char *ch = pl_channel_name(c->channel);
    if (t->action != NULL)
        printf("  [%s] you> [%s %s]\n", ch, t->action, t->text);
    else
        printf("  [%s] you> %s\n", ch, t->text);
    for (size_t m = 0; m < t->turn->reply.n; m++)
        printf("  [%s] bot> %s\n", ch, t->turn->reply.items[m].text);
    if (erased)
        printf("  (the customer was erased)\n");
}

/* Runs one turn and checks it; returns 0, or -1 when the conversation cannot go on. */
static int run_turn(run_t *r, conv_t *c, const pl_ynode_t *tn, int number)
{
    const pl_ynode_t *n;
    int yes;
    if ((n = pl_ymap_get(tn, "restart")) != NULL && pl_ynode_bool(n, &yes) && yes &&
        restart(r, c, n) != 0)
        return -1;
    if ((n = pl_ymap_get(tn, "channel")) != NULL)
        pl_channel_parse(n->str, &c->channel);
    int64_t ms;
    if ((n = pl_ymap_get(tn, "wait")) != NULL && pl_parse_duration(n->str, &ms) == 0)
        c->now += ms;
    c->now += 1000; /* a second passes between messages */
    pl_test_turn_t t = {.number = number, .bot = pl_runtime_bot(r->rt)};
    pl_event_t ev = event_of(tn, c, &t);
    char user[32];
    snprintf(user, sizeof(user), "test-%s", pl_channel_name(c->channel));
    pl_turn_t turn;
    pl_session_result_t res;
    int rc = link_user(r, c, user);
    if (rc == 0)
        rc = pl_session_turn(r->rt, c->store, user, &ev, r->scratch, &turn, &res);
    if (rc != 0) {
        pl_test_fail(&r->t, tn, &t, "the turn failed: %s (%s)", pl_strerror(rc), pl_err_name(rc));
        return rc == PL_EINVAL || rc == PL_ELIMIT ? 0 : -1; /* a bad message: go on */
    }
    t.turn = &turn;
    t.state = res.state;
    t.new_customer = strcmp(res.customer, c->previous) != 0;
    memcpy(c->previous, res.customer, sizeof(c->previous));
    if (res.erased) /* the customer and their links are gone: the next turn makes a new one */
        c->customer[0] = '\0';
    else
        memcpy(c->customer, res.customer, sizeof(c->customer));
    if (r->verbose)
        print_turn(c, &t, res.erased);
    pl_test_check_turn(&r->t, tn, &t);
    cJSON_Delete(res.state);
    return 0;
}

/* Runs one conversation on a fresh store; returns 1 when it passed. */
static int run_conversation(run_t *r, const pl_ynode_t *cn)
{
    const pl_ynode_t *name = pl_ymap_get(cn, "name"), *turns = pl_ymap_get(cn, "turns");
    const pl_ynode_t *store = pl_ymap_get(cn, "store"), *n;
    r->t.conv = name && name->kind == PL_Y_SCALAR ? name->str : "(unnamed)";
    r->t.failures = 0;
    conv_t c = {.spec = "memory", .channel = PL_CHANNEL_WEB, .now = TEST_EPOCH_MS};
    if ((n = pl_ymap_get(cn, "channel")) != NULL)
        pl_channel_parse(n->str, &c.channel);
    int ok = r->rt != NULL || load_runtime(r, cn) == 0;
    if (ok && store != NULL && strcmp(store->str, "sqlite") == 0)
        ok = make_sqlite_spec(r, &c, store) == 0;
    if (ok)
        ok = open_store(r, &c, store ? store : cn) == 0;
    for (size_t i = 0; ok && i < turns->n; i++)
        ok = run_turn(r, &c, turns->kids[i], (int)i + 1) == 0;
    remove_store(&c);
    if (r->t.failures == 0)
        printf("PASS %s\n", r->t.conv);
    return r->t.failures == 0;
}

/* ---- the shape of a test file ---- */

/* A turn does exactly one thing: says something, or accepts or declines an offer. */
static int valid_event(pl_test_run_t *t, const pl_ynode_t *tn)
{
    static const char *const kinds[] = {"user", "accept", "decline"};
    const pl_ynode_t *first = NULL;
    int ok = 1;
    for (size_t i = 0; i < PL_TEST_COUNT(kinds); i++) {
        const pl_ynode_t *n = pl_ymap_get(tn, kinds[i]);
        if (n == NULL)
            continue;
        if (first != NULL)
            ok = pl_test_bad(t, pl_ymap_key(tn, kinds[i]),
                             "a turn has one of 'user', 'accept' or 'decline', not several");
        else if (n->kind != PL_Y_SCALAR || (i > 0 && n->slen == 0))
            ok = pl_test_bad(t, n,
                             i == 0 ? "'user' must be a text, what the customer says"
                                    : "'accept' and 'decline' need the id of an offer");
        first = n;
    }
    if (first == NULL)
        ok = pl_test_bad(t, tn,
                         "a turn needs 'user: TEXT', what the customer says (or "
                         "'accept: OFFER' or 'decline: OFFER')");
    return ok;
}

/* Checks the shape of one turn before running anything, so a broken file fails clearly. */
static int valid_turn(pl_test_run_t *t, const pl_ynode_t *tn, int sqlite)
{
    if (tn->kind != PL_Y_MAP)
        return pl_test_bad(t, tn, "a turn must be a mapping with at least 'user: TEXT'");
    int ok = pl_test_check_keys(t, tn, turn_keys, PL_TEST_COUNT(turn_keys), "a turn");
    ok &= valid_event(t, tn);
    const pl_ynode_t *n;
    pl_channel_t ch;
    if ((n = pl_ymap_get(tn, "channel")) != NULL &&
        (n->kind != PL_Y_SCALAR || pl_channel_parse(n->str, &ch) != 0))
        ok = pl_test_bad(t, n, "'channel' must be web, app or voice");
    int64_t ms;
    if ((n = pl_ymap_get(tn, "wait")) != NULL &&
        (n->kind != PL_Y_SCALAR || pl_parse_duration(n->str, &ms) != 0))
        ok = pl_test_bad(t, n, "'wait' must be a duration such as +30d, 2h, 15m or 10s");
    int yes = 0;
    if ((n = pl_ymap_get(tn, "restart")) != NULL && !pl_ynode_bool(n, &yes))
        ok = pl_test_bad(t, n, "'restart' must be true or false");
    else if (n != NULL && yes && !sqlite)
        ok = pl_test_bad(t, pl_ymap_key(tn, "restart"),
                         "'restart' needs 'store: sqlite' in this conversation");
    return pl_test_valid_expectations(t, tn) && ok;
}

/* Checks the shape of one conversation and its turns. */
static int valid_conversation(pl_test_run_t *t, const pl_ynode_t *cn)
{
    const pl_ynode_t *n;
    if (cn->kind != PL_Y_MAP)
        return pl_test_bad(t, cn, "a conversation must be a mapping with 'name' and 'turns'");
    int ok = pl_test_check_keys(t, cn, conv_keys, PL_TEST_COUNT(conv_keys), "a conversation");
    if ((n = pl_ymap_get(cn, "name")) == NULL || n->kind != PL_Y_SCALAR)
        ok = pl_test_bad(t, n ? n : cn, "a conversation needs 'name: TEXT'");
    pl_channel_t ch;
    if ((n = pl_ymap_get(cn, "channel")) != NULL &&
        (n->kind != PL_Y_SCALAR || pl_channel_parse(n->str, &ch) != 0))
        ok = pl_test_bad(t, n, "'channel' must be web, app or voice");
    int sqlite = 0;
    if ((n = pl_ymap_get(cn, "store")) != NULL) {
        sqlite = n->kind == PL_Y_SCALAR && strcmp(n->str, "sqlite") == 0;
        if (!sqlite && (n->kind != PL_Y_SCALAR || strcmp(n->str, "memory") != 0))
            ok = pl_test_bad(t, n, "'store' must be memory or sqlite");
    }
    if ((n = pl_ymap_get(cn, "turns")) == NULL || n->kind != PL_Y_SEQ || n->n == 0)
        return pl_test_bad(t, n ? n : cn, "a conversation needs 'turns:', a non-empty list");
    for (size_t j = 0; j < n->n; j++)
        ok &= valid_turn(t, n->kids[j], sqlite);
    return ok;
}

/* Loads a test file and checks its shape; returns its conversations or NULL. */
static const pl_ynode_t *load_tests(pl_test_run_t *t, pl_ydoc_t *doc, const char *path)
{
    if (pl_ydoc_load(doc, path, t->d) != 0)
        return NULL;
    const pl_ynode_t *root = doc->root, *convs;
    if (root->kind != PL_Y_MAP || (convs = pl_ymap_get(root, "conversations")) == NULL ||
        convs->kind != PL_Y_SEQ) {
        pl_test_bad(t, root,
                    "a test file is a mapping with 'conversations:', a list of conversations");
        return NULL;
    }
    static const char *const top[] = {"conversations"};
    int ok = pl_test_check_keys(t, root, top, 1, "a test file");
    for (size_t i = 0; i < convs->n; i++)
        ok &= valid_conversation(t, convs->kids[i]);
    return ok ? convs : NULL;
}

/* Runs the conversations of one test file; returns 0, or -1 when the file is broken. */
static int run_file(run_t *r, const char *path, int *passed, int *failed)
{
    pl_diags_t d;
    pl_diags_init(&d);
    r->t.d = &d;
    pl_ydoc_t doc;
    const pl_ynode_t *convs = load_tests(&r->t, &doc, path);
    if (convs == NULL) {
        pl_diags_sort(&d);
        pl_diags_print(&d, stdout);
    }
    for (size_t j = 0; convs != NULL && j < convs->n; j++) {
        if (run_conversation(r, convs->kids[j]))
            (*passed)++;
        else
            (*failed)++;
    }
    pl_ydoc_cleanup(&doc);
    pl_diags_cleanup(&d);
    r->t.d = NULL;
    return convs != NULL ? 0 : -1;
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
    pl_arena_t scratch;
    pl_arena_init(&scratch, 64 * 1024);
    run_t r = {.rt = rt, .bot_path = argv[optind], .verbose = verbose, .scratch = &scratch};
    int passed = 0, failed = 0, broken = 0;
    for (int i = optind + 1; i < argc; i++)
        broken |= run_file(&r, argv[i], &passed, &failed) != 0;
    pl_arena_cleanup(&scratch);
    pl_runtime_unref(r.rt);
    printf("%d passed, %d failed\n", passed, failed);
    if (broken)
        return PL_EXIT_USAGE;
    return failed ? PL_EXIT_FAIL : 0;
}
