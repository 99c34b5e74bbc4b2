/* `parley eval intents`: few-shot evaluation of the intent matcher on labelled data sets.
 * Samples K examples per intent (seeded), writes them as a YAML bot and loads it through the
 * same loader and index as any bot, then classifies every test line and reports in-scope
 * accuracy, out-of-scope recall, speed, index build time and index size. */
#include "cli.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "nlu/nlu.h"

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: parley eval intents --train TRAIN.tsv --test TEST.tsv --lang de|en\n"
    "                           [--shots K] [--seed S[,S...]] [--threshold T] [--json]\n"
    "       parley eval signals FILE.tsv --bot-en BOT.yaml --bot-de BOT.yaml  (see --help there)\n"
    "\n"
    "Few-shot evaluation of the intent matcher. Files have a header line 'intent<TAB>text'\n"
    "and one utterance per line; the intent 'oos' marks an out-of-scope utterance that must\n"
    "end in the fallback. For each seed, K examples per intent are sampled from TRAIN\n"
    "(reproducibly), built into a bot through the normal YAML loader, and every TEST line is\n"
    "classified. When TRAIN and TEST are the same file, the sampled lines are left out of the\n"
    "test, so one file can be split. The bot has only the data set's intents (not the built-in\n"
    "'what can you do?', 'are you a bot?', 'a person please'), so the figures measure them.\n"
    "\n"
    "  --train FILE    labelled examples to sample from ('oos' lines are never sampled)\n"
    "  --test FILE     labelled utterances to classify\n"
    "  --lang de|en    the bot's language\n"
    "  --shots K       examples per intent (default 10)\n"
    "  --seed S,...    one or more seeds (default 1); figures are the mean over seeds\n"
    "  --threshold T   override the bot's default threshold (0 < T < 1)\n"
    "  --json          print the mean figures as one JSON object\n"
    "  -h, --help      show this help\n"
    "\n"
    "Prints in-scope accuracy (an in-scope line counts when its intent wins above the\n"
    "threshold), out-of-scope recall (an 'oos' line counts when nothing reaches the\n"
    "threshold), utterances per second on one core after a warm-up pass, the index build time\n"
    "in ms and the index size in bytes.\n";

#define MAX_FILE_BYTES (64 * 1024 * 1024)
#define MAX_SEEDS 16

typedef struct {
    char *label;
    char *text;
} row_t;

typedef struct {
    char *buf; /* the file, cut into NUL-terminated fields in place */
    row_t *rows;
    size_t n;
} dataset_t;

/* Data sets name intents freely ("alarm/set_alarm"); bot ids allow letters, digits, '_', '-'
 * and '.': every other byte becomes '.', on both sides of the comparison. */
static void label_to_id(char *label)
{
    for (char *p = label; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            *p = '.';
}

static void dataset_free(dataset_t *ds)
{
    pl_free(ds->buf);
    pl_free(ds->rows);
}

/* Reads a TSV file with the header "intent<TAB>text". Lines without a tab are skipped and
 * counted in *bad. Returns 0 or an error (printed). */
static int dataset_read(const char *path, dataset_t *ds, size_t *bad)
{
    memset(ds, 0, sizeof(*ds));
    *bad = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "parley eval: cannot open '%s'\n", path);
        return PL_ENOENT;
    }
    ds->buf = pl_malloc(MAX_FILE_BYTES + 1);
    if (ds->buf == NULL) {
        fclose(f);
        return PL_ENOMEM;
    }
    size_t len = fread(ds->buf, 1, MAX_FILE_BYTES + 1, f);
    fclose(f);
    if (len > MAX_FILE_BYTES) {
        fprintf(stderr, "parley eval: '%s' is larger than 64 MiB\n", path);
        return PL_ELIMIT;
    }
    ds->buf[len] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += ds->buf[i] == '\n';
    ds->rows = pl_calloc(lines, sizeof(*ds->rows));
    if (ds->rows == NULL)
        return PL_ENOMEM;
    char *p = ds->buf;
    int header = 1;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        size_t l = strlen(p);
        if (l > 0 && p[l - 1] == '\r')
            p[--l] = '\0';
        char *tab = strchr(p, '\t');
        if (header) {
            header = 0;
            if (tab == NULL || strncmp(p, "intent\t", 7) != 0) {
                fprintf(stderr,
                        "parley eval: '%s' does not start with the header 'intent<TAB>text'\n",
                        path);
                return PL_EINVAL;
            }
        } else if (tab != NULL && tab != p && tab[1] != '\0') {
            *tab = '\0';
            label_to_id(p);
            ds->rows[ds->n++] = (row_t){p, tab + 1};
        } else if (l > 0) {
            (*bad)++;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return 0;
}

