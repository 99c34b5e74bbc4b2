/* Helpers shared by the subcommands of `parley` (see cli.h). */
#include "cli.h"

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
