/* One turn as JSON, for `parley chat --json` and tests (see runtime.h). */
#include "runtime.h"
#include "render/manifest.h"
#include "render/reply_json.h"

static int add(cJSON *o, const char *k, cJSON *v)
{
    if (v == NULL)
        return 0;
    if (!cJSON_AddItemToObject(o, k, v)) {
        cJSON_Delete(v);
        return 0;
    }
    return 1;
}

cJSON *pl_turn_to_json(const pl_runtime_t *rt, const cJSON *state, const pl_turn_t *turn)
{
    const pl_bot_t *bot = pl_runtime_bot(rt);
    const pl_understanding_t *u = &turn->nlu;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    int ok =
        add(o, "intent",
            u->intent >= 0 ? cJSON_CreateString(bot->intents[u->intent].id) : cJSON_CreateNull()) &&
        add(o, "confidence", cJSON_CreateNumber(u->confidence));
    cJSON *intents = ok ? cJSON_AddArrayToObject(o, "intents") : NULL;
    ok = intents != NULL;
    for (size_t i = 0; ok && i < u->ntop; i++) {
        cJSON *c = cJSON_CreateObject();
        ok = c != NULL && cJSON_AddItemToArray(intents, c) &&
             cJSON_AddStringToObject(c, "intent", bot->intents[u->top[i].intent].id) &&
             cJSON_AddNumberToObject(c, "score", u->top[i].score);
    }
    cJSON *ents = ok ? cJSON_AddArrayToObject(o, "entities") : NULL;
    ok = ok && ents != NULL;
    for (size_t i = 0; ok && i < u->nentities; i++) {
        const pl_entity_match_t *m = &u->entities[i];
        cJSON *e = cJSON_CreateObject();
        ok = e != NULL && cJSON_AddItemToArray(ents, e) &&
             cJSON_AddStringToObject(e, "entity", bot->entities[m->entity].id) &&
             cJSON_AddStringToObject(e, "value", m->value ? m->value : "") &&
             cJSON_AddNumberToObject(e, "start", (double)m->start) &&
             cJSON_AddNumberToObject(e, "end", (double)m->end);
        if (ok && m->currency != NULL)
            ok = cJSON_AddStringToObject(e, "currency", m->currency) != NULL;
    }
    const cJSON *flow = cJSON_GetObjectItemCaseSensitive(state, "flow");
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(state, "step");
    const cJSON *slots = cJSON_GetObjectItemCaseSensitive(state, "slots");
    ok = ok && add(o, "flow", flow ? cJSON_Duplicate(flow, 1) : cJSON_CreateNull()) &&
         add(o, "step", step ? cJSON_Duplicate(step, 1) : cJSON_CreateNull()) &&
         add(o, "slots", slots ? cJSON_Duplicate(slots, 1) : cJSON_CreateObject()) &&
         add(o, "messages", pl_reply_to_json(&turn->reply));
    cJSON *trace = ok ? cJSON_AddArrayToObject(o, "trace") : NULL;
    ok = ok && trace != NULL;
    for (size_t i = 0; ok && i < turn->actions.ntrace; i++) {
        cJSON *s = cJSON_CreateString(turn->actions.trace[i]);
        ok = s != NULL && cJSON_AddItemToArray(trace, s);
        if (!ok)
            cJSON_Delete(s);
    }
    ok = ok && cJSON_AddBoolToObject(o, "understood", turn->actions.understood) != NULL;
    /* the manifest on the turn that started the conversation on this channel, and the
     * handoff when one happened */
    for (size_t i = 0; ok && i < turn->actions.n; i++) {
        pl_action_kind_t k = turn->actions.items[i].kind;
        if (k == PL_ACT_CAPABILITIES)
            ok = add(o, "capabilities", pl_manifest_json(bot, turn->channel));
        else if (k == PL_ACT_HANDOFF)
            ok = add(o, "handoff",
                     cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(state, "handoff"), 1));
    }
    ok = ok && add(o, "persona",
                   turn->persona.persona ? cJSON_CreateString(turn->persona.persona)
                                         : cJSON_CreateNull());
    ok = ok && add(o, "tone", cJSON_CreateString(turn->persona.tone ? turn->persona.tone : ""));
    const char *interest =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state, "interest"));
    ok = ok && add(o, "interest", interest ? cJSON_CreateString(interest) : cJSON_CreateNull());
    cJSON *sig = ok ? cJSON_AddObjectToObject(o, "signals") : NULL;
    ok = ok && sig != NULL;
    for (int i = 0; ok && i < turn->signals.n; i++)
        if (turn->signals.v[i] > 0)
            ok = cJSON_AddNumberToObject(sig, pl_signal_name(bot, i),
                                         (double)(int)(turn->signals.v[i] * 100) / 100) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
