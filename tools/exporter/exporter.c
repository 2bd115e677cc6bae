/* hscan-exporter: a Prometheus prober, blackbox_exporter's http prober
 * on libhscan, on one libuv loop.  docs/exporter.md, hscan-exporter(1).
 * This file: flags, routes, the exporter's own metrics, reload. */
#include "exporter.h"

#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TEXT "text/plain; charset=utf-8"
#define PROM "text/plain; version=0.0.4; charset=utf-8"

struct scrape {
    struct exp *e;
    struct exp_conn *c;        /* NULL once the client is gone */
    struct exp_gen *g;
    struct exp_rmod *rm;
    uint64_t id;
};

static int reply_text(struct exp_conn *c, int status, const char *msg)
{
    exp_reply(c, status, TEXT, msg, strlen(msg));
    return 0;
}

static void reply_buf(struct exp_conn *c, struct exp_buf *b)
{
    if (b->failed) {
        free(b->p);
        reply_text(c, 500, "out of memory\n");
    } else {
        exp_reply_owned(c, 200, PROM, b->p, b->len);
    }
}

static void on_probe_done(void *arg, const struct exp_facts *f)
{
    struct scrape *s = arg;
    struct exp_buf b = { NULL, 0, 0, 0 };

    if (s->c) {
        exp_conn_set_scrape(s->c, NULL);
        exp_facts_render(&b, &f, NULL, 1);
        reply_buf(s->c, &b);
    }
    exp_gen_unref(s->g);
    free(s);
}

void exp_scrape_abandon(struct exp *e, void *scrape)
{
    struct scrape *s = scrape;

    (void)e;
    s->c = NULL;
    exp_probe_cancel(s->rm, s->id);
}

/* blackbox's getTimeout: the header's seconds (120 without) less the
 * offset, or the module's timeout when that is shorter. */
static int scrape_timeout(struct exp *e, const struct exp_req *q,
                          const struct exp_module *m, uint64_t *ms)
{
    double t = 0, max, mt = (double)m->timeout_ms / 1000.0;
    char *end;

    if (q->has_timeout && q->timeout_len) {
        t = strtod(q->timeout, &end);
        if (end == q->timeout || *end || isnan(t))
            return -1;
    }
    if (t == 0)
        t = 120;
    max = t - e->timeout_offset;
    t = (mt > 0 && mt < max) || max < 0 ? mt : max;
    if (t <= 0)
        t = mt > 0 ? mt : 120;
    *ms = (uint64_t)(t * 1000.0 + 0.5);
    if (!*ms)
        *ms = 1;
    return 0;
}

/* --allow-targets: the target as given, or its host[:port], matches a
 * pattern (fnmatch); everything is allowed without patterns. */
static int allowed(const struct exp *e, const char *target)
{
    char host[1024];
    const char *h = strstr(target, "://"), *end;
    size_t i, n;

    if (!e->n_allow)
        return 1;
    h = h ? h + 3 : target;
    end = h + strcspn(h, "/?#");
    n = (size_t)(end - h) < sizeof host ? (size_t)(end - h) :
        sizeof host - 1;
    memcpy(host, h, n);
    host[n] = 0;
    for (i = 0; i < e->n_allow; i++)
        if (!fnmatch(e->allow[i], target, 0) ||
            !fnmatch(e->allow[i], host, 0))
            return 1;
    return 0;
}

static int query(const struct exp_req *q, const char *key, char *out,
                 size_t size)
{
    const char *qs = memchr(q->url, '?', q->url_len);

    if (!qs)
        return -1;
    qs++;
    return (int)exp_query_get(qs, q->url_len - (size_t)(qs - q->url), key,
                              out, size);
}

