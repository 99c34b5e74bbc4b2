/* Shared by the subcommands of the `parley` command. */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int pl_cmd_lint(int argc, char **argv);
int pl_cmd_chat(int argc, char **argv);
int pl_cmd_test(int argc, char **argv);
int pl_cmd_bench(int argc, char **argv);
int pl_cmd_eval(int argc, char **argv);
int pl_cmd_capabilities(int argc, char **argv);
int pl_cmd_eval_signals(int argc, char **argv);
int pl_cmd_serve(int argc, char **argv);
/* `parley export alexa`: the Alexa interaction model of a bot (cmd_export.c). */
int pl_cmd_export(int argc, char **argv);

/* Exit codes: 0 success, 1 the checked thing failed (lint errors, failing tests),
 * 2 the command was used wrongly or could not run. */
#define PL_EXIT_FAIL 1
#define PL_EXIT_USAGE 2

/* Prints "parley CMD: MESSAGE" and a hint to use --help; returns PL_EXIT_USAGE. */
int pl_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Loads the bot at path as a runtime for command cmd, printing its diagnostics (warnings too)
 * to out. On failure also says why ("parley CMD: the bot has errors; fix them first ...") and
 * returns NULL; the caller chooses the exit code. */
struct pl_runtime *pl_cli_load_runtime(const char *cmd, const char *path, FILE *out);

/* Reads an identity secret (the key a site's login signs HS256 tokens with) from path into
 * buf: the file's bytes without a final line break, 32 to cap bytes. Prints why not as
 * "parley CMD: ..." and returns -1; 0 with *len set on success. */
int pl_cli_read_secret(const char *cmd, const char *path, unsigned char *buf, size_t cap,
                       size_t *len);

/* Wall-clock time in UTC milliseconds (only the command line reads the clock). */
int64_t pl_cli_now_ms(void);

#endif
