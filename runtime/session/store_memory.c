/* The memory store: for tests and single runs. Customers and links in two small tables that
 * grow as needed; lookups are linear, which is fine at test sizes. */
#include "session/store.h"
#include "base/error.h"
#include "base/mem.h"

#include <string.h>

typedef struct {
    char *key;   /* customer id, or "channel\x1fuser" for a link */
    char *value; /* document, or customer id */
    int64_t version;
} entry_t;

typedef struct {
    pl_store_t base;
    entry_t *docs, *links;
    size_t ndocs, nlinks, capdocs, caplinks;
} mem_t;

static entry_t *find(entry_t *e, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].key, key) == 0)
            return &e[i];
    return NULL;
}

static int put(entry_t **e, size_t *n, size_t *cap, const char *key, const char *value,
               int64_t version)
{
    entry_t *x = find(*e, *n, key);
    char *v = pl_strdup(value);
    if (v == NULL)
        return PL_ENOMEM;
    if (x != NULL) {
        pl_free(x->value);
        x->value = v;
        x->version = version;
        return 0;
    }
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        entry_t *grown = pl_realloc(*e, c * sizeof(*grown));
        if (grown == NULL) {
            pl_free(v);
            return PL_ENOMEM;
        }
        *e = grown;
        *cap = c;
    }
    char *k = pl_strdup(key);
    if (k == NULL) {
        pl_free(v);
        return PL_ENOMEM;
    }
    (*e)[(*n)++] = (entry_t){k, v, version};
    return 0;
}

static void drop(entry_t *e, size_t *n, size_t i)
{
    pl_free(e[i].key);
    pl_free(e[i].value);
    e[i] = e[--*n];
}

static char *link_key(const char *channel, const char *user)
{
    size_t a = strlen(channel), b = strlen(user);
    char *k = pl_malloc(a + b + 2);
    if (k == NULL)
        return NULL;
    memcpy(k, channel, a);
    k[a] = '\x1f';
    memcpy(k + a + 1, user, b + 1);
    return k;
}

static int m_load(pl_store_t *s, const char *customer, char **doc, int64_t *version)
{
    mem_t *m = (mem_t *)s;
    entry_t *x = find(m->docs, m->ndocs, customer);
    if (x == NULL)
        return PL_ENOTFOUND;
    char *d = pl_strdup(x->value);
    if (d == NULL)
        return PL_ENOMEM;
    *doc = d;
    *version = x->version;
    return 0;
}

static int m_save(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                  int64_t *version)
{
    mem_t *m = (mem_t *)s;
    entry_t *x = find(m->docs, m->ndocs, customer);
    int64_t now = x ? x->version : 0;
    if (now != expected)
        return PL_ECONFLICT;
    int rc = put(&m->docs, &m->ndocs, &m->capdocs, customer, doc, now + 1);
    if (rc == 0)
        *version = now + 1;
    return rc;
}

static int m_link(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    mem_t *m = (mem_t *)s;
    char *k = link_key(channel, user);
    if (k == NULL)
        return PL_ENOMEM;
    int rc = put(&m->links, &m->nlinks, &m->caplinks, k, customer, 0);
    pl_free(k);
    return rc;
}

static int m_resolve(pl_store_t *s, const char *channel, const char *user, char **customer)
{
    mem_t *m = (mem_t *)s;
    char *k = link_key(channel, user);
    if (k == NULL)
        return PL_ENOMEM;
    entry_t *x = find(m->links, m->nlinks, k);
    pl_free(k);
    if (x == NULL)
        return PL_ENOTFOUND;
    char *c = pl_strdup(x->value);
    if (c == NULL)
        return PL_ENOMEM;
    *customer = c;
    return 0;
}

static int m_erase(pl_store_t *s, const char *customer)
{
    mem_t *m = (mem_t *)s;
    for (size_t i = 0; i < m->ndocs;)
        if (strcmp(m->docs[i].key, customer) == 0)
            drop(m->docs, &m->ndocs, i);
        else
            i++;
    for (size_t i = 0; i < m->nlinks;)
        if (strcmp(m->links[i].value, customer) == 0)
            drop(m->links, &m->nlinks, i);
        else
            i++;
    return 0;
}

static void m_close(pl_store_t *s)
{
    mem_t *m = (mem_t *)s;
    while (m->ndocs)
        drop(m->docs, &m->ndocs, 0);
    while (m->nlinks)
        drop(m->links, &m->nlinks, 0);
    pl_free(m->docs);
    pl_free(m->links);
    pl_free(m);
}

static const pl_store_ops_t memory_ops = {
    .version = 1,
    .name = "memory",
    .load = m_load,
    .save = m_save,
    .link = m_link,
    .resolve = m_resolve,
    .erase = m_erase,
    .close = m_close,
};

int pl__store_memory_open(pl_store_t **out)
{
    mem_t *m = pl_calloc(1, sizeof(*m));
    if (m == NULL)
        return PL_ENOMEM;
    m->base.ops = &memory_ops;
    *out = &m->base;
    return 0;
}
