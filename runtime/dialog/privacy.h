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
/* Drops the behavioural signals: persona and its evidence, the interest profile (when they
 * are older than the bot's signal_max_age). */
void pl_personal_purge(cJSON *state);
/* Drops everything personal: the signals and the profile (name, address form) with their
 * facts ("stop personalising"). */
void pl_profile_purge(cJSON *state);
/* Drops the memory of the conversation: slots and their facts, the profile, where it waits
 * on every channel, open yes/no questions. Offers, consent and suppressions stay: they are
 * promises and the customer's own choices. For customers without consent, after a pause. */
void pl_conversation_forget(cJSON *state);
/* Notes when and where a fact was learnt: state.facts[key] = {at, channel[, confirmed]}.
 * 0 or PL_ENOMEM. */
int pl_fact_note(cJSON *state, const char *key, int64_t now_ms, pl_channel_t ch, int confirmed);
/* Sets profile field (name, address) to value and notes the fact. 0 or PL_ENOMEM. */
int pl_profile_set(cJSON *state, const char *field, const char *value, int64_t now_ms,
                   pl_channel_t ch);

/* Notes that behavioural signal key ("persona.formal", "interest.dslr") was seen now on ch:
 * state.signals_seen[key] = {at, channel}. 0 or PL_ENOMEM. */
int pl_signal_seen(cJSON *state, const char *key, int64_t now_ms, pl_channel_t ch);
/* Purges every behavioural signal last seen more than max_age_ms before now_ms: its persona
 * evidence or interest entry and its record. With no evidence left the persona goes. */
void pl_signals_expire(cJSON *state, int64_t now_ms, int64_t max_age_ms);

/* 1 when offers of category are suppressed. */
int pl_suppressed(const cJSON *state, const char *category);
/* Suppresses category and withdraws its open offers. 0 or PL_ENOMEM. */
int pl_suppress(cJSON *state, const char *category, int64_t now_ms, pl_channel_t ch);

#endif
