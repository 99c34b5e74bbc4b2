/* The expectations of `parley test` (see test_expect.h): each expectation key of a turn is
 * checked for its shape when the test file loads, and against the turn's reply and committed
 * state after the turn ran. */
#include "test_expect.h"
#include "base/strbuf.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int pl_test_check_keys(pl_test_run_t *r, const pl_ynode_t *map, const char *const *keys, size_t n,
                       const char *what)
{
    int ok = 1;
    for (size_t i = 0; i < map->n; i++) {
        const pl_ynode_t *k = map->kids[2 * i];
        size_t j;
        for (j = 0; j < n; j++)
            if (k->kind == PL_Y_SCALAR && strcmp(k->str, keys[j]) == 0)
                break;
        if (j < n)
            continue;
        const char *guess = k->kind == PL_Y_SCALAR ? pl_did_you_mean(k->str, keys, n) : NULL;
        pl_diag(r->d, PL_DIAG_ERROR, k->file, k->line, k->col, k->len,
                "unknown key '%s' in %s%s%s%s", k->kind == PL_Y_SCALAR ? k->str : "?", what,
                guess ? " (did you mean '" : "", guess ? guess : "", guess ? "'?)" : "");
        ok = 0;
    }
    return ok;
}

int pl_test_bad(pl_test_run_t *r, const pl_ynode_t *n, const char *msg)
{
    pl_diag(r->d, PL_DIAG_ERROR, n->file, n->line, n->col, n->len, "%s", msg);
    return 0;
}

void pl_test_fail(pl_test_run_t *r, const pl_ynode_t *at, const pl_test_turn_t *t, const char *fmt,
                  ...)
{
    if (r->failures++ == 0)
        printf("FAIL %s\n", r->conv);
    printf("  %s:%d:%d: ", at->file, at->line, at->col);
    if (t != NULL && t->action != NULL)
        printf("turn %d ([%s %s]): ", t->number, t->action, t->text);
    else if (t != NULL)
        printf("turn %d (\"%s\"): ", t->number, t->text);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* ---- the shape of the expectations ---- */

static int is_none(const pl_ynode_t *n)
{
    return pl_ynode_is_null(n) || (n->kind == PL_Y_SCALAR && strcmp(n->str, "none") == 0);
}

static const char *const offer_statuses[] = {"open",    "accepted",  "declined",
                                             "expired", "withdrawn", "none"};
static const char *const term_keys[] = {"price", "valid_until"};

static int is_number(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == '\0';
}

/* A date written YYYY-MM-DD. */
static int is_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int month = atoi(s + 5), day = atoi(s + 8);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static int valid_offers(pl_test_run_t *r, const pl_ynode_t *n)
{
    if (n->kind != PL_Y_MAP)
        return pl_test_bad(r, n,
                           "'offers' must be a mapping of offer ids to a status: open, "
                           "accepted, declined, expired or none");
    int ok = 1;
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *v = n->kids[2 * i + 1];
        size_t j = 0;
        while (v->kind == PL_Y_SCALAR && j < PL_TEST_COUNT(offer_statuses) &&
               strcmp(v->str, offer_statuses[j]) != 0)
            j++;
        if (v->kind != PL_Y_SCALAR || j == PL_TEST_COUNT(offer_statuses))
            ok = pl_test_bad(r, v,
                             "an offer's status must be open, accepted, declined, expired, "
                             "withdrawn or none");
    }
    return ok;
}

