/* The loader's second half: texts with tone/channel variants and their {{placeholders}},
 * branch conditions, flows and their steps, and the global fallback. */
#include "base/mem.h"
#include "dialog/loader_int.h"
#include "dialog/template.h"

#include <string.h>
#include <utf8proc.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- texts ---- */

static const char *const profile_fields[] = {"name"};
static const char *const offer_fields[] = {"title", "terms", "price", "currency", "valid_until"};
static const char *const bot_fields[] = {"name"};

/* Characters in the first n bytes of s. */
static int chars(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* Position of byte offset off inside scalar n, when the scalar sits on one line as written. */
static pl_pos_t pos_in_scalar(const pl_ynode_t *n, const char *s, size_t off, size_t len)
{
    pl_pos_t p = pl__pos(n);
    if (n->kind == PL_Y_SCALAR && strchr(s, '\n') == NULL &&
        n->len == chars(s, strlen(s)) + (n->plain ? 0 : 2)) {
        p.col = n->col + (n->plain ? 0 : 1) + chars(s, off);
        p.len = chars(s + off, len);
    }
    return p;
}

static int field_ok(const char *name, size_t len, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(fields[i]) == len && strncmp(fields[i], name, len) == 0)
            return 1;
    return 0;
}

void pl__check_templates(pl__loader_t *L, const pl_ynode_t *n, const char *s)
{
    size_t pos = 0;
    pl_placeholder_t ph;
    int r;
    while ((r = pl_template_next(s, &pos, &ph)) != 0) {
        if (r < 0) {
            pl_pos_t p = pos_in_scalar(n, s, ph.start, 2);
            pl__err_at(L, &p, "'{{' without a closing '}}'; write e.g. {{slot.budget}}");
            return;
        }
        pl_pos_t p = pos_in_scalar(n, s, ph.start, ph.end - ph.start);
        const char *dot = memchr(ph.name, '.', ph.name_len);
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)ph.name_len, ph.name);
        if (dot == NULL) {
            pl__err_at(L, &p,
                       "placeholder '{{%s}}' is not known; use slot.NAME, profile.name, "
                       "offer.title, offer.terms, offer.price, offer.currency, offer.valid_until or bot.name",
                       name);
            continue;
        }
        size_t head = (size_t)(dot - ph.name);
        const char *field = dot + 1;
        size_t flen = ph.name_len - head - 1;
        if (head == 4 && strncmp(ph.name, "slot", 4) == 0) {
            char slot[128];
            snprintf(slot, sizeof(slot), "%.*s", (int)flen, field);
            if (pl_bot_slot(L->bot, slot) < 0) {
                const char **ids = pl__alloc(L, L->bot->nslots, sizeof(*ids));
                for (size_t i = 0; ids && i < L->bot->nslots; i++)
                    ids[i] = L->bot->slots[i].id;
                const char *guess = ids ? pl_did_you_mean(slot, ids, L->bot->nslots) : NULL;
                if (guess)
                    pl__err_at(L, &p, "unknown slot '%s' in '{{%s}}' (did you mean '%s'?)", slot,
                               name, guess);
                else
                    pl__err_at(L, &p, "unknown slot '%s' in '{{%s}}'", slot, name);
            }
        } else if (!((head == 7 && strncmp(ph.name, "profile", 7) == 0 &&
                      field_ok(field, flen, profile_fields, COUNT(profile_fields))) ||
                     (head == 5 && strncmp(ph.name, "offer", 5) == 0 &&
                      field_ok(field, flen, offer_fields, COUNT(offer_fields))) ||
                     (head == 3 && strncmp(ph.name, "bot", 3) == 0 &&
                      field_ok(field, flen, bot_fields, COUNT(bot_fields))))) {
            pl__err_at(L, &p,
                       "placeholder '{{%s}}' is not known; use slot.NAME, profile.name, "
                       "offer.title, offer.terms, offer.price, offer.currency, offer.valid_until or bot.name",
                       name);
        }
    }
}

/* Reads one text or a list of alternatives into v. */
static int read_alts(pl__loader_t *L, const pl_ynode_t *n, pl_variant_t *v, const char *what)
{
    if (n->kind == PL_Y_SCALAR) {
        if (pl_ynode_is_null(n) || n->slen == 0) {
            pl__err(L, n, "%s is empty; write what the bot says", what);
            return 0;
        }
        v->alts = pl__alloc(L, 1, sizeof(*v->alts));
        if (v->alts == NULL)
            return 0;
        v->alts[v->nalts++] = pl__str(L, n->str);
        pl__check_templates(L, n, n->str);
        return 1;
    }
    if (n->kind != PL_Y_SEQ) {
        pl__err(L, n, "%s must be a text or a list of alternative texts, not %s", what,
                pl_ynode_kind_name(n));
        return 0;
    }
    if (n->n == 0) {
        pl__err(L, n, "%s has no texts; write at least one", what);
        return 0;
    }
    v->alts = pl__alloc(L, n->n, sizeof(*v->alts));
    for (size_t i = 0; v->alts && i < n->n; i++) {
        const pl_ynode_t *a = n->kids[i];
        if (a->kind != PL_Y_SCALAR || pl_ynode_is_null(a) || a->slen == 0) {
            pl__err(L, a, "each alternative of %s must be a non-empty text", what);
            continue;
        }
        v->alts[v->nalts++] = pl__str(L, a->str);
        pl__check_templates(L, a, a->str);
    }
    return v->nalts > 0;
}

