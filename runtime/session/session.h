/* One turn for a channel user with the customer's state kept in a store: find (or create)
 * the customer the channel user is linked to, load their state, run the turn, commit the new
 * state with compare-and-swap — and only then hand out the reply. When another channel or
 * process changed the state meanwhile, the turn is run again on the fresh state, so turns
 * of one customer never interleave and none is lost. */
#ifndef PL_SESSION_H
#define PL_SESSION_H

#include "runtime.h"
#include "session/store.h"

enum {
    PL_SESSION_MAX_RETRIES = 8,
    /* how long a turn waits for the customer's lock: longer than the lock lives, so a
     * process that died holding it delays the customer, but never fails them */
    PL_SESSION_LOCK_WAIT_MS = PL_STORE_LOCK_TTL_MS + 1000,
};

typedef struct {
    char customer[PL_STORE_MAX_KEY + 1]; /* the customer the turn was for */
    int64_t version;                     /* of their state after the turn */
    int retries;                         /* how often the turn was run again after a conflict */
    cJSON *state;                        /* the committed state; the caller frees it */
    int erased; /* the turn erased the customer ("forget me"): state is empty, version 0 */
} pl_session_result_t;

/* Runs ev for channel user `user` on ev->channel. On success the reply is in out (strings in
 * scratch) and res says whom it was for; on failure nothing was committed and res->state is
 * NULL. Returns 0, PL_EINVAL/PL_ELIMIT (bad message, as pl_runtime_turn), PL_ECONFLICT (still
 * conflicting after PL_SESSION_MAX_RETRIES runs), PL_EBUSY (another turn of the customer
 * held their lock for longer than PL_SESSION_LOCK_WAIT_MS), PL_ESTORE (the store failed, or holds a
 * state that is not JSON: it is left untouched), PL_ENOMEM, PL_EIO (no randomness). */
/* The customer's state as JSON and its version: an empty object and 0 when they have none.
 * PL_ESTORE when what is stored is not a JSON object (it is left alone). */
int pl_session_load_state(pl_store_t *store, const char *customer, cJSON **state,
                          int64_t *version);

int pl_session_turn(const pl_runtime_t *rt, pl_store_t *store, const char *user,
                    const pl_event_t *ev, pl_arena_t *scratch, pl_turn_t *out,
                    pl_session_result_t *res);

#endif
