/* The Redis store, for several parley instances sharing one customer state: spec
 * redis://HOST[:PORT][/DB] (IPv4 address or host name, port 6379 and database 0 by default),
 * the password, if Redis wants one, from the environment variable PARLEY_REDIS_PASSWORD (or
 * parley serve's configuration file). Calls made outside a fiber use hiredis' synchronous
 * API and wait in place (parley chat, test, the unit tests). Once parley serve attaches the
 * store to its loop (pl_store_attach_loop), calls made in a fiber go through hiredis'
 * asynchronous API on that loop (redis_async.c): the fiber waits, the loop does not.
 *
 * Keys, all under the prefix "parley:"; CU stands for "CHANNEL\x1fUSER" (the store front
 * refuses control characters in ids, so the separator cannot occur inside either part):
 *
 *   parley:c:CUSTOMER     hash {doc, version}: the customer's document
 *   parley:cl:CUSTOMER    set of the CUs linked to the customer (for relink and erase)
 *   parley:l:CU           string: the customer the channel user is linked to
 *   parley:a:CU           hash {start, count}: failed code attempts in the window from start
 *   parley:code:CODE      hash {customer, expires}: a one-time link code
 *   parley:cc:CUSTOMER    set of the customer's codes (for erase)
 *   parley:lk:CUSTOMER    string: the token of the turn holding the customer's lock, with a
 *                         Redis expiry (SET NX PX), so a holder that died lets go by itself
 *
 * Every change that touches more than one key, and every compare-and-set, is one Lua script
 * (EVALSHA, falling back to EVAL when Redis lost its script cache), so it is atomic against
 * every other instance: save checks the stored version and writes doc and version + 1 in one
 * step; link, link_new and relink keep parley:l and parley:cl in step; erase deletes the
 * document, every link, the attempt counts of the linked channel users and every code in one
 * step; code_take reads and deletes the code at once. Scripts reach keys they find in the
 * sets (not declared in KEYS), which a single Redis (with replicas) allows and Redis Cluster
 * does not: Cluster is not supported.
 *
 * Redis must not evict parley's keys (maxmemory-policy noeviction), and keeps every
 * acknowledged save through a crash only with appendonly yes and appendfsync always; the
 * operations notes on these settings come with the later increments.
 *
 * Times: codes and attempt windows are judged by the caller's clock (now_ms), as in every
 * backend. Their keys also get a Redis expiry, so that Redis drops them once they cannot
 * matter any more: PEXPIRE of the time left (expires - now), not PEXPIREAT of the expiry,
 * because the caller's clock need not be Redis' (tests move theirs forward by days).
 *
 * Erasure deletes every key of the customer at once; copies can survive in Redis' AOF file
 * and RDB snapshots until their next rewrite, and briefly in replication backlogs.
 *
 * A Redis that is down or does not answer gives PL_ESTORE after at most CONNECT_TIMEOUT_MS
 * or COMMAND_TIMEOUT_MS; the connection is dropped and the next call connects again, so the
 * store recovers by itself when Redis is back. (Resolving a host name is not bounded by the
 * timeout: use an address where DNS may be slow.) A save that timed out may still have been
 * applied: the caller must load again, never assume either outcome. One pl_store_t is for one
 * thread at a time. */
#include "session/store.h"
#include "base/error.h"
#include "base/fiber.h"
#include "base/mem.h"
#include "session/redis_async.h"
#include "session/redis_watch.h"

#include <hiredis/hiredis.h>

#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREFIX "parley:"
#define DEFAULT_PORT 6379
#define CONNECT_TIMEOUT_MS 2000
#define COMMAND_TIMEOUT_MS 2000
/* After a failed connection attempt, calls fail at once for this long instead of each trying
 * again: a dead Redis then costs nothing per turn. */
#define RETRY_PAUSE_MS 200
#define MAX_HOST 253
/* A key: the prefix, a kind, and at most two ids of PL_STORE_MAX_KEY bytes. */
#define MAX_RKEY (sizeof(PREFIX) + 8 + 2 * PL_STORE_MAX_KEY + 2)

/* The scripts. Replies: 1 done, 0 refused (conflict), or data. Numbers written back to Redis
 * go through string.format('%d'): Lua prints large numbers with an exponent otherwise. */
#define LUA_PREFIX "local p = '" PREFIX "'\n"

enum {
    S_SAVE,
    S_LINK,
    S_LINK_NEW,
    S_RELINK,
    S_ERASE,
    S_CODE_PUT,
    S_CODE_TAKE,
    S_ATTEMPTS,
    S_UNLOCK,
    S_LOCK_LOAD,
    S_COUNT
};

