/* The loader's part for personas: the bot's own word-list signals, personas with their
 * signals, tone and behaviour, and the check that German texts do not mix "du" and "Sie". */
#include "base/mem.h"
#include "dialog/loader_int.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Candidate names for "did you mean": built-in signals, then the bot's own. */
static const char **signal_names(pl__loader_t *L, size_t *n)
{
    const pl_bot_t *bot = L->bot;
    *n = PL_SIG_BUILTIN_COUNT + bot->nsignals;
    const char **names = pl__alloc(L, *n, sizeof(*names));
    for (size_t i = 0; names && i < *n; i++)
        names[i] = pl_signal_name(bot, (int)i);
    return names;
}

void pl__read_signals(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n)
{
    static const char *const allowed[] = {"words"};
    pl_bot_t *bot = L->bot;
    if (n > PL_MAX_CUSTOM_SIGNALS) {
        pl__err(L, keys[PL_MAX_CUSTOM_SIGNALS], "more than %d signals; merge some word lists",
                PL_MAX_CUSTOM_SIGNALS);
        n = PL_MAX_CUSTOM_SIGNALS;
    }
    bot->signals = pl__alloc(L, n, sizeof(*bot->signals));
    if (bot->signals == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const pl_ynode_t *k = keys[i], *v = vals[i], *words = v;
        for (int b = 0; b < PL_SIG_BUILTIN_COUNT; b++)
            if (strcmp(k->str, pl_signal_name(bot, b)) == 0)
                pl__err(L, k, "'%s' is a built-in signal; give your word list another name",
                        k->str);
        pl_signal_def_t *sd = &bot->signals[bot->nsignals++];
        sd->id = pl__str(L, k->str);
        sd->pos = pl__pos(k);
        if (v->kind == PL_Y_MAP) {
            pl__check_keys(L, v, allowed, COUNT(allowed), "a signal");
            words = pl_ymap_get(v, "words");
            if (words == NULL) {
                pl__err(L, k, "signal '%s' has no 'words'", sd->id);
                continue;
            }
        }
        if (!pl__want_seq(L, words, "a signal's words") || words->n == 0) {
            if (words->kind == PL_Y_SEQ)
                pl__err(L, words, "signal '%s' has no words; list the words that point to it",
                        sd->id);
            continue;
        }
        sd->words = pl__alloc(L, words->n, sizeof(*sd->words));
        for (size_t j = 0; sd->words && j < words->n; j++)
            if (pl__want_text(L, words->kids[j], "a signal word"))
                sd->words[sd->nwords++] = pl__str(L, words->kids[j]->str);
    }
}

static void read_persona_signals(pl__loader_t *L, const pl_ynode_t *n, pl_persona_t *p)
{
    if (!pl__want_map(L, n, "a persona's 'signals'"))
        return;
    if (n->n == 0) {
        pl__err(L, n, "persona '%s' names no signals; say which signals point to it", p->id);
        return;
    }
    p->signals = pl__alloc(L, n->n, sizeof(*p->signals));
    if (p->signals == NULL)
        return;
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *w = n->kids[2 * i + 1];
        int sig = pl_signal_index(L->bot, k->str);
        if (sig < 0) {
            size_t nn;
            const char **names = signal_names(L, &nn);
            pl__unknown(L, k, "signal", k->str, names, names ? nn : 0);
            continue;
        }
        double weight;
        if (!pl__want_number(L, w, "a signal's weight", &weight))
            continue;
        if (weight <= 0 || weight > 10) {
            pl__err(L, w, "a signal's weight must be above 0 and at most 10, not %s", w->str);
            continue;
        }
        p->signals[p->nsignals++] = (pl_persona_signal_t){sig, weight};
        L->bot->persona_signals |= (uint64_t)1 << sig;
    }
}

