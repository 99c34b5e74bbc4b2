/* The store conformance suite: every backend runs the same tests (missing customers, first
 * save, compare-and-swap conflicts, links, erasure, bad keys), and the SQLite one also keeps
 * what it saved across a reopen and refuses files from a newer parley. The Redis one runs
 * against a redis-server the test starts, and also: compare-and-set across connections, a
 * dead or stuck Redis, erasure checked key by key, and expiry kept by Redis. */
#include "test_helpers.h"

#include "base/error.h"
#include "base/mem.h"
#include "session/link_code.h"
#include "session/store.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The Redis of the conformance suite, and the spec of its database 2 (so that every
 * connection the store makes selects its database). */
static th_redis_t redis;
#define REDIS_DB 2
static char redis_spec[96];

static void flush_redis(void);

/* Opens the test database as the store sees it, and fails the test if it cannot. */
static pl_store_t *open_sqlite(void)
{
    char err[256];
    pl_store_t *s = NULL;
    int rc = pl_store_open(th_db_spec(), &s, err, sizeof(err));
    if (rc != 0)
        fail_msg("open: %s", err);
    return s;
}

/* The state passed to each test is the store spec; setup opens a fresh store. */
typedef struct {
    const char *spec;
    pl_store_t *s;
} fixture_t;

static int open_fresh(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->spec = *state;
    if (strncmp(f->spec, "sqlite:", 7) == 0)
        th_db_fresh();
    if (strncmp(f->spec, "redis://", 8) == 0)
        flush_redis();
    char err[256];
    int rc = pl_store_open(f->spec, &f->s, err, sizeof(err));
    if (rc != 0)
        fail_msg("open %s: %s", f->spec, err);
    *state = f;
    return 0;
}

static int close_store(void **state)
{
    fixture_t *f = *state;
    pl_store_close(f->s);
    *state = (void *)f->spec;
    free(f);
    return 0;
}

#define STORE(state) (((fixture_t *)*(state))->s)

static void missing_customer_is_not_found(void **state)
{
    char *doc = NULL;
    int64_t v = -1;
    assert_int_equal(pl_store_load(STORE(state), "nobody", &doc, &v), PL_ENOTFOUND);
    assert_null(doc);
    assert_int_equal(v, -1);
}