static int valid_terms(pl_test_run_t *r, const pl_ynode_t *n)
{
    if (n->kind != PL_Y_MAP)
        return pl_test_bad(r, n,
                           "'offer_terms' must be a mapping of offer ids to terms, such "
                           "as {price: 849, valid_until: 2026-01-08}");
    int ok = 1;
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *terms = n->kids[2 * i + 1], *v;
        if (terms->kind != PL_Y_MAP || terms->n == 0) {
            ok = pl_test_bad(r, terms,
                             "the terms of an offer must be a mapping with 'price' "
                             "and/or 'valid_until'");
            continue;
        }
        ok &= pl_test_check_keys(r, terms, term_keys, PL_TEST_COUNT(term_keys), "offer terms");
        double price;
        if ((v = pl_ymap_get(terms, "price")) != NULL &&
            (v->kind != PL_Y_SCALAR || !is_number(v->str, &price)))
            ok = pl_test_bad(r, v, "'price' must be a number, such as 849 or 12.50");
        if ((v = pl_ymap_get(terms, "valid_until")) != NULL &&
            (v->kind != PL_Y_SCALAR || !is_date(v->str)))
            ok = pl_test_bad(r, v, "'valid_until' must be a date written YYYY-MM-DD");
    }
    return ok;
}

static int valid_consent(pl_test_run_t *r, const pl_ynode_t *n)
{
    if (n->kind != PL_Y_MAP)
        return pl_test_bad(r, n,
                           "'consent' must be a mapping of consent names to true, false "
                           "or none");
    int ok = 1, yes;
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *v = n->kids[2 * i + 1];
        if (!is_none(v) && !pl_ynode_bool(v, &yes))
            ok = pl_test_bad(r, v, "a consent must be true, false or none");
    }
    return ok;
}

static int valid_text_list(pl_test_run_t *r, const pl_ynode_t *n, const char *msg)
{
    if (n->kind == PL_Y_SCALAR)
        return 1;
    int ok = n->kind == PL_Y_SEQ;
    for (size_t i = 0; ok && i < n->n; i++)
        ok = n->kids[i]->kind == PL_Y_SCALAR;
    return ok ? 1 : pl_test_bad(r, n, msg);
}

int pl_test_valid_expectations(pl_test_run_t *r, const pl_ynode_t *tn)
{
    int ok = 1, yes;
    const pl_ynode_t *n;
    if ((n = pl_ymap_get(tn, "reply_matches")) != NULL) {
        regex_t re;
        if (n->kind != PL_Y_SCALAR || regcomp(&re, n->str, REG_EXTENDED | REG_NOSUB) != 0)
            ok = pl_test_bad(r, n, "'reply_matches' must be a valid regular expression");
        else
            regfree(&re);
    }
    if ((n = pl_ymap_get(tn, "slots")) != NULL && n->kind != PL_Y_MAP)
        ok = pl_test_bad(r, n, "'slots' must be a mapping of slot names to expected values");
    static const char *const texts[] = {"reply", "intent",  "flow",    "step",
                                        "offer", "handoff", "persona", "tone"};
    for (size_t i = 0; i < PL_TEST_COUNT(texts); i++)
        if ((n = pl_ymap_get(tn, texts[i])) != NULL && n->kind != PL_Y_SCALAR)
            ok = pl_test_bad(r, n, "this expectation must be a single text");
    static const char *const flags[] = {"handoff", "capabilities", "new_customer"};
    for (size_t i = 0; i < PL_TEST_COUNT(flags); i++)
        if ((n = pl_ymap_get(tn, flags[i])) != NULL && !pl_ynode_bool(n, &yes)) {
            pl_diag(r->d, PL_DIAG_ERROR, n->file, n->line, n->col, n->len,
                    "'%s' must be true or false", flags[i]);
            ok = 0;
        }
    if ((n = pl_ymap_get(tn, "offers")) != NULL)
        ok &= valid_offers(r, n);
    if ((n = pl_ymap_get(tn, "offer_terms")) != NULL)
        ok &= valid_terms(r, n);
    if ((n = pl_ymap_get(tn, "consent")) != NULL)
        ok &= valid_consent(r, n);
    if ((n = pl_ymap_get(tn, "suppressed")) != NULL)
        ok &= valid_text_list(r, n, "'suppressed' must be a list of categories");
    return ok;
}

/* ---- checks on the reply ---- */

/* The conversation's messages; the capabilities banner of web and app is checked apart. */
static void joined_reply(const pl_turn_t *t, pl_strbuf_t *out)
{
    for (size_t i = 0; i < t->reply.n; i++) {
        if (t->reply.items[i].kind == PL_MSG_CAPABILITIES)
            continue;
        if (out->len > 0)
            pl_strbuf_putc(out, '\n');
        pl_strbuf_puts(out, t->reply.items[i].text);
    }
}