static const char *find_tone(const pl_bot_t *bot, const char *name, size_t len)
{
    for (size_t i = 0; i < bot->ntones; i++)
        if (strlen(bot->tones[i]) == len && strncmp(bot->tones[i], name, len) == 0)
            return bot->tones[i];
    return NULL;
}

/* Parses a variant key: "default", TONE, CHANNEL or TONE/CHANNEL. */
static int read_variant_key(pl__loader_t *L, const pl_ynode_t *k, pl_variant_t *v)
{
    const pl_bot_t *bot = L->bot;
    v->tone = NULL;
    v->channel = -1;
    if (strcmp(k->str, "default") == 0)
        return 1;
    const char *slash = strchr(k->str, '/');
    pl_channel_t ch;
    if (slash != NULL) {
        v->tone = find_tone(bot, k->str, (size_t)(slash - k->str));
        if (v->tone != NULL && pl_channel_parse(slash + 1, &ch) == 0) {
            v->channel = (int)ch;
            return 1;
        }
        pl__err(L, k,
                "variant '%s' must be TONE/CHANNEL with a tone from 'bot: tones' and a channel "
                "(web, app or voice)",
                k->str);
        return 0;
    }
    if (pl_channel_parse(k->str, &ch) == 0) {
        v->channel = (int)ch;
        return 1;
    }
    if ((v->tone = find_tone(bot, k->str, strlen(k->str))) != NULL)
        return 1;
    size_t nc = bot->ntones + PL_CHANNEL_COUNT + 1;
    const char **cands = pl__alloc(L, nc, sizeof(*cands));
    if (cands == NULL)
        return 0;
    size_t m = 0;
    cands[m++] = "default";
    for (int i = 0; i < PL_CHANNEL_COUNT; i++)
        cands[m++] = pl_channel_name((pl_channel_t)i);
    for (size_t i = 0; i < bot->ntones; i++)
        cands[m++] = bot->tones[i];
    const char *guess = pl_did_you_mean(k->str, cands, m);
    if (guess)
        pl__err(L, k, "unknown variant '%s' (did you mean '%s'?)", k->str, guess);
    else
        pl__err(L, k,
                "unknown variant '%s'; use 'default', a tone from 'bot: tones', a channel (web, "
                "app, voice) or TONE/CHANNEL",
                k->str);
    return 0;
}

int pl__read_text(pl__loader_t *L, const pl_ynode_t *n, pl_text_t *out, const char *what)
{
    memset(out, 0, sizeof(*out));
    out->pos = pl__pos(n);
    if (n->kind != PL_Y_MAP) {
        out->variants = pl__alloc(L, 1, sizeof(*out->variants));
        if (out->variants == NULL)
            return 0;
        out->variants[0].channel = -1;
        if (!read_alts(L, n, &out->variants[0], what))
            return 0;
        out->nvariants = 1;
        return 1;
    }
    /* slot 0 is kept for the default variant */
    out->variants = pl__alloc(L, n->n + 1, sizeof(*out->variants));
    if (out->variants == NULL)
        return 0;
    int has_default = 0, ok = 1;
    out->nvariants = 1;
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *val = n->kids[2 * i + 1];
        pl_variant_t v = {0};
        if (k->kind != PL_Y_SCALAR || !read_variant_key(L, k, &v)) {
            ok = 0;
            continue;
        }
        if (!read_alts(L, val, &v, what)) {
            ok = 0;
            continue;
        }
        if (v.tone == NULL && v.channel < 0) {
            out->variants[0] = v;
            has_default = 1;
        } else {
            out->variants[out->nvariants++] = v;
        }
    }
    if (!has_default) {
        pl__err(L, n,
                "%s has no 'default' variant; add 'default:' with the text used when no tone or "
                "channel variant fits",
                what);
        return 0;
    }
    return ok;
}

/* ---- conditions ---- */

static const char *const cond_heads[] = {"slot",     "intent",   "channel",  "persona",
                                         "tone",     "consent",  "offered",  "all",
                                         "any",      "not",      "interest", "declined",
                                         "accepted", "open_offer"};
static const char *const slot_ops[] = {"filled", "is", "is_not", "below", "above"};

static int read_cond(pl__loader_t *L, const pl_ynode_t *n, pl_cond_t *c, int depth);