static void save_then_load_counts_versions(void **state)
{
    pl_store_t *s = STORE(state);
    int64_t v = 0;
    assert_int_equal(pl_store_save(s, "c1", "{\"turn\":1}", 0, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(pl_store_save(s, "c1", "{\"turn\":2}", 1, &v), 0);
    assert_int_equal(v, 2);
    char *doc;
    assert_int_equal(pl_store_load(s, "c1", &doc, &v), 0);
    assert_string_equal(doc, "{\"turn\":2}");
    assert_int_equal(v, 2);
    pl_free(doc);
}

static void stale_save_conflicts_and_changes_nothing(void **state)
{
    pl_store_t *s = STORE(state);
    int64_t v;
    assert_int_equal(pl_store_save(s, "c1", "first", 0, &v), 0);
    /* A second writer that also thought the customer was new. */
    assert_int_equal(pl_store_save(s, "c1", "second", 0, &v), PL_ECONFLICT);
    assert_int_equal(pl_store_save(s, "c1", "mine", 1, &v), 0);
    /* A writer that loaded version 1 and is now late. */
    assert_int_equal(pl_store_save(s, "c1", "late", 1, &v), PL_ECONFLICT);
    assert_int_equal(pl_store_save(s, "c1", "future", 7, &v), PL_ECONFLICT);
    assert_int_equal(pl_store_save(s, "c2", "ghost", 3, &v), PL_ECONFLICT);
    char *doc;
    assert_int_equal(pl_store_load(s, "c1", &doc, &v), 0);
    assert_string_equal(doc, "mine");
    assert_int_equal(v, 2);
    pl_free(doc);
    assert_int_equal(pl_store_load(s, "c2", &doc, &v), PL_ENOTFOUND);
}

static void links_resolve_and_relink(void **state)
{
    pl_store_t *s = STORE(state);
    char *c;
    assert_int_equal(pl_store_resolve(s, "web", "u1", &c), PL_ENOTFOUND);
    assert_int_equal(pl_store_link(s, "web", "u1", "alice"), 0);
    assert_int_equal(pl_store_link(s, "voice", "u1", "bob"), 0);
    assert_int_equal(pl_store_resolve(s, "web", "u1", &c), 0);
    assert_string_equal(c, "alice");
    pl_free(c);
    assert_int_equal(pl_store_resolve(s, "voice", "u1", &c), 0);
    assert_string_equal(c, "bob");
    pl_free(c);
    /* The same channel user signs in as someone else: the newer link wins. */
    assert_int_equal(pl_store_link(s, "web", "u1", "carol"), 0);
    assert_int_equal(pl_store_resolve(s, "web", "u1", &c), 0);
    assert_string_equal(c, "carol");
    pl_free(c);
}

static void link_new_keeps_the_first_and_relink_moves_all(void **state)
{
    pl_store_t *s = STORE(state);
    char *c;
    assert_int_equal(pl_store_link_new(s, "web", "u1", "first"), 0);
    assert_int_equal(pl_store_link_new(s, "web", "u1", "second"), PL_ECONFLICT);
    assert_int_equal(pl_store_resolve(s, "web", "u1", &c), 0);
    assert_string_equal(c, "first");
    pl_free(c);
    assert_int_equal(pl_store_link(s, "voice", "v1", "first"), 0);
    assert_int_equal(pl_store_link(s, "app", "a1", "other"), 0);
    assert_int_equal(pl_store_relink(s, "first", "merged"), 0);
    assert_int_equal(pl_store_resolve(s, "web", "u1", &c), 0);
    assert_string_equal(c, "merged");
    pl_free(c);
    assert_int_equal(pl_store_resolve(s, "voice", "v1", &c), 0);
    assert_string_equal(c, "merged");
    pl_free(c);
    assert_int_equal(pl_store_resolve(s, "app", "a1", &c), 0);
    assert_string_equal(c, "other");
    pl_free(c);
}

static void erase_removes_document_and_every_link(void **state)
{
    pl_store_t *s = STORE(state);
    int64_t v;
    char *c;
    assert_int_equal(pl_store_save(s, "alice", "{\"secret\":\"pregnant\"}", 0, &v), 0);
    assert_int_equal(pl_store_save(s, "bob", "{}", 0, &v), 0);
    assert_int_equal(pl_store_link(s, "web", "w1", "alice"), 0);
    assert_int_equal(pl_store_link(s, "voice", "v1", "alice"), 0);
    assert_int_equal(pl_store_link(s, "web", "w2", "bob"), 0);
    assert_int_equal(pl_store_erase(s, "alice"), 0);
    assert_int_equal(pl_store_load(s, "alice", &c, &v), PL_ENOTFOUND);
    assert_int_equal(pl_store_resolve(s, "web", "w1", &c), PL_ENOTFOUND);
    assert_int_equal(pl_store_resolve(s, "voice", "v1", &c), PL_ENOTFOUND);
    /* Nobody else is touched. */
    assert_int_equal(pl_store_resolve(s, "web", "w2", &c), 0);
    assert_string_equal(c, "bob");
    pl_free(c);
    assert_int_equal(pl_store_load(s, "bob", &c, &v), 0);
    pl_free(c);
    /* Erasing again, or someone unknown, is not an error. */
    assert_int_equal(pl_store_erase(s, "alice"), 0);
    assert_int_equal(pl_store_erase(s, "nobody"), 0);
    /* An erased customer starts over from nothing. */
    assert_int_equal(pl_store_save(s, "alice", "{}", 0, &v), 0);
    assert_int_equal(v, 1);
}

static void many_customers_stay_apart(void **state)
{
    pl_store_t *s = STORE(state);
    enum { N = 3000 };
    char id[32], user[32], doc[64], *got;
    int64_t v;
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "cust-%d", i);
        snprintf(user, sizeof(user), "user-%d", i);
        snprintf(doc, sizeof(doc), "{\"n\":%d}", i);
        assert_int_equal(pl_store_save(s, id, doc, 0, &v), 0);
        assert_int_equal(pl_store_link(s, "web", user, id), 0);
    }
    for (int i = 0; i < N; i += 3) {
        snprintf(id, sizeof(id), "cust-%d", i);
        assert_int_equal(pl_store_erase(s, id), 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "cust-%d", i);
        snprintf(user, sizeof(user), "user-%d", i);
        snprintf(doc, sizeof(doc), "{\"n\":%d}", i);
        if (i % 3 == 0) {
            assert_int_equal(pl_store_load(s, id, &got, &v), PL_ENOTFOUND);
            assert_int_equal(pl_store_resolve(s, "web", user, &got), PL_ENOTFOUND);
            continue;
        }
        assert_int_equal(pl_store_load(s, id, &got, &v), 0);
        assert_string_equal(got, doc);
        pl_free(got);
        assert_int_equal(pl_store_resolve(s, "web", user, &got), 0);
        assert_string_equal(got, id);
        pl_free(got);
    }
}

#define T0 1767225600000LL

static void link_code_links_another_channel_once(void **state)
{
    pl_store_t *s = STORE(state);
    char code[7], who[PL_STORE_MAX_KEY + 1], said[64];
    assert_int_equal(pl_link_code_issue(s, "alice", T0, code), 0);
    assert_int_equal(strlen(code), 6);
    assert_int_equal(strspn(code, "0123456789"), 6);
    /* Said with words and spaces around it, as a voice platform transcribes it. */
    snprintf(said, sizeof(said), "my code is %.3s %.3s", code, code + 3);
    assert_int_equal(pl_link_code_redeem(s, "voice", "v1", said, T0 + 60000, who), 0);
    assert_string_equal(who, "alice");
    char *c;
    assert_int_equal(pl_store_resolve(s, "voice", "v1", &c), 0);
    assert_string_equal(c, "alice");
    pl_free(c);
    /* Used up: the same code again, by anyone, is just a wrong code. */
    assert_int_equal(pl_link_code_redeem(s, "voice", "v2", code, T0 + 61000, who), PL_EDENIED);
    assert_int_equal(pl_store_resolve(s, "voice", "v2", &c), PL_ENOTFOUND);
}