static void expect_text_list(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t,
                             const char *reply, int want)
{
    const pl_ynode_t *one[1] = {n};
    const pl_ynode_t *const *items = one;
    size_t count = 1;
    if (n->kind == PL_Y_SEQ) {
        items = (const pl_ynode_t *const *)n->kids;
        count = n->n;
    }
    for (size_t i = 0; i < count; i++) {
        const pl_ynode_t *it = items[i];
        if (it->kind != PL_Y_SCALAR)
            continue;
        int has = strstr(reply, it->str) != NULL;
        if (has != want)
            pl_test_fail(r, it, t, "expected the reply %s \"%s\"\n      got: \"%s\"",
                         want ? "to contain" : "not to contain", it->str, reply);
    }
}

static void expect_reply(pl_test_run_t *r, const pl_ynode_t *tn, const pl_test_turn_t *t)
{
    pl_strbuf_t reply;
    pl_strbuf_init(&reply, 0);
    joined_reply(t->turn, &reply);
    const char *text = pl_strbuf_str(&reply);
    const pl_ynode_t *n;
    if ((n = pl_ymap_get(tn, "reply")) != NULL && n->kind == PL_Y_SCALAR &&
        strcmp(text, n->str) != 0)
        pl_test_fail(r, n, t, "expected the reply \"%s\"\n      got: \"%s\"", n->str, text);
    if ((n = pl_ymap_get(tn, "reply_contains")) != NULL)
        expect_text_list(r, n, t, text, 1);
    if ((n = pl_ymap_get(tn, "reply_not_contains")) != NULL)
        expect_text_list(r, n, t, text, 0);
    if ((n = pl_ymap_get(tn, "reply_matches")) != NULL && n->kind == PL_Y_SCALAR) {
        regex_t re;
        if (regcomp(&re, n->str, REG_EXTENDED | REG_NOSUB) == 0) {
            if (regexec(&re, text, 0, NULL, 0) != 0)
                pl_test_fail(r, n, t, "expected the reply to match /%s/\n      got: \"%s\"", n->str,
                             text);
            regfree(&re);
        }
    }
    pl_strbuf_cleanup(&reply);
}

/* Whether the reply has a message of this kind (and, for offers, this offer id). */
static int reply_has(const pl_turn_t *t, pl_msg_kind_t kind, const char *offer)
{
    for (size_t i = 0; i < t->reply.n; i++)
        if (t->reply.items[i].kind == kind &&
            (offer == NULL || strcmp(t->reply.items[i].offer_id, offer) == 0))
            return 1;
    return 0;
}

static void expect_capabilities(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t)
{
    int want = 0, found = 0;
    if (!pl_ynode_bool(n, &want))
        return;
    for (size_t i = 0; i < t->turn->actions.n; i++)
        found |= t->turn->actions.items[i].kind == PL_ACT_CAPABILITIES;
    if (found != want)
        pl_test_fail(r, n, t,
                     want ? "expected the disclosure and capabilities of the channel"
                          : "expected no capabilities message");
}

static void expect_messages(pl_test_run_t *r, const pl_ynode_t *tn, const pl_test_turn_t *t)
{
    const pl_ynode_t *n;
    int want = 0;
    if ((n = pl_ymap_get(tn, "offer")) != NULL && n->kind == PL_Y_SCALAR &&
        !reply_has(t->turn, PL_MSG_OFFER, n->str))
        pl_test_fail(r, n, t, "expected offer '%s' in the reply", n->str);
    if ((n = pl_ymap_get(tn, "handoff")) != NULL && pl_ynode_bool(n, &want) &&
        reply_has(t->turn, PL_MSG_HANDOFF, NULL) != want)
        pl_test_fail(r, n, t,
                     want ? "expected a handoff to a person"
                          : "expected no handoff, but the bot handed off");
}

/* ---- checks on the committed state ---- */

