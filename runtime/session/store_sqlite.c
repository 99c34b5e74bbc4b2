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
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum { Q_LOAD, Q_INSERT, Q_UPDATE, Q_LINK, Q_RESOLVE, Q_ERASE_DOC, Q_ERASE_LINKS, Q_COUNT };

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
    [Q_ERASE_LINKS] = "DELETE FROM links WHERE customer = ?1",
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

static int s_load(pl_store_t *s, const char *customer, char **doc, int64_t *version)
{
    lite_t *l = (lite_t *)s;
    sqlite3_stmt *q = stmt(l, Q_LOAD);
    sqlite3_bind_text(q, 1, customer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        return PL_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return failed(rc);
    char *d = pl_strdup((const char *)sqlite3_column_text(q, 0));
    int64_t v = sqlite3_column_int64(q, 1);
    sqlite3_reset(q);
    if (d == NULL)
        return PL_ENOMEM;
    *doc = d;
    *version = v;
    return 0;
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

static int s_link(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    lite_t *l = (lite_t *)s;
    sqlite3_stmt *q = stmt(l, Q_LINK);
    sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, customer, -1, SQLITE_STATIC);
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
    int rc = sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return failed(rc);
    int err = run_erase(l, Q_ERASE_DOC, customer);
    if (err == 0)
        err = run_erase(l, Q_ERASE_LINKS, customer);
    rc = sqlite3_exec(l->db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    if (err == 0 && rc != SQLITE_OK)
        err = failed(rc);
    if (err != 0)
        return err;
    /* The old pages are zeroed (secure_delete) in the database, but copies of them sit in the
     * write-ahead log until a checkpoint: fold it back and cut it to nothing. A reader holding
     * the log open makes this partial; the next checkpoint finishes it. */
    sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return 0;
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
    .version = 1,
    .name = "sqlite",
    .load = s_load,
    .save = s_save,
    .link = s_link,
    .resolve = s_resolve,
    .erase = s_erase,
    .close = s_close,
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
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(l->db, 5000);
        rc = sqlite3_exec(l->db,
                          "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                          " PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON;",
                          NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        m = migrate(l->db, err, errlen);
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
