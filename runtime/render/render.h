/* Turns the engine's actions into the canonical reply: picks each text's variant for the
 * tone and channel (tone+channel → tone → channel → default), picks one alternative
 * reproducibly from a seed, and expands placeholders. Pure: no I/O, no clock. */
#ifndef PL_RENDER_H
#define PL_RENDER_H

#include "base/arena.h"
#include "render/reply.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* The variant of text for tone (NULL: the bot's default tone) and channel. */
const pl_variant_t *pl_render_variant(const pl_text_t *text, const char *tone, pl_channel_t ch);

/* Fills out from actions. Strings live in scratch. Returns 0, PL_ENOMEM or PL_ELIMIT. */
int pl_render(const pl_bot_t *bot, const cJSON *state, const pl_actions_t *actions,
              pl_channel_t channel, const char *tone, uint64_t seed, pl_arena_t *scratch,
              pl_reply_t *out);

#endif
