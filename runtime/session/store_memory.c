/* The memory store: for tests, benchmarks and single runs; gone when the process ends.
 * Customers and links live in two chained hash tables that double as they fill, so lookups
 * stay constant-time however many customers a benchmark creates. */
#include "session/store.h"
#include "base/error.h"
#include "base/hash.h"
#include "base/mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;   /* customer id, or "channel\x1fuser" for a link */
    char *value; /* document, or customer id */
    int64_t version;
    struct entry *next;
} entry_t;

typedef struct {
    entry_t **slot;
    size_t nslots, count; /* nslots is a power of two, or 0 before the first put */
} table_t;

typedef struct {
    pl_store_t base;
    table_t docs, links;
    table_t codes;    /* code -> customer, version: expiry in ms */
    table_t attempts; /* "channel\x1fuser" -> window start in ms (decimal), version: count */
} mem_t;

/* Colliding keys only make a chain longer, never wrong; this store does not face untrusted
 * traffic (the servers use SQLite or Redis), so the fast non-keyed hash is fine. */
static size_t hash(const char *k)
{
    return (size_t)pl_hash(k, strlen(k));
}

static entry_t **where(table_t *t, const char *key)
{
    if (t->nslots == 0)
        return NULL;
    entry_t **e = &t->slot[hash(key) & (t->nslots - 1)];
    while (*e != NULL && strcmp((*e)->key, key) != 0)
        e = &(*e)->next;
    return e;
}

static entry_t *find(table_t *t, const char *key)
{
    entry_t **e = where(t, key);
    return e ? *e : NULL;
}

static int grow(table_t *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 64;
    entry_t **slot = pl_calloc(n, sizeof(*slot));
    if (slot == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < t->nslots; i++)
        for (entry_t *e = t->slot[i], *next; e != NULL; e = next) {
            next = e->next;
            size_t j = hash(e->key) & (n - 1);
            e->next = slot[j];
            slot[j] = e;
        }
    pl_free(t->slot);
    t->slot = slot;
    t->nslots = n;
    return 0;
}

static int put(table_t *t, const char *key, const char *value, int64_t version)
{
    char *v = pl_strdup(value);
    if (v == NULL)
        return PL_ENOMEM;
    entry_t *x = find(t, key);
    if (x != NULL) {
        pl_free(x->value);
        x->value = v;
        x->version = version;
        return 0;
    }
    if (t->count >= t->nslots && grow(t) != 0) {
        pl_free(v);
        return PL_ENOMEM;
    }
    entry_t *e = pl_malloc(sizeof(*e));
    char *k = pl_strdup(key);
    if (e == NULL || k == NULL) {
        pl_free(e);
        pl_free(k);
        pl_free(v);
        return PL_ENOMEM;
    }
    entry_t **at = &t->slot[hash(key) & (t->nslots - 1)];
    *e = (entry_t){k, v, version, *at};
    *at = e;
    t->count++;
    return 0;
}

static void unlink_entry(table_t *t, entry_t **at)
{
    entry_t *e = *at;
    *at = e->next;
    pl_free(e->key);
    pl_free(e->value);
    pl_free(e);
    t->count--;
}

static void clear(table_t *t)
{
    for (size_t i = 0; i < t->nslots; i++)
        while (t->slot[i] != NULL)
            unlink_entry(t, &t->slot[i]);
    pl_free(t->slot);
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
    entry_t *x = find(&((mem_t *)s)->docs, customer);
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
    table_t *docs = &((mem_t *)s)->docs;
    entry_t *x = find(docs, customer);
    int64_t now = x ? x->version : 0;
    if (now != expected)
        return PL_ECONFLICT;
    int rc = put(docs, customer, doc, now + 1);
    if (rc == 0)
        *version = now + 1;
    return rc;
}

static int m_link(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    char *k = link_key(channel, user);
    if (k == NULL)
        return PL_ENOMEM;
    int rc = put(&((mem_t *)s)->links, k, customer, 0);
    pl_free(k);
    return rc;
}

static int m_link_new(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    char *k = link_key(channel, user);
    if (k == NULL)
        return PL_ENOMEM;
    table_t *links = &((mem_t *)s)->links;
    int rc = find(links, k) ? PL_ECONFLICT : put(links, k, customer, 0);
    pl_free(k);
    return rc;
}

