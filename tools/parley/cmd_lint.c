/* `parley lint`: loads each bot file and prints every diagnostic in compiler format. */
#include "cli.h"
#include "base/error.h"
#include "dialog/bot.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
    "usage: parley lint [--strict] FILE...\n"
    "\n"
    "Checks bot files and prints every problem as FILE:LINE:COLUMN: error|warning: MESSAGE,\n"
    "with the line and a caret under the spot.\n"
    "\n"
    "  --strict    fail on warnings too\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 wrong usage.\n";

int pl_cmd_lint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"strict", no_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    int strict = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 's')
            strict = 1;
        else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else
            return pl_cli_usage_error("lint", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return pl_cli_usage_error("lint", "no file given");
    size_t errors = 0, warnings = 0;
    int nfiles = argc - optind;
    for (int i = optind; i < argc; i++) {
        pl_diags_t d;
        pl_diags_init(&d);
        pl_bot_t *bot = NULL;
        int rc = pl_bot_load(argv[i], &d, &bot);
        pl_diags_sort(&d);
        pl_diags_print(&d, stdout);
        if (rc == PL_ENOMEM)
            fprintf(stdout, "%s: error: out of memory\n", argv[i]);
        errors += d.errors + (rc == PL_ENOMEM);
        warnings += d.warnings;
        pl_bot_free(bot);
        pl_diags_cleanup(&d);
    }
    printf("%zu error%s, %zu warning%s in %d file%s\n", errors, errors == 1 ? "" : "s", warnings,
           warnings == 1 ? "" : "s", nfiles, nfiles == 1 ? "" : "s");
    return errors > 0 || (strict && warnings > 0) ? PL_EXIT_FAIL : 0;
}
