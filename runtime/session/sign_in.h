/* Signing a channel user in with a token from the site's login: the channel user is linked
 * to the account's customer ("a:" + the token's sub), and what they did before signing in
 * (an anonymous customer) is merged into the account and then erased. Two accounts are
 * never merged: a channel user signed in as someone else is simply relinked. */
#ifndef PL_SIGN_IN_H
#define PL_SIGN_IN_H

#include "session/store.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define PL_ACCOUNT_PREFIX "a:"

/* Merges the anonymous state `anon` into the account state `account` (both objects; account
 * is changed): the anonymous conversation is the newer one, so its cursor, slots and
 * handoff win; offers are united by id; disclosures are united; interests keep the larger
 * weight; the account's persona stays when it has one. Appends {"at", "channel"} to
 * account.merged. Returns 0 or PL_ENOMEM (account may then be partly merged: discard it). */
int pl_state_merge(cJSON *account, const cJSON *anon, int64_t now_ms, const char *channel);

/* Links the channel user to customer (an account). What the channel user did anonymously
 * before is merged into it, the anonymous customer's other channels follow, and the
 * anonymous customer is erased. Returns 0 or a store error. */
int pl_customer_join(pl_store_t *s, const char *channel, const char *user, const char *customer,
                     int64_t now_ms);
/* Verifies token (see identity_jwt.h) and signs the channel user in. On success the account
 * customer id is in account. Returns 0, PL_EDENIED (the token is not accepted; why says
 * why, for logs; nothing changed), PL_EINVAL (secret too short), or a store error. */
int pl_sign_in(pl_store_t *s, const char *channel, const char *user, const char *token,
               const unsigned char *secret, size_t secretlen, int64_t now_ms,
               char account[PL_STORE_MAX_KEY + 1], char *why, size_t whylen);

#endif
