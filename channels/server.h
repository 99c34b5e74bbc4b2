/* `parley serve`: one process, one port, libwebsockets' event loop. The web widget and the
 * app talk to it over a WebSocket and plain HTTP (protocol in channels/README.md); every
 * turn runs through the session pipeline on one store, and a change made on one connection
 * is pushed to the customer's other connections in the same loop iteration. */
#ifndef PL_SERVER_H
#define PL_SERVER_H

#include <stddef.h>

enum { PL_LOG_ERROR, PL_LOG_WARN, PL_LOG_INFO, PL_LOG_DEBUG };

typedef struct {
    const char *host; /* numeric address to bind: "127.0.0.1" (default), "::1", "0.0.0.0" */
    int port;         /* 8080 by default; 0: any free port (printed in the log) */
    const char *store;           /* store spec: "sqlite:PATH" or "memory" */
    const char *const *bots;     /* bot files; the first is the default bot */
    size_t nbots;
    const char *const *origins;  /* allowed WebSocket Origins; none: the server's own */
    size_t norigins;
    const unsigned char *secret; /* HS256 identity secret, or NULL (signed identity off) */
    size_t secretlen;
    const char *www;             /* directory of the static files (demo page, widget) */
    int demo;                    /* serve /demo/token */
    int rate_messages;           /* messages per 10 s per connection or app user, 1..100 */
    const char *const *voice_skills; /* skill ids the voice webhook answers */
    size_t nvoice_skills;
    const char *voice_cert_cache;  /* directory of the platform's certificate chains */
    const char *voice_trusted_ca;  /* PEM roots those chains must lead to */
    int voice_insecure;            /* skip verification (local development only) */
    int idle_seconds;            /* an idle WebSocket is closed after this long */
    int log_level;               /* PL_LOG_* */
} pl_server_config_t;

/* Runs the server until SIGTERM or SIGINT. Returns 0 after a clean shutdown, or a PL_E* code
 * when it could not start (the reason is logged). */
int pl_server_run(const pl_server_config_t *cfg);

#endif
