/* Scanner for {{placeholders}} in bot texts (see template.h). */
#include "dialog/template.h"

#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int pl_template_next(const char *s, size_t *pos, pl_placeholder_t *ph)
{
    const char *open = strstr(s + *pos, "{{");
    if (open == NULL)
        return 0;
    const char *close = strstr(open + 2, "}}");
    memset(ph, 0, sizeof(*ph));
    ph->start = (size_t)(open - s);
    if (close == NULL)
        return -1;
    ph->end = (size_t)(close - s) + 2;
    const char *a = open + 2, *b = close;
    const char *bar = memchr(a, '|', (size_t)(b - a));
    const char *name_end = bar ? bar : b;
    while (a < name_end && is_space(*a))
        a++;
    while (name_end > a && is_space(name_end[-1]))
        name_end--;
    ph->name = a;
    ph->name_len = (size_t)(name_end - a);
    if (bar != NULL) {
        const char *f = bar + 1, *fe = b;
        while (f < fe && is_space(*f))
            f++;
        while (fe > f && is_space(fe[-1]))
            fe--;
        ph->fallback = f;
        ph->fallback_len = (size_t)(fe - f);
    }
    *pos = ph->end;
    return 1;
}
