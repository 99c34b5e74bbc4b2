/* The bot loader: reads a bot's YAML files (following includes), checks every key and value
 * against the format of dialogs/README.md, and builds the immutable pl_bot. Every problem is
 * reported with its position; loading goes on after a problem so one run shows them all. */
#include "base/duration.h"
#include "base/error.h"
#include "base/mem.h"
#include "dialog/loader_int.h"

#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* ---- files and includes ---- */

/* Positions kept in the bot name their file: the bot's own copy of the name, since the
 * parsed documents are freed once the bot is built. */
static void own_file_names(pl_ynode_t *n, const char *file)
{
    n->file = file;
    size_t kids = n->kind == PL_Y_MAP ? 2 * n->n : n->kind == PL_Y_SEQ ? n->n : 0;
    for (size_t i = 0; i < kids; i++)
        own_file_names(n->kids[i], file);
}

static const char *const main_keys[] = {"bot",      "include",  "intents",      "entities",
                                        "slots",    "flows",    "offers",       "categories",
                                        "fallback", "signals",  "personas",     "capabilities"};
static const char *const include_keys[] = {"include", "intents",    "entities", "slots", "flows",
                                           "offers",  "categories", "signals",  "personas"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* "dir/of/base" + rel, unless rel is absolute. */
static char *join_path(const char *base, const char *rel)
{
    if (rel[0] == '/')
        return pl_strdup(rel);
    const char *slash = strrchr(base, '/');
    size_t dl = slash ? (size_t)(slash - base) + 1 : 0;
    size_t rl = strlen(rel);
    char *p = pl_malloc(dl + rl + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, base, dl);
    memcpy(p + dl, rel, rl + 1);
    return p;
}

/* The files being read, outermost first: real paths to detect cycles, and the names as
 * written to report them. */
typedef struct {
    char *real[PL__MAX_FILES + 1];
    const char *name[PL__MAX_FILES + 1];
} chain_t;

static int load_file(pl__loader_t *L, const char *path, const pl_ynode_t *from, chain_t *chain,
                     size_t depth);

static void load_includes(pl__loader_t *L, const pl_ydoc_t *doc, chain_t *chain, size_t depth)
{
    const pl_ynode_t *inc = pl_ymap_get(doc->root, "include");
    if (inc == NULL || pl_ynode_is_null(inc))
        return;
    if (!pl__want_seq(L, inc, "'include'"))
        return;
    for (size_t i = 0; i < inc->n; i++) {
        const pl_ynode_t *item = inc->kids[i];
        if (!pl__want_text(L, item, "an included file"))
            continue;
        char *path = join_path(doc->file, item->str);
        if (path == NULL) {
            L->oom = 1;
            return;
        }
        load_file(L, path, item, chain, depth);
        pl_free(path);
    }
}

static void report_cycle(pl__loader_t *L, const pl_ynode_t *from, const chain_t *chain,
                         size_t start, size_t depth)
{
    char msg[1024];
    size_t used = 0;
    used += (size_t)snprintf(msg, sizeof(msg), "include cycle: %s", chain->name[start]);
    for (size_t i = start + 1; i < depth && used < sizeof(msg); i++)
        used +=
            (size_t)snprintf(msg + used, sizeof(msg) - used, " includes %s, which", chain->name[i]);
    if (used < sizeof(msg))
        snprintf(msg + used, sizeof(msg) - used, " includes %s again; remove one of these includes",
                 chain->name[start]);
    pl__err(L, from, "%s", msg);
}

/* Loads path unless it is already loaded; reports include cycles along chain. */
static int load_file(pl__loader_t *L, const char *path, const pl_ynode_t *from, chain_t *chain,
                     size_t depth)
{
    struct stat st;
    if (from != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        pl__err(L, from, "included file '%s' is a directory, not a bot file", from->str);
        return PL_EIO;
    }
    int from_memory = depth == 0 && L->text != NULL;
    char *real = from_memory ? strdup(path) : realpath(path, NULL);
    if (real == NULL && from_memory) {
        L->oom = 1;
        return PL_ENOMEM;
    }
    if (real == NULL) {
        if (from != NULL)
            pl__err(L, from, "included file '%s' does not exist (looked for '%s')", from->str,
                    path);
        else
            pl_diag(L->d, PL_DIAG_ERROR, path, 0, 0, 0, "cannot open file: no such file");
        return PL_ENOENT;
    }
    for (size_t i = 0; i < depth; i++) {
        if (strcmp(chain->real[i], real) == 0) {
            report_cycle(L, from, chain, i, depth);
            free(real);
            return PL_EINVALID;
        }
    }
    for (size_t i = 0; i < L->ndocs; i++) {
        char *other = realpath(L->docs[i].file, NULL);
        int same = other != NULL && strcmp(other, real) == 0;
        free(other);
        if (same) { /* included twice from different places: read once */
            free(real);
            return 0;
        }
    }
    if (L->ndocs == PL__MAX_FILES || depth == PL__MAX_FILES) {
        pl__err(L, from, "more than %d bot files; include fewer files", PL__MAX_FILES);
        free(real);
        return PL_ELIMIT;
    }
    pl_ydoc_t *doc = &L->docs[L->ndocs++];
    int rc = from_memory ? pl_ydoc_parse(doc, path, L->text, L->textlen, L->d)
                         : pl_ydoc_load(doc, path, L->d);
    if (rc == PL_ENOMEM)
        L->oom = 1;
    if (rc == 0 && doc->root != NULL)
        own_file_names(doc->root, pl__str(L, doc->file));
    if (rc != 0 || doc->root == NULL) {
        free(real);
        return rc ? rc : PL_EINVALID;
    }
    int is_main = L->ndocs == 1;
    if (!pl__want_map(L, doc->root, is_main ? "a bot file" : "an included file")) {
        doc->root = NULL;
        free(real);
        return PL_EINVALID;
    }
    if (is_main)
        pl__check_keys(L, doc->root, main_keys, COUNT(main_keys), "the bot file");
    else
        pl__check_keys(L, doc->root, include_keys, COUNT(include_keys),
                       "an included file (only the main file has 'bot' and 'fallback')");
    chain->real[depth] = real;
    chain->name[depth] = doc->file;
    load_includes(L, doc, chain, depth + 1);
    chain->real[depth] = NULL;
    free(real);
    return 0;
}

/* ---- sections gathered over all files ---- */

typedef struct {
    const pl_ynode_t **keys, **vals;
    size_t n;
} section_t;

/* Collects the entries of one top-level section from every file, reporting ids defined in
 * two files (the same file's duplicates were reported by the YAML reader). */
static void gather(pl__loader_t *L, const char *name, const char *kind, section_t *s)
{
    size_t total = 0;
    for (size_t i = 0; i < L->ndocs; i++) {
        const pl_ynode_t *sec = pl_ymap_get(L->docs[i].root, name);
        if (sec == NULL || pl_ynode_is_null(sec))
            continue;
        char what[64];
        snprintf(what, sizeof(what), "'%s'", name);
        if (pl__want_map(L, sec, what))
            total += sec->n;
    }
    s->keys = pl__alloc(L, total, sizeof(*s->keys));
    s->vals = pl__alloc(L, total, sizeof(*s->vals));
    s->n = 0;
    if (s->keys == NULL || s->vals == NULL)
        return;
    for (size_t i = 0; i < L->ndocs; i++) {
        const pl_ynode_t *sec = pl_ymap_get(L->docs[i].root, name);
        if (sec == NULL || sec->kind != PL_Y_MAP)
            continue;
        for (size_t j = 0; j < sec->n; j++) {
            const pl_ynode_t *k = sec->kids[2 * j];
            if (k->kind != PL_Y_SCALAR)
                continue;
            int dup = 0;
            for (size_t m = 0; m < s->n && !dup; m++) {
                if (s->keys[m]->file != k->file && strcmp(s->keys[m]->str, k->str) == 0) {
                    pl__err(L, k, "duplicate %s id '%s' (first defined at %s:%d)", kind, k->str,
                            s->keys[m]->file, s->keys[m]->line);
                    dup = 1;
                }
            }
            if (dup)
                continue;
            char what[64];
            snprintf(what, sizeof(what), "%s id", kind);
            pl__want_id(L, k, what);
            s->keys[s->n] = k;
            s->vals[s->n] = sec->kids[2 * j + 1];
            s->n++;
        }
    }
}

/* ---- bot metadata ---- */

static void read_meta(pl__loader_t *L, const pl_ynode_t *root)
{
    static const char *const keys[] = {"id",          "name",          "language",
                                       "tones",       "default_tone",  "threshold",
                                       "personality", "disclosure",    "signal_max_age"};
    pl_bot_t *bot = L->bot;
    bot->id = bot->name = "";
    bot->language = "en";
    bot->threshold = 0.5;
    bot->signal_max_age_ms = PL_DEFAULT_SIGNAL_MAX_AGE_MS;
    const pl_ynode_t *meta = pl_ymap_get(root, "bot");
    if (meta == NULL) {
        pl__err(L, root, "the bot file has no 'bot:' section; add one with id, name and language");
        return;
    }
    if (!pl__want_map(L, meta, "'bot'"))
        return;
    pl__check_keys(L, meta, keys, COUNT(keys), "'bot'");
    const pl_ynode_t *n, *bot_key = pl_ymap_key(root, "bot");
    if ((n = pl_ymap_get(meta, "id")) == NULL)
        pl__err(L, bot_key, "'bot' has no 'id'; add e.g. 'id: camera-shop'");
    else if (pl__want_id(L, n, "the bot id"))
        bot->id = pl__str(L, n->str);
    if ((n = pl_ymap_get(meta, "name")) == NULL)
        pl__err(L, bot_key, "'bot' has no 'name'; add the name customers see");
    else if (pl__want_text(L, n, "'name'"))
        bot->name = pl__str(L, n->str);
    if ((n = pl_ymap_get(meta, "language")) == NULL) {
        pl__err(L, bot_key, "'bot' has no 'language'; add 'language: de' or 'language: en'");
    } else if (pl__want_text(L, n, "'language'")) {
        if (strcmp(n->str, "de") != 0 && strcmp(n->str, "en") != 0)
            pl__err(L, n, "language '%s' is not supported; use 'de' or 'en'", n->str);
        else
            bot->language = pl__str(L, n->str);
    }
    if ((n = pl_ymap_get(meta, "tones")) != NULL && pl__want_seq(L, n, "'tones'")) {
        bot->tones = pl__alloc(L, n->n, sizeof(*bot->tones));
        for (size_t i = 0; bot->tones && i < n->n; i++) {
            const pl_ynode_t *t = n->kids[i];
            if (!pl__want_id(L, t, "a tone"))
                continue;
            pl_channel_t ch;
            if (pl_channel_parse(t->str, &ch) == 0 || strcmp(t->str, "default") == 0) {
                pl__err(L, t, "'%s' cannot be a tone name: it is reserved for variants", t->str);
                continue;
            }
            int dup = 0;
            for (size_t j = 0; j < bot->ntones; j++)
                dup |= strcmp(bot->tones[j], t->str) == 0;
            if (dup)
                pl__err(L, t, "tone '%s' is listed twice", t->str);
            else
                bot->tones[bot->ntones++] = pl__str(L, t->str);
        }
    }
    if ((n = pl_ymap_get(meta, "default_tone")) != NULL) {
        if (pl__want_id(L, n, "'default_tone'")) {
            size_t i;
            for (i = 0; i < bot->ntones; i++)
                if (strcmp(bot->tones[i], n->str) == 0)
                    break;
            if (i < bot->ntones)
                bot->default_tone = bot->tones[i];
            else
                pl__unknown(L, n, "tone", n->str, bot->tones, bot->ntones);
        }
    } else if (bot->ntones > 0) {
        bot->default_tone = bot->tones[0];
    }
    if (bot->default_tone == NULL)
        bot->default_tone = "neutral";
    pl__read_disclosure(L, meta);
    if ((n = pl_ymap_get(meta, "signal_max_age")) != NULL) {
        int64_t ms;
        if (n->kind != PL_Y_SCALAR || pl_parse_duration(n->str, &ms) != 0 || ms < 3600000 ||
            ms > 400 * 86400000LL)
            pl__err(L, n,
                    "'signal_max_age' must be a duration from 1h to 400d, e.g. '28d' (how long "
                    "what a customer's writing revealed may be used)");
        else
            bot->signal_max_age_ms = ms;
    }
    if ((n = pl_ymap_get(meta, "threshold")) != NULL) {
        double t;
        if (pl__want_number(L, n, "'threshold'", &t)) {
            if (t <= 0 || t >= 1)
                pl__err(L, n, "'threshold' must be between 0 and 1 (e.g. 0.5), not %s", n->str);
            else
                bot->threshold = t;
        }
    }
}

/* ---- intents, entities, slots, offers ---- */

static void read_intents(pl__loader_t *L, const section_t *s)
{
    static const char *const keys[] = {"examples"};
    pl_bot_t *bot = L->bot;
    bot->intents = pl__alloc(L, s->n, sizeof(*bot->intents));
    if (bot->intents == NULL)
        return;
    bot->nintents = s->n;
    for (size_t i = 0; i < s->n; i++) {
        pl_intent_t *it = &bot->intents[i];
        it->id = pl__str(L, s->keys[i]->str);
        it->pos = pl__pos(s->keys[i]);
        const pl_ynode_t *v = s->vals[i], *ex = v;
        if (v->kind == PL_Y_MAP) {
            pl__check_keys(L, v, keys, COUNT(keys), "an intent");
            ex = pl_ymap_get(v, "examples");
            if (ex == NULL) {
                pl__err(L, s->keys[i], "intent '%s' has no 'examples'", it->id);
                continue;
            }
        }
        if (pl_ynode_is_null(ex) || (ex->kind == PL_Y_SEQ && ex->n == 0)) {
            pl__err(L, ex->kind == PL_Y_SEQ ? ex : s->keys[i],
                    "intent '%s' has no examples; add 10 to 20 ways a customer might say it",
                    it->id);
            continue;
        }
        if (!pl__want_seq(L, ex, "an intent's examples"))
            continue;
        it->examples = pl__alloc(L, ex->n, sizeof(*it->examples));
        for (size_t j = 0; it->examples && j < ex->n; j++) {
            const pl_ynode_t *e = ex->kids[j];
            if (e->kind == PL_Y_SCALAR && !pl_ynode_is_null(e) && e->slen == 0)
                pl__err(L, e, "empty example in intent '%s'; write what a customer says", it->id);
            else if (pl_ynode_is_null(e))
                pl__err(L, e, "empty example in intent '%s'; write what a customer says", it->id);
            else if (pl__want_text(L, e, "an example"))
                it->examples[it->nexamples++] = pl__str(L, e->str);
        }
    }
}

static const char *const entity_types[] = {"list", "regex", "number", "money"};

static void read_list_values(pl__loader_t *L, pl_entity_t *en, const pl_ynode_t *vals)
{
    if (vals == NULL) {
        pl__err_at(L, &en->pos, "list entity '%s' has no 'values'", en->id);
        return;
    }
    if (!pl__want_map(L, vals, "'values'"))
        return;
    if (vals->n == 0) {
        pl__err(L, vals, "list entity '%s' has no values", en->id);
        return;
    }
    en->values = pl__alloc(L, vals->n, sizeof(*en->values));
    if (en->values == NULL)
        return;
    for (size_t i = 0; i < vals->n; i++) {
        const pl_ynode_t *k = vals->kids[2 * i], *syn = vals->kids[2 * i + 1];
        pl_entity_value_t *ev = &en->values[en->nvalues++];
        ev->value = pl__str(L, k->str);
        size_t nsyn = syn->kind == PL_Y_SEQ ? syn->n : 0;
        ev->synonyms = pl__alloc(L, nsyn + 1, sizeof(*ev->synonyms));
        if (ev->synonyms == NULL)
            return;
        ev->synonyms[ev->nsynonyms++] = ev->value;
        if (pl_ynode_is_null(syn))
            continue;
        if (!pl__want_seq(L, syn, "the synonyms of an entity value"))
            continue;
        for (size_t j = 0; j < syn->n; j++)
            if (pl__want_text(L, syn->kids[j], "a synonym"))
                ev->synonyms[ev->nsynonyms++] = pl__str(L, syn->kids[j]->str);
    }
}

static void read_regex(pl__loader_t *L, pl_entity_t *en, const pl_ynode_t *pat)
{
    if (pat == NULL) {
        pl__err_at(L, &en->pos, "regex entity '%s' has no 'pattern'", en->id);
        return;
    }
    if (!pl__want_text(L, pat, "'pattern'"))
        return;
    if (pat->slen > 256) {
        pl__err(L, pat, "pattern is longer than 256 characters; simplify it");
        return;
    }
    for (const char *p = pat->str; *p; p++) {
        if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9') {
            pl__err(L, pat,
                    "back-references ('\\%c') are not supported in patterns: they can "
                    "make matching very slow",
                    p[1]);
            return;
        }
        if (p[0] == '\\' && p[1] != '\0' && strchr("dDsSwW", p[1]) != NULL) {
            pl__err(L, pat,
                    "'\\%c' is not part of POSIX regular expressions and would match the letter "
                    "'%c'; write [0-9] for a digit, [[:space:]] for a space, [[:alnum:]_] for a "
                    "word character",
                    p[1], p[1]);
            return;
        }
        if (p[0] == '\\' && p[1] != '\0')
            p++;
    }
    regex_t *re = pl__alloc(L, 1, sizeof(*re));
    if (re == NULL)
        return;
    int rc = regcomp(re, pat->str, REG_EXTENDED | REG_ICASE);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof(msg));
        pl__err(L, pat, "invalid regular expression: %s", msg);
        return;
    }
    en->pattern = pl__str(L, pat->str);
    en->regex = re;
}

