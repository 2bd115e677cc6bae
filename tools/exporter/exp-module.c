/* hscan-exporter: a configuration generation and its scanners, one per
 * module (a module's settings are scanner-wide in libhscan: TLS, proxy,
 * redirects, address family), probes for scrapes and the batch rounds.
 * A reload makes a new generation; the old one lives while scrapes
 * started under it are in flight, then its scanners close. */
#include "exporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_BYTES (16u << 20)  /* the most a probe reads of a body */

struct probe {
    struct exp_rmod *rm;
    exp_done_cb done;          /* scrape: its callback; batch: NULL */
    void *arg;
    size_t index;              /* batch: the target's slot */
    double start;
};

struct exp_rmod {
    struct exp_gen *g;
    const struct exp_module *m;
    hscan_t *scan;
    uv_timer_t timer;          /* batch rounds */
    int timer_open;
    struct probe *bprobes;     /* batch: one per target */
    struct exp_facts *last;    /* batch: the last result of each */
    unsigned char *have;
    size_t pending;            /* batch: this round's probes not done */
    uint64_t rounds;
    double round_start, round_seconds;
};

struct exp_gen {
    struct exp *e;
    struct exp_config cfg;
    struct exp_rmod *mods;
    unsigned refs;
    unsigned open;             /* scanners and timers not yet closed */
    int retired;
};

double exp_now(void)
{
    return (double)uv_hrtime() / 1e9;
}

struct exp_modstat *exp_modstat(struct exp *e, const char *name)
{
    struct exp_modstat *s;
    size_t i;

    for (i = 0; i < e->n_stats; i++)
        if (!strcmp(e->stats[i].name, name))
            return &e->stats[i];
    if (!(s = realloc(e->stats, (e->n_stats + 1) * sizeof *s)))
        return NULL;
    e->stats = s;
    s = &e->stats[e->n_stats];
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup(name)))
        return NULL;
    e->n_stats++;
    return s;
}

