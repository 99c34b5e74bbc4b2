/* Checking HS256 JSON Web Tokens (see identity_jwt.h): the signature first, with OpenSSL's
 * HMAC and a constant-time comparison, and only then the claims. */
#include "session/identity_jwt.h"
#include "base/error.h"
#include "base/mem.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int deny(char *why, size_t whylen, const char *fmt, ...)
{
    if (why != NULL && whylen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return PL_EDENIED;
}

/* Decodes n bytes of unpadded base64url into out (room for 3 * n / 4 + 3 bytes, plus one for
 * the terminator this adds); returns the decoded length or -1. OpenSSL decodes the standard
 * alphabet in blocks of four, so the text is translated and padded first. */
static long b64url_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 == 1)
        return -1;
    size_t padded = (n + 3) / 4 * 4;
    char *std = pl_malloc(padded + 1);
    if (std == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=') {
            pl_free(std);
            return -1;
        }
        std[i] = c;
    }
    memset(std + n, '=', padded - n);
    std[padded] = '\0';
    int got = padded ? EVP_DecodeBlock(out, (const unsigned char *)std, (int)padded) : 0;
    pl_free(std);
    if (got < 0)
        return -1;
    got -= (int)(padded - n);
    out[got] = '\0';
    return got;
}

/* Decodes one part into a parsed JSON object, or NULL. */
static cJSON *decode_json(const char *in, size_t n)
{
    unsigned char *buf = pl_malloc(n + 4);
    if (buf == NULL)
        return NULL;
    long len = b64url_decode(in, n, buf);
    cJSON *j = NULL;
    if (len >= 0 && memchr(buf, '\0', (size_t)len) == NULL)
        j = cJSON_ParseWithLength((const char *)buf, (size_t)len);
    pl_free(buf);
    if (j != NULL && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static int check_header(const char *in, size_t n, char *why, size_t whylen)
{
    cJSON *h = decode_json(in, n);
    if (h == NULL)
        return deny(why, whylen, "header is not base64url JSON");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
    int rc = 0;
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
        rc = deny(why, whylen, "algorithm %s is not accepted; only HS256 is",
                  cJSON_IsString(alg) ? alg->valuestring : "(missing)");
    else if (typ != NULL && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "JWT") != 0))
        rc = deny(why, whylen, "typ is not JWT");
    else if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL)
        rc = deny(why, whylen, "critical header extensions are not supported");
    cJSON_Delete(h);
    return rc;
}

static int check_signature(const char *token, size_t signed_len, const char *sig, size_t n,
                           const unsigned char *secret, size_t secretlen)
{
    unsigned char want[EVP_MAX_MD_SIZE], got[64];
    unsigned int wantlen = 0;
    if (n != 43) /* 32 bytes of HMAC-SHA-256 in unpadded base64url */
        return -1;
    /* The last character carries 4 bits and 2 unused ones, which must be zero: otherwise
     * several spellings would decode to one signature. Its alphabet index is a multiple of 4. */
    if (strchr("AEIMQUYcgkosw048", sig[42]) == NULL)
        return -1;
    if (HMAC(EVP_sha256(), secret, (int)secretlen, (const unsigned char *)token, signed_len,
             want, &wantlen) == NULL ||
        wantlen != 32)
        return -1;
    if (b64url_decode(sig, n, got) != 32)
        return -1;
    return CRYPTO_memcmp(want, got, 32) == 0 ? 0 : -1;
}

/* A claim that must be a whole number of seconds since the epoch; -1 when it is something
 * else, 0 when it is absent. */
static int time_claim(const cJSON *payload, const char *name, double *out)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(payload, name);
    if (c == NULL)
        return 0;
    if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble > 1e15)
        return -1;
    *out = c->valuedouble;
    return 1;
}

