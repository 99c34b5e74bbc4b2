/* The signals of one message, each a strength from 0 to 1: how formal or casual it is, emoji,
 * exclamation, shouting, its length and pace, hesitation, urgency, the channel, and the bot's
 * own word lists. Word lists are written naturally here and normalised once per bot by the NLU,
 * so "weiß nicht" also meets "weiss nicht" and "WEISS NICHT"; a message then costs one lookup
 * per word. */
#include "persona/persona.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/hash.h"
#include "base/strbuf.h"

#include <stdlib.h>

#include <string.h>

/* A phrase of a word list: the hashes of its normalised words. Phrases of all lists sit in
 * one array sorted by their first word, so a message costs one binary search per word. */
typedef struct {
    uint64_t *h;
    uint32_t n;
    uint32_t list;
} phrase_t;

enum { L_FORMAL, L_CASUAL, L_HESITATION, L_URGENCY, L_NBUILTIN };
#define NLISTS (L_NBUILTIN + PL_MAX_CUSTOM_SIGNALS)

struct pl_persona_index {
    const pl_bot_t *bot;
    int de;
    pl_arena_t arena;
    phrase_t *phrases;
    size_t nphrases, cap;
};

static const char *const formal_en[] = {"dear",
                                        "good morning",
                                        "good afternoon",
                                        "good evening",
                                        "kind regards",
                                        "best regards",
                                        "yours sincerely",
                                        "sincerely",
                                        "would you be so kind",
                                        "could you kindly",
                                        "would you kindly",
                                        "i would be grateful",
                                        "i would appreciate",
                                        "thank you in advance",
                                        "please advise",
                                        "may i ask",
                                        "i would like to inquire",
                                        "i wish to",
                                        "i would be obliged",
                                        "many thanks in advance",
                                        NULL};
static const char *const formal_de[] = {
    "sehr geehrte",          "sehr geehrter",      "mit freundlichen grüßen",
    "freundliche grüße",     "guten tag",          "guten morgen",
    "guten abend",           "ich hätte gerne",    "ich hätte gern",
    "könnten sie",           "würden sie",         "wären sie so freundlich",
    "vielen dank im voraus", "hochachtungsvoll",   "ich möchte mich erkundigen",
    "gestatten sie",         "verbindlichen dank", NULL};
static const char *const casual_en[] = {
    "hey", "hi",    "yo",    "sup", "gonna", "wanna", "gotta", "lol",  "dude",    "cool",
    "u",   "ur",    "thx",   "pls", "plz",   "yeah",  "yep",   "nope", "awesome", "btw",
    "ya",  "kinda", "lemme", "omg", "bro",   "y'all", "ain't", NULL};
static const char *const casual_de[] = {
    "hi",     "hey",      "moin",      "servus",   "na",       "jo",      "yo",
    "cool",   "krass",    "geil",      "voll",     "hab",      "nen",     "gibts",
    "alter",  "digga",    "lol",       "mega",     "bock",     "kannste", "haste",
    "weißte", "was geht", "danke dir", "bisschen", "ne frage", "nice",    NULL};
static const char *const hesitation_en[] = {"not sure",
                                            "i don't know",
                                            "dont know",
                                            "no idea",
                                            "maybe",
                                            "confused",
                                            "beginner",
                                            "new to this",
                                            "unsure",
                                            "hmm",
                                            "um",
                                            "i guess",
                                            "overwhelmed",
                                            "no clue",
                                            "no expert",
                                            "not an expert",
                                            "which one should",
                                            "help me decide",
                                            "can't decide",
                                            "perhaps",
                                            NULL};
static const char *const hesitation_de[] = {"weiß nicht",
                                            "keine ahnung",
                                            "unsicher",
                                            "nicht sicher",
                                            "vielleicht",
                                            "kenne mich nicht aus",
                                            "kenne mich damit nicht aus",
                                            "keine erfahrung",
                                            "anfänger",
                                            "einsteiger",
                                            "überfordert",
                                            "verwirrt",
                                            "hmm",
                                            "ähm",
                                            "keinen plan",
                                            "schwer zu sagen",
                                            "kann mich nicht entscheiden",
                                            "bin neu",
                                            "kein profi",
                                            "eventuell",
                                            NULL};
static const char *const urgency_en[] = {"asap",
                                         "urgent",
                                         "urgently",
                                         "right now",
                                         "quickly",
                                         "quick",
                                         "hurry",
                                         "immediately",
                                         "no time",
                                         "today",
                                         "as soon as possible",
                                         "by tomorrow",
                                         "right away",
                                         "fast shipping",
                                         "in a rush",
                                         "rush",
                                         NULL};
