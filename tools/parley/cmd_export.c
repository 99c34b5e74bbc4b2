/* `parley export alexa`: the bot as the interaction model of an Alexa custom skill (JSON), so a
 * content team configures the skill from the same YAML that runs the bot. The model has one
 * Alexa intent per intent of the bot's own, named like it (the voice webhook maps the name
 * back), ParleyFreeTextIntent, whose slots carry everything else to parley's own NLU, and the
 * built-in intents every skill needs. Alexa's rules for names and samples are applied here;
 * what had to change or stay out is reported as notes. */
#include "cli.h"
#include "base/diag.h"
#include "base/error.h"
#include "base/hash.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "dialog/bot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* Names the voice webhook (channels/voice_alexa.c) relies on. */
#define FREE_TEXT_INTENT "ParleyFreeTextIntent"
#define FREE_TEXT_SLOT "text"
#define NUMBER_SLOT "number"
/* Numbers in examples are spelled out up to this; a longer one leaves its example out. */
#define MAX_SPELLED 999999UL

static const char help[] =
    "usage: parley export alexa BOT.yaml [--invocation NAME] [--out FILE]\n"
    "\n"
    "Writes the interaction model of an Alexa custom skill for the bot: the JSON that the\n"
    "Alexa developer console's JSON editor and the ASK CLI take. The locale follows the bot's\n"
    "language: en-US or de-DE (said on standard error).\n"
    "\n"
    "  --invocation NAME  what customers say to open the skill (default: the bot's name in\n"
    "                     lower case). Lower-case letters and single spaces, numbers spelled\n"
    "                     out, an apostrophe only in a possessive (\"sam's\"), a period only\n"
    "                     after a single letter (\"a. b. c.\"); two words or more in English;\n"
    "                     no 'alexa', 'amazon', 'echo', 'computer', 'skill', 'app' and no\n"
    "                     launch word such as 'ask', 'open' or 'tell'\n"
    "  --out FILE         write the model to FILE (default: standard output); FILE is only\n"
    "                     written when the export succeeds\n"
    "  -h, --help         show this help\n"
    "\n"
    "The model holds one intent per intent of the bot (the built-in ones aside), named like it,\n"
    "with the bot's examples as samples (punctuation removed, numbers spelled out; an example\n"
    "with a code such as 'Z50' is left out); ParleyFreeTextIntent, which brings everything else\n"
    "and the answers to the bot's questions to parley's own understanding; a slot type per list\n"
    "entity that a slot asks for; and AMAZON.CancelIntent, HelpIntent, StopIntent,\n"
    "NavigateHomeIntent and FallbackIntent. What was changed or left out is listed as notes on\n"
    "standard error. An intent or entity whose id Alexa cannot take as a name is an error.\n";

/* ---- case-folded strings already used, with who uses them --------------------------------- */

typedef struct {
    char *key; /* NULL: free */
    int owner;
} seen_slot_t;

typedef struct {
    seen_slot_t *slots;
    size_t cap, n;
} seen_t;

static void seen_cleanup(seen_t *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].key); /* made by utf8proc, which allocates with malloc */
    pl_free(s->slots);
    memset(s, 0, sizeof(*s));
}

static seen_slot_t *seen_find(const seen_t *s, const char *key)
{
    size_t i = pl_hash(key, strlen(key)) & (s->cap - 1);
    while (s->slots[i].key != NULL && strcmp(s->slots[i].key, key) != 0)
        i = (i + 1) & (s->cap - 1);
    return &s->slots[i];
}

/* Adds key (taken: freed unless stored) for owner. Returns 0 when it was new, 1 when it was
 * there already (*prev: its owner), PL_ENOMEM. */
static int seen_put(seen_t *s, char *key, int owner, int *prev)
{
    if ((s->n + 1) * 2 > s->cap) {
        seen_t bigger = {.cap = s->cap ? s->cap * 2 : 64};
        bigger.slots = pl_calloc(bigger.cap, sizeof(*bigger.slots));
        if (bigger.slots == NULL) {
            free(key);
            return PL_ENOMEM;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].key != NULL)
                *seen_find(&bigger, s->slots[i].key) = s->slots[i];
        bigger.n = s->n;
        pl_free(s->slots);
        *s = bigger;
    }
    seen_slot_t *at = seen_find(s, key);
    if (at->key != NULL) {
        *prev = at->owner;
        free(key);
        return 1;
    }
    at->key = key;
    at->owner = owner;
    s->n++;
    return 0;
}

/* The text case-folded (malloc'd), so that "Hello" and "hello" count as one sample. */
static char *fold(const char *s)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    return n < 0 ? NULL : (char *)out;
}

/* ---- numbers in words ---------------------------------------------------------------------- */