static const char *const scripts[S_COUNT] = {
    /* KEYS: lk:CUSTOMER. ARGV: token. Only the holder's own token releases it. */
    [S_UNLOCK] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                 "  redis.call('DEL', KEYS[1])\n"
                 "end\n"
                 "return 1\n",
    /* KEYS: c:CUSTOMER [, lk:CUSTOMER]. ARGV: doc, expected version (decimal; "0": no
     * document yet), the customer's change channel (redis_watch.h), told "VERSION DOC" in the
     * same step [, the lock's token: the lock is released with the save]. */
    [S_SAVE] = "if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[2] then\n"
               "  return 0\n"
               "end\n"
               "redis.call('HSET', KEYS[1], 'doc', ARGV[1])\n"
               "local v = redis.call('HINCRBY', KEYS[1], 'version', 1)\n"
               "redis.call('PUBLISH', ARGV[3], string.format('%d', v) .. ' ' .. ARGV[1])\n"
               "if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[4] then\n"
               "  redis.call('DEL', KEYS[2])\n"
               "end\n"
               "return 1\n",
    /* KEYS: lk:CUSTOMER, c:CUSTOMER. ARGV: token, time to live (ms). 0 while another holds
     * the lock; else {1} (no document) or {1, doc, version}. */
    [S_LOCK_LOAD] = "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
                    "  return 0\n"
                    "end\n"
                    "local d = redis.call('HMGET', KEYS[2], 'doc', 'version')\n"
                    "if not d[1] then\n"
                    "  return {1}\n"
                    "end\n"
                    "return {1, d[1], d[2]}\n",
    /* KEYS: l:CU, cl:CUSTOMER. ARGV: CU, customer. The user leaves their old customer's set. */
    [S_LINK] = LUA_PREFIX "local old = redis.call('GET', KEYS[1])\n"
                          "if old and old ~= ARGV[2] then\n"
                          "  redis.call('SREM', p .. 'cl:' .. old, ARGV[1])\n"
                          "end\n"
                          "redis.call('SET', KEYS[1], ARGV[2])\n"
                          "redis.call('SADD', KEYS[2], ARGV[1])\n"
                          "return 1\n",
    /* KEYS: l:CU, cl:CUSTOMER. ARGV: CU, customer. */
    [S_LINK_NEW] = "if not redis.call('SET', KEYS[1], ARGV[2], 'NX') then\n"
                   "  return 0\n"
                   "end\n"
                   "redis.call('SADD', KEYS[2], ARGV[1])\n"
                   "return 1\n",
    /* KEYS: cl:FROM, cl:TO. ARGV: from, to. Only links that still name `from` move. */
    [S_RELINK] = LUA_PREFIX "if ARGV[1] == ARGV[2] then\n"
                            "  return 1\n"
                            "end\n"
                            "for _, u in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
                            "  local l = p .. 'l:' .. u\n"
                            "  if redis.call('GET', l) == ARGV[1] then\n"
                            "    redis.call('SET', l, ARGV[2])\n"
                            "    redis.call('SADD', KEYS[2], u)\n"
                            "  end\n"
                            "end\n"
                            "redis.call('DEL', KEYS[1])\n"
                            "return 1\n",
    /* KEYS: c:CUSTOMER, cl:CUSTOMER, cc:CUSTOMER. ARGV: customer, its change channel (told
     * "0"). A link or code that names someone else by now (a set may lag behind an expiry) is
     * left alone. */
    [S_ERASE] = LUA_PREFIX "redis.call('DEL', KEYS[1])\n"
                           "for _, u in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
                           "  local l = p .. 'l:' .. u\n"
                           "  if redis.call('GET', l) == ARGV[1] then\n"
                           "    redis.call('DEL', l, p .. 'a:' .. u)\n"
                           "  end\n"
                           "end\n"
                           "for _, code in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
                           "  local k = p .. 'code:' .. code\n"
                           "  if redis.call('HGET', k, 'customer') == ARGV[1] then\n"
                           "    redis.call('DEL', k)\n"
                           "  end\n"
                           "end\n"
                           "redis.call('DEL', KEYS[2], KEYS[3])\n"
                           "redis.call('PUBLISH', ARGV[2], '0')\n"
                           "return 1\n",
    /* KEYS: code:CODE, cc:CUSTOMER. ARGV: code, customer, now, expires, ttl (expires - now).
     * The customer's set of codes lives as long as its longest-lived code. */
    [S_CODE_PUT] = LUA_PREFIX "local old = redis.call('HMGET', KEYS[1], 'customer', 'expires')\n"
                              "if old[1] then\n"
                              "  if tonumber(old[2]) > tonumber(ARGV[3]) then\n"
                              "    return 0\n"
                              "  end\n"
                              "  redis.call('SREM', p .. 'cc:' .. old[1], ARGV[1])\n"
                              "end\n"
                              "redis.call('HSET', KEYS[1], 'customer', ARGV[2], 'expires', "
                              "ARGV[4])\n"
                              "redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
                              "redis.call('SADD', KEYS[2], ARGV[1])\n"
                              "if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then\n"
                              "  redis.call('PEXPIRE', KEYS[2], ARGV[5])\n"
                              "end\n"
                              "return 1\n",
    /* KEYS: code:CODE. ARGV: code. Reply: {customer, expires}, or nil. */
    [S_CODE_TAKE] = LUA_PREFIX "local v = redis.call('HMGET', KEYS[1], 'customer', 'expires')\n"
                               "if not v[1] then\n"
                               "  return false\n"
                               "end\n"
                               "redis.call('DEL', KEYS[1])\n"
                               "redis.call('SREM', p .. 'cc:' .. v[1], ARGV[1])\n"
                               "return v\n",
    /* KEYS: a:CU. ARGV: now, window, add. Reply: the count in the window. Same rules as the
     * other backends: the window starts at the first failure and lasts `window` ms. */
    [S_ATTEMPTS] = "local now, window, add = tonumber(ARGV[1]), tonumber(ARGV[2]), "
                   "tonumber(ARGV[3])\n"
                   "local h = redis.call('HMGET', KEYS[1], 'start', 'count')\n"
                   "local start, n = h[1], tonumber(h[2]) or 0\n"
                   "if not start or now >= tonumber(start) + window then\n"
                   "  start, n = ARGV[1], 0\n"
                   "end\n"
                   "if add > 0 then\n"
                   "  if n == 0 then\n"
                   "    start = ARGV[1]\n"
                   "  end\n"
                   "  n = n + add\n"
                   "  redis.call('HSET', KEYS[1], 'start', start, 'count', "
                   "string.format('%d', n))\n"
                   "  redis.call('PEXPIRE', KEYS[1], "
                   "string.format('%d', tonumber(start) + window - now))\n"
                   "end\n"
                   "return n\n",
};

