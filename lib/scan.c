/* Scanner lifecycle, the slot window and pull feeding (the controls
 * are in scan-ctl.c, the shared state in scan.h).
 *
 * All feeding happens in the "pump", a zero-delay uv timer: targets are
 * taken only there, so no result is ever delivered from inside a call the
 * user made (hscan_submit, hscan_feed, hscan_close), and a long run of
 * invalid lines cannot recurse.  The pump takes targets while slots are
 * free, at most PUMP_BUDGET per loop iteration so one pass cannot starve
 * sockets that are already readable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "gate.h"
#include "probe-api.h"
#include "scan.h"
#include "netset.h"
#include "proxy.h"
#include "tls.h"

#define PUMP_BUDGET 4096
#define CLOSED_IN_FLIGHT "scan closed while in flight"

/* Created at hscan_new() unless the scan is plain HTTP only; then on the
 * first https:// input or redirect.  Loading the trust store costs some
 * megabytes that an HTTP-only scan should not pay. */
static SSL_CTX *scan_ssl_ctx(void *arg)
{
    hscan_t *s = arg;
    char detail[HSCAN__DETAIL_SIZE];
    /* Client TLS options make the context at hscan_new(): none here. */
    struct hscan__tls_opts o = { s->ca_file, 0, 0, NULL, NULL, NULL, NULL,
                                 NULL };

    if (!s->ssl_ctx)
        hscan__tls_ctx_new(&s->ssl_ctx, &o, detail, sizeof(detail));
    return s->ssl_ctx;
}

void hscan_config_init(hscan_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->concurrency = 1000;
    cfg->timeout_ms = 15000;
    cfg->dns_timeout_ms = 5000;
    cfg->dns_cache = 4096;
    cfg->connect_timeout_ms = 5000;
    cfg->read_timeout_ms = 10000;
    cfg->tls_timeout_ms = 5000;
    cfg->proxy_timeout_ms = 5000;
    cfg->attempt_delay_ms = 250;
    cfg->scheme = HSCAN_SCHEME_HTTPS_FIRST;
    cfg->method = "GET";
    cfg->path = "/";
    cfg->max_header_bytes = 65536;
    cfg->max_headers = 256;
    cfg->body_keep = 1;
}

static void on_pump(uv_timer_t *t);

void hscan__scan_schedule(hscan_t *s)
{
    if (s->pump_armed)
        return;
    s->pump_armed = 1;
    uv_timer_start(&s->pump, on_pump, 0, 0);
}

static void deliver(hscan_t *s, const hscan_result_t *r, int probed)
{
    s->st.finished++;
    if (r->error == 0)
        s->st.ok++;
    hscan__counts_add(&s->counts, r, probed);
    s->on_result(s, r, s->arg);
}


/* A record for a target that never became a probe: invalid input, or a
 * queued submission cancelled by hscan_close(). */
void hscan__scan_emit(hscan_t *s, const char *line, size_t len,
                     const struct launch *l, int err, const char *detail)
{
    hscan_result_t r;

    memset(&r, 0, sizeof(r));
    r.error = err;
    r.error_detail = detail;
    r.udata = l->udata;
    r.id = l->id;
    r.input = line;
    r.input_len = len;
    r.path = l->path;
    r.ip = l->ip;
    r.http_major = r.http_minor = -1;
    r.content_length = -1;
    r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = -1;
    r.total_ms = 0;
    deliver(s, &r, 0);
}

/* env.on_result: a probe's one result (NULL: a unit skipped as done);
 * its slot is free. */
static void probe_result(void *arg, struct probe *p, hscan_result_t *r)
{
    hscan_t *s = arg;

    hscan__queue_remove(hscan__probe_node(p));
    s->n_active--;
    s->st.in_flight = s->n_active;
    if (!s->closing)
        hscan__scan_schedule(s);
    if (r)
        deliver(s, r, 1);
}

/* cfg.unit_done: 1 when this unit has its record already. */
static int unit_done(hscan_t *s, const char *line, size_t len,
                     const char *path, const char *ip)
{
    return s->unit_done && s->unit_done(s, s->arg, line, len, path, ip);
}

/* env.unit_done */
static int probe_unit_done(void *arg, const char *input, size_t len,
                           const char *path, const char *ip)
{
    return unit_done(arg, input, len, path, ip);
}

