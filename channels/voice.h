/* The voice channel: requests of the Alexa custom-skill interface (the de-facto standard
 * webhook of voice assistants), their verification, and the answer in SSML. */
#ifndef PL_VOICE_H
#define PL_VOICE_H

#include <stddef.h>
#include <time.h>

/* Where the certificates come from and which roots to trust. */
typedef struct {
    const char *cert_cache; /* directory of the platform's certificate chains (PEM), by file name */
    const char *trusted_ca; /* PEM file of the roots a chain must lead to */
} pl_voice_trust_t;

/* Checks the SignatureCertChainUrl rules (https, host s3.amazonaws.com, path under
 * /echo.api/, port 443 if given, nothing that leaves the path) and gives the certificate's
 * file name in the cache. 0, or -1 with the reason in why. */
int pl_voice_cert_file(const char *url, char name[128], char *why, size_t whylen);
/* Verifies a request: the certificate chain of cert_url (from the cache) up to a trusted
 * root at time now, with echo-api.amazon.com in it, and the Signature-256 (base64 RSA
 * SHA-256) over the exact body. 0, or -1 with the reason in why. */
int pl_voice_verify(const pl_voice_trust_t *t, const char *cert_url, const char *signature,
                    const char *body, size_t len, time_t now, char *why, size_t whylen);
/* Frees the roots and chain kept between requests (at shutdown). */
void pl_voice_trust_release(void);
/* The request's timestamp (ISO 8601, UTC) is within 150 seconds of now. 0 or -1. */
int pl_voice_fresh(const char *timestamp, time_t now, char *why, size_t whylen);

#endif
