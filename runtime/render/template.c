/* Placeholder expansion and the money and date formats of bot texts (see template.h). */
#include "render/template.h"
#include "dialog/offers.h"
#include "base/error.h"
#include "dialog/template.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* "1234567.50" → "1,234,567.50" (en) or "1.234.567,50" (de). */
static void group_digits(const char *plain, int de, char *out, size_t cap)
{
    const char *dot = strchr(plain, '.');
    size_t int_len = dot ? (size_t)(dot - plain) : strlen(plain), o = 0;
    size_t start = plain[0] == '-' ? 1 : 0;
    for (size_t i = 0; i < int_len && o + 2 < cap; i++) {
        if (i > start && (int_len - i) % 3 == 0)
            out[o++] = de ? '.' : ',';
        out[o++] = plain[i];
    }
    if (dot != NULL && o + 4 < cap) {
        out[o++] = de ? ',' : '.';
        for (const char *p = dot + 1; *p && o + 1 < cap; p++)
            out[o++] = *p;
    }
    out[o] = '\0';
}

int pl_format_money(const char *language, double amount, const char *currency, pl_strbuf_t *out)
{
    char plain[64], num[96];
    int whole = fabs(amount - round(amount)) < 0.005;
    int de = strcmp(language, "de") == 0;
    snprintf(plain, sizeof(plain), whole ? "%.0f" : "%.2f", amount);
    group_digits(plain, de, num, sizeof(num));
    if (de) {
        const char *sym = strcmp(currency, "USD") == 0 ? "$" : "€";
        return pl_strbuf_printf(out, "%s %s", num, sym);
    }
    const char *sym = strcmp(currency, "USD") == 0 ? "$" : "€";
    return pl_strbuf_printf(out, "%s%s", sym, num);
}

int pl_format_date(const char *language, int64_t ms, pl_strbuf_t *out)
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL)
        return PL_EINVAL;
    if (strcmp(language, "de") == 0)
        return pl_strbuf_printf(out, "%02d.%02d.%04d", tm.tm_mday, tm.tm_mon + 1,
                                tm.tm_year + 1900);
    return pl_strbuf_printf(out, "%d %s %04d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

/* The offer {{offer.*}} means outside an offer's own text: the newest open one, else the
 * newest of all. */
static const cJSON *newest_offer(const cJSON *state)
{
    const cJSON *offers = cJSON_GetObjectItemCaseSensitive(state, "offers"), *o, *best = NULL;
    cJSON_ArrayForEach(o, offers)
    {
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "made_at");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(best, "made_at");
        int open = pl_offer_is_open(o), best_open = best != NULL && pl_offer_is_open(best);
        if (best == NULL || open > best_open ||
            (open == best_open && cJSON_IsNumber(at) && cJSON_IsNumber(b) &&
             at->valuedouble >= b->valuedouble))
            best = o;
    }
    return best;
}

/* A formatter's status as value()'s result: 1 (had a value) or the error. */
static int had(int rc)
{
    return rc != 0 ? rc : 1;
}

static int is(const pl_placeholder_t *ph, const char *name)
{
    return strlen(name) == ph->name_len && strncmp(ph->name, name, ph->name_len) == 0;
}

/* Appends the value of one placeholder; returns 1 if it had a value, 0 if not, <0 on error. */
static int value(const pl_placeholder_t *ph, const pl_template_ctx_t *ctx, pl_strbuf_t *out)
{
    const char *lang = ctx->bot->language;
    if (ph->name_len > 5 && strncmp(ph->name, "slot.", 5) == 0) {
        char slot[128];
        snprintf(slot, sizeof(slot), "%.*s", (int)(ph->name_len - 5), ph->name + 5);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ctx->state, "slots"), slot);
        if (cJSON_IsString(v) && v->valuestring[0])
            return had(pl_strbuf_puts(out, v->valuestring));
        if (cJSON_IsNumber(v)) {
            int s = pl_bot_slot(ctx->bot, slot);
            const pl_slot_t *sl = s >= 0 ? &ctx->bot->slots[s] : NULL;
            if (sl && sl->entity >= 0 && ctx->bot->entities[sl->entity].kind == PL_ENTITY_MONEY) {
                const char *cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(ctx->state, "slot_currency"), slot));
                return had(pl_format_money(lang, v->valuedouble, cur ? cur : "EUR", out));
            }
            double d = v->valuedouble;
            if (fabs(d - round(d)) < 1e-9)
                return had(pl_strbuf_printf(out, "%.0f", d));
            return had(pl_strbuf_printf(out, "%g", d));
        }
        return 0;
    }
    if (is(ph, "profile.name")) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ctx->state, "profile"), "name"));
        return n && n[0] ? had(pl_strbuf_puts(out, n)) : 0;
    }
    if (is(ph, "bot.name"))
        return had(pl_strbuf_puts(out, ctx->bot->name));
    const cJSON *o = ctx->offer ? ctx->offer : newest_offer(ctx->state);
    if (o == NULL)
        return 0;
    const char *cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "currency"));
    const cJSON *price = cJSON_GetObjectItemCaseSensitive(o, "price");
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(o, "valid_until");
    if (is(ph, "offer.title")) {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "title"));
        return t ? had(pl_strbuf_puts(out, t)) : 0;
    }
    if (is(ph, "offer.terms")) {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "terms"));
        return t && t[0] ? had(pl_strbuf_puts(out, t)) : 0;
    }
    if (is(ph, "offer.price") && cJSON_IsNumber(price))
        return had(pl_format_money(lang, price->valuedouble, cur ? cur : "EUR", out));
    if (is(ph, "offer.currency") && cur)
        return had(pl_strbuf_puts(out, cur));
    if (is(ph, "offer.valid_until") && cJSON_IsNumber(until))
        return had(pl_format_date(lang, (int64_t)until->valuedouble, out));
    return 0;
}

int pl_template_expand(const char *tmpl, const pl_template_ctx_t *ctx, pl_strbuf_t *out)
{
    size_t pos = 0, done = 0;
    pl_placeholder_t ph;
    int r;
    while ((r = pl_template_next(tmpl, &pos, &ph)) > 0) {
        int rc = pl_strbuf_append(out, tmpl + done, ph.start - done);
        if (rc != 0)
            return rc;
        rc = value(&ph, ctx, out);
        if (rc < 0)
            return rc;
        if (rc == 0 && ph.fallback != NULL &&
            (rc = pl_strbuf_append(out, ph.fallback, ph.fallback_len)) != 0)
            return rc;
        done = ph.end;
    }
    return pl_strbuf_puts(out, tmpl + done);
}
