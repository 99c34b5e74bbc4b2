/* The Redis store on an event loop, as parley serve uses it: calls made in fibers wait for
 * Redis while the loop goes on (a timer keeps ticking), many fibers share one connection,
 * a stuck Redis fails the waiting calls after the timeout and tells the loop's owner, and
 * the store recovers when Redis is back. Also the per-customer lock: one holder at a time,
 * only the holder releases it, and it expires by itself. Against a redis-server the test
 * starts. */
#include "test_helpers.h"

#include "base/fiber.h"
#include "base/mem.h"
#include "session/redis_async.h"
#include "session/store.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static th_redis_t redis;

static pl_store_t *open_spec(const char *spec)
{
    char err[256];
    pl_store_t *s = NULL;
    if (pl_store_open(spec, &s, err, sizeof(err)) != 0)
        fail_msg("open %s: %s", spec, err);
    return s;
}

typedef struct {
    int downs, ups;
    char why[512];
} notes_t;

static void noted(void *arg, int up, const char *why)
{
    notes_t *n = arg;
    if (up) {
        n->ups++;
    } else {
        n->downs++;
        snprintf(n->why, sizeof(n->why), "%s", why ? why : "");
    }
}

typedef struct {
    uv_timer_t t;
    int ticks;
} ticker_t;

static void tick(uv_timer_t *t)
{
    ((ticker_t *)t->data)->ticks++;
}

/* One worker: `rounds` locked read-modify-write increments of the shared counter. */
typedef struct {
    pl_store_t *s;
    int rounds, done, failures, in_fiber;
} worker_t;

static void increment(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < w->rounds; i++) {
        char token[33], *doc = NULL, next[32];
        int64_t v = 0;
        w->in_fiber &= pl_fiber_current() != NULL;
        if (pl_store_lock(w->s, "counter", 5000, token) != 0) {
            w->failures++;
            continue;
        }
        int rc = pl_store_load(w->s, "counter", &doc, &v);
        long n = rc == 0 ? atol(doc) : 0;
        pl_free(doc);
        snprintf(next, sizeof(next), "%ld", n + 1);
        if ((rc != 0 && rc != PL_ENOTFOUND) ||
            pl_store_save(w->s, "counter", next, rc == 0 ? v : 0, &v) != 0)
            w->failures++;
        pl_store_unlock(w->s, "counter", token);
    }
    w->done = 1;
}

/* Runs the loop until every one of the n flags (each `stride` bytes after the previous) is
 * set by its fiber. */
static void run_until(uv_loop_t *loop, const int *flag, size_t stride, int n)
{
    for (int guard = 0; guard < 200000; guard++) {
        int all = 1;
        for (int i = 0; i < n; i++)
            all &= *(const int *)((const char *)flag + (size_t)i * stride);
        if (all)
            return;
        uv_run(loop, UV_RUN_ONCE);
    }
    fail_msg("the fibers did not finish");
}

static void close_loop(uv_loop_t *loop)
{
    for (int i = 0; i < 1000 && uv_loop_close(loop) == UV_EBUSY; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void fibers_share_one_connection_and_the_loop_keeps_running(void **state)
{
    (void)state;
    char spec[96];
    snprintf(spec, sizeof(spec), "%s/5", redis.spec);
    pl_store_t *s = open_spec(spec);
    uv_loop_t loop;
    uv_loop_init(&loop);
    notes_t notes = {0};
    pl_store_events_t events = {.status = noted, .arg = &notes};
    assert_int_equal(pl_store_attach_loop(s, &loop, &events), 0);
    ticker_t tk = {.ticks = 0};
    uv_timer_init(&loop, &tk.t);
    tk.t.data = &tk;
    uv_timer_start(&tk.t, tick, 1, 1);

    enum { N = 40, ROUNDS = 25 };
    worker_t w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker_t){.s = s, .rounds = ROUNDS, .in_fiber = 1};
        pl_fiber_t *f = NULL;
        assert_int_equal(pl_fiber_start(increment, &w[i], &f), 0);
        assert_non_null(f); /* it waits for Redis: the start returned at once */
    }
    run_until(&loop, &w[0].done, sizeof(worker_t), N);
    int failures = 0;
    for (int i = 0; i < N; i++) {
        failures += w[i].failures;
        assert_true(w[i].in_fiber);
    }
    assert_int_equal(failures, 0);
    /* Every increment counted: the lock let one fiber at a time read and write. */
    char *doc = NULL;
    int64_t v;
    assert_int_equal(pl_store_load(s, "counter", &doc, &v), 0); /* outside a fiber: in place */
    assert_int_equal(atol(doc), N * ROUNDS);
    pl_free(doc);
    if (tk.ticks < 5)
        fail_msg("the loop's timer ticked %d times while the fibers waited", tk.ticks);
    assert_int_equal(notes.downs, 0);

    uv_timer_stop(&tk.t);
    uv_close((uv_handle_t *)&tk.t, NULL);
    pl_store_detach_loop(s);
    close_loop(&loop);
    pl_store_close(s);
}