static const double hist_le[EXP_HIST_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

static void count(struct exp *e, const char *module, const struct exp_facts *f)
{
    struct exp_modstat *s = exp_modstat(e, module);
    int i;

    if (!s)
        return;
    if (f->success)
        s->success++;
    else
        s->failure++;
    for (i = 0; i < EXP_HIST_BUCKETS; i++)
        if (f->duration <= hist_le[i])
            s->hist[i]++;
    s->sum += f->duration;
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct exp_rmod *rm = arg;
    struct probe *p = r->udata;
    struct exp_facts f;

    (void)scan;
    exp_facts_from(&f, r, rm->m, exp_now() - p->start);
    if (r->error != HSCAN_ECANCELED)
        count(rm->g->e, rm->m->name, &f);
    if (p->done) {
        rm->g->e->in_flight--;
        p->done(p->arg, &f);
        exp_facts_free(&f);
        free(p);
        return;
    }
    if (r->error == HSCAN_ECANCELED && rm->g->retired) {
        exp_facts_free(&f);
    } else {
        if (rm->have[p->index])
            exp_facts_free(&rm->last[p->index]);
        rm->last[p->index] = f;
        rm->have[p->index] = 1;
    }
    rm->g->e->batch_in_flight--;
    if (--rm->pending == 0)
        rm->round_seconds = exp_now() - rm->round_start;
}

static int set_family(hscan_config_t *c, const struct exp_module *m)
{
    if (m->fallback) {
        c->prefer_family = m->prefer_family;
        return 0;
    }
    c->family = m->prefer_family;
    return 0;
}

static int rmod_open(struct exp_rmod *rm, struct exp *e, char *err,
                     size_t size)
{
    const struct exp_module *m = rm->m;
    /* blackbox has one limit, the probe's: the phase limits are set
     * past it, so it is the one that ends a probe (libhscan then names
     * the phase it cut: "read_timeout" while waiting for the answer). */
    uint64_t t = (m->timeout_ms ? m->timeout_ms : 120000) + 1000;
    hscan_config_t c;
    const char *field = NULL;
    char detail[256];
    int rc;

    hscan_config_init(&c);
    c.concurrency = e->max_probes;
    c.timeout_ms = c.dns_timeout_ms = c.connect_timeout_ms = t;
    c.read_timeout_ms = c.tls_timeout_ms = t;
    c.method = m->method;
    c.user_agent = "hscan-exporter";
    c.headers = (const char *const *)m->headers;
    c.n_headers = m->n_headers;
    c.scheme = HSCAN_SCHEME_HTTP;
    c.follow = m->no_follow ? 0 : 10;
    c.ca_file = m->ca_file;
    c.insecure = m->insecure;
    c.body_bytes = BODY_BYTES;
    c.body_keep = 0;
    c.audit = 1;
    c.proxy = m->proxy_url;
    c.basic_auth = m->basic_auth;
    c.body = m->body;
    c.body_len = m->body_len;
    c.tls_chain = 1;
    c.sni = m->server_name;
    c.tls_min = m->tls_min;
    c.cert_file = m->cert_file;
    c.key_file = m->key_file;
    /* fail_if_body_* and fail_if_header_*: the library's matchers
     * (PCRE2) decide r->filtered; exp-facts.c reads it */
    c.matchers = m->matchers;
    c.n_matchers = m->n_matchers;
    c.on_result = on_result;
    c.arg = rm;
    set_family(&c, m);
    if (hscan_config_check(&c, &field, detail, sizeof detail) < 0)
        return snprintf(err, size, "module %s (line %u): %s: %s", m->name,
                        m->line, field ? field : "?", detail), -1;
    if ((rc = hscan_new(&rm->scan, e->loop, &c)) < 0)
        return snprintf(err, size, "module %s (line %u): %s%s", m->name,
                        m->line, hscan_strerror(rc), rc == HSCAN_EINVAL ?
                        " (a tls_config file that cannot be loaded, or a "
                        "proxy_url that does not resolve)" : ""), -1;
    return 0;
}

static void batch_round(uv_timer_t *t);

static int batch_open(struct exp_rmod *rm, struct exp *e)
{
    size_t n = rm->m->n_targets;

    if (!n)
        return 0;
    rm->bprobes = calloc(n, sizeof *rm->bprobes);
    rm->last = calloc(n, sizeof *rm->last);
    rm->have = calloc(n, 1);
    if (!rm->bprobes || !rm->last || !rm->have)
        return -1;
    uv_timer_init(e->loop, &rm->timer);
    rm->timer.data = rm;
    rm->timer_open = 1;
    rm->g->open++;
    uv_timer_start(&rm->timer, batch_round, 0, rm->m->interval_ms);
    return 0;
}

static void gen_free(struct exp_gen *g)
{
    size_t i, k;

    for (i = 0; i < g->cfg.n_mods; i++) {
        struct exp_rmod *rm = &g->mods[i];
        for (k = 0; rm->have && k < rm->m->n_targets; k++)
            if (rm->have[k])
                exp_facts_free(&rm->last[k]);
        free(rm->bprobes);
        free(rm->last);
        free(rm->have);
    }
    free(g->mods);
    exp_config_free(&g->cfg);
    free(g);
}

static void on_closed_one(struct exp_gen *g)
{
    if (--g->open == 0)
        gen_free(g);
}

static void on_scan_closed(hscan_t *scan, void *arg)
{
    struct exp_rmod *rm = arg;

    (void)scan;
    on_closed_one(rm->g);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct exp_rmod *rm = h->data;

    on_closed_one(rm->g);
}

/* Close every scanner and timer; the generation is freed after the
 * last. */
static void gen_close(struct exp_gen *g)
{
    size_t i;

    g->open++;                 /* held while closing starts */
    for (i = 0; i < g->cfg.n_mods; i++) {
        struct exp_rmod *rm = &g->mods[i];
        if (rm->timer_open) {
            rm->timer_open = 0;
            uv_close((uv_handle_t *)&rm->timer, on_timer_closed);
        }
        if (rm->scan)
            hscan_close(rm->scan, on_scan_closed);
    }
    on_closed_one(g);
}

struct exp_gen *exp_gen_new(struct exp *e, struct exp_config *cfg, char *err,
                            size_t size)
{
    struct exp_gen *g = calloc(1, sizeof *g);
    size_t i;

    if (!g || !(g->mods = calloc(cfg->n_mods + 1, sizeof *g->mods))) {
        free(g);
        snprintf(err, size, "out of memory");
        return NULL;
    }
    g->e = e;
    g->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    g->refs = 1;
    for (i = 0; i < g->cfg.n_mods; i++) {
        struct exp_rmod *rm = &g->mods[i];
        rm->g = g;
        rm->m = &g->cfg.mods[i];
        if (rmod_open(rm, e, err, size) < 0)
            break;
        g->open++;
        if (batch_open(rm, e) < 0) {
            snprintf(err, size, "out of memory");
            break;
        }
    }
    if (i < g->cfg.n_mods) {
        g->retired = 1;
        gen_close(g);
        return NULL;
    }
    return g;
}

void exp_gen_ref(struct exp_gen *g)
{
    g->refs++;
}

void exp_gen_unref(struct exp_gen *g)
{
    if (--g->refs == 0)
        gen_close(g);
}

void exp_gen_retire(struct exp_gen *g)
{
    g->retired = 1;
    exp_gen_unref(g);
}

struct exp_rmod *exp_gen_module(struct exp_gen *g, const char *name)
{
    size_t i;

    for (i = 0; i < g->cfg.n_mods; i++)
        if (!strcmp(g->mods[i].m->name, name))
            return &g->mods[i];
    return NULL;
}

const struct exp_module *exp_rmod_config(const struct exp_rmod *rm)
{
    return rm->m;
}

/* blackbox: a target without a scheme is http://. */
static int target_line(const char *t, char *out, size_t size)
{
    int has = !strncasecmp(t, "http://", 7) || !strncasecmp(t, "https://", 8);
    int n = snprintf(out, size, "%s%s", has ? "" : "http://", t);

    return n > 0 && (size_t)n < size ? n : -1;
}

static int submit(struct exp_rmod *rm, struct probe *p, const char *target,
                  uint64_t timeout_ms, uint64_t *id)
{
    char line[EXP_URL_MAX + 16];
    hscan_target_opts_t o;
    int n = target_line(target, line, sizeof line);

    if (n < 0)
        return -1;
    hscan_target_opts_init(&o);
    o.timeout_ms = timeout_ms;
    p->start = exp_now();
    if (hscan_submit_ex(rm->scan, line, (size_t)n, p, &o, id) < 0)
        return -1;
    if (p->done)
        rm->g->e->in_flight++;
    else
        rm->g->e->batch_in_flight++;
    return 0;
}

int exp_probe(struct exp_rmod *rm, const char *target, uint64_t timeout_ms,
              exp_done_cb done, void *arg, uint64_t *id)
{
    struct probe *p = calloc(1, sizeof *p);

    if (!p)
        return -1;
    p->rm = rm;
    p->done = done;
    p->arg = arg;
    if (submit(rm, p, target, timeout_ms, id) < 0) {
        free(p);
        return -1;
    }
    return 0;
}

void exp_probe_cancel(struct exp_rmod *rm, uint64_t id)
{
    hscan_cancel(rm->scan, id);
}

static void batch_round(uv_timer_t *t)
{
    struct exp_rmod *rm = t->data;
    const struct exp_module *m = rm->m;
    uint64_t timeout = m->timeout_ms ? m->timeout_ms : m->interval_ms;
    size_t i;

    if (rm->pending)           /* the last round is still running */
        return;
    if (timeout > m->interval_ms)
        timeout = m->interval_ms;
    rm->round_start = exp_now();
    rm->rounds++;
    for (i = 0; i < m->n_targets; i++) {
        struct probe *p = &rm->bprobes[i];
        p->rm = rm;
        p->index = i;
        if (submit(rm, p, m->targets[i], timeout, NULL) == 0)
            rm->pending++;
    }
}

int exp_batch_render(struct exp_rmod *rm, struct exp_buf *b)
{
    const struct exp_facts **f;
    const char **t;
    size_t i, n = 0;

    if (!rm->m->n_targets)
        return -1;
    f = calloc(rm->m->n_targets, sizeof *f);
    t = calloc(rm->m->n_targets, sizeof *t);
    if (!f || !t) {
        free(f);
        free(t);
        b->failed = 1;
        return 0;
    }
    for (i = 0; i < rm->m->n_targets; i++)
        if (rm->have[i]) {
            f[n] = &rm->last[i];
            t[n++] = rm->m->targets[i];
        }
    exp_facts_render(b, f, t, n);
    free(f);
    free(t);
    return 0;
}

/* One family over the batch modules: rounds (0) or round seconds (1). */
static void batch_family(struct exp_buf *b, struct exp_gen *g,
                         const char *name, const char *type,
                         const char *help, int seconds)
{
    size_t i;

    exp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                   type);
    for (i = 0; i < g->cfg.n_mods; i++) {
        const struct exp_rmod *rm = &g->mods[i];
        if (!rm->m->n_targets)
            continue;
        exp_buf_printf(b, "%s{module=\"%s\"} ", name, rm->m->name);
        exp_buf_num(b, seconds ? rm->round_seconds : (double)rm->rounds);
        exp_buf_add(b, "\n", 1);
    }
}

