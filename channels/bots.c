/* The bots a server runs: loaded at start, reloaded on SIGHUP and when one of their files
 * changes (inotify on the files' directories, since editors replace files by renaming). A
 * bot that no longer lints keeps running in its last good version; the diagnostics go to the
 * log and the failure to /metrics. Conversations continue: state names flows by id. */
#include "server_int.h"
#include "base/error.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Loads bot i; on success replaces the running version. */
static int load_one(pl_server_t *s, size_t i)
{
    pl_srv_bot_t *b = &s->bots.items[i];
    pl_diags_t d;
    pl_diags_init(&d);
    pl_runtime_t *rt = NULL;
    int rc = pl_runtime_load(b->path, &d, &rt);
    if (d.errors > 0 || d.warnings > 0) {
        fflush(stdout);
        pl_diags_sort(&d);
        pl_diags_print(&d, stderr);
    }
    b->last_errors = rc == 0 ? 0 : (d.errors ? d.errors : 1);
    pl_diags_cleanup(&d);
    if (rc != 0)
        return rc;
    pl_runtime_unref(b->rt);
    b->rt = rt;
    return 0;
}

int pl__bots_load(pl_server_t *s)
{
    s->bots.inotify_fd = -1;
    if (s->cfg->nbots > PL_SRV_MAX_BOTS) {
        pl__srv_log(s, PL_LOG_ERROR, "at most %d bots per server", PL_SRV_MAX_BOTS);
        return PL_EINVAL;
    }
    for (size_t i = 0; i < s->cfg->nbots; i++) {
        s->bots.items[i].path = s->cfg->bots[i];
        s->bots.n = i + 1;
        if (load_one(s, i) != 0) {
            pl__srv_log(s, PL_LOG_ERROR, "%s has errors (above); fix them first",
                        s->cfg->bots[i]);
            return PL_EINVALID;
        }
        const pl_bot_t *bot = pl_runtime_bot(s->bots.items[i].rt);
        pl__srv_log(s, PL_LOG_INFO, "bot %s (%s) from %s", bot->id, bot->language,
                    s->cfg->bots[i]);
    }
    return 0;
}

void pl__bots_watch(pl_server_t *s)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        pl__srv_log(s, PL_LOG_WARN, "cannot watch bot files (%s); reload with SIGHUP",
                    strerror(errno));
        return;
    }
    for (size_t i = 0; i < s->bots.n; i++) {
        const pl_bot_t *bot = pl_runtime_bot(s->bots.items[i].rt);
        for (size_t f = 0; f < bot->nfiles; f++) {
            char *copy = strdup(bot->files[f]);
            if (copy == NULL)
                continue;
            /* one watch per directory: inotify returns the same descriptor again */
            if (inotify_add_watch(fd, dirname(copy),
                                  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0)
                pl__srv_log(s, PL_LOG_WARN, "cannot watch %s: %s", bot->files[f],
                            strerror(errno));
            free(copy);
        }
    }
    s->bots.inotify_fd = fd;
}

/* Reloads every bot; returns how many failed. */
static size_t reload_all(pl_server_t *s)
{
    size_t failed = 0;
    for (size_t i = 0; i < s->bots.n; i++) {
        if (load_one(s, i) == 0) {
            s->metrics.reloads_ok++;
            pl__srv_log(s, PL_LOG_INFO, "reloaded %s", s->bots.items[i].path);
        } else {
            s->metrics.reloads_failed++;
            failed++;
            pl__srv_log(s, PL_LOG_ERROR,
                        "%s has errors (above); the running version stays in service",
                        s->bots.items[i].path);
        }
    }
    return failed;
}

void pl__bots_check(pl_server_t *s, int force)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (s->bots.inotify_fd >= 0) {
        ssize_t n = read(s->bots.inotify_fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        s->bots.dirty = 1; /* any change near a bot file: reload once things settle */
        s->bots.dirty_at = pl__srv_now_ms();
    }
    /* an editor writes in several steps: wait until the directory is quiet for 200 ms */
    if (force || (s->bots.dirty && pl__srv_now_ms() - s->bots.dirty_at >= 200)) {
        s->bots.dirty = 0;
        reload_all(s);
    }
}

void pl__bots_free(pl_server_t *s)
{
    for (size_t i = 0; i < s->bots.n; i++)
        pl_runtime_unref(s->bots.items[i].rt);
    if (s->bots.inotify_fd >= 0)
        close(s->bots.inotify_fd);
}

int pl__bots_pick(const pl_server_t *s, const char *id, const char *language)
{
    for (size_t i = 0; id != NULL && i < s->bots.n; i++)
        if (strcmp(pl_runtime_bot(s->bots.items[i].rt)->id, id) == 0)
            return (int)i;
    if (id != NULL)
        return -1;
    for (size_t i = 0; language != NULL && i < s->bots.n; i++)
        if (strcmp(pl_runtime_bot(s->bots.items[i].rt)->language, language) == 0)
            return (int)i;
    return 0;
}
