/* Expands {{placeholders}} in a bot text from the conversation state. Values are inserted
 * as plain text: text the customer typed is never evaluated as a template. */
#ifndef PL_RENDER_TEMPLATE_H
#define PL_RENDER_TEMPLATE_H

#include "base/strbuf.h"
#include "dialog/bot.h"

#include <cjson/cJSON.h>

typedef struct {
    const pl_bot_t *bot;
    const cJSON *state; /* conversation state: slots, profile, offers */
    const cJSON *offer; /* the offer snapshot {{offer.*}} refers to; NULL: the newest */
} pl_template_ctx_t;

/* Appends tmpl with its placeholders expanded to out. An unknown or empty value expands to
 * the placeholder's fallback ("{{profile.name|there}}") or to nothing.
 * Returns 0, PL_ENOMEM or PL_ELIMIT. */
int pl_template_expand(const char *tmpl, const pl_template_ctx_t *ctx, pl_strbuf_t *out);

/* Formats an amount for the bot's language: "1.299 €" / "899,50 €" (de), "€1,299" / "$899.50"
 * (en). */
int pl_format_money(const char *language, double amount, const char *currency, pl_strbuf_t *out);
/* Formats a UTC date: "29.11.2026" (de), "29 November 2026" (en). */
int pl_format_date(const char *language, int64_t ms, pl_strbuf_t *out);

#endif