/* An interest is an intent or a value of a list entity: what customers talk about. */
static int check_interest(pl__loader_t *L, const pl_ynode_t *v)
{
    const pl_bot_t *bot = L->bot;
    if (pl_bot_intent(bot, v->str) >= 0)
        return 1;
    size_t n = bot->nintents;
    for (size_t e = 0; e < bot->nentities; e++)
        for (size_t k = 0; (int)e != bot->category_entity && k < bot->entities[e].nvalues; k++, n++)
            if (strcmp(bot->entities[e].values[k].value, v->str) == 0)
                return 1;
    const char **names = pl__alloc(L, n, sizeof(*names));
    size_t m = 0;
    for (size_t i = 0; names && i < bot->nintents; i++)
        names[m++] = bot->intents[i].id;
    for (size_t e = 0; names && e < bot->nentities; e++)
        for (size_t k = 0; (int)e != bot->category_entity && k < bot->entities[e].nvalues; k++)
            names[m++] = bot->entities[e].values[k].value;
    const char *guess = names ? pl_did_you_mean(v->str, names, m) : NULL;
    if (guess)
        pl__err(L, v,
                "unknown interest '%s' (did you mean '%s'?); an interest is an intent or "
                "a value of a list entity",
                v->str, guess);
    else
        pl__err(L, v, "unknown interest '%s'; an interest is an intent or a value of a list entity",
                v->str);
    return 0;
}

static int read_cond_list(pl__loader_t *L, const pl_ynode_t *n, pl_cond_t *c, int depth)
{
    if (!pl__want_seq(L, n, "'all'/'any'"))
        return 0;
    if (n->n == 0) {
        pl__err(L, n, "an empty list of conditions; add at least one");
        return 0;
    }
    c->kids = pl__alloc(L, n->n, sizeof(*c->kids));
    if (c->kids == NULL)
        return 0;
    c->nkids = n->n;
    int ok = 1;
    for (size_t i = 0; i < n->n; i++)
        ok &= read_cond(L, n->kids[i], &c->kids[i], depth + 1);
    return ok;
}

/* A slot filled from a list entity only ever holds one of the list's values: comparing it
 * with anything else is a typo that would silently never match. */
static int check_list_value(pl__loader_t *L, int slot, const pl_ynode_t *v)
{
    const pl_bot_t *bot = L->bot;
    if (slot < 0 || bot->slots[slot].entity < 0)
        return 1;
    const pl_entity_t *en = &bot->entities[bot->slots[slot].entity];
    if (en->kind != PL_ENTITY_LIST)
        return 1;
    const char **vals = pl__alloc(L, en->nvalues, sizeof(*vals));
    for (size_t i = 0; vals && i < en->nvalues; i++) {
        if (strcmp(en->values[i].value, v->str) == 0)
            return 1;
        vals[i] = en->values[i].value;
    }
    const char *guess = vals ? pl_did_you_mean(v->str, vals, en->nvalues) : NULL;
    if (guess)
        pl__err(L, v, "'%s' is not a value of entity '%s' (did you mean '%s'?)", v->str, en->id,
                guess);
    else
        pl__err(L, v, "'%s' is not a value of entity '%s', so slot '%s' can never hold it", v->str,
                en->id, bot->slots[slot].id);
    return 0;
}

static int read_slot_cond(pl__loader_t *L, const pl_ynode_t *n, const pl_ynode_t *v, pl_cond_t *c)
{
    const pl_bot_t *bot = L->bot;
    int ok = 1;
    if (pl__want_id(L, v, "a slot name")) {
        c->index = pl_bot_slot(bot, v->str);
        c->name = pl__str(L, v->str);
        if (c->index < 0) {
            PL__UNKNOWN(L, v, "slot", v->str, bot->slots, bot->nslots);
            ok = 0;
        }
    } else {
        ok = 0;
    }
    c->op = PL_SLOT_FILLED;
    /* the tests in the order they were written, to name both when there are two */
    const pl_ynode_t *first = NULL;
    for (size_t k = 0; k < n->n; k++) {
        const pl_ynode_t *key = n->kids[2 * k];
        for (size_t i = 0; i < COUNT(slot_ops); i++) {
            if (key->kind != PL_Y_SCALAR || strcmp(key->str, slot_ops[i]) != 0)
                continue;
            if (first != NULL) {
                pl__err(L, key,
                        "a slot condition tests one thing, found '%s' and '%s'; combine them "
                        "with 'all:'",
                        first->str, key->str);
                return 0;
            }
            first = key;
        }
    }
    for (size_t i = 0; i < COUNT(slot_ops); i++) {
        const pl_ynode_t *o = pl_ymap_get(n, slot_ops[i]);
        if (o == NULL)
            continue;
        switch (i) {
        case 0:
            int filled;
            if (pl_ynode_bool(o, &filled)) {
                c->op = filled ? PL_SLOT_FILLED : PL_SLOT_EMPTY;
            } else {
                pl__err(L, o, "'filled' must be true or false");
                ok = 0;
            }
            break;
        case 1:
        case 2:
            c->op = i == 1 ? PL_SLOT_IS : PL_SLOT_IS_NOT;
            if (pl__want_text(L, o, i == 1 ? "'is'" : "'is_not'")) {
                c->value = pl__str(L, o->str);
                ok &= check_list_value(L, c->index, o);
            } else {
                ok = 0;
            }
            break;
        default:
            c->op = i == 3 ? PL_SLOT_BELOW : PL_SLOT_ABOVE;
            ok &= pl__want_number(L, o, i == 3 ? "'below'" : "'above'", &c->number);
            if (c->index >= 0) {
                const pl_slot_t *sl = &bot->slots[c->index];
                pl_entity_kind_t k =
                    sl->entity >= 0 ? bot->entities[sl->entity].kind : PL_ENTITY_LIST;
                if (k != PL_ENTITY_NUMBER && k != PL_ENTITY_MONEY) {
                    pl__err(L, pl_ymap_key(n, slot_ops[i]),
                            "'%s' compares numbers, but slot '%s' does not hold a number or "
                            "money amount",
                            slot_ops[i], sl->id);
                    ok = 0;
                }
            }
            break;
        }
    }
    return ok;
}

