/* `parley`: the command-line entry point. Dispatches to the commands. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

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
    "  eval intents ...          measure intent recognition on labelled data (few-shot)\n"
    "  capabilities BOT.yaml     what the bot says about itself on a channel\n"
    "  serve BOT.yaml...         serve the bots to the web widget and the app (HTTP, WebSocket)\n"
    "  export alexa BOT.yaml     the bot as an Alexa skill's interaction model (JSON)\n"
    "\n"
    "Run 'parley COMMAND --help' for the options of a command.\n";

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
    if (strcmp(cmd, "eval") == 0)
        return pl_cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "capabilities") == 0)
        return pl_cmd_capabilities(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return pl_cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return pl_cmd_export(argc - 1, argv + 1);
    fprintf(stderr, "parley: unknown command '%s'\n\n", cmd);
    fputs(usage, stderr);
    return PL_EXIT_USAGE;
}