static const char *const en_small[] = {"zero",    "one",     "two",       "three",    "four",
                                       "five",    "six",     "seven",     "eight",    "nine",
                                       "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                       "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const en_tens[] = {"",      "",      "twenty",  "thirty", "forty",
                                      "fifty", "sixty", "seventy", "eighty", "ninety"};
/* German units inside a compound ("ein" in "einundzwanzig"); alone, 1 is "eins". */
static const char *const de_units[] = {"",     "ein",   "zwei",   "drei", "vier",
                                       "fünf", "sechs", "sieben", "acht", "neun"};
static const char *const de_teens[] = {"zehn",     "elf",      "zwölf",    "dreizehn", "vierzehn",
                                       "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"};
static const char *const de_tens[] = {"",        "",        "zwanzig", "dreißig", "vierzig",
                                      "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"};

/* 1..999 in English words ("one hundred twenty one": spaces, as Alexa's own examples). */
static int en_below_1000(unsigned long n, pl_strbuf_t *b)
{
    int rc = 0;
    if (n >= 100) {
        rc = pl_strbuf_printf(b, "%s hundred%s", en_small[n / 100], n % 100 ? " " : "");
        n %= 100;
    }
    if (rc == 0 && n >= 20)
        rc = pl_strbuf_printf(b, "%s%s%s", en_tens[n / 10], n % 10 ? " " : "",
                              n % 10 ? en_small[n % 10] : "");
    else if (rc == 0 && n > 0)
        rc = pl_strbuf_puts(b, en_small[n]);
    return rc;
}

/* 1..999 in German, one word; last: nothing follows, so 1 is "eins" ("hunderteins"). */
static int de_below_1000(unsigned long n, int last, pl_strbuf_t *b)
{
    int rc = 0;
    if (n >= 100)
        rc = pl_strbuf_printf(b, "%shundert", n / 100 == 1 ? "" : de_units[n / 100]);
    n %= 100;
    if (rc != 0 || n == 0)
        return rc;
    if (n == 1)
        return pl_strbuf_puts(b, last ? "eins" : "ein");
    if (n < 10)
        return pl_strbuf_puts(b, de_units[n]);
    if (n < 20)
        return pl_strbuf_puts(b, de_teens[n - 10]);
    if (n % 10)
        rc = pl_strbuf_printf(b, "%sund", de_units[n % 10]);
    return rc ? rc : pl_strbuf_puts(b, de_tens[n / 10]);
}

/* Appends n (at most MAX_SPELLED) in words of the bot's language. */
static int spell_number(unsigned long n, int de, pl_strbuf_t *b)
{
    unsigned long th = n / 1000, rest = n % 1000;
    int rc = 0;
    if (n == 0)
        return pl_strbuf_puts(b, de ? "null" : "zero");
    if (de) {
        if (th > 0)
            rc = th == 1 ? pl_strbuf_puts(b, "tausend") : de_below_1000(th, 0, b);
        if (rc == 0 && th > 1)
            rc = pl_strbuf_puts(b, "tausend");
        return rc == 0 && rest > 0 ? de_below_1000(rest, 1, b) : rc;
    }
    if (th > 0) {
        rc = en_below_1000(th, b);
        if (rc == 0)
            rc = pl_strbuf_puts(b, rest ? " thousand " : " thousand");
    }
    return rc == 0 && rest > 0 ? en_below_1000(rest, b) : rc;
}

/* ---- text Alexa takes ---------------------------------------------------------------------- */

/* What a character is to the cleaner. Alexa's samples take letters, spaces, and as punctuation
 * only periods of abbreviations, possessive apostrophes and hyphens; numbers spelled out. */
typedef enum { C_SEP, C_LETTER, C_DIGIT, C_APOS, C_HYPHEN, C_DOT, C_NUMSEP } cclass_t;

static cclass_t class_of(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    default:
        break;
    }
    if (cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x02BC)
        return C_APOS;
    if (cp == '-' || cp == 0x2010 || cp == 0x2011)
        return C_HYPHEN;
    if (cp == '.')
        return C_DOT;
    return C_SEP;
}

typedef enum {
    CLEAN_SAMPLE, /* a sample utterance: numbers spelled out, codes refused */
    CLEAN_VALUE   /* a slot value: digits may stay as written */
} clean_mode_t;

typedef struct {
    const utf8proc_int32_t *cp;
    const cclass_t *cls;
    clean_mode_t mode;
    int de;
    pl_strbuf_t *out;
    char *why; /* set when the text cannot be taken */
    size_t whylen;
    int spelled; /* a number was spelled out */
} cleaner_t;

static int put_cp(pl_strbuf_t *b, utf8proc_int32_t cp)
{
    utf8proc_uint8_t u[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, u);
    return pl_strbuf_append(b, (const char *)u, (size_t)n);
}

/* A space before the next word, unless at the start or after one. */
static int put_gap(pl_strbuf_t *b)
{
    return b->len == 0 || b->data[b->len - 1] == ' ' ? 0 : pl_strbuf_putc(b, ' ');
}

static void token_text(const cleaner_t *c, size_t a, size_t z, char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = a; i < z && n + 4 < cap; i++)
        n += (size_t)utf8proc_encode_char(c->cp[i], (utf8proc_uint8_t *)buf + n);
    buf[n] = '\0';
}

/* Refuses the text: why says which word could not be taken. Returns 1. */
static int refuse(cleaner_t *c, size_t a, size_t z, const char *fmt)
{
    char word[96];
    token_text(c, a, z, word, sizeof(word));
    snprintf(c->why, c->whylen, fmt, word);
    return 1;
}

/* A run of digits (with separators) as a sample word: spelled out when it is a whole number
 * written plainly or with the language's thousands separator ("1,000", "1.000"). */
static int put_number(cleaner_t *c, size_t a, size_t z)
{
    const utf8proc_int32_t group = c->de ? '.' : ',';
    unsigned long v = 0;
    size_t digits = 0, since_sep = 0, seps = 0;
    for (size_t i = a; i < z; i++) {
        if (c->cls[i] == C_NUMSEP) {
            if (c->cp[i] != group || (seps == 0 ? since_sep > 3 : since_sep != 3))
                return refuse(c, a, z, "'%s' is not a whole number Alexa could hear as words");
            seps++;
            since_sep = 0;
            continue;
        }
        if (c->cp[i] < '0' || c->cp[i] > '9')
            return refuse(c, a, z, "'%s' is not a whole number Alexa could hear as words");
        if (++digits > 6)
            return refuse(c, a, z, "the number '%s' is too long to spell out");
        v = v * 10 + (unsigned long)(c->cp[i] - '0');
        since_sep++;
    }
    if ((seps > 0 && since_sep != 3) || v > MAX_SPELLED)
        return refuse(c, a, z, "'%s' is not a whole number Alexa could hear as words");
    int rc = put_gap(c->out);
    c->spelled = 1;
    return rc ? rc : spell_number(v, c->de, c->out);
}

