/* The loader's part for honesty: the bot's disclosure and personality, its capabilities per
 * channel, what it cannot do with the alternative, and how to reach a person. */
#include "base/mem.h"
#include "dialog/loader_int.h"

#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- capabilities ---- */

static int read_channels(pl__loader_t *L, const pl_ynode_t *n)
{
    int mask = 0;
    if (!pl__want_seq(L, n, "'channels'"))
        return (1 << PL_CHANNEL_COUNT) - 1;
    for (size_t i = 0; i < n->n; i++) {
        pl_channel_t ch;
        const pl_ynode_t *c = n->kids[i];
        if (c->kind != PL_Y_SCALAR || pl_channel_parse(c->str, &ch) != 0)
            pl__err(L, c, "unknown channel '%s'; use web, app or voice",
                    c->kind == PL_Y_SCALAR ? c->str : "?");
        else
            mask |= 1 << ch;
    }
    if (mask == 0)
        pl__err(L, n, "a capability needs at least one channel");
    return mask;
}

static void read_can(pl__loader_t *L, const pl_ynode_t *n)
{
    static const char *const keys[] = {"description", "channels", "elsewhere"};
    pl_bot_t *bot = L->bot;
    if (!pl__want_map(L, n, "'can'"))
        return;
    bot->caps = pl__alloc(L, n->n, sizeof(*bot->caps));
    for (size_t i = 0; bot->caps && i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1], *x;
        pl_capability_t *c = &bot->caps[bot->ncaps++];
        c->id = pl__str(L, k->str);
        c->pos = pl__pos(k);
        c->channels = (1 << PL_CHANNEL_COUNT) - 1;
        c->description = c->id;
        pl__want_id(L, k, "a capability id");
        if (!pl__want_map(L, v, "a capability"))
            continue;
        pl__check_keys(L, v, keys, COUNT(keys), "a capability");
        if ((x = pl_ymap_get(v, "description")) == NULL)
            pl__err(L, k, "capability '%s' has no 'description': what customers read about it",
                    c->id);
        else if (pl__want_text(L, x, "'description'"))
            c->description = pl__str(L, x->str);
        if ((x = pl_ymap_get(v, "channels")) != NULL)
            c->channels = read_channels(L, x);
        if ((x = pl_ymap_get(v, "elsewhere")) != NULL && pl__want_text(L, x, "'elsewhere'"))
            c->elsewhere = pl__str(L, x->str);
    }
}

static void read_cannot(pl__loader_t *L, const pl_ynode_t *n)
{
    static const char *const keys[] = {"description", "alternative", "intents"};
    pl_bot_t *bot = L->bot;
    if (!pl__want_map(L, n, "'cannot'"))
        return;
    bot->cannots = pl__alloc(L, n->n, sizeof(*bot->cannots));
    for (size_t i = 0; bot->cannots && i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1], *x;
        pl_cannot_t *c = &bot->cannots[bot->ncannots++];
        c->id = pl__str(L, k->str);
        c->pos = pl__pos(k);
        c->description = c->id;
        pl__want_id(L, k, "an id");
        if (!pl__want_map(L, v, "a 'cannot' entry"))
            continue;
        pl__check_keys(L, v, keys, COUNT(keys), "a 'cannot' entry");
        if ((x = pl_ymap_get(v, "description")) == NULL)
            pl__err(L, k, "'%s' has no 'description': what the bot cannot do", c->id);
        else if (pl__want_text(L, x, "'description'"))
            c->description = pl__str(L, x->str);
        if ((x = pl_ymap_get(v, "alternative")) == NULL)
            pl__warn(L, k,
                     "'%s' says what the bot cannot do but not where to go instead; add "
                     "'alternative:' (a phone number, a web page, opening hours)",
                     c->id);
        else if (pl__want_text(L, x, "'alternative'"))
            c->alternative = pl__str(L, x->str);
        if ((x = pl_ymap_get(v, "intents")) != NULL && pl__want_seq(L, x, "'intents'")) {
            c->intents = pl__alloc(L, x->n, sizeof(*c->intents));
            for (size_t j = 0; c->intents && j < x->n; j++) {
                const pl_ynode_t *in = x->kids[j];
                if (!pl__want_id(L, in, "an intent"))
                    continue;
                int idx = pl_bot_intent(bot, in->str);
                if (idx < 0)
                    PL__UNKNOWN(L, in, "intent", in->str, bot->intents, bot->nintents);
                else
                    c->intents[c->nintents++] = idx;
            }
        }
    }
}

void pl__read_capabilities(pl__loader_t *L, const pl_ynode_t *n)
{
    static const char *const keys[] = {"can", "cannot", "human"};
    static const char *const human_keys[] = {"web", "app", "voice", "hours"};
    if (n == NULL || !pl__want_map(L, n, "'capabilities'"))
        return;
    pl__check_keys(L, n, keys, COUNT(keys), "'capabilities'");
    const pl_ynode_t *x;
    if ((x = pl_ymap_get(n, "can")) != NULL)
        read_can(L, x);
    if ((x = pl_ymap_get(n, "cannot")) != NULL)
        read_cannot(L, x);
    if ((x = pl_ymap_get(n, "human")) != NULL && pl__want_map(L, x, "'human'")) {
        pl__check_keys(L, x, human_keys, COUNT(human_keys), "'human'");
        for (int c = 0; c < PL_CHANNEL_COUNT; c++) {
            const pl_ynode_t *h = pl_ymap_get(x, pl_channel_name((pl_channel_t)c));
            if (h != NULL && pl__want_text(L, h, "how to reach a person"))
                L->bot->human[c] = pl__str(L, h->str);
        }
        const pl_ynode_t *h = pl_ymap_get(x, "hours");
        if (h != NULL && pl__want_text(L, h, "'hours'"))
            L->bot->human_hours = pl__str(L, h->str);
    }
}

