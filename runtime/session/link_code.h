/* One-time link codes, for channels without a login: on a channel where the customer is
 * known the bot shows a 6-digit code; said on another channel (voice) within 10 minutes it
 * links that channel user to the same customer, once. Wrong codes count against the channel
 * user: after 5 in a row the next tries are refused for a pause, and no answer ever tells
 * a wrong code from an expired or used one. */
#ifndef PL_LINK_CODE_H
#define PL_LINK_CODE_H

#include "session/store.h"

#include <stdint.h>

enum {
    PL_LINK_CODE_DIGITS = 6,
    PL_LINK_CODE_TTL_MS = 10 * 60 * 1000,
    PL_LINK_CODE_MAX_FAILURES = 5,
    PL_LINK_CODE_PAUSE_MS = 15 * 60 * 1000, /* the failures are counted over this window */
};

/* A fresh random code for customer, valid until now_ms + PL_LINK_CODE_TTL_MS, into code
 * (7 bytes). Returns 0, PL_EIO (no randomness), or a store error. */
int pl_link_code_issue(pl_store_t *s, const char *customer, int64_t now_ms, char code[7]);

/* The channel user says `said` (e.g. "my code is 482 019"): when it holds a valid code, the
 * code is used up, the channel user is linked to its customer and 0 is returned with the
 * customer in `customer`. PL_EINVAL: said holds no 6-digit code (not counted as a try);
 * PL_EDENIED: not a valid code (counted); PL_ELIMIT: too many wrong tries, wait for the
 * pause to end (the code is not even looked at). */
/* The six digits of a code in what a customer said or typed: "482 019", "482-019", "four
 * eight two zero one nine", "vier acht zwei null eins neun". 0, or -1 when said holds not
 * exactly six digits, or digits inside a word ("LU-123456"). */
int pl_link_code_digits(const char *said, char code[PL_LINK_CODE_DIGITS + 1]);
int pl_link_code_redeem(pl_store_t *s, const char *channel, const char *user, const char *said,
                        int64_t now_ms, char customer[PL_STORE_MAX_KEY + 1]);

#endif
