/* YAML files as a small tree that remembers where every node came from (file:line:column),
 * so every later check can point the author at the exact spot. Built with libyaml's event
 * parser under hard limits: size, depth, node count; no tabs in indentation, no anchors or
 * aliases, valid UTF-8, one document per file. */
#ifndef PL_YAML_TREE_H
#define PL_YAML_TREE_H

#include "base/arena.h"
#include "base/diag.h"

#include <stddef.h>

#define PL_YAML_MAX_BYTES (1024 * 1024)
#define PL_YAML_MAX_DEPTH 64
#define PL_YAML_MAX_NODES 100000

typedef enum { PL_Y_SCALAR, PL_Y_SEQ, PL_Y_MAP } pl_ykind_t;

typedef struct pl_ynode pl_ynode_t;
struct pl_ynode {
    pl_ykind_t kind;
    const char *file; /* borrowed from the document */
    int line, col;    /* 1-based; column in characters */
    int len;          /* characters to underline for this node */
    const char *str;  /* scalar text, NUL-terminated; NULL for collections */
    size_t slen;
    int plain; /* scalar was written without quotes */
    /* A sequence has n items in kids[0..n-1]; a mapping has n pairs with the key at
     * kids[2i] and the value at kids[2i+1]. */
    pl_ynode_t **kids;
    size_t n;
};

typedef struct {
    pl_arena_t arena; /* owns every node and string */
    const char *file;
    pl_ynode_t *root; /* NULL when the file could not be parsed */
} pl_ydoc_t;

/* Reads path and parses it into doc. Problems go to d (the file's text is registered there
 * so diagnostics can quote it). Returns 0 on success, PL_ENOENT/PL_EIO when the file cannot
 * be read, PL_EINVALID when it is not an acceptable YAML document, PL_ENOMEM.
 * Always call pl_ydoc_cleanup afterwards. */
int pl_ydoc_load(pl_ydoc_t *doc, const char *path, pl_diags_t *d);
/* Same for text already in memory; path is used for diagnostics. */
int pl_ydoc_parse(pl_ydoc_t *doc, const char *path, const char *text, size_t len, pl_diags_t *d);
void pl_ydoc_cleanup(pl_ydoc_t *doc);

/* The key node (for positions) of key in a mapping node, or NULL. */
const pl_ynode_t *pl_ymap_key(const pl_ynode_t *map, const char *key);
/* The value of key in a mapping node, or NULL. */
const pl_ynode_t *pl_ymap_get(const pl_ynode_t *map, const char *key);
/* Reads a yes/no scalar: true, yes, false, no in any case. Returns 1 and sets *out, or 0
 * when the node is not one of those. */
int pl_ynode_bool(const pl_ynode_t *n, int *out);
/* True for a plain scalar that YAML reads as null ("", "~", "null"). */
int pl_ynode_is_null(const pl_ynode_t *n);
/* The node's kind for messages: "a text", "a list", "a mapping" or "nothing". */
const char *pl_ynode_kind_name(const pl_ynode_t *n);

#endif
