/* UTF-8 validity, checked where text enters parley (messages, frames, request bodies). */
#ifndef PL_UTF8_H
#define PL_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8 without NUL characters. */
int pl_utf8_valid(const char *s, size_t len);

#endif