/* One word (no separators inside): appended cleaned, or the text refused. */
static int put_token(cleaner_t *c, size_t a, size_t z)
{
    int abbrev = 0, rc;
    while (a < z && c->cls[a] != C_LETTER && c->cls[a] != C_DIGIT)
        a++;
    while (z > a && c->cls[z - 1] != C_LETTER && c->cls[z - 1] != C_DIGIT) {
        if (c->cls[z - 1] == C_DOT)
            abbrev = 1;
        z--;
    }
    if (a == z)
        return 0;
    size_t letters = 0, digits = 0, dots = 0, seps = 0;
    for (size_t i = a; i < z; i++) {
        letters += c->cls[i] == C_LETTER;
        digits += c->cls[i] == C_DIGIT;
        dots += c->cls[i] == C_DOT;
        seps += c->cls[i] == C_APOS || c->cls[i] == C_HYPHEN;
    }
    if (dots > 0) {
        /* "e.g." is said letter by letter ("e. g."); "lumen.de" is two words */
        int letterwise = 1;
        for (size_t i = a, start = a; i <= z; i++)
            if (i == z || c->cls[i] == C_DOT) {
                letterwise &= i - start == 1 && c->cls[start] == C_LETTER;
                start = i + 1;
            }
        for (size_t i = a, start = a; i <= z; i++)
            if (i == z || c->cls[i] == C_DOT) {
                if (letterwise) {
                    if ((rc = put_gap(c->out)) != 0 || (rc = put_cp(c->out, c->cp[start])) != 0 ||
                        (rc = pl_strbuf_putc(c->out, '.')) != 0)
                        return rc;
                } else if ((rc = put_token(c, start, i)) != 0) {
                    return rc;
                }
                start = i + 1;
            }
        return 0;
    }
    if (digits > 0 && c->mode == CLEAN_SAMPLE) {
        if (letters > 0 || seps > 0)
            return refuse(c, a, z,
                          "'%s' mixes letters and digits; Alexa wants numbers spelled out in "
                          "samples, and a code is better left to a slot");
        return put_number(c, a, z);
    }
    if ((rc = put_gap(c->out)) != 0)
        return rc;
    for (size_t i = a; i < z && rc == 0; i++) {
        if (c->cls[i] == C_LETTER || c->cls[i] == C_DIGIT) {
            rc = put_cp(c->out, c->cp[i]);
        } else if (c->cls[i] == C_NUMSEP) {
            rc = put_cp(c->out, c->cp[i]); /* only in values: "1.000" stays as written */
        } else {
            /* an apostrophe or hyphen inside a word stays; anything else separates words */
            int inside = i > a && i + 1 < z && c->cls[i - 1] != C_APOS &&
                         c->cls[i - 1] != C_HYPHEN && c->cls[i + 1] != C_APOS &&
                         c->cls[i + 1] != C_HYPHEN;
            rc =
                inside ? pl_strbuf_putc(c->out, c->cls[i] == C_APOS ? '\'' : '-') : put_gap(c->out);
        }
    }
    if (rc == 0 && abbrev && letters == 1 && z - a == 1)
        rc = pl_strbuf_putc(c->out, '.'); /* "a." of an abbreviation said letter by letter */
    return rc;
}

/* Symbols said as words in a sample ("1.000 €" is "tausend Euro"); NULL for the others. */
static const char *symbol_word(utf8proc_int32_t cp, int de)
{
    switch (cp) {
    case 0x20AC:
        return de ? "Euro" : "euros";
    case '$':
        return de ? "Dollar" : "dollars";
    case 0xA3:
        return de ? "Pfund" : "pounds";
    case '%':
        return de ? "Prozent" : "percent";
    case '&':
        return de ? "und" : "and";
    default:
        return NULL;
    }
}

/* Cleans text into words Alexa takes, separated by single spaces, into out (emptied first).
 * Returns 0 (out may be empty: nothing was left), 1 when the text cannot be taken (the reason
 * in why), PL_ENOMEM or PL_ELIMIT. *spelled tells whether a number was spelled out. */
static int clean_text(const char *text, clean_mode_t mode, int de, pl_strbuf_t *out, char *why,
                      size_t whylen, int *spelled)
{
    size_t len = strlen(text), n = 0;
    utf8proc_int32_t *cp = pl_malloc((len + 1) * sizeof(*cp));
    cclass_t *cls = pl_malloc((len + 1) * sizeof(*cls));
    int rc = cp == NULL || cls == NULL ? PL_ENOMEM : 0;
    for (size_t i = 0; rc == 0 && i < len;) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
                                              (utf8proc_ssize_t)(len - i), &cp[n]);
        if (k <= 0) { /* the loader has checked the UTF-8; skip a byte to be safe */
            i++;
            continue;
        }
        cls[n] = class_of(cp[n]);
        i += (size_t)k;
        n++;
    }
    /* "1,000" and "3.5": a comma or period between digits belongs to the number */
    for (size_t i = 1; rc == 0 && i + 1 < n; i++)
        if ((cp[i] == ',' || cp[i] == '.') && cls[i - 1] == C_DIGIT && cls[i + 1] == C_DIGIT)
            cls[i] = C_NUMSEP;
    cleaner_t c = {cp, cls, mode, de, out, why, whylen, 0};
    const char *after = NULL; /* a currency said after the number it stands before ("$5") */
    pl_strbuf_clear(out);
    for (size_t i = 0; rc == 0 && i < n;) {
        for (; rc == 0 && i < n && cls[i] == C_SEP; i++) {
            const char *w = mode == CLEAN_SAMPLE ? symbol_word(cp[i], de) : NULL;
            size_t j = i + 1;
            while (j < n && utf8proc_category(cp[j]) == UTF8PROC_CATEGORY_ZS)
                j++;
            if (w != NULL && j < n && cls[j] == C_DIGIT && cp[i] != '%' && cp[i] != '&')
                after = w;
            else if (w != NULL && (rc = put_gap(out)) == 0)
                rc = pl_strbuf_puts(out, w);
        }
        size_t start = i;
        while (i < n && cls[i] != C_SEP)
            i++;
        if (rc == 0)
            rc = put_token(&c, start, i);
        if (rc == 0 && after != NULL && (rc = put_gap(out)) == 0) {
            rc = pl_strbuf_puts(out, after);
            after = NULL;
        }
    }
    while (rc == 0 && out->len > 0 && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    *spelled = c.spelled;
    pl_free(cp);
    pl_free(cls);
    return rc;
}

