/* German address forms in a text: "du" (du, dich, dir, dein...) or "Sie" (Sie, Ihnen, Ihr...
 * with a capital inside a sentence, since "sie" is also "she/they"). The linter uses it to
 * find texts that mix the two, the persona module to notice a customer switching to "du". */
#include "dialog/bot.h"

#include <string.h>

static int is_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static int word_is(const char *w, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(w, *list, n) == 0)
            return 1;
    return 0;
}

int pl_address_of(const char *text)
{
    static const char *const du[] = {"du",     "dich",   "dir",    "dein",   "deine", "deinen",
                                     "deinem", "deiner", "deines", "Du",     "Dich",  "Dir",
                                     "Dein",   "Deine",  "Deinen", "Deinem", NULL};
    static const char *const sie[] = {"Sie",   "Ihnen", "Ihr",   "Ihre", "Ihren",
                                      "Ihrem", "Ihrer", "Ihres", NULL};
    int found = 0, sentence_start = 1;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        if (!is_letter(*p)) {
            if (*p == '.' || *p == '!' || *p == '?' || *p == ':' || *p == '\n' || *p == '"')
                sentence_start = 1;
            p++;
            continue;
        }
        const unsigned char *w = p;
        while (*p && is_letter(*p))
            p++;
        size_t n = (size_t)(p - w);
        /* every form starts with d, D, S or I and has at most 6 letters: most words stop here */
        if (n > 6 || (*w != 'd' && *w != 'D' && *w != 'S' && *w != 'I')) {
            sentence_start = 0;
            continue;
        }
        if (word_is((const char *)w, n, du))
            found |= PL_ADDRESS_DU;
        /* "Sie" opening a sentence may be "she/they"; inside one, only the polite form */
        else if (!sentence_start && word_is((const char *)w, n, sie))
            found |= PL_ADDRESS_SIE;
        sentence_start = 0;
    }
    return found;
}
