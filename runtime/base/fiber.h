/* Fibers: a function run on a stack of its own, on the caller's thread, that can pause in
 * the middle and be resumed later. parley serve runs every request that reaches the store in
 * one: a store that waits for the network (Redis) pauses the request, not the event loop,
 * and the turn code above the store stays straight-line. One thread only; nothing here is
 * shared between threads. */
#ifndef PL_FIBER_H
#define PL_FIBER_H

#include <stddef.h>

typedef struct pl_fiber pl_fiber_t;
typedef void (*pl_fiber_fn)(void *arg);

/* Stack of each fiber, with a guard page below it: an overflow faults instead of writing
 * over other memory. */
#define PL_FIBER_STACK (256 * 1024)

/* Runs fn(arg) on a new fiber until it waits (pl_fiber_wait) or returns. *out is the fiber
 * when it waits (resume it later) and NULL when it already returned. Returns 0, or PL_ENOMEM
 * when no stack could be had (fn did not run). */
int pl_fiber_start(pl_fiber_fn fn, void *arg, pl_fiber_t **out);
/* The fiber running now; NULL on the thread's own stack. */
pl_fiber_t *pl_fiber_current(void);
/* From inside a fiber: pauses it and goes back to whoever started or resumed it. */
void pl_fiber_wait(void);
/* Runs a waiting fiber until it waits again or returns; a fiber that returned is freed
 * here. Returns 1 when it returned. Never for the running fiber itself. */
int pl_fiber_resume(pl_fiber_t *f);
/* Frees the stacks kept for reuse (at exit; fibers still waiting are not touched). */
void pl_fiber_release_pool(void);

#endif