/* xorshift64*: small and reproducible on every platform. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int cmp_label(const void *a, const void *b)
{
    const row_t *const *x = a, *const *y = b;
    int c = strcmp((*x)->label, (*y)->label);
    return c ? c : ((*x) < (*y) ? -1 : (*x) > (*y));
}

/* Appends s as a double-quoted YAML string. */
static int yaml_quote(pl_strbuf_t *b, const char *s)
{
    int rc = pl_strbuf_putc(b, '"');
    for (; rc == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc = pl_strbuf_printf(b, "\\%c", c);
        else if (c < 0x20)
            rc = pl_strbuf_printf(b, "\\x%02x", c);
        else
            rc = pl_strbuf_putc(b, (char)c);
    }
    return rc ? rc : pl_strbuf_putc(b, '"');
}

/* Samples K training rows per intent and writes the bot's YAML into b. used[i] marks the
 * sampled rows. */
static int build_yaml(const dataset_t *train, size_t shots, uint64_t seed, const char *lang,
                      double threshold, char *used, pl_strbuf_t *b)
{
    size_t n = 0;
    const row_t **byl = pl_malloc((train->n + 1) * sizeof(*byl));
    if (byl == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < train->n; i++)
        if (strcmp(train->rows[i].label, "oos") != 0)
            byl[n++] = &train->rows[i];
    qsort(byl, n, sizeof(*byl), cmp_label);
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    int rc = pl_strbuf_printf(b, "bot:\n  id: eval\n  name: eval\n  language: %s\n", lang);
    if (rc == 0 && threshold > 0)
        rc = pl_strbuf_printf(b, "  threshold: %g\n", threshold);
    if (rc == 0)
        rc = pl_strbuf_puts(b, "intents:\n");
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i;
        while (j < n && strcmp(byl[j]->label, byl[i]->label) == 0)
            j++;
        /* a seeded Fisher-Yates shuffle of this intent's rows; the first K are the shots */
        for (size_t k = j - 1; k > i; k--) {
            size_t r = i + (size_t)(rng_next(&s) % (k - i + 1));
            const row_t *t = byl[k];
            byl[k] = byl[r];
            byl[r] = t;
        }
        rc = pl_strbuf_printf(b, "  %s:\n", byl[i]->label);
        for (size_t k = i; rc == 0 && k < j && k < i + shots; k++) {
            used[byl[k] - train->rows] = 1;
            rc = pl_strbuf_puts(b, "    - ");
            if (rc == 0)
                rc = yaml_quote(b, byl[k]->text);
            if (rc == 0)
                rc = pl_strbuf_putc(b, '\n');
        }
        i = j;
    }
    pl_free(byl);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    double in_scope_accuracy, oos_recall, utterances_per_second, build_ms, load_ms;
    size_t index_bytes, in_scope, oos, intents, shots_used;
} result_t;

