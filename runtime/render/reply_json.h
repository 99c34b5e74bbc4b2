/* The canonical reply as JSON messages, shared by `parley chat --json` and the channels. */
#ifndef PL_REPLY_JSON_H
#define PL_REPLY_JSON_H

#include "dialog/bot.h"
#include "render/reply.h"

#include <cjson/cJSON.h>

/* A new JSON array with one object per message:
 *   {"type":"text","text":...,"tone":...,"quick_replies":[...]}
 *   {"type":"offer","text":...,"offer":{"id","title","price","currency","valid_until"}}
 *   {"type":"handoff","text":...}
 * Returns NULL on allocation failure; the caller frees it with cJSON_Delete. */
cJSON *pl_reply_to_json(const pl_reply_t *reply);

#endif