typedef struct {
    pl_store_t base;
    redisContext *c; /* NULL while disconnected: the next call connects again */
    char host[MAX_HOST + 1];
    int port, db;
    char *password;   /* from PARLEY_REDIS_PASSWORD at open, or NULL */
    int64_t retry_at; /* monotonic ms before which no new connection is tried */
    char sha[S_COUNT][41];
    /* attached to parley serve's loop: calls made in a fiber go through this instead */
    pl_redis_async_t *async;
    pl_redis_watch_t *watch; /* changes of the customers the server has connections for */
    pl_store_events_t events;
    redisReply *borrowed; /* the last asynchronous reply: hiredis frees it, not release() */
} rds_t;

/* A key or argument being built, with its length (keys are binary-safe in Redis). */
typedef struct {
    char s[MAX_RKEY];
    size_t len;
} rkey_t;

/* PREFIX kind ":" a, or with b: PREFIX kind ":" a "\x1f" b (kind NULL: without the prefix and
 * kind, the CU of a set member). Returns 0, or PL_EINVAL when it does not fit. */
static int rkey(rkey_t *k, const char *kind, const char *a, const char *b)
{
    int n = b ? snprintf(k->s, sizeof(k->s), "%s%s%s%s\x1f%s", kind ? PREFIX : "", kind ? kind : "",
                         kind ? ":" : "", a, b)
              : snprintf(k->s, sizeof(k->s), "%s%s:%s", PREFIX, kind, a);
    if (n < 0 || (size_t)n >= sizeof(k->s))
        return PL_EINVAL;
    k->len = (size_t)n;
    return 0;
}

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static void drop(rds_t *r)
{
    redisFree(r->c);
    r->c = NULL;
}

/* One command on the open connection. hiredis writes with write(2), which raises SIGPIPE on a
 * connection Redis closed: SIGPIPE is blocked meanwhile and a SIGPIPE this raised is taken
 * back, so a dead Redis cannot end a process that kept the default action. Returns the reply
 * (freeReplyObject) or NULL, with the connection dropped, when the connection failed. */
static redisReply *raw(rds_t *r, int argc, const char **argv, const size_t *len)
{
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    redisReply *rep = redisCommandArgv(r->c, argc, argv, len);
    if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_only, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rep == NULL)
        drop(r);
    return rep;
}

/* A reply is done with. One that hiredis' asynchronous API lent is not ours to free; no other
 * fiber ran between its command and here (nothing waits in between), so it is still the
 * borrowed one. */
static void release(rds_t *r, redisReply *rep)
{
    if (rep == NULL)
        return;
    if (rep == r->borrowed) {
        r->borrowed = NULL;
        return;
    }
    freeReplyObject(rep);
}

static int is_error(const redisReply *rep, const char *code)
{
    return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, code, strlen(code)) == 0;
}

