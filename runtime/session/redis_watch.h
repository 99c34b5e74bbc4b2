/* Live changes of customers' documents, committed by any process sharing a Redis: a
 * subscription (Redis pub/sub, on a connection of its own on the libuv loop) to the channel
 * of each customer this process has connections for. The store's save and erase scripts
 * publish on that channel in the same step as the change, so messages come in commit order. */
#ifndef PL_REDIS_WATCH_H
#define PL_REDIS_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct pl_redis_watch pl_redis_watch_t;

/* A watched customer's document changed: version >= 1 with the document, 0 when the customer
 * was erased (doc NULL), -1 when changes may have been missed while the subscription was down
 * (doc NULL: load the document again). */
typedef void (*pl_redis_change_fn)(void *arg, const char *customer, int64_t version,
                                   const char *doc, size_t len);

/* The channel a customer's changes are published on, for database db (Redis' pub/sub spans
 * databases, so the number is part of it). Returns its length, or -1 when it does not fit. */
int pl_redis_watch_channel(char *out, size_t cap, int db, const char *customer);

pl_redis_watch_t *pl_redis_watch_new(uv_loop_t *loop, const char *host, int port, int db,
                                     const char *password, pl_redis_change_fn change, void *arg);
/* Starts or stops watching a customer (counted: as many removes as adds). 0 or PL_ENOMEM. */
int pl_redis_watch_add(pl_redis_watch_t *w, const char *customer);
void pl_redis_watch_remove(pl_redis_watch_t *w, const char *customer);
/* Closes the subscription; w is freed once the loop has run again. NULL is a no-op. */
void pl_redis_watch_free(pl_redis_watch_t *w);

#endif
