/* `parley`: the command-line entry point. Dispatches to lint, chat, test and bench. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: parley COMMAND [OPTIONS] ...\n"
    "\n"
    "Runs and checks chatbots written in YAML (see dialogs/README.md).\n"
    "\n"
    "commands:\n"
    "  lint FILE...              check bot files; print every problem with file:line:column\n"
    "  chat BOT.yaml             talk to a bot in the terminal\n"
    "  test BOT.yaml TESTS...    run conversation tests written in YAML\n"
    "  bench turns BOT.yaml      measure how many turns per second the bot runs\n"
    "\n"
    "Run 'parley COMMAND --help' for the options of a command.\n";

int pl_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "parley %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'parley %s --help' for usage.\n", cmd);
    return PL_EXIT_USAGE;
}

int pl_cli_parse_duration(const char *s, int64_t *ms)
{
    if (*s == '+')
        s++;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0 || v > 1e6)
        return -1;
    double unit;
    if (strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "s") == 0)
        unit = 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        unit = 60e3;
    else if (strcmp(end, "h") == 0)
        unit = 3600e3;
    else if (strcmp(end, "d") == 0)
        unit = 86400e3;
    else
        return -1;
    *ms = (int64_t)(v * unit);
    return 0;
}

int64_t pl_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return PL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("parley 0.1.0");
        return 0;
    }
    if (strcmp(cmd, "lint") == 0)
        return pl_cmd_lint(argc - 1, argv + 1);
    if (strcmp(cmd, "chat") == 0)
        return pl_cmd_chat(argc - 1, argv + 1);
    if (strcmp(cmd, "test") == 0)
        return pl_cmd_test(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return pl_cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "parley: unknown command '%s'\n\n", cmd);
    fputs(usage, stderr);
    return PL_EXIT_USAGE;
}