/* Runs a command that must answer +OK during connection setup; 0, or PL_ESTORE with why. */
static int setup_command(rds_t *r, int argc, const char **argv, const char *what, char *why,
                         size_t whylen)
{
    redisReply *rep = raw(r, argc, argv, NULL);
    if (rep == NULL) {
        snprintf(why, whylen, "redis %s:%d: %s: connection lost", r->host, r->port, what);
        return PL_ESTORE;
    }
    int ok = rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0;
    if (!ok)
        snprintf(why, whylen, "redis %s:%d: %s refused: %s", r->host, r->port, what,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    if (!ok)
        drop(r);
    return ok ? 0 : PL_ESTORE;
}

/* Connects with the timeouts, authenticates and selects the database. On failure r->c stays
 * NULL and why says what went wrong. */
static int connect_redis(rds_t *r, char *why, size_t whylen)
{
    redisContext *c = redisConnectWithTimeout(r->host, r->port, ms_to_tv(CONNECT_TIMEOUT_MS));
    if (c == NULL || c->err) {
        snprintf(why, whylen, "redis %s:%d: cannot connect: %s", r->host, r->port,
                 c ? c->errstr : "out of memory");
        redisFree(c);
        return PL_ESTORE;
    }
    if (redisSetTimeout(c, ms_to_tv(COMMAND_TIMEOUT_MS)) != REDIS_OK) {
        snprintf(why, whylen, "redis %s:%d: cannot set a timeout: %s", r->host, r->port, c->errstr);
        redisFree(c);
        return PL_ESTORE;
    }
    redisEnableKeepAlive(c); /* notices a peer that vanished while the connection sat idle */
    r->c = c;
    if (r->password != NULL) {
        const char *auth[] = {"AUTH", r->password};
        int rc = setup_command(r, 2, auth, "AUTH (PARLEY_REDIS_PASSWORD)", why, whylen);
        if (rc != 0)
            return rc;
    }
    if (r->db != 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", r->db);
        const char *sel[] = {"SELECT", db};
        return setup_command(r, 2, sel, "SELECT", why, whylen);
    }
    return 0;
}

/* A command, connecting first if need be; NULL when Redis cannot be reached. In a fiber of
 * a loop the store is attached to, the fiber waits for the reply and the loop goes on. Give
 * the reply back with release() before the next command. */
static redisReply *command(rds_t *r, int argc, const char **argv, const size_t *len)
{
    if (r->async != NULL && pl_fiber_current() != NULL) {
        r->borrowed = pl_redis_async_command(r->async, argc, argv, len);
        return r->borrowed;
    }
    if (r->c == NULL) {
        int64_t now = monotonic_ms();
        char why[256];
        if (now < r->retry_at)
            return NULL;
        if (connect_redis(r, why, sizeof(why)) != 0) {
            r->retry_at = now + RETRY_PAUSE_MS;
            return NULL;
        }
    }
    return raw(r, argc, argv, len);
}

#define MAX_SCRIPT_ARGS 8

/* Runs a script with nkeys keys followed by the other arguments (arg, len: nargs of them).
 * Returns its reply, or NULL when Redis could not be reached or the script failed (an error
 * reply: out of memory, a replica that cannot write, ...). */
static redisReply *eval(rds_t *r, int which, int nkeys, int nargs, const char **arg,
                        const size_t *arglen)
{
    const char *argv[3 + MAX_SCRIPT_ARGS];
    size_t len[3 + MAX_SCRIPT_ARGS];
    char nk[4];
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = r->sha[which];
    argv[2] = nk;
    for (int i = 0; i < 3; i++)
        len[i] = strlen(argv[i]);
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = arg[i];
        len[3 + i] = arglen[i];
    }
    redisReply *rep = command(r, 3 + nargs, argv, len);
    if (rep != NULL && is_error(rep, "NOSCRIPT")) {
        /* Redis restarted or its cache was flushed: EVAL sends the text and caches it again. */
        release(r, rep);
        argv[0] = "EVAL";
        argv[1] = scripts[which];
        len[0] = 4;
        len[1] = strlen(scripts[which]);
        rep = command(r, 3 + nargs, argv, len);
    }
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
        release(r, rep);
        rep = NULL;
    }
    return rep;
}

/* eval with arguments that are all keys or short texts. */
static redisReply *eval_keys(rds_t *r, int which, int nkeys, int nargs, const rkey_t *a)
{
    const char *arg[MAX_SCRIPT_ARGS];
    size_t len[MAX_SCRIPT_ARGS];
    for (int i = 0; i < nargs; i++) {
        arg[i] = a[i].s;
        len[i] = a[i].len;
    }
    return eval(r, which, nkeys, nargs, arg, len);
}

/* The integer reply of a script: 1 gives 0, 0 gives `refused`, anything else PL_ESTORE. */
static int verdict(rds_t *r, redisReply *rep, int refused)
{
    if (rep == NULL)
        return PL_ESTORE;
    int rc = rep->type != REDIS_REPLY_INTEGER ? PL_ESTORE
             : rep->integer == 1              ? 0
             : rep->integer == 0              ? refused
                                              : PL_ESTORE;
    release(r, rep);
    return rc;
}

