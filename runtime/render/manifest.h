/* What the bot says about itself on a channel: disclosure, manifest, "not here", "cannot",
 * how to reach a person; and the manifest as JSON (the shape of GET /v1/capabilities). */
#ifndef PL_MANIFEST_H
#define PL_MANIFEST_H

#include "base/strbuf.h"
#include "dialog/bot.h"

#include <cjson/cJSON.h>

/* Each appends to out and returns 0, PL_ENOMEM or PL_ELIMIT. */
int pl_manifest_disclosure(const pl_bot_t *bot, pl_strbuf_t *out);
/* "I can a, b and c." for the capabilities available on ch (nothing when there are none). */
int pl_manifest_reminder(const pl_bot_t *bot, pl_channel_t ch, pl_strbuf_t *out);
/* The start of a conversation: disclosure and what the bot can do here; on a screen also
 * where the other capabilities are and how to reach a person. Voice: two sentences at most. */
int pl_manifest_text(const pl_bot_t *bot, pl_channel_t ch, pl_strbuf_t *out);
int pl_manifest_unavailable(const pl_bot_t *bot, int cap, pl_channel_t ch, pl_strbuf_t *out);
int pl_manifest_cannot(const pl_bot_t *bot, int idx, pl_strbuf_t *out);
int pl_manifest_handoff(const pl_bot_t *bot, pl_channel_t ch, pl_strbuf_t *out);

/* The manifest for ch as a new JSON object (free with cJSON_Delete), or NULL on allocation
 * failure: {bot: {id, name, persona_name, automated}, channel, language, disclosure,
 * can: [{id, description}], elsewhere: [{id, description, channels, reason}],
 * cannot: [{id, description, alternative}], human: {contact, hours}}. */
cJSON *pl_manifest_json(const pl_bot_t *bot, pl_channel_t ch);

#endif