static void link_code_expires_and_looks_like_a_wrong_one(void **state)
{
    pl_store_t *s = STORE(state);
    char code[7], other[16], who[PL_STORE_MAX_KEY + 1];
    assert_int_equal(pl_link_code_issue(s, "alice", T0, code), 0);
    assert_int_equal(pl_link_code_redeem(s, "voice", "v1", code, T0 + PL_LINK_CODE_TTL_MS, who),
                     PL_EDENIED);
    /* A code nobody was given gets exactly the same answer. */
    snprintf(other, sizeof(other), "%06d", (atoi(code) + 1) % 1000000);
    assert_int_equal(pl_link_code_redeem(s, "voice", "v1", other, T0, who), PL_EDENIED);
    /* Not a code at all: refused, and not counted as a try. */
    assert_int_equal(pl_link_code_redeem(s, "voice", "v1", "twelve", T0, who), PL_EINVAL);
    assert_int_equal(pl_link_code_redeem(s, "voice", "v1", "1234567", T0, who), PL_EINVAL);
    int64_t n;
    assert_int_equal(pl_store_attempts(s, "voice", "v1", T0, PL_LINK_CODE_PAUSE_MS, 0, &n), 0);
    assert_int_equal(n, 2);
}

static void link_code_guessing_is_paused_after_five(void **state)
{
    pl_store_t *s = STORE(state);
    char code[7], wrong[16], who[PL_STORE_MAX_KEY + 1];
    assert_int_equal(pl_link_code_issue(s, "alice", T0, code), 0);
    snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 500000) % 1000000);
    for (int i = 0; i < PL_LINK_CODE_MAX_FAILURES; i++)
        assert_int_equal(pl_link_code_redeem(s, "voice", "mallory", wrong, T0 + i, who),
                         PL_EDENIED);
    /* Now even the right code is not looked at — and is not used up by the try. */
    assert_int_equal(pl_link_code_redeem(s, "voice", "mallory", code, T0 + 10, who), PL_ELIMIT);
    /* Another channel user is not affected. */
    assert_int_equal(pl_link_code_redeem(s, "voice", "bob", code, T0 + 20, who), 0);
    assert_string_equal(who, "alice");
    /* After the pause, mallory may try again. */
    assert_int_equal(pl_link_code_issue(s, "carol", T0 + PL_LINK_CODE_PAUSE_MS, code), 0);
    assert_int_equal(
        pl_link_code_redeem(s, "voice", "mallory", code, T0 + PL_LINK_CODE_PAUSE_MS + 1, who), 0);
    assert_string_equal(who, "carol");
}

static void live_codes_are_not_reissued(void **state)
{
    pl_store_t *s = STORE(state);
    assert_int_equal(pl_store_code_put(s, "123456", "alice", T0, T0 + 1000), 0);
    assert_int_equal(pl_store_code_put(s, "123456", "bob", T0 + 999, T0 + 5000), PL_ECONFLICT);
    /* Expired codes may be given out again. */
    assert_int_equal(pl_store_code_put(s, "123456", "bob", T0 + 1000, T0 + 5000), 0);
    char *c;
    assert_int_equal(pl_store_code_take(s, "123456", T0 + 2000, &c), 0);
    assert_string_equal(c, "bob");
    pl_free(c);
    assert_int_equal(pl_store_code_put(s, "1", "x", T0, T0), PL_EINVAL);
}

static void erase_removes_codes_and_attempts(void **state)
{
    pl_store_t *s = STORE(state);
    char code[7], who[PL_STORE_MAX_KEY + 1];
    int64_t n;
    assert_int_equal(pl_store_link(s, "voice", "v1", "alice"), 0);
    assert_int_equal(pl_link_code_redeem(s, "voice", "v1", "000000", T0, who), PL_EDENIED);
    assert_int_equal(pl_link_code_redeem(s, "voice", "other", "000000", T0, who), PL_EDENIED);
    assert_int_equal(pl_link_code_issue(s, "alice", T0, code), 0);
    assert_int_equal(pl_store_erase(s, "alice"), 0);
    assert_int_equal(pl_link_code_redeem(s, "web", "w1", code, T0 + 1, who), PL_EDENIED);
    assert_int_equal(pl_store_attempts(s, "voice", "v1", T0, PL_LINK_CODE_PAUSE_MS, 0, &n), 0);
    assert_int_equal(n, 0);
    /* Someone else's count stays. */
    assert_int_equal(pl_store_attempts(s, "voice", "other", T0, PL_LINK_CODE_PAUSE_MS, 0, &n),
                     0);
    assert_int_equal(n, 1);
}

