/* Unit tests of runtime/base: error names, capped buffers, the arena, diagnostics printing
 * and "did you mean". */
#include "test_helpers.h"

#include "base/arena.h"
#include "base/mem.h"
#include "base/strbuf.h"

static void error_codes_have_names_and_texts(void **state)
{
    (void)state;
    assert_string_equal(pl_err_name(PL_ENOMEM), "PL_ENOMEM");
    assert_string_equal(pl_strerror(PL_ENOMEM), "out of memory");
    assert_string_equal(pl_err_name(0), "PL_OK");
    assert_string_equal(pl_err_name(-999), "PL_EUNKNOWN");
    assert_true(PL_ENOMEM < 0 && PL_EINVAL < 0 && PL_ENOMEM != PL_EINVAL);
}

static void strbuf_refuses_to_grow_past_its_maximum(void **state)
{
    (void)state;
    pl_strbuf_t b;
    pl_strbuf_init(&b, 8);
    assert_int_equal(pl_strbuf_puts(&b, "12345678"), 0);
    assert_int_equal(pl_strbuf_putc(&b, '9'), PL_ELIMIT);
    assert_string_equal(pl_strbuf_str(&b), "12345678"); /* unchanged on failure */
    pl_strbuf_clear(&b);
    assert_int_equal(pl_strbuf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(pl_strbuf_str(&b), "42-x");
    pl_strbuf_cleanup(&b);
}

static void arena_aligns_resets_and_handles_big_blocks(void **state)
{
    (void)state;
    pl_arena_t a;
    pl_arena_init(&a, 256);
    for (int i = 0; i < 100; i++) {
        void *p = pl_arena_alloc(&a, (size_t)(i % 13) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    }
    char *big = pl_arena_alloc(&a, 10000);
    assert_non_null(big);
    memset(big, 1, 10000);
    assert_string_equal(pl_arena_printf(&a, "%s=%d", "n", 5), "n=5");
    pl_arena_reset(&a);
    assert_int_equal(a.total, 0);
    assert_non_null(pl_arena_strdup(&a, "again"));
    pl_arena_cleanup(&a);
}

static void allocation_failures_can_be_injected(void **state)
{
    (void)state;
    pl_mem_fail_after(1);
    void *a = pl_malloc(10);
    void *b = pl_malloc(10);
    pl_mem_fail_reset();
    assert_non_null(a);
    assert_null(b);
    pl_free(a);
}

static void diagnostics_print_sorted_with_source_line_and_caret(void **state)
{
    (void)state;
    pl_diags_t d;
    pl_diags_init(&d);
    const char *src = "bot:\n  naem: x\n  id: ü\tz\n";
    pl_diags_add_source(&d, "b.yaml", src, strlen(src));
    pl_diag(&d, PL_DIAG_WARNING, "b.yaml", 3, 7, 1, "second");
    pl_diag(&d, PL_DIAG_ERROR, "b.yaml", 2, 3, 4, "first");
    pl_diag(&d, PL_DIAG_ERROR, "b.yaml", 0, 0, 0, "whole file");
    pl_diags_sort(&d);
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    pl_diags_print(&d, f);
    fclose(f);
    assert_string_equal(buf, "b.yaml: error: whole file\n"
                             "b.yaml:2:3: error: first\n"
                             "    2 |   naem: x\n"
                             "      |   ^~~~\n"
                             "b.yaml:3:7: warning: second\n"
                             "    3 |   id: ü z\n"
                             "      |       ^\n");
    assert_int_equal(d.errors, 2);
    assert_int_equal(d.warnings, 1);
    free(buf);
    pl_diags_cleanup(&d);
}

static void did_you_mean_suggests_only_close_words(void **state)
{
    (void)state;
    const char *const keys[] = {"steps", "trigger", "examples"};
    assert_string_equal(pl_did_you_mean("stepz", keys, 3), "steps");
    assert_string_equal(pl_did_you_mean("exampels", keys, 3), "examples");
    assert_null(pl_did_you_mean("colour", keys, 3));
    assert_int_equal(pl_edit_distance("kitten", "sitting", 5), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_codes_have_names_and_texts),
        cmocka_unit_test(strbuf_refuses_to_grow_past_its_maximum),
        cmocka_unit_test(arena_aligns_resets_and_handles_big_blocks),
        cmocka_unit_test(allocation_failures_can_be_injected),
        cmocka_unit_test(diagnostics_print_sorted_with_source_line_and_caret),
        cmocka_unit_test(did_you_mean_suggests_only_close_words),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
