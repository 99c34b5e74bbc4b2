/* Where the conversation waits, per channel (see cursors.h). */
#include "dialog/cursors.h"
#include "base/error.h"

#include <string.h>

static const char *const fields[] = {"flow", "step", "attempts", "confirming"};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Copies fields of from into to (replacing what to has; a field from lacks is removed). */
static int copy_position(cJSON *to, const cJSON *from)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(to, fields[i]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, fields[i]);
        if (v == NULL)
            continue;
        cJSON *dup = cJSON_Duplicate(v, 0);
        if (dup == NULL || !cJSON_AddItemToObject(to, fields[i], dup)) {
            cJSON_Delete(dup);
            return PL_ENOMEM;
        }
    }
    return 0;
}

/* Whether a and b hold the same position (most turns: the channel stays where it was). */
static int same_position(const cJSON *a, const cJSON *b)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, fields[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, fields[i]);
        if ((x == NULL) != (y == NULL) || (x != NULL && !cJSON_Compare(x, y, 1)))
            return 0;
    }
    return 1;
}

int pl_cursor_enter(cJSON *state, pl_channel_t ch)
{
    const cJSON *cursors = cJSON_GetObjectItemCaseSensitive(state, "cursors");
    if (cursors == NULL)
        return 0; /* no cursors yet: the position, if any, stays where it is */
    /* the top-level position is the last channel's: for the same channel it is this one */
    const char *last = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state, "channel"));
    if (last != NULL && strcmp(last, pl_channel_name(ch)) == 0)
        return 0;
    return copy_position(state, cJSON_GetObjectItemCaseSensitive(cursors, pl_channel_name(ch)));
}

int pl_cursor_leave(cJSON *state, pl_channel_t ch, int64_t now_ms)
{
    cJSON *cursors = cJSON_GetObjectItemCaseSensitive(state, "cursors");
    if (!cJSON_IsObject(cursors)) {
        cJSON_DeleteItemFromObjectCaseSensitive(state, "cursors");
        if ((cursors = cJSON_AddObjectToObject(state, "cursors")) == NULL)
            return PL_ENOMEM;
    }
    const char *name = pl_channel_name(ch);
    cJSON *last = cJSON_GetObjectItemCaseSensitive(state, "channel");
    if (!cJSON_IsString(last) || strcmp(last->valuestring, name) != 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(state, "channel");
        if (!cJSON_AddStringToObject(state, "channel", name))
            return PL_ENOMEM;
    }
    cJSON *mine = cJSON_GetObjectItemCaseSensitive(cursors, name);
    if (mine != NULL && cJSON_GetObjectItemCaseSensitive(state, "flow") != NULL &&
        same_position(mine, state)) {
        cJSON *at = cJSON_GetObjectItemCaseSensitive(mine, "at");
        if (cJSON_IsNumber(at)) {
            cJSON_SetNumberValue(at, (double)now_ms);
            return 0;
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cursors, name);
    if (cJSON_GetObjectItemCaseSensitive(state, "flow") == NULL)
        return 0;
    cJSON *c = cJSON_AddObjectToObject(cursors, name);
    if (c == NULL || copy_position(c, state) != 0 ||
        !cJSON_AddNumberToObject(c, "at", (double)now_ms))
        return PL_ENOMEM;
    return 0;
}

const cJSON *pl_cursor_elsewhere(const cJSON *state, pl_channel_t ch, int64_t now_ms,
                                 pl_channel_t *from)
{
    const cJSON *cursors = cJSON_GetObjectItemCaseSensitive(state, "cursors"), *c, *best = NULL;
    double best_at = 0;
    cJSON_ArrayForEach(c, cursors)
    {
        pl_channel_t other;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(c, "at");
        if (c->string == NULL || pl_channel_parse(c->string, &other) != 0 || other == ch ||
            !cJSON_IsNumber(at) || now_ms - (int64_t)at->valuedouble > PL_CURSOR_MAX_AGE_MS ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "flow")))
            continue;
        if (best == NULL || at->valuedouble > best_at) {
            best = c;
            best_at = at->valuedouble;
            *from = other;
        }
    }
    return best;
}

int pl_cursor_take(cJSON *state, pl_channel_t from)
{
    cJSON *cursors = cJSON_GetObjectItemCaseSensitive(state, "cursors");
    cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(cursors, pl_channel_name(from));
    int rc = c ? copy_position(state, c) : 0;
    cJSON_Delete(c);
    return rc;
}