static void text_arg(rkey_t *a, const char *s)
{
    snprintf(a->s, sizeof(a->s), "%s", s);
    a->len = strlen(a->s);
}

static void num_arg(rkey_t *a, int64_t n)
{
    a->len = (size_t)snprintf(a->s, sizeof(a->s), "%" PRId64, n);
}

/* A decimal reply (bulk string) as a number; -1 when it is not one. */
static int parse_num(const redisReply *rep, int64_t *n)
{
    if (rep->type != REDIS_REPLY_STRING || rep->len == 0 || rep->len > 19)
        return -1;
    char buf[24], *end;
    memcpy(buf, rep->str, rep->len);
    buf[rep->len] = '\0';
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0')
        return -1;
    *n = (int64_t)v;
    return 0;
}

/* The channel other processes hear this customer's changes on (redis_watch.h). */
static int change_channel(const rds_t *r, rkey_t *k, const char *customer)
{
    int n = pl_redis_watch_channel(k->s, sizeof(k->s), r->db, customer);
    if (n < 0)
        return PL_EINVAL;
    k->len = (size_t)n;
    return 0;
}

static int r_load(pl_store_t *s, const char *customer, char **doc, int64_t *version)
{
    rds_t *r = (rds_t *)s;
    rkey_t k;
    if (rkey(&k, "c", customer, NULL) != 0)
        return PL_EINVAL;
    const char *argv[] = {"HMGET", k.s, "doc", "version"};
    const size_t len[] = {5, k.len, 3, 7};
    redisReply *rep = command(r, 4, argv, len);
    if (rep == NULL)
        return PL_ESTORE;
    int rc = PL_ESTORE;
    int64_t v;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
        redisReply *d = rep->element[0];
        if (d->type == REDIS_REPLY_NIL) {
            rc = PL_ENOTFOUND;
        } else if (d->type == REDIS_REPLY_STRING && parse_num(rep->element[1], &v) == 0) {
            char *copy = pl_strndup(d->str, d->len);
            rc = copy ? 0 : PL_ENOMEM;
            if (copy) {
                *doc = copy;
                *version = v;
            }
        }
    }
    release(r, rep);
    return rc;
}

/* Saves, and with a token releases the customer's lock in the same step. */
static int save(rds_t *r, const char *customer, const char *doc, int64_t expected, int64_t *version,
                const char *token)
{
    rkey_t k, v, ch, lk;
    if (rkey(&k, "c", customer, NULL) != 0 || change_channel(r, &ch, customer) != 0 ||
        (token != NULL && rkey(&lk, "lk", customer, NULL) != 0))
        return PL_EINVAL;
    num_arg(&v, expected);
    /* KEYS c [, lk], ARGV doc, version, channel [, token]. The document goes in as it is: it
     * may be much larger than a key. */
    const char *arg[6];
    size_t len[6];
    int n = 0, nkeys = token ? 2 : 1;
    arg[n] = k.s, len[n++] = k.len;
    if (token)
        arg[n] = lk.s, len[n++] = lk.len;
    arg[n] = doc, len[n++] = strlen(doc);
    arg[n] = v.s, len[n++] = v.len;
    arg[n] = ch.s, len[n++] = ch.len;
    if (token)
        arg[n] = token, len[n++] = strlen(token);
    redisReply *rep = eval(r, S_SAVE, nkeys, n, arg, len);
    int rc = verdict(r, rep, PL_ECONFLICT);
    if (rc == 0)
        *version = expected + 1;
    return rc;
}

static int r_save(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                  int64_t *version)
{
    return save((rds_t *)s, customer, doc, expected, version, NULL);
}

static int r_save_unlock(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                         int64_t *version, char token[33])
{
    int rc = save((rds_t *)s, customer, doc, expected, version, token);
    if (rc == 0)
        token[0] = '\0';
    return rc;
}

/* KEYS l:CU, cl:CUSTOMER; ARGV CU, customer: the arguments of link and link_new. */
static int link_args(rkey_t a[4], const char *channel, const char *user, const char *customer)
{
    if (rkey(&a[0], "l", channel, user) != 0 || rkey(&a[1], "cl", customer, NULL) != 0 ||
        rkey(&a[2], NULL, channel, user) != 0)
        return PL_EINVAL;
    text_arg(&a[3], customer);
    return 0;
}

static int r_link(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    rkey_t a[4];
    if (link_args(a, channel, user, customer) != 0)
        return PL_EINVAL;
    return verdict((rds_t *)s, eval_keys((rds_t *)s, S_LINK, 2, 4, a), PL_ESTORE);
}

