/* Where customer state lives: one versioned document per customer, the links from channel
 * users to customers, and erasure. Backends are function tables (memory for tests, SQLite in
 * WAL mode as the durable default, Redis for several instances); all of them pass the same
 * conformance suite. Documents
 * are JSON text: the store keeps them whole and never looks inside. */
#ifndef PL_STORE_H
#define PL_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pl_store pl_store_t;

/* The longest customer id, channel name or channel user the store accepts, in bytes. */
#define PL_STORE_MAX_KEY 256

/* What a store attached to an event loop tells its owner. */
typedef struct {
    /* the store stopped answering (up 0, why says how) or answers again */
    void (*status)(void *arg, int up, const char *why);
    /* a watched customer's document was changed by any process: version >= 1 with the
     * document (len bytes), 0 when the customer was erased, -1 when changes may have been
     * missed (load it again) */
    void (*change)(void *arg, const char *customer, int64_t version, const char *doc,
                   size_t len);
    void *arg;
} pl_store_events_t;

typedef struct {
    int (*load)(pl_store_t *s, const char *customer, char **doc, int64_t *version);
    int (*save)(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                int64_t *version);
    int (*link)(pl_store_t *s, const char *channel, const char *user, const char *customer);
    int (*resolve)(pl_store_t *s, const char *channel, const char *user, char **customer);
    int (*erase)(pl_store_t *s, const char *customer);
    void (*close)(pl_store_t *s);
    int (*code_put)(pl_store_t *s, const char *code, const char *customer, int64_t now_ms,
                    int64_t expires_ms);
    /* Removes the code and gives its customer and expiry, expired or not. */
    int (*code_take)(pl_store_t *s, const char *code, char **customer, int64_t *expires_ms);
    int (*attempts)(pl_store_t *s, const char *channel, const char *user, int64_t now_ms,
                    int64_t window_ms, int add, int64_t *count);
    int (*link_new)(pl_store_t *s, const char *channel, const char *user, const char *customer);
    int (*relink)(pl_store_t *s, const char *from, const char *to);
    /* optional: NULL for backends that never wait for a server or need no lock */
    int (*attach)(pl_store_t *s, void *uv_loop, const pl_store_events_t *events);
    void (*detach)(pl_store_t *s);
    /* optional: lock and load in one round trip; save and unlock in one */
    int (*lock_load)(pl_store_t *s, const char *customer, int wait_ms, char token[33],
                     char **doc, int64_t *version);
    int (*save_unlock)(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                       int64_t *version, char token[33]);
    int (*watch)(pl_store_t *s, const char *customer);
    void (*unwatch)(pl_store_t *s, const char *customer);
    int (*lock)(pl_store_t *s, const char *customer, int wait_ms, char token[33]);
    int (*unlock)(pl_store_t *s, const char *customer, const char *token);
} pl_store_ops_t;

struct pl_store {
    const pl_store_ops_t *ops;
};

/* Opens the store named by spec: "memory", "sqlite:PATH" (the file is created on first use,
 * its schema migrated to the current version) or "redis://HOST[:PORT][/DB]" (port 6379 and
 * database 0 by default; the password, if any, from the environment variable
 * PARLEY_REDIS_PASSWORD). On failure returns PL_EINVAL (unknown or malformed spec, explained
 * in err), PL_ESTORE (with the reason in err: a file that cannot be opened, a Redis that cannot
 * be reached or refuses the password) or PL_ENOMEM; *out set only on success. */
int pl_store_open(const char *spec, pl_store_t **out, char *err, size_t errlen);
/* Closes and frees; NULL is a no-op. */
void pl_store_close(pl_store_t *s);

/* The customer's document (heap, free with pl_free) and its version. PL_ENOTFOUND when the
 * customer has none. */
int pl_store_load(pl_store_t *s, const char *customer, char **doc, int64_t *version);
/* Saves doc if the stored version is still `expected` (0: the customer has no document yet)
 * and sets *version to the new one. PL_ECONFLICT when someone saved meanwhile: load again and
 * redo the change. */
int pl_store_save(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                  int64_t *version);
/* Links a channel's user (e.g. "web" + a client id) to a customer, replacing an older link. */
int pl_store_link(pl_store_t *s, const char *channel, const char *user, const char *customer);
/* Links the channel user only if they have no link yet: PL_ECONFLICT when they have one
 * (someone linked them first; resolve to find whom). */