/* ---- names ----------------------------------------------------------------------------------- */

/* Alexa's rule for the names of custom intents and slot types: a letter first, then letters
 * and underscores only. */
static int alexa_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
            return 0;
    return 1;
}

static int in_list(const char *w, size_t n, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strlen(*list) == n && strncmp(*list, w, n) == 0)
            return 1;
    return 0;
}

/* Wake words and the words Alexa's invocation-name requirements forbid in any language. */
static const char *const forbidden_words[] = {"alexa", "amazon", "echo", "computer",
                                              "skill", "app",    NULL};
/* Launch words: the examples of the requirements, and "open" and "start", which customers use. */
static const char *const launch_en[] = {"ask",    "tell", "launch", "load", "begin",
                                        "enable", "open", "start",  NULL};
static const char *const launch_de[] = {"frag", "frage", "öffne", "starte", "sag", "sage", NULL};
/* Not in an English name of two words: articles, prepositions, pronouns. */
static const char *const small_en[] = {"the", "a", "an", "for", "to", "of", "my", NULL};

static int de_letter(utf8proc_int32_t cp)
{
    return cp == 0xE4 || cp == 0xF6 || cp == 0xFC || cp == 0xDF; /* ä ö ü ß */
}

/* NULL when Alexa takes name as an invocation name; else the rule it breaks (in buf). */
static const char *invocation_problem(const char *name, int de, char *buf, size_t cap)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)name;
    size_t len = strlen(name), words = 0, wstart = 0;
    char first_word[64] = "", bad[64] = "";
    if (len == 0)
        return "it is empty";
    if (name[0] == ' ' || name[len - 1] == ' ' || strstr(name, "  ") != NULL)
        return "put one space between words, none at the start or the end";
    for (size_t i = 0; i <= len;) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t k = 1;
        if (i < len && (k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp)) < 0)
            return "it is not valid UTF-8";
        if (i == len || cp == ' ') {
            size_t wl = i - wstart;
            const char *w = name + wstart;
            if (memchr(w, '.', wl) != NULL && !(wl == 2 && w[0] >= 'a' && w[0] <= 'z'))
                return "a period may only follow a single letter of an abbreviation said letter "
                       "by letter (\"a. b. c.\")";
            if (w[0] == '\'' || w[wl - 1] == '\'')
                return "an apostrophe may only stand inside a word, as in a possessive "
                       "(\"sam's\")";
            if (in_list(w, wl, forbidden_words) || in_list(w, wl, de ? launch_de : launch_en)) {
                snprintf(bad, sizeof(bad), "%.*s", (int)wl, w);
                snprintf(buf, cap,
                         "it may not contain '%s' (wake words, 'skill', 'app' and launch words "
                         "such as '%s' are not allowed)",
                         bad, de ? "frage" : "ask");
                return buf;
            }
            if (words == 0)
                snprintf(first_word, sizeof(first_word), "%.*s", (int)wl, w);
            words++;
            wstart = i + 1;
            i++;
            continue;
        }
        if (cp >= '0' && cp <= '9')
            return "numbers must be spelled out (\"twenty one\", not \"21\")";
        if (utf8proc_tolower(cp) != cp)
            return "it must be lower case";
        if (!((cp >= 'a' && cp <= 'z') || cp == '\'' || cp == '.' || (de && de_letter(cp))))
            return de ? "it may only have the letters a to z, ä, ö, ü and ß, spaces, an "
                        "apostrophe in a possessive and a period after a single letter"
                      : "it may only have the letters a to z, spaces, an apostrophe in a "
                        "possessive and a period after a single letter";
        i += (size_t)k;
    }
    if (!de && words < 2)
        return "it needs at least two words in English (one word only for a brand you own, "
               "which this command cannot know)";
    if (!de && words == 2) {
        const char *second = strchr(name, ' ') + 1;
        const char *w = in_list(first_word, strlen(first_word), small_en) ? first_word
                        : in_list(second, strlen(second), small_en)       ? second
                                                                          : NULL;
        if (w != NULL) {
            snprintf(buf, cap,
                     "a name of two words may not contain '%s' (an article, preposition or "
                     "pronoun)",
                     w);
            return buf;
        }
    }
    return NULL;
}

/* The bot's name as an invocation name: lower case, letters and spaces, numbers spelled out,
 * accents dropped (in German ä, ö, ü and ß stay). */
static int invocation_from_name(const char *name, int de, pl_strbuf_t *out)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)name;
    size_t len = strlen(name);
    utf8proc_int32_t prev = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < len;) {
        utf8proc_int32_t cp, next = 0;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) {
            i++;
            continue;
        }
        if (i + (size_t)k < len)
            utf8proc_iterate(s + i + k, (utf8proc_ssize_t)(len - i - (size_t)k), &next);
        cclass_t cl = class_of(cp);
        if (cl == C_DIGIT && cp >= '0' && cp <= '9') {
            unsigned long v = 0;
            size_t nd = 0;
            while (i < len && name[i] >= '0' && name[i] <= '9') {
                if (nd++ < 6)
                    v = v * 10 + (unsigned long)(name[i] - '0');
                i++;
            }
            if (nd <= 6 && (rc = put_gap(out)) == 0 && (rc = spell_number(v, de, out)) == 0)
                rc = pl_strbuf_putc(out, ' ');
            prev = '0';
            continue;
        }
        i += (size_t)k;
        utf8proc_int32_t lower = utf8proc_tolower(cp);
        if ((lower >= 'a' && lower <= 'z') || (de && de_letter(lower))) {
            rc = put_cp(out, lower);
        } else if (cl == C_LETTER) {
            utf8proc_int32_t base[4];
            int last = 0;
            utf8proc_ssize_t nb = utf8proc_decompose_char(
                lower, base, 4, UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK, &last);
            if (nb >= 1 && base[0] >= 'a' && base[0] <= 'z')
                rc = put_cp(out, base[0]);
            else if (nb != 0) /* a mark alone is dropped; another script separates words */
                rc = put_gap(out);
        } else if (cl == C_APOS && class_of(prev) == C_LETTER && class_of(next) == C_LETTER) {
            rc = pl_strbuf_putc(out, '\'');
        } else {
            rc = put_gap(out);
        }
        prev = cp;
    }
    while (rc == 0 && out->len > 0 && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    return rc;
}

