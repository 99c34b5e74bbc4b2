/* Numbers written in words, in English ("two thousand five hundred", "twenty-one") and German
 * ("zweitausendfünfhundert", "einundzwanzig", "zwei Millionen"), read from normalised tokens
 * (lower case, umlauts folded: "fuenf"). German writes numbers below a million as one word,
 * so a German token is parsed as a whole; both languages combine tokens with scale words. */
#include "nlu/nlu_int.h"

#include <string.h>

typedef struct {
    const char *w;
    int v;
} word_t;

static const word_t en_small[] = {
    {"zero", 0},     {"one", 1},      {"two", 2},        {"three", 3},     {"four", 4},
    {"five", 5},     {"six", 6},      {"seven", 7},      {"eight", 8},     {"nine", 9},
    {"ten", 10},     {"eleven", 11},  {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
    {"fifteen", 15}, {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
    {"twenty", 20},  {"thirty", 30},  {"forty", 40},     {"fifty", 50},    {"sixty", 60},
    {"seventy", 70}, {"eighty", 80},  {"ninety", 90},
};

/* German parts, longest first where one is a prefix of another ("sechzehn" before "sechs"). */
static const word_t de_units[] = {
    {"eins", 1}, {"eine", 1},  {"ein", 1},   {"zwei", 2},   {"zwo", 2},  {"drei", 3},
    {"vier", 4}, {"fuenf", 5}, {"sechs", 6}, {"sieben", 7}, {"acht", 8}, {"neun", 9},
};
static const word_t de_teens[] = {
    {"zehn", 10},      {"elf", 11},      {"zwoelf", 12},   {"dreizehn", 13}, {"vierzehn", 14},
    {"fuenfzehn", 15}, {"sechzehn", 16}, {"siebzehn", 17}, {"achtzehn", 18}, {"neunzehn", 19},
};
static const word_t de_tens[] = {
    {"zwanzig", 20}, {"dreissig", 30}, {"vierzig", 40}, {"fuenfzig", 50},
    {"sechzig", 60}, {"siebzig", 70},  {"achtzig", 80}, {"neunzig", 90},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Matches one of words at s (length n) as a prefix; returns its length, 0 if none. */
static size_t prefix(const char *s, size_t n, const word_t *words, size_t count, int *v)
{
    size_t best = 0;
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(words[i].w);
        if (l <= n && l > best && memcmp(s, words[i].w, l) == 0) {
            best = l;
            *v = words[i].v;
        }
    }
    return best;
}

/* German 1..99 at the start of s: "fuenf", "dreizehn", "einundzwanzig", "zwanzig". */
static size_t de_below_100(const char *s, size_t n, int *v)
{
    int a, b;
    size_t l;
    if ((l = prefix(s, n, de_teens, COUNT(de_teens), &a)) > 0) {
        *v = a;
        return l;
    }
    if ((l = prefix(s, n, de_tens, COUNT(de_tens), &a)) > 0) {
        *v = a;
        return l;
    }
    if ((l = prefix(s, n, de_units, COUNT(de_units), &a)) > 0) {
        size_t k;
        if (l + 3 < n && memcmp(s + l, "und", 3) == 0 &&
            (k = prefix(s + l + 3, n - l - 3, de_tens, COUNT(de_tens), &b)) > 0) {
            *v = a + b;
            return l + 3 + k;
        }
        *v = a;
        return l;
    }
    return 0;
}

/* German 1..999 at the start of s: "fuenfhundert", "hundertzwei", "zweihundertdreissig". */
static size_t de_below_1000(const char *s, size_t n, int *v)
{
    int h = 0, rest = 0;
    size_t l = 0, k;
    if (n >= 7 && memcmp(s, "hundert", 7) == 0) {
        h = 1;
        l = 7;
    } else if ((k = prefix(s, n, de_teens, COUNT(de_teens), &h)) > 0 && k + 7 <= n &&
               memcmp(s + k, "hundert", 7) == 0) {
        l = k + 7; /* "neunzehnhundert": 1900 */
    } else if ((k = prefix(s, n, de_units, COUNT(de_units), &h)) > 0 && k + 7 <= n &&
               memcmp(s + k, "hundert", 7) == 0) {
        l = k + 7;
    } else {
        h = 0;
    }
    if (l < n && (k = de_below_100(s + l, n - l, &rest)) > 0)
        l += k;
    if (l == 0)
        return 0;
    *v = h * 100 + rest;
    return l;
}

/* A whole German token below a million: "zweitausendfuenfhundert", "tausend", "elf". */
static int de_word(const char *s, size_t n, double *v)
{
    int a = 0, b = 0;
    size_t l = 0, k;
    const char *t = NULL;
    for (size_t i = 0; i + 7 <= n; i++)
        if (memcmp(s + i, "tausend", 7) == 0) {
            t = s + i;
            break;
        }
    if (t != NULL) {
        size_t before = (size_t)(t - s);
        if (before > 0 && de_below_1000(s, before, &a) != before)
            return 0;
        if (before == 0)
            a = 1;
        l = before + 7;
    }
    if (l < n) {
        k = de_below_1000(s + l, n - l, &b);
        if (l + k != n)
            return 0;
    }
    *v = (double)a * 1000 + b;
    return 1;
}

static int en_word(const char *s, size_t n, double *v)
{
    for (size_t i = 0; i < COUNT(en_small); i++)
        if (eq(s, n, en_small[i].w)) {
            *v = en_small[i].v;
            return 1;
        }
    return 0;
}

/* Scale words multiply what came before: 100, 1000, a million. */
double pl__nlu_scale_word(const char *s, size_t n, int de)
{
    if (de)
        return eq(s, n, "hundert")                                                 ? 100
               : eq(s, n, "tausend")                                               ? 1000
               : (eq(s, n, "million") || eq(s, n, "millionen") || eq(s, n, "mio")) ? 1e6
                                                                                   : 0;
    return eq(s, n, "hundred")                              ? 100
           : eq(s, n, "thousand")                           ? 1000
           : (eq(s, n, "million") || eq(s, n, "millions")) ? 1e6
                                                            : 0;
}

/* Words that may stand inside a number written in words: "two hundred and five". */
static int joiner(const char *s, size_t n, int de)
{
    return de ? eq(s, n, "und") : eq(s, n, "and");
}

/* Words that are numbers only when they say so: German "ein"/"eine" are articles ("eins" is
 * the numeral), English "one" is a pronoun in "the one with the big lens". */
static int weak(const char *s, size_t n, int de)
{
    return de ? (eq(s, n, "ein") || eq(s, n, "eine")) : (eq(s, n, "one") || eq(s, n, "a"));
}

/* An English "one" that is the answer itself: "one", "just one", "one please". */
static int lone_one(const pl__tokens_t *t, size_t j, int de)
{
    if (de || t->ntoks > 2)
        return 0;
    for (size_t k = 0; k < t->ntoks; k++) {
        const char *s = t->norm + t->toks[k].off;
        size_t n = t->toks[k].len;
        if (k != j && (eq(s, n, "the") || eq(s, n, "this") || eq(s, n, "that") ||
                       eq(s, n, "which") || eq(s, n, "a")))
            return 0;
    }
    return eq(t->norm + t->toks[j].off, t->toks[j].len, "one");
}

#define NUMWORD_MAX 1e15 /* numbers said in words stay below this, as entities.c does digits */

/* May value v follow the group said so far? "twenty" + "one", "hundred" + "five", but not
 * "five" + "five" (two numbers) or "twelve" + "one". */
static int continues(double group, double v)
{
    long g = (long)group;
    if (group == 0)
        return 1;
    if (v < 10 && g % 100 >= 20 && g % 10 == 0)
        return 1;
    return v < 100 && g % 100 == 0;
}

static double scale_at(const pl__tokens_t *t, size_t j, int de)
{
    return j < t->ntoks ? pl__nlu_scale_word(t->norm + t->toks[j].off, t->toks[j].len, de) : 0;
}

size_t pl__nlu_number_words(const pl__tokens_t *t, int de, pl__numword_t *out, size_t max)
{
    size_t nout = 0;
    for (size_t i = 0; i < t->ntoks && nout < max;) {
        /* accumulate as people say numbers: groups below a thousand, closed by scale words */
        double total = 0, group = 0;
        size_t j = i, last = i;
        int any = 0, strong = 0;
        while (j < t->ntoks) {
            const char *s = t->norm + t->toks[j].off;
            size_t n = t->toks[j].len;
            double v, sc = any ? pl__nlu_scale_word(s, n, de) : 0;
            /* the same ceiling as numbers in digits: "hundred hundred hundred ..." stops
             * there instead of growing past what a long, or a double, holds */
            if (sc == 100) {
                if (total + (group ? group : 1) * 100 >= NUMWORD_MAX)
                    break;
                group = (group ? group : 1) * 100;
                strong = 1;
            } else if (sc > 0) {
                if (total + (group ? group : 1) * sc >= NUMWORD_MAX)
                    break;
                total += (group ? group : 1) * sc;
                group = 0;
                strong = 1;
            } else if ((de ? de_word(s, n, &v) : en_word(s, n, &v)) ||
                       (!de && eq(s, n, "a") && scale_at(t, j + 1, de) > 0 && (v = 1) > 0)) {
                if (v >= 1000) { /* a German compound that holds its own thousands */
                    if (any)
                        break;
                    total = v;
                } else if (!continues(group, v)) {
                    break;
                } else {
                    group += v;
                }
                strong |= !weak(s, n, de) || scale_at(t, j + 1, de) > 0 || lone_one(t, j, de);
            } else if (any && (joiner(s, n, de) || eq(s, n, "-")) && j + 1 < t->ntoks) {
                j++; /* kept only if a number word follows */
                continue;
            } else {
                break;
            }
            any = 1;
            last = j++;
        }
        if (!any) {
            i++;
            continue;
        }
        if (strong)
            out[nout++] = (pl__numword_t){
                .value = total + group, .start = t->toks[i].start, .end = t->toks[last].end};
        i = last + 1;
    }
    return nout;
}