typedef struct {
    pl_store_t *s;
    int rc, done;
    double took;
} loader_t;

static void load_once(void *arg)
{
    loader_t *l = arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *doc = NULL;
    int64_t v;
    l->rc = pl_store_load(l->s, "c1", &doc, &v);
    pl_free(doc);
    l->took = th_seconds_since(&t0);
    l->done = 1;
}

static void a_stuck_redis_fails_waiting_fibers_and_the_store_recovers(void **state)
{
    (void)state;
    th_redis_t stuck;
    char why[512], spec[96];
    if (th_redis_start(&stuck, NULL, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    snprintf(spec, sizeof(spec), "%s/2", stuck.spec);
    pl_store_t *s = open_spec(spec);
    int64_t v;
    assert_int_equal(pl_store_save(s, "c1", "kept", 0, &v), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    notes_t notes = {0};
    pl_store_events_t events = {.status = noted, .arg = &notes};
    assert_int_equal(pl_store_attach_loop(s, &loop, &events), 0);

    /* connected and answering first */
    loader_t first = {.s = s};
    pl_fiber_t *f = NULL;
    assert_int_equal(pl_fiber_start(load_once, &first, &f), 0);
    run_until(&loop, &first.done, 0, 1);
    assert_int_equal(first.rc, 0);

    kill(stuck.pid, SIGSTOP); /* the kernel still takes what is sent; nothing answers */
    enum { N = 10 };
    loader_t l[N];
    for (int i = 0; i < N; i++) {
        l[i] = (loader_t){.s = s};
        assert_int_equal(pl_fiber_start(load_once, &l[i], &f), 0);
    }
    run_until(&loop, &l[0].done, sizeof(loader_t), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(l[i].rc, PL_ESTORE);
        if (l[i].took > 3.0)
            fail_msg("a load from a stuck Redis waited %.2f s", l[i].took);
    }
    assert_int_equal(notes.downs, 1);
    th_assert_contains(notes.why, "no answer within");

    kill(stuck.pid, SIGCONT);
    /* after the pause between connection attempts, the next call connects again */
    uv_sleep(PL_REDIS_RETRY_PAUSE_MS + 50);
    loader_t back = {.s = s};
    assert_int_equal(pl_fiber_start(load_once, &back, &f), 0);
    run_until(&loop, &back.done, 0, 1);
    assert_int_equal(back.rc, 0);
    assert_int_equal(notes.ups, 1);

    pl_store_detach_loop(s);
    close_loop(&loop);
    pl_store_close(s);
    th_redis_stop(&stuck);
}

static void the_lock_has_one_holder_and_expires_by_itself(void **state)
{
    (void)state;
    char spec[96];
    snprintf(spec, sizeof(spec), "%s/6", redis.spec);
    pl_store_t *a = open_spec(spec), *b = open_spec(spec);
    char ta[33], tb[33];
    assert_int_equal(pl_store_lock(a, "alice", 0, ta), 0);
    assert_int_equal(strlen(ta), 32);
    /* another process waits, and gives up after its wait */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pl_store_lock(b, "alice", 150, tb), PL_EBUSY);
    assert_string_equal(tb, "");
    double took = th_seconds_since(&t0);
    if (took < 0.1 || took > 1.0)
        fail_msg("waited %.3f s for a lock it was to wait 0.15 s for", took);
    /* another customer's lock is another lock */
    assert_int_equal(pl_store_lock(b, "bob", 0, tb), 0);
    assert_int_equal(pl_store_unlock(b, "bob", tb), 0);
    /* a token that does not hold it releases nothing */
    assert_int_equal(pl_store_unlock(b, "alice", "0123456789abcdef0123456789abcdef"), 0);
    assert_int_equal(pl_store_lock(b, "alice", 0, tb), PL_EBUSY);
    /* the holder's token does */
    assert_int_equal(pl_store_unlock(a, "alice", ta), 0);
    assert_int_equal(pl_store_lock(b, "alice", 0, tb), 0);
    /* a holder that never lets go (it died): the lock is gone after its time to live */
    redisContext *c = redisConnect("127.0.0.1", redis.port);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "SELECT 6");
    freeReplyObject(r);
    r = redisCommand(c, "PTTL parley:lk:alice");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    if (r->integer <= 0 || r->integer > PL_STORE_LOCK_TTL_MS)
        fail_msg("the lock's key has PTTL %lld, want 1..%d", r->integer, PL_STORE_LOCK_TTL_MS);
    freeReplyObject(r);
    redisFree(c);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pl_store_lock(a, "alice", PL_STORE_LOCK_TTL_MS + 1000, ta), 0);
    took = th_seconds_since(&t0);
    if (took > PL_STORE_LOCK_TTL_MS / 1000.0 + 0.5)
        fail_msg("took the expired lock after %.2f s", took);
    assert_int_equal(pl_store_unlock(a, "alice", ta), 0);
    /* stores without a lock: always granted, with no token */
    pl_store_t *m = open_spec("memory");
    assert_int_equal(pl_store_lock(m, "alice", 0, ta), 0);
    assert_string_equal(ta, "");
    assert_int_equal(pl_store_lock(m, "alice", 0, tb), 0);
    assert_int_equal(pl_store_unlock(m, "alice", ta), 0);
    pl_store_close(m);
    pl_store_close(a);
    pl_store_close(b);
}

