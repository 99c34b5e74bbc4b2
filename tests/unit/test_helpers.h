/* Helpers shared by the unit tests: bot files written to a temporary directory, loading with
 * diagnostics captured as text, running turns of a conversation, and a redis-server of the
 * test's own. Header-only on purpose: each test program is one file plus this. */
#ifndef PL_TEST_HELPERS_H
#define PL_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/diag.h"
#include "base/error.h"
#include "dialog/bot.h"
#include "runtime.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A small bot that asks for a budget and confirms it: for tests about turns, not about bots. */
#define TH_BUDGET_BOT                                                                              \
    "bot: {id: rt, name: Runtime bot, language: en}\n"                                              \
    "intents:\n"                                                                                   \
    "  buy: [I want to buy a camera, I am looking for a camera]\n"                                 \
    "entities: {money: {type: money}}\n"                                                           \
    "slots: {budget: {entity: money, prompt: What is your budget?}}\n"                             \
    "flows:\n"                                                                                     \
    "  buy:\n"                                                                                     \
    "    trigger: buy\n"                                                                           \
    "    steps:\n"                                                                                 \
    "      - ask: budget\n"                                                                        \
    "      - end: Noted, {{slot.budget}}.\n"

static char th_dir[64];
static pid_t th_dir_owner;

#define TH_UNUSED __attribute__((unused))

