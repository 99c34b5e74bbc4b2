/* Signed identity: checking a JSON Web Token that a site's login issued for a customer.
 * Only HS256 is accepted (HMAC-SHA-256 with a secret shared with the site); "none" and every
 * other algorithm are refused, whatever the token claims, so nobody can pick a weaker check. */
#ifndef PL_IDENTITY_JWT_H
#define PL_IDENTITY_JWT_H

#include <stddef.h>
#include <time.h>

enum {
    PL_JWT_MAX_TOKEN = 4096,     /* bytes; longer tokens are refused unread */
    PL_JWT_MIN_SECRET = 32,      /* bytes of secret, the size of the HMAC-SHA-256 output */
    PL_JWT_DEFAULT_SKEW = 60,    /* seconds of clock difference allowed for exp and nbf */
    PL_JWT_MAX_SUB = 200,        /* bytes of account id (room for a prefix in store keys) */
};

/* Checks token against secret at time now (clock skew in seconds) and copies its subject,
 * the account id, into sub (PL_JWT_MAX_SUB + 1 bytes). The token must carry "exp" and "sub";
 * "nbf" is honoured when present. Returns 0, PL_EINVAL for a secret shorter than
 * PL_JWT_MIN_SECRET, PL_ENOMEM, or PL_EDENIED with the reason in why (for logs; never shown
 * to the customer, who only learns that the sign-in was not accepted). */
int pl_jwt_verify(const char *token, const unsigned char *secret, size_t secretlen, time_t now,
                  int skew, char *sub, char *why, size_t whylen);

/* Makes an HS256 token for sub, valid until exp, into out (outlen bytes; 1 KiB is plenty for
 * a short sub). For demos and tests: a shop's login issues the real ones. Returns 0, PL_EINVAL
 * (secret too short), PL_ELIMIT (out too small), PL_ENOMEM. */
int pl_jwt_sign(const char *sub, time_t exp, const unsigned char *secret, size_t secretlen,
                char *out, size_t outlen);

#endif
