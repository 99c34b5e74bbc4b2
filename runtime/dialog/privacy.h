/* Consent and suppressions in the customer's state, shared by every channel.
 *
 * state.consent.personalisation = {given: true|false, at, channel}: the customer's answer to
 * the bot's consent question, or "stop personalising" (given: false). No entry: not asked yet.
 * state.suppressed = {CATEGORY: {at, channel}}: offer categories the customer wants no more
 * offers from. */
#ifndef PL_PRIVACY_H
#define PL_PRIVACY_H

#include "dialog/bot.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define PL_CONSENT_PERSONALISATION "personalisation"

/* 1 when the customer gave consent `name` (an object with given: true, or plain true). */
int pl_consent_given(const cJSON *state, const char *name);
/* 1 when the customer answered the question for consent `name`, either way. */
int pl_consent_answered(const cJSON *state, const char *name);
/* Records the customer's answer. 0 or PL_ENOMEM. */
int pl_consent_set(cJSON *state, const char *name, int given, int64_t now_ms, pl_channel_t ch);
/* Drops what personalisation learnt: persona and its evidence, the interest profile, the
 * profile. */
void pl_personal_purge(cJSON *state);
/* Drops the memory of the conversation: slots and their facts, where it waits on every
 * channel, open yes/no questions. Offers, consent and suppressions stay: they are promises
 * and the customer's own choices. For customers without consent, after a pause. */
void pl_conversation_forget(cJSON *state);
/* 1 when offers of category are suppressed. */
int pl_suppressed(const cJSON *state, const char *category);
/* Suppresses category and withdraws its open offers. 0 or PL_ENOMEM. */
int pl_suppress(cJSON *state, const char *category, int64_t now_ms, pl_channel_t ch);

#endif
