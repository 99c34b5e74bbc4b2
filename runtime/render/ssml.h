/* The voice renderer: the canonical reply as speech (SSML for a voice platform) and as the plain
 * text a voice platform's card or a log shows. Speech never reads out markup, URLs, e-mail
 * addresses or emoji, names at most three options, says an offer's exact terms in one sentence,
 * and stays within Alexa's limit for outputSpeech. Pure: no I/O, no clock. */
#ifndef PL_RENDER_SSML_H
#define PL_RENDER_SSML_H

#include "base/strbuf.h"
#include "dialog/bot.h"
#include "render/reply.h"

/* The most bytes pl_ssml_render appends, <speak> and </speak> included: Alexa's limit for the
 * SSML of outputSpeech is 8000 characters, and a character is at least one byte. A longer reply
 * is cut after the last sentence that fits. pl_ssml_plain keeps to the same limit. */
#define PL_SSML_MAX 8000

/* Options for speaking a reply. */
typedef struct {
    /* the customer has the web widget or the app open: visual details can go there */
    int app_linked;
} pl_ssml_opts_t;

/* Appends <speak>...</speak> for reply to out, in the bot's language (bot->language "de"/"en").
 * Returns 0, PL_ENOMEM or PL_ELIMIT.
 * o may be NULL (no options). Appends at most PL_SSML_MAX bytes, and nothing on failure.
 * Borrows bot and reply; out is the caller's. */
int pl_ssml_render(const pl_bot_t *bot, const pl_reply_t *reply, const pl_ssml_opts_t *o,
                   pl_strbuf_t *out);

/* The plain text that a voice platform's card or a log shows for the same reply (no markup).
 * One line per message, without emoji; unlike speech it keeps URLs and e-mail addresses (a
 * reader can use them), the text of a capability that is not available here, and writes an
 * offer's price and date as the other channels do ("€849", "8 January 2026"). Appends at most
 * PL_SSML_MAX bytes, and nothing on failure. Returns 0, PL_ENOMEM or PL_ELIMIT. */
int pl_ssml_plain(const pl_bot_t *bot, const pl_reply_t *reply, pl_strbuf_t *out);

#endif