static int read_cond(pl__loader_t *L, const pl_ynode_t *n, pl_cond_t *c, int depth)
{
    const pl_bot_t *bot = L->bot;
    memset(c, 0, sizeof(*c));
    c->pos = pl__pos(n);
    if (depth > 16) {
        pl__err(L, n, "conditions nested more than 16 deep; simplify them");
        return 0;
    }
    if (!pl__want_map(L, n, "a condition"))
        return 0;
    static const char *allowed[COUNT(cond_heads) + COUNT(slot_ops)];
    for (size_t i = 0; i < COUNT(cond_heads); i++)
        allowed[i] = cond_heads[i];
    for (size_t i = 0; i < COUNT(slot_ops); i++)
        allowed[COUNT(cond_heads) + i] = slot_ops[i];
    pl__check_keys(L, n, allowed, COUNT(allowed), "a condition");
    const pl_ynode_t *v = NULL;
    size_t head = COUNT(cond_heads);
    for (size_t k = 0; k < n->n; k++) {
        const pl_ynode_t *key = n->kids[2 * k];
        for (size_t i = 0; i < COUNT(cond_heads); i++) {
            if (key->kind != PL_Y_SCALAR || strcmp(key->str, cond_heads[i]) != 0)
                continue;
            if (v != NULL) {
                pl__err(L, key,
                        "a condition tests one thing, found '%s' and '%s'; combine them with "
                        "'all:' or 'any:'",
                        cond_heads[head], cond_heads[i]);
                return 0;
            }
            v = n->kids[2 * k + 1];
            head = i;
        }
    }
    if (v == NULL) {
        pl__err(L, n,
                "a condition needs one of slot, intent, channel, persona, tone, consent, offered, "
                "declined, accepted, open_offer, interest, all, any, not");
        return 0;
    }
    if (head != 0) {
        for (size_t i = 0; i < COUNT(slot_ops); i++) {
            const pl_ynode_t *o = pl_ymap_get(n, slot_ops[i]);
            if (o != NULL) {
                pl__err(L, o, "'%s' only goes with 'slot:'", slot_ops[i]);
                return 0;
            }
        }
    }
    switch (head) {
    case 0:
        c->kind = PL_COND_SLOT;
        return read_slot_cond(L, n, v, c);
    case 1:
        c->kind = PL_COND_INTENT;
        if (!pl__want_id(L, v, "an intent name"))
            return 0;
        c->name = pl__str(L, v->str);
        c->index = pl_bot_intent(bot, v->str);
        if (c->index < 0) {
            PL__UNKNOWN(L, v, "intent", v->str, bot->intents, bot->nintents);
            return 0;
        }
        return 1;
    case 2: {
        c->kind = PL_COND_CHANNEL;
        pl_channel_t ch;
        if (!pl__want_text(L, v, "'channel'"))
            return 0;
        if (pl_channel_parse(v->str, &ch) != 0) {
            pl__err(L, v, "unknown channel '%s'; use web, app or voice", v->str);
            return 0;
        }
        c->index = (int)ch;
        return 1;
    }
    case 4:
        c->kind = PL_COND_TONE;
        if (!pl__want_id(L, v, "a tone"))
            return 0;
        c->name = find_tone(bot, v->str, v->slen);
        if (c->name == NULL) {
            pl__unknown(L, v, "tone", v->str, bot->tones, bot->ntones);
            return 0;
        }
        return 1;
    case 3:
    case 5:
        c->kind = head == 3 ? PL_COND_PERSONA : PL_COND_CONSENT;
        if (!pl__want_id(L, v, head == 3 ? "a persona" : "a consent name"))
            return 0;
        c->name = pl__str(L, v->str);
        if (head == 3 && (c->index = pl_bot_persona(bot, v->str)) < 0) {
            PL__UNKNOWN(L, v, "persona", v->str, bot->personas, bot->npersonas);
            return 0;
        }
        return 1;
    case 6:
    case 11:
    case 12:
    case 13:
        c->kind = head == 6    ? PL_COND_OFFERED
                  : head == 11 ? PL_COND_DECLINED
                  : head == 12 ? PL_COND_ACCEPTED
                               : PL_COND_OPEN_OFFER;
        if (!pl__want_id(L, v, "an offer id"))
            return 0;
        c->name = pl__str(L, v->str);
        c->index = pl_bot_offer(bot, v->str);
        if (c->kind == PL_COND_OPEN_OFFER && c->index < 0 && strcmp(v->str, "any") == 0)
            return 1; /* {open_offer: any}: some offer is open */
        if (c->kind == PL_COND_OPEN_OFFER && c->index < 0 && bot->noffers == 0) {
            pl__err(L, v, "unknown offer '%s'; the bot has no offers ('any' means any offer)",
                    v->str);
            return 0;
        }
        if (c->index < 0) {
            PL__UNKNOWN(L, v, "offer", v->str, bot->offers, bot->noffers);
            return 0;
        }
        return 1;
    case 7:
    case 8:
        c->kind = head == 7 ? PL_COND_ALL : PL_COND_ANY;
        return read_cond_list(L, v, c, depth);
    case 10:
        c->kind = PL_COND_INTEREST;
        L->bot->uses_interests = 1;
        if (!pl__want_id(L, v, "an interest"))
            return 0;
        c->name = pl__str(L, v->str);
        return check_interest(L, v);
    default:
        c->kind = PL_COND_NOT;
        c->kids = pl__alloc(L, 1, sizeof(*c->kids));
        if (c->kids == NULL)
            return 0;
        c->nkids = 1;
        return read_cond(L, v, c->kids, depth + 1);
    }
}