void hscan__scan_run(hscan_t *s, struct probe *p)
{
    hscan__queue_insert_tail(&s->active, hscan__probe_node(p));
    s->n_active++;
    s->n_alloc++;
    s->st.in_flight = s->n_active;
    hscan__probe_run(p);
}

static int launch(hscan_t *s, const char *line, size_t len,
                  const struct hscan__target *t, int scheme, int fall_back,
                  const struct launch *l)
{
    struct probe *p;

    if (unit_done(s, line, len, l->path, NULL))
        return 0;
    p = hscan__probe_new(&s->env, line, len, t, scheme, fall_back,
                         l->udata, l->id, l->req);
    if (!p) {
        hscan__scan_emit(s, line, len, l, HSCAN_ERESOURCE_EXHAUSTED,
                         "out of memory starting the probe");
        return -1;
    }
    if (l->path)
        hscan__probe_listed(p);
    if (s->all_ips)
        hscan__probe_expand(p);
    hscan__scan_run(s, p);
    return 0;
}

/* The probes of one valid target (or unit of it). */
static void launch_target(hscan_t *s, const char *line, size_t len,
                          const struct hscan__target *t,
                          const struct launch *l)
{
    int mode = s->mode;

    /* The input's own scheme wins; then the well-known ports; then the
     * configured mode. */
    if (t->scheme || t->port == 80 || t->port == 443) {
        int scheme = t->scheme ? t->scheme
                               : t->port == 443 ? HSCAN__HTTPS : HSCAN__HTTP;
        launch(s, line, len, t, scheme, 0, l);
    } else if (mode == HSCAN_SCHEME_BOTH) {
        /* two records whatever happens: one that cannot start gets its
         * resource_exhausted record and the other is still tried */
        launch(s, line, len, t, HSCAN__HTTPS, 0, l);
        launch(s, line, len, t, HSCAN__HTTP, 0, l);
    } else {
        launch(s, line, len, t, mode == HSCAN_SCHEME_HTTP ? HSCAN__HTTP
                                                         : HSCAN__HTTPS,
               mode == HSCAN_SCHEME_HTTPS_FIRST, l);
    }
}

/* cfg.paths: unit `i` of a valid target, its path the listed one. */
void hscan__scan_start_path(hscan_t *s, const char *line, size_t len,
                       struct hscan__target *t, struct launch *l, size_t i)
{
    t->path = s->paths[i];
    t->path_len = strlen(s->paths[i]);
    l->path = s->paths[i];
    launch_target(s, line, len, t, l);
}

/* `l->id` 0: a pulled line, which gets its id here (if it is a target
 * of this shard). */
static void start_target(hscan_t *s, const char *line, size_t len,
                         struct launch *l)
{
    struct hscan__target t;
    const char *why;
    int bad;

    if (hscan__target_skip(&line, &len))
        return;
    bad = hscan__target_parse(line, len, &t, &why) != 0;
    if (l->id == 0) {
        uint64_t h = hscan__shard_hash(line, len, bad ? NULL : &t);
        if (s->shard_count > 1 && h % s->shard_count != s->shard_index) {
            s->st.shard_skipped++;
            return;
        }
        l->id = ++s->next_id;
    }
    s->st.started++;
    if (bad) {
        /* one record, not one per path: there is nothing to request */
        if (!unit_done(s, line, len, NULL, NULL))
            hscan__scan_emit(s, line, len, l, HSCAN_EINVALID_TARGET, why);
        return;
    }
    if (s->n_paths > 1)
        hscan__units_paths(s, line, len, l);   /* ahead of new input */
    if (s->n_paths)
        hscan__scan_start_path(s, line, len, &t, l, 0);
    else
        launch_target(s, line, len, &t, l);
}

/* Take one target.  Returns 0 when none is available now. */
static int take_one(hscan_t *s)
{
    const char *line;
    size_t len;
    struct launch l = { NULL, 0, s->req, NULL, NULL };
    struct subq *q;
    int rc;

    if (!hscan__queue_empty(&s->units)) {
        hscan__units_take(s);
        return 1;
    }
    if (!hscan__queue_empty(&s->subq)) {
        q = hscan__queue_data(hscan__queue_head(&s->subq), struct subq,
                              node);
        hscan__queue_remove(&q->node);
        s->n_queued--;
        l.udata = q->udata;
        l.id = q->id;
        l.req = q->req;
        start_target(s, q->line, q->len, &l);
        hscan__req_unref(q->req);       /* the probes hold their own */
        free(q);
        return 1;
    }
    if (!s->next || s->input_end || s->want_feed)
        return 0;
    rc = s->next(s, s->arg, &line, &len, &l.udata);
    if (rc == HSCAN_NEXT_END) {
        s->input_end = 1;
        return 0;
    }
    if (rc != HSCAN_NEXT_TARGET) {
        s->want_feed = 1;
        return 0;
    }
    s->st.submitted++;
    start_target(s, line, len, &l);
    return 1;
}