static int route_probe(struct exp *e, struct exp_conn *c)
{
    const struct exp_req *q = exp_conn_req(c);
    char target[EXP_URL_MAX], module[256], msg[512];
    struct exp_rmod *rm;
    struct scrape *s;
    uint64_t ms;
    int n;

    n = query(q, "module", module, sizeof module);
    if (n == -2 || query(q, "target", target, sizeof target) == -2)
        return reply_text(c, 400, "malformed query string\n");
    if (n < 1)
        strcpy(module, "http_2xx");
    if (!(rm = exp_gen_module(e->gen, module))) {
        e->module_unknown++;
        snprintf(msg, sizeof msg, "Unknown module \"%s\"\n", module);
        return reply_text(c, 400, msg);
    }
    if (query(q, "target", target, sizeof target) < 1)
        return reply_text(c, 400, "Target parameter is missing\n");
    if (scrape_timeout(e, q, exp_rmod_config(rm), &ms) < 0)
        return reply_text(c, 400, "Failed to parse timeout from Prometheus "
                          "header\n");
    if (!allowed(e, target)) {
        e->forbidden++;
        return reply_text(c, 403, "target not allowed by --allow-targets\n");
    }
    if (e->in_flight >= e->max_probes) {
        e->refused_busy++;
        snprintf(msg, sizeof msg, "too many probes in flight (%u, "
                 "--probe.concurrency)\n", e->in_flight);
        return reply_text(c, 503, msg);
    }
    if (!(s = calloc(1, sizeof *s)))
        return reply_text(c, 500, "out of memory\n");
    s->e = e;
    s->c = c;
    s->g = e->gen;
    s->rm = rm;
    if (exp_probe(rm, target, ms, on_probe_done, s, &s->id) < 0) {
        free(s);
        return reply_text(c, 400, "target is not a URL or host[:port]\n");
    }
    exp_gen_ref(s->g);
    exp_conn_set_scrape(c, s);
    return 0;
}

static int route_all(struct exp *e, struct exp_conn *c)
{
    const struct exp_req *q = exp_conn_req(c);
    struct exp_buf b = { NULL, 0, 0, 0 };
    char module[256];
    struct exp_rmod *rm;

    if (query(q, "module", module, sizeof module) < 1)
        return reply_text(c, 400, "module parameter is missing\n");
    if (!(rm = exp_gen_module(e->gen, module))) {
        e->module_unknown++;
        return reply_text(c, 400, "Unknown module\n");
    }
    if (exp_batch_render(rm, &b) < 0)
        return reply_text(c, 400, "module has no targets\n");
    reply_buf(c, &b);
    return 0;
}

/* ---- /metrics ---- */

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    long n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;              /* the directory's own descriptor */
}

