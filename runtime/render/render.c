/* Actions → canonical reply: variant by (tone, channel), reproducible alternative, placeholders
 * expanded (see render.h). */
#include "render/render.h"
#include "base/error.h"
#include "render/manifest.h"
#include "render/notices.h"
#include "dialog/offers.h"
#include "render/template.h"
#include "render/emoji.h"

#include <string.h>

const pl_variant_t *pl_render_variant(const pl_text_t *text, const char *tone, pl_channel_t ch)
{
    const pl_variant_t *tone_only = NULL, *channel_only = NULL;
    for (size_t i = 1; i < text->nvariants; i++) {
        const pl_variant_t *v = &text->variants[i];
        int tone_ok = v->tone != NULL && tone != NULL && strcmp(v->tone, tone) == 0;
        if (tone_ok && v->channel == (int)ch)
            return v;
        if (tone_ok && v->channel < 0 && tone_only == NULL)
            tone_only = v;
        if (v->tone == NULL && v->channel == (int)ch && channel_only == NULL)
            channel_only = v;
    }
    if (tone_only != NULL)
        return tone_only;
    if (channel_only != NULL)
        return channel_only;
    return &text->variants[0];
}

/* The variant's name as authors write it. */
static const char *variant_name(const pl_variant_t *v, pl_arena_t *scratch)
{
    if (v->tone == NULL && v->channel < 0)
        return "default";
    if (v->channel < 0)
        return v->tone;
    if (v->tone == NULL)
        return pl_channel_name((pl_channel_t)v->channel);
    return pl_arena_printf(scratch, "%s/%s", v->tone, pl_channel_name((pl_channel_t)v->channel));
}

/* splitmix64: a small, well-mixed step so that one seed gives one choice per message. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int pl_render(const pl_bot_t *bot, const cJSON *state, const pl_actions_t *actions,
              pl_channel_t channel, const char *tone, uint64_t seed, pl_arena_t *scratch,
              pl_reply_t *out)
{
    if (tone == NULL)
        tone = bot->default_tone;
    out->n = 0;
    const pl_persona_t *persona = NULL;
    int pi = pl_bot_persona(bot, pl_state_persona(state));
    if (pi >= 0)
        persona = &bot->personas[pi];
    pl_strbuf_t buf;
    pl_strbuf_init(&buf, 64 * 1024);
    int rc = 0;
    for (size_t i = 0; i < actions->n && rc == 0; i++) {
        const pl_action_t *a = &actions->items[i];
        pl_message_t *m = &out->items[out->n];
        memset(m, 0, sizeof(*m));
        m->kind = a->kind == PL_ACT_OFFER     ? PL_MSG_OFFER
                  : a->kind == PL_ACT_HANDOFF ? PL_MSG_HANDOFF
                  : a->kind == PL_ACT_CAPABILITIES && channel != PL_CHANNEL_VOICE
                      ? PL_MSG_CAPABILITIES
                      : PL_MSG_TEXT;
        m->tone = tone;
        m->unavailable = a->kind == PL_ACT_UNAVAILABLE;
        m->quick_replies = a->quick_replies;
        m->nquick_replies = a->nquick_replies;
        if (persona && persona->max_options > 0 && m->nquick_replies > (size_t)persona->max_options)
            m->nquick_replies = (size_t)persona->max_options;
        pl_template_ctx_t ctx = {.bot = bot, .state = state};
        if (a->kind == PL_ACT_OFFER) {
            const cJSON *snap = pl_offer_snapshot(state, a->offer);
            if (snap == NULL)
                continue; /* the engine always stores it first; be safe anyway */
            ctx.offer = snap;
            m->offer_id = a->offer;
            m->offer_title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "title"));
            m->offer_currency =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "currency"));
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(snap, "price");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(snap, "valid_until");
            m->offer_price = cJSON_IsNumber(p) ? p->valuedouble : 0;
            m->offer_valid_until = cJSON_IsNumber(u) ? (int64_t)u->valuedouble : 0;
        }
        if (a->text == NULL && a->kind != PL_ACT_SAY && a->kind != PL_ACT_OFFER) {
            /* texts parley writes itself, from the bot's manifest */
            pl_strbuf_clear(&buf);
            switch (a->kind) {
            case PL_ACT_CAPABILITIES:
                rc = pl_manifest_text(bot, channel, &buf);
                break;
            case PL_ACT_DISCLOSURE:
                rc = pl_manifest_disclosure(bot, &buf);
                break;
            case PL_ACT_REMINDER:
                rc = pl_manifest_reminder(bot, channel, &buf);
                break;
            case PL_ACT_UNAVAILABLE:
                rc = pl_manifest_unavailable(bot, a->index, channel, &buf);
                break;
            case PL_ACT_CANNOT:
                rc = pl_manifest_cannot(bot, a->index, &buf);
                break;
            case PL_ACT_NOTICE:
                rc = pl_notice_text(bot, state, (pl_notice_t)a->index, a->offer, &buf);
                break;
            default:
                rc = pl_manifest_handoff(bot, channel, &buf);
                break;
            }
            if (rc != 0)
                break;
            if (buf.len == 0)
                continue;
            m->text = pl_arena_strdup(scratch, pl_strbuf_str(&buf));
            m->variant = "built-in";
            if (m->text == NULL) {
                rc = PL_ENOMEM;
                break;
            }
            out->n++;
            continue;
        }
        if (a->text == NULL) {
            if (a->kind == PL_ACT_SAY)
                continue; /* an 'end' without words */
            m->text = "";
            out->n++;
            continue;
        }
        const pl_variant_t *v = pl_render_variant(a->text, tone, channel);
        m->variant = variant_name(v, scratch);
        size_t pick = v->nalts > 1 ? (size_t)(mix(seed + i) % v->nalts) : 0;
        pl_strbuf_clear(&buf);
        rc = pl_template_expand(v->alts[pick], &ctx, &buf);
        if (rc != 0)
            break;
        char *text = pl_arena_strdup(scratch, pl_strbuf_str(&buf));
        if (text == NULL) {
            rc = PL_ENOMEM;
            break;
        }
        if (persona && !persona->emoji)
            pl_strip_emoji(text);
        m->text = text;
        out->n++;
    }
    pl_strbuf_cleanup(&buf);
    return rc;
}