static void check_drained(hscan_t *s)
{
    if (s->drained_fired || s->closing || !s->input_end ||
        !hscan__queue_empty(&s->subq) || !hscan__queue_empty(&s->canceled) ||
        !hscan__queue_empty(&s->units) ||
        !hscan__queue_empty(&s->ucanceled) ||
        s->n_active > 0)
        return;
    s->drained_fired = 1;
    if (s->on_drained)
        s->on_drained(s, s->arg);
}

/* Give queued entries canceled by hscan_cancel() their records. */
static void emit_canceled(hscan_t *s, struct hscan__queue *list,
                          const char *detail)
{
    struct subq *q;

    while (!hscan__queue_empty(list)) {
        const char *line;
        size_t len;
        q = hscan__queue_data(hscan__queue_head(list), struct subq, node);
        hscan__queue_remove(&q->node);
        line = q->line;
        len = q->len;
        if (!hscan__target_skip(&line, &len)) {
            struct launch l = { q->udata, q->id, NULL, NULL, NULL };
            s->st.started++;
            hscan__scan_emit(s, line, len, &l, HSCAN_ECANCELED, detail);
        }
        hscan__req_unref(q->req);
        free(q);
    }
}

static void scan_free(hscan_t *s)
{
    hscan_closed_cb cb = s->closed_cb;

    if (cb)
        cb(s, s->arg);
    hscan__scratch_free(&s->scratch);
    hscan__req_unref(s->req);
    hscan__tls_ctx_free(s->ssl_ctx);
    hscan__tls_ctxs_free(&s->tls_ctxs);
    hscan__gate_free(s->gate);
    hscan__proxy_free(s->proxy);
    hscan__netset_free(s->exclude);
    free(s->env.srcs);
    free(s->ca_file);
    free(s->paths);
    free(s);
}

static void maybe_closed(hscan_t *s)
{
    if (s->closed && s->handles == 0 && s->n_alloc == 0)
        scan_free(s);
}

/* env.on_freed */
static void probe_freed(void *arg, struct probe *p)
{
    hscan_t *s = arg;

    (void)p;
    s->n_alloc--;
    maybe_closed(s);
}

static void on_pump_closed(uv_handle_t *h)
{
    hscan_t *s = h->data;
    s->handles--;
    maybe_closed(s);
}

static void on_dns_closed(void *arg)
{
    hscan_t *s = arg;
    s->handles--;
    maybe_closed(s);
}

/* Counters since the last reset; after close the DNS channel is gone
 * and the values saved by close_now() stay. */
void hscan__scan_dns_stats(const hscan_t *s, hscan_stats_t *st)
{
    struct hscan__dns_stats ds;

    if (!s->dns)
        return;
    hscan__dns_stats(s->dns, &ds);
    st->dns_lookups = ds.lookups - s->dns_base.lookups;
    st->dns_cache_hits = ds.cache_hits - s->dns_base.cache_hits;
    st->dns_shared = ds.coalesced - s->dns_base.coalesced;
}

/* Cancel everything, then release handles.  Runs from the pump, so the
 * canceled records never arrive inside hscan_close() itself. */
static void close_now(hscan_t *s)
{
    emit_canceled(s, &s->canceled, "target canceled before it started");
    hscan__units_emit_canceled(s, &s->ucanceled,
                        "target canceled before it started");
    hscan__units_emit_canceled(s, &s->units,
                        "scan closed before the target started");
    emit_canceled(s, &s->subq, "scan closed before the target started");
    s->n_queued = 0;
    while (!hscan__queue_empty(&s->active))
        hscan__probe_cancel(hscan__probe_of(hscan__queue_head(&s->active)),
                            CLOSED_IN_FLIGHT);
    s->closed = 1;
    hscan__scan_dns_stats(s, &s->st);  /* hscan_stats() tells them after */
    hscan__dns_close(s->dns, on_dns_closed, s);
    s->dns = NULL;
    uv_close((uv_handle_t *)&s->pump, on_pump_closed);
}

