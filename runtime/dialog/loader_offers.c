/* The offer catalogue: `offers:` (title, terms, price, validity, category, eligibility,
 * channels, text) and `categories:` (kinds of offers, with the words customers use for them,
 * so "no more lens offers" can be understood). */
#include "base/duration.h"
#include "dialog/loader_int.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_MS 86400000LL

/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "2026-12-31" → the last millisecond of that day, UTC. Returns 0 when s is not such a date. */
static int64_t end_of_day(const char *s)
{
    int y, m, d, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 || s[10] != '\0' ||
        y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1)
        return 0;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return 0;
    return (days_from_civil(y, m, d) + 1) * DAY_MS - 1;
}

void pl__read_categories(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals,
                         size_t n)
{
    pl_bot_t *bot = L->bot;
    bot->category_entity = -1;
    if (n == 0)
        return;
    bot->categories = pl__alloc(L, n, sizeof(*bot->categories));
    if (bot->categories == NULL)
        return;
    bot->ncategories = n;
    for (size_t i = 0; i < n; i++) {
        pl_category_t *c = &bot->categories[i];
        c->id = pl__str(L, keys[i]->str);
        c->pos = pl__pos(keys[i]);
        const pl_ynode_t *v = vals[i];
        if (pl_ynode_is_null(v) || (v->kind == PL_Y_SEQ && v->n == 0)) {
            pl__err(L, keys[i],
                    "category '%s' has no words; list how customers name it, e.g. [lens, "
                    "lenses]",
                    c->id);
            continue;
        }
        if (!pl__want_seq(L, v, "a category (a list of the words customers use for it)"))
            continue;
        c->words = pl__alloc(L, v->n, sizeof(*c->words));
        for (size_t j = 0; c->words != NULL && j < v->n; j++)
            if (pl__want_text(L, v->kids[j], "a word"))
                c->words[c->nwords++] = pl__str(L, v->kids[j]->str);
    }
    /* a list entity (after the bot's own, so their numbers stay) finds categories in text */
    pl_entity_t *all = pl__alloc(L, bot->nentities + 1, sizeof(*all));
    pl_entity_value_t *values = pl__alloc(L, n, sizeof(*values));
    if (all == NULL || values == NULL)
        return;
    if (bot->nentities > 0)
        memcpy(all, bot->entities, bot->nentities * sizeof(*all));
    for (size_t i = 0; i < n; i++) {
        values[i].value = bot->categories[i].id;
        values[i].synonyms = bot->categories[i].words;
        values[i].nsynonyms = bot->categories[i].nwords;
    }
    pl_entity_t *en = &all[bot->nentities];
    memset(en, 0, sizeof(*en));
    en->id = "offer category";
    en->kind = PL_ENTITY_LIST;
    en->values = values;
    en->nvalues = n;
    en->pos = bot->categories[0].pos;
    bot->entities = all;
    bot->category_entity = (int)bot->nentities++;
}

static void read_validity(pl__loader_t *L, const pl_ynode_t *v, pl_offer_t *o)
{
    static const char *const forms[] = {"valid_days", "valid_for", "valid_until"};
    const pl_ynode_t *given = NULL, *n;
    for (size_t k = 0; k < COUNT(forms); k++) {
        if ((n = pl_ymap_get(v, forms[k])) == NULL)
            continue;
        if (given != NULL) {
            pl__err(L, n, "an offer has one validity: '%s' or '%s', not both", given->str,
                    forms[k]);
            return;
        }
        given = pl_ymap_key(v, forms[k]);
    }
    long days;
    if ((n = pl_ymap_get(v, "valid_days")) != NULL &&
        pl__want_int(L, n, "'valid_days'", 1, 365, &days))
        o->valid_ms = days * DAY_MS;
    if ((n = pl_ymap_get(v, "valid_for")) != NULL) {
        int64_t ms;
        if (n->kind != PL_Y_SCALAR || pl_parse_duration(n->str, &ms) != 0 || ms < 60000 ||
            ms > 365 * DAY_MS)
            pl__err(L, n,
                    "'valid_for' must be a duration from 1m to 365d, e.g. '7d' or '48h' (how long "
                    "the offer holds once it is made)");
        else
            o->valid_ms = ms;
    }
    if ((n = pl_ymap_get(v, "valid_until")) != NULL) {
        int64_t end = n->kind == PL_Y_SCALAR ? end_of_day(n->str) : 0;
        if (end == 0)
            pl__err(L, n,
                    "'valid_until' must be a date written YYYY-MM-DD, e.g. '2026-12-31' (the "
                    "offer holds until the end of that day, UTC)");
        else {
            o->valid_until_ms = end;
            o->valid_ms = 0;
        }
    }
}