static int m_relink(pl_store_t *s, const char *from, const char *to)
{
    table_t *links = &((mem_t *)s)->links;
    for (size_t i = 0; i < links->nslots; i++)
        for (entry_t *e = links->slot[i]; e != NULL; e = e->next)
            if (strcmp(e->value, from) == 0) {
                char *v = pl_strdup(to);
                if (v == NULL)
                    return PL_ENOMEM;
                pl_free(e->value);
                e->value = v;
            }
    return 0;
}

static int m_resolve(pl_store_t *s, const char *channel, const char *user, char **customer)
{
    char *k = link_key(channel, user);
    if (k == NULL)
        return PL_ENOMEM;
    entry_t *x = find(&((mem_t *)s)->links, k);
    pl_free(k);
    if (x == NULL)
        return PL_ENOTFOUND;
    char *c = pl_strdup(x->value);
    if (c == NULL)
        return PL_ENOMEM;
    *customer = c;
    return 0;
}

/* Drops every entry of t whose value is v. */
static void drop_by_value(table_t *t, const char *v)
{
    for (size_t i = 0; i < t->nslots; i++)
        for (entry_t **e = &t->slot[i]; *e != NULL;)
            if (strcmp((*e)->value, v) == 0)
                unlink_entry(t, e);
            else
                e = &(*e)->next;
}

static int m_erase(pl_store_t *s, const char *customer)
{
    mem_t *m = (mem_t *)s;
    entry_t **at = where(&m->docs, customer);
    if (at != NULL && *at != NULL)
        unlink_entry(&m->docs, at);
    drop_by_value(&m->codes, customer);
    /* Attempt counts are keyed like links: drop those of the customer's channel users. */
    for (size_t i = 0; i < m->links.nslots; i++)
        for (entry_t *e = m->links.slot[i]; e != NULL; e = e->next)
            if (strcmp(e->value, customer) == 0) {
                entry_t **a = where(&m->attempts, e->key);
                if (a != NULL && *a != NULL)
                    unlink_entry(&m->attempts, a);
            }
    /* Links are keyed by channel user, so finding a customer's links means a full scan:
     * erasure is rare, and this store is not for production sizes. */
    drop_by_value(&m->links, customer);
    return 0;
}

static int m_code_put(pl_store_t *s, const char *code, const char *customer, int64_t now_ms,
                      int64_t expires_ms)
{
    table_t *codes = &((mem_t *)s)->codes;
    entry_t *x = find(codes, code);
    if (x != NULL && x->version > now_ms)
        return PL_ECONFLICT;
    return put(codes, code, customer, expires_ms);
}

static int m_code_take(pl_store_t *s, const char *code, char **customer, int64_t *expires_ms)
{
    table_t *codes = &((mem_t *)s)->codes;
    entry_t **at = where(codes, code);
    if (at == NULL || *at == NULL)
        return PL_ENOTFOUND;
    /* Hand over the value instead of copying it: nothing can fail after the find. */
    *customer = (*at)->value;
    *expires_ms = (*at)->version;
    (*at)->value = NULL;
    unlink_entry(codes, at);
    return 0;
}

static int m_attempts(pl_store_t *s, const char *channel, const char *user, int64_t now_ms,
                      int64_t window_ms, int add, int64_t *count)
{
    table_t *t = &((mem_t *)s)->attempts;
    char *k = link_key(channel, user);
    if (k == NULL)
        return PL_ENOMEM;
    entry_t *x = find(t, k);
    int64_t start = x ? strtoll(x->value, NULL, 10) : now_ms, n = x ? x->version : 0;
    if (now_ms >= start + window_ms) {
        start = now_ms;
        n = 0;
    }
    int rc = 0;
    if (add > 0) {
        char v[24];
        snprintf(v, sizeof(v), "%" PRId64, n == 0 ? now_ms : start);
        n += add;
        rc = put(t, k, v, n);
    }
    pl_free(k);
    if (rc == 0)
        *count = n;
    return rc;
}

static void m_close(pl_store_t *s)
{
    mem_t *m = (mem_t *)s;
    clear(&m->docs);
    clear(&m->links);
    clear(&m->codes);
    clear(&m->attempts);
    pl_free(m);
}

static const pl_store_ops_t memory_ops = {
    .load = m_load,
    .save = m_save,
    .link = m_link,
    .resolve = m_resolve,
    .erase = m_erase,
    .close = m_close,
    .code_put = m_code_put,
    .code_take = m_code_take,
    .attempts = m_attempts,
    .link_new = m_link_new,
    .relink = m_relink,
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