/* --rate: a token bucket refilled at `rate` per second, holding at most
 * `burst`, so targets start evenly instead of in bursts.  Returns 0 (and
 * arms the pump for when the next token is due) when none is left. */
static int have_token(hscan_t *s)
{
    uint64_t now;
    double wait;

    if (!s->rate)
        return 1;
    now = uv_now(s->loop);
    s->tokens += (double)(now - s->t_tokens) * s->rate / 1000.0;
    s->t_tokens = now;
    if (s->tokens > s->burst)
        s->tokens = s->burst;
    if (s->tokens >= 1.0)
        return 1;
    wait = (1.0 - s->tokens) * 1000.0 / s->rate;
    s->pump_armed = 1;
    uv_timer_start(&s->pump, on_pump, (uint64_t)wait + 1, 0);
    return 0;
}

static void on_pump(uv_timer_t *t)
{
    hscan_t *s = container_of(t, hscan_t, pump);
    int budget = PUMP_BUDGET;

    s->pump_armed = 0;
    if (s->closing) {
        close_now(s);
        return;
    }
    emit_canceled(s, &s->canceled, "target canceled before it started");
    hscan__units_emit_canceled(s, &s->ucanceled,
                        "target canceled before it started");
    while (s->n_active < s->concurrency && !s->closing && !s->paused) {
        if (budget-- == 0) {
            hscan__scan_schedule(s);
            break;
        }
        if (!have_token(s))
            break;
        if (!take_one(s))
            break;
        if (s->rate)
            s->tokens -= 1.0;
    }
    if (s->closing)
        hscan__scan_schedule(s);
    else
        check_drained(s);
}

#ifdef HSCAN_PROBE_TRACE
/* -Dprobe_trace=true: every probe's state changes on stderr, for
 * debugging the state machine (docs/internals.md); never built by
 * default, since the library does not print. */
static void trace_state(void *arg, const struct probe *p, int from, int to)
{
    (void)arg;
    fprintf(stderr, "hscan probe %llu: %s -> %s\n",
            (unsigned long long)hscan__probe_id(p),
            hscan__probe_state_name(from), hscan__probe_state_name(to));
}
#endif

/* The environment every probe gets (probe-api.h). */
static void fill_env(hscan_t *s, const hscan_config_t *c)
{
    struct hscan__probe_env *e = &s->env;

    e->lim.dns_timeout_ms = c->dns_timeout_ms;
    e->lim.connect_timeout_ms = c->connect_timeout_ms;
    e->lim.read_timeout_ms = c->read_timeout_ms;
    e->lim.max_header_bytes = c->max_header_bytes;
    e->lim.max_headers = c->max_headers;
    e->lim.family = c->family;
    e->lim.tls_timeout_ms = c->tls_timeout_ms;
    e->lim.follow = c->follow;
    e->lim.insecure = c->insecure;
    e->lim.body_bytes = c->body_bytes;
    e->lim.body_keep = c->body_keep;
    e->lim.audit = c->audit;
    e->lim.strict = c->strict;
    e->lim.h2c = c->h2c;
    e->lim.proxy_timeout_ms = c->proxy_timeout_ms;
    e->lim.retries = c->retries;
    e->rng = uv_hrtime() | 1;
    e->lim.all_ips = c->all_ips;
    e->lim.prefer_family = c->prefer_family;
    e->lim.attempt_delay_ms = c->attempt_delay_ms;
    e->lim.tls_chain = c->tls_chain;
    e->rbuf = s->rbuf;
    e->rbuf_size = sizeof(s->rbuf);
    e->pbuf = s->pbuf;
    e->pbuf_size = sizeof(s->pbuf);
    e->scratch = &s->scratch;
    e->tls_ctx = scan_ssl_ctx;
    e->on_result = probe_result;
    e->on_freed = probe_freed;
    e->unit_done = c->unit_done ? probe_unit_done : NULL;
    e->siblings = hscan__units_siblings;
#ifdef HSCAN_PROBE_TRACE
    e->trace = trace_state;
#endif
    e->arg = s;
}