static const char *const urgency_de[] = {
    "schnell",    "sofort",       "dringend", "eilig",      "eilt",
    "heute noch", "asap",         "zügig",    "keine zeit", "so schnell wie möglich",
    "bis morgen", "jetzt sofort", "umgehend", "express",    "gleich heute",
    NULL};

/* Normalises each phrase like customer text and adds it, as word hashes, to the index. */
static int add_list(pl_persona_index_t *ix, const char *const *words, size_t n, uint32_t list)
{
    pl_strbuf_t b;
    pl_strbuf_init(&b, 4096);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        pl_strbuf_clear(&b);
        rc = pl_nlu_normalize(words[i], strlen(words[i]), &b);
        if (rc != 0 || b.len == 0)
            continue;
        if (ix->nphrases == ix->cap) {
            size_t cap = ix->cap ? ix->cap * 2 : 128;
            phrase_t *p = pl_arena_alloc(&ix->arena, cap * sizeof(*p));
            if (p == NULL) {
                rc = PL_ENOMEM;
                break;
            }
            if (ix->nphrases)
                memcpy(p, ix->phrases, ix->nphrases * sizeof(*p));
            ix->phrases = p;
            ix->cap = cap;
        }
        const char *s = pl_strbuf_str(&b);
        uint32_t nw = 1;
        for (const char *q = s; *q; q++)
            nw += *q == ' ';
        uint64_t *h = pl_arena_alloc(&ix->arena, nw * sizeof(*h));
        if (h == NULL) {
            rc = PL_ENOMEM;
            break;
        }
        uint32_t k = 0;
        for (const char *w = s; *w;) {
            const char *e = strchr(w, ' ');
            size_t len = e ? (size_t)(e - w) : strlen(w);
            h[k++] = pl_hash(w, len);
            w += len + (e != NULL);
        }
        ix->phrases[ix->nphrases++] = (phrase_t){h, k, list};
    }
    pl_strbuf_cleanup(&b);
    return rc;
}

static int cmp_phrase(const void *a, const void *b)
{
    const phrase_t *x = a, *y = b;
    return x->h[0] < y->h[0] ? -1 : x->h[0] > y->h[0];
}

static size_t count(const char *const *words)
{
    size_t n = 0;
    while (words[n])
        n++;
    return n;
}

