/* The placeholder syntax of bot texts: {{slot.budget}}, {{profile.name|there}}.
 * Owned by the bot format (the loader checks names); render/ expands them. */
#ifndef PL_TEMPLATE_H
#define PL_TEMPLATE_H

#include <stddef.h>

typedef struct {
    size_t start, end; /* bytes of the whole "{{...}}" in the text */
    const char *name;  /* e.g. "slot.budget", not NUL-terminated */
    size_t name_len;
    const char *fallback; /* text after '|', or NULL */
    size_t fallback_len;
} pl_placeholder_t;

/* Finds the next placeholder in s at or after *pos. Returns 1 and fills ph (advancing *pos
 * past it), 0 when there is none, -1 for an opening "{{" without a closing "}}" (ph->start
 * is its position). Spaces around the name are ignored. */
int pl_template_next(const char *s, size_t *pos, pl_placeholder_t *ph);

#endif