static int evaluate(const dataset_t *train, const dataset_t *test, int same_file, size_t shots,
                    uint64_t seed, const char *lang, double threshold, result_t *res)
{
    memset(res, 0, sizeof(*res));
    char *used = pl_calloc(train->n + 1, 1);
    pl_strbuf_t yaml;
    pl_strbuf_init(&yaml, 0);
    int rc = used ? build_yaml(train, shots, seed, lang, threshold, used, &yaml) : PL_ENOMEM;
    pl_bot_t *bot = NULL;
    pl_nlu_t *nlu = NULL;
    pl_diags_t d;
    pl_diags_init(&d);
    double t0 = now_s();
    if (rc == 0)
        rc = pl_bot_load_text("eval.yaml", pl_strbuf_str(&yaml), yaml.len,
                              PL_LOAD_NO_BUILTIN_INTENTS, &d, &bot);
    double t1 = now_s();
    if (rc == 0)
        rc = pl_nlu_new(bot, &nlu);
    double t2 = now_s();
    if (rc == PL_EINVALID) {
        pl_diags_sort(&d);
        pl_diags_print(&d, stderr);
    }
    pl_diags_cleanup(&d);
    pl_strbuf_cleanup(&yaml);
    if (rc != 0) {
        pl_free(used);
        pl_bot_free(bot);
        return rc;
    }
    res->load_ms = (t1 - t0) * 1e3;
    res->build_ms = (t2 - t1) * 1e3;
    res->index_bytes = pl_nlu_size(nlu);
    res->intents = bot->nintents;
    for (size_t i = 0; i < train->n; i++)
        res->shots_used += used[i] != 0;

    pl_arena_t scratch;
    pl_arena_init(&scratch, 256 * 1024);
    size_t ok_in = 0, ok_oos = 0, ntest = 0;
    /* pass 1: the figures (and a warm-up for the timing) */
    for (size_t i = 0; rc == 0 && i < test->n; i++) {
        if (same_file && used[i])
            continue;
        const row_t *r = &test->rows[i];
        pl_understanding_t u;
        pl_arena_reset(&scratch);
        rc = pl_nlu_understand(nlu, r->text, strlen(r->text), &scratch, &u);
        ntest++;
        if (strcmp(r->label, "oos") == 0) {
            res->oos++;
            ok_oos += u.intent < 0;
        } else {
            res->in_scope++;
            ok_in += u.intent >= 0 && strcmp(bot->intents[u.intent].id, r->label) == 0;
        }
    }
    /* pass 2: speed over whole passes for at least half a second */
    size_t done = 0;
    double start = now_s(), elapsed = 0;
    while (rc == 0 && ntest > 0 && elapsed < 0.5) {
        for (size_t i = 0; rc == 0 && i < test->n; i++) {
            if (same_file && used[i])
                continue;
            pl_understanding_t u;
            pl_arena_reset(&scratch);
            rc = pl_nlu_understand(nlu, test->rows[i].text, strlen(test->rows[i].text), &scratch,
                                   &u);
            done++;
        }
        elapsed = now_s() - start;
    }
    pl_arena_cleanup(&scratch);
    res->in_scope_accuracy = res->in_scope ? (double)ok_in / (double)res->in_scope : 0;
    res->oos_recall = res->oos ? (double)ok_oos / (double)res->oos : 0;
    res->utterances_per_second = elapsed > 0 ? (double)done / elapsed : 0;
    pl_nlu_free(nlu);
    pl_bot_free(bot);
    pl_free(used);
    return rc;
}

static int parse_seeds(const char *s, uint64_t *seeds, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || *n == MAX_SEEDS || (*end != ',' && *end != '\0'))
            return -1;
        seeds[(*n)++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return *n > 0 ? 0 : -1;
}