/* ---- the model ------------------------------------------------------------------------------- */

typedef struct {
    const pl_bot_t *bot;
    int de;
    pl_diags_t *d;
    seen_t samples; /* every custom intent's samples, case-folded, with the bot intent's index */
    pl_strbuf_t buf;
    int rc;             /* PL_ENOMEM or PL_ELIMIT once something could not be made */
    size_t left_out;    /* examples that did not become samples */
    size_t spelled;     /* examples whose numbers were spelled out */
    size_t own_intents; /* the bot's intents in the model */
    size_t types;       /* slot types in the model */
    char **texts;       /* the bot's files, read when a note needs a position */
} export_t;

/* The bot's file in which key is written at pos, or NULL. pos.file cannot be used once the
 * bot is loaded (it points into the parsed documents, which the loader frees), so the line
 * and column are looked up in the files the bot lists. */
static const char *file_of(export_t *x, pl_pos_t pos, const char *key)
{
    const pl_bot_t *bot = x->bot;
    if (pos.line <= 0 || pos.col <= 0)
        return NULL;
    if (x->texts == NULL && (x->texts = pl_calloc(bot->nfiles + 1, sizeof(char *))) == NULL)
        return NULL;
    for (size_t f = 0; f < bot->nfiles; f++) {
        if (x->texts[f] == NULL) {
            pl_strbuf_t b;
            char chunk[8192];
            size_t n;
            FILE *in = fopen(bot->files[f], "rb");
            pl_strbuf_init(&b, 16 * 1024 * 1024);
            while (in != NULL && (n = fread(chunk, 1, sizeof(chunk), in)) > 0)
                if (pl_strbuf_append(&b, chunk, n) != 0)
                    break;
            if (in != NULL)
                fclose(in);
            x->texts[f] = pl_strdup(pl_strbuf_str(&b));
            pl_strbuf_cleanup(&b);
            if (x->texts[f] == NULL)
                continue;
        }
        const char *p = x->texts[f];
        for (int line = 1; line < pos.line && p != NULL; line++)
            if ((p = strchr(p, '\n')) != NULL)
                p++;
        for (int col = 1; p != NULL && col < pos.col && *p && *p != '\n'; col++)
            do /* columns count characters */
                p++;
            while ((*p & 0xC0) == 0x80);
        if (p != NULL && (*p == '"' || *p == '\''))
            p++;
        size_t kl = strlen(key);
        if (p != NULL && strncmp(p, key, kl) == 0 &&
            (p[kl] == ':' || p[kl] == ' ' || p[kl] == '"' || p[kl] == '\''))
            return bot->files[f];
    }
    return NULL;
}

/* A diagnostic at the place where key (an intent, entity or slot) is written. */
static void note_at(export_t *x, pl_diag_level_t level, pl_pos_t pos, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void note_at(export_t *x, pl_diag_level_t level, pl_pos_t pos, const char *key,
                    const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *file = file_of(x, pos, key);
    pl_diag(x->d, level, file, file ? pos.line : 0, file ? pos.col : 0, pos.len > 0 ? pos.len : 1,
            "%s", msg);
}

/* Adds a copy of s to the array; remembers an allocation failure. */
static void add_string(export_t *x, cJSON *arr, const char *s)
{
    cJSON *item = cJSON_CreateString(s);
    if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        x->rc = PL_ENOMEM;
    }
}

static cJSON *add_object(export_t *x, cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        x->rc = PL_ENOMEM;
        return NULL;
    }
    return o;
}

static void add_slot(export_t *x, cJSON *slots, const char *name, const char *type)
{
    cJSON *s = add_object(x, slots);
    if (s != NULL && (cJSON_AddStringToObject(s, "name", name) == NULL ||
                      cJSON_AddStringToObject(s, "type", type) == NULL))
        x->rc = PL_ENOMEM;
}

/* The Alexa intent for the bot's intent i, appended to intents (nothing when no sample is
 * left). The same sample in two intents would be ambiguous: the first intent keeps it. */
static void export_intent(export_t *x, size_t i, cJSON *intents)
{
    const pl_intent_t *in = &x->bot->intents[i];
    cJSON *o = cJSON_CreateObject();
    cJSON *samples = NULL;
    if (o == NULL || cJSON_AddStringToObject(o, "name", in->id) == NULL ||
        (samples = cJSON_AddArrayToObject(o, "samples")) == NULL) {
        cJSON_Delete(o);
        x->rc = PL_ENOMEM;
        return;
    }
    for (size_t k = 0; k < in->nexamples && x->rc == 0; k++) {
        char why[256] = "";
        int spelled = 0;
        int rc =
            clean_text(in->examples[k], CLEAN_SAMPLE, x->de, &x->buf, why, sizeof(why), &spelled);
        if (rc < 0) {
            x->rc = rc;
            break;
        }
        if (rc == 1 || x->buf.len == 0) {
            x->left_out++;
            note_at(x, PL_DIAG_NOTE, in->pos, in->id,
                    "example \"%s\" of intent '%s' is left out: %s", in->examples[k], in->id,
                    rc == 1 ? why : "nothing of it is left without punctuation");
            continue;
        }
        char *key = fold(pl_strbuf_str(&x->buf));
        int prev = -1;
        rc = key == NULL ? PL_ENOMEM : seen_put(&x->samples, key, (int)i, &prev);
        if (rc < 0) {
            x->rc = rc;
            break;
        }
        if (rc == 1 && prev == (int)i)
            continue; /* the same sample twice in one intent once cleaned */
        if (rc == 1) {
            x->left_out++;
            note_at(x, PL_DIAG_NOTE, in->pos, in->id,
                    "example \"%s\" of intent '%s' is left out: as the sample \"%s\" it belongs "
                    "to intent '%s' already, and Alexa gives a sample to one intent only",
                    in->examples[k], in->id, pl_strbuf_str(&x->buf), x->bot->intents[prev].id);
            continue;
        }
        x->spelled += (size_t)spelled;
        add_string(x, samples, pl_strbuf_str(&x->buf));
    }
    if (cJSON_GetArraySize(samples) == 0) {
        if (x->rc == 0)
            note_at(x, PL_DIAG_WARNING, in->pos, in->id,
                    "intent '%s' is left out of the Alexa model: none of its examples can be a "
                    "sample, so customers reach it by voice only through parley's own "
                    "understanding of free text",
                    in->id);
        cJSON_Delete(o);
        return;
    }
    if (!cJSON_AddItemToArray(intents, o)) {
        cJSON_Delete(o);
        x->rc = PL_ENOMEM;
        return;
    }
    x->own_intents++;
}