static int read_channels(pl__loader_t *L, const pl_ynode_t *n)
{
    if (!pl__want_seq(L, n, "'channels' (a list of web, app, voice)"))
        return (1 << PL_CHANNEL_COUNT) - 1;
    int mask = 0;
    for (size_t j = 0; j < n->n; j++) {
        pl_channel_t ch;
        const pl_ynode_t *c = n->kids[j];
        if (!pl__want_text(L, c, "a channel"))
            continue;
        if (pl_channel_parse(c->str, &ch) != 0)
            pl__err(L, c, "unknown channel '%s'; use web, app or voice", c->str);
        else
            mask |= 1 << ch;
    }
    if (n->n == 0)
        pl__err(L, n, "'channels' is empty: the offer could never be made; leave it out for all");
    return mask;
}

void pl__read_offers(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n)
{
    static const char *const okeys[] = {"title",    "terms",     "price",       "currency",
                                        "valid_days", "valid_for", "valid_until", "category",
                                        "when",     "channels",  "text"};
    pl_bot_t *bot = L->bot;
    bot->offers = pl__alloc(L, n, sizeof(*bot->offers));
    if (bot->offers == NULL)
        return;
    bot->noffers = n;
    for (size_t i = 0; i < n; i++) {
        pl_offer_t *o = &bot->offers[i];
        o->id = pl__str(L, keys[i]->str);
        o->pos = pl__pos(keys[i]);
        o->currency = "EUR";
        o->valid_ms = 7 * DAY_MS;
        o->title = o->terms = "";
        o->category = -1;
        o->channels = (1 << PL_CHANNEL_COUNT) - 1;
        const pl_ynode_t *v = vals[i], *x;
        if (!pl__want_map(L, v, "an offer"))
            continue;
        pl__check_keys(L, v, okeys, COUNT(okeys), "an offer");
        if ((x = pl_ymap_get(v, "title")) == NULL)
            pl__err(L, keys[i], "offer '%s' has no 'title'", o->id);
        else if (pl__want_text(L, x, "'title'"))
            o->title = pl__str(L, x->str);
        if ((x = pl_ymap_get(v, "terms")) != NULL && pl__want_text(L, x, "'terms'"))
            o->terms = pl__str(L, x->str);
        if ((x = pl_ymap_get(v, "price")) == NULL)
            pl__err(L, keys[i], "offer '%s' has no 'price'", o->id);
        else if (pl__want_number(L, x, "'price'", &o->price) && o->price < 0)
            pl__err(L, x, "'price' cannot be negative");
        if ((x = pl_ymap_get(v, "currency")) != NULL && pl__want_text(L, x, "'currency'")) {
            if (strcmp(x->str, "EUR") != 0 && strcmp(x->str, "USD") != 0)
                pl__err(L, x, "currency '%s' is not supported; use EUR or USD", x->str);
            else
                o->currency = pl__str(L, x->str);
        }
        read_validity(L, v, o);
        if ((x = pl_ymap_get(v, "category")) != NULL && pl__want_id(L, x, "a category")) {
            o->category = -1;
            for (size_t c = 0; c < bot->ncategories; c++)
                if (strcmp(bot->categories[c].id, x->str) == 0)
                    o->category = (int)c;
            if (o->category < 0 && bot->ncategories == 0)
                pl__err(L, x,
                        "unknown category '%s'; declare it under 'categories:' with the words "
                        "customers use for it, e.g. %s: [%s]",
                        x->str, x->str, x->str);
            else if (o->category < 0)
                PL__UNKNOWN(L, x, "category", x->str, bot->categories, bot->ncategories);
        }
        if ((x = pl_ymap_get(v, "channels")) != NULL)
            o->channels = read_channels(L, x);
        if ((x = pl_ymap_get(v, "text")) == NULL)
            pl__err(L, keys[i], "offer '%s' has no 'text': what the bot says when it offers it",
                    o->id);
        else
            pl__read_text(L, x, &o->text, "'text'");
    }
}

/* Does c read who the customer seems to be or what they are interested in? */
static int reads_personal(const pl_cond_t *c)
{
    if (c->kind == PL_COND_PERSONA || c->kind == PL_COND_INTEREST)
        return 1;
    for (size_t i = 0; i < c->nkids; i++)
        if (reads_personal(&c->kids[i]))
            return 1;
    return 0;
}

void pl__read_offer_conditions(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals,
                               size_t n)
{
    pl_bot_t *bot = L->bot;
    for (size_t i = 0; i < n && i < bot->noffers; i++) {
        (void)keys;
        const pl_ynode_t *w = vals[i]->kind == PL_Y_MAP ? pl_ymap_get(vals[i], "when") : NULL;
        if (w == NULL)
            continue;
        pl_offer_t *o = &bot->offers[i];
        o->has_when = pl__read_cond(L, w, &o->when);
        o->personal = o->has_when && reads_personal(&o->when);
    }
}
