/* Unit tests of runtime/base/fiber: a fiber that never waits ends inside start, one that
 * waits resumes where it stopped with its locals intact, fibers resume each other, a deep
 * stack fits, and stacks are reused. */
#include "test_helpers.h"

#include "base/fiber.h"

#include <string.h>

static void counts(void *arg)
{
    int *n = arg;
    (*n)++;
}

static void a_fiber_that_never_waits_ends_in_start(void **state)
{
    (void)state;
    int n = 0;
    pl_fiber_t *f = (pl_fiber_t *)&n;
    assert_int_equal(pl_fiber_start(counts, &n, &f), 0);
    assert_null(f);
    assert_int_equal(n, 1);
    assert_null(pl_fiber_current());
}

typedef struct {
    int step;
    pl_fiber_t *self;
    char trail[16];
} walker_t;

static void walks(void *arg)
{
    walker_t *w = arg;
    char local[8] = "abc"; /* on the fiber's stack: must survive every wait */
    w->self = pl_fiber_current();
    for (w->step = 1; w->step <= 3; w->step++) {
        size_t n = strlen(w->trail);
        w->trail[n] = local[w->step - 1];
        pl_fiber_wait();
    }
}

static void a_waiting_fiber_resumes_where_it_stopped(void **state)
{
    (void)state;
    walker_t w = {0};
    pl_fiber_t *f = NULL;
    assert_int_equal(pl_fiber_start(walks, &w, &f), 0);
    assert_non_null(f);
    assert_ptr_equal(f, w.self);
    assert_null(pl_fiber_current()); /* back on the thread's own stack */
    assert_string_equal(w.trail, "a");
    assert_int_equal(pl_fiber_resume(f), 0);
    assert_string_equal(w.trail, "ab");
    assert_int_equal(pl_fiber_resume(f), 0);
    assert_string_equal(w.trail, "abc");
    assert_int_equal(pl_fiber_resume(f), 1); /* ended, and freed */
    assert_int_equal(w.step, 4);
}

/* The outer fiber starts an inner one that waits, and later resumes it itself. */
static void inner(void *arg)
{
    int *n = arg;
    (*n) += 10;
    pl_fiber_wait();
    (*n) += 100;
}

static void outer(void *arg)
{
    int *n = arg;
    pl_fiber_t *in = NULL;
    assert_int_equal(pl_fiber_start(inner, n, &in), 0);
    assert_non_null(in);
    pl_fiber_t *me = pl_fiber_current();
    pl_fiber_wait();
    assert_ptr_equal(pl_fiber_current(), me);
    assert_int_equal(pl_fiber_resume(in), 1);
    assert_ptr_equal(pl_fiber_current(), me);
    (*n) += 1000;
}

static void fibers_start_and_resume_each_other(void **state)
{
    (void)state;
    int n = 0;
    pl_fiber_t *f = NULL;
    assert_int_equal(pl_fiber_start(outer, &n, &f), 0);
    assert_non_null(f);
    assert_int_equal(n, 10);
    assert_int_equal(pl_fiber_resume(f), 1);
    assert_int_equal(n, 1110);
}

static int deep(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)(depth % 100);
    pad[1023] = pad[0];
    return depth == 0 ? 0 : deep(depth - 1) + 1 + (pad[1023] - (char)(depth % 100));
}

static void recurses(void *arg)
{
    *(int *)arg = deep(150); /* about 150 KiB of the 256 KiB stack */
}

static void a_deep_stack_fits(void **state)
{
    (void)state;
    int r = -1;
    pl_fiber_t *f = NULL;
    assert_int_equal(pl_fiber_start(recurses, &r, &f), 0);
    assert_null(f);
    assert_int_equal(r, 150);
}

static void many_fibers_reuse_their_stacks(void **state)
{
    (void)state;
    enum { N = 200 };
    walker_t w[N];
    pl_fiber_t *f[N];
    for (int round = 0; round < 20; round++) {
        memset(w, 0, sizeof(w));
        for (int i = 0; i < N; i++)
            assert_int_equal(pl_fiber_start(walks, &w[i], &f[i]), 0);
        for (int step = 0; step < 3; step++)
            for (int i = N - 1; i >= 0; i--)
                assert_int_equal(pl_fiber_resume(f[i]), step == 2);
        for (int i = 0; i < N; i++)
            assert_string_equal(w[i].trail, "abc");
    }
    pl_fiber_release_pool();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_fiber_that_never_waits_ends_in_start),
        cmocka_unit_test(a_waiting_fiber_resumes_where_it_stopped),
        cmocka_unit_test(fibers_start_and_resume_each_other),
        cmocka_unit_test(a_deep_stack_fits),
        cmocka_unit_test(many_fibers_reuse_their_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