int pl__read_cond(pl__loader_t *L, const pl_ynode_t *n, pl_cond_t *c)
{
    return read_cond(L, n, c, 0);
}

/* ---- flows and steps ---- */

static const char *const step_actions[] = {"say",     "ask", "branch", "offer",
                                           "handoff", "end", "consent"};
static const char *const step_keys[] = {"id",      "say",  "ask",  "branch",        "offer",
                                        "handoff", "end",  "goto", "flow",          "quick_replies",
                                        "on_fail", "consent"};

/* Resolves "goto: STEP" (in flow f) or "flow: FLOW" into t. */
static int read_target(pl__loader_t *L, const pl_flow_t *f, const pl_ynode_t *step_node,
                       const pl_ynode_t *go, const pl_ynode_t *fl, pl_target_t *t)
{
    const pl_bot_t *bot = L->bot;
    t->flow = -1;
    t->step = -1;
    if (go != NULL && fl != NULL) {
        pl__err(L, fl, "use either 'goto:' (a step of this flow) or 'flow:' (another flow)");
        return 0;
    }
    if (go != NULL) {
        t->pos = pl__pos(go);
        if (!pl__want_id(L, go, "'goto'"))
            return 0;
        t->name = pl__str(L, go->str);
        t->step = pl_flow_step(f, go->str);
        if (t->step < 0) {
            const char **ids = pl__alloc(L, f->nsteps, sizeof(*ids));
            size_t m = 0;
            for (size_t i = 0; ids && i < f->nsteps; i++)
                if (f->steps[i].explicit_id)
                    ids[m++] = f->steps[i].id;
            const char *guess = ids ? pl_did_you_mean(go->str, ids, m) : NULL;
            if (pl_bot_flow(bot, go->str) >= 0)
                pl__err(L, go, "'%s' is a flow, not a step of flow '%s'; write 'flow: %s'", go->str,
                        f->id, go->str);
            else if (guess)
                pl__err(L, go, "unknown step '%s' in flow '%s' (did you mean '%s'?)", go->str,
                        f->id, guess);
            else
                pl__err(L, go, "unknown step '%s' in flow '%s'; give the step 'id: %s'", go->str,
                        f->id, go->str);
            return 0;
        }
        return 1;
    }
    (void)step_node;
    t->pos = pl__pos(fl);
    if (!pl__want_id(L, fl, "'flow'"))
        return 0;
    t->name = pl__str(L, fl->str);
    t->flow = pl_bot_flow(bot, fl->str);
    t->step = t->flow >= 0 ? 0 : -1;
    if (t->flow < 0) {
        PL__UNKNOWN(L, fl, "flow", fl->str, bot->flows, bot->nflows);
        return 0;
    }
    return 1;
}

