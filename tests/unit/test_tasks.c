/* Unit tests of channels/task.c, without a network: a task that waits (as for Redis) keeps
 * its connection alive after the connection is gone; messages that come while a task runs
 * start in order, from the loop, once it ends; at most PL_SRV_TASKS_MAX tasks run at once. */
#include "test_helpers.h"

#include "base/fiber.h"
#include "server_int.h"

#include <stdlib.h>
#include <string.h>

static pl_server_t srv;
static pl_fiber_t *waiting[PL_SRV_TASKS_MAX + 8];
static int nwaiting;
static char order[64];

/* Notes its text, then waits until resumed (a store call that waits for Redis). */
static void waits(pl_task_t *t)
{
    strncat(order, t->text ? t->text : "-", sizeof(order) - strlen(order) - 1);
    waiting[nwaiting++] = pl_fiber_current();
    pl_fiber_wait();
}

/* Notes its text and ends at once (a store that never waits). */
static void notes(pl_task_t *t)
{
    strncat(order, t->text, sizeof(order) - strlen(order) - 1);
}

static char *text(const char *s)
{
    return strdup(s);
}

static pl_conn_t *conn(void)
{
    pl_conn_t *c = calloc(1, sizeof(*c));
    c->srv = &srv;
    c->refs = 1;                 /* libwebsockets' own */
    c->wsi = (struct lws *)&srv; /* never used by task.c, only tested for NULL */
    return c;
}

static int setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    uv_loop_init(&srv.loop);
    pl__tasks_init(&srv, notes);
    nwaiting = 0;
    order[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pl__tasks_close(&srv);
    for (int i = 0; i < 100 && uv_loop_close(&srv.loop) == UV_EBUSY; i++)
        uv_run(&srv.loop, UV_RUN_NOWAIT);
    return 0;
}

static void a_waiting_task_outlives_its_connection(void **state)
{
    (void)state;
    pl_conn_t *c = conn();
    assert_int_equal(pl__task_start(c, waits, text("a"), 1), 0);
    assert_true(c->busy);
    assert_int_equal(srv.tasks, 1);
    assert_int_equal(c->refs, 2); /* the task holds it */
    c->wsi = NULL;                /* the connection went (pl__conn_gone) ... */
    pl__conn_release(c);          /* ... and libwebsockets let go */
    assert_int_equal(c->refs, 1); /* still there for the task (ASan would see a free) */
    assert_int_equal(pl_fiber_resume(waiting[0]), 1);
    assert_int_equal(srv.tasks, 0); /* and freed with it */
}

static void messages_that_come_meanwhile_start_in_order_from_the_loop(void **state)
{
    (void)state;
    pl_conn_t *c = conn();
    assert_int_equal(pl__task_start(c, waits, text("1"), 1), 0);
    assert_int_equal(pl__task_queue(c, "2", 1), 0);
    assert_int_equal(pl__task_queue(c, "3", 1), 0);
    uv_run(&srv.loop, UV_RUN_NOWAIT);
    assert_string_equal(order, "1"); /* nothing starts while the first waits */
    assert_int_equal(pl_fiber_resume(waiting[0]), 1);
    assert_string_equal(order, "1"); /* not from inside the ending fiber either */
    uv_run(&srv.loop, UV_RUN_NOWAIT);
    assert_string_equal(order, "12");
    uv_run(&srv.loop, UV_RUN_NOWAIT);
    assert_string_equal(order, "123");
    assert_int_equal(c->nq, 0);
    assert_false(c->busy);
    pl__conn_release(c);
}

static void too_many_waiting_messages_are_refused(void **state)
{
    (void)state;
    pl_conn_t *c = conn();
    assert_int_equal(pl__task_start(c, waits, text("w"), 1), 0);
    for (int i = 0; i < PL_SRV_WAITING_MAX; i++)
        assert_int_equal(pl__task_queue(c, "x", 1), 0);
    assert_int_equal(pl__task_queue(c, "y", 1), PL_ELIMIT);
    assert_int_equal(pl_fiber_resume(waiting[0]), 1);
    c->wsi = NULL; /* gone: what waited is dropped with it */
    uv_run(&srv.loop, UV_RUN_NOWAIT);
    assert_int_equal(srv.tasks, 0);
    pl__conn_release(c);
}

static void at_most_the_limit_of_tasks_run_at_once(void **state)
{
    (void)state;
    enum { N = PL_SRV_TASKS_MAX };
    pl_conn_t **cs = calloc(N + 1, sizeof(*cs));
    for (int i = 0; i <= N; i++)
        cs[i] = conn();
    for (int i = 0; i < N; i++)
        assert_int_equal(pl__task_start(cs[i], waits, NULL, 0), 0);
    assert_int_equal(srv.tasks, N);
    assert_int_equal(pl__task_start(cs[N], waits, text("late"), 4), PL_ELIMIT);
    assert_false(cs[N]->busy);
    for (int i = 0; i < N; i++)
        assert_int_equal(pl_fiber_resume(waiting[i]), 1);
    assert_int_equal(srv.tasks, 0);
    nwaiting = 0;
    assert_int_equal(pl__task_start(cs[N], waits, NULL, 0), 0); /* room again */
    assert_int_equal(pl_fiber_resume(waiting[0]), 1);
    for (int i = 0; i <= N; i++)
        pl__conn_release(cs[i]);
    free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_waiting_task_outlives_its_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(messages_that_come_meanwhile_start_in_order_from_the_loop,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_waiting_messages_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(at_most_the_limit_of_tasks_run_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