static int copy_config(hscan_t *s, const hscan_config_t *c)
{
    fill_env(s, c);
    s->mode = c->scheme;
    s->rate = c->rate;
    s->burst = c->burst ? c->burst : c->rate / 50 > 1 ? c->rate / 50 : 1;
    s->tokens = s->burst;
    s->concurrency = c->concurrency;
    s->next = c->next_target;
    s->on_result = c->on_result;
    s->on_drained = c->on_drained;
    s->arg = c->arg;
    s->shard_index = c->shard_index;
    s->shard_count = c->shard_count;
    hscan__queue_init(&s->active);
    hscan__queue_init(&s->subq);
    hscan__queue_init(&s->canceled);
    hscan__queue_init(&s->units);
    hscan__queue_init(&s->ucanceled);
    s->all_ips = c->all_ips;
    s->unit_done = c->unit_done;
    if (hscan__units_copy_paths(s, c) != 0)
        return HSCAN_ENOMEM;
    s->ca_file = c->ca_file ? strdup(c->ca_file) : NULL;
    if (c->ca_file && !s->ca_file)
        return HSCAN_ENOMEM;
    if (hscan__srcs_new(&s->env.srcs, c->source_ips, c->n_source_ips))
        return HSCAN_ENOMEM;        /* the literals were checked */
    return hscan__req_new(&s->req, c);
}

int hscan_new(hscan_t **out, uv_loop_t *loop, const hscan_config_t *cfg)
{
    char detail[HSCAN__DETAIL_SIZE];
    struct hscan__tls_opts tls;
    hscan_t *s;
    int rc, tls_set;

    if (!out || !loop || hscan_config_check(cfg, NULL, NULL, 0) != 0)
        return HSCAN_EINVAL;
    s = calloc(1, sizeof(*s));
    rc = s ? copy_config(s, cfg) : HSCAN_ENOMEM;
    tls_set = hscan__tls_opts_of(&tls, cfg);
    if (rc == 0)
        rc = hscan__tls_ctxs_init(&s->tls_ctxs, &tls);
    if (rc == 0 &&
        (cfg->scheme != HSCAN_SCHEME_HTTP || cfg->ca_file || tls_set))
        rc = hscan__tls_ctx_new(&s->ssl_ctx, &tls, detail, sizeof(detail));
    /* Last the DNS channel, whose handles cannot be undone here. */
    if (rc == 0 && cfg->max_per_ip)
        rc = hscan__gate_new(&s->gate, cfg->max_per_ip);
    if (rc == 0 && cfg->proxy)
        rc = hscan__proxy_new(&s->proxy, cfg->proxy, cfg->no_proxy, 1,
                              detail, sizeof(detail));
    if (rc == 0 && cfg->n_exclude)
        rc = hscan__netset_new(&s->exclude, cfg->exclude, cfg->n_exclude,
                               0, detail, sizeof(detail));
    if (rc == 0) {
        struct hscan__dns_opts o;
        o.resolvers = cfg->resolvers;
        o.timeout_ms = cfg->dns_timeout_ms;
        o.rate = cfg->dns_rate;
        o.cache_max = cfg->dns_cache;
        rc = hscan__dns_new(&s->dns, loop, &o, detail, sizeof(detail));
    }
    if (rc != 0) {
        if (s) {
            hscan__gate_free(s->gate);
            hscan__proxy_free(s->proxy);
            hscan__netset_free(s->exclude);
            hscan__tls_ctx_free(s->ssl_ctx);
            hscan__tls_ctxs_free(&s->tls_ctxs);
            hscan__req_unref(s->req);
            free(s->env.srcs);
            free(s->ca_file);
            free(s->paths);
            free(s);
        }
        return rc;
    }
    s->loop = loop;
    s->env.loop = loop;
    s->env.dns = s->dns;
    s->env.gate = s->gate;
    s->env.proxy = s->proxy;
    s->env.exclude = s->exclude;
    s->t_tokens = uv_now(loop);
    s->st.concurrency = s->concurrency;
    uv_timer_init(loop, &s->pump);
    s->pump.data = s;
    s->handles = 2;                 /* pump timer, DNS */
    hscan__scan_schedule(s);
    *out = s;
    return 0;
}

int hscan_close(hscan_t *s, hscan_closed_cb cb)
{
    struct hscan__queue *q;

    if (!s)
        return HSCAN_EINVAL;
    if (s->closing)
        return HSCAN_ECLOSED;
    s->closing = 1;
    s->closed_cb = cb;
    /* Every target in flight now is canceled, even one whose answer is
     * already on its way in this loop iteration (hscan.h). */
    hscan__queue_foreach(q, &s->active)
        hscan__probe_cancel_soon(hscan__probe_of(q), CLOSED_IN_FLIGHT);
    /* now, even if the pump waits for a --rate token */
    s->pump_armed = 1;
    uv_timer_start(&s->pump, on_pump, 0, 0);
    return 0;
}
