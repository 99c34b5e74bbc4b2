/* Private to runtime/dialog: the state shared by the loader's files (loader.c reads
 * files and simple sections, loader_flow.c reads texts, conditions, flows and steps,
 * validate.c checks the finished model, loader_util.c holds what they all use). */
#ifndef PL_LOADER_INT_H
#define PL_LOADER_INT_H

#include "dialog/bot.h"
#include "dialog/yaml_tree.h"

#define PL__MAX_FILES 64

typedef struct {
    pl_bot_t *bot;
    pl_diags_t *d;
    pl_ydoc_t docs[PL__MAX_FILES];
    size_t ndocs;
    const char *text; /* the main file's text when it comes from memory, else NULL */
    size_t textlen;
    int oom;
} pl__loader_t;

/* Diagnostics at a node's position. */
void pl__err(pl__loader_t *L, const pl_ynode_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pl__warn(pl__loader_t *L, const pl_ynode_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pl__err_at(pl__loader_t *L, const pl_pos_t *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pl__warn_at(pl__loader_t *L, const pl_pos_t *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
pl_pos_t pl__pos(const pl_ynode_t *n);

/* Reports keys of map not in allowed (with "did you mean"); what names the mapping. */
void pl__check_keys(pl__loader_t *L, const pl_ynode_t *map, const char *const *allowed,
                    size_t nallowed, const char *what);
/* Type checks that report "'what' must be ..., not ..." and return 0 on mismatch. */
int pl__want_map(pl__loader_t *L, const pl_ynode_t *n, const char *what);
int pl__want_seq(pl__loader_t *L, const pl_ynode_t *n, const char *what);
int pl__want_text(pl__loader_t *L, const pl_ynode_t *n, const char *what);
/* An id: letters, digits, '_', '-' and '.'; reports and returns 0 otherwise. */
int pl__want_id(pl__loader_t *L, const pl_ynode_t *n, const char *what);
/* Reads a whole number in [min, max]; returns 0 on error (reported). */
int pl__want_int(pl__loader_t *L, const pl_ynode_t *n, const char *what, long min, long max,
                 long *out);
int pl__want_number(pl__loader_t *L, const pl_ynode_t *n, const char *what, double *out);

/* Copies a string into the bot's arena (sets L->oom on failure and returns ""). */
const char *pl__str(pl__loader_t *L, const char *s);
void *pl__alloc(pl__loader_t *L, size_t count, size_t size);

/* Reports an unknown id with a suggestion from the candidate ids. */
void pl__unknown(pl__loader_t *L, const pl_ynode_t *n, const char *kind, const char *name,
                 const char *const *ids, size_t nids);
/* The same with the candidates taken from an array of the bot's model (intents, slots,
 * offers, flows, entities: each starts with its `const char *id`). */
void pl__unknown_of(pl__loader_t *L, const pl_ynode_t *n, const char *kind, const char *name,
                    const void *array, size_t count, size_t stride);
#define PL__UNKNOWN(L, n, kind, name, array, count)                                                \
    pl__unknown_of((L), (n), (kind), (name), (array), (count), sizeof(*(array)))

/* loader_offers.c: the offer catalogue and its categories (read before flows; offers'
 * eligibility conditions after every other section they may name) */
void pl__read_categories(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals,
                         size_t n);
void pl__read_offers(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n);
void pl__read_offer_conditions(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals,
                               size_t n);

/* loader_flow.c */
/* Reads the condition n into c; returns 0 after reporting a problem. */
int pl__read_cond(pl__loader_t *L, const pl_ynode_t *n, pl_cond_t *c);
int pl__read_text(pl__loader_t *L, const pl_ynode_t *n, pl_text_t *out, const char *what);
void pl__read_flows(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n);
void pl__read_fallback(pl__loader_t *L, const pl_ynode_t *n);
/* Checks the {{placeholders}} of every string in a text. */
void pl__check_templates(pl__loader_t *L, const pl_ynode_t *n, const char *s);

/* loader_persona.c */
void pl__read_signals(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n);
void pl__read_personas(pl__loader_t *L, const pl_ynode_t **keys, const pl_ynode_t **vals, size_t n);
/* Warns about German texts that mix "du" and "Sie", and notes which form each tone uses. */
void pl__check_address(pl__loader_t *L);

/* builtin_intents.c */
void pl__add_builtin_intents(pl__loader_t *L);
/* loader_caps.c */
void pl__read_capabilities(pl__loader_t *L, const pl_ynode_t *n);
void pl__read_disclosure(pl__loader_t *L, const pl_ynode_t *meta);
void pl__check_honesty(pl__loader_t *L);

/* validate.c: checks that need the whole model (reachability, ways out, unused intents). */
void pl__validate(pl__loader_t *L, int had_errors);

#endif