static int r_link_new(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    rkey_t a[4];
    if (link_args(a, channel, user, customer) != 0)
        return PL_EINVAL;
    return verdict((rds_t *)s, eval_keys((rds_t *)s, S_LINK_NEW, 2, 4, a), PL_ECONFLICT);
}

static int r_relink(pl_store_t *s, const char *from, const char *to)
{
    rkey_t a[4];
    if (rkey(&a[0], "cl", from, NULL) != 0 || rkey(&a[1], "cl", to, NULL) != 0)
        return PL_EINVAL;
    text_arg(&a[2], from);
    text_arg(&a[3], to);
    return verdict((rds_t *)s, eval_keys((rds_t *)s, S_RELINK, 2, 4, a), PL_ESTORE);
}

static int r_resolve(pl_store_t *s, const char *channel, const char *user, char **customer)
{
    rkey_t k;
    if (rkey(&k, "l", channel, user) != 0)
        return PL_EINVAL;
    const char *argv[] = {"GET", k.s};
    const size_t len[] = {3, k.len};
    redisReply *rep = command((rds_t *)s, 2, argv, len);
    if (rep == NULL)
        return PL_ESTORE;
    int rc = PL_ESTORE;
    if (rep->type == REDIS_REPLY_NIL) {
        rc = PL_ENOTFOUND;
    } else if (rep->type == REDIS_REPLY_STRING) {
        char *c = pl_strndup(rep->str, rep->len);
        rc = c ? 0 : PL_ENOMEM;
        if (c)
            *customer = c;
    }
    release((rds_t *)s, rep);
    return rc;
}

static int r_erase(pl_store_t *s, const char *customer)
{
    rkey_t a[5];
    if (rkey(&a[0], "c", customer, NULL) != 0 || rkey(&a[1], "cl", customer, NULL) != 0 ||
        rkey(&a[2], "cc", customer, NULL) != 0 || change_channel((rds_t *)s, &a[4], customer) != 0)
        return PL_EINVAL;
    text_arg(&a[3], customer);
    return verdict((rds_t *)s, eval_keys((rds_t *)s, S_ERASE, 3, 5, a), PL_ESTORE);
}

static int r_code_put(pl_store_t *s, const char *code, const char *customer, int64_t now_ms,
                      int64_t expires_ms)
{
    rkey_t a[7];
    if (rkey(&a[0], "code", code, NULL) != 0 || rkey(&a[1], "cc", customer, NULL) != 0)
        return PL_EINVAL;
    text_arg(&a[2], code);
    text_arg(&a[3], customer);
    num_arg(&a[4], now_ms);
    num_arg(&a[5], expires_ms);
    num_arg(&a[6], expires_ms - now_ms);
    return verdict((rds_t *)s, eval_keys((rds_t *)s, S_CODE_PUT, 2, 7, a), PL_ECONFLICT);
}

static int r_code_take(pl_store_t *s, const char *code, char **customer, int64_t *expires_ms)
{
    rkey_t a[2];
    if (rkey(&a[0], "code", code, NULL) != 0)
        return PL_EINVAL;
    text_arg(&a[1], code);
    redisReply *rep = eval_keys((rds_t *)s, S_CODE_TAKE, 1, 2, a);
    if (rep == NULL)
        return PL_ESTORE;
    int rc = PL_ESTORE;
    int64_t expires;
    if (rep->type == REDIS_REPLY_NIL) {
        rc = PL_ENOTFOUND;
    } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
               rep->element[0]->type == REDIS_REPLY_STRING &&
               parse_num(rep->element[1], &expires) == 0) {
        char *c = pl_strndup(rep->element[0]->str, rep->element[0]->len);
        rc = c ? 0 : PL_ENOMEM;
        if (c) {
            *customer = c;
            *expires_ms = expires;
        }
    }
    release((rds_t *)s, rep);
    return rc;
}

static int r_attempts(pl_store_t *s, const char *channel, const char *user, int64_t now_ms,
                      int64_t window_ms, int add, int64_t *count)
{
    rkey_t a[4];
    if (rkey(&a[0], "a", channel, user) != 0)
        return PL_EINVAL;
    num_arg(&a[1], now_ms);
    num_arg(&a[2], window_ms);
    num_arg(&a[3], add);
    redisReply *rep = eval_keys((rds_t *)s, S_ATTEMPTS, 1, 4, a);
    if (rep == NULL)
        return PL_ESTORE;
    int rc = rep->type == REDIS_REPLY_INTEGER ? 0 : PL_ESTORE;
    if (rc == 0)
        *count = rep->integer;
    release((rds_t *)s, rep);
    return rc;
}