static void read_entities(pl__loader_t *L, const section_t *s)
{
    static const char *const keys[] = {"type", "values", "pattern"};
    pl_bot_t *bot = L->bot;
    bot->entities = pl__alloc(L, s->n, sizeof(*bot->entities));
    if (bot->entities == NULL)
        return;
    bot->nentities = s->n;
    for (size_t i = 0; i < s->n; i++) {
        pl_entity_t *en = &bot->entities[i];
        en->id = pl__str(L, s->keys[i]->str);
        en->pos = pl__pos(s->keys[i]);
        en->kind = PL_ENTITY_LIST;
        const pl_ynode_t *v = s->vals[i];
        if (!pl__want_map(L, v, "an entity"))
            continue;
        pl__check_keys(L, v, keys, COUNT(keys), "an entity");
        const pl_ynode_t *type = pl_ymap_get(v, "type");
        if (type == NULL) {
            pl__err(L, s->keys[i], "entity '%s' has no 'type'; use list, regex, number or money",
                    en->id);
            continue;
        }
        if (!pl__want_text(L, type, "'type'"))
            continue;
        size_t t;
        for (t = 0; t < COUNT(entity_types); t++)
            if (strcmp(type->str, entity_types[t]) == 0)
                break;
        if (t == COUNT(entity_types)) {
            const char *guess = pl_did_you_mean(type->str, entity_types, COUNT(entity_types));
            pl__err(L, type, "unknown entity type '%s'%s%s%s; use list, regex, number or money",
                    type->str, guess ? " (did you mean '" : "", guess ? guess : "",
                    guess ? "'?)" : "");
            continue;
        }
        en->kind = (pl_entity_kind_t)t;
        const pl_ynode_t *vals = pl_ymap_get(v, "values"), *pat = pl_ymap_get(v, "pattern");
        if (en->kind != PL_ENTITY_LIST && vals != NULL)
            pl__err(L, vals, "'values' only belongs to entities of type list");
        if (en->kind != PL_ENTITY_REGEX && pat != NULL)
            pl__err(L, pat, "'pattern' only belongs to entities of type regex");
        if (en->kind == PL_ENTITY_LIST)
            read_list_values(L, en, vals);
        else if (en->kind == PL_ENTITY_REGEX)
            read_regex(L, en, pat);
    }
}