static void process_metrics(struct exp *e, struct exp_buf *b)
{
    long pages = 0, rss = 0;
    struct rlimit rl;
    struct rusage ru;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    getrusage(RUSAGE_SELF, &ru);
    getrlimit(RLIMIT_NOFILE, &rl);
    exp_buf_printf(b, "# HELP process_cpu_seconds_total Total user and "
        "system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total "
        "counter\nprocess_cpu_seconds_total %.6f\n",
        (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    exp_buf_printf(b, "# HELP process_max_fds Maximum number of open file "
        "descriptors.\n# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
        (unsigned long long)rl.rlim_cur);
    exp_buf_printf(b, "# HELP process_open_fds Number of open file "
        "descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds "
        "%ld\n", open_fds());
    exp_buf_printf(b, "# HELP process_resident_memory_bytes Resident memory "
        "size in bytes.\n# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes %ld\n",
        rss * sysconf(_SC_PAGESIZE));
    exp_buf_printf(b, "# HELP process_start_time_seconds Start time of the "
        "process since unix epoch in seconds.\n# TYPE "
        "process_start_time_seconds gauge\nprocess_start_time_seconds "
        "%.3f\n", e->start_time);
}

static void probe_counters(struct exp *e, struct exp_buf *b)
{
    const double *le = exp_hist_bounds();
    size_t i;
    int k;

    exp_buf_printf(b, "# HELP hscan_exporter_probes_total Probes finished, "
                   "by module and result\n# TYPE hscan_exporter_probes_total "
                   "counter\n");
    for (i = 0; i < e->n_stats; i++)
        exp_buf_printf(b, "hscan_exporter_probes_total{module=\"%s\","
            "result=\"success\"} %llu\nhscan_exporter_probes_total{module="
            "\"%s\",result=\"failure\"} %llu\n", e->stats[i].name,
            (unsigned long long)e->stats[i].success, e->stats[i].name,
            (unsigned long long)e->stats[i].failure);
    exp_buf_printf(b, "# HELP hscan_exporter_probe_duration_seconds "
                   "Durations of finished probes, by module\n# TYPE "
                   "hscan_exporter_probe_duration_seconds histogram\n");
    for (i = 0; i < e->n_stats; i++) {
        const struct exp_modstat *s = &e->stats[i];
        for (k = 0; k < EXP_HIST_BUCKETS; k++)
            exp_buf_printf(b, "hscan_exporter_probe_duration_seconds_bucket"
                           "{module=\"%s\",le=\"%g\"} %llu\n", s->name,
                           le[k], (unsigned long long)s->hist[k]);
        exp_buf_printf(b, "hscan_exporter_probe_duration_seconds_bucket"
            "{module=\"%s\",le=\"+Inf\"} %llu\n"
            "hscan_exporter_probe_duration_seconds_sum{module=\"%s\"} %.6f\n"
            "hscan_exporter_probe_duration_seconds_count{module=\"%s\"} "
            "%llu\n", s->name, (unsigned long long)(s->success + s->failure),
            s->name, s->sum, s->name,
            (unsigned long long)(s->success + s->failure));
    }
}

static void gauge(struct exp_buf *b, const char *name, const char *type,
                  const char *help, double v)
{
    exp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s ", name, help, name,
                   type, name);
    exp_buf_num(b, v);
    exp_buf_add(b, "\n", 1);
}

static void route_metrics(struct exp *e, struct exp_conn *c)
{
    struct exp_buf b = { NULL, 0, 0, 0 };

    gauge(&b, "blackbox_exporter_config_last_reload_success_timestamp_"
          "seconds", "gauge", "Timestamp of the last successful "
          "configuration reload.", e->reload_ok_time);
    gauge(&b, "blackbox_exporter_config_last_reload_successful", "gauge",
          "Blackbox exporter config loaded successfully.", e->reload_ok);
    gauge(&b, "blackbox_module_unknown_total", "counter",
          "Count of unknown modules requested by probes",
          (double)e->module_unknown);
    gauge(&b, "hscan_exporter_batch_probes_in_flight", "gauge",
          "Batch probes running now", e->batch_in_flight);
    exp_gen_stats(e->gen, &b);
    gauge(&b, "hscan_exporter_config_reloads_failed_total", "counter",
          "Reloads refused because the new configuration was bad "
          "(the old one stays)", (double)e->reloads_failed);
    gauge(&b, "hscan_exporter_connections", "gauge",
          "Open HTTP connections", e->n_conns);
    probe_counters(e, &b);
    gauge(&b, "hscan_exporter_probes_in_flight", "gauge",
          "Probes of /probe scrapes running now", e->in_flight);
    exp_buf_printf(&b, "# HELP hscan_exporter_requests_refused_total "
        "Requests refused, by reason\n# TYPE "
        "hscan_exporter_requests_refused_total counter\n"
        "hscan_exporter_requests_refused_total{reason=\"bad_request\"} %llu\n"
        "hscan_exporter_requests_refused_total{reason=\"busy\"} %llu\n"
        "hscan_exporter_requests_refused_total{reason=\"connections\"} %llu\n"
        "hscan_exporter_requests_refused_total{reason=\"forbidden\"} %llu\n",
        (unsigned long long)e->bad_requests,
        (unsigned long long)e->refused_busy,
        (unsigned long long)e->refused_conns,
        (unsigned long long)e->forbidden);
    gauge(&b, "hscan_exporter_requests_total", "counter",
          "HTTP requests read", (double)e->requests);
    process_metrics(e, &b);
    reply_buf(c, &b);
}

static int path_is(const struct exp_req *q, const char *p)
{
    size_t n = strlen(p);

    return q->url_len >= n && !memcmp(q->url, p, n) &&
           (q->url_len == n || q->url[n] == '?');
}

static int reload(struct exp *e);

static int route(struct exp *e, struct exp_conn *c)
{
    const struct exp_req *q = exp_conn_req(c);

    if (path_is(q, "/-/reload")) {
        if (q->parser.method != HTTP_POST)
            return reply_text(c, 405, "This endpoint requires a POST "
                              "request.\n");
        if (reload(e) < 0)
            return reply_text(c, 500, "failed to reload config\n");
        return reply_text(c, 200, "OK\n");
    }
    if (!q->method_get)
        return reply_text(c, 405, "only GET and HEAD\n");
    if (path_is(q, "/probe"))
        return route_probe(e, c);
    if (path_is(q, "/probe/all"))
        return route_all(e, c);
    if (path_is(q, "/metrics")) {
        route_metrics(e, c);
        return 0;
    }
    if (path_is(q, "/-/healthy") || path_is(q, "/-/ready"))
        return reply_text(c, 200, "Healthy\n");
    if (path_is(q, "/"))
        return reply_text(c, 200, "hscan-exporter: /probe?target=T&module=M,"
                          " /probe/all?module=M, /metrics, /-/healthy\n");
    return reply_text(c, 404, "404 page not found\n");
}

void exp_route(struct exp *e, struct exp_conn *c)
{
    route(e, c);
}

/* ---- configuration, signals, flags ---- */

static int reload(struct exp *e)
{
    struct exp_config cfg = { NULL, 0 };
    struct exp_gen *g;
    char err[1024];

    if (exp_config_load(e->config_path, &cfg, err, sizeof err) < 0 ||
        !(g = exp_gen_new(e, &cfg, err, sizeof err))) {
        fprintf(stderr, "hscan-exporter: reload refused, the old "
                "configuration stays: %s\n", err);
        exp_config_free(&cfg);
        e->reload_ok = 0;
        e->reloads_failed++;
        return -1;
    }
    exp_gen_retire(e->gen);
    e->gen = g;
    e->reload_ok = 1;
    e->reload_ok_time = (double)time(NULL);
    fprintf(stderr, "hscan-exporter: configuration reloaded from %s\n",
            e->config_path);
    return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct exp *e = h->data;

    if (signum == SIGHUP) {
        reload(e);
        return;
    }
    e->stopping = 1;
    exp_server_stop(e);
    uv_close((uv_handle_t *)&e->sighup, NULL);
    uv_close((uv_handle_t *)&e->sigterm, NULL);
    uv_close((uv_handle_t *)&e->sigint, NULL);
    exp_gen_retire(e->gen);
    e->gen = NULL;
}

static const char usage_text[] =
"usage: hscan-exporter [--config.file=FILE] [--config.check]\n"
"                      [--web.listen-address=HOST:PORT]\n"
"                      [--probe.concurrency=N] [--web.max-connections=N]\n"
"                      [--web.idle-timeout=DURATION] [--timeout-offset=S]\n"
"                      [--allow-targets=PATTERN[,PATTERN...]]...\n"
"                      [--version] [--help]\n"
"\n"
"A Prometheus prober, blackbox_exporter's http prober on libhscan.\n"
"  --config.file=FILE          blackbox_exporter YAML (blackbox.yml)\n"
"  --config.check              check the configuration and exit (0/1)\n"
"  --web.listen-address=ADDR   where to serve (127.0.0.1:9115)\n"
"  --probe.concurrency=N       /probe scrapes probing at once; more get\n"
"                              503 (1000)\n"
"  --web.max-connections=N     open HTTP connections (10000)\n"
"  --web.idle-timeout=DURATION close idle connections after it (60s)\n"
"  --timeout-offset=S          taken from Prometheus' scrape timeout (0.5)\n"
"  --allow-targets=PATTERNS    probe only targets whose text or host[:port]\n"
"                              matches one of these globs; without it\n"
"                              any target is probed (an open prober)\n"
"Routes: /probe?target=T&module=M, /probe/all?module=M (batch modules),\n"
"/metrics, /-/healthy, POST /-/reload.  SIGHUP reloads.  docs/exporter.md\n";

struct opts {
    const char *config;
    int check;
};

static int add_allow(struct exp *e, const char *v)
{
    char *copy = strdup(v), *tok, *save = NULL;

    if (!copy)
        return -1;
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char **a = realloc(e->allow, (e->n_allow + 1) * sizeof *a);
        if (!a || !(a[e->n_allow] = strdup(tok))) {
            free(copy);
            return -1;
        }
        e->allow = a;
        e->n_allow++;
    }
    free(copy);
    return 0;
}

