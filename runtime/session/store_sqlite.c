/* The SQLite store, the durable default: one file in WAL mode with full syncs, so a saved
 * turn survives a crash or power loss, and several processes can share it. Saves are
 * compare-and-swap on the document's version; erasure overwrites freed pages and truncates
 * the write-ahead log so nothing of an erased customer stays on disk. */
#include "session/store.h"
#include "base/error.h"
#include "base/mem.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Each entry brings the schema from version i to i + 1; the file's user_version says how far
 * it got. Append, never edit: files in the field have run the older entries. */
static const char *const migrations[] = {
    "CREATE TABLE customers (id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
    " doc TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE links (channel TEXT NOT NULL, channel_user TEXT NOT NULL,"
    " customer TEXT NOT NULL, PRIMARY KEY (channel, channel_user)) WITHOUT ROWID;"
    "CREATE INDEX links_by_customer ON links (customer);",
    /* 2: one-time link codes and the failed attempts at them */
    "CREATE TABLE link_codes (code TEXT PRIMARY KEY, customer TEXT NOT NULL,"
    " expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX link_codes_by_customer ON link_codes (customer);"
    "CREATE TABLE code_attempts (channel TEXT NOT NULL, channel_user TEXT NOT NULL,"
    " failures INTEGER NOT NULL, window_start_ms INTEGER NOT NULL,"
    " PRIMARY KEY (channel, channel_user)) WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum {
    Q_LOAD,
    Q_INSERT,
    Q_UPDATE,
    Q_LINK,
    Q_RESOLVE,
    Q_ERASE_DOC,
    Q_ERASE_ATTEMPTS,
    Q_ERASE_LINKS,
    Q_ERASE_CODES,
    Q_CODE_PUT,
    Q_CODE_TAKE,
    Q_ATTEMPTS_GET,
    Q_ATTEMPTS_SET,
    Q_LINK_NEW,
    Q_RELINK,
    Q_COUNT
};

static const char *const queries[Q_COUNT] = {
    [Q_LOAD] = "SELECT doc, version FROM customers WHERE id = ?1",
    [Q_INSERT] = "INSERT OR IGNORE INTO customers (id, version, doc, updated_at)"
                 " VALUES (?1, 1, ?2, ?3)",
    [Q_UPDATE] = "UPDATE customers SET doc = ?2, version = version + 1, updated_at = ?3"
                 " WHERE id = ?1 AND version = ?4",
    [Q_LINK] = "INSERT INTO links (channel, channel_user, customer) VALUES (?1, ?2, ?3)"
               " ON CONFLICT (channel, channel_user) DO UPDATE SET customer = excluded.customer",
    [Q_RESOLVE] = "SELECT customer FROM links WHERE channel = ?1 AND channel_user = ?2",
    [Q_ERASE_DOC] = "DELETE FROM customers WHERE id = ?1",
    [Q_ERASE_ATTEMPTS] = "DELETE FROM code_attempts WHERE (channel, channel_user) IN"
                         " (SELECT channel, channel_user FROM links WHERE customer = ?1)",
    [Q_ERASE_LINKS] = "DELETE FROM links WHERE customer = ?1",
    [Q_ERASE_CODES] = "DELETE FROM link_codes WHERE customer = ?1",
    [Q_CODE_PUT] = "INSERT INTO link_codes (code, customer, expires_ms) VALUES (?1, ?2, ?4)"
                   " ON CONFLICT (code) DO UPDATE SET customer = excluded.customer,"
                   " expires_ms = excluded.expires_ms WHERE link_codes.expires_ms <= ?3",
    [Q_CODE_TAKE] = "DELETE FROM link_codes WHERE code = ?1 RETURNING customer, expires_ms",
    [Q_ATTEMPTS_GET] = "SELECT failures, window_start_ms FROM code_attempts"
                       " WHERE channel = ?1 AND channel_user = ?2",
    [Q_ATTEMPTS_SET] = "INSERT INTO code_attempts (channel, channel_user, failures,"
                       " window_start_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel,"
                       " channel_user) DO UPDATE SET failures = excluded.failures,"
                       " window_start_ms = excluded.window_start_ms",
    [Q_LINK_NEW] = "INSERT INTO links (channel, channel_user, customer) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (channel, channel_user) DO NOTHING",
    [Q_RELINK] = "UPDATE links SET customer = ?2 WHERE customer = ?1",
};

typedef struct {
    pl_store_t base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
} lite_t;

