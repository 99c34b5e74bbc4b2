/* The expectations of `parley test` (format in dialogs/README.md, "Conversation tests"):
 * checking their shape when a test file is loaded, and checking them after each turn.
 * Private to the parley command: cmd_test.c runs the conversations, this checks them. */
#ifndef PL_TEST_EXPECT_H
#define PL_TEST_EXPECT_H

#include "base/diag.h"
#include "dialog/yaml_tree.h"
#include "runtime.h"

#include <stddef.h>

#define PL_TEST_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One run of `parley test`, shared by the conversations of a test file. */
typedef struct {
    pl_diags_t *d;    /* problems with the test file itself */
    int failures;     /* of the current conversation */
    const char *conv; /* the current conversation's name */
} pl_test_run_t;

/* What one turn did, to check its expectations against. All borrowed. */
typedef struct {
    int number;         /* 1-based, for the failure line */
    const char *action; /* NULL for a message, or "accept" / "decline" */
    const char *text;   /* the message, or the offer id of accept/decline */
    const pl_bot_t *bot;
    const pl_turn_t *turn;
    const cJSON *state; /* the committed state after the turn */
    int new_customer;   /* the turn's customer differs from the previous turn's */
} pl_test_turn_t;

/* Reports a key of map not in keys[0..n-1] as a test-file error with a "did you mean" guess.
 * Returns 1 when every key is known. */
int pl_test_check_keys(pl_test_run_t *r, const pl_ynode_t *map, const char *const *keys, size_t n,
                       const char *what);
/* Reports msg at n as a test-file error; returns 0. */
int pl_test_bad(pl_test_run_t *r, const pl_ynode_t *n, const char *msg);

/* Prints one failure at the position `at` in the test file, after "FAIL name" for the first
 * failure of the conversation. t NULL: a failure of the conversation, not of one turn. */
void pl_test_fail(pl_test_run_t *r, const pl_ynode_t *at, const pl_test_turn_t *t, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Checks the shape of the expectations of the turn mapping tn; returns 1 when all are fine. */
int pl_test_valid_expectations(pl_test_run_t *r, const pl_ynode_t *tn);
/* Checks every expectation of the turn mapping tn against what the turn did. */
void pl_test_check_turn(pl_test_run_t *r, const pl_ynode_t *tn, const pl_test_turn_t *t);

#endif