static void read_branch(pl__loader_t *L, const pl_flow_t *f, const pl_ynode_t *n, pl_step_t *st)
{
    static const char *const arm_keys[] = {"if", "goto", "flow"};
    if (!pl__want_seq(L, n, "'branch'"))
        return;
    if (n->n == 0) {
        pl__err(L, n, "'branch' has no arms; add '- if: ...' with 'goto:'");
        return;
    }
    st->branches = pl__alloc(L, n->n, sizeof(*st->branches));
    if (st->branches == NULL)
        return;
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *arm = n->kids[i];
        if (!pl__want_map(L, arm, "a branch arm"))
            continue;
        pl__check_keys(L, arm, arm_keys, COUNT(arm_keys), "a branch arm");
        pl_branch_t *b = &st->branches[st->nbranches++];
        b->target.flow = b->target.step = -1;
        const pl_ynode_t *cond = pl_ymap_get(arm, "if");
        const pl_ynode_t *go = pl_ymap_get(arm, "goto"), *fl = pl_ymap_get(arm, "flow");
        if (cond == NULL) {
            if (i + 1 < n->n)
                pl__err(L, arm,
                        "an arm without 'if' is taken whenever it is reached, so it must be "
                        "the last arm");
            b->cond.kind = PL_COND_ALL; /* no kids: always true */
            b->cond.pos = pl__pos(arm);
        } else if (!read_cond(L, cond, &b->cond, 0)) {
            continue;
        }
        if (go == NULL && fl == NULL) {
            pl__err(L, arm, "a branch arm needs 'goto: STEP' or 'flow: FLOW'");
            continue;
        }
        read_target(L, f, arm, go, fl, &b->target);
    }
}

static void read_step(pl__loader_t *L, const pl_flow_t *f, const pl_ynode_t *n, pl_step_t *st)
{
    const pl_bot_t *bot = L->bot;
    pl__check_keys(L, n, step_keys, COUNT(step_keys), "a step");
    const pl_ynode_t *action = NULL;
    size_t kind = COUNT(step_actions);
    for (size_t k = 0; k < n->n; k++) {
        const pl_ynode_t *key = n->kids[2 * k];
        for (size_t i = 0; i < COUNT(step_actions); i++) {
            if (key->kind != PL_Y_SCALAR || strcmp(key->str, step_actions[i]) != 0)
                continue;
            if (action != NULL) {
                pl__err(L, key,
                        "a step does one thing, found '%s' and '%s'; split it into two steps",
                        step_actions[kind], step_actions[i]);
                st->kind = PL_STEP_END; /* reported; keep the graph checks quiet about it */
                return;
            }
            action = n->kids[2 * k + 1];
            kind = i;
        }
    }
    const pl_ynode_t *go = pl_ymap_get(n, "goto"), *fl = pl_ymap_get(n, "flow");
    const pl_ynode_t *qr = pl_ymap_get(n, "quick_replies"), *fail = pl_ymap_get(n, "on_fail");
    if (action == NULL && go == NULL && fl == NULL) {
        pl__err(L, n,
                "a step needs one of say, ask, branch, offer, handoff, end, consent, goto or "
                "flow");
        st->kind = PL_STEP_END;
        return;
    }
    if (action == NULL) {
        st->kind = PL_STEP_GOTO;
        read_target(L, f, n, go, fl, &st->next);
        st->has_next = 1;
        return;
    }
    static const pl_step_kind_t kinds[] = {PL_STEP_SAY,     PL_STEP_ASK, PL_STEP_BRANCH,
                                           PL_STEP_OFFER,   PL_STEP_HANDOFF, PL_STEP_END,
                                           PL_STEP_CONSENT};
    st->kind = kinds[kind];
    if (qr != NULL && st->kind != PL_STEP_SAY && st->kind != PL_STEP_ASK)
        pl__err(L, qr, "'quick_replies' belong to 'say' or 'ask' steps");
    else if (qr != NULL && pl__want_seq(L, qr, "'quick_replies'")) {
        st->quick_replies = pl__alloc(L, qr->n, sizeof(*st->quick_replies));
        for (size_t i = 0; st->quick_replies && i < qr->n; i++)
            if (pl__want_text(L, qr->kids[i], "a quick reply"))
                st->quick_replies[st->nquick_replies++] = pl__str(L, qr->kids[i]->str);
    }
    if (fail != NULL && st->kind != PL_STEP_ASK)
        pl__err(L, fail, "'on_fail' belongs to 'ask' steps");
    if ((go != NULL || fl != NULL) &&
        (st->kind == PL_STEP_BRANCH || st->kind == PL_STEP_HANDOFF || st->kind == PL_STEP_END)) {
        pl__err(L, go ? go : fl,
                st->kind == PL_STEP_BRANCH
                    ? "a 'branch' step chooses where to go in its arms; remove this line"
                    : "this step ends the flow, so nothing can follow it; remove this line");
    } else if (go != NULL || fl != NULL) {
        read_target(L, f, n, go, fl, &st->next);
        st->has_next = 1; /* even when unresolved: the author meant to jump, said once */
    }
    switch (st->kind) {
    case PL_STEP_SAY:
        pl__read_text(L, action, &st->text, "'say'");
        break;
    case PL_STEP_HANDOFF:
        pl__read_text(L, action, &st->text, "'handoff'");
        break;
    case PL_STEP_CONSENT:
        pl__read_text(L, action, &st->text, "'consent'");
        break;
    case PL_STEP_END:
        if (!pl_ynode_is_null(action))
            pl__read_text(L, action, &st->text, "'end'");
        break;
    case PL_STEP_ASK:
        if (!pl__want_id(L, action, "'ask'"))
            break;
        st->slot = pl_bot_slot(bot, action->str);
        if (st->slot < 0) {
            PL__UNKNOWN(L, action, "slot", action->str, bot->slots, bot->nslots);
        }
        if (fail != NULL) {
            read_target(L, f, n, fail, NULL, &st->on_fail);
            st->has_on_fail = 1;
        }
        break;
    case PL_STEP_OFFER:
        if (!pl__want_id(L, action, "'offer'"))
            break;
        st->offer = pl_bot_offer(bot, action->str);
        if (st->offer < 0) {
            PL__UNKNOWN(L, action, "offer", action->str, bot->offers, bot->noffers);
        }
        break;
    case PL_STEP_BRANCH:
        read_branch(L, f, action, st);
        break;
    default:
        break;
    }
}

