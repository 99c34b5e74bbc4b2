/* Checking that a request to the voice webhook really comes from the voice platform (the
 * Alexa custom-skill rules every self-hosted endpoint must apply): the certificate URL's
 * form, the certificate chain up to a trusted root with the platform's name in it, the
 * RSA-SHA256 signature over the exact body, the request's age and the skill's id. The
 * certificates come from a local cache directory: this server fetches nothing. */
#include "voice.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CERT_HOST "s3.amazonaws.com"
#define CERT_PATH "/echo.api/"
#define SIGNER_NAME "echo-api.amazon.com"
#define MAX_AGE_S 150

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

int pl_voice_cert_file(const char *url, char name[128], char *why, size_t whylen)
{
    size_t hl = strlen("https://");
    if (url == NULL || strncasecmp(url, "https://", hl) != 0)
        return fail(why, whylen, "the certificate URL is not https");
    const char *host = url + hl, *path = strchr(host, '/');
    if (path == NULL)
        return fail(why, whylen, "the certificate URL has no path");
    size_t hostlen = (size_t)(path - host);
    const char *colon = memchr(host, ':', hostlen);
    size_t namelen = colon ? (size_t)(colon - host) : hostlen;
    if (namelen != strlen(CERT_HOST) || strncasecmp(host, CERT_HOST, namelen) != 0)
        return fail(why, whylen, "the certificate URL's host is not " CERT_HOST);
    if (colon != NULL && (hostlen - namelen != 4 || strncmp(colon, ":443", 4) != 0))
        return fail(why, whylen, "the certificate URL's port is not 443");
    if (strncmp(path, CERT_PATH, strlen(CERT_PATH)) != 0)
        return fail(why, whylen, "the certificate URL's path is not under " CERT_PATH);
    /* no way out of /echo.api/: no "..", no "%", no "\\", no query */
    if (strstr(path, "/..") != NULL || strpbrk(path, "%\\?#") != NULL)
        return fail(why, whylen, "the certificate URL's path is not plain");
    const char *last = strrchr(path, '/') + 1;
    size_t n = strlen(last);
    if (n == 0 || n >= 128)
        return fail(why, whylen, "the certificate URL names no file");
    for (size_t i = 0; i < n; i++) {
        char c = last[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return fail(why, whylen, "the certificate file name is not plain");
    }
    memcpy(name, last, n + 1);
    return 0;
}

/* What was read from disk, kept while the files do not change: the trusted roots (the
 * system's bundle has ~150 certificates) and the platform's current chain are the same for
 * every request, so they are parsed once, not per request. */
static struct {
    char ca_path[512], chain_path[1024];
    struct timespec ca_mtime, chain_mtime;
    X509_STORE *store;
    X509 *leaf;
    STACK_OF(X509) *rest;
} cache;

static int same_file(const char *path, const char *cached, const struct timespec *mtime,
                     struct timespec *now_mtime)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *now_mtime = st.st_mtim;
    return strcmp(path, cached) == 0 && st.st_mtim.tv_sec == mtime->tv_sec &&
           st.st_mtim.tv_nsec == mtime->tv_nsec;
}

void pl_voice_trust_release(void)
{
    X509_STORE_free(cache.store);
    X509_free(cache.leaf);
    sk_X509_pop_free(cache.rest, X509_free);
    memset(&cache, 0, sizeof(cache));
}

/* The chain in the PEM file: the signing certificate first, then its intermediates. */
static int load_chain(const char *path, X509 **leaf, STACK_OF(X509) **rest)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    *leaf = PEM_read_X509(f, NULL, NULL, NULL);
    *rest = sk_X509_new_null();
    X509 *x;
    while (*rest != NULL && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        sk_X509_push(*rest, x);
    fclose(f);
    return *leaf != NULL && *rest != NULL ? 0 : -1;
}

/* The trusted roots, from the cache or read anew when the file changed. */
static X509_STORE *roots(const char *trusted_ca)
{
    struct timespec mtime;
    int same = same_file(trusted_ca, cache.ca_path, &cache.ca_mtime, &mtime);
    if (same > 0)
        return cache.store;
    X509_STORE_free(cache.store);
    cache.store = NULL;
    cache.ca_path[0] = '\0';
    X509_STORE *store = same == 0 ? X509_STORE_new() : NULL;
    if (store == NULL || X509_STORE_load_file(store, trusted_ca) != 1) {
        X509_STORE_free(store);
        return NULL;
    }
    cache.store = store;
    cache.ca_mtime = mtime;
    snprintf(cache.ca_path, sizeof(cache.ca_path), "%s", trusted_ca);
    return store;
}

