/* The signals of one message, each a strength from 0 to 1: how formal or casual it is, emoji,
 * exclamation, shouting, its length and pace, hesitation, urgency, the channel, and the bot's
 * own word lists. Word lists are written naturally here and normalised once per bot by the NLU,
 * so "weiß nicht" also meets "weiss nicht" and "WEISS NICHT". */
#include "persona/persona.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/strbuf.h"

#include <string.h>

typedef struct {
    char **phrases; /* normalised, each wrapped in spaces: " not sure " */
    size_t n;
} list_t;

enum { L_FORMAL, L_CASUAL, L_HESITATION, L_URGENCY, L_NBUILTIN };

struct pl_persona_index {
    const pl_bot_t *bot;
    int de;
    pl_arena_t arena;
    list_t builtin[L_NBUILTIN];
    list_t custom[PL_MAX_CUSTOM_SIGNALS];
};

static const char *const formal_en[] = {
    "dear", "good morning", "good afternoon", "good evening", "kind regards", "best regards",
    "yours sincerely", "sincerely", "would you be so kind", "could you kindly",
    "would you kindly", "i would be grateful", "i would appreciate", "thank you in advance",
    "please advise", "may i ask", "i would like to inquire", "i wish to", "i would be obliged",
    "many thanks in advance", NULL};
static const char *const formal_de[] = {
    "sehr geehrte", "sehr geehrter", "mit freundlichen grüßen", "freundliche grüße",
    "guten tag", "guten morgen", "guten abend", "ich hätte gerne", "ich hätte gern",
    "könnten sie", "würden sie", "wären sie so freundlich", "vielen dank im voraus",
    "hochachtungsvoll", "ich möchte mich erkundigen", "gestatten sie", "verbindlichen dank",
    NULL};
static const char *const casual_en[] = {
    "hey", "hi", "yo", "sup", "gonna", "wanna", "gotta", "lol", "dude", "cool", "u", "ur", "thx",
    "pls", "plz", "yeah", "yep", "nope", "awesome", "btw", "ya", "kinda", "lemme", "omg", "bro",
    "y'all", "ain't", NULL};
static const char *const casual_de[] = {
    "hi", "hey", "moin", "servus", "na", "jo", "yo", "cool", "krass", "geil", "voll", "hab",
    "nen", "gibts", "alter", "digga", "lol", "mega", "bock", "kannste", "haste", "weißte",
    "was geht", "danke dir", "bisschen", "ne frage", "nice", NULL};
static const char *const hesitation_en[] = {
    "not sure", "i don't know", "dont know", "no idea", "maybe", "confused", "beginner",
    "new to this", "unsure", "hmm", "um", "i guess", "overwhelmed", "no clue", "no expert",
    "not an expert", "which one should", "help me decide", "can't decide", "perhaps", NULL};
static const char *const hesitation_de[] = {
    "weiß nicht", "keine ahnung", "unsicher", "nicht sicher", "vielleicht",
    "kenne mich nicht aus", "kenne mich damit nicht aus", "keine erfahrung", "anfänger",
    "einsteiger", "überfordert", "verwirrt", "hmm", "ähm", "keinen plan", "schwer zu sagen",
    "kann mich nicht entscheiden", "bin neu", "kein profi", "eventuell", NULL};
static const char *const urgency_en[] = {
    "asap", "urgent", "urgently", "right now", "quickly", "quick", "hurry", "immediately",
    "no time", "today", "as soon as possible", "by tomorrow", "right away", "fast shipping",
    "in a rush", "rush", NULL};
static const char *const urgency_de[] = {
    "schnell", "sofort", "dringend", "eilig", "eilt", "heute noch", "asap", "zügig",
    "keine zeit", "so schnell wie möglich", "bis morgen", "jetzt sofort", "umgehend",
    "express", "gleich heute", NULL};

/* Normalises each phrase like customer text and keeps it wrapped in spaces. */
static int build_list(pl_persona_index_t *ix, const char *const *words, size_t n, list_t *l)
{
    l->phrases = pl_arena_calloc(&ix->arena, n + 1, sizeof(char *));
    if (l->phrases == NULL)
        return PL_ENOMEM;
    pl_strbuf_t b;
    pl_strbuf_init(&b, 4096);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        pl_strbuf_clear(&b);
        rc = pl_strbuf_putc(&b, ' ');
        if (rc == 0)
            rc = pl_nlu_normalize(words[i], strlen(words[i]), &b);
        if (rc == 0 && b.len > 1)
            rc = pl_strbuf_putc(&b, ' ');
        if (rc == 0 && b.len > 2) {
            l->phrases[l->n] = pl_arena_strdup(&ix->arena, pl_strbuf_str(&b));
            rc = l->phrases[l->n++] ? 0 : PL_ENOMEM;
        }
    }
    pl_strbuf_cleanup(&b);
    return rc;
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
        rc = build_list(ix, lists[i], count(lists[i]), &ix->builtin[i]);
    for (size_t i = 0; i < bot->nsignals && i < PL_MAX_CUSTOM_SIGNALS && rc == 0; i++)
        rc = build_list(ix, bot->signals[i].words, bot->signals[i].nwords, &ix->custom[i]);
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

