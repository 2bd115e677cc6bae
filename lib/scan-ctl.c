/* The scanner's controls: submitting with per-target overrides,
 * cancelling one target, pausing, statistics, and the shard of a line.
 * Every call only changes state and arms the pump (scan.c): no result
 * is ever delivered from inside one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "probe-api.h"
#include "scan.h"
#include "probe.h"
#include "scan.h"

uint64_t hscan__shard_hash(const char *line, size_t len,
                           const struct hscan__target *t)
{
    uint64_t h = 14695981039346656037ULL;
    const char *b = t ? t->host : line;
    size_t i, n = t ? t->host_len : len;

    if (t && n > 1 && b[n - 1] == '.')
        n--;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (t && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

unsigned hscan_shard_of(const char *line, size_t len, unsigned count)
{
    struct hscan__target t;
    const char *why;
    int ok;

    if (count <= 1 || (!line && len))
        return 0;
    hscan__target_skip(&line, &len);
    ok = len > 0 && hscan__target_parse(line, len, &t, &why) == 0;
    return (unsigned)(hscan__shard_hash(line, len, ok ? &t : NULL) % count);
}

void hscan_target_opts_init(hscan_target_opts_t *o)
{
    if (o)
        memset(o, 0, sizeof(*o));
}

int hscan_submit_ex(hscan_t *s, const char *line, size_t len, void *udata,
                    const hscan_target_opts_t *opts, uint64_t *id)
{
    struct subq *q;
    struct hscan__req *req;
    SSL_CTX *ctx = NULL;
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    if (!s || (!line && len))
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    if (opts && (rc = hscan__target_opts_check_shallow(opts)) != 0)
        return rc;
    /* The target's own TLS options: their context, made (and so
     * checked by OpenSSL) the first time the set is seen. */
    if (opts && (rc = hscan__tls_ctxs_get(&s->tls_ctxs, opts, &ctx, d,
                                          sizeof(d))) != 0)
        return rc;
    if ((rc = hscan__req_merge(&req, s->req, opts)) != 0)
        return rc;
    if (ctx)
        req->ssl_ctx = ctx;
    q = malloc(sizeof(*q) + len + 1);
    if (!q) {
        hscan__req_unref(req);
        return HSCAN_ENOMEM;
    }
    q->udata = udata;
    q->id = ++s->next_id;
    q->req = req;
    q->len = len;
    if (len)
        memcpy(q->line, line, len);
    q->line[len] = '\0';
    hscan__queue_insert_tail(&s->subq, &q->node);
    s->n_queued++;
    s->st.submitted++;
    s->drained_fired = 0;
    hscan__scan_schedule(s);
    if (id)
        *id = q->id;
    return 0;
}

int hscan_submit(hscan_t *s, const char *line, size_t len, void *udata)
{
    return hscan_submit_ex(s, line, len, udata, NULL, NULL);
}

int hscan_cancel(hscan_t *s, uint64_t id)
{
    struct hscan__queue *n;
    struct subq *q;
    struct probe *p;
    int found = 0;

    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    hscan__queue_foreach(n, &s->subq) {
        q = hscan__queue_data(n, struct subq, node);
        if (q->id != id)
            continue;
        hscan__queue_remove(&q->node);
        s->n_queued--;
        hscan__queue_insert_tail(&s->canceled, &q->node);
        hscan__scan_schedule(s);
        return 0;
    }
    /* Its units still queued (cfg.paths, cfg.all_ips), and its probes
     * in flight: both of a HSCAN_SCHEME_BOTH target share its id. */
    found = hscan__units_cancel(s, id);
    hscan__queue_foreach(n, &s->active) {
        p = hscan__probe_of(n);
        if (hscan__probe_id(p) == id)
            found |= hscan__probe_cancel_soon(p, "target canceled");
    }
    return found ? 0 : HSCAN_ENOTFOUND;
}

int hscan_pause(hscan_t *s)
{
    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    s->paused = 1;
    return 0;
}

int hscan_resume(hscan_t *s)
{
    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    if (s->paused) {
        s->paused = 0;
        hscan__scan_schedule(s);
    }
    return 0;
}

int hscan_feed(hscan_t *s)
{
    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    s->want_feed = 0;
    hscan__scan_schedule(s);
    return 0;
}

int hscan_end_input(hscan_t *s)
{
    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    s->input_end = 1;
    hscan__scan_schedule(s);
    return 0;
}

int hscan_stats(const hscan_t *s, hscan_stats_t *out)
{
    if (!s || !out)
        return HSCAN_EINVAL;
    *out = s->st;
    hscan__scan_dns_stats(s, out);
    out->ip_waits = hscan__gate_waits(s->gate) - s->waits_base;
    out->queued = s->n_queued;
    out->errors = s->st.finished - s->st.ok;
    out->bytes_sent = s->env.bytes_tx;
    out->bytes_received = s->env.bytes_rx;
    out->paused = s->paused;
    hscan__counts_fill(&s->counts, out);
    return 0;
}

int hscan_stats_reset(hscan_t *s)
{
    unsigned in_flight, conc;

    if (!s)
        return HSCAN_EINVAL;
    in_flight = s->st.in_flight;
    conc = s->st.concurrency;
    memset(&s->st, 0, sizeof(s->st));
    s->st.in_flight = in_flight;
    s->st.concurrency = conc;
    memset(&s->counts, 0, sizeof(s->counts));
    s->env.bytes_rx = s->env.bytes_tx = 0;
    if (s->dns)
        hscan__dns_stats(s->dns, &s->dns_base);
    s->waits_base = hscan__gate_waits(s->gate);
    return 0;
}