static void bad_keys_are_refused(void **state)
{
    pl_store_t *s = STORE(state);
    int64_t v;
    char *c;
    char long_key[300];
    memset(long_key, 'a', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    assert_int_equal(pl_store_save(s, "", "{}", 0, &v), PL_EINVAL);
    assert_int_equal(pl_store_save(s, NULL, "{}", 0, &v), PL_EINVAL);
    assert_int_equal(pl_store_save(s, long_key, "{}", 0, &v), PL_EINVAL);
    assert_int_equal(pl_store_save(s, "a\nb", "{}", 0, &v), PL_EINVAL);
    assert_int_equal(pl_store_save(s, "ok", NULL, 0, &v), PL_EINVAL);
    assert_int_equal(pl_store_save(s, "ok", "{}", -1, &v), PL_EINVAL);
    assert_int_equal(pl_store_link(s, "web", "", "ok"), PL_EINVAL);
    assert_int_equal(pl_store_resolve(s, "", "u", &c), PL_EINVAL);
    assert_int_equal(pl_store_erase(s, "x\x1fy"), PL_EINVAL);
    /* Nothing was written by the refused calls. */
    assert_int_equal(pl_store_load(s, "ok", &c, &v), PL_ENOTFOUND);
}

static void unknown_spec_is_explained(void **state)
{
    (void)state;
    pl_store_t *s = NULL;
    char err[128];
    assert_int_equal(pl_store_open("redis", &s, err, sizeof(err)), PL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "memory, sqlite:PATH or redis://HOST[:PORT][/DB]"));
    assert_int_equal(pl_store_open("sqlite:", &s, err, sizeof(err)), PL_EINVAL);
    assert_int_equal(pl_store_open("sqlite:/nonexistent-dir/x.db", &s, err, sizeof(err)),
                     PL_ESTORE);
    assert_null(s);
    assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
}

static void sqlite_keeps_state_across_reopen(void **state)
{
    (void)state;
    th_db_fresh();
    pl_store_t *s = open_sqlite();
    int64_t v;
    assert_int_equal(pl_store_save(s, "c1", "{\"offers\":[\"10%\"]}", 0, &v), 0);
    assert_int_equal(pl_store_link(s, "web", "w1", "c1"), 0);
    pl_store_close(s);
    s = open_sqlite();
    char *doc;
    assert_int_equal(pl_store_load(s, "c1", &doc, &v), 0);
    assert_string_equal(doc, "{\"offers\":[\"10%\"]}");
    assert_int_equal(v, 1);
    pl_free(doc);
    assert_int_equal(pl_store_resolve(s, "web", "w1", &doc), 0);
    assert_string_equal(doc, "c1");
    pl_free(doc);
    pl_store_close(s);
}