static void read_triggers(pl__loader_t *L, pl_flow_t *f, const pl_ynode_t *t)
{
    const pl_bot_t *bot = L->bot;
    const pl_ynode_t *one[1] = {t};
    const pl_ynode_t *const *items = one;
    size_t n = 1;
    if (t->kind == PL_Y_SEQ) {
        items = (const pl_ynode_t *const *)t->kids;
        n = t->n;
    }
    f->triggers = pl__alloc(L, n, sizeof(*f->triggers));
    f->trigger_idx = pl__alloc(L, n, sizeof(*f->trigger_idx));
    if (f->triggers == NULL || f->trigger_idx == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const pl_ynode_t *it = items[i];
        if (!pl__want_id(L, it, "a trigger intent"))
            continue;
        int idx = pl_bot_intent(bot, it->str);
        if (idx < 0) {
            PL__UNKNOWN(L, it, "intent", it->str, bot->intents, bot->nintents);
            continue;
        }
        for (size_t g = 0; g < bot->nflows; g++) {
            const pl_flow_t *other = &bot->flows[g];
            for (size_t j = 0; other != f && j < other->ntriggers; j++)
                if (other->trigger_idx[j] == idx)
                    pl__err(L, it,
                            "intent '%s' already starts flow '%s'; an intent starts one flow",
                            it->str, other->id);
        }
        f->triggers[f->ntriggers] = bot->intents[idx].id;
        f->trigger_idx[f->ntriggers++] = idx;
    }
}

