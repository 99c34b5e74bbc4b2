/* Diagnostics for authors: collected, not thrown. Every problem of a bot is kept with its
 * file:line:column and printed the way compilers do, with the source line and a caret,
 * so editors and CI can read them. */
#ifndef PL_DIAG_H
#define PL_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { PL_DIAG_ERROR, PL_DIAG_WARNING, PL_DIAG_NOTE } pl_diag_level_t;

typedef struct {
    char *file; /* owned copy */
    int line;   /* 1-based; 0 when the problem concerns the whole file */
    int col;    /* 1-based, in characters */
    int len;    /* characters to underline (at least 1) */
    pl_diag_level_t level;
    char *msg;  /* owned */
    size_t seq; /* order of reporting, keeps sorting stable */
} pl_diag_t;

typedef struct pl_diag_source pl_diag_source_t;

typedef struct {
    pl_diag_t *items;
    size_t n, cap;
    size_t errors, warnings;
    pl_diag_source_t *sources; /* texts to show source lines from */
    size_t nsources;
    int oom; /* a diagnostic could not be stored */
} pl_diags_t;

void pl_diags_init(pl_diags_t *d);
void pl_diags_cleanup(pl_diags_t *d);

/* Keeps a copy of a file's text so printed diagnostics can quote its lines.
 * Diagnostics sort by the order in which their files were registered. */
void pl_diags_add_source(pl_diags_t *d, const char *path, const char *text, size_t len);

/* Records one diagnostic. file may be NULL (no position). Never fails: on allocation failure
 * the diagnostic is counted and d->oom is set. */
void pl_diag(pl_diags_t *d, pl_diag_level_t level, const char *file, int line, int col, int len,
             const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Orders diagnostics by file (registration order), line, column, then reporting order. */
void pl_diags_sort(pl_diags_t *d);

/* Prints every diagnostic in compiler format with the quoted line and a caret. */
void pl_diags_print(const pl_diags_t *d, FILE *out);

/* Levenshtein distance between a and b, capped at max+1 (cheap for "did you mean"). */
int pl_edit_distance(const char *a, const char *b, int max);
/* Of n candidates, the closest to word within a sensible distance, or NULL. */
const char *pl_did_you_mean(const char *word, const char *const *candidates, size_t n);

#endif