/* Waits ms: in a fiber on the loop without holding it, elsewhere in place. */
static void pause_ms(rds_t *r, int ms)
{
    if (r->async != NULL && pl_fiber_current() != NULL) {
        pl_redis_async_sleep(r->async, ms);
        return;
    }
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int r_unlock(pl_store_t *s, const char *customer, const char *token)
{
    rkey_t a[2];
    if (rkey(&a[0], "lk", customer, NULL) != 0)
        return PL_EINVAL;
    text_arg(&a[1], token);
    return verdict((rds_t *)s, eval_keys((rds_t *)s, S_UNLOCK, 1, 2, a), PL_ESTORE);
}

/* Takes the customer's lock, waiting for its holder up to wait_ms; with doc, loads the
 * document in the same step (PL_ENOTFOUND: locked, no document). */
static int lock(rds_t *r, const char *customer, int wait_ms, char token[33], char **doc,
                int64_t *version)
{
    rkey_t a[4];
    if (rkey(&a[0], "lk", customer, NULL) != 0 || rkey(&a[1], "c", customer, NULL) != 0)
        return PL_EINVAL;
    int rc = pl_random_id(token);
    if (rc != 0)
        return rc;
    text_arg(&a[2], token);
    num_arg(&a[3], PL_STORE_LOCK_TTL_MS);
    const char *argv[] = {"SET", a[0].s, token, "NX", "PX", a[3].s};
    const size_t len[] = {3, a[0].len, 32, 2, 2, a[3].len};
    int64_t deadline = monotonic_ms() + wait_ms;
    int delay = 1;
    for (;;) {
        redisReply *rep = doc ? eval_keys(r, S_LOCK_LOAD, 2, 4, a) : command(r, 6, argv, len);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            release(r, rep);
            break;
        }
        int got = doc ? rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1
                      : rep->type == REDIS_REPLY_STATUS; /* +OK; nil while another holds it */
        if (got && doc != NULL) {
            int64_t v;
            if (rep->elements == 1) {
                rc = PL_ENOTFOUND;
            } else if (rep->elements == 3 && rep->element[1]->type == REDIS_REPLY_STRING &&
                       parse_num(rep->element[2], &v) == 0) {
                *doc = pl_strndup(rep->element[1]->str, rep->element[1]->len);
                *version = v;
                rc = *doc ? 0 : PL_ENOMEM;
            } else {
                rc = PL_ESTORE;
            }
        }
        release(r, rep);
        if (got) {
            if (rc != 0 && rc != PL_ENOTFOUND) {
                r_unlock(&r->base, customer, token);
                break;
            }
            return rc;
        }
        if (monotonic_ms() + delay > deadline) {
            token[0] = '\0';
            return PL_EBUSY;
        }
        pause_ms(r, delay);
        delay = delay < 32 ? delay * 2 : 50;
    }
    token[0] = '\0';
    return rc == PL_ENOMEM ? rc : PL_ESTORE;
}

static int r_lock(pl_store_t *s, const char *customer, int wait_ms, char token[33])
{
    return lock((rds_t *)s, customer, wait_ms, token, NULL, NULL);
}

static int r_lock_load(pl_store_t *s, const char *customer, int wait_ms, char token[33], char **doc,
                       int64_t *version)
{
    return lock((rds_t *)s, customer, wait_ms, token, doc, version);
}

static void changed(void *arg, const char *customer, int64_t version, const char *doc, size_t len)
{
    rds_t *r = arg;
    if (r->events.change != NULL)
        r->events.change(r->events.arg, customer, version, doc, len);
}

static int r_attach(pl_store_t *s, void *uv_loop, const pl_store_events_t *events)
{
    rds_t *r = (rds_t *)s;
    if (r->async != NULL)
        return 0;
    r->events = *events;
    r->async = pl_redis_async_new(uv_loop, r->host, r->port, r->db, r->password, events->status,
                                  events->arg);
    r->watch = pl_redis_watch_new(uv_loop, r->host, r->port, r->db, r->password, changed, r);
    if (r->async == NULL || r->watch == NULL) {
        pl_redis_async_free(r->async);
        pl_redis_watch_free(r->watch);
        r->async = NULL;
        r->watch = NULL;
        return PL_ENOMEM;
    }
    return 0;
}

static void r_detach(pl_store_t *s)
{
    rds_t *r = (rds_t *)s;
    pl_redis_async_free(r->async);
    pl_redis_watch_free(r->watch);
    r->async = NULL;
    r->watch = NULL;
}

static int r_watch(pl_store_t *s, const char *customer)
{
    rds_t *r = (rds_t *)s;
    return r->watch != NULL ? pl_redis_watch_add(r->watch, customer) : 0;
}

static void r_unwatch(pl_store_t *s, const char *customer)
{
    rds_t *r = (rds_t *)s;
    if (r->watch != NULL)
        pl_redis_watch_remove(r->watch, customer);
}

