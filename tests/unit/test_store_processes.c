/* The SQLite and Redis stores under several processes: writers racing on one customer lose no
 * update (compare-and-swap plus retry), two processes meeting the same new channel user make
 * one customer of them; and with SQLite, a writer killed at any moment loses no save it had
 * been told was done, and leaves a file that passes SQLite's integrity check. Each process
 * opens its own store: its own SQLite connection, or its own connection to the test's
 * redis-server. */
#include "test_helpers.h"

#include "base/error.h"
#include "base/mem.h"
#include "session/session.h"
#include "session/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The store spec of the scratch database, set by fresh_db(). */
static char spec[300];

static void fresh_db(void)
{
    snprintf(spec, sizeof(spec), "%s", th_db_fresh());
}

/* The test's redis-server, or why it is missing. */
static th_redis_t redis;
static char redis_missing[512];

/* Points spec at an empty store: "sqlite" a new scratch file, "redis/N" database N of the
 * test's Redis (each test gets a database of its own, so nothing needs flushing). */
static void fresh_store(const char *kind)
{
    if (strcmp(kind, "sqlite") == 0) {
        fresh_db();
        return;
    }
    if (redis.pid <= 0)
        fail_msg("the Redis store cannot be tested: %s", redis_missing);
    snprintf(spec, sizeof(spec), "%s%s", redis.spec, kind + strlen("redis"));
}

/* Reads the counter document ("N") or 0 when there is none. */
static long counter(pl_store_t *s, int64_t *version)
{
    char *doc;
    if (pl_store_load(s, "c", &doc, version) != 0) {
        *version = 0;
        return 0;
    }
    long n = strtol(doc, NULL, 10);
    pl_free(doc);
    return n;
}

/* Adds one to the counter, retrying on conflict; returns the value written or -1. With
 * think set, pauses up to 0.2 ms between reading and writing, as a turn does while it
 * computes the reply: without it one writer tends to run ahead and the others mostly wait,
 * so the race this test is about would rarely happen. */
static long increment(pl_store_t *s, int think)
{
    for (int tries = 0; tries < 100000; tries++) {
        int64_t v, nv;
        long n = counter(s, &v) + 1;
        if (think) {
            struct timespec pause = {0, (long)(rand() % 200) * 1000};
            nanosleep(&pause, NULL);
        }
        char doc[32];
        snprintf(doc, sizeof(doc), "%ld", n);
        int rc = pl_store_save(s, "c", doc, v, &nv);
        if (rc == 0)
            return n;
        if (rc != PL_ECONFLICT)
            return -1;
    }
    return -1;
}

/* Child: opens its own store, waits for the start (the pipe closing), then increments n
 * times; exit status 0 when all went through. */
static void writer(int n, int start)
{
    pl_store_t *s;
    if (pl_store_open(spec, &s, NULL, 0) != 0)
        _exit(2);
    char c;
    if (read(start, &c, 1) != 0)
        _exit(5);
    srand((unsigned)getpid());
    for (int i = 0; i < n; i++)
        if (increment(s, 1) < 0)
            _exit(3);
    pl_store_close(s);
    _exit(0);
}

static void racing_writers_lose_no_update(void **state)
{
    enum { WRITERS = 2, EACH = 1000 };
    fresh_store(*state);
    pl_store_t *s;
    assert_int_equal(pl_store_open(spec, &s, NULL, 0), 0); /* schema made before the race */
    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t pid[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            close(start[1]);
            writer(EACH, start[0]);
        }
    }
    close(start[0]);
    sleep(1); /* every writer has opened its store and waits */
    close(start[1]);
    for (int i = 0; i < WRITERS; i++) {
        int st;
        assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    int64_t v;
    assert_int_equal(counter(s, &v), WRITERS * EACH);
    assert_int_equal(v, WRITERS * EACH);
    pl_store_close(s);
}

