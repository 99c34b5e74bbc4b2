/* Lookups on a loaded bot, channel names, and freeing a bot. */
#include "dialog/bot.h"
#include "base/error.h"
#include "base/mem.h"

#include <string.h>

static const char *const channel_names[PL_CHANNEL_COUNT] = {"web", "app", "voice"};

const char *pl_channel_name(pl_channel_t c)
{
    return (unsigned)c < PL_CHANNEL_COUNT ? channel_names[c] : "?";
}

int pl_channel_parse(const char *name, pl_channel_t *out)
{
    for (int i = 0; i < PL_CHANNEL_COUNT; i++) {
        if (strcmp(name, channel_names[i]) == 0) {
            *out = (pl_channel_t)i;
            return 0;
        }
    }
    return PL_EINVAL;
}

void pl_bot_free(pl_bot_t *bot)
{
    if (bot == NULL)
        return;
    for (size_t i = 0; i < bot->nentities; i++)
        if (bot->entities[i].regex != NULL)
            regfree(bot->entities[i].regex);
    pl_arena_cleanup(&bot->arena);
    pl_free(bot);
}

#define FIND(array, count, key)                                                                    \
    do {                                                                                           \
        if (key == NULL)                                                                           \
            return -1;                                                                             \
        for (size_t i = 0; i < (count); i++)                                                       \
            if (strcmp((array)[i].id, key) == 0)                                                   \
                return (int)i;                                                                     \
        return -1;                                                                                 \
    } while (0)

int pl_bot_intent(const pl_bot_t *bot, const char *id)
{
    FIND(bot->intents, bot->nintents, id);
}

int pl_bot_flow(const pl_bot_t *bot, const char *id)
{
    FIND(bot->flows, bot->nflows, id);
}

int pl_bot_slot(const pl_bot_t *bot, const char *id)
{
    FIND(bot->slots, bot->nslots, id);
}

int pl_bot_offer(const pl_bot_t *bot, const char *id)
{
    FIND(bot->offers, bot->noffers, id);
}

int pl_bot_entity(const pl_bot_t *bot, const char *id)
{
    FIND(bot->entities, bot->nentities, id);
}

int pl_bot_persona(const pl_bot_t *bot, const char *id)
{
    FIND(bot->personas, bot->npersonas, id);
}

int pl_bot_tone(const pl_bot_t *bot, const char *tone)
{
    if (tone == NULL)
        return -1;
    for (size_t i = 0; i < bot->ntones; i++)
        if (strcmp(bot->tones[i], tone) == 0)
            return (int)i;
    return -1;
}

int pl_flow_step(const pl_flow_t *flow, const char *id)
{
    FIND(flow->steps, flow->nsteps, id);
}

static const char *const builtin_signals[PL_SIG_BUILTIN_COUNT] = {
    "formal",        "casual",    "emoji",      "exclamation", "shouting", "long_message",
    "short_message", "fast_pace", "hesitation", "urgency",     "voice",    "returning"};

const char *pl_signal_name(const pl_bot_t *bot, int i)
{
    if (i >= 0 && i < PL_SIG_BUILTIN_COUNT)
        return builtin_signals[i];
    i -= PL_SIG_BUILTIN_COUNT;
    return bot != NULL && i >= 0 && (size_t)i < bot->nsignals ? bot->signals[i].id : "?";
}

int pl_signal_index(const pl_bot_t *bot, const char *name)
{
    for (int i = 0; i < PL_SIG_BUILTIN_COUNT + (int)bot->nsignals; i++)
        if (strcmp(pl_signal_name(bot, i), name) == 0)
            return i;
    return -1;
}

int pl_bot_is_builtin(const pl_bot_t *bot, int intent)
{
    for (size_t b = 0; b < PL_BUILTIN_COUNT; b++)
        if (intent >= 0 && bot->builtin[b] == intent)
            return 1;
    return 0;
}
