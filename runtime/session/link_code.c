/* One-time link codes (see link_code.h): uniform random digits from the operating system,
 * stored with their expiry; redeeming checks the attempt count before the code. */
#include "session/link_code.h"
#include "session/sign_in.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* A uniform number below 10^6: 32 random bits, retried above the largest multiple of 10^6
 * that fits, so no code is likelier than another. */
static int random_code(char code[7])
{
    for (;;) {
        uint32_t r;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return PL_EIO;
        if (r < 4294000000u) {
            snprintf(code, 7, "%06u", (unsigned)(r % 1000000u));
            return 0;
        }
    }
}

int pl_link_code_issue(pl_store_t *s, const char *customer, int64_t now_ms, char code[7])
{
    /* A clash with a live code of someone else is rare; a few draws make it vanishing. */
    for (int tries = 0; tries < 16; tries++) {
        int rc = random_code(code);
        if (rc == 0)
            rc = pl_store_code_put(s, code, customer, now_ms, now_ms + PL_LINK_CODE_TTL_MS);
        if (rc != PL_ECONFLICT)
            return rc;
    }
    return PL_ECONFLICT;
}

/* The digits of said, if there are exactly six of them and nothing but spaces, dashes and
 * words around them ("my code is 482-019"). */
static int digits_of(const char *said, char code[7])
{
    size_t n = 0;
    for (const char *p = said; *p; p++)
        if (*p >= '0' && *p <= '9') {
            if (n == PL_LINK_CODE_DIGITS)
                return -1;
            code[n++] = *p;
        }
    code[n] = '\0';
    return n == PL_LINK_CODE_DIGITS ? 0 : -1;
}

int pl_link_code_redeem(pl_store_t *s, const char *channel, const char *user, const char *said,
                        int64_t now_ms, char customer[PL_STORE_MAX_KEY + 1])
{
    char code[PL_LINK_CODE_DIGITS + 1];
    if (said == NULL || digits_of(said, code) != 0)
        return PL_EINVAL;
    int64_t failures;
    int rc = pl_store_attempts(s, channel, user, now_ms, PL_LINK_CODE_PAUSE_MS, 0, &failures);
    if (rc != 0)
        return rc;
    if (failures >= PL_LINK_CODE_MAX_FAILURES)
        return PL_ELIMIT;
    char *found = NULL;
    rc = pl_store_code_take(s, code, now_ms, &found);
    if (rc == PL_ENOTFOUND) {
        rc = pl_store_attempts(s, channel, user, now_ms, PL_LINK_CODE_PAUSE_MS, 1, &failures);
        return rc != 0 ? rc : PL_EDENIED;
    }
    if (rc != 0)
        return rc;
    size_t len = strlen(found);
    if (len > PL_STORE_MAX_KEY) {
        pl_free(found);
        return PL_ESTORE;
    }
    /* what the channel user did before joins the customer, as when signing in */
    rc = pl_customer_join(s, channel, user, found, now_ms);
    if (rc == 0)
        memcpy(customer, found, len + 1);
    pl_free(found);
    return rc;
}