static void expect_slots(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t)
{
    const cJSON *slots = cJSON_GetObjectItemCaseSensitive(t->state, "slots");
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(slots, k->str);
        char buf[64];
        const char *gs = NULL;
        if (cJSON_IsString(got))
            gs = got->valuestring;
        else if (cJSON_IsNumber(got)) {
            snprintf(buf, sizeof(buf), "%g", got->valuedouble);
            gs = buf;
        }
        if (is_none(v)) {
            if (gs != NULL)
                pl_test_fail(r, v, t, "expected slot '%s' to be empty, got \"%s\"", k->str, gs);
            continue;
        }
        double want;
        int ok = gs != NULL && strcmp(gs, v->str) == 0;
        if (!ok && cJSON_IsNumber(got) && is_number(v->str, &want))
            ok = fabs(want - got->valuedouble) < 1e-9;
        if (!ok)
            pl_test_fail(r, v, t, "expected slot '%s' = \"%s\", got %s%s%s", k->str, v->str,
                         gs ? "\"" : "nothing", gs ? gs : "", gs ? "\"" : "");
    }
}

static void expect_name(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t,
                        const char *what, const char *got)
{
    if (is_none(n)) {
        if (got != NULL)
            pl_test_fail(r, n, t, "expected no %s, got '%s'", what, got);
    } else if (got == NULL || strcmp(got, n->str) != 0) {
        pl_test_fail(r, n, t, "expected %s '%s', got %s%s%s", what, n->str, got ? "'" : "none",
                     got ? got : "", got ? "'" : "");
    }
}

/* The snapshot of the offer with this id in the state, or NULL. */
static const cJSON *offer_snapshot(const cJSON *state, const char *id)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(state, "offers"))
    {
        const char *oid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
        if (oid != NULL && strcmp(oid, id) == 0)
            return o;
    }
    return NULL;
}

static void expect_offers(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t)
{
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
        const cJSON *snap = offer_snapshot(t->state, k->str);
        const char *got = "none";
        if (snap != NULL) {
            const cJSON *status = cJSON_GetObjectItemCaseSensitive(snap, "status");
            got = cJSON_IsString(status) ? status->valuestring : "open";
        }
        if (strcmp(got, v->str) != 0)
            pl_test_fail(r, v, t, "expected offer '%s' to be %s, got %s%s", k->str, v->str, got,
                         snap == NULL ? " (it was never made)" : "");
    }
}

/* The UTC date of ms since the epoch as YYYY-MM-DD. */
static void utc_date(int64_t ms, char *out, size_t cap)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL)
        snprintf(out, cap, "?");
    else
        snprintf(out, cap, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void expect_terms(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t)
{
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *terms = n->kids[2 * i + 1], *v;
        const cJSON *snap = offer_snapshot(t->state, k->str);
        if (snap == NULL) {
            pl_test_fail(r, terms, t, "expected terms of offer '%s', but it was never made",
                         k->str);
            continue;
        }
        const cJSON *price = cJSON_GetObjectItemCaseSensitive(snap, "price");
        const cJSON *until = cJSON_GetObjectItemCaseSensitive(snap, "valid_until");
        double want;
        if ((v = pl_ymap_get(terms, "price")) != NULL && is_number(v->str, &want) &&
            (!cJSON_IsNumber(price) || fabs(price->valuedouble - want) >= 1e-9)) {
            char got[64] = "no price";
            if (cJSON_IsNumber(price))
                snprintf(got, sizeof(got), "%g", price->valuedouble);
            pl_test_fail(r, v, t, "expected offer '%s' at price %s, got %s", k->str, v->str, got);
        }
        char date[48] = "no date";
        if (cJSON_IsNumber(until))
            utc_date((int64_t)until->valuedouble, date, sizeof(date));
        if ((v = pl_ymap_get(terms, "valid_until")) != NULL && strcmp(date, v->str) != 0)
            pl_test_fail(r, v, t, "expected offer '%s' valid until %s, got %s", k->str, v->str,
                         date);
    }
}

