/* Offer snapshots in the customer's state: what was promised, where, and what became of it.
 *
 * state.offers is an array of snapshots {id, title, terms, price, currency, category,
 * made_at, valid_until, channel, status, closed_at, closed_channel}. status is "open" (a
 * missing status too), "accepted", "declined", "expired" or "withdrawn" (its category was
 * suppressed). Only an open snapshot may be presented again; a closed one never is. */
#ifndef PL_OFFERS_H
#define PL_OFFERS_H

#include "dialog/bot.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* The snapshot of offer id in state, or NULL. */
cJSON *pl_offer_snapshot(const cJSON *state, const char *id);
/* Its status: "open" when it has none. */
const char *pl_offer_status(const cJSON *snap);
int pl_offer_is_open(const cJSON *snap);
/* 1 when any snapshot is open. */
int pl_offers_any_open(const cJSON *state);
/* Closes every open snapshot whose validity ended before now_ms as "expired". 0 or
 * PL_ENOMEM. */
int pl_offers_expire(cJSON *state, int64_t now_ms);
/* Closes snap with status ("accepted", "declined", "expired", "withdrawn"). 0 or PL_ENOMEM. */
int pl_offer_close(cJSON *snap, const char *status, int64_t now_ms, pl_channel_t ch);
/* Copies offer o's terms into a new open snapshot, valid from now_ms. 0 or PL_ENOMEM. */
int pl_offer_snapshot_new(const pl_bot_t *bot, cJSON *state, const pl_offer_t *o, int64_t now_ms,
                          pl_channel_t ch);

#endif
