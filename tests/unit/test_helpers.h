/* Helpers shared by the unit tests: bot files written to a temporary directory, loading with
 * diagnostics captured as text, and running turns of a conversation. Header-only on purpose:
 * each test program is one file plus this. */
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

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#endif