int pl_cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"train", required_argument, NULL, 'r'},
                                         {"test", required_argument, NULL, 't'},
                                         {"lang", required_argument, NULL, 'l'},
                                         {"shots", required_argument, NULL, 'k'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"threshold", required_argument, NULL, 'T'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "signals") == 0)
        return pl_cmd_eval_signals(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "intents") != 0)
        return pl_cli_usage_error("eval", "unknown evaluation '%s'; available: intents, signals",
                                  argc < 2 ? "" : argv[1]);
    argc--;
    argv++;
    const char *train_path = NULL, *test_path = NULL, *lang = NULL;
    long shots = 10;
    double threshold = 0;
    uint64_t seeds[MAX_SEEDS] = {1};
    size_t nseeds = 1;
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r':
            train_path = optarg;
            break;
        case 't':
            test_path = optarg;
            break;
        case 'l':
            lang = optarg;
            if (strcmp(lang, "de") != 0 && strcmp(lang, "en") != 0)
                return pl_cli_usage_error("eval", "--lang must be de or en");
            break;
        case 'k':
            shots = strtol(optarg, &end, 10);
            if (end == optarg || *end || shots < 1 || shots > 1000)
                return pl_cli_usage_error("eval", "--shots needs a whole number from 1 to 1000");
            break;
        case 's':
            if (parse_seeds(optarg, seeds, &nseeds) != 0)
                return pl_cli_usage_error("eval", "--seed needs numbers separated by commas "
                                                  "(at most 16)");
            break;
        case 'T':
            threshold = strtod(optarg, &end);
            if (end == optarg || *end || threshold <= 0 || threshold >= 1)
                return pl_cli_usage_error("eval", "--threshold needs a number between 0 and 1");
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return 0;
        default:
            if (optopt)
                return pl_cli_usage_error("eval", "option '%s' needs a value", argv[optind - 1]);
            return pl_cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return pl_cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (train_path == NULL || test_path == NULL || lang == NULL)
        return pl_cli_usage_error("eval", "--train, --test and --lang are required");

    dataset_t train, test;
    size_t bad_train, bad_test;
    int rc = dataset_read(train_path, &train, &bad_train);
    if (rc == 0)
        rc = dataset_read(test_path, &test, &bad_test);
    else
        memset(&test, 0, sizeof(test));
    if (rc != 0) {
        dataset_free(&train);
        dataset_free(&test);
        return rc == PL_ENOMEM ? PL_EXIT_FAIL : PL_EXIT_USAGE;
    }
    if (bad_train + bad_test > 0)
        fprintf(stderr, "parley eval: skipped %zu lines without 'intent<TAB>text'\n",
                bad_train + bad_test);
    int same = strcmp(train_path, test_path) == 0;
    result_t mean = {0};
    for (size_t i = 0; i < nseeds && rc == 0; i++) {
        result_t r;
        rc = evaluate(&train, &test, same, (size_t)shots, seeds[i], lang, threshold, &r);
        if (rc != 0)
            break;
        if (!json)
            printf("seed %llu: in-scope accuracy %.4f (%zu lines), oos recall %.4f (%zu lines), "
                   "%.0f utterances/s, build %.2f ms, index %zu bytes, %zu intents, %zu shots\n",
                   (unsigned long long)seeds[i], r.in_scope_accuracy, r.in_scope, r.oos_recall,
                   r.oos, r.utterances_per_second, r.build_ms, r.index_bytes, r.intents,
                   r.shots_used);
        double w = 1.0 / (double)nseeds;
        mean.in_scope_accuracy += r.in_scope_accuracy * w;
        mean.oos_recall += r.oos_recall * w;
        mean.utterances_per_second += r.utterances_per_second * w;
        mean.build_ms += r.build_ms * w;
        mean.load_ms += r.load_ms * w;
        mean.index_bytes = r.index_bytes > mean.index_bytes ? r.index_bytes : mean.index_bytes;
        mean.in_scope = r.in_scope;
        mean.oos = r.oos;
    }
    dataset_free(&train);
    dataset_free(&test);
    if (rc != 0) {
        fprintf(stderr, "parley eval: %s\n", pl_strerror(rc));
        return PL_EXIT_FAIL;
    }
    if (json)
        printf("{\"in_scope_accuracy\":%.4f,\"oos_recall\":%.4f,\"utterances_per_second\":%.0f,"
               "\"build_ms\":%.3f,\"load_ms\":%.3f,\"index_bytes\":%zu,\"in_scope_lines\":%zu,"
               "\"oos_lines\":%zu,\"seeds\":%zu,\"shots\":%ld}\n",
               mean.in_scope_accuracy, mean.oos_recall, mean.utterances_per_second, mean.build_ms,
               mean.load_ms, mean.index_bytes, mean.in_scope, mean.oos, nseeds, shots);
    else if (nseeds > 1)
        printf("mean of %zu seeds: in-scope accuracy %.4f, oos recall %.4f, %.0f utterances/s, "
               "build %.2f ms, index %zu bytes (largest)\n",
               nseeds, mean.in_scope_accuracy, mean.oos_recall, mean.utterances_per_second,
               mean.build_ms, mean.index_bytes);
    return 0;
}
