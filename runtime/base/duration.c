/* Durations as people write them (see duration.h). */
#include "base/duration.h"

#include <stdlib.h>
#include <string.h>

int pl_parse_duration(const char *s, int64_t *ms)
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