/* The custom slot type of list entity e: its values with their synonyms, each said once.
 * Returns 0 when no value is left (and nothing is added). */
static int export_type(export_t *x, const pl_entity_t *e, cJSON *types)
{
    seen_t said = {0};
    cJSON *t = add_object(x, types), *values = NULL;
    if (t == NULL || cJSON_AddStringToObject(t, "name", e->id) == NULL ||
        (values = cJSON_AddArrayToObject(t, "values")) == NULL) {
        x->rc = PL_ENOMEM;
        return 0;
    }
    for (size_t v = 0; v < e->nvalues && x->rc == 0; v++) {
        const pl_entity_value_t *ev = &e->values[v];
        cJSON *val = NULL, *name = NULL, *syns = NULL;
        for (size_t k = 0; k < ev->nsynonyms && x->rc == 0; k++) {
            /* the forms the author wrote first, so "DSLR" names the value, not its id "dslr" */
            size_t s = (k + 1) % ev->nsynonyms;
            char why[128];
            int spelled, prev = -1;
            int rc = clean_text(ev->synonyms[s], CLEAN_VALUE, x->de, &x->buf, why, sizeof(why),
                                &spelled);
            if (rc < 0) {
                x->rc = rc;
                break;
            }
            if (rc == 1 || x->buf.len == 0)
                continue; /* nothing Alexa could take is left of it */
            char *key = fold(pl_strbuf_str(&x->buf));
            rc = key == NULL ? PL_ENOMEM : seen_put(&said, key, (int)v, &prev);
            if (rc < 0) {
                x->rc = rc;
                break;
            }
            if (rc == 1) {
                if (prev != (int)v)
                    note_at(x, PL_DIAG_NOTE, e->pos, e->id,
                            "\"%s\" is left out of value '%s' of slot type '%s': value '%s' has "
                            "it already, and Alexa takes each value once in a type",
                            ev->synonyms[s], ev->value, e->id, e->values[prev].value);
                continue;
            }
            if (val == NULL) { /* the first that is left is what the value is called */
                val = add_object(x, values);
                if (val == NULL || cJSON_AddStringToObject(val, "id", ev->value) == NULL ||
                    (name = cJSON_AddObjectToObject(val, "name")) == NULL ||
                    cJSON_AddStringToObject(name, "value", pl_strbuf_str(&x->buf)) == NULL ||
                    (syns = cJSON_AddArrayToObject(name, "synonyms")) == NULL)
                    x->rc = PL_ENOMEM;
            } else {
                add_string(x, syns, pl_strbuf_str(&x->buf));
            }
        }
        if (val != NULL && cJSON_GetArraySize(syns) == 0)
            cJSON_DeleteItemFromObjectCaseSensitive(name, "synonyms");
    }
    seen_cleanup(&said);
    if (cJSON_GetArraySize(values) == 0) {
        cJSON_DeleteItemFromArray(types, cJSON_GetArraySize(types) - 1);
        if (x->rc == 0)
            note_at(x, PL_DIAG_WARNING, e->pos, e->id,
                    "entity '%s' is left out of the Alexa model: none of its values is words "
                    "Alexa could take",
                    e->id);
        return 0;
    }
    x->types++;
    return 1;
}

/* Carrier phrases for the free text: Alexa takes an AMAZON.SearchQuery slot only with words
 * around it, and sends only the slot's words. So the carriers are words that mean nothing to
 * the bot (fillers, "please", "I mean"), and what the customer wants stays inside {text}. */
static const char *const carriers_en[] = {"i said {text}",       "i mean {text}",
                                          "i'd say {text}",      "well {text}",
                                          "so {text}",           "and {text}",
                                          "also {text}",         "please {text}",
                                          "{text} please",       "it's {text}",
                                          "it is {text}",        "that's {text}",
                                          "my answer is {text}", NULL};
static const char *const carriers_de[] = {"ich sagte {text}",
                                          "ich sage {text}",
                                          "ich meine {text}",
                                          "ich würde sagen {text}",
                                          "also {text}",
                                          "na ja {text}",
                                          "und {text}",
                                          "bitte {text}",
                                          "{text} bitte",
                                          "es ist {text}",
                                          "das ist {text}",
                                          "meine antwort ist {text}",
                                          NULL};

/* ParleyFreeTextIntent: the free text behind carrier phrases, and one slot per kind of
 * answer the bot asks for (a list entity's type, AMAZON.NUMBER for numbers and amounts),
 * each alone as a sample. The webhook gives the words of whatever slot is filled to parley's
 * NLU, as if typed. A SearchQuery slot is never combined with another slot in one sample. */
