/* The store front: opening a backend by name, and the calls that check their arguments once
 * for every backend (see store.h). */
#include "session/store.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdio.h>
#include <string.h>

/* Ids and channel users come from outside: bounded and printable, so no backend has to care. */
static int bad_key(const char *k)
{
    if (k == NULL || *k == '\0' || strlen(k) > PL_STORE_MAX_KEY)
        return 1;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

int pl_store_open(const char *spec, pl_store_t **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (spec == NULL || strcmp(spec, "memory") == 0)
        return pl__store_memory_open(out);
    if (strncmp(spec, "sqlite:", 7) == 0 && spec[7] != '\0')
        return pl__store_sqlite_open(spec + 7, out, err, errlen);
    if (strncmp(spec, "redis://", 8) == 0)
        return pl__store_redis_open(spec + 8, out, err, errlen);
    if (err && errlen)
        snprintf(err, errlen,
                 "unknown store '%s'; use memory, sqlite:PATH or redis://HOST[:PORT][/DB]", spec);
    return PL_EINVAL;
}

void pl_store_close(pl_store_t *s)
{
    if (s != NULL)
        s->ops->close(s);
}

int pl_store_load(pl_store_t *s, const char *customer, char **doc, int64_t *version)
{
    if (bad_key(customer))
        return PL_EINVAL;
    return s->ops->load(s, customer, doc, version);
}

int pl_store_save(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                  int64_t *version)
{
    if (bad_key(customer) || doc == NULL || expected < 0)
        return PL_EINVAL;
    return s->ops->save(s, customer, doc, expected, version);
}

int pl_store_link(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    if (bad_key(channel) || bad_key(user) || bad_key(customer))
        return PL_EINVAL;
    return s->ops->link(s, channel, user, customer);
}

int pl_store_link_new(pl_store_t *s, const char *channel, const char *user, const char *customer)
{
    if (bad_key(channel) || bad_key(user) || bad_key(customer))
        return PL_EINVAL;
    return s->ops->link_new(s, channel, user, customer);
}

int pl_store_relink(pl_store_t *s, const char *from, const char *to)
{
    if (bad_key(from) || bad_key(to))
        return PL_EINVAL;
    return s->ops->relink(s, from, to);
}

int pl_store_resolve(pl_store_t *s, const char *channel, const char *user, char **customer)
{
    if (bad_key(channel) || bad_key(user))
        return PL_EINVAL;
    return s->ops->resolve(s, channel, user, customer);
}

int pl_store_erase(pl_store_t *s, const char *customer)
{
    if (bad_key(customer))
        return PL_EINVAL;
    return s->ops->erase(s, customer);
}

int pl_store_code_put(pl_store_t *s, const char *code, const char *customer, int64_t now_ms,
                      int64_t expires_ms)
{
    if (bad_key(code) || bad_key(customer) || expires_ms <= now_ms)
        return PL_EINVAL;
    return s->ops->code_put(s, code, customer, now_ms, expires_ms);
}

int pl_store_code_take(pl_store_t *s, const char *code, int64_t now_ms, char **customer)
{
    if (bad_key(code))
        return PL_EINVAL;
    char *c = NULL;
    int64_t expires_ms;
    int rc = s->ops->code_take(s, code, &c, &expires_ms);
    if (rc != 0)
        return rc;
    if (expires_ms <= now_ms) {
        pl_free(c);
        return PL_ENOTFOUND;
    }
    *customer = c;
    return 0;
}

int pl_store_attempts(pl_store_t *s, const char *channel, const char *user, int64_t now_ms,
                      int64_t window_ms, int add, int64_t *count)
{
    if (bad_key(channel) || bad_key(user) || window_ms <= 0 || add < 0)
        return PL_EINVAL;
    return s->ops->attempts(s, channel, user, now_ms, window_ms, add, count);
}

int pl_store_attach_loop(pl_store_t *s, void *uv_loop, const pl_store_events_t *events)
{
    return s->ops->attach != NULL ? s->ops->attach(s, uv_loop, events) : 0;
}

int pl_store_watch(pl_store_t *s, const char *customer)
{
    if (bad_key(customer))
        return PL_EINVAL;
    return s->ops->watch != NULL ? s->ops->watch(s, customer) : 0;
}

void pl_store_unwatch(pl_store_t *s, const char *customer)
{
    if (!bad_key(customer) && s->ops->unwatch != NULL)
        s->ops->unwatch(s, customer);
}

void pl_store_detach_loop(pl_store_t *s)
{
    if (s != NULL && s->ops->detach != NULL)
        s->ops->detach(s);
}

int pl_store_lock(pl_store_t *s, const char *customer, int wait_ms, char token[33])
{
    token[0] = '\0';
    if (bad_key(customer) || wait_ms < 0)
        return PL_EINVAL;
    return s->ops->lock != NULL ? s->ops->lock(s, customer, wait_ms, token) : 0;
}

int pl_store_unlock(pl_store_t *s, const char *customer, const char *token)
{
    if (bad_key(customer))
        return PL_EINVAL;
    if (token[0] == '\0' || s->ops->unlock == NULL)
        return 0;
    return s->ops->unlock(s, customer, token);
}

int pl_store_lock_load(pl_store_t *s, const char *customer, int wait_ms, char token[33], char **doc,
                       int64_t *version)
{
    token[0] = '\0';
    if (bad_key(customer) || wait_ms < 0)
        return PL_EINVAL;
    if (s->ops->lock_load != NULL)
        return s->ops->lock_load(s, customer, wait_ms, token, doc, version);
    int rc = pl_store_lock(s, customer, wait_ms, token);
    if (rc != 0)
        return rc;
    rc = s->ops->load(s, customer, doc, version);
    if (rc != 0 && rc != PL_ENOTFOUND) {
        pl_store_unlock(s, customer, token);
        token[0] = '\0';
    }
    return rc;
}

int pl_store_save_unlock(pl_store_t *s, const char *customer, const char *doc, int64_t expected,
                         int64_t *version, char token[33])
{
    if (bad_key(customer) || doc == NULL || expected < 0)
        return PL_EINVAL;
    if (token[0] != '\0' && s->ops->save_unlock != NULL)
        return s->ops->save_unlock(s, customer, doc, expected, version, token);
    int rc = s->ops->save(s, customer, doc, expected, version);
    if (rc == 0 && token[0] != '\0') {
        /* committed all the same if this fails: the lock expires by itself */
        (void)pl_store_unlock(s, customer, token);
        token[0] = '\0';
    }
    return rc;
}