static void new_users_met_twice_at_once_are_one_customer(void **state)
{
    enum { USERS = 200 };
    fresh_store(*state);
    pl_runtime_t *rt = th_runtime("race.yaml", TH_BUDGET_BOT);
    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t pid[2];
    for (int w = 0; w < 2; w++) {
        pid[w] = fork();
        assert_true(pid[w] >= 0);
        if (pid[w] != 0)
            continue;
        close(start[1]);
        pl_store_t *s;
        pl_arena_t a;
        pl_arena_init(&a, 4096);
        if (pl_store_open(spec, &s, NULL, 0) != 0)
            _exit(2);
        char c;
        if (read(start[0], &c, 1) != 0)
            _exit(5);
        for (int i = 0; i < USERS; i++) {
            char user[32];
            snprintf(user, sizeof(user), "u%d", i);
            pl_event_t ev = {.text = "hello", .len = 5, .channel = PL_CHANNEL_WEB,
                             .now_ms = 1767225600000LL};
            pl_turn_t t;
            pl_session_result_t res;
            if (pl_session_turn(rt, s, user, &ev, &a, &t, &res) != 0)
                _exit(3);
            cJSON_Delete(res.state);
        }
        _exit(0);
    }
    close(start[0]);
    pl_store_t *s;
    assert_int_equal(pl_store_open(spec, &s, NULL, 0), 0); /* schema made before the race */
    close(start[1]);
    for (int w = 0; w < 2; w++) {
        int st;
        assert_int_equal(waitpid(pid[w], &st, 0), pid[w]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    /* Each user: one customer, holding both processes' turns. */
    for (int i = 0; i < USERS; i++) {
        char user[32], *customer;
        snprintf(user, sizeof(user), "u%d", i);
        assert_int_equal(pl_store_resolve(s, "web", user, &customer), 0);
        cJSON *st;
        int64_t v;
        assert_int_equal(pl_session_load_state(s, customer, &st, &v), 0);
        if (v != 2)
            fail_msg("%s: customer %s has %lld saves, want 2", user, customer, (long long)v);
        cJSON_Delete(st);
        pl_free(customer);
    }
    pl_store_close(s);
    pl_runtime_unref(rt);
}

/* Several parley processes started on a file that does not exist yet all open it: the
 * switch to WAL and the first migration are retried while another process holds the file. */
static void processes_opening_a_new_file_at_once_all_succeed(void **state)
{
    (void)state;
    enum { ROUNDS = 30, OPENERS = 4 };
    for (int round = 0; round < ROUNDS; round++) {
        fresh_db();
        int start[2];
        assert_int_equal(pipe(start), 0);
        pid_t pid[OPENERS];
        for (int w = 0; w < OPENERS; w++) {
            pid[w] = fork();
            assert_true(pid[w] >= 0);
            if (pid[w] != 0)
                continue;
            close(start[1]);
            char c;
            if (read(start[0], &c, 1) != 0)
                _exit(5);
            pl_store_t *s;
            if (pl_store_open(spec, &s, NULL, 0) != 0)
                _exit(2);
            char id[16];
            int64_t v;
            snprintf(id, sizeof(id), "c%d", w);
            int rc = pl_store_save(s, id, "{}", 0, &v);
            pl_store_close(s);
            _exit(rc == 0 ? 0 : 3);
        }
        close(start[0]);
        close(start[1]);
        for (int w = 0; w < OPENERS; w++) {
            int st;
            assert_int_equal(waitpid(pid[w], &st, 0), pid[w]);
            assert_true(WIFEXITED(st));
            if (WEXITSTATUS(st) != 0)
                fail_msg("round %d: opener %d exited %d", round, w, WEXITSTATUS(st));
        }
    }
}

static void integrity_ok(void)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(th_db_path(), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void killed_writer_loses_no_acknowledged_save(void **state)
{
    (void)state;
    enum { ROUNDS = 50 };
    fresh_db();
    srand((unsigned)time(NULL));
    long acked = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fd[2];
        assert_int_equal(pipe(fd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fd[0]);
            pl_store_t *s;
            if (pl_store_open(spec, &s, NULL, 0) != 0)
                _exit(2);
            for (;;) {
                long n = increment(s, 0);
                if (n < 0)
                    _exit(3);
                /* Reported only after the save returned: this is the acknowledgement. */
                if (write(fd[1], &n, sizeof(n)) != sizeof(n))
                    _exit(4);
            }
        }
        close(fd[1]);
        long n;
        int got = 0;
        /* Let it write a few times, then kill it at a random point in the next one. */
        int want = 2 + rand() % 6;
        while (got < want && read(fd[0], &n, sizeof(n)) == sizeof(n)) {
            acked = n;
            got++;
        }
        struct timespec pause = {0, (long)(rand() % 3000) * 1000};
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        while (read(fd[0], &n, sizeof(n)) == sizeof(n))
            acked = n;
        close(fd[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        assert_true(got == want);

        integrity_ok();
        pl_store_t *s;
        assert_int_equal(pl_store_open(spec, &s, NULL, 0), 0);
        int64_t v;
        long stored = counter(s, &v);
        pl_store_close(s);
        /* Every acknowledged save is there; at most the one in flight got through as well. */
        assert_true(stored >= acked);
        assert_true(stored <= acked + 1);
        acked = stored;
    }
}

/* A test run on one kind of store, named with it. */
#define ON(kind, f)                                                                                \
    {                                                                                              \
        .name = #f " (" kind ")", .test_func = f, .initial_state = kind                            \
    }

int main(void)
{
    if (th_redis_start(&redis, NULL, redis_missing, sizeof(redis_missing)) != 0)
        redis.pid = 0;
    const struct CMUnitTest tests[] = {
        ON("sqlite", racing_writers_lose_no_update),
        ON("redis/1", racing_writers_lose_no_update),
        cmocka_unit_test(processes_opening_a_new_file_at_once_all_succeed),
        ON("sqlite", new_users_met_twice_at_once_are_one_customer),
        ON("redis/2", new_users_met_twice_at_once_are_one_customer),
        cmocka_unit_test(killed_writer_loses_no_acknowledged_save),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    fresh_db();
    th_redis_stop(&redis);
    return failed;
}