void pl__read_personas(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n)
{
    static const char *const allowed[] = {"signals", "tone", "emoji", "max_options", "patience"};
    pl_bot_t *bot = L->bot;
    bot->personas = pl__alloc(L, n, sizeof(*bot->personas));
    if (bot->personas == NULL)
        return;
    bot->npersonas = n;
    for (size_t i = 0; i < n; i++) {
        pl_persona_t *p = &bot->personas[i];
        p->id = pl__str(L, keys[i]->str);
        p->pos = pl__pos(keys[i]);
        p->emoji = 1;
        const pl_ynode_t *v = vals[i], *x;
        if (!pl__want_map(L, v, "a persona"))
            continue;
        pl__check_keys(L, v, allowed, COUNT(allowed), "a persona");
        if ((x = pl_ymap_get(v, "signals")) == NULL)
            pl__err(L, keys[i], "persona '%s' has no 'signals': which signals point to it", p->id);
        else
            read_persona_signals(L, x, p);
        if ((x = pl_ymap_get(v, "tone")) != NULL && pl__want_id(L, x, "'tone'")) {
            int t = pl_bot_tone(bot, x->str);
            if (t < 0)
                pl__unknown(L, x, "tone", x->str, bot->tones, bot->ntones);
            else
                p->tone = bot->tones[t];
        }
        if ((x = pl_ymap_get(v, "emoji")) != NULL && !pl_ynode_bool(x, &p->emoji))
            pl__err(L, x, "'emoji' must be true or false");
        long num;
        if ((x = pl_ymap_get(v, "max_options")) != NULL &&
            pl__want_int(L, x, "'max_options'", 1, 10, &num))
            p->max_options = (int)num;
        if ((x = pl_ymap_get(v, "patience")) != NULL &&
            pl__want_int(L, x, "'patience'", 1, 10, &num))
            p->patience = (int)num;
    }
}

/* ---- German address forms ---- */

/* The address forms of the variants of text that tone t would use: its own variants if it
 * has any, else those written for no tone (the default and channel variants). */
static int forms_for_tone(const pl_text_t *text, const char *tone)
{
    int own = 0, forms = 0;
    for (size_t v = 0; v < text->nvariants; v++)
        own |= text->variants[v].tone != NULL && strcmp(text->variants[v].tone, tone) == 0;
    for (size_t v = 0; v < text->nvariants; v++) {
        const pl_variant_t *var = &text->variants[v];
        int mine = own ? var->tone != NULL && strcmp(var->tone, tone) == 0 : var->tone == NULL;
        for (size_t a = 0; mine && a < var->nalts; a++)
            forms |= pl_address_of(var->alts[a]);
    }
    return forms;
}

static void check_text(pl__loader_t *L, const pl_text_t *t)
{
    pl_bot_t *bot = L->bot;
    for (size_t v = 0; v < t->nvariants; v++)
        for (size_t a = 0; a < t->variants[v].nalts; a++)
            if (pl_address_of(t->variants[v].alts[a]) == (PL_ADDRESS_DU | PL_ADDRESS_SIE))
                pl__warn_at(L, &t->pos,
                            "this text mixes 'du' and 'Sie' (\"%.40s...\"); address the customer "
                            "one way in each text",
                            t->variants[v].alts[a]);
    for (size_t k = 0; bot->tone_address != NULL && k < bot->ntones; k++)
        bot->tone_address[k] |= forms_for_tone(t, bot->tones[k]);
}

/* Every text of the bot: flows' steps, slots' questions, offers, the fallback. A tone that
 * says "du" in one text and "Sie" in another would mix them in one conversation. */
static void each_text(pl__loader_t *L, void (*fn)(pl__loader_t *, const pl_text_t *))
{
    const pl_bot_t *bot = L->bot;
    for (size_t f = 0; f < bot->nflows; f++)
        for (size_t s = 0; s < bot->flows[f].nsteps; s++)
            fn(L, &bot->flows[f].steps[s].text);
    for (size_t s = 0; s < bot->nslots; s++) {
        fn(L, &bot->slots[s].prompt);
        fn(L, &bot->slots[s].reprompt);
        fn(L, &bot->slots[s].confirm);
    }
    for (size_t o = 0; o < bot->noffers; o++)
        fn(L, &bot->offers[o].text);
    fn(L, &bot->fallback.say);
}

void pl__check_address(pl__loader_t *L)
{
    pl_bot_t *bot = L->bot;
    bot->tone_address = pl__alloc(L, bot->ntones, sizeof(*bot->tone_address));
    if (strcmp(bot->language, "de") != 0)
        return;
    each_text(L, check_text);
    for (size_t t = 0; bot->tone_address && t < bot->ntones; t++)
        if (bot->tone_address[t] == (PL_ADDRESS_DU | PL_ADDRESS_SIE)) {
            pl_pos_t whole = {L->docs[0].file, 0, 0, 0};
            pl__warn_at(L, &whole,
                        "tone '%s' says 'du' in some texts and 'Sie' in others; a conversation "
                        "must keep one form, so give each tone one",
                        bot->tones[t]);
        }
}