static int check_claims(const cJSON *p, time_t now, int skew, char *sub, char *why,
                        size_t whylen)
{
    double exp = 0, nbf = 0;
    int has_exp = time_claim(p, "exp", &exp), has_nbf = time_claim(p, "nbf", &nbf);
    if (has_exp < 0 || has_nbf < 0)
        return deny(why, whylen, "exp or nbf is not a number of seconds");
    if (has_exp == 0)
        return deny(why, whylen, "the token has no exp; tokens must expire");
    if ((double)now > exp + skew)
        return deny(why, whylen, "the token expired %.0f seconds ago", (double)now - exp);
    if (has_nbf && (double)now + skew < nbf)
        return deny(why, whylen, "the token is not valid for another %.0f seconds",
                    nbf - (double)now);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "sub");
    if (!cJSON_IsString(s) || s->valuestring[0] == '\0')
        return deny(why, whylen, "the token has no sub (account id)");
    size_t len = strlen(s->valuestring);
    if (len > PL_JWT_MAX_SUB)
        return deny(why, whylen, "sub is longer than %d bytes", PL_JWT_MAX_SUB);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s->valuestring[i] < 0x20 || s->valuestring[i] == 0x7f)
            return deny(why, whylen, "sub contains control characters");
    memcpy(sub, s->valuestring, len + 1);
    return 0;
}

int pl_jwt_verify(const char *token, const unsigned char *secret, size_t secretlen, time_t now,
                  int skew, char *sub, char *why, size_t whylen)
{
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (secret == NULL || secretlen < PL_JWT_MIN_SECRET)
        return PL_EINVAL;
    if (token == NULL)
        return deny(why, whylen, "no token");
    size_t len = strnlen(token, PL_JWT_MAX_TOKEN + 1);
    if (len > PL_JWT_MAX_TOKEN)
        return deny(why, whylen, "the token is longer than %d bytes", PL_JWT_MAX_TOKEN);
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return deny(why, whylen, "a token has three parts separated by dots");
    int rc = check_header(token, (size_t)(dot1 - token), why, whylen);
    if (rc != 0)
        return rc;
    if (check_signature(token, (size_t)(dot2 - token), dot2 + 1, len - (size_t)(dot2 + 1 - token),
                        secret, secretlen) != 0)
        return deny(why, whylen, "the signature does not match");
    cJSON *payload = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (payload == NULL)
        return deny(why, whylen, "the payload is not base64url JSON");
    rc = check_claims(payload, now, skew < 0 ? 0 : skew, sub, why, whylen);
    cJSON_Delete(payload);
    return rc;
}

/* Appends the unpadded base64url form of n bytes to out at *at (room checked by the caller). */
static void b64url_encode(const unsigned char *in, size_t n, char *out, size_t *at)
{
    char *std = out + *at;
    int len = EVP_EncodeBlock((unsigned char *)std, in, (int)n);
    while (len > 0 && std[len - 1] == '=')
        len--;
    for (int i = 0; i < len; i++)
        std[i] = std[i] == '+' ? '-' : std[i] == '/' ? '_' : std[i];
    *at += (size_t)len;
    out[*at] = '\0';
}

int pl_jwt_sign(const char *sub, time_t exp, const unsigned char *secret, size_t secretlen,
                char *out, size_t outlen)
{
    if (secretlen < PL_JWT_MIN_SECRET)
        return PL_EINVAL;
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    cJSON *p = cJSON_CreateObject();
    char *payload = NULL;
    if (p == NULL || !cJSON_AddStringToObject(p, "sub", sub) ||
        !cJSON_AddNumberToObject(p, "exp", (double)exp) ||
        (payload = cJSON_PrintUnformatted(p)) == NULL) {
        cJSON_Delete(p);
        return PL_ENOMEM;
    }
    cJSON_Delete(p);
    size_t need = (sizeof(header) + strlen(payload) + 32) * 4 / 3 + 64;
    if (outlen < need) {
        cJSON_free(payload);
        return PL_ELIMIT;
    }
    size_t at = 0;
    b64url_encode((const unsigned char *)header, sizeof(header) - 1, out, &at);
    out[at++] = '.';
    b64url_encode((const unsigned char *)payload, strlen(payload), out, &at);
    cJSON_free(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (HMAC(EVP_sha256(), secret, (int)secretlen, (const unsigned char *)out, at, mac,
             &maclen) == NULL)
        return PL_ENOMEM;
    out[at++] = '.';
    b64url_encode(mac, maclen, out, &at);
    return 0;
}
