/* What a word is made of for intent matching: its Snowball stem, which carries the meaning
 * across inflections, and its character n-grams, which still meet when a word is misspelt
 * ("kammera") or glued into a compound ("Spiegelreflexkamera"). Stop words keep their stem but
 * no n-grams: their weight comes from how often the bot's examples use them. */
#include "nlu/index_int.h"

#include <string.h>

/* Function words. They are not dropped: "what", "how" and "my" tell "what is my balance" from
 * "how do I transfer" in a bot's examples, and the inverse document frequency already makes
 * them count little where they say nothing. A stop word just gets no n-grams, so it cannot
 * match parts of other words. "m", "s", "t", "ll", "ve", "d" and "re" are what "I'm", "it's",
 * "don't", "I'll", "I've", "I'd" and "you're" leave behind. */
static const char *const stop_en[] = {
    "a",     "an",     "the",   "i",     "me",  "my",  "we",   "our",   "you",   "your",   "it",
    "its",   "they",   "them",  "is",    "are", "was", "were", "be",    "am",    "do",     "does",
    "did",   "have",   "has",   "had",   "to",  "of",  "in",   "on",    "at",    "for",    "with",
    "from",  "by",     "about", "and",   "or",  "but", "if",   "so",    "as",    "that",   "this",
    "there", "here",   "what",  "which", "who", "how", "can",  "could", "would", "should", "will",
    "just",  "please", "some",  "any",   "m",   "s",   "t",    "ll",    "ve",    "d",      "re",
};
static const char *const stop_de[] = {
    "der",   "die",   "das",  "den",   "dem",  "des",   "ein",   "eine", "einen", "einem",
    "einer", "eines", "ich",  "du",    "er",   "sie",   "es",    "wir",  "ihr",   "mich",
    "mir",   "dich",  "dir",  "uns",   "mein", "meine", "ist",   "bin",  "bist",  "sind",
    "war",   "hat",   "habe", "haben", "und",  "oder",  "aber",  "wenn", "dass",  "zu",
    "zum",   "zur",   "im",   "in",    "am",   "an",    "auf",   "aus",  "bei",   "mit",
    "nach",  "von",   "vor",  "für",   "über", "um",    "so",    "auch", "noch",  "schon",
    "mal",   "bitte", "denn", "doch",  "wie",  "was",   "gerne", "gern", "kann",  "kannst",
};

const char *const *pl__stop_words(int de, size_t *n)
{
    *n = de ? sizeof(stop_de) / sizeof(*stop_de) : sizeof(stop_en) / sizeof(*stop_en);
    return de ? stop_de : stop_en;
}

/* FNV-1a from a seed per use, so a word, a stem and an n-gram with the same bytes differ. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Puts the kind into the low bits; never 0, which marks empty slots. */
static uint64_t feature(int kind, uint64_t h)
{
    h = (h & ~(uint64_t)3) | (uint64_t)kind;
    return h > 3 ? h : h | 4;
}

size_t pl__word_features(pl__stemmer_t *st, const char *w, size_t n, int number, int stop,
                         uint64_t *out)
{
    size_t nf = 0;
    if (number) {
        /* the digits themselves ("24" hours) and that there is a number at all */
        out[nf++] = feature(PL__F_WORD, fnv(0x84222325cbf29ce4ULL, w, n));
        out[nf++] = feature(PL__F_NUM, 0x9E3779B97F4A7C15ULL);
        return nf;
    }
    char stem[PL__STEM_MAX_WORD];
    size_t sl = pl__stemmer_stem(st, w, n, stem);
    out[nf++] = feature(stop ? PL__F_STOP : PL__F_WORD, fnv(0x84222325cbf29ce4ULL, stem, sl));
    if (stop || n > PL__STEM_MAX_WORD)
        return nf; /* no n-grams for stop words, nor for "words" longer than any real one */

    /* n-grams of code points of "<w>" */
    char buf[PL__STEM_MAX_WORD + 2];
    size_t at[PL__STEM_MAX_WORD + 3], ncp = 0, len = n + 2;
    buf[0] = '<';
    memcpy(buf + 1, w, n);
    buf[n + 1] = '>';
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)buf[i] & 0xC0) != 0x80)
            at[ncp++] = i;
    at[ncp] = len;
    for (size_t g = PL__GRAM_MIN; g <= PL__GRAM_MAX && g <= ncp; g++) {
        if (g == ncp && g > PL__GRAM_MIN)
            break; /* the whole marked word: the stem says that already */
        for (size_t i = 0; i + g <= ncp; i++)
            out[nf++] =
                feature(PL__F_GRAM, fnv(0xaf63bd4c8601b7dfULL, buf + at[i], at[i + g] - at[i]));
    }
    return nf;
}
