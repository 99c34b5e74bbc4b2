/* `parley eval signals`: how well the persona signals read labelled messages. Each line of the
 * file names a language, the signal a person would say dominates, and the message; the
 * message goes through the bot of its language exactly as in a conversation, and the
 * strongest detected signal is compared with the label. */
#include "cli.h"
#include "base/error.h"
#include "base/mem.h"
#include "runtime.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: parley eval signals FILE.tsv --bot-en BOT.yaml --bot-de BOT.yaml [--min A] [--json]\n"
    "\n"
    "FILE has a header line 'lang<TAB>signal<TAB>text' and one labelled message per line\n"
    "(see tests/personas/README.md). Each message is read by the bot of its language; the\n"
    "strongest of its style signals (at least 0.3) is compared with the label, 'none' when no\n"
    "signal reaches 0.3. Prints the accuracy overall, per language and per signal, and the\n"
    "lines that were read differently.\n"
    "\n"
    "  --bot-en, --bot-de  the bots whose own word-list signals (e.g. 'expert') take part\n"
    "  --min A             exit with status 1 when the accuracy is below A (0..1)\n"
    "  --json              print the figures as one JSON object\n"
    "  -q, --quiet         do not list the lines read differently\n"
    "  -h, --help          show this help\n";

/* Signals about how a message is written; pace, channel and returning are about the
 * conversation, not the words, and short_message only says the message is short. */
static int style_signal(int i)
{
    return i != PL_SIG_SHORT_MESSAGE && i != PL_SIG_FAST_PACE && i != PL_SIG_VOICE &&
           i != PL_SIG_RETURNING;
}

typedef struct {
    char label[32];
    int total, ok;
} tally_t;

static void count(tally_t *t, size_t *n, const char *label, int ok)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (strcmp(t[i].label, label) == 0)
            break;
    if (i == *n) {
        if (*n == 64)
            return;
        snprintf(t[i].label, sizeof(t[i].label), "%s", label);
        (*n)++;
    }
    t[i].total++;
    t[i].ok += ok;
}

int pl_cmd_eval_signals(int argc, char **argv)
{
    static const struct option opts[] = {{"bot-en", required_argument, NULL, 'e'},
                                         {"bot-de", required_argument, NULL, 'd'},
                                         {"min", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *bot_en = NULL, *bot_de = NULL;
    double min = -1;
    int json = 0, quiet = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'e':
            bot_en = optarg;
            break;
        case 'd':
            bot_de = optarg;
            break;
        case 'm':
            min = strtod(optarg, &end);
            if (end == optarg || *end || min < 0 || min > 1)
                return pl_cli_usage_error("eval", "--min needs a number from 0 to 1");
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return 0;
        default:
            return pl_cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1 || bot_en == NULL || bot_de == NULL)
        return pl_cli_usage_error("eval", "give FILE.tsv, --bot-en and --bot-de");
    FILE *f = fopen(argv[optind], "r");
    if (f == NULL) {
        fprintf(stderr, "parley eval: cannot open '%s'\n", argv[optind]);
        return PL_EXIT_USAGE;
    }
    pl_runtime_t *rt_en = pl_cli_load_runtime("eval signals", bot_en, stderr);
    pl_runtime_t *rt_de = rt_en ? pl_cli_load_runtime("eval signals", bot_de, stderr) : NULL;
    if (rt_en == NULL || rt_de == NULL) {
        fclose(f);
        pl_runtime_unref(rt_en);
        return PL_EXIT_FAIL;
    }
    tally_t by_lang[64], by_signal[64];
    size_t nlang = 0, nsig = 0;
    int total = 0, ok = 0, bad_lines = 0;
    char line[PL_MAX_MESSAGE_BYTES + 64];
    pl_arena_t a;
    pl_arena_init(&a, 64 * 1024);
    int first = 1, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (first) {
            first = 0;
            if (strncmp(line, "lang\tsignal\ttext", 16) != 0) {
                fprintf(stderr,
                        "parley eval: the file must start with 'lang<TAB>signal<TAB>text'\n");
                rc = PL_EINVAL;
            }
            continue;
        }
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (t2 == NULL || (strncmp(line, "en\t", 3) != 0 && strncmp(line, "de\t", 3) != 0)) {
            bad_lines += line[0] != '\0';
            continue;
        }
        *t1 = *t2 = '\0';
        const char *lang = line, *label = t1 + 1, *text = t2 + 1;
        const pl_runtime_t *rt = strcmp(lang, "de") == 0 ? rt_de : rt_en;
        cJSON *state = cJSON_CreateObject();
        pl_event_t ev = {.text = text, .len = strlen(text), .channel = PL_CHANNEL_WEB};
        pl_turn_t turn;
        pl_arena_reset(&a);
        rc = state ? pl_runtime_turn(rt, &state, &ev, &a, &turn) : PL_ENOMEM;
        cJSON_Delete(state);
        if (rc == PL_EINVAL || rc == PL_ELIMIT) {
            bad_lines++;
            rc = 0;
            continue;
        }
        if (rc != 0)
            break;
        int best = -1;
        for (int i = 0; i < turn.signals.n; i++)
            if (style_signal(i) && turn.signals.v[i] >= 0.3 &&
                (best < 0 || turn.signals.v[i] > turn.signals.v[best]))
                best = i;
        const char *got = best >= 0 ? pl_signal_name(pl_runtime_bot(rt), best) : "none";
        int hit = strcmp(got, label) == 0;
        total++;
        ok += hit;
        count(by_lang, &nlang, lang, hit);
        count(by_signal, &nsig, label, hit);
        if (!hit && !quiet && !json)
            printf("  %s %-12s read as %-12s %s\n", lang, label, got, text);
    }
    fclose(f);
    pl_arena_cleanup(&a);
    pl_runtime_unref(rt_en);
    pl_runtime_unref(rt_de);
    if (rc != 0) {
        fprintf(stderr, "parley eval: %s\n", pl_strerror(rc));
        return PL_EXIT_FAIL;
    }
    double acc = total ? (double)ok / total : 0;
    if (json) {
        printf("{\"accuracy\":%.4f,\"lines\":%d", acc, total);
        for (size_t i = 0; i < nlang; i++)
            printf(",\"%s\":%.4f", by_lang[i].label, (double)by_lang[i].ok / by_lang[i].total);
        printf(",\"signals\":{");
        for (size_t i = 0; i < nsig; i++)
            printf("%s\"%s\":%.4f", i ? "," : "", by_signal[i].label,
                   (double)by_signal[i].ok / by_signal[i].total);
        printf("}}\n");
    } else {
        printf("accuracy %.4f (%d of %d lines)", acc, ok, total);
        for (size_t i = 0; i < nlang; i++)
            printf(", %s %.4f", by_lang[i].label, (double)by_lang[i].ok / by_lang[i].total);
        printf("\n");
        for (size_t i = 0; i < nsig; i++)
            printf("  %-13s %.2f (%d/%d)\n", by_signal[i].label,
                   (double)by_signal[i].ok / by_signal[i].total, by_signal[i].ok,
                   by_signal[i].total);
        if (bad_lines)
            printf("skipped %d lines that are not 'en|de<TAB>signal<TAB>text'\n", bad_lines);
    }
    return min >= 0 && acc < min ? PL_EXIT_FAIL : 0;
}