static sqlite3_stmt *stmt(lite_t *l, int which)
{
    sqlite3_stmt *s = l->q[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static int failed(int rc)
{
    return rc == SQLITE_NOMEM ? PL_ENOMEM : PL_ESTORE;
}

/* Runs a one-row statement keyed by ?1 to its end (a DELETE ... RETURNING deletes only then)
 * and gives the row's text and number. PL_ENOTFOUND when there is no row. */
static int one_row(lite_t *l, int which, const char *key, char **text, int64_t *num)
{
    sqlite3_stmt *q = stmt(l, which);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        return PL_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return failed(rc);
    char *t = pl_strdup((const char *)sqlite3_column_text(q, 0));
    int64_t n = sqlite3_column_int64(q, 1);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE || t == NULL) {
        pl_free(t);
        return rc != SQLITE_DONE ? failed(rc) : PL_ENOMEM;
    }
    *text = t;
    *num = n;
    return 0;
}

static int s_load(pl_store_t *s, const char *customer, char **doc, int64_t *version)
{
    return one_row((lite_t *)s, Q_LOAD, customer, doc, version);
}

static int s_save(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                  int64_t *version)
{
    lite_t *l = (lite_t *)s;
    sqlite3_stmt *q = stmt(l, expected == 0 ? Q_INSERT : Q_UPDATE);
    sqlite3_bind_text(q, 1, customer, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL));
    if (expected != 0)
        sqlite3_bind_int64(q, 4, expected);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        return failed(rc);
    if (sqlite3_changes(l->db) != 1)
        return PL_ECONFLICT;
    *version = expected + 1;
    return 0;
}

/* Runs a link statement; PL_ECONFLICT when it changed no row (link_new on a linked user). */
static int run_link(lite_t *l, int which, const char *channel, const char *user,
                    const char *customer)
{
    sqlite3_stmt *q = stmt(l, which);
    sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, customer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        return failed(rc);
    return sqlite3_changes(l->db) == 1 ? 0 : PL_ECONFLICT;
}

static int s_link(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    return run_link((lite_t *)s, Q_LINK, channel, user, customer);
}

static int s_link_new(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    return run_link((lite_t *)s, Q_LINK_NEW, channel, user, customer);
}