/* hscan_stats of every scanner of the generation, per module. */
void exp_gen_stats(struct exp_gen *g, struct exp_buf *b)
{
    static const char *const q[] = { "0.5", "0.9", "0.99" };
    size_t i;
    int k;

    batch_family(b, g, "hscan_exporter_batch_rounds_total", "counter",
                 "Batch rounds started, per module", 0);
    batch_family(b, g, "hscan_exporter_batch_round_seconds", "gauge",
                 "How long the last whole batch round took", 1);
    exp_buf_printf(b, "# HELP hscan_exporter_probe_latency_seconds Probe "
                   "durations by module since start or reload "
                   "(hscan_stats)\n# TYPE "
                   "hscan_exporter_probe_latency_seconds summary\n");
    for (i = 0; i < g->cfg.n_mods; i++) {
        hscan_stats_t st;
        double v[3];
        if (hscan_stats(g->mods[i].scan, &st) < 0)
            continue;
        v[0] = st.total.p50_ms;
        v[1] = st.total.p90_ms;
        v[2] = st.total.p99_ms;
        for (k = 0; k < 3; k++)
            exp_buf_printf(b, "hscan_exporter_probe_latency_seconds"
                           "{module=\"%s\",quantile=\"%s\"} %.6f\n",
                           g->mods[i].m->name, q[k], v[k] / 1000.0);
        exp_buf_printf(b, "hscan_exporter_probe_latency_seconds_sum"
                       "{module=\"%s\"} %.6f\n", g->mods[i].m->name,
                       st.total.mean_ms * (double)st.total.count / 1000.0);
        exp_buf_printf(b, "hscan_exporter_probe_latency_seconds_count"
                       "{module=\"%s\"} %llu\n", g->mods[i].m->name,
                       (unsigned long long)st.total.count);
    }
}

const double *exp_hist_bounds(void)
{
    return hist_le;
}
