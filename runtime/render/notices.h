/* parley's own words about offers and privacy (PL_ACT_NOTICE), in the bot's language. */
#ifndef PL_NOTICES_H
#define PL_NOTICES_H

#include "base/strbuf.h"
#include "dialog/engine.h"

#include <cjson/cJSON.h>

/* Appends notice n about subject (an offer id, whose snapshot in state gives title and price,
 * or a category id) to out. Returns 0, PL_ENOMEM or PL_ELIMIT. */
int pl_notice_text(const pl_bot_t *bot, const cJSON *state, pl_notice_t n, const char *subject,
                   pl_strbuf_t *out);

#endif
