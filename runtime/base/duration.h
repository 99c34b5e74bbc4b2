/* Durations as people write them in bot files, tests and the terminal: "30d", "2h", "15m",
 * "10s", "500ms", optionally with a leading "+". */
#ifndef PL_DURATION_H
#define PL_DURATION_H

#include <stdint.h>

/* Parses s into milliseconds. Returns 0, or -1 when s is not a duration (or is negative or
 * longer than a million units). */
int pl_parse_duration(const char *s, int64_t *ms);

#endif
