/* JSON form of the canonical reply (see reply_json.h). */
#include "render/reply_json.h"

static const char *const kinds[] = {"text", "offer", "handoff", "capabilities"};

static cJSON *message_json(const pl_message_t *m)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddStringToObject(o, "type", kinds[m->kind]) ||
        !cJSON_AddStringToObject(o, "text", m->text) ||
        !cJSON_AddStringToObject(o, "tone", m->tone ? m->tone : "") ||
        !cJSON_AddStringToObject(o, "variant", m->variant ? m->variant : ""))
        goto fail;
    if (m->nquick_replies > 0) {
        cJSON *qr = cJSON_AddArrayToObject(o, "quick_replies");
        if (qr == NULL)
            goto fail;
        for (size_t i = 0; i < m->nquick_replies; i++) {
            cJSON *s = cJSON_CreateString(m->quick_replies[i]);
            if (s == NULL || !cJSON_AddItemToArray(qr, s)) {
                cJSON_Delete(s);
                goto fail;
            }
        }
    }
    if (m->kind == PL_MSG_OFFER) {
        cJSON *of = cJSON_AddObjectToObject(o, "offer");
        if (of == NULL || !cJSON_AddStringToObject(of, "id", m->offer_id) ||
            !cJSON_AddStringToObject(of, "title", m->offer_title ? m->offer_title : "") ||
            !cJSON_AddNumberToObject(of, "price", m->offer_price) ||
            !cJSON_AddStringToObject(of, "currency", m->offer_currency ? m->offer_currency : "") ||
            !cJSON_AddNumberToObject(of, "valid_until", (double)m->offer_valid_until))
            goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *pl_reply_to_json(const pl_reply_t *reply)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < reply->n; i++) {
        cJSON *m = message_json(&reply->items[i]);
        if (m == NULL || !cJSON_AddItemToArray(arr, m)) {
            cJSON_Delete(m);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