static const char **read_quick_replies(pl__loader_t *L, const pl_ynode_t *n, size_t *count)
{
    *count = 0;
    if (n == NULL || !pl__want_seq(L, n, "'quick_replies'"))
        return NULL;
    const char **out = pl__alloc(L, n->n, sizeof(*out));
    for (size_t i = 0; out && i < n->n; i++)
        if (pl__want_text(L, n->kids[i], "a quick reply"))
            out[(*count)++] = pl__str(L, n->kids[i]->str);
    return out;
}

static void read_slots(pl__loader_t *L, const section_t *s)
{
    static const char *const keys[] = {"entity",        "type",     "prompt",  "reprompt",
                                       "quick_replies", "attempts", "confirm", "profile"};
    pl_bot_t *bot = L->bot;
    bot->slots = pl__alloc(L, s->n, sizeof(*bot->slots));
    if (bot->slots == NULL)
        return;
    bot->nslots = s->n;
    /* every slot id first: prompts may name other slots in {{placeholders}} */
    for (size_t i = 0; i < s->n; i++) {
        bot->slots[i].id = pl__str(L, s->keys[i]->str);
        bot->slots[i].pos = pl__pos(s->keys[i]);
        bot->slots[i].entity = -1;
        bot->slots[i].max_attempts = 3;
    }
    for (size_t i = 0; i < s->n; i++) {
        pl_slot_t *sl = &bot->slots[i];
        const pl_ynode_t *v = s->vals[i];
        if (!pl__want_map(L, v, "a slot"))
            continue;
        pl__check_keys(L, v, keys, COUNT(keys), "a slot");
        const pl_ynode_t *ent = pl_ymap_get(v, "entity"), *type = pl_ymap_get(v, "type");
        if (ent != NULL && type != NULL) {
            pl__err(L, type, "a slot has either 'entity' or 'type: text', not both");
        } else if (ent != NULL) {
            if (pl__want_id(L, ent, "'entity'")) {
                sl->entity = pl_bot_entity(bot, ent->str);
                if (sl->entity < 0)
                    PL__UNKNOWN(L, ent, "entity", ent->str, bot->entities, bot->nentities);
            }
        } else if (type != NULL) {
            if (pl__want_text(L, type, "'type'") && strcmp(type->str, "text") != 0)
                pl__err(L, type,
                        "slot type '%s' is not known; use 'type: text' for free text or "
                        "'entity: NAME' to fill the slot from an entity",
                        type->str);
        } else {
            pl__err(L, s->keys[i],
                    "slot '%s' says neither 'entity: NAME' nor 'type: text'; say how it is filled",
                    sl->id);
        }
        const pl_ynode_t *prompt = pl_ymap_get(v, "prompt");
        if (prompt == NULL)
            pl__err(L, s->keys[i], "slot '%s' has no 'prompt': the question that asks for it",
                    sl->id);
        else
            pl__read_text(L, prompt, &sl->prompt, "'prompt'");
        const pl_ynode_t *re = pl_ymap_get(v, "reprompt");
        if (re != NULL)
            pl__read_text(L, re, &sl->reprompt, "'reprompt'");
        sl->quick_replies =
            read_quick_replies(L, pl_ymap_get(v, "quick_replies"), &sl->nquick_replies);
        const pl_ynode_t *confirm = pl_ymap_get(v, "confirm"), *profile = pl_ymap_get(v, "profile");
        if (confirm != NULL)
            pl__read_text(L, confirm, &sl->confirm, "'confirm'");
        if (profile != NULL && pl__want_text(L, profile, "'profile'")) {
            if (strcmp(profile->str, "name") != 0)
                pl__err(L, profile, "'profile: %s' is not known; the profile keeps 'name'",
                        profile->str);
            else if (confirm == NULL)
                pl__err(L, profile,
                        "a name goes into the profile only once the customer confirmed it; add "
                        "'confirm:', e.g. \"Shall I call you {{slot.%s}}?\"",
                        sl->id);
            else
                sl->profile_name = 1;
        }
        const pl_ynode_t *att = pl_ymap_get(v, "attempts");
        long a;
        if (att != NULL && pl__want_int(L, att, "'attempts'", 1, 10, &a))
            sl->max_attempts = (int)a;
    }
}