static int th_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The temporary directory goes when the test program ends (not when a forked child does). */
__attribute__((destructor)) static void th_cleanup(void)
{
    if (th_dir[0] != '\0' && getpid() == th_dir_owner)
        nftw(th_dir, th_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* DIR/name, DIR being made once per process (static; the next call overwrites it). */
TH_UNUSED static const char *th_path(const char *name)
{
    static char path[256];
    if (th_dir[0] == '\0') {
        snprintf(th_dir, sizeof(th_dir), "/tmp/parley-test-XXXXXX");
        assert_non_null(mkdtemp(th_dir));
        th_dir_owner = getpid();
    }
    snprintf(path, sizeof(path), "%s/%s", th_dir, name);
    return path;
}

/* Writes text to DIR/name and returns the path (static). */
TH_UNUSED static const char *th_write(const char *name, const char *text)
{
    const char *path = th_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads a bot from text; returns the load status, the bot (or NULL) and the diagnostics as
 * printed by `parley lint` (caller frees *out_text). */
TH_UNUSED static int th_load(const char *text, pl_bot_t **bot, char **out_text)
{
    const char *path = th_write("bot.yaml", text);
    pl_diags_t d;
    pl_diags_init(&d);
    *bot = NULL;
    int rc = pl_bot_load(path, &d, bot);
    pl_diags_sort(&d);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    pl_diags_print(&d, mem);
    fclose(mem);
    pl_diags_cleanup(&d);
    if (out_text)
        *out_text = buf;
    else
        free(buf);
    return rc;
}

/* Asserts that haystack contains needle, printing both when it does not. */
#define th_assert_contains(haystack, needle)                                                       \
    do {                                                                                           \
        if (strstr((haystack), (needle)) == NULL) {                                                \
            print_error("expected to find:\n%s\nin:\n%s\n", (needle), (haystack));                 \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* The scratch SQLite file of store tests, DIR/state.db (static). */
TH_UNUSED static const char *th_db_path(void)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s", th_path("state.db"));
    return path;
}

/* The scratch file's store spec, "sqlite:DIR/state.db" (static). */
TH_UNUSED static char *th_db_spec(void)
{
    static char spec[300];
    snprintf(spec, sizeof(spec), "sqlite:%s", th_db_path());
    return spec;
}

/* Deletes the scratch SQLite file with its write-ahead log and shared-memory file, and returns
 * its store spec. */
TH_UNUSED static char *th_db_fresh(void)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s%s", th_db_path(), suffix[i]);
        unlink(p);
    }
    return th_db_spec();
}

/* Whether the scratch SQLite file or its write-ahead log holds these bytes anywhere. */
TH_UNUSED static int th_db_contains(const char *needle)
{
    static char buf[4 << 20];
    const char *suffix[] = {"", "-wal"};
    int found = 0;
    for (int i = 0; i < 2; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s%s", th_db_path(), suffix[i]);
        FILE *f = fopen(p, "rb");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        found |= memmem(buf, n, needle, strlen(needle)) != NULL;
    }
    return found;
}

/* Writes text to DIR/name and loads it as a runtime (bot and NLU index); fails the test,
 * with the diagnostics on stderr, if it does not load. */
TH_UNUSED static pl_runtime_t *th_runtime(const char *name, const char *text)
{
    const char *path = th_write(name, text);
    pl_diags_t d;
    pl_diags_init(&d);
    pl_runtime_t *rt = NULL;
    int rc = pl_runtime_load(path, &d, &rt);
    pl_diags_print(&d, stderr);
    pl_diags_cleanup(&d);
    assert_int_equal(rc, 0);
    return rt;
}

/* A redis-server of the test's own: a child process on a free loopback port, without
 * persistence, its working directory DIR/redis-PORT. */
typedef struct {
    pid_t pid; /* 0 when not running */
    int port;
    char spec[64]; /* "redis://127.0.0.1:PORT" */
} th_redis_t;

/* Seconds on the monotonic clock since t0. */
TH_UNUSED static double th_seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* $PL_REDIS_SERVER, or /usr/bin/redis-server. */
TH_UNUSED static const char *th_redis_server(void)
{
    const char *p = getenv("PL_REDIS_SERVER");
    return p && *p ? p : "/usr/bin/redis-server";
}

/* A TCP port on 127.0.0.1 that nobody listens on right now; 0 when none could be found. */
TH_UNUSED static int th_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Whether something on 127.0.0.1:port answers a PING (+PONG, or -NOAUTH from a Redis with a
 * password). */
TH_UNUSED static int th_redis_answers(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char c = 0;
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
             write(fd, "PING\r\n", 6) == 6 && read(fd, &c, 1) == 1 && (c == '+' || c == '-');
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Starts a redis-server with extra command-line arguments (NULL-terminated list, or NULL) and
 * waits until it answers. Returns 0, or -1 with the reason in why: the caller fails the test
 * with it (a missing redis-server is a failure, not a skip). The server dies with the test
 * program (PR_SET_PDEATHSIG) even if the program crashes before th_redis_stop. */
TH_UNUSED static int th_redis_start(th_redis_t *r, const char *const *extra, char *why,
                                    size_t whylen)
{
    const char *server = th_redis_server();
    memset(r, 0, sizeof(*r));
    if (access(server, X_OK) != 0) {
        snprintf(why, whylen,
                 "redis-server not found at %s: install redis-server (tools/deps.sh) or set "
                 "PL_REDIS_SERVER to its path",
                 server);
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = th_free_port();
        char portarg[16], dir[256], log[300];
        snprintf(portarg, sizeof(portarg), "%d", port);
        snprintf(dir, sizeof(dir), "%s", th_path(portarg));
        mkdir(dir, 0700);
        snprintf(log, sizeof(log), "%s/log", dir);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
            break;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(127);
            FILE *out = fopen(log, "w");
            if (out != NULL) {
                dup2(fileno(out), STDOUT_FILENO);
                dup2(fileno(out), STDERR_FILENO);
            }
            const char *argv[32] = {
                server,         "--port", portarg, "--bind", "127.0.0.1",   "--save", "",
                "--appendonly", "no",     "--dir", dir,      "--daemonize", "no"};
            int n = 13;
            for (int i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
                argv[n++] = extra[i];
            execv(server, (char *const *)argv);
            _exit(127);
        }
        for (int waited = 0; waited < 10000; waited += 20) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid)
                break; /* exited: the port was taken meanwhile, or it cannot run at all */
            if (th_redis_answers(port)) {
                r->pid = pid;
                r->port = port;
                snprintf(r->spec, sizeof(r->spec), "redis://127.0.0.1:%d", port);
                return 0;
            }
            usleep(20000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        /* The log goes with the temporary directory: quote its start. */
        char said[200] = "";
        FILE *f = fopen(log, "r");
        if (f != NULL) {
            size_t n = fread(said, 1, sizeof(said) - 1, f);
            said[n] = '\0';
            fclose(f);
        }
        snprintf(why, whylen, "%s did not start on port %d; it said: %s", server, port, said);
    }
    return -1;
}

/* Kills the server (SIGKILL: as abrupt as a crash) and waits for it; no-op when not running. */
TH_UNUSED static void th_redis_stop(th_redis_t *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    r->pid = 0;
}


/* A conversation for tests of whole turns: a runtime, the state, a scratch arena and a clock
 * that starts on 1 January 2026 and moves a minute per message (no fast pace). */
typedef struct {
    pl_runtime_t *rt;
    cJSON *state;
    pl_arena_t a;
    pl_turn_t t;
    int64_t now;
} th_conv_t;

TH_UNUSED static th_conv_t *th_conv_start(const char *name, const char *bot_text)
{
    th_conv_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->rt = th_runtime(name, bot_text);
    c->state = cJSON_CreateObject();
    pl_arena_init(&c->a, 0);
    c->now = 1767225600000LL;
    return c;
}

/* Runs one event on the conversation; the turn must succeed. */
TH_UNUSED static void th_conv_event(th_conv_t *c, const pl_event_t *ev)
{
    pl_arena_reset(&c->a);
    assert_int_equal(pl_runtime_turn(c->rt, &c->state, ev, &c->a, &c->t), 0);
}

TH_UNUSED static void th_conv_say(th_conv_t *c, pl_channel_t ch, const char *text)
{
    c->now += 60000;
    pl_event_t ev = {.text = text, .len = strlen(text), .channel = ch, .now_ms = c->now};
    th_conv_event(c, &ev);
}

TH_UNUSED static void th_conv_stop(th_conv_t *c)
{
    pl_runtime_unref(c->rt);
    cJSON_Delete(c->state);
    pl_arena_cleanup(&c->a);
    free(c);
}

#endif