static void sqlite_refuses_newer_schema(void **state)
{
    (void)state;
    char err[256];
    th_db_fresh();
    sqlite3 *db;
    assert_int_equal(sqlite3_open(th_db_path(), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    pl_store_t *s = NULL;
    assert_int_equal(pl_store_open(th_db_spec(), &s, err, sizeof(err)), PL_ESTORE);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
}

static void sqlite_migrates_a_version_1_file(void **state)
{
    (void)state;
    th_db_fresh();
    sqlite3 *db;
    assert_int_equal(sqlite3_open(th_db_path(), &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE customers (id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
                     " doc TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
                     "CREATE TABLE links (channel TEXT NOT NULL, channel_user TEXT NOT NULL,"
                     " customer TEXT NOT NULL, PRIMARY KEY (channel, channel_user)) WITHOUT ROWID;"
                     "CREATE INDEX links_by_customer ON links (customer);"
                     "INSERT INTO customers VALUES ('old', 7, '{\"kept\":true}', 0);"
                     "INSERT INTO links VALUES ('web', 'w1', 'old');"
                     "PRAGMA user_version = 1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    pl_store_t *s = open_sqlite();
    char *doc;
    int64_t v;
    assert_int_equal(pl_store_load(s, "old", &doc, &v), 0);
    assert_string_equal(doc, "{\"kept\":true}");
    assert_int_equal(v, 7);
    pl_free(doc);
    assert_int_equal(pl_store_resolve(s, "web", "w1", &doc), 0);
    pl_free(doc);
    char code[7];
    assert_int_equal(pl_link_code_issue(s, "old", T0, code), 0); /* the new tables exist */
    pl_store_close(s);
    assert_int_equal(sqlite3_open(th_db_path(), &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 2);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void sqlite_erase_leaves_no_trace_on_disk(void **state)
{
    (void)state;
    th_db_fresh();
    pl_store_t *s = open_sqlite();
    int64_t v;
    assert_int_equal(pl_store_save(s, "keep", "{\"n\":\"KEEPME\"}", 0, &v), 0);
    assert_int_equal(pl_store_save(s, "gone", "{\"n\":\"SECRETMARK\"}", 0, &v), 0);
    assert_int_equal(pl_store_save(s, "gone", "{\"n\":\"SECRETMARK2\"}", 1, &v), 0);
    assert_int_equal(pl_store_erase(s, "gone"), 0);
    /* Read every byte of the database and its log while the store is still open. */
    assert_false(th_db_contains("SECRETMARK"));
    int saw_keep = th_db_contains("KEEPME");
    assert_true(saw_keep); /* the scan can see documents, so the absence above means something */
    pl_store_close(s);
}

static void ids_are_random_hex(void **state)
{
    (void)state;
    char a[33], b[33];
    assert_int_equal(pl_random_id(a), 0);
    assert_int_equal(pl_random_id(b), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
}

/* A direct connection to the conformance Redis' database, to look behind the store's back. */
static redisContext *peek(void)
{
    redisContext *c = redisConnect("127.0.0.1", redis.port);
    if (c == NULL || c->err)
        fail_msg("cannot connect to the test's redis-server: %s", c ? c->errstr : "no memory");
    redisReply *r = redisCommand(c, "SELECT %d", REDIS_DB);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    return c;
}

static void flush_redis(void)
{
    redisContext *c = peek();
    redisReply *r = redisCommand(c, "FLUSHDB");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
}

static pl_store_t *open_spec(const char *spec)
{
    char err[256];
    pl_store_t *s = NULL;
    int rc = pl_store_open(spec, &s, err, sizeof(err));
    if (rc != 0)
        fail_msg("open %s: %s", spec, err);
    return s;
}

/* Set by main when the conformance Redis could not be started. */
static const char *redis_missing;

static void redis_server_is_there(void **state)
{
    (void)state;
    fail_msg("the Redis store cannot be tested: %s", redis_missing);
}

static void redis_spec_is_checked(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "redis://",           "redis://:6379",  "redis://h:0",     "redis://h:65536",
        "redis://h:12x",      "redis://h/x",    "redis://h:6379/", "redis://u:pw@h",
        "redis://[::1]:6379", "redis://h?db=1", "redis://h o",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pl_store_t *s = NULL;
        char err[256] = "";
        int rc = pl_store_open(bad[i], &s, err, sizeof(err));
        if (rc != PL_EINVAL || s != NULL || strstr(err, bad[i]) == NULL)
            fail_msg("%s: got %s, '%s'", bad[i], pl_err_name(rc), err);
    }
    /* A host name, and the default port (nothing listens there, or a Redis does). */
    char spec[96], err[256];
    snprintf(spec, sizeof(spec), "redis://localhost:%d/%d", redis.port, REDIS_DB);
    pl_store_close(open_spec(spec));
    pl_store_t *s = NULL;
    int rc = pl_store_open("redis://127.0.0.1", &s, err, sizeof(err));
    if (rc == 0)
        pl_store_close(s);
    else
        th_assert_contains(err, "redis 127.0.0.1:6379: cannot connect");
}

static void redis_cas_across_connections_has_one_winner(void **state)
{
    pl_store_t *a = STORE(state), *b = open_spec(redis_spec);
    int64_t v;
    char *doc;
    /* Both think the customer is new: the first save wins, the second conflicts. */
    assert_int_equal(pl_store_save(a, "shared", "from a", 0, &v), 0);
    assert_int_equal(pl_store_save(b, "shared", "from b", 0, &v), PL_ECONFLICT);
    /* Both loaded version 1: only one of their saves goes through. */
    assert_int_equal(pl_store_load(a, "shared", &doc, &v), 0);
    pl_free(doc);
    assert_int_equal(v, 1);
    assert_int_equal(pl_store_load(b, "shared", &doc, &v), 0);
    pl_free(doc);
    assert_int_equal(pl_store_save(b, "shared", "b won", 1, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(pl_store_save(a, "shared", "a lost", 1, &v), PL_ECONFLICT);
    assert_int_equal(pl_store_load(a, "shared", &doc, &v), 0);
    assert_string_equal(doc, "b won");
    assert_int_equal(v, 2);
    pl_free(doc);
    /* The same for a new channel user met by two instances. */
    assert_int_equal(pl_store_link_new(b, "web", "w1", "from-b"), 0);
    assert_int_equal(pl_store_link_new(a, "web", "w1", "from-a"), PL_ECONFLICT);
    assert_int_equal(pl_store_resolve(a, "web", "w1", &doc), 0);
    assert_string_equal(doc, "from-b");
    pl_free(doc);
    pl_store_close(b);
}

/* Every store call on a Redis that is gone: PL_ESTORE, each well within 3 s. */
static void all_calls_fail_quickly(pl_store_t *s)
{
    char *c;
    int64_t v;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(pl_store_load(s, "c1", &c, &v), PL_ESTORE);
        assert_int_equal(pl_store_save(s, "c1", "{}", 1, &v), PL_ESTORE);
        assert_int_equal(pl_store_link(s, "web", "w1", "c1"), PL_ESTORE);
        assert_int_equal(pl_store_link_new(s, "web", "w2", "c1"), PL_ESTORE);
        assert_int_equal(pl_store_relink(s, "c1", "c2"), PL_ESTORE);
        assert_int_equal(pl_store_resolve(s, "web", "w1", &c), PL_ESTORE);
        assert_int_equal(pl_store_erase(s, "c1"), PL_ESTORE);
        assert_int_equal(pl_store_code_put(s, "123456", "c1", T0, T0 + 1000), PL_ESTORE);
        assert_int_equal(pl_store_code_take(s, "123456", T0, &c), PL_ESTORE);
        assert_int_equal(pl_store_attempts(s, "voice", "v1", T0, 1000, 1, &v), PL_ESTORE);
        usleep(150000); /* past the store's pause between connection attempts, now and then */
    }
    double took = th_seconds_since(&t0);
    if (took > 3.0)
        fail_msg("30 calls on a dead Redis took %.2f s", took);
}

static void redis_dead_server_gives_store_errors_quickly(void **state)
{
    (void)state;
    th_redis_t dead;
    char why[512], spec[96], err[256];
    if (th_redis_start(&dead, NULL, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    snprintf(spec, sizeof(spec), "%s", dead.spec);
    pl_store_t *s = open_spec(spec);
    int64_t v;
    assert_int_equal(pl_store_save(s, "c1", "{}", 0, &v), 0);
    th_redis_stop(&dead);
    /* A document larger than the socket's buffers, on the connection Redis dropped: the
     * writes after the peer's reset raise SIGPIPE, which must not end the process. */
    enum { BIG = 8 << 20 };
    char *big = malloc(BIG + 1);
    assert_non_null(big);
    memset(big, 'x', BIG);
    big[BIG] = '\0';
    assert_int_equal(pl_store_save(s, "c1", big, 1, &v), PL_ESTORE);
    free(big);
    all_calls_fail_quickly(s);
    pl_store_close(s);
    /* Opening the store on it says why it cannot. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s = NULL;
    assert_int_equal(pl_store_open(spec, &s, err, sizeof(err)), PL_ESTORE);
    assert_null(s);
    assert_true(th_seconds_since(&t0) < 3.0);
    char want[96];
    snprintf(want, sizeof(want), "redis 127.0.0.1:%d: cannot connect", dead.port);
    th_assert_contains(err, want);
}

static void redis_stuck_server_times_out_and_the_store_recovers(void **state)
{
    (void)state;
    th_redis_t stuck;
    char why[512], spec[96];
    if (th_redis_start(&stuck, NULL, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    snprintf(spec, sizeof(spec), "%s/3", stuck.spec);
    pl_store_t *s = open_spec(spec);
    int64_t v;
    char *doc;
    assert_int_equal(pl_store_save(s, "c1", "kept", 0, &v), 0);
    /* Accepts connections (the kernel does), answers nothing. */
    kill(stuck.pid, SIGSTOP);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pl_store_load(s, "c1", &doc, &v), PL_ESTORE);
    double took = th_seconds_since(&t0);
    if (took > 3.0)
        fail_msg("a load from a stuck Redis took %.2f s", took);
    kill(stuck.pid, SIGCONT);
    /* Back: the next call connects again, to the same database. */
    assert_int_equal(pl_store_load(s, "c1", &doc, &v), 0);
    assert_string_equal(doc, "kept");
    assert_int_equal(v, 1);
    pl_free(doc);
    pl_store_close(s);
    th_redis_stop(&stuck);
}

/* Every key of the test database, and whether its name or any value in it holds needle. */
static int redis_holds(redisContext *c, const char *needle, long *keys)
{
    int found = 0;
    *keys = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s COUNT 1000", cursor);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *batch = r->element[1];
        for (size_t i = 0; i < batch->elements; i++) {
            const redisReply *k = batch->element[i];
            (*keys)++;
            found |= memmem(k->str, k->len, needle, strlen(needle)) != NULL;
            redisReply *t = redisCommand(c, "TYPE %b", k->str, k->len);
            assert_non_null(t);
            const char *get = strcmp(t->str, "string") == 0 ? "GET"
                              : strcmp(t->str, "hash") == 0 ? "HGETALL"
                              : strcmp(t->str, "set") == 0  ? "SMEMBERS"
                                                            : NULL;
            if (get == NULL)
                fail_msg("unexpected %s key %.*s", t->str, (int)k->len, k->str);
            freeReplyObject(t);
            char cmd[64];
            snprintf(cmd, sizeof(cmd), "%s %%b", get);
            redisReply *v = redisCommand(c, cmd, k->str, k->len);
            assert_non_null(v);
            if (v->type == REDIS_REPLY_STRING)
                found |= memmem(v->str, v->len, needle, strlen(needle)) != NULL;
            for (size_t j = 0; v->type == REDIS_REPLY_ARRAY && j < v->elements; j++)
                found |=
                    memmem(v->element[j]->str, v->element[j]->len, needle, strlen(needle)) != NULL;
            freeReplyObject(v);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return found;
}

/* SCAN ... MATCH pattern over the whole database: how many keys match. */
static long redis_matching(redisContext *c, const char *pattern)
{
    long n = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        n += (long)r->element[1]->elements;
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return n;
}

static void redis_erase_leaves_no_key_or_value_behind(void **state)
{
    pl_store_t *s = STORE(state);
    int64_t v;
    char *c;
    const char *gone = "erase-me-4711", *planted = "PLANTED-7731";
    assert_int_equal(pl_store_save(s, gone, "{\"note\":\"PLANTED-7731\"}", 0, &v), 0);
    assert_int_equal(pl_store_save(s, gone, "{\"note\":\"PLANTED-7731 again\"}", 1, &v), 0);
    assert_int_equal(pl_store_link(s, "web", "w-gone-77", gone), 0);
    assert_int_equal(pl_store_link_new(s, "voice", "v-gone-77", "someone-before"), 0);
    assert_int_equal(pl_store_relink(s, "someone-before", gone), 0);
    assert_int_equal(pl_store_attempts(s, "voice", "v-gone-77", T0, 60000, 1, &v), 0);
    assert_int_equal(pl_store_code_put(s, "913377", gone, T0, T0 + 60000), 0);
    assert_int_equal(pl_store_code_put(s, "913378", gone, T0, T0 + 60000), 0);
    assert_int_equal(pl_store_code_take(s, "913378", T0, &c), 0);
    pl_free(c);
    /* Someone else, whose keys must stay. */
    assert_int_equal(pl_store_save(s, "keep", "{\"note\":\"KEEPME\"}", 0, &v), 0);
    assert_int_equal(pl_store_link(s, "web", "w-keep", "keep"), 0);
    assert_int_equal(pl_store_code_put(s, "555555", "keep", T0, T0 + 60000), 0);
    assert_int_equal(pl_store_attempts(s, "voice", "v-keep", T0, 60000, 1, &v), 0);

    redisContext *r = peek();
    long keys;
    assert_true(redis_holds(r, planted, &keys)); /* the scan sees documents */
    assert_true(redis_matching(r, "*erase-me-4711*") > 0);
    assert_int_equal(pl_store_erase(s, gone), 0);

    static const char *const traces[] = {"erase-me-4711", "PLANTED-7731", "w-gone-77",
                                         "v-gone-77",     "913377",       "someone-before"};
    for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
        if (redis_holds(r, traces[i], &keys))
            fail_msg("'%s' is still in Redis after the erase", traces[i]);
        char pattern[64];
        snprintf(pattern, sizeof(pattern), "*%s*", traces[i]);
        assert_int_equal(redis_matching(r, pattern), 0);
    }
    assert_true(redis_holds(r, "KEEPME", &keys));
    /* keep's document, link and its set, code and its set, attempts: nothing else is left. */
    assert_int_equal(keys, 6);
    redisFree(r);
}

/* The remaining lifetime of a key in ms, as Redis says (PTTL: -2 none, -1 no expiry). */
static long long pttl(redisContext *c, const char *key, size_t len)
{
    redisReply *r = redisCommand(c, "PTTL %b", key, len);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long t = r->integer;
    freeReplyObject(r);
    return t;
}

static void redis_codes_and_attempts_expire_in_redis(void **state)
{
    pl_store_t *s = STORE(state);
    char code[7];
    int64_t n;
    assert_int_equal(pl_link_code_issue(s, "alice", T0, code), 0);
    assert_int_equal(pl_store_attempts(s, "voice", "v1", T0, PL_LINK_CODE_PAUSE_MS, 1, &n), 0);
    /* A minute into the window, another failure: the key lives to the window's end. */
    assert_int_equal(pl_store_attempts(s, "voice", "v1", T0 + 60000, PL_LINK_CODE_PAUSE_MS, 1, &n),
                     0);
    assert_int_equal(n, 2);
    redisContext *r = peek();
    char key[64];
    snprintf(key, sizeof(key), "parley:code:%s", code);
    long long t = pttl(r, key, strlen(key));
    if (t <= 0 || t > PL_LINK_CODE_TTL_MS)
        fail_msg("the code's key has PTTL %lld, want 1..%d", t, PL_LINK_CODE_TTL_MS);
    t = pttl(r, "parley:cc:alice", strlen("parley:cc:alice"));
    if (t <= 0 || t > PL_LINK_CODE_TTL_MS)
        fail_msg("alice's set of codes has PTTL %lld, want 1..%d", t, PL_LINK_CODE_TTL_MS);
    static const char attempts[] = "parley:a:voice\x1fv1";
    t = pttl(r, attempts, sizeof(attempts) - 1);
    if (t <= PL_LINK_CODE_PAUSE_MS - 60000 - 5000 || t > PL_LINK_CODE_PAUSE_MS - 60000)
        fail_msg("the attempts' key has PTTL %lld, want about %d", t,
                 PL_LINK_CODE_PAUSE_MS - 60000);
    /* Documents and links never expire. */
    int64_t v;
    assert_int_equal(pl_store_save(s, "alice", "{}", 0, &v), 0);
    assert_int_equal(pl_store_link(s, "web", "w1", "alice"), 0);
    assert_int_equal(pttl(r, "parley:c:alice", strlen("parley:c:alice")), -1);
    static const char link[] = "parley:l:web\x1fw1";
    assert_int_equal(pttl(r, link, sizeof(link) - 1), -1);
    redisFree(r);
}

static void redis_script_cache_flush_is_survived(void **state)
{
    pl_store_t *s = STORE(state);
    int64_t v;
    assert_int_equal(pl_store_save(s, "c1", "one", 0, &v), 0);
    redisContext *r = peek();
    redisReply *rep = redisCommand(r, "SCRIPT FLUSH");
    assert_non_null(rep);
    freeReplyObject(rep);
    redisFree(r);
    assert_int_equal(pl_store_save(s, "c1", "two", 1, &v), 0);
    assert_int_equal(pl_store_save(s, "c1", "late", 1, &v), PL_ECONFLICT);
    assert_int_equal(pl_store_link_new(s, "web", "w1", "c1"), 0);
    assert_int_equal(v, 2);
}

static void redis_password_comes_from_the_environment(void **state)
{
    (void)state;
    th_redis_t locked;
    char why[512], err[256];
    static const char *const extra[] = {"--requirepass", "s3cret pass", NULL};
    if (th_redis_start(&locked, extra, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    pl_store_t *s = NULL;
    unsetenv("PARLEY_REDIS_PASSWORD");
    assert_int_equal(pl_store_open(locked.spec, &s, err, sizeof(err)), PL_ESTORE);
    th_assert_contains(err, "set PARLEY_REDIS_PASSWORD");
    setenv("PARLEY_REDIS_PASSWORD", "not-the-pw-8812", 1);
    assert_int_equal(pl_store_open(locked.spec, &s, err, sizeof(err)), PL_ESTORE);
    th_assert_contains(err, "AUTH (PARLEY_REDIS_PASSWORD) refused");
    assert_null(strstr(err, "not-the-pw-8812")); /* never in messages */
    assert_null(s);
    setenv("PARLEY_REDIS_PASSWORD", "s3cret pass", 1);
    s = open_spec(locked.spec);
    unsetenv("PARLEY_REDIS_PASSWORD");
    int64_t v;
    assert_int_equal(pl_store_save(s, "c1", "{}", 0, &v), 0);
    pl_store_close(s);
    th_redis_stop(&locked);
}

#define CONFORMANCE(spec)                                                                          \
    cmocka_unit_test_prestate_setup_teardown(missing_customer_is_not_found, open_fresh,           \
                                             close_store, spec),                                   \
        cmocka_unit_test_prestate_setup_teardown(save_then_load_counts_versions, open_fresh,      \
                                                 close_store, spec),                               \
        cmocka_unit_test_prestate_setup_teardown(stale_save_conflicts_and_changes_nothing,        \
                                                 open_fresh, close_store, spec),                   \
        cmocka_unit_test_prestate_setup_teardown(links_resolve_and_relink, open_fresh,            \
                                                 close_store, spec),                               \
        cmocka_unit_test_prestate_setup_teardown(link_new_keeps_the_first_and_relink_moves_all,   \
                                                 open_fresh, close_store, spec),                   \
        cmocka_unit_test_prestate_setup_teardown(erase_removes_document_and_every_link,           \
                                                 open_fresh, close_store, spec),                   \
        cmocka_unit_test_prestate_setup_teardown(many_customers_stay_apart, open_fresh,           \
                                                 close_store, spec),                               \
        cmocka_unit_test_prestate_setup_teardown(link_code_links_another_channel_once,            \
                                                 open_fresh, close_store, spec),                   \
        cmocka_unit_test_prestate_setup_teardown(link_code_expires_and_looks_like_a_wrong_one,    \
                                                 open_fresh, close_store, spec),                   \
        cmocka_unit_test_prestate_setup_teardown(link_code_guessing_is_paused_after_five,         \
                                                 open_fresh, close_store, spec),                   \
        cmocka_unit_test_prestate_setup_teardown(live_codes_are_not_reissued, open_fresh,         \
                                                 close_store, spec),                               \
        cmocka_unit_test_prestate_setup_teardown(erase_removes_codes_and_attempts, open_fresh,    \
                                                 close_store, spec),                               \
        cmocka_unit_test_prestate_setup_teardown(bad_keys_are_refused, open_fresh, close_store,   \
                                                 spec)

#define REDIS_TEST(f)                                                                              \
    cmocka_unit_test_prestate_setup_teardown(f, open_fresh, close_store, redis_spec)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CONFORMANCE("memory"),
        CONFORMANCE(th_db_spec()),
        cmocka_unit_test(unknown_spec_is_explained),
        cmocka_unit_test(sqlite_keeps_state_across_reopen),
        cmocka_unit_test(sqlite_refuses_newer_schema),
        cmocka_unit_test(sqlite_migrates_a_version_1_file),
        cmocka_unit_test(sqlite_erase_leaves_no_trace_on_disk),
        cmocka_unit_test(ids_are_random_hex),
    };
    int failed = cmocka_run_group_tests_name("store", tests, NULL, NULL);
    th_db_fresh();

    char why[512];
    if (th_redis_start(&redis, NULL, why, sizeof(why)) != 0) {
        redis_missing = why;
        const struct CMUnitTest missing[] = {cmocka_unit_test(redis_server_is_there)};
        return failed + cmocka_run_group_tests_name("store_redis", missing, NULL, NULL);
    }
    snprintf(redis_spec, sizeof(redis_spec), "%s/%d", redis.spec, REDIS_DB);
    const struct CMUnitTest redis_tests[] = {
        CONFORMANCE(redis_spec),
        cmocka_unit_test(redis_spec_is_checked),
        REDIS_TEST(redis_cas_across_connections_has_one_winner),
        cmocka_unit_test(redis_dead_server_gives_store_errors_quickly),
        cmocka_unit_test(redis_stuck_server_times_out_and_the_store_recovers),
        REDIS_TEST(redis_erase_leaves_no_key_or_value_behind),
        REDIS_TEST(redis_codes_and_attempts_expire_in_redis),
        REDIS_TEST(redis_script_cache_flush_is_survived),
        cmocka_unit_test(redis_password_comes_from_the_environment),
    };
    failed += cmocka_run_group_tests_name("store_redis", redis_tests, NULL, NULL);
    th_redis_stop(&redis);
    return failed;
}
