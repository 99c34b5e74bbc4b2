/* `parley bench turns`: in-process turn throughput of a bot on a fixed set of messages. */
#include "cli.h"
#include "base/error.h"
#include "base/mem.h"
#include "runtime.h"
#include "session/session.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
    "usage: parley bench turns BOT.yaml [--seconds N] [--store SPEC] [--json]\n"
    "       parley bench understand BOT.yaml [--json]\n"
    "\n"
    "turns: runs whole turns (understanding, flow, reply) on one core for N seconds\n"
    "(default 3) with a fixed set of messages: the first two examples of every intent,\n"
    "numbers and money amounts, and out-of-scope sentences. Conversations start afresh\n"
    "every 16 turns. Prints turns per second, the 50th and 99th percentile turn time, and\n"
    "the size of the conversation state as stored (JSON bytes, mean and largest).\n"
    "With --store every turn also loads and commits the customer's state in that store\n"
    "(memory, or sqlite:PATH; use a scratch file, each conversation adds a customer).\n"
    "\n"
    "understand: times understanding alone (intents and entities) of long, awkward messages\n"
    "of 1, 4, 16 and 64 KiB: one letter repeated, words, '1,' repeated, emoji, combining\n"
    "marks. Prints nanoseconds per byte for each size: equal figures mean linear time.\n"
    "\n"
    "  --seconds N  how long to run turns (default 3)\n"
    "  --store SPEC run turns through a store: memory, sqlite:PATH or redis://HOST[:PORT][/DB]\n"
    "  --json       print the figures as JSON\n"
    "  -h, --help   show this help\n";

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Fills buf with len bytes of pattern repeated, cut at a character boundary. */
static size_t fill(char *buf, size_t len, const char *pattern)
{
    size_t pl = strlen(pattern), n = 0;
    while (n + pl <= len) {
        memcpy(buf + n, pattern, pl);
        n += pl;
    }
    return n;
}

static int bench_understand(const pl_runtime_t *rt, int json)
{
    static const struct {
        const char *name, *pattern;
    } shapes[] = {
        {"one letter", "a"},
        {"words", "camera budget "},
        {"digits and commas", "1,"},
        {"emoji", "\xF0\x9F\x93\xB7"},
        {"combining marks", "a\xCC\x81\xCC\x82"},
    };
    static const size_t sizes[] = {1024, 4096, 16384, 65536};
    char *buf = pl_malloc(65536);
    if (buf == NULL)
        return PL_EXIT_FAIL;
    pl_arena_t scratch;
    pl_arena_init(&scratch, 1024 * 1024);
    int rc = 0;
    if (json)
        printf("[");
    for (size_t s = 0; s < sizeof(shapes) / sizeof(*shapes) && rc == 0; s++) {
        if (!json)
            printf("%-18s", shapes[s].name);
        for (size_t z = 0; z < sizeof(sizes) / sizeof(*sizes) && rc == 0; z++) {
            size_t len = fill(buf, sizes[z], shapes[s].pattern);
            /* enough repetitions for ~20 ms at this size, at least 3 */
            int reps = 0;
            double t0 = now_us(), t1 = t0;
            while (rc == 0 && (reps < 3 || t1 - t0 < 20000)) {
                pl_understanding_t u;
                pl_arena_reset(&scratch);
                rc = pl_nlu_understand(pl_runtime_nlu(rt), buf, len, &scratch, &u);
                reps++;
                t1 = now_us();
            }
            double ns_per_byte = (t1 - t0) * 1000.0 / reps / (double)len;
            if (json)
                printf("%s{\"shape\":\"%s\",\"bytes\":%zu,\"ns_per_byte\":%.2f}", s || z ? "," : "",
                       shapes[s].name, len, ns_per_byte);
            else
                printf("  %3zu KiB: %7.2f ns/byte", sizes[z] / 1024, ns_per_byte);
        }
        if (!json)
            printf("\n");
    }
    if (json)
        printf("]\n");
    pl_arena_cleanup(&scratch);
    pl_free(buf);
    return rc ? PL_EXIT_FAIL : 0;
}

static const char *const extra_en[] = {"800 euros", "about 1500", "what is the weather on mars",
                                       "asdf qwerty", "I don't know"};
static const char *const extra_de[] = {
    "800 Euro", "so etwa 1.500", "wie ist das Wetter auf dem Mars", "asdf qwertz", "weiß nicht"};