static void export_free_text(export_t *x, cJSON *intents, cJSON *types)
{
    const pl_bot_t *bot = x->bot;
    cJSON *o = add_object(x, intents);
    cJSON *slots = o ? cJSON_AddArrayToObject(o, "slots") : NULL;
    cJSON *samples = o ? cJSON_AddArrayToObject(o, "samples") : NULL;
    if (o == NULL || slots == NULL || samples == NULL ||
        cJSON_AddStringToObject(o, "name", FREE_TEXT_INTENT) == NULL) {
        x->rc = PL_ENOMEM;
        return;
    }
    add_slot(x, slots, FREE_TEXT_SLOT, "AMAZON.SearchQuery");
    for (const char *const *c = x->de ? carriers_de : carriers_en; *c != NULL; c++)
        add_string(x, samples, *c);
    int number = 0;
    for (size_t e = 0; e < bot->nentities && x->rc == 0; e++) {
        const pl_entity_t *ent = &bot->entities[e];
        int asked = 0;
        for (size_t s = 0; s < bot->nslots && !asked; s++)
            asked = bot->slots[s].entity == (int)e;
        if (!asked)
            continue;
        if (ent->kind == PL_ENTITY_NUMBER || ent->kind == PL_ENTITY_MONEY) {
            number = 1;
            continue;
        }
        if (ent->kind != PL_ENTITY_LIST)
            continue;
        if (!alexa_name_ok(ent->id)) {
            note_at(x, PL_DIAG_ERROR, ent->pos, ent->id,
                    "entity '%s' cannot name an Alexa slot type: Alexa's names of slot types "
                    "take letters and '_' only, starting with a letter; rename the entity",
                    ent->id);
            continue;
        }
        /* the slot is named like its type; "text" and "number" are taken */
        char slot[80];
        int taken =
            strcasecmp(ent->id, FREE_TEXT_SLOT) == 0 || strcasecmp(ent->id, NUMBER_SLOT) == 0;
        snprintf(slot, sizeof(slot), "%s%s", ent->id, taken ? "_value" : "");
        if (!export_type(x, ent, types))
            continue;
        add_slot(x, slots, slot, ent->id);
        pl_strbuf_clear(&x->buf);
        if (pl_strbuf_printf(&x->buf, "{%s}", slot) != 0)
            x->rc = PL_ENOMEM;
        add_string(x, samples, pl_strbuf_str(&x->buf));
    }
    if (number) {
        add_slot(x, slots, NUMBER_SLOT, "AMAZON.NUMBER");
        add_string(x, samples, "{" NUMBER_SLOT "}");
    }
    for (size_t s = 0; s < bot->nslots; s++) {
        const pl_slot_t *sl = &bot->slots[s];
        if (sl->entity >= 0 && bot->entities[sl->entity].kind != PL_ENTITY_REGEX)
            continue;
        note_at(x, PL_DIAG_NOTE, sl->pos, sl->id,
                "slot '%s' has no Alexa slot (%s): by voice its answer reaches the bot only "
                "after a carrier phrase of " FREE_TEXT_INTENT ", such as \"%s\"",
                sl->id,
                sl->entity < 0 ? "it takes free text"
                               : "Alexa has no slot type for a regular expression",
                x->de ? "es ist ..." : "it is ...");
    }
}

/* Checks the names the bot's intents would have in the model. Errors go to the diagnostics. */
static void check_intent_names(export_t *x)
{
    const pl_bot_t *bot = x->bot;
    for (size_t i = 0; i < bot->nintents; i++) {
        const pl_intent_t *in = &bot->intents[i];
        if (pl_bot_is_builtin(bot, (int)i))
            continue;
        if (!alexa_name_ok(in->id)) {
            note_at(x, PL_DIAG_ERROR, in->pos, in->id,
                    "intent '%s' cannot be named in the Alexa model: Alexa's intent names take "
                    "letters and '_' only, starting with a letter, and the voice webhook finds "
                    "the bot's intent by that name; rename the intent",
                    in->id);
            continue;
        }
        if (strcasecmp(in->id, FREE_TEXT_INTENT) == 0)
            note_at(x, PL_DIAG_ERROR, in->pos, in->id,
                    "intent '%s' has the name of parley's own catch-all intent in the Alexa "
                    "model; rename the intent",
                    in->id);
        for (size_t j = 0; j < i; j++)
            if (!pl_bot_is_builtin(bot, (int)j) && strcasecmp(bot->intents[j].id, in->id) == 0) {
                note_at(x, PL_DIAG_ERROR, in->pos, in->id,
                        "intents '%s' and '%s' differ only in case, which Alexa's intent names "
                        "do not tell apart; rename one",
                        bot->intents[j].id, in->id);
                break;
            }
    }
}

static const char *const amazon_intents[] = {"AMAZON.CancelIntent",   "AMAZON.HelpIntent",
                                             "AMAZON.StopIntent",     "AMAZON.NavigateHomeIntent",
                                             "AMAZON.FallbackIntent", "AMAZON.YesIntent",
                                             "AMAZON.NoIntent",       NULL};

/* Built-in intents the skill hears by name: asking for a person, whether it is a bot, what it
 * can do, or for a link code means the same on every channel. The privacy requests stay with
 * parley's own understanding, which asks for their key words and a high confidence. */
static int exported(const pl_bot_t *bot, size_t i)
{
    return !pl_bot_is_builtin(bot, (int)i) ||
           (int)i == bot->builtin[PL_BUILTIN_TALK_TO_HUMAN] ||
           (int)i == bot->builtin[PL_BUILTIN_ARE_YOU_A_BOT] ||
           (int)i == bot->builtin[PL_BUILTIN_WHAT_CAN_YOU_DO] ||
           (int)i == bot->builtin[PL_BUILTIN_LINK_CHANNEL];
}

/* The whole interaction model, or NULL (x->rc, or errors in the diagnostics). */
static cJSON *export_model(export_t *x, const char *invocation)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *im = root ? cJSON_AddObjectToObject(root, "interactionModel") : NULL;
    cJSON *lm = im ? cJSON_AddObjectToObject(im, "languageModel") : NULL;
    cJSON *intents = NULL, *types = NULL;
    if (lm == NULL || cJSON_AddStringToObject(lm, "invocationName", invocation) == NULL ||
        (intents = cJSON_AddArrayToObject(lm, "intents")) == NULL ||
        (types = cJSON_AddArrayToObject(lm, "types")) == NULL) {
        cJSON_Delete(root);
        x->rc = PL_ENOMEM;
        return NULL;
    }
    check_intent_names(x);
    for (size_t i = 0; i < x->bot->nintents && x->rc == 0; i++)
        if (exported(x->bot, i) && alexa_name_ok(x->bot->intents[i].id))
            export_intent(x, i, intents);
    if (x->rc == 0)
        export_free_text(x, intents, types);
    for (const char *const *a = amazon_intents; *a != NULL && x->rc == 0; a++) {
        cJSON *o = add_object(x, intents);
        if (o != NULL && (cJSON_AddStringToObject(o, "name", *a) == NULL ||
                          cJSON_AddArrayToObject(o, "samples") == NULL))
            x->rc = PL_ENOMEM;
    }
    if (x->rc != 0 || x->d->errors > 0) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ---- the command ----------------------------------------------------------------------------- */

