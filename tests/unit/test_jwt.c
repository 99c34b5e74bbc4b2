/* Signed identity: tokens made here with OpenSSL, then every way a token can be wrong —
 * forged, re-signed with another secret, "alg: none", other algorithms, expired, not yet
 * valid, without exp or sub, malformed, oversized — must be refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/error.h"
#include "session/identity_jwt.h"
#include "test_tokens.h"

#include <stdio.h>
#include <string.h>

static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef-site";
static const unsigned char OTHER[] = "fedcba9876543210fedcba9876543210-evil";
#define NOW ((time_t)1800000000)

#define GOOD "{\"sub\":\"acct-42\",\"exp\":1800000600,\"iat\":1800000000}"

static int verify(const char *tok, char *sub, char *why)
{
    return pl_jwt_verify(tok, SECRET, strlen((const char *)SECRET), NOW, PL_JWT_DEFAULT_SKEW,
                         sub, why, 200);
}

static void denied(const char *tok, const char *reason)
{
    char sub[PL_JWT_MAX_SUB + 1] = "untouched", why[200];
    assert_int_equal(verify(tok, sub, why), PL_EDENIED);
    if (strstr(why, reason) == NULL)
        fail_msg("reason '%s' does not mention '%s'", why, reason);
}

static void valid_token_gives_the_account(void **state)
{
    (void)state;
    char sub[PL_JWT_MAX_SUB + 1], why[200];
    assert_int_equal(verify(tt_make(HS256, GOOD, SECRET), sub, why), 0);
    assert_string_equal(sub, "acct-42");
    /* typ is optional. */
    assert_int_equal(verify(tt_make("{\"alg\":\"HS256\"}", GOOD, SECRET), sub, why), 0);
}

static void forged_tokens_are_refused(void **state)
{
    (void)state;
    /* Signed with another secret. */
    denied(tt_make(HS256, GOOD, OTHER), "signature");
    /* A valid token whose payload is swapped for another account's, signature kept. */
    char tok[8192], evil[8192];
    strcpy(tok, tt_make(HS256, GOOD, SECRET));
    strcpy(evil, tt_make(HS256, "{\"sub\":\"acct-1\",\"exp\":1800000600}", SECRET));
    char *sig = strrchr(tok, '.');
    strcpy(strrchr(evil, '.'), sig);
    denied(evil, "signature");
    /* Any one character of the signature changed, at every position. */
    size_t siglen = strlen(sig + 1);
    assert_int_equal(siglen, 43);
    for (size_t i = 0; i < siglen; i++) {
        strcpy(evil, tok);
        char *c = strrchr(evil, '.') + 1 + i;
        *c = *c == 'A' ? 'B' : 'A';
        denied(evil, "signature");
        *c = *c == 'w' ? 'Q' : 'w'; /* a change in the high bits too */
        denied(evil, "signature");
    }
    /* Signature cut short, or missing. */
    strcpy(evil, tok);
    evil[strlen(evil) - 4] = '\0';
    denied(evil, "signature");
    denied(tt_make(HS256, GOOD, NULL), "signature");
}

static void only_hs256_is_accepted(void **state)
{
    (void)state;
    denied(tt_make("{\"alg\":\"none\"}", GOOD, NULL), "none");
    denied(tt_make("{\"alg\":\"none\"}", GOOD, SECRET), "none");
    denied(tt_make("{\"alg\":\"HS512\"}", GOOD, SECRET), "HS512");
    denied(tt_make("{\"alg\":\"RS256\"}", GOOD, SECRET), "RS256");
    denied(tt_make("{\"alg\":\"hs256\"}", GOOD, SECRET), "hs256");
    denied(tt_make("{\"typ\":\"JWT\"}", GOOD, SECRET), "missing");
    denied(tt_make("{\"alg\":256}", GOOD, SECRET), "missing");
    denied(tt_make("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", GOOD, SECRET), "typ");
    denied(tt_make("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", GOOD, SECRET), "critical");
}

static void time_limits_hold_with_small_skew(void **state)
{
    (void)state;
    char sub[PL_JWT_MAX_SUB + 1], why[200];
    /* Expired 30 s ago: inside the 60 s skew. 90 s ago: refused. */
    assert_int_equal(verify(tt_make(HS256, "{\"sub\":\"a\",\"exp\":1799999970}", SECRET), sub, why),
                     0);
    denied(tt_make(HS256, "{\"sub\":\"a\",\"exp\":1799999910}", SECRET), "expired");
    /* Not before: 30 s ahead passes, an hour ahead does not. */
    assert_int_equal(
        verify(tt_make(HS256, "{\"sub\":\"a\",\"exp\":1800009999,\"nbf\":1800000030}", SECRET), sub,
               why),
        0);
    denied(tt_make(HS256, "{\"sub\":\"a\",\"exp\":1800009999,\"nbf\":1800003600}", SECRET),
           "not valid");
    /* Tokens must expire, with numbers. */
    denied(tt_make(HS256, "{\"sub\":\"a\"}", SECRET), "no exp");
    denied(tt_make(HS256, "{\"sub\":\"a\",\"exp\":\"tomorrow\"}", SECRET), "number");
    denied(tt_make(HS256, "{\"sub\":\"a\",\"exp\":1800009999,\"nbf\":null}", SECRET), "number");
}

