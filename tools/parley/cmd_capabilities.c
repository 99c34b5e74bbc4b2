/* `parley capabilities`: what a bot says about itself on a channel — the disclosure, what it
 * can do there, where the rest is, what it cannot do, how to reach a person — as text or as
 * the JSON the server serves at GET /v1/capabilities?channel=... */
#include "cli.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "render/manifest.h"
#include "runtime.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
    "usage: parley capabilities BOT.yaml [--channel web|app|voice] [--json]\n"
    "\n"
    "Prints the bot's manifest for a channel: the disclosure that it is automated, what it\n"
    "can do there, what is only available elsewhere (and where), what it cannot do with the\n"
    "alternative, and how to reach a person.\n"
    "\n"
    "  --channel NAME  the channel (default: web)\n"
    "  --json          the manifest as JSON (the shape of GET /v1/capabilities)\n"
    "  -h, --help      show this help\n";

int pl_cmd_capabilities(int argc, char **argv)
{
    static const struct option opts[] = {{"channel", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    pl_channel_t channel = PL_CHANNEL_WEB;
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'c') {
            if (pl_channel_parse(optarg, &channel) != 0)
                return pl_cli_usage_error("capabilities",
                                          "unknown channel '%s'; use web, app or voice", optarg);
        } else if (c == 'j') {
            json = 1;
        } else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else if (optopt == 'c') {
            return pl_cli_usage_error("capabilities", "--channel needs a value: web, app or voice");
        } else {
            return pl_cli_usage_error("capabilities", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return pl_cli_usage_error("capabilities", "give exactly one bot file");
    pl_diags_t d;
    pl_diags_init(&d);
    pl_bot_t *bot = NULL;
    int rc = pl_bot_load(argv[optind], &d, &bot);
    pl_diags_sort(&d);
    if (rc != 0)
        pl_diags_print(&d, stderr);
    pl_diags_cleanup(&d);
    if (rc != 0) {
        fprintf(stderr, "parley capabilities: the bot has errors: %s\n", pl_strerror(rc));
        return PL_EXIT_FAIL;
    }
    int status = 0;
    if (json) {
        cJSON *m = pl_manifest_json(bot, channel);
        char *s = m ? cJSON_Print(m) : NULL;
        if (s)
            puts(s);
        else
            status = PL_EXIT_FAIL;
        cJSON_free(s);
        cJSON_Delete(m);
    } else {
        pl_strbuf_t b;
        pl_strbuf_init(&b, 0);
        if (pl_manifest_text(bot, channel, &b) == 0)
            printf("%s\n", pl_strbuf_str(&b));
        else
            status = PL_EXIT_FAIL;
        pl_strbuf_cleanup(&b);
    }
    pl_bot_free(bot);
    return status;
}
