/* What the bot says about itself, per channel and language: the disclosure, the manifest of
 * what it can do here (and where the rest is), what it cannot do and where to go instead, and
 * how to reach a person. The same facts as JSON for the widget and the capabilities endpoint.
 * German texts avoid addressing the customer, so they never clash with "du" or "Sie". */
#include "render/manifest.h"
#include "base/error.h"
#include "render/template.h"

#include <string.h>

static int de(const pl_bot_t *bot)
{
    return strcmp(bot->language, "de") == 0;
}

static int available(const pl_capability_t *c, pl_channel_t ch)
{
    return (c->channels >> ch & 1) != 0;
}

/* "in the app or on the website" for the channels of mask. */
static int where(const pl_bot_t *bot, int mask, pl_strbuf_t *out)
{
    static const char *const en[] = {"on the website", "in the app", "by voice"};
    static const char *const ge[] = {"auf der Website", "in der App", "per Sprachassistent"};
    int n = 0, total = 0, rc = 0;
    for (int c = 0; c < PL_CHANNEL_COUNT; c++)
        total += mask >> c & 1;
    for (int c = 0; c < PL_CHANNEL_COUNT && rc == 0; c++) {
        if (!(mask >> c & 1))
            continue;
        if (n > 0)
            rc = pl_strbuf_puts(out, n == total - 1 ? (de(bot) ? " oder " : " or ") : ", ");
        if (rc == 0)
            rc = pl_strbuf_puts(out, de(bot) ? ge[c] : en[c]);
        n++;
    }
    return rc;
}

/* "a, b and c" of the descriptions of the capabilities available on ch, at most max. */
static int list_can(const pl_bot_t *bot, pl_channel_t ch, size_t max, pl_strbuf_t *out)
{
    size_t total = 0, n = 0;
    for (size_t i = 0; i < bot->ncaps; i++)
        total += available(&bot->caps[i], ch);
    if (total > max)
        total = max;
    int rc = 0;
    for (size_t i = 0; i < bot->ncaps && n < total && rc == 0; i++) {
        if (!available(&bot->caps[i], ch))
            continue;
        if (n > 0)
            rc = pl_strbuf_puts(out, n == total - 1 ? (de(bot) ? " und " : " and ") : ", ");
        if (rc == 0)
            rc = pl_strbuf_puts(out, bot->caps[i].description);
        n++;
    }
    return rc;
}

int pl_manifest_disclosure(const pl_bot_t *bot, pl_strbuf_t *out)
{
    pl_template_ctx_t ctx = {.bot = bot, .state = NULL};
    return pl_template_expand(bot->disclosure, &ctx, out);
}

int pl_manifest_reminder(const pl_bot_t *bot, pl_channel_t ch, pl_strbuf_t *out)
{
    size_t any = 0;
    for (size_t i = 0; i < bot->ncaps; i++)
        any += available(&bot->caps[i], ch);
    if (any == 0)
        return 0;
    int rc = pl_strbuf_puts(out, de(bot) ? "Ich kann: " : "I can ");
    if (rc == 0)
        rc = list_can(bot, ch, ch == PL_CHANNEL_VOICE ? 3 : 16, out);
    return rc ? rc : pl_strbuf_putc(out, '.');
}

int pl_manifest_text(const pl_bot_t *bot, pl_channel_t ch, pl_strbuf_t *out)
{
    int rc = pl_manifest_disclosure(bot, out);
    pl_strbuf_t rest;
    pl_strbuf_init(&rest, 0);
    if (rc == 0)
        rc = pl_manifest_reminder(bot, ch, &rest);
    if (rc == 0 && rest.len > 0)
        rc = pl_strbuf_printf(out, " %s", pl_strbuf_str(&rest));
    pl_strbuf_cleanup(&rest);
    if (ch == PL_CHANNEL_VOICE)
        return rc; /* voice: two short sentences at most */
    /* on a screen: what is elsewhere, and where a person is */
    for (size_t i = 0; i < bot->ncaps && rc == 0; i++) {
        const pl_capability_t *c = &bot->caps[i];
        if (available(c, ch))
            continue;
        rc = pl_strbuf_printf(out, " %s: ", c->description);
        if (rc == 0)
            rc = where(bot, c->channels, out);
        if (rc == 0)
            rc = pl_strbuf_putc(out, '.');
    }
    if (rc == 0 && bot->human[ch] != NULL)
        rc = pl_strbuf_printf(out, de(bot) ? " Zu einem Menschen: %s." : " To reach a person: %s.",
                              bot->human[ch]);
    return rc;
}