/* ---- disclosure and personality (keys of 'bot') ---- */

/* Words that say "automated" in a disclosure. */
static int says_automated(const char *s)
{
    static const char *const words[] = {
        "automat", "bot",        "virtual",   "virtuell", "digital",  "ki ",     "ki-", "ai ",
        "ai-",     "artificial", "künstlich", "computer", "maschine", "machine", NULL};
    /* the words as written, lower case, placeholders left out: "{{bot.name}}" says nothing */
    char low[1024];
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len && n < sizeof(low) - 2; i++) {
        if (s[i] == '{' && s[i + 1] == '{') {
            const char *end = strstr(s + i, "}}");
            if (end == NULL)
                break;
            i = (size_t)(end - s) + 1;
            low[n++] = ' ';
            continue;
        }
        low[n++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    }
    low[n] = ' ';
    low[n + 1] = '\0';
    for (size_t i = 0; words[i]; i++)
        if (strstr(low, words[i]) != NULL)
            return 1;
    return 0;
}

void pl__read_disclosure(pl__loader_t *L, const pl_ynode_t *meta)
{
    static const char *const pkeys[] = {"name", "voice"};
    pl_bot_t *bot = L->bot;
    const pl_ynode_t *p = pl_ymap_get(meta, "personality"), *d = pl_ymap_get(meta, "disclosure");
    if (p != NULL && pl__want_map(L, p, "'personality'")) {
        pl__check_keys(L, p, pkeys, COUNT(pkeys), "'personality'");
        const pl_ynode_t *x;
        if ((x = pl_ymap_get(p, "name")) != NULL && pl__want_text(L, x, "'name'"))
            bot->persona_name = pl__str(L, x->str);
        if ((x = pl_ymap_get(p, "voice")) != NULL && pl__want_text(L, x, "'voice'"))
            bot->voice_hints = pl__str(L, x->str);
    }
    if (d != NULL && pl__want_text(L, d, "'disclosure'")) {
        bot->disclosure = pl__str(L, d->str);
        pl__check_templates(L, d, d->str);
        if (!says_automated(d->str))
            pl__err(
                L, d,
                "the disclosure must say that the customer talks to an automated assistant "
                "(e.g. \"automated\", \"bot\", \"virtual assistant\", \"automatisch\", \"KI\")");
    }
    if (bot->disclosure == NULL) {
        int de = strcmp(bot->language, "de") == 0;
        bot->disclosure = de ? "Ich bin {{bot.name}}, ein automatischer Assistent – kein Mensch."
                             : "I am {{bot.name}}, an automated assistant, not a person.";
    }
}

/* ---- checks on flows ---- */

void pl__check_honesty(pl__loader_t *L)
{
    const pl_bot_t *bot = L->bot;
    int bot_intent = pl_bot_intent(bot, PL_INTENT_ARE_YOU_A_BOT);
    static const char *const own[] = {PL_INTENT_STOP_PERSONALISING, PL_INTENT_FORGET_ME,
                                      PL_INTENT_NOT_INTERESTED, PL_INTENT_LINK_CHANNEL};
    for (size_t f = 0; f < bot->nflows; f++)
        for (size_t t = 0; t < bot->flows[f].ntriggers; t++) {
            const char *id = bot->intents[bot->flows[f].trigger_idx[t]].id;
            if (bot->flows[f].trigger_idx[t] == bot_intent)
                pl__err_at(L, &bot->flows[f].pos,
                           "flow '%s' answers 'are you a bot?': that answer is built in and always "
                           "tells the truth; remove '%s' from the trigger",
                           bot->flows[f].id, PL_INTENT_ARE_YOU_A_BOT);
            for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
                /* without categories, "not interested" is the bot's to answer */
                if (strcmp(id, own[k]) == 0 &&
                    (bot->ncategories > 0 || strcmp(id, PL_INTENT_NOT_INTERESTED) != 0))
                    pl__err_at(L, &bot->flows[f].pos,
                               "flow '%s' would never start: parley answers '%s' itself, on every "
                               "channel, so that privacy requests always work; remove it from the "
                               "trigger",
                               bot->flows[f].id, id);
        }
    for (size_t c = 0; c < bot->ncannots; c++)
        for (size_t i = 0; i < bot->cannots[c].nintents; i++)
            for (size_t f = 0; f < bot->nflows; f++)
                for (size_t t = 0; t < bot->flows[f].ntriggers; t++)
                    if (bot->flows[f].trigger_idx[t] == bot->cannots[c].intents[i])
                        pl__err_at(
                            L, &bot->cannots[c].pos,
                            "intent '%s' asks for '%s', which the bot cannot do, but it also "
                            "starts flow '%s'; an intent means one thing",
                            bot->intents[bot->cannots[c].intents[i]].id, bot->cannots[c].id,
                            bot->flows[f].id);
}