static int num_flag(const char *name, const char *v, unsigned long max,
                    unsigned *out)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);

    if (!*v || *end || n < 1 || n > max) {
        fprintf(stderr, "hscan-exporter: %s=%s: a number from 1 to %lu\n",
                name, v, max);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* One flag with its value (--name=value or --name value). */
static int flag(struct exp *e, struct opts *o, const char *name,
                const char *v)
{
    char *end;

    if (!strcmp(name, "--config.file"))
        return o->config = v, 0;
    if (!strcmp(name, "--web.listen-address"))
        return e->listen = v, 0;
    if (!strcmp(name, "--probe.concurrency"))
        return num_flag(name, v, 1000000, &e->max_probes);
    if (!strcmp(name, "--web.max-connections"))
        return num_flag(name, v, 1000000, &e->max_conns);
    if (!strcmp(name, "--allow-targets"))
        return add_allow(e, v);
    if (!strcmp(name, "--web.idle-timeout")) {
        if (exp_parse_duration(v, &e->idle_ms) == 0 && e->idle_ms)
            return 0;
        fprintf(stderr, "hscan-exporter: %s=%s: not a duration\n", name, v);
        return -1;
    }
    if (!strcmp(name, "--timeout-offset")) {
        e->timeout_offset = strtod(v, &end);
        if (*v && !*end && e->timeout_offset >= 0)
            return 0;
        fprintf(stderr, "hscan-exporter: %s=%s: not seconds\n", name, v);
        return -1;
    }
    fprintf(stderr, "hscan-exporter: unknown option %s\n%s", name,
            usage_text);
    return -1;
}

static int parse_args(struct exp *e, struct opts *o, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *eq = strchr(a, '=');
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (!strcmp(a, "--version")) {
            printf("hscan-exporter (libhscan %s)\n", hscan_version());
            exit(0);
        }
        if (!strcmp(a, "--config.check")) {
            o->check = 1;
            continue;
        }
        if (strncmp(a, "--", 2) || (eq ? (size_t)(eq - a) : strlen(a)) >=
            sizeof name) {
            fprintf(stderr, "hscan-exporter: unexpected argument %s\n%s", a,
                    usage_text);
            return -1;
        }
        snprintf(name, sizeof name, "%.*s",
                 eq ? (int)(eq - a) : (int)strlen(a), a);
        if (!eq && i + 1 >= argc) {
            fprintf(stderr, "hscan-exporter: %s needs a value\n", name);
            return -1;
        }
        if (flag(e, o, name, eq ? eq + 1 : argv[++i]) < 0)
            return -1;
    }
    return 0;
}