int pl_persona_index_new(const pl_bot_t *bot, pl_persona_index_t **out)
{
    pl_persona_index_t *ix = pl_calloc(1, sizeof(*ix));
    if (ix == NULL)
        return PL_ENOMEM;
    ix->bot = bot;
    ix->de = strcmp(bot->language, "de") == 0;
    pl_arena_init(&ix->arena, 16 * 1024);
    const char *const *lists[L_NBUILTIN] = {
        ix->de ? formal_de : formal_en, ix->de ? casual_de : casual_en,
        ix->de ? hesitation_de : hesitation_en, ix->de ? urgency_de : urgency_en};
    int rc = 0;
    for (int i = 0; i < L_NBUILTIN && rc == 0; i++)
        rc = add_list(ix, lists[i], count(lists[i]), (uint32_t)i);
    for (size_t i = 0; i < bot->nsignals && i < PL_MAX_CUSTOM_SIGNALS && rc == 0; i++)
        rc =
            add_list(ix, bot->signals[i].words, bot->signals[i].nwords, (uint32_t)(L_NBUILTIN + i));
    if (rc == 0 && ix->nphrases > 1)
        qsort(ix->phrases, ix->nphrases, sizeof(*ix->phrases), cmp_phrase);
    if (rc != 0) {
        pl_persona_index_free(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void pl_persona_index_free(pl_persona_index_t *ix)
{
    if (ix == NULL)
        return;
    pl_arena_cleanup(&ix->arena);
    pl_free(ix);
}

/* Counts, per list, the phrases that occur in the message's words (hashes w[0, n)). */
static void occurrences(const pl_persona_index_t *ix, const uint64_t *w, size_t n, int *counts)
{
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = ix->nphrases;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ix->phrases[mid].h[0] < w[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t p = lo; p < ix->nphrases && ix->phrases[p].h[0] == w[i]; p++) {
            const phrase_t *ph = &ix->phrases[p];
            if (ph->n > n - i)
                continue;
            uint32_t k = 1;
            while (k < ph->n && ph->h[k] == w[i + k])
                k++;
            if (k == ph->n)
                counts[ph->list]++;
        }
    }
}

/* 0.6 for one sign, 0.84 for two, towards 1: a signal grows surer with each sign. */
static double saturate(int c)
{
    double v = 0, rest = 1;
    for (int i = 0; i < c && i < 8; i++) {
        rest *= 0.4;
        v = 1 - rest;
    }
    return v;
}

/* What one pass over the raw text sees: capitals and small letters, exclamation marks, and
 * emoticons (":)", ":-)", ";)", ":D", ":P", ":(", ":o", "xD", "<3", "^^"). */
typedef struct {
    int up, low, bangs, faces;
} marks_t;

static void scan_marks(const char *t, marks_t *m)
{
    memset(m, 0, sizeof(*m));
    for (const char *p = t; *p; p++) {
        const char *q = p + 1;
        switch (*p) {
        case '!':
            m->bangs++;
            break;
        case ':':
        case ';':
            if (*q == '-')
                q++;
            m->faces +=
                *q == ')' || *q == '(' || *q == 'D' || *q == 'P' || (*p == ':' && *q == 'o');
            break;
        case '<':
            m->faces += *q == '3';
            break;
        case '^':
            m->faces += *q == '^';
            break;
        default:
            if ((*p == 'x' || *p == 'X') && *q == 'D' && (p == t || p[-1] == ' '))
                m->faces++;
            if (*p >= 'A' && *p <= 'Z')
                m->up++;
            else if (*p >= 'a' && *p <= 'z')
                m->low++;
        }
    }
}

/* Share of capitals among the letters, when there are enough letters to say. */
static double shouting(const marks_t *m)
{
    if (m->up + m->low < 8)
        return 0;
    double r = (double)m->up / (m->up + m->low);
    return r >= 0.8 ? 1 : r >= 0.6 ? 0.5 : 0;
}

int pl_signals_extract(const pl_persona_index_t *ix, const pl_signal_input_t *in,
                       pl_arena_t *scratch, pl_signals_t *out)
{
    const pl_bot_t *bot = ix->bot;
    memset(out, 0, sizeof(*out));
    out->n = PL_SIG_BUILTIN_COUNT +
             (int)(bot->nsignals < PL_MAX_CUSTOM_SIGNALS ? bot->nsignals : PL_MAX_CUSTOM_SIGNALS);
    /* the hashes of the message's normalised words, for the word lists */
    const pl_understanding_t *u = in->u;
    size_t nwords = 0, emoji = 0;
    uint64_t *w = pl_arena_alloc(scratch, (u->ntokens + 1) * sizeof(*w));
    if (w == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < u->ntokens; i++) {
        const pl_token_t *t = &u->tokens[i];
        if (t->kind == PL_TOKEN_EMOJI)
            emoji++;
        else if (t->kind == PL_TOKEN_WORD || t->kind == PL_TOKEN_NUMBER)
            w[nwords++] = pl_hash(t->text, t->len);
    }
    int counts[NLISTS] = {0};
    occurrences(ix, w, nwords, counts);

    int forms = in->address_forms;
    int formal = counts[L_FORMAL] + ((forms & PL_ADDRESS_SIE) != 0);
    int casual = counts[L_CASUAL] + ((forms & PL_ADDRESS_DU) != 0);
    out->v[PL_SIG_FORMAL] = saturate(formal);
    out->v[PL_SIG_CASUAL] = saturate(casual);
    marks_t m;
    scan_marks(in->text, &m);
    out->v[PL_SIG_EMOJI] = saturate((int)emoji + m.faces);
    out->v[PL_SIG_EXCLAMATION] = m.bangs >= 3 ? 1 : m.bangs == 2 ? 0.6 : m.bangs == 1 ? 0.3 : 0;
    out->v[PL_SIG_SHOUTING] = shouting(&m);
    out->v[PL_SIG_LONG_MESSAGE] = nwords >= 40 ? 1 : nwords >= 25 ? 0.5 : 0;
    out->v[PL_SIG_SHORT_MESSAGE] = nwords == 0 ? 0 : nwords <= 3 ? 1 : nwords <= 5 ? 0.5 : 0;
    out->v[PL_SIG_FAST_PACE] = in->gap_ms < 0       ? 0
                               : in->gap_ms < 5000  ? 1
                               : in->gap_ms < 10000 ? 0.5
                                                    : 0;
    out->v[PL_SIG_HESITATION] = saturate(counts[L_HESITATION] + (in->repeated != 0));
    out->v[PL_SIG_URGENCY] = saturate(counts[L_URGENCY]);
    out->v[PL_SIG_VOICE] = in->channel == PL_CHANNEL_VOICE;
    out->v[PL_SIG_RETURNING] = in->returning != 0;
    for (int i = PL_SIG_BUILTIN_COUNT; i < out->n; i++)
        out->v[i] = saturate(counts[L_NBUILTIN + i - PL_SIG_BUILTIN_COUNT]);
    return 0;
}
