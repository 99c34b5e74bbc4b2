/* Where the conversation waits, per channel: state.cursors = {CHANNEL: {flow, step, attempts,
 * confirming, at}}; state.channel is the channel of the latest message, whose position the
 * top-level flow/step/attempts/confirming hold. The engine works on the top-level flow/step/attempts of the channel of the current
 * message; these move them in and out of that channel's cursor, so a question asked on the
 * web does not swallow an unrelated message on the phone, and a customer can still continue
 * there where they left off. */
#ifndef PL_CURSORS_H
#define PL_CURSORS_H

#include "dialog/bot.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* How long a question asked on one channel may be continued on another. */
#define PL_CURSOR_MAX_AGE_MS (24 * 3600 * 1000LL)

/* Makes channel ch's cursor the top-level position. A state from before cursors existed (a
 * position and no "cursors") keeps its position. 0 or PL_ENOMEM. */
int pl_cursor_enter(cJSON *state, pl_channel_t ch);
/* Stores the top-level position as channel ch's cursor (or drops the cursor when the
 * conversation waits nowhere). 0 or PL_ENOMEM. */
int pl_cursor_leave(cJSON *state, pl_channel_t ch, int64_t now_ms);
/* The newest cursor of another channel, not older than PL_CURSOR_MAX_AGE_MS, or NULL; *from
 * is its channel. Borrowed from state. */
const cJSON *pl_cursor_elsewhere(const cJSON *state, pl_channel_t ch, int64_t now_ms,
                                 pl_channel_t *from);
/* Moves channel from's cursor to the top-level position (the customer continues here).
 * 0 or PL_ENOMEM. */
int pl_cursor_take(cJSON *state, pl_channel_t from);

#endif