/* The state's size as a store keeps it: compact JSON. */
static size_t state_size(const cJSON *state)
{
    char *s = cJSON_PrintUnformatted(state);
    size_t n = s ? strlen(s) : 0;
    cJSON_free(s);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int pl_cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"store", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    double seconds = 3;
    const char *store_spec = NULL;
    int json = 0, c;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help, stdout);
        return 0;
    }
    int understand = argc >= 2 && strcmp(argv[1], "understand") == 0;
    if (argc < 2 || (strcmp(argv[1], "turns") != 0 && !understand))
        return pl_cli_usage_error("bench", "unknown benchmark '%s'; available: turns, understand",
                                  argc < 2 ? "" : argv[1]);
    argc--;
    argv++;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 's') {
            char *end;
            seconds = strtod(optarg, &end);
            if (end == optarg || *end || seconds <= 0 || seconds > 3600)
                return pl_cli_usage_error("bench", "--seconds needs a number between 0 and 3600");
        } else if (c == 'j') {
            json = 1;
        } else if (c == 'S') {
            store_spec = optarg;
        } else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else {
            return pl_cli_usage_error("bench", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return pl_cli_usage_error("bench", "give exactly one bot file");
    pl_runtime_t *rt = pl_cli_load_runtime("bench", argv[optind], stderr);
    if (rt == NULL)
        return PL_EXIT_FAIL;
    int rc;
    if (understand) {
        int status = bench_understand(rt, json);
        pl_runtime_unref(rt);
        return status;
    }
    const pl_bot_t *bot = pl_runtime_bot(rt);
    int de = strcmp(bot->language, "de") == 0;
    size_t nmsg = 0, cap = bot->nintents * 2 + 5;
    const char **msgs = pl_calloc(cap, sizeof(*msgs));
    for (size_t i = 0; msgs && i < bot->nintents; i++)
        for (size_t j = 0; j < bot->intents[i].nexamples && j < 2; j++)
            msgs[nmsg++] = bot->intents[i].examples[j];
    for (size_t i = 0; msgs && i < 5; i++)
        msgs[nmsg++] = de ? extra_de[i] : extra_en[i];
    /* the latest million turn times: enough for stable percentiles, bounded memory */
    const size_t maxlat = 1000000;
    double *lat = pl_malloc(sizeof(double) * maxlat);
    if (msgs == NULL || lat == NULL) {
        pl_free(msgs);
        pl_free(lat);
        pl_runtime_unref(rt);
        return PL_EXIT_FAIL;
    }
    pl_store_t *store = NULL;
    if (store_spec != NULL) {
        char err[512];
        rc = pl_store_open(store_spec, &store, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "parley bench: cannot open the store: %s\n",
                    err[0] ? err : pl_strerror(rc));
            pl_free(msgs);
            pl_free(lat);
            pl_runtime_unref(rt);
            return rc == PL_EINVAL ? PL_EXIT_USAGE : PL_EXIT_FAIL;
        }
    }
    pl_arena_t scratch;
    pl_arena_init(&scratch, 64 * 1024);
    cJSON *state = NULL;
    size_t turns = 0, errors = 0, conversations = 0, state_bytes = 0, state_max = 0;
    char user[64];
    double start = now_us(), end = start + seconds * 1e6, t0 = start;
    int64_t clock_ms = 1767225600000LL;
    while (t0 < end) {
        if (turns % 16 == 0) {
            if (state != NULL) {
                size_t b = state_size(state);
                state_bytes += b;
                state_max = b > state_max ? b : state_max;
                conversations++;
            }
            cJSON_Delete(state);
            state = cJSON_CreateObject();
            snprintf(user, sizeof(user), "bench-%zu-%d", turns / 16, (int)getpid());
        }
        const char *m = msgs[(turns * 7) % nmsg];
        pl_arena_reset(&scratch);
        pl_event_t ev = {
            .text = m, .len = strlen(m), .channel = PL_CHANNEL_WEB, .now_ms = clock_ms += 1000};
        pl_turn_t t;
        if (store == NULL) {
            if (pl_runtime_turn(rt, &state, &ev, &scratch, &t) != 0)
                errors++;
        } else {
            pl_session_result_t res;
            if (pl_session_turn(rt, store, user, &ev, &scratch, &t, &res) != 0) {
                errors++;
            } else {
                cJSON_Delete(state);
                state = res.state;
            }
        }
        double t1 = now_us();
        lat[turns % maxlat] = t1 - t0;
        t0 = t1;
        turns++;
    }
    double elapsed = (t0 - start) / 1e6;
    size_t n = turns < maxlat ? turns : maxlat;
    qsort(lat, n, sizeof(*lat), cmp_double);
    double p50 = lat[n / 2], p99 = lat[(size_t)((double)n * 0.99)];
    double rate = (double)turns / elapsed;
    double state_mean = conversations ? (double)state_bytes / (double)conversations : 0;
    const char *store_name = store_spec ? store_spec : "none";
    if (json)
        printf("{\"bot\":\"%s\",\"store\":\"%s\",\"turns\":%zu,\"seconds\":%.3f,"
               "\"turns_per_second\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"errors\":%zu,"
               "\"messages\":%zu,\"state_bytes_mean\":%.0f,\"state_bytes_max\":%zu}\n",
               bot->id, store_name, turns, elapsed, rate, p50, p99, errors, nmsg, state_mean,
               state_max);
    else
        printf("bench turns %s (store %s): %zu turns in %.2f s on one core: %.0f turns/s, "
               "p50 %.2f us, p99 %.2f us (%zu distinct messages, %zu errors); state after 16 "
               "turns %.0f bytes mean, %zu max\n",
               bot->id, store_name, turns, elapsed, rate, p50, p99, nmsg, errors, state_mean,
               state_max);
    pl_store_close(store);
    cJSON_Delete(state);
    pl_arena_cleanup(&scratch);
    pl_free(lat);
    pl_free(msgs);
    pl_runtime_unref(rt);
    return errors ? PL_EXIT_FAIL : 0;
}