static int s_relink(pl_store_t *s, const char *from, const char *to)
{
    lite_t *l = (lite_t *)s;
    sqlite3_stmt *q = stmt(l, Q_RELINK);
    sqlite3_bind_text(q, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, to, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    return rc == SQLITE_DONE ? 0 : failed(rc);
}

static int s_resolve(pl_store_t *s, const char *channel, const char *user, char **customer)
{
    lite_t *l = (lite_t *)s;
    sqlite3_stmt *q = stmt(l, Q_RESOLVE);
    sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        return PL_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return failed(rc);
    char *c = pl_strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_reset(q);
    if (c == NULL)
        return PL_ENOMEM;
    *customer = c;
    return 0;
}

static int begin(lite_t *l)
{
    int rc = sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : failed(rc);
}

/* Commits when err is 0, else rolls back; returns err or the commit's failure. */
static int finish(lite_t *l, int err)
{
    int rc = sqlite3_exec(l->db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return err == 0 && rc != SQLITE_OK ? failed(rc) : err;
}

static int run_erase(lite_t *l, int which, const char *customer)
{
    sqlite3_stmt *q = stmt(l, which);
    sqlite3_bind_text(q, 1, customer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    return rc == SQLITE_DONE ? 0 : failed(rc);
}

static int s_erase(pl_store_t *s, const char *customer)
{
    lite_t *l = (lite_t *)s;
    int err = begin(l);
    if (err != 0)
        return err;
    /* Attempts before links: they are found through the links. */
    static const int order[] = {Q_ERASE_DOC, Q_ERASE_ATTEMPTS, Q_ERASE_LINKS, Q_ERASE_CODES};
    for (size_t i = 0; err == 0 && i < sizeof(order) / sizeof(order[0]); i++)
        err = run_erase(l, order[i], customer);
    err = finish(l, err);
    if (err != 0)
        return err;
    /* The old pages are zeroed (secure_delete) in the database, but copies of them sit in the
     * write-ahead log until a checkpoint: fold it back and cut it to nothing. A reader holding
     * the log open makes this partial; the next checkpoint finishes it. */
    sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return 0;
}

static int s_code_put(pl_store_t *s, const char *code, const char *customer, int64_t now_ms,
                      int64_t expires_ms)
{
    lite_t *l = (lite_t *)s;
    sqlite3_stmt *q = stmt(l, Q_CODE_PUT);
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, customer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, now_ms);
    sqlite3_bind_int64(q, 4, expires_ms);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        return failed(rc);
    return sqlite3_changes(l->db) == 1 ? 0 : PL_ECONFLICT;
}

static int s_code_take(pl_store_t *s, const char *code, char **customer, int64_t *expires_ms)
{
    return one_row((lite_t *)s, Q_CODE_TAKE, code, customer, expires_ms);
}

static int attempts_in_tx(lite_t *l, const char *channel, const char *user, int64_t now_ms,
                          int64_t window_ms, int add, int64_t *count)
{
    sqlite3_stmt *q = stmt(l, Q_ATTEMPTS_GET);
    sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    int64_t n = 0, start = now_ms;
    if (rc == SQLITE_ROW) {
        n = sqlite3_column_int64(q, 0);
        start = sqlite3_column_int64(q, 1);
    } else if (rc != SQLITE_DONE) {
        return failed(rc);
    }
    sqlite3_reset(q);
    if (now_ms >= start + window_ms) {
        n = 0;
        start = now_ms;
    }
    if (add > 0) {
        if (n == 0)
            start = now_ms;
        n += add;
        q = stmt(l, Q_ATTEMPTS_SET);
        sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, n);
        sqlite3_bind_int64(q, 4, start);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            return failed(rc);
    }
    *count = n;
    return 0;
}

static int s_attempts(pl_store_t *s, const char *channel, const char *user, int64_t now_ms,
                      int64_t window_ms, int add, int64_t *count)
{
    lite_t *l = (lite_t *)s;
    int err = begin(l);
    return err ? err : finish(l, attempts_in_tx(l, channel, user, now_ms, window_ms, add, count));
}

static void s_close(pl_store_t *s)
{
    lite_t *l = (lite_t *)s;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(l->q[i]);
    sqlite3_close(l->db);
    pl_free(l);
}

static const pl_store_ops_t sqlite_ops = {
    .load = s_load,
    .save = s_save,
    .link = s_link,
    .resolve = s_resolve,
    .erase = s_erase,
    .close = s_close,
    .code_put = s_code_put,
    .code_take = s_code_take,
    .attempts = s_attempts,
    .link_new = s_link_new,
    .relink = s_relink,
};

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(q);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Brings the schema up to date, one migration per transaction. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    for (;;) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return -1;
        int v;
        if (user_version(db, &v) != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (v >= SCHEMA_VERSION) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            if (v > SCHEMA_VERSION) {
                snprintf(err, errlen,
                         "schema version %d is newer than this parley knows (%d); "
                         "upgrade parley",
                         v, SCHEMA_VERSION);
                return 1;
            }
            return 0;
        }
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, bump, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
}

#define BUSY_MS 5000 /* how long a write waits for another process before giving up */

int pl__store_sqlite_open(const char *path, pl_store_t **out, char *err, size_t errlen)
{
    char scratch[8];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    lite_t *l = pl_calloc(1, sizeof(*l));
    if (l == NULL)
        return PL_ENOMEM;
    l->base.ops = &sqlite_ops;
    int rc = sqlite3_open_v2(path, &l->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    int m = -1;
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(l->db, BUSY_MS);
    /* Several processes opening a new file at once: switching it to WAL and the first
     * migration can be refused as busy without the busy handler waiting. Retry those. */
    for (int waited = 0; rc == SQLITE_OK; waited += 20) {
        rc = sqlite3_exec(l->db,
                          "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                          " PRAGMA secure_delete = ON;",
                          NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            m = migrate(l->db, err, errlen);
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc == SQLITE_OK && m == -1 &&
                                                  (sqlite3_errcode(l->db) & 0xff) == SQLITE_BUSY);
        if (!busy || waited >= BUSY_MS)
            break;
        rc = SQLITE_OK;
        sqlite3_sleep(20);
    }
    for (int i = 0; rc == SQLITE_OK && m == 0 && i < Q_COUNT; i++)
        rc = sqlite3_prepare_v3(l->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &l->q[i],
                                NULL);
    if (rc != SQLITE_OK || m != 0) {
        if (m != 1)
            snprintf(err, errlen, "%s: %s", path,
                     l->db ? sqlite3_errmsg(l->db) : "cannot open");
        s_close(&l->base);
        return rc == SQLITE_NOMEM ? PL_ENOMEM : PL_ESTORE;
    }
    *out = &l->base;
    return 0;
}