static void subject_must_be_a_plain_account_id(void **state)
{
    (void)state;
    denied(tt_make(HS256, "{\"exp\":1800000600}", SECRET), "no sub");
    denied(tt_make(HS256, "{\"sub\":\"\",\"exp\":1800000600}", SECRET), "no sub");
    denied(tt_make(HS256, "{\"sub\":42,\"exp\":1800000600}", SECRET), "no sub");
    denied(tt_make(HS256, "{\"sub\":\"a\\nb\",\"exp\":1800000600}", SECRET), "control");
    char payload[600];
    snprintf(payload, sizeof(payload), "{\"sub\":\"%0300d\",\"exp\":1800000600}", 7);
    denied(tt_make(HS256, payload, SECRET), "longer");
}

static void malformed_tokens_are_refused(void **state)
{
    (void)state;
    char sub[PL_JWT_MAX_SUB + 1], why[200];
    assert_int_equal(verify(NULL, sub, why), PL_EDENIED);
    denied("", "three parts");
    denied("abc", "three parts");
    denied("a.b", "three parts");
    denied("a.b.c.d", "three parts");
    denied("..", "header");
    denied("!!!.e30.sig", "header");
    denied("eyJhbGciOiJIUzI1NiJ9=.e30.x", "header"); /* padding is not base64url */
    char tok[8192];
    strcpy(tok, tt_make(HS256, "[1,2]", SECRET));
    denied(tok, "payload");
    strcpy(tok, tt_make(HS256, "not json", SECRET));
    denied(tok, "payload");
    /* Oversized: refused before anything is decoded. */
    static char big[PL_JWT_MAX_TOKEN + 100];
    memset(big, 'A', sizeof(big) - 1);
    big[10] = '.';
    big[20] = '.';
    denied(big, "longer");
}

/* Tokens parley signs itself (for the demo) are ordinary HS256 tokens: they verify, and with
 * another secret or after their expiry they do not. */
static void signed_tokens_verify_and_expire(void **state)
{
    (void)state;
    char tok[1024], sub[PL_JWT_MAX_SUB + 1], why[128];
    size_t n = strlen((const char *)SECRET);
    assert_int_equal(pl_jwt_sign("demo-visitor", NOW + 600, SECRET, n, tok, sizeof(tok)), 0);
    assert_int_equal(pl_jwt_verify(tok, SECRET, n, NOW, PL_JWT_DEFAULT_SKEW, sub, why, sizeof(why)),
                     0);
    assert_string_equal(sub, "demo-visitor");
    assert_int_equal(pl_jwt_verify(tok, OTHER, n, NOW, PL_JWT_DEFAULT_SKEW, sub, why, sizeof(why)),
                     PL_EDENIED);
    assert_int_equal(pl_jwt_verify(tok, SECRET, n, NOW + 700, PL_JWT_DEFAULT_SKEW, sub, why,
                                   sizeof(why)),
                     PL_EDENIED);
    assert_int_equal(pl_jwt_sign("x", NOW, SECRET, 10, tok, sizeof(tok)), PL_EINVAL);
    assert_int_equal(pl_jwt_sign("x", NOW, SECRET, n, tok, 20), PL_ELIMIT);
}

static void short_secret_is_a_configuration_error(void **state)
{
    (void)state;
    char sub[PL_JWT_MAX_SUB + 1], why[200];
    const unsigned char weak[] = "secret";
    assert_int_equal(pl_jwt_verify(tt_make(HS256, GOOD, weak), weak, 6, NOW, 60, sub, why, 200),
                     PL_EINVAL);
    assert_int_equal(pl_jwt_verify(tt_make(HS256, GOOD, SECRET), NULL, 0, NOW, 60, sub, why, 200),
                     PL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_token_gives_the_account),
        cmocka_unit_test(forged_tokens_are_refused),
        cmocka_unit_test(only_hs256_is_accepted),
        cmocka_unit_test(time_limits_hold_with_small_skew),
        cmocka_unit_test(subject_must_be_a_plain_account_id),
        cmocka_unit_test(malformed_tokens_are_refused),
        cmocka_unit_test(short_secret_is_a_configuration_error),
        cmocka_unit_test(signed_tokens_verify_and_expire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
