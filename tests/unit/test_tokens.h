/* Test helper: JSON Web Tokens made with OpenSSL, signed (HS256) or not, for the tests of
 * signed identity. Header-only, like test_helpers.h. */
#ifndef PL_TEST_TOKENS_H
#define PL_TEST_TOKENS_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define TT_UNUSED __attribute__((unused))
#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Unpadded base64url of n bytes into out. */
static void tt_b64url(const void *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    for (int i = 0; i < len; i++)
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
}

/* header.payload.signature, signed with key (NULL: no signature, as "alg: none" has). */
TT_UNUSED static const char *tt_make(const char *header, const char *payload,
                                     const unsigned char *key)
{
    static char tok[8192];
    char h[2048], p[4096];
    tt_b64url(header, strlen(header), h);
    tt_b64url(payload, strlen(payload), p);
    int n = snprintf(tok, sizeof(tok), "%s.%s.", h, p);
    if (key != NULL) {
        unsigned char mac[32];
        unsigned int maclen;
        HMAC(EVP_sha256(), key, (int)strlen((const char *)key), (unsigned char *)tok,
             (size_t)n - 1, mac, &maclen);
        tt_b64url(mac, maclen, tok + n);
    }
    return tok;
}

#endif