static void r_close(pl_store_t *s)
{
    rds_t *r = (rds_t *)s;
    r_detach(s); /* the loop should have been detached before: its handles need the loop */
    redisFree(r->c);
    if (r->password != NULL) {
        /* Through a volatile pointer, so the compiler keeps the wipe of memory it frees. */
        volatile char *p = r->password;
        while (*p)
            *p++ = '\0';
        pl_free(r->password);
    }
    pl_free(r);
}

static const pl_store_ops_t redis_ops = {
    .load = r_load,
    .save = r_save,
    .link = r_link,
    .resolve = r_resolve,
    .erase = r_erase,
    .close = r_close,
    .code_put = r_code_put,
    .code_take = r_code_take,
    .attempts = r_attempts,
    .link_new = r_link_new,
    .relink = r_relink,
    .attach = r_attach,
    .detach = r_detach,
    .lock = r_lock,
    .unlock = r_unlock,
    .lock_load = r_lock_load,
    .save_unlock = r_save_unlock,
    .watch = r_watch,
    .unwatch = r_unwatch,
};

/* Reads digits into *n (at most max); returns the character after them, or NULL when there
 * are none or the number is too large. */
static const char *digits(const char *p, long max, long *n)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    long v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (*p - '0');
        if (v > max)
            return NULL;
    }
    *n = v;
    return p;
}

/* Splits HOST[:PORT][/DB]. Returns 0, or -1 with the reason in why. */
static int parse_spec(rds_t *r, const char *spec, char *why, size_t whylen)
{
    if (strchr(spec, '@') != NULL) {
        snprintf(why, whylen, "no credentials in the store spec: set PARLEY_REDIS_PASSWORD");
        return -1;
    }
    if (spec[0] == '[') {
        snprintf(why, whylen, "IPv6 addresses are not supported; use an IPv4 address or a name");
        return -1;
    }
    size_t n = strcspn(spec, ":/");
    if (n == 0 || n > MAX_HOST) {
        snprintf(why, whylen, "want redis://HOST[:PORT][/DB]");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)spec[i]) && spec[i] != '.' && spec[i] != '-' &&
            spec[i] != '_') {
            snprintf(why, whylen, "bad host name '%.*s'", (int)n, spec);
            return -1;
        }
    memcpy(r->host, spec, n);
    r->host[n] = '\0';
    const char *p = spec + n;
    long port = DEFAULT_PORT, db = 0;
    if (*p == ':' && ((p = digits(p + 1, 65535, &port)) == NULL || port == 0)) {
        snprintf(why, whylen, "the port must be a number from 1 to 65535");
        return -1;
    }
    if (*p == '/' && (p = digits(p + 1, 1000000, &db)) == NULL) {
        snprintf(why, whylen, "the database must be a number (0 to 15 in a default Redis)");
        return -1;
    }
    if (*p != '\0') {
        snprintf(why, whylen, "unexpected '%s'; want redis://HOST[:PORT][/DB]", p);
        return -1;
    }
    r->port = (int)port;
    r->db = (int)db;
    return 0;
}

/* Loads every script and keeps its SHA1 for EVALSHA. */
static int load_scripts(rds_t *r, char *err, size_t errlen)
{
    for (int i = 0; i < S_COUNT; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", scripts[i]};
        redisReply *rep = raw(r, 3, argv, NULL);
        if (rep == NULL) {
            snprintf(err, errlen, "redis %s:%d: connection lost while loading scripts", r->host,
                     r->port);
            return PL_ESTORE;
        }
        int ok = rep->type == REDIS_REPLY_STRING && rep->len == 40;
        if (ok)
            memcpy(r->sha[i], rep->str, 41);
        else
            snprintf(err, errlen, "redis %s:%d: %s%s", r->host, r->port,
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply to SCRIPT",
                     is_error(rep, "NOAUTH") ? " (set PARLEY_REDIS_PASSWORD)" : "");
        freeReplyObject(rep);
        if (!ok)
            return PL_ESTORE;
    }
    return 0;
}

int pl__store_redis_open(const char *spec_after_scheme, pl_store_t **out, char *err, size_t errlen)
{
    char scratch[8];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    rds_t *r = pl_calloc(1, sizeof(*r));
    if (r == NULL)
        return PL_ENOMEM;
    r->base.ops = &redis_ops;
    char why[200];
    if (parse_spec(r, spec_after_scheme, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "bad store 'redis://%s': %s", spec_after_scheme, why);
        pl_free(r);
        return PL_EINVAL;
    }
    const char *password = getenv("PARLEY_REDIS_PASSWORD");
    if (password != NULL && *password != '\0' && (r->password = pl_strdup(password)) == NULL) {
        pl_free(r);
        return PL_ENOMEM;
    }
    int rc = connect_redis(r, err, errlen);
    if (rc == 0)
        rc = load_scripts(r, err, errlen);
    if (rc != 0) {
        r_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}