/* How many times the list's phrases occur in the words " w1 w2 ... ". */
static int occurrences(const list_t *l, const char *words)
{
    int c = 0;
    for (size_t i = 0; i < l->n; i++)
        for (const char *p = strstr(words, l->phrases[i]); p != NULL;
             p = strstr(p + 1, l->phrases[i]))
            c++;
    return c;
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

static int emoticons(const char *t)
{
    static const char *const faces[] = {":)", ":-)", ";)", ";-)", ":D", ":-D", ":P", ":-P",
                                        "xD", "XD", "<3", ":(", ":-(", ":o", "^^", NULL};
    int c = 0;
    for (size_t i = 0; faces[i]; i++)
        for (const char *p = strstr(t, faces[i]); p; p = strstr(p + 1, faces[i]))
            c++;
    return c;
}

/* Share of capitals among the letters, when there are enough letters to say. */
static double shouting(const char *t)
{
    int up = 0, low = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            up++;
        else if (*p >= 'a' && *p <= 'z')
            low++;
    }
    if (up + low < 8)
        return 0;
    double r = (double)up / (up + low);
    return r >= 0.8 ? 1 : r >= 0.6 ? 0.5 : 0;
}

int pl_signals_extract(const pl_persona_index_t *ix, const pl_signal_input_t *in,
                       pl_arena_t *scratch, pl_signals_t *out)
{
    const pl_bot_t *bot = ix->bot;
    memset(out, 0, sizeof(*out));
    out->n = PL_SIG_BUILTIN_COUNT + (int)(bot->nsignals < PL_MAX_CUSTOM_SIGNALS
                                              ? bot->nsignals
                                              : PL_MAX_CUSTOM_SIGNALS);
    /* the message's words, normalised, as " w1 w2 ... " for phrase search */
    const pl_understanding_t *u = in->u;
    size_t need = 2, nwords = 0, emoji = 0;
    for (size_t i = 0; i < u->ntokens; i++)
        need += u->tokens[i].len + 1;
    char *words = pl_arena_alloc(scratch, need + 1);
    if (words == NULL)
        return PL_ENOMEM;
    size_t w = 0;
    words[w++] = ' ';
    for (size_t i = 0; i < u->ntokens; i++) {
        const pl_token_t *t = &u->tokens[i];
        if (t->kind == PL_TOKEN_EMOJI)
            emoji++;
        if (t->kind != PL_TOKEN_WORD && t->kind != PL_TOKEN_NUMBER)
            continue;
        memcpy(words + w, t->text, t->len);
        w += t->len;
        words[w++] = ' ';
        nwords++;
    }
    words[w] = '\0';

    int forms = ix->de ? pl_address_of(in->text) : 0;
    int formal = occurrences(&ix->builtin[L_FORMAL], words) + ((forms & PL_ADDRESS_SIE) != 0);
    int casual = occurrences(&ix->builtin[L_CASUAL], words) + ((forms & PL_ADDRESS_DU) != 0);
    out->v[PL_SIG_FORMAL] = saturate(formal);
    out->v[PL_SIG_CASUAL] = saturate(casual);
    out->v[PL_SIG_EMOJI] = saturate((int)emoji + emoticons(in->text));
    int bangs = 0;
    for (const char *p = in->text; *p; p++)
        bangs += *p == '!';
    out->v[PL_SIG_EXCLAMATION] = bangs >= 3 ? 1 : bangs == 2 ? 0.6 : bangs == 1 ? 0.3 : 0;
    out->v[PL_SIG_SHOUTING] = shouting(in->text);
    out->v[PL_SIG_LONG_MESSAGE] = nwords >= 40 ? 1 : nwords >= 25 ? 0.5 : 0;
    out->v[PL_SIG_SHORT_MESSAGE] = nwords == 0 ? 0 : nwords <= 3 ? 1 : nwords <= 5 ? 0.5 : 0;
    out->v[PL_SIG_FAST_PACE] = in->gap_ms < 0        ? 0
                               : in->gap_ms < 5000  ? 1
                               : in->gap_ms < 10000 ? 0.5
                                                    : 0;
    int hes = occurrences(&ix->builtin[L_HESITATION], words) + (in->repeated != 0);
    out->v[PL_SIG_HESITATION] = saturate(hes);
    out->v[PL_SIG_URGENCY] = saturate(occurrences(&ix->builtin[L_URGENCY], words));
    out->v[PL_SIG_VOICE] = in->channel == PL_CHANNEL_VOICE;
    out->v[PL_SIG_RETURNING] = in->returning != 0;
    for (int i = PL_SIG_BUILTIN_COUNT; i < out->n; i++)
        out->v[i] = saturate(occurrences(&ix->custom[i - PL_SIG_BUILTIN_COUNT], words));
    return 0;
}