/* --config.check: the file parses and every module's scanner can be
 * made (its files load, its proxy resolves); nothing is probed. */
static int check(struct exp *e, struct exp_config *cfg, const char *path)
{
    size_t n = cfg->n_mods;
    struct exp_gen *g;
    char err[1024];

    if ((g = exp_gen_new(e, cfg, err, sizeof err)))
        exp_gen_retire(g);
    uv_run(e->loop, UV_RUN_DEFAULT);
    uv_loop_close(e->loop);
    if (!g) {
        fprintf(stderr, "hscan-exporter: %s: %s\n", path, err);
        return 1;
    }
    printf("hscan-exporter: %s: %zu module%s, OK\n", path, n,
           n == 1 ? "" : "s");
    return 0;
}

int main(int argc, char **argv)
{
    static struct exp e;
    struct opts o = { "blackbox.yml", 0 };
    struct exp_config cfg = { NULL, 0 };
    uv_loop_t loop;
    char err[1024];

    e.listen = "127.0.0.1:9115";
    e.max_probes = 1000;
    e.max_conns = 10000;
    e.idle_ms = 60000;
    e.timeout_offset = 0.5;
    if (parse_args(&e, &o, argc, argv) < 0)
        return 2;
    e.config_path = o.config;
    if (exp_config_load(o.config, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "hscan-exporter: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    e.loop = &loop;
    if (o.check)
        return check(&e, &cfg, o.config);
    e.start_time = (double)time(NULL);
    if (!(e.gen = exp_gen_new(&e, &cfg, err, sizeof err)) ||
        exp_server_start(&e, err, sizeof err) < 0) {
        fprintf(stderr, "hscan-exporter: %s\n", err);
        return 1;
    }
    e.reload_ok = 1;
    e.reload_ok_time = e.start_time;
    uv_signal_init(&loop, &e.sighup);
    uv_signal_init(&loop, &e.sigterm);
    uv_signal_init(&loop, &e.sigint);
    e.sighup.data = e.sigterm.data = e.sigint.data = &e;
    uv_signal_start(&e.sighup, on_signal, SIGHUP);
    uv_signal_start(&e.sigterm, on_signal, SIGTERM);
    uv_signal_start(&e.sigint, on_signal, SIGINT);
    fprintf(stderr, "hscan-exporter: listening on %s\n", e.listen);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return 0;
}
