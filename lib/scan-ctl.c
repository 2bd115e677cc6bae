/* The scanner's controls: submitting with per-target overrides,
 * cancelling one target, pausing, statistics, and the shard of a line.
 * Every call only changes state and arms the pump (scan.c): no result
 * is ever delivered from inside one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct hscan__over *hscan__over_ref(struct hscan__over *o)
{
    o->refs++;
    return o;
}

void hscan__over_unref(struct hscan__over *o)
{
    if (!o || --o->refs > 0)
        return;
    free(o->method);
    free(o->path);
    free(o->reqtail);
    free(o);
}

/* The name of header line `line` ("Name: value") into `out`. */
static void header_name(const char *line, char *out, size_t size)
{
    size_t n = strcspn(line, ":");

    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, line, n);
    out[n] = '\0';
}

/* The request tail for the scanner's headers overridden by the target's:
 * the scanner's lines the target does not name, then the target's. */
static int over_tail(hscan_t *s, struct hscan__over *ov,
                     const hscan_target_opts_t *o)
{
    hscan_config_t tgt, merged;
    const char **lines;
    size_t i, n = 0;
    char name[256];

    lines = malloc((s->n_hdrs + o->n_headers) * sizeof(*lines));
    if (!lines)
        return HSCAN_ENOMEM;
    memset(&tgt, 0, sizeof(tgt));
    tgt.headers = o->headers;
    tgt.n_headers = o->n_headers;
    for (i = 0; i < s->n_hdrs; i++) {
        header_name(s->hdrs[i], name, sizeof(name));
        if (!hscan__user_overrides(&tgt, name))
            lines[n++] = s->hdrs[i];
    }
    for (i = 0; i < o->n_headers; i++)
        lines[n++] = o->headers[i];
    memset(&merged, 0, sizeof(merged));
    merged.headers = lines;
    merged.n_headers = n;
    ov->user_host = hscan__user_overrides(&merged, "Host");
    ov->reqtail = hscan__request_tail(&merged, s->ua, &ov->reqtail_len);
    free(lines);
    return ov->reqtail ? 0 : HSCAN_ENOMEM;
}

static int over_new(hscan_t *s, const hscan_target_opts_t *o,
                    struct hscan__over **out)
{
    struct hscan__over *ov;
    int rc = 0;

    *out = NULL;
    if (!o || (!o->method && !o->path && !o->n_headers && !o->timeout_ms))
        return 0;
    if ((rc = hscan_target_opts_check(o, NULL, NULL, 0)) != 0)
        return rc;
    if (!(ov = calloc(1, sizeof(*ov))))
        return HSCAN_ENOMEM;
    ov->refs = 1;
    ov->timeout_ms = o->timeout_ms;
    if ((o->method && !(ov->method = strdup(o->method))) ||
        (o->path && !(ov->path = strdup(o->path))))
        rc = HSCAN_ENOMEM;
    if (rc == 0 && o->n_headers)
        rc = over_tail(s, ov, o);
    if (rc != 0) {
        hscan__over_unref(ov);
        return rc;
    }
    *out = ov;
    return 0;
}

int hscan_submit_ex(hscan_t *s, const char *line, size_t len, void *udata,
                    const hscan_target_opts_t *opts, uint64_t *id)
{
    struct subq *q;
    struct hscan__over *ov;
    int rc;

    if (!s || (!line && len))
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    if ((rc = over_new(s, opts, &ov)) != 0)
        return rc;
    q = malloc(sizeof(*q) + len + 1);
    if (!q) {
        hscan__over_unref(ov);
        return HSCAN_ENOMEM;
    }
    q->next = NULL;
    q->udata = udata;
    q->id = ++s->next_id;
    q->over = ov;
    q->len = len;
    if (len)
        memcpy(q->line, line, len);
    q->line[len] = '\0';
    if (s->q_tail)
        s->q_tail->next = q;
    else
        s->q_head = q;
    s->q_tail = q;
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
    struct subq *q, *prev = NULL;
    struct probe *p;
    int found = 0;

    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    for (q = s->q_head; q; prev = q, q = q->next) {
        if (q->id != id)
            continue;
        if (prev)
            prev->next = q->next;
        else
            s->q_head = q->next;
        if (s->q_tail == q)
            s->q_tail = prev;
        s->n_queued--;
        q->next = NULL;
        if (s->c_tail)
            s->c_tail->next = q;
        else
            s->c_head = q;
        s->c_tail = q;
        hscan__scan_schedule(s);
        return 0;
    }
    for (p = s->active; p; p = *hscan__probe_next(p))
        found |= hscan__probe_cancel_id(p, id);
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
    out->bytes_sent = s->bytes_tx;
    out->bytes_received = s->bytes_rx;
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
    s->bytes_rx = s->bytes_tx = 0;
    if (s->dns)
        hscan__dns_stats(s->dns, &s->dns_base);
    s->waits_base = hscan__gate_waits(s->gate);
    return 0;
}
