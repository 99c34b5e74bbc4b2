/* Emoji removal (see emoji.h), with utf8proc's grapheme-boundary classes. */
#include "render/emoji.h"

#include <string.h>
#include <utf8proc.h>

static int is_emoji(utf8proc_int32_t cp)
{
    int bc = utf8proc_get_property(cp)->boundclass;
    return bc == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
           bc == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR || cp == 0x200D /* zero-width joiner */ ||
           cp == 0xFE0E || cp == 0xFE0F /* variation selectors: text or emoji style */ ||
           (cp >= 0x1F3FB && cp <= 0x1F3FF) /* skin tones */ || cp == 0x20E3 /* keycap */ ||
           (cp >= 0xE0020 && cp <= 0xE007F) /* tags of subdivision flags */;
}

void pl_strip_emoji(char *s)
{
    size_t r = 0, w = 0, len = strlen(s);
    while (r < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)s + r, (utf8proc_ssize_t)(len - r), &cp);
        if (n <= 0) {
            s[w++] = s[r++];
            continue;
        }
        if (!is_emoji(cp)) {
            memmove(s + w, s + r, (size_t)n);
            w += (size_t)n;
        } else if (w > 0 && s[w - 1] == ' ' && r + (size_t)n < len && s[r + (size_t)n] == ' ') {
            r++; /* one of the two spaces around it goes */
        }
        r += (size_t)n;
    }
    while (w > 0 && s[w - 1] == ' ')
        w--;
    s[w] = '\0';
}