int pl_store_link_new(pl_store_t *s, const char *channel, const char *user, const char *customer);
/* Moves every link of customer `from` to customer `to`. */
int pl_store_relink(pl_store_t *s, const char *from, const char *to);
/* The customer linked to a channel user (heap, free with pl_free), or PL_ENOTFOUND. */
int pl_store_resolve(pl_store_t *s, const char *channel, const char *user, char **customer);
/* Removes the customer's document, every link to it, their link codes and the attempt
 * counts of their channel users, leaving nothing of them behind. */
int pl_store_erase(pl_store_t *s, const char *customer);

/* One-time codes that link another channel to a customer (see link_code.h). code_put stores
 * code for customer until expires_ms; PL_ECONFLICT when that code is taken and still valid.
 * code_take removes the code and gives its customer (heap, pl_free) if it had not expired at
 * now_ms; PL_ENOTFOUND otherwise — the same answer for wrong and expired codes. */
int pl_store_code_put(pl_store_t *s, const char *code, const char *customer, int64_t now_ms,
                      int64_t expires_ms);
int pl_store_code_take(pl_store_t *s, const char *code, int64_t now_ms, char **customer);
/* Counts a channel user's failed code attempts in a window that starts at the first failure
 * and lasts window_ms: adds `add` (0 just reads) and sets *count to the total in the window. */
int pl_store_attempts(pl_store_t *s, const char *channel, const char *user, int64_t now_ms,
                      int64_t window_ms, int add, int64_t *count);

/* parley serve's event loop (a uv_loop_t *): from now on, calls made in a fiber
 * (base/fiber.h) wait for a store server (Redis) without blocking the loop; calls outside a
 * fiber still wait in place. events (copied) are told when the store stops and starts
 * answering, and of changes to watched customers. Backends that never wait and serve one
 * process (memory, SQLite) ignore it. Returns 0 or PL_ENOMEM. */
int pl_store_attach_loop(pl_store_t *s, void *uv_loop, const pl_store_events_t *events);
/* While attached: tells events.change of every change to this customer's document, by this
 * process or another (counted: unwatch as often as watched). No-op for memory and SQLite,
 * where this process's own pushes are all there is. */
int pl_store_watch(pl_store_t *s, const char *customer);
void pl_store_unwatch(pl_store_t *s, const char *customer);
/* Undoes the attachment before the loop closes: calls still waiting fail with PL_ESTORE. The
 * loop must run once more to close what the store had open on it. */
void pl_store_detach_loop(pl_store_t *s);

/* Turns of one customer are serialised across processes with this lock. Takes the
 * customer's lock, waiting up to wait_ms while another turn holds it, and writes the token
 * that releases it. The lock expires by itself after PL_STORE_LOCK_TTL_MS, so a process that
 * died holding it blocks the customer no longer than that. PL_EBUSY when it is still held
 * after wait_ms, PL_ESTORE when the store fails. Backends that need no lock (memory: one
 * process; SQLite: the compare-and-swap decides) give 0 and an empty token. */
#define PL_STORE_LOCK_TTL_MS 5000
int pl_store_lock(pl_store_t *s, const char *customer, int wait_ms, char token[33]);
/* Releases the lock if this token still holds it (once expired and taken by another turn, it
 * is theirs). An empty token does nothing. */
int pl_store_unlock(pl_store_t *s, const char *customer, const char *token);

/* pl_store_lock, then pl_store_load, in one round trip where the backend can (Redis). 0 with
 * the document, or PL_ENOTFOUND when the customer has none: the lock is held in both cases.
 * On any other result the lock is not held (token empty). */
int pl_store_lock_load(pl_store_t *s, const char *customer, int wait_ms, char token[33],
                       char **doc, int64_t *version);
/* pl_store_save, and on success the release of the lock in the same step (token emptied).
 * On PL_ECONFLICT or a failure the lock is still held: release it with pl_store_unlock. */
int pl_store_save_unlock(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                         int64_t *version, char token[33]);

/* Backends (store_memory.c, store_sqlite.c, store_redis.c). */
int pl__store_memory_open(pl_store_t **out);
int pl__store_sqlite_open(const char *path, pl_store_t **out, char *err, size_t errlen);
/* spec_after_scheme: "HOST[:PORT][/DB]", what follows "redis://". */
int pl__store_redis_open(const char *spec_after_scheme, pl_store_t **out, char *err, size_t errlen);

/* 128 random bits from the operating system as 32 hex digits (out: 33 bytes). Returns 0 or
 * PL_EIO when the system has no randomness to give. */
int pl_random_id(char out[33]);

#endif