int pl_manifest_unavailable(const pl_bot_t *bot, int cap, pl_channel_t ch, pl_strbuf_t *out)
{
    (void)ch;
    const pl_capability_t *c = &bot->caps[cap];
    int rc = pl_strbuf_printf(
        out, de(bot) ? "„%s“ geht hier leider nicht, aber " : "I cannot %s here, but ",
        c->description);
    if (rc == 0)
        rc = where(bot, c->channels, out);
    if (rc == 0 && !de(bot))
        rc = pl_strbuf_puts(out, " I can");
    if (rc == 0 && de(bot))
        rc = pl_strbuf_puts(out, " geht es");
    if (rc == 0 && c->elsewhere != NULL)
        rc = pl_strbuf_printf(out, " (%s)", c->elsewhere);
    return rc ? rc : pl_strbuf_putc(out, '.');
}

int pl_manifest_cannot(const pl_bot_t *bot, int idx, pl_strbuf_t *out)
{
    const pl_cannot_t *c = &bot->cannots[idx];
    int rc = pl_strbuf_printf(
        out, de(bot) ? "Das kann ich leider nicht: %s." : "Sorry, I cannot %s.", c->description);
    if (rc == 0 && c->alternative != NULL)
        rc = pl_strbuf_printf(out, " %s", c->alternative);
    return rc;
}

int pl_manifest_handoff(const pl_bot_t *bot, pl_channel_t ch, pl_strbuf_t *out)
{
    int rc = pl_strbuf_puts(out, de(bot) ? "Hier geht es zu einem Menschen"
                                         : "Here is how to reach a person");
    if (rc == 0 && bot->human[ch] != NULL)
        rc = pl_strbuf_printf(out, ": %s", bot->human[ch]);
    if (rc == 0 && bot->human_hours != NULL)
        rc = pl_strbuf_printf(out, " (%s)", bot->human_hours);
    return rc ? rc : pl_strbuf_putc(out, '.');
}

static int add_str(cJSON *o, const char *k, const char *v)
{
    return v == NULL || cJSON_AddStringToObject(o, k, v) != NULL;
}

cJSON *pl_manifest_json(const pl_bot_t *bot, pl_channel_t ch)
{
    cJSON *m = cJSON_CreateObject(), *b = cJSON_AddObjectToObject(m, "bot");
    pl_strbuf_t d;
    pl_strbuf_init(&d, 0);
    int ok = m && b && add_str(b, "id", bot->id) && add_str(b, "name", bot->name) &&
             add_str(b, "persona_name", bot->persona_name) &&
             cJSON_AddBoolToObject(b, "automated", 1) &&
             add_str(m, "channel", pl_channel_name(ch)) && add_str(m, "language", bot->language) &&
             pl_manifest_disclosure(bot, &d) == 0 && add_str(m, "disclosure", pl_strbuf_str(&d));
    cJSON *can = ok ? cJSON_AddArrayToObject(m, "can") : NULL;
    cJSON *elsewhere = can ? cJSON_AddArrayToObject(m, "elsewhere") : NULL;
    cJSON *cannot = elsewhere ? cJSON_AddArrayToObject(m, "cannot") : NULL;
    ok = cannot != NULL;
    for (size_t i = 0; ok && i < bot->ncaps; i++) {
        const pl_capability_t *c = &bot->caps[i];
        cJSON *x = cJSON_CreateObject();
        ok = x && cJSON_AddItemToArray(available(c, ch) ? can : elsewhere, x) &&
             add_str(x, "id", c->id) && add_str(x, "description", c->description);
        if (ok && !available(c, ch)) {
            cJSON *chs = cJSON_AddArrayToObject(x, "channels");
            for (int k = 0; ok && chs && k < PL_CHANNEL_COUNT; k++)
                if (c->channels >> k & 1)
                    ok = cJSON_AddItemToArray(chs,
                                              cJSON_CreateString(pl_channel_name((pl_channel_t)k)));
            ok = ok && chs && add_str(x, "reason", c->elsewhere);
        }
    }
    for (size_t i = 0; ok && i < bot->ncannots; i++) {
        cJSON *x = cJSON_CreateObject();
        ok = x && cJSON_AddItemToArray(cannot, x) && add_str(x, "id", bot->cannots[i].id) &&
             add_str(x, "description", bot->cannots[i].description) &&
             add_str(x, "alternative", bot->cannots[i].alternative);
    }
    cJSON *h = ok ? cJSON_AddObjectToObject(m, "human") : NULL;
    ok = ok && h && add_str(h, "contact", bot->human[ch]) && add_str(h, "hours", bot->human_hours);
    pl_strbuf_cleanup(&d);
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}