/* ---- the whole bot ---- */

static int load_bot(const char *path, const char *text, size_t len, int flags, pl_diags_t *d,
                    pl_bot_t **out)
{
    pl__loader_t *L = pl_calloc(1, sizeof(*L));
    pl_bot_t *bot = pl_calloc(1, sizeof(*bot));
    if (L == NULL || bot == NULL) {
        pl_free(L);
        pl_free(bot);
        return PL_ENOMEM;
    }
    pl_arena_init(&bot->arena, 0);
    bot->category_entity = -1;
    for (size_t b = 0; b < PL_BUILTIN_COUNT; b++)
        bot->builtin[b] = -1;
    L->bot = bot;
    L->d = d;
    L->text = text;
    L->textlen = len;
    size_t errors_before = d->errors;
    chain_t chain = {{0}, {0}};

    int rc = load_file(L, path, NULL, &chain, 0);
    if (rc == 0 && L->docs[0].root != NULL) {
        const pl_ynode_t *root = L->docs[0].root;
        read_meta(L, root);
        section_t intents, entities, slots, offers, categories, flows, signals, personas;
        gather(L, "entities", "entity", &entities);
        gather(L, "intents", "intent", &intents);
        gather(L, "slots", "slot", &slots);
        gather(L, "offers", "offer", &offers);
        gather(L, "categories", "category", &categories);
        gather(L, "flows", "flow", &flows);
        gather(L, "signals", "signal", &signals);
        gather(L, "personas", "persona", &personas);
        read_entities(L, &entities);
        read_intents(L, &intents);
        if (!(flags & PL_LOAD_NO_BUILTIN_INTENTS))
            pl__add_builtin_intents(L);
        pl__read_capabilities(L, pl_ymap_get(root, "capabilities"));
        read_slots(L, &slots);
        pl__read_categories(L, categories.keys, categories.vals, categories.n);
        pl__read_offers(L, offers.keys, offers.vals, offers.n);
        pl__read_signals(L, signals.keys, signals.vals, signals.n);
        pl__read_personas(L, personas.keys, personas.vals, personas.n);
        pl__read_offer_conditions(L, offers.keys, offers.vals, offers.n);
        pl__read_flows(L, flows.keys, flows.vals, flows.n);
        pl__read_fallback(L, pl_ymap_get(root, "fallback"));
        pl__check_address(L);
        pl__check_honesty(L);
        if (!L->oom)
            pl__validate(L, d->errors > errors_before);
    }
    /* files stay listed for reload watching */
    bot->files = pl__alloc(L, L->ndocs, sizeof(*bot->files));
    for (size_t i = 0; bot->files && i < L->ndocs; i++)
        if (L->docs[i].file != NULL)
            bot->files[bot->nfiles++] = pl__str(L, L->docs[i].file);
    for (size_t i = 0; i < L->ndocs; i++)
        pl_ydoc_cleanup(&L->docs[i]);
    int oom = L->oom;
    pl_free(L);
    if (oom) {
        pl_bot_free(bot);
        return PL_ENOMEM;
    }
    if (d->errors > errors_before) {
        pl_bot_free(bot);
        return PL_EINVALID;
    }
    *out = bot;
    return 0;
}

int pl_bot_load(const char *path, pl_diags_t *d, pl_bot_t **out)
{
    return load_bot(path, NULL, 0, 0, d, out);
}

int pl_bot_load_text(const char *name, const char *text, size_t len, int flags, pl_diags_t *d,
                     pl_bot_t **out)
{
    return load_bot(name, text, len, flags, d, out);
}
