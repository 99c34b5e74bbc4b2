/* Helpers shared by the subcommands of `parley` (see cli.h). */
#include "cli.h"
#include "base/error.h"
#include "runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

struct pl_runtime *pl_cli_load_runtime(const char *cmd, const char *path, FILE *out)
{
    pl_diags_t d;
    pl_diags_init(&d);
    pl_runtime_t *rt = NULL;
    int rc = pl_runtime_load(path, &d, &rt);
    pl_diags_sort(&d);
    pl_diags_print(&d, out);
    pl_diags_cleanup(&d);
    if (rc == PL_EINVALID)
        fprintf(out, "parley %s: the bot has errors; fix them first (parley lint %s)\n", cmd, path);
    else if (rc != 0)
        fprintf(out, "parley %s: the bot cannot run: %s\n", cmd, pl_strerror(rc));
    return rc == 0 ? rt : NULL;
}

int64_t pl_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pl_cli_read_secret(const char *cmd, const char *path, unsigned char *buf, size_t cap,
                       size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "parley %s: cannot read the secret file %s: %s\n", cmd, path,
                strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, cap, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (more || n < 32) {
        fprintf(stderr,
                "parley %s: the secret in %s must be 32 to %zu bytes (it is the key the site's "
                "login signs tokens with; make one with: head -c 48 /dev/urandom | base64)\n",
                cmd, path, cap);
        return -1;
    }
    *len = n;
    return 0;
}
