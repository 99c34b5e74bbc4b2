/* Snowball stemming (libstemmer) of normalised words for the matcher. A Snowball stemmer keeps
 * its working buffer inside, so one object cannot serve two threads at once: a mutex makes
 * the shared one safe, and costs next to nothing when, as usual, one thread asks. */
#include "nlu/nlu_int.h"
#include "base/error.h"
#include "base/mem.h"

#include <libstemmer.h>
#include <pthread.h>
#include <string.h>

struct pl__stemmer {
    struct sb_stemmer *sb;
    pthread_mutex_t lock;
    int de;
};

int pl__stemmer_new(int de, pl__stemmer_t **out)
{
    pl__stemmer_t *st = pl_calloc(1, sizeof(*st));
    if (st == NULL)
        return PL_ENOMEM;
    st->de = de;
    /* NULL also means out of memory: both languages are always compiled into libstemmer */
    st->sb = sb_stemmer_new(de ? "german" : "english", "UTF_8");
    if (st->sb == NULL || pthread_mutex_init(&st->lock, NULL) != 0) {
        sb_stemmer_delete(st->sb);
        pl_free(st);
        return PL_ENOMEM;
    }
    /* Snowball grows its buffer to the longest word seen. Growing it now to the longest word
     * it will ever get keeps understanding a message free of heap allocations. */
    char warm[2 * PL__STEM_MAX_WORD];
    memset(warm, 'a', sizeof(warm));
    if (sb_stemmer_stem(st->sb, (const sb_symbol *)warm, (int)sizeof(warm)) == NULL) {
        pl__stemmer_free(st);
        return PL_ENOMEM;
    }
    *out = st;
    return 0;
}

void pl__stemmer_free(pl__stemmer_t *st)
{
    if (st == NULL)
        return;
    pthread_mutex_destroy(&st->lock);
    sb_stemmer_delete(st->sb);
    pl_free(st);
}

size_t pl__stemmer_stem(pl__stemmer_t *st, const char *s, size_t n, char *out)
{
    if (n > PL__STEM_MAX_WORD) {
        memcpy(out, s, PL__STEM_MAX_WORD); /* no real word: a prefix identifies it well enough */
        return PL__STEM_MAX_WORD;
    }
    pthread_mutex_lock(&st->lock);
    const sb_symbol *r = sb_stemmer_stem(st->sb, (const sb_symbol *)s, (int)n);
    size_t len = 0;
    if (r != NULL) {
        len = (size_t)sb_stemmer_length(st->sb);
        len = len > PL__STEM_MAX_WORD ? PL__STEM_MAX_WORD : len;
        memcpy(out, r, len);
    }
    pthread_mutex_unlock(&st->lock);
    if (r == NULL) { /* cannot happen after the warm-up; the word itself is a fair stem */
        memcpy(out, s, n);
        len = n;
    }
    return len;
}
