/* Fibers on ucontext (see fiber.h). Each fiber has an mmap'd stack with a guard page; stacks
 * of finished fibers are kept for the next ones. AddressSanitizer is told about every switch
 * (it keeps its own view of which stack is live) and Valgrind about every stack. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_STACK */
#include "base/fiber.h"
#include "base/error.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define PL_ASAN 1
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define PL_VALGRIND 1
#endif
#endif

#define POOL_MAX 64

struct pl_fiber {
    ucontext_t ctx;
    ucontext_t back;   /* whoever resumed it, to go back to */
    pl_fiber_t *outer; /* the fiber that resumed it (NULL: the thread's stack) */
    pl_fiber_fn fn;
    void *arg;
    void *map; /* guard page + stack */
    size_t maplen;
    int done;
    unsigned vg_id;
    /* AddressSanitizer: the resumer's stack, and this fiber's fake stack while away */
    const void *back_bottom;
    size_t back_size;
    void *fake;
};

static pl_fiber_t *running;
static pl_fiber_t *pool[POOL_MAX];
static size_t npool;

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static pl_fiber_t *new_fiber(void)
{
    if (npool > 0)
        return pool[--npool];
    pl_fiber_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    size_t guard = page_size();
    f->maplen = guard + PL_FIBER_STACK;
    f->map = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                  -1, 0);
    if (f->map == MAP_FAILED || mprotect(f->map, guard, PROT_NONE) != 0) {
        if (f->map != MAP_FAILED)
            munmap(f->map, f->maplen);
        free(f);
        return NULL;
    }
#ifdef PL_VALGRIND
    f->vg_id = VALGRIND_STACK_REGISTER((char *)f->map + guard, (char *)f->map + f->maplen);
#endif
    return f;
}

static void free_fiber(pl_fiber_t *f)
{
#ifdef PL_VALGRIND
    VALGRIND_STACK_DEREGISTER(f->vg_id);
#endif
    munmap(f->map, f->maplen);
    free(f);
}

static void recycle(pl_fiber_t *f)
{
#ifdef PL_ASAN
    /* the last frame of the ended fiber left its red zones poisoned: the next starts clean */
    ASAN_UNPOISON_MEMORY_REGION((char *)f->map + page_size(), PL_FIBER_STACK);
#endif
    if (npool < POOL_MAX)
        pool[npool++] = f;
    else
        free_fiber(f);
}

/* Switches from the resumer into f; returns when f waits or ends. */
static void switch_in(pl_fiber_t *f)
{
    f->outer = running;
    running = f;
#ifdef PL_ASAN
    void *fake = NULL;
    size_t guard = page_size();
    __sanitizer_start_switch_fiber(&fake, (char *)f->map + guard, PL_FIBER_STACK);
    swapcontext(&f->back, &f->ctx);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    swapcontext(&f->back, &f->ctx);
#endif
    running = f->outer;
}

/* Switches from f back to its resumer. A fiber that ended leaves its stack for good. */
static void switch_out(pl_fiber_t *f)
{
#ifdef PL_ASAN
    __sanitizer_start_switch_fiber(f->done ? NULL : &f->fake, f->back_bottom, f->back_size);
    swapcontext(&f->ctx, &f->back);
    __sanitizer_finish_switch_fiber(f->fake, &f->back_bottom, &f->back_size);
#else
    swapcontext(&f->ctx, &f->back);
#endif
}

/* The first code on a new stack. makecontext passes ints only: the fiber is `running`. */
static void trampoline(void)
{
    pl_fiber_t *f = running;
#ifdef PL_ASAN
    __sanitizer_finish_switch_fiber(NULL, &f->back_bottom, &f->back_size);
#endif
    f->fn(f->arg);
    f->done = 1;
    switch_out(f);
    abort(); /* never resumed after it ended */
}

/* getcontext returns twice as far as the compiler knows (like setjmp): kept out of the
 * caller so that none of its variables can be clobbered. */
static __attribute__((noinline)) int prepare(pl_fiber_t *f)
{
    if (getcontext(&f->ctx) != 0)
        return -1;
    f->ctx.uc_stack.ss_sp = (char *)f->map + page_size();
    f->ctx.uc_stack.ss_size = PL_FIBER_STACK;
    f->ctx.uc_link = NULL;
    makecontext(&f->ctx, trampoline, 0);
    return 0;
}

int pl_fiber_start(pl_fiber_fn fn, void *arg, pl_fiber_t **out)
{
    *out = NULL;
    pl_fiber_t *f = new_fiber();
    if (f == NULL)
        return PL_ENOMEM;
    f->fn = fn;
    f->arg = arg;
    f->done = 0;
    f->fake = NULL;
    if (prepare(f) != 0) {
        recycle(f);
        return PL_ENOMEM;
    }
    switch_in(f);
    if (f->done) {
        recycle(f);
        return 0;
    }
    *out = f;
    return 0;
}

pl_fiber_t *pl_fiber_current(void)
{
    return running;
}

void pl_fiber_wait(void)
{
    pl_fiber_t *f = running;
    if (f == NULL)
        abort(); /* waiting outside a fiber would wait forever */
    switch_out(f);
}

int pl_fiber_resume(pl_fiber_t *f)
{
    if (f == running || f->done)
        abort();
    switch_in(f);
    if (!f->done)
        return 0;
    recycle(f);
    return 1;
}

void pl_fiber_release_pool(void)
{
    while (npool > 0)
        free_fiber(pool[--npool]);
}