/* The loop's connections log in with the password: they get answers, and a refusal (the
 * password changed under the store) fails the calls and is told, without the password. */
static void login(th_redis_t *r, const char *password, const char *command)
{
    redisContext *c = redisConnect("127.0.0.1", r->port);
    assert_non_null(c);
    redisReply *rep = redisCommand(c, "AUTH %s", password);
    freeReplyObject(rep);
    rep = redisCommand(c, command);
    assert_non_null(rep);
    freeReplyObject(rep);
    redisFree(c);
}

static void the_loop_connections_use_the_password(void **state)
{
    (void)state;
    th_redis_t locked;
    char why[512];
    static const char *const extra[] = {"--requirepass", "s3cret pass", NULL};
    if (th_redis_start(&locked, extra, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    setenv("PARLEY_REDIS_PASSWORD", "s3cret pass", 1);
    pl_store_t *good = open_spec(locked.spec), *stale = open_spec(locked.spec);
    unsetenv("PARLEY_REDIS_PASSWORD");
    uv_loop_t loop;
    uv_loop_init(&loop);
    notes_t ok = {0}, refused = {0};
    pl_store_events_t e1 = {.status = noted, .arg = &ok}, e2 = {.status = noted, .arg = &refused};
    assert_int_equal(pl_store_attach_loop(good, &loop, &e1), 0);
    loader_t l = {.s = good};
    pl_fiber_t *f = NULL;
    assert_int_equal(pl_fiber_start(load_once, &l, &f), 0);
    run_until(&loop, &l.done, 0, 1);
    assert_int_equal(l.rc, PL_ENOTFOUND); /* logged in: an answer, not an error */
    assert_int_equal(ok.downs, 0);
    /* the password changes: a store connecting now is refused */
    login(&locked, "s3cret pass", "CONFIG SET requirepass another-one");
    assert_int_equal(pl_store_attach_loop(stale, &loop, &e2), 0);
    l = (loader_t){.s = stale};
    assert_int_equal(pl_fiber_start(load_once, &l, &f), 0);
    run_until(&loop, &l.done, 0, 1);
    assert_int_equal(l.rc, PL_ESTORE);
    assert_int_equal(refused.downs, 1);
    th_assert_contains(refused.why, "AUTH (the Redis password) refused");
    assert_null(strstr(refused.why, "s3cret"));
    pl_store_detach_loop(good);
    pl_store_detach_loop(stale);
    close_loop(&loop);
    pl_store_close(good);
    pl_store_close(stale);
    th_redis_stop(&locked);
}

/* Lock and load in one step, save and release in one, on every backend (memory and SQLite
 * through the store front's fallback, Redis in its scripts). */
static void lock_load_and_save_unlock_pair_up(const char *spec, int exclusive)
{
    /* two processes' stores; in memory there is only ever one */
    pl_store_t *a = open_spec(spec), *b = strcmp(spec, "memory") == 0 ? a : open_spec(spec);
    char ta[33], tb[33], *doc = NULL;
    int64_t v = -1;
    assert_int_equal(pl_store_lock_load(a, "carol", 0, ta, &doc, &v), PL_ENOTFOUND);
    assert_null(doc);
    if (exclusive) {
        assert_int_equal(strlen(ta), 32);
        assert_int_equal(pl_store_lock_load(b, "carol", 50, tb, &doc, &v), PL_EBUSY);
        assert_string_equal(tb, "");
    }
    assert_int_equal(pl_store_save_unlock(a, "carol", "{\"n\":1}", 0, &v, ta), 0);
    assert_int_equal(v, 1);
    assert_string_equal(ta, ""); /* released with the save */
    assert_int_equal(pl_store_lock_load(b, "carol", 0, tb, &doc, &v), 0);
    assert_string_equal(doc, "{\"n\":1}");
    assert_int_equal(v, 1);
    pl_free(doc);
    /* a stale save: refused, and the lock is still held */
    assert_int_equal(pl_store_save_unlock(b, "carol", "{\"n\":0}", 0, &v, tb), PL_ECONFLICT);
    if (exclusive) {
        assert_int_equal(strlen(tb), 32);
        assert_int_equal(pl_store_lock(a, "carol", 0, ta), PL_EBUSY);
    }
    assert_int_equal(pl_store_unlock(b, "carol", tb), 0);
    assert_int_equal(pl_store_lock(a, "carol", 0, ta), 0);
    assert_int_equal(pl_store_unlock(a, "carol", ta), 0);
    if (b != a)
        pl_store_close(b);
    pl_store_close(a);
}

static void lock_load_and_save_unlock_on_every_backend(void **state)
{
    (void)state;
    char spec[96];
    snprintf(spec, sizeof(spec), "%s/7", redis.spec);
    lock_load_and_save_unlock_pair_up(spec, 1);
    lock_load_and_save_unlock_pair_up("memory", 0);
    char db[] = "/tmp/parley-lock-load-XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    snprintf(spec, sizeof(spec), "sqlite:%s", db);
    lock_load_and_save_unlock_pair_up(spec, 0);
    unlink(db);
    char side[96];
    snprintf(side, sizeof(side), "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db);
    unlink(side);
}

int main(void)
{
    char why[512];
    if (th_redis_start(&redis, NULL, why, sizeof(why)) != 0) {
        fprintf(stderr, "the Redis store cannot be tested: %s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fibers_share_one_connection_and_the_loop_keeps_running),
        cmocka_unit_test(a_stuck_redis_fails_waiting_fibers_and_the_store_recovers),
        cmocka_unit_test(the_lock_has_one_holder_and_expires_by_itself),
        cmocka_unit_test(lock_load_and_save_unlock_on_every_backend),
        cmocka_unit_test(the_loop_connections_use_the_password),
    };
    int failed = cmocka_run_group_tests_name("store_async", tests, NULL, NULL);
    th_redis_stop(&redis);
    pl_fiber_release_pool();
    return failed;
}
