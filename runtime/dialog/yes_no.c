/* Yes/no answers (see yes_no.h): the message, lower-cased, without punctuation and emoji,
 * must be one of a few phrases. */
#include "dialog/yes_no.h"

#include <ctype.h>
#include <string.h>

static const char *const yes_en[] = {"yes",          "yes please", "yes thanks", "yes sure",
                                     "yeah",         "yep",        "sure",       "ok",
                                     "okay",         "of course",  "please do",  "go ahead",
                                     "i'll take it", "sounds good", "y",         NULL};
static const char *const no_en[] = {"no",         "no thanks", "no thank you", "nope",
                                    "not now",    "no way",    "i'd rather not", "n",
                                    "not really", NULL};
static const char *const yes_de[] = {"ja",        "ja bitte",   "ja gerne",  "ja klar",
                                     "gerne",     "klar",       "okay",      "ok",
                                     "nehme ich", "in ordnung", "einverstanden", "natürlich",
                                     "jawohl",    "jo",         NULL};
static const char *const no_de[] = {"nein",        "nein danke", "lieber nicht", "nicht jetzt",
                                    "nö",          "ne",         "auf keinen fall", "danke nein",
                                    "eher nicht",  NULL};

static int one_of(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* Lower-cases text into buf (ASCII letters and digits, apostrophes, German ä ö ü ß), other
 * characters becoming single spaces. Returns 0 when it does not fit: no yes or no is long. */
static int simplify(const char *text, char *buf, size_t cap)
{
    size_t w = 0;
    int space = 1; /* no leading space, runs collapsed */
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned char c = *p, umlaut = 0;
        size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (c == 0xc3 && p[1] != 0 && strchr("\x84\x96\x9c\xa4\xb6\xbc\x9f", p[1]) != NULL)
            umlaut = p[1] == 0x9f ? 0x9f : (unsigned char)(p[1] | 0x20); /* Ä → ä */
        int keep = umlaut || (c < 0x80 && (isalnum(c) || c == '\''));
        if (keep) {
            if (w + 2 >= cap)
                return 0;
            if (umlaut) {
                buf[w++] = (char)0xc3;
                buf[w++] = (char)umlaut;
            } else {
                buf[w++] = (char)tolower(c);
            }
            space = 0;
        } else if (!space) {
            if (w + 1 >= cap)
                return 0;
            buf[w++] = ' ';
            space = 1;
        }
        for (size_t k = 0; k < n && *p; k++)
            p++;
    }
    while (w > 0 && buf[w - 1] == ' ')
        w--;
    buf[w] = '\0';
    return 1;
}

int pl_yes_no(const char *language, const char *text)
{
    char buf[64];
    if (!simplify(text, buf, sizeof(buf)))
        return 0;
    int de = strcmp(language, "de") == 0;
    if (one_of(buf, de ? yes_de : yes_en))
        return 1;
    if (one_of(buf, de ? no_de : no_en))
        return -1;
    return 0;
}
