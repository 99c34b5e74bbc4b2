/* The canonical reply of one turn: what the bot says, independent of the channel's wire
 * format. Channel adapters degrade it for what their channel can show. */
#ifndef PL_REPLY_H
#define PL_REPLY_H

#include "dialog/engine.h"

#include <stdint.h>

typedef enum { PL_MSG_TEXT, PL_MSG_OFFER, PL_MSG_HANDOFF, PL_MSG_CAPABILITIES } pl_msg_kind_t;

typedef struct {
    pl_msg_kind_t kind;
    const char *text; /* expanded text; may be "" for an offer or handoff without words */
    const char *tone; /* the tone it was written for */
    const char *variant; /* which variant was chosen: "default", a tone, a channel or TONE/CHANNEL;
                            "built-in" for texts parley writes itself */
    /* 1: the text says that a capability is not available on this channel (PL_ACT_UNAVAILABLE),
     * so a channel that can reach another one may point there instead */
    int unavailable;
    const char *const *quick_replies;
    size_t nquick_replies;
    /* PL_MSG_OFFER: the snapshot's terms, exactly as stored in the conversation state */
    const char *offer_id;
    const char *offer_title;
    double offer_price;
    const char *offer_currency;
    int64_t offer_valid_until; /* UTC ms */
} pl_message_t;

typedef struct {
    pl_message_t items[PL_MAX_ACTIONS];
    size_t n;
} pl_reply_t;

#endif
