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

/* Spoken digits, as a voice assistant may write them: "four eight two", "vier acht zwei". */
static int digit_word(const char *w, size_t n)
{
    static const char *const words[][10] = {
        {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"},
        {"null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"}};
    char low[16];
    if (n == 0 || n >= sizeof(low))
        return -1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
    low[n] = '\0';
    if (strcmp(low, "oh") == 0)
        return 0;
    if (strcmp(low, "zwo") == 0 || strcmp(low, "ein") == 0)
        return strcmp(low, "zwo") == 0 ? 2 : 1;
    if (strcmp(low, "f\xc3\xbcnf") == 0)
        return 5;
    for (int l = 0; l < 2; l++)
        for (int d = 0; d < 10; d++)
            if (strcmp(low, words[l][d]) == 0)
                return d;
    return -1;
}

int pl_link_code_digits(const char *said, char code[PL_LINK_CODE_DIGITS + 1])
{
    size_t n = 0;
    const char *p = said;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == ':' || *p == '.' || *p == '-' || *p == '\t')
            p++;
        const char *w = p;
        size_t digits = 0, letters = 0;
        while (*p && *p != ' ' && *p != ',' && *p != ':' && *p != '.' && *p != '\t') {
            if (*p >= '0' && *p <= '9')
                digits++;
            else if (*p != '-')
                letters++;
            p++;
        }
        size_t len = (size_t)(p - w);
        if (len == 0)
            continue;
        if (digits > 0 && letters > 0)
            return -1; /* "VB-123456", "LU-123456": digits inside a word are no code */
        int d = digits == 0 ? digit_word(w, len) : -1;
        for (size_t i = 0; i < len && digits > 0; i++)
            if (w[i] >= '0' && w[i] <= '9') {
                if (n == PL_LINK_CODE_DIGITS)
                    return -1;
                code[n++] = w[i];
            }
        if (d >= 0) {
            if (n == PL_LINK_CODE_DIGITS)
                return -1;
            code[n++] = (char)('0' + d);
        }
    }
    code[n] = '\0';
    return n == PL_LINK_CODE_DIGITS ? 0 : -1;
}

int pl_link_code_redeem(pl_store_t *s, const char *channel, const char *user, const char *said,
                        int64_t now_ms, char customer[PL_STORE_MAX_KEY + 1])
{
    char code[PL_LINK_CODE_DIGITS + 1];
    if (said == NULL || pl_link_code_digits(said, code) != 0)
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
