/* hiredis' asynchronous API on a libuv loop, for code that runs in a fiber (base/fiber.h):
 * a command is sent, the fiber waits, and the reply resumes it while the loop serves
 * everyone else. The connection is made on first use and made again after it failed; a
 * command that gets no answer within the timeout fails, and the connection is dropped. */
#ifndef PL_REDIS_ASYNC_H
#define PL_REDIS_ASYNC_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

typedef struct pl_redis_async pl_redis_async_t;

/* Where a Redis is and how to log in to it, on which loop: what the command connection
 * (here) and the subscription connection (redis_watch.c) share. */
typedef struct {
    uv_loop_t *loop;
    char host[256];
    int port, db;
    char *password; /* NULL: none */
} pl_redis_endpoint_t;

/* Copies host and password. 0, or PL_ENOMEM. */
int pl_redis_endpoint_init(pl_redis_endpoint_t *e, uv_loop_t *loop, const char *host, int port,
                           int db, const char *password);
void pl_redis_endpoint_cleanup(pl_redis_endpoint_t *e);
/* Starts a connection on the endpoint's loop: data in ac->data, the two callbacks set, AUTH
 * queued first when there is a password (its reply to on_auth, which may be NULL). NULL when
 * it could not even start, with the reason in why. */
redisAsyncContext *pl_redis_endpoint_connect(const pl_redis_endpoint_t *e, void *data,
                                             redisConnectCallback *connected,
                                             redisDisconnectCallback *disconnected,
                                             redisCallbackFn *on_auth, char *why, size_t whylen);

/* Called when Redis stops answering (up 0, with the reason) and when it answers again (up 1). */
typedef void (*pl_redis_notify_fn)(void *arg, int up, const char *why);

enum {
    PL_REDIS_TIMEOUT_MS = 2000,     /* a command without an answer for this long fails */
    PL_REDIS_RETRY_PAUSE_MS = 200,  /* after a failed connection, commands fail at once */
};

/* password may be NULL; it is copied. Returns NULL when out of memory. */
pl_redis_async_t *pl_redis_async_new(uv_loop_t *loop, const char *host, int port, int db,
                                     const char *password, pl_redis_notify_fn notify, void *arg);
/* In a fiber: sends the command and waits for its reply. NULL when Redis cannot be reached,
 * closed the connection, or did not answer in time. The reply belongs to hiredis and lasts
 * until this fiber waits again: read it, copy what is needed, and do not free it. */
redisReply *pl_redis_async_command(pl_redis_async_t *a, int argc, const char **argv,
                                   const size_t *len);
/* In a fiber: waits ms milliseconds. */
void pl_redis_async_sleep(pl_redis_async_t *a, int ms);
/* Fails every command still waiting (their fibers go on with NULL), closes the connection
 * and frees a once the loop has run again. NULL is a no-op. */
void pl_redis_async_free(pl_redis_async_t *a);

#endif