void pl__read_flows(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n)
{
    static const char *const flow_keys[] = {"trigger", "steps", "capability"};
    pl_bot_t *bot = L->bot;
    bot->flows = pl__alloc(L, n, sizeof(*bot->flows));
    if (bot->flows == NULL)
        return;
    bot->nflows = n;
    for (size_t i = 0; i < n; i++) {
        bot->flows[i].id = pl__str(L, keys[i]->str);
        bot->flows[i].pos = pl__pos(keys[i]);
        bot->flows[i].capability = -1;
        const pl_ynode_t *cap =
            vals[i]->kind == PL_Y_MAP ? pl_ymap_get(vals[i], "capability") : NULL;
        if (cap != NULL && pl__want_id(L, cap, "'capability'")) {
            for (size_t c = 0; c < bot->ncaps && bot->flows[i].capability < 0; c++)
                if (strcmp(bot->caps[c].id, cap->str) == 0)
                    bot->flows[i].capability = (int)c;
            if (bot->flows[i].capability < 0)
                PL__UNKNOWN(L, cap, "capability", cap->str, bot->caps, bot->ncaps);
        }
    }
    /* step ids of every flow before any step body, so 'goto' can point forward */
    for (size_t i = 0; i < n; i++) {
        pl_flow_t *f = &bot->flows[i];
        const pl_ynode_t *v = vals[i];
        if (!pl__want_map(L, v, "a flow"))
            continue;
        pl__check_keys(L, v, flow_keys, COUNT(flow_keys), "a flow");
        const pl_ynode_t *steps = pl_ymap_get(v, "steps");
        if (steps == NULL || pl_ynode_is_null(steps) || (steps->kind == PL_Y_SEQ && !steps->n)) {
            pl__err(L, steps && !pl_ynode_is_null(steps) ? steps : keys[i],
                    "flow '%s' has no steps; add a list under 'steps:'", f->id);
            continue;
        }
        if (!pl__want_seq(L, steps, "'steps'"))
            continue;
        f->steps = pl__alloc(L, steps->n, sizeof(*f->steps));
        if (f->steps == NULL)
            return;
        f->nsteps = steps->n;
        for (size_t j = 0; j < steps->n; j++) {
            pl_step_t *st = &f->steps[j];
            const pl_ynode_t *sn = steps->kids[j], *id = pl_ymap_get(sn, "id");
            /* point at the step's first key ("say", "ask", ...): the caret then underlines it */
            st->pos = pl__pos(sn->kind == PL_Y_MAP && sn->n > 0 ? sn->kids[0] : sn);
            st->slot = st->offer = -1;
            if (id != NULL && pl__want_id(L, id, "a step id")) {
                for (size_t m = 0; m < j; m++)
                    if (f->steps[m].explicit_id && strcmp(f->steps[m].id, id->str) == 0)
                        pl__err(L, id, "duplicate step id '%s' in flow '%s' (first at line %d)",
                                id->str, f->id, f->steps[m].pos.line);
                st->id = pl__str(L, id->str);
                st->explicit_id = 1;
                st->pos = pl__pos(id);
            } else {
                char auto_id[24];
                snprintf(auto_id, sizeof(auto_id), "#%zu", j + 1);
                st->id = pl__str(L, auto_id);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        pl_flow_t *f = &bot->flows[i];
        const pl_ynode_t *v = vals[i];
        if (v->kind != PL_Y_MAP)
            continue;
        const pl_ynode_t *t = pl_ymap_get(v, "trigger");
        if (t != NULL && !pl_ynode_is_null(t))
            read_triggers(L, f, t);
        const pl_ynode_t *steps = pl_ymap_get(v, "steps");
        for (size_t j = 0; j < f->nsteps; j++) {
            const pl_ynode_t *sn = steps->kids[j];
            if (pl__want_map(L, sn, "a step"))
                read_step(L, f, sn, &f->steps[j]);
            else
                f->steps[j].kind = PL_STEP_END; /* reported; keep later checks quiet */
        }
    }
}

/* ---- fallback ---- */

static void builtin_fallback(pl__loader_t *L, pl_fallback_t *fb)
{
    static const char *const en = "Sorry, I did not understand that. Could you say it differently?";
    static const char *const de =
        "Entschuldigung, das habe ich nicht verstanden. Können Sie es anders formulieren?";
    fb->say.variants = pl__alloc(L, 1, sizeof(*fb->say.variants));
    if (fb->say.variants == NULL)
        return;
    fb->say.variants[0].channel = -1;
    fb->say.variants[0].alts = pl__alloc(L, 1, sizeof(char *));
    if (fb->say.variants[0].alts == NULL)
        return;
    fb->say.variants[0].alts[0] = strcmp(L->bot->language, "de") == 0 ? de : en;
    fb->say.variants[0].nalts = 1;
    fb->say.nvariants = 1;
    fb->builtin_say = 1;
}

void pl__read_fallback(pl__loader_t *L, const pl_ynode_t *n)
{
    static const char *const keys[] = {"say", "escalate_after", "escalate_to"};
    pl_fallback_t *fb = &L->bot->fallback;
    fb->escalate_flow = -1;
    if (n == NULL || !pl__want_map(L, n, "'fallback'")) {
        builtin_fallback(L, fb);
        return;
    }
    pl__check_keys(L, n, keys, COUNT(keys), "'fallback'");
    const pl_ynode_t *say = pl_ymap_get(n, "say");
    if (say == NULL || !pl__read_text(L, say, &fb->say, "the fallback's 'say'"))
        builtin_fallback(L, fb);
    const pl_ynode_t *after = pl_ymap_get(n, "escalate_after"), *to = pl_ymap_get(n, "escalate_to");
    long a = 3;
    if (after != NULL && !pl__want_int(L, after, "'escalate_after'", 1, 10, &a))
        return;
    if (after != NULL && to == NULL) {
        pl__err(L, after,
                "'escalate_after' needs 'escalate_to: FLOW', the flow that offers a human");
        return;
    }
    if (to == NULL)
        return;
    fb->escalate_after = (int)a;
    if (!pl__want_id(L, to, "'escalate_to'"))
        return;
    fb->escalate_flow = pl_bot_flow(L->bot, to->str);
    fb->escalate.flow = fb->escalate_flow;
    fb->escalate.name = pl__str(L, to->str);
    fb->escalate.pos = pl__pos(to);
    if (fb->escalate_flow < 0)
        PL__UNKNOWN(L, to, "flow", to->str, L->bot->flows, L->bot->nflows);
}