static void expect_consent(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t)
{
    const cJSON *consent = cJSON_GetObjectItemCaseSensitive(t->state, "consent");
    for (size_t i = 0; i < n->n; i++) {
        const pl_ynode_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
        const cJSON *entry = cJSON_GetObjectItemCaseSensitive(consent, k->str);
        /* {"given": true, "at": ..., "channel": ...}; a bare true/false counts the same */
        const cJSON *given =
            cJSON_IsObject(entry) ? cJSON_GetObjectItemCaseSensitive(entry, "given") : entry;
        const char *got = given == NULL ? "none" : cJSON_IsTrue(given) ? "true" : "false";
        int yes = 0;
        const char *want = "none";
        if (!is_none(v))
            want = pl_ynode_bool(v, &yes) && yes ? "true" : "false";
        if (strcmp(got, want) != 0)
            pl_test_fail(r, v, t, "expected consent '%s' to be %s, got %s", k->str, want, got);
    }
}

static void expect_suppressed(pl_test_run_t *r, const pl_ynode_t *n, const pl_test_turn_t *t)
{
    const cJSON *suppressed = cJSON_GetObjectItemCaseSensitive(t->state, "suppressed");
    const pl_ynode_t *one[1] = {n};
    const pl_ynode_t *const *items = n->kind == PL_Y_SEQ ? (const pl_ynode_t *const *)n->kids : one;
    size_t count = n->kind == PL_Y_SEQ ? n->n : 1;
    for (size_t i = 0; i < count; i++)
        if (cJSON_GetObjectItemCaseSensitive(suppressed, items[i]->str) == NULL)
            pl_test_fail(r, items[i], t, "expected '%s' to be suppressed, but it is not",
                         items[i]->str);
}

/* The expectations on offers, consent and the customer, new with the store-backed tests. */
static void expect_customer(pl_test_run_t *r, const pl_ynode_t *tn, const pl_test_turn_t *t)
{
    const pl_ynode_t *n;
    if ((n = pl_ymap_get(tn, "offers")) != NULL)
        expect_offers(r, n, t);
    if ((n = pl_ymap_get(tn, "offer_terms")) != NULL)
        expect_terms(r, n, t);
    if ((n = pl_ymap_get(tn, "consent")) != NULL)
        expect_consent(r, n, t);
    if ((n = pl_ymap_get(tn, "suppressed")) != NULL)
        expect_suppressed(r, n, t);
    int want;
    if ((n = pl_ymap_get(tn, "new_customer")) != NULL && pl_ynode_bool(n, &want) &&
        want != t->new_customer)
        pl_test_fail(r, n, t,
                     want ? "expected a new customer, but it was the same as in the turn before"
                          : "expected the same customer as in the turn before, got a new one");
}

void pl_test_check_turn(pl_test_run_t *r, const pl_ynode_t *tn, const pl_test_turn_t *t)
{
    const pl_ynode_t *n;
    expect_reply(r, tn, t);
    if ((n = pl_ymap_get(tn, "intent")) != NULL)
        expect_name(r, n, t, "intent",
                    t->turn->nlu.intent >= 0 ? t->bot->intents[t->turn->nlu.intent].id : NULL);
    if ((n = pl_ymap_get(tn, "flow")) != NULL)
        expect_name(r, n, t, "flow",
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t->state, "flow")));
    if ((n = pl_ymap_get(tn, "step")) != NULL)
        expect_name(r, n, t, "step",
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t->state, "step")));
    if ((n = pl_ymap_get(tn, "slots")) != NULL && n->kind == PL_Y_MAP)
        expect_slots(r, n, t);
    if ((n = pl_ymap_get(tn, "capabilities")) != NULL)
        expect_capabilities(r, n, t);
    if ((n = pl_ymap_get(tn, "persona")) != NULL)
        expect_name(r, n, t, "persona", pl_state_persona(t->state));
    if ((n = pl_ymap_get(tn, "tone")) != NULL)
        expect_name(r, n, t, "tone", t->turn->persona.tone);
    expect_messages(r, tn, t);
    expect_customer(r, tn, t);
}