static int write_model(const char *path, const char *json)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (f == NULL) {
        fprintf(stderr, "parley export: cannot write %s: %s\n", path, strerror(errno));
        return PL_EXIT_USAGE;
    }
    int bad = fputs(json, f) == EOF || fputc('\n', f) == EOF;
    bad |= path ? fclose(f) != 0 : fflush(f) != 0;
    if (bad) {
        fprintf(stderr, "parley export: cannot write %s: %s\n", path ? path : "the model",
                strerror(errno));
        return PL_EXIT_USAGE;
    }
    return 0;
}

int pl_cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"invocation", required_argument, NULL, 'i'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *invocation = NULL, *out_path = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'i') {
            invocation = optarg;
        } else if (c == 'o') {
            out_path = optarg;
        } else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else if (optopt == 'i' || optopt == 'o') {
            return pl_cli_usage_error("export", "--%s needs a value",
                                      optopt == 'i' ? "invocation" : "out");
        } else {
            return pl_cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return pl_cli_usage_error("export", "give the target and the bot: parley export alexa "
                                            "BOT.yaml");
    if (strcmp(argv[optind], "alexa") != 0)
        return pl_cli_usage_error("export",
                                  "unknown target '%s'; only 'alexa' (an Alexa custom "
                                  "skill's interaction model)",
                                  argv[optind]);
    if (optind + 2 != argc)
        return pl_cli_usage_error("export", "give exactly one bot file");
    const char *path = argv[optind + 1];

    pl_diags_t d;
    pl_diags_init(&d);
    pl_bot_t *bot = NULL;
    int rc = pl_bot_load(path, &d, &bot);
    if (rc != 0) {
        pl_diags_sort(&d);
        pl_diags_print(&d, stderr);
        pl_diags_cleanup(&d);
        if (rc == PL_EINVALID)
            fprintf(stderr, "parley export: the bot has errors; fix them first (parley lint %s)\n",
                    path);
        else
            fprintf(stderr, "parley export: the bot cannot be read: %s\n", pl_strerror(rc));
        return PL_EXIT_FAIL;
    }
    int de = strcmp(bot->language, "de") == 0;
    const char *locale = de ? "de-DE" : "en-US";
    int status = 0;
    char why[256];
    pl_strbuf_t name;
    pl_strbuf_init(&name, 4096);
    export_t x = {.bot = bot, .de = de, .d = &d};
    pl_strbuf_init(&x.buf, 64 * 1024);
    cJSON *model = NULL;
    char *json = NULL;
    if (!de && strcmp(bot->language, "en") != 0) {
        fprintf(stderr, "parley export: no Alexa locale for the bot's language '%s'\n",
                bot->language);
        status = PL_EXIT_FAIL;
        goto done;
    }
    if (invocation != NULL) {
        const char *p = invocation_problem(invocation, de, why, sizeof(why));
        if (p != NULL) {
            status = pl_cli_usage_error(
                "export", "Alexa does not take '%s' as an invocation name: %s", invocation, p);
            goto done;
        }
    } else {
        const char *p = NULL;
        if (invocation_from_name(bot->name, de, &name) != 0 ||
            (p = invocation_problem(pl_strbuf_str(&name), de, why, sizeof(why))) != NULL) {
            status = pl_cli_usage_error(
                "export",
                "the bot's name '%s' gives the invocation name '%s', which Alexa does not "
                "take: %s; give one with --invocation NAME",
                bot->name, pl_strbuf_str(&name), p ? p : "it is too long");
            goto done;
        }
        invocation = pl_strbuf_str(&name);
    }
    model = export_model(&x, invocation);
    pl_diags_sort(&d);
    pl_diags_print(&d, stderr);
    if (x.rc != 0) {
        fprintf(stderr, "parley export: %s\n", pl_strerror(x.rc));
        status = PL_EXIT_FAIL;
        goto done;
    }
    if (model == NULL) {
        fprintf(stderr,
                "parley export: the bot cannot become an Alexa model as it is: %zu error%s\n",
                d.errors, d.errors == 1 ? "" : "s");
        status = PL_EXIT_FAIL;
        goto done;
    }
    json = cJSON_Print(model);
    if (json == NULL) {
        fprintf(stderr, "parley export: %s\n", pl_strerror(PL_ENOMEM));
        status = PL_EXIT_FAIL;
        goto done;
    }
    status = write_model(out_path, json);
    if (status == 0) {
        fprintf(stderr,
                "parley export: interaction model for %s, invocation name \"%s\": %zu of the "
                "bot's intents, " FREE_TEXT_INTENT " and 5 built-in intents, %zu slot type%s; "
                "%zu example%s left out, %zu with numbers spelled out\n",
                locale, invocation, x.own_intents, x.types, x.types == 1 ? "" : "s", x.left_out,
                x.left_out == 1 ? "" : "s", x.spelled);
    }
done:
    cJSON_free(json);
    cJSON_Delete(model);
    seen_cleanup(&x.samples);
    for (size_t f = 0; x.texts != NULL && f < bot->nfiles; f++)
        pl_free(x.texts[f]);
    pl_free(x.texts);
    pl_strbuf_cleanup(&x.buf);
    pl_strbuf_cleanup(&name);
    pl_diags_cleanup(&d);
    pl_bot_free(bot);
    return status;
}
