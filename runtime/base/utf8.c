/* UTF-8 validity (see utf8.h), with utf8proc's decoder. */
#include "base/utf8.h"

#include <utf8proc.h>

int pl_utf8_valid(const char *s, size_t len)
{
    size_t off = 0;
    while (off < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + off, (utf8proc_ssize_t)(len - off), &cp);
        if (k <= 0 || cp == 0)
            return 0;
        off += (size_t)k;
    }
    return 1;
}