/* The chain verifies up to a root of trusted_ca at time now, and names the platform. */
static int check_chain(X509 *leaf, STACK_OF(X509) *rest, const char *trusted_ca, time_t now,
                       char *why, size_t whylen)
{
    X509_STORE *store = roots(trusted_ca);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = store != NULL && ctx != NULL && X509_STORE_CTX_init(ctx, store, leaf, rest) == 1;
    if (ok) {
        X509_STORE_CTX_set_time(ctx, 0, now);
        ok = X509_verify_cert(ctx) == 1;
        if (!ok)
            fail(why, whylen, "the certificate chain does not verify: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    } else {
        fail(why, whylen, "cannot read the trusted roots in %s", trusted_ca);
    }
    X509_STORE_CTX_free(ctx);
    if (ok && X509_check_host(leaf, SIGNER_NAME, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1)
        return fail(why, whylen, "the certificate is not for " SIGNER_NAME);
    return ok ? 0 : -1;
}

static int check_signature(X509 *leaf, const char *sig_b64, const char *body, size_t len,
                           char *why, size_t whylen)
{
    size_t n = strlen(sig_b64);
    if (n == 0 || n > 2048 || n % 4 != 0)
        return fail(why, whylen, "the Signature-256 header is not base64");
    unsigned char sig[1600];
    int got = EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)n);
    if (got <= 0)
        return fail(why, whylen, "the Signature-256 header is not base64");
    while (n > 0 && sig_b64[--n] == '=')
        got--; /* EVP_DecodeBlock counts the padding */
    EVP_PKEY *key = X509_get_pubkey(leaf);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = key != NULL && md != NULL &&
             EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)got, (const unsigned char *)body, len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return ok ? 0 : fail(why, whylen, "the signature does not match the body");
}

int pl_voice_verify(const pl_voice_trust_t *t, const char *cert_url, const char *signature,
                    const char *body, size_t len, time_t now, char *why, size_t whylen)
{
    char name[128], path[1024];
    if (cert_url == NULL || signature == NULL)
        return fail(why, whylen, "the SignatureCertChainUrl or Signature-256 header is missing");
    if (pl_voice_cert_file(cert_url, name, why, whylen) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", t->cert_cache, name);
    struct timespec mtime;
    int same = same_file(path, cache.chain_path, &cache.chain_mtime, &mtime);
    int rc = same > 0 ? 0 : -1;
    if (same == 0) { /* another or a changed file: read it, keep it for the next request */
        X509_free(cache.leaf);
        sk_X509_pop_free(cache.rest, X509_free);
        cache.leaf = NULL;
        cache.rest = NULL;
        cache.chain_path[0] = '\0';
        rc = load_chain(path, &cache.leaf, &cache.rest);
        if (rc == 0) {
            cache.chain_mtime = mtime;
            snprintf(cache.chain_path, sizeof(cache.chain_path), "%s", path);
        }
    }
    if (rc != 0)
        fail(why, whylen, "the certificate %s is not in the cache %s", name, t->cert_cache);
    /* the chain is verified every time: the clock moves, a certificate expires */
    if (rc == 0)
        rc = check_chain(cache.leaf, cache.rest, t->trusted_ca, now, why, whylen);
    if (rc == 0)
        rc = check_signature(cache.leaf, signature, body, len, why, whylen);
    return rc;
}

/* Days since 1970-01-01 of a date of the proleptic Gregorian calendar. */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int pl_voice_fresh(const char *timestamp, time_t now, char *why, size_t whylen)
{
    int y, mo, d, h, mi, s, used = 0;
    if (timestamp == NULL ||
        sscanf(timestamp, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return fail(why, whylen, "the request has no valid timestamp");
    const char *rest = timestamp + used;
    if (*rest == '.')
        while (*++rest >= '0' && *rest <= '9')
            ;
    if (strcmp(rest, "Z") != 0)
        return fail(why, whylen, "the request's timestamp is not in UTC");
    long long t = (long long)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    long long age = (long long)now - t;
    if (age > MAX_AGE_S || age < -MAX_AGE_S)
        return fail(why, whylen, "the request is %lld seconds %s (at most %d)",
                    age < 0 ? -age : age, age < 0 ? "ahead" : "old", MAX_AGE_S);
    return 0;
}
