/* The server's counters and their Prometheus text form for GET /metrics. */
#include "server_int.h"
#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* Upper bounds of the latency histogram, in seconds. */
static const double bounds[PL_SRV_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,  0.1,    0.25,  1.0};

static const char *const codes[PL_ERR_COUNT] = {
    [PL_ERR_BAD_JSON] = "bad_json",         [PL_ERR_TOO_DEEP] = "too_deep",
    [PL_ERR_NOT_UTF8] = "not_utf8",         [PL_ERR_UNKNOWN_TYPE] = "unknown_type",
    [PL_ERR_HELLO_FIRST] = "hello_first",   [PL_ERR_BAD_HELLO] = "bad_hello",
    [PL_ERR_BAD_TOKEN] = "bad_token",       [PL_ERR_BAD_REQUEST] = "bad_request",
    [PL_ERR_TOO_LONG] = "too_long",         [PL_ERR_RATE_LIMITED] = "rate_limited",
    [PL_ERR_UNAVAILABLE] = "unavailable",   [PL_ERR_TOO_LARGE] = "too_large",
    [PL_ERR_ORIGIN] = "origin_refused",     [PL_ERR_VOICE_VERIFY] = "voice_verification",
};

const char *pl__err_code(pl_srv_err_t e)
{
    return (unsigned)e < PL_ERR_COUNT ? codes[e] : "internal";
}

void pl__metrics_turn(pl_srv_metrics_t *m, pl_channel_t ch, double seconds)
{
    m->turns[ch]++;
    size_t b = 0;
    while (b < PL_SRV_LAT_BUCKETS && seconds > bounds[b])
        b++;
    m->lat_buckets[b]++;
    m->lat_sum += seconds;
    m->lat_count++;
}

char *pl__metrics_text(const pl_server_t *s, size_t *len)
{
    const pl_srv_metrics_t *m = &s->metrics;
    pl_strbuf_t b;
    pl_strbuf_init(&b, 1 << 20);
    int rc = pl_strbuf_puts(&b, "# HELP parley_turns_total Turns taken, by channel.\n"
                                "# TYPE parley_turns_total counter\n");
    for (int ch = 0; rc == 0 && ch < PL_CHANNEL_COUNT; ch++)
        rc = pl_strbuf_printf(&b, "parley_turns_total{channel=\"%s\"} %llu\n",
                              pl_channel_name((pl_channel_t)ch), (unsigned long long)m->turns[ch]);
    if (rc == 0)
        rc = pl_strbuf_puts(&b, "# HELP parley_turn_seconds Time to take a turn, commit included.\n"
                                "# TYPE parley_turn_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; rc == 0 && i < PL_SRV_LAT_BUCKETS; i++) {
        cum += m->lat_buckets[i];
        rc = pl_strbuf_printf(&b, "parley_turn_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
                              (unsigned long long)cum);
    }
    if (rc == 0)
        rc = pl_strbuf_printf(&b,
                              "parley_turn_seconds_bucket{le=\"+Inf\"} %llu\n"
                              "parley_turn_seconds_sum %.6f\nparley_turn_seconds_count %llu\n",
                              (unsigned long long)m->lat_count, m->lat_sum,
                              (unsigned long long)m->lat_count);
    if (rc == 0)
        rc = pl_strbuf_printf(&b,
                              "# HELP parley_open_connections Open WebSocket connections.\n"
                              "# TYPE parley_open_connections gauge\n"
                              "parley_open_connections %lld\n"
                              "# HELP parley_errors_total Errors sent to clients, by kind.\n"
                              "# TYPE parley_errors_total counter\n",
                              (long long)m->open_connections);
    for (int e = 0; rc == 0 && e < PL_ERR_COUNT; e++)
        rc = pl_strbuf_printf(&b, "parley_errors_total{kind=\"%s\"} %llu\n", codes[e],
                              (unsigned long long)m->errors[e]);
    if (rc == 0)
        rc = pl_strbuf_printf(&b,
                              "# HELP parley_reloads_total Bot reloads, by result.\n"
                              "# TYPE parley_reloads_total counter\n"
                              "parley_reloads_total{result=\"ok\"} %llu\n"
                              "parley_reloads_total{result=\"failed\"} %llu\n",
                              (unsigned long long)m->reloads_ok,
                              (unsigned long long)m->reloads_failed);
    if (rc == 0)
        rc = pl_strbuf_puts(&b, "# HELP parley_bot_reload_errors Errors of each bot's latest "
                                "failed reload (0: its files load cleanly).\n"
                                "# TYPE parley_bot_reload_errors gauge\n");
    for (size_t i = 0; rc == 0 && i < s->bots.n; i++)
        rc = pl_strbuf_printf(&b, "parley_bot_reload_errors{bot=\"%s\"} %zu\n",
                              pl_runtime_bot(s->bots.items[i].rt)->id, s->bots.items[i].last_errors);
    if (rc == 0)
        rc = pl_strbuf_printf(&b,
                              "# HELP parley_store_up 1 while the store answers, 0 while it does "
                              "not (Redis down or too slow).\n"
                              "# TYPE parley_store_up gauge\n"
                              "parley_store_up %d\n"
                              "# HELP parley_store_outages_total Times the store stopped "
                              "answering.\n"
                              "# TYPE parley_store_outages_total counter\n"
                              "parley_store_outages_total %llu\n"
                              "# HELP parley_store_failures_total Requests that failed because "
                              "the store did not answer (the customer was asked to try again).\n"
                              "# TYPE parley_store_failures_total counter\n"
                              "parley_store_failures_total %llu\n",
                              !m->store_down, (unsigned long long)m->store_outages,
                              (unsigned long long)m->store_failures);
    char *out = rc == 0 ? malloc(b.len + 1) : NULL;
    if (out != NULL) {
        memcpy(out, pl_strbuf_str(&b), b.len + 1);
        *len = b.len;
    }
    pl_strbuf_cleanup(&b);
    return out;
}
