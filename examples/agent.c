/* agent: a monitoring agent's probe loop.  Probes a fixed set of
 * endpoints every --interval seconds with one scanner that lives for the
 * whole run, on a loop it shares with its own timer and signal handles,
 * and after each round rewrites a Prometheus text-format file for
 * node_exporter's textfile collector (docs/prometheus.md lists the
 * metrics).
 *
 * usage: agent --out FILE.prom [--interval SECONDS] [--rounds N]
 *              [--resolvers IP[:PORT],...] [--ca-file PEM] [--follow N]
 *              [--timeout-ms MS] [--path PATH] ENDPOINT...
 *
 * --timeout-ms and --path are per-endpoint settings: each applies to the
 * endpoints named after it on the command line, until given again
 * (hscan_submit_ex() overrides; the scanner itself keeps its defaults).
 * --rounds 0 (the default) runs until SIGINT or SIGTERM; either signal
 * cancels the round in flight and exits 0, leaving the file of the last
 * complete round in place.
 */
#define _POSIX_C_SOURCE 200809L   /* fsync(), getpid() */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hscan.h>

enum { PH_DNS, PH_CONNECT, PH_TLS, PH_TTFB, N_PHASES };
static const char *const phase_name[N_PHASES] = {
    "dns", "connect", "tls", "ttfb"
};

/* What the last result of an endpoint said, copied out of the result
 * view, which is gone once on_result returns. */
struct sample {
    int error;
    int status;
    double phase_ms[N_PHASES];    /* -1: the phase did not happen */
    double total_ms;
    size_t redirects;
    int has_tls;                  /* a certificate arrived */
    int verified;
    long long not_after;          /* unix time, -1 when unreadable */
    char tls_version[16];         /* "" when the handshake failed */
};

struct endpoint {
    const char *target;           /* argv string; the `target` label */
    hscan_target_opts_t opts;     /* its per-target overrides */
    struct sample last;
};

struct agent {
    hscan_t *scan;                /* one scanner, reused every round */
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    struct endpoint *ep;
    size_t n_ep;
    const char *out;              /* the .prom file */
    uint64_t interval_ms;
    unsigned long rounds_max;     /* 0: until a signal */
    unsigned long rounds;         /* rounds completed */
    unsigned long skipped;        /* ticks that found a round running */
    int in_round;
    uint64_t round_start_ns;
    double round_seconds;         /* duration of the last round */
    const char *stop_signal;      /* signal name once stopping on one */
    int stopping;
    unsigned long late;           /* results delivered while stopping */
    int write_failed;             /* the last write of the file failed */
};

/* "2026-01-31T12:00:00Z" as unix time, or -1.  Days from the civil
 * date (H. Hinnant's days_from_civil) rather than timegm(), which is
 * not ISO C or POSIX.1-2008. */
static long long rfc3339_to_unix(const char *s)
{
    int y, m, d, hh, mm, ss;
    long long era, yoe, doy, doe;

    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &m, &d, &hh, &mm,
                     &ss) != 6)
        return -1;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss;
}

static void copy_sample(struct sample *s, const hscan_result_t *r)
{
    memset(s, 0, sizeof(*s));
    s->error = r->error;
    s->status = r->status;
    s->phase_ms[PH_DNS] = r->dns_ms;
    s->phase_ms[PH_CONNECT] = r->connect_ms;
    s->phase_ms[PH_TLS] = r->tls_ms;
    s->phase_ms[PH_TTFB] = r->ttfb_ms;
    s->total_ms = r->total_ms;
    s->redirects = r->n_redirects;
    s->not_after = -1;
    if (r->tls) {
        s->has_tls = 1;
        s->verified = r->tls->verified;
        s->not_after = rfc3339_to_unix(r->tls->not_after);
        snprintf(s->tls_version, sizeof(s->tls_version), "%s",
                 r->tls->version ? r->tls->version : "");
    }
}

/* Nothing measured: an endpoint's sample before its first result, and
 * (with the error set) when it could not be submitted, so the file never
 * shows an earlier round's answer as this one's. */
static const struct sample no_sample = {
    0, 0, { -1, -1, -1, -1 }, -1, 0, 0, 0, -1, ""
};

static int probe_success(const struct sample *s)
{
    return s->error == 0 && s->status >= 200 && s->status < 400;
}

/* ---- the text exposition format ---- */

/* A family's HELP and TYPE go out with its first sample, so a family
 * without samples (no HTTPS endpoint, no errors) leaves no trace. */
struct writer {
    FILE *f;
    const char *name, *type, *help;
    int head_done;
};

static void family(struct writer *w, const char *name, const char *type,
                   const char *help)
{
    w->name = name;
    w->type = type;
    w->help = help;
    w->head_done = 0;
}

/* Label values escape backslash, double quote and newline, and nothing
 * else (the text format 0.0.4). */
static void put_label(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s=\"", name);
    for (; *value; value++) {
        if (*value == '\\' || *value == '"')
            fprintf(f, "\\%c", *value);
        else if (*value == '\n')
            fputs("\\n", f);
        else
            fputc(*value, f);
    }
    fputc('"', f);
}

/* One sample of the current family, with up to two labels.  %.15g is
 * exact for every integer a counter here reaches and keeps a timestamp
 * to the second. */
static void sample(struct writer *w, const char *target, const char *lname,
                   const char *lvalue, double v)
{
    if (!w->head_done) {
        fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", w->name, w->help,
                w->name, w->type);
        w->head_done = 1;
    }
    fputs(w->name, w->f);
    if (target || lname) {
        fputc('{', w->f);
        if (target)
            put_label(w->f, "target", target);
        if (target && lname)
            fputc(',', w->f);
        if (lname)
            put_label(w->f, lname, lvalue);
        fputc('}', w->f);
    }
    fprintf(w->f, " %.15g\n", v);
}

/* The format wants each family's samples together, so every family is
 * written whole, endpoint by endpoint. */
#define EACH_ENDPOINT(e, a) for (e = (a)->ep; e < (a)->ep + (a)->n_ep; e++)

static void write_probes(struct writer *w, const struct agent *a)
{
    const struct endpoint *e;
    int k;

    family(w, "hscan_probe_success", "gauge",
           "1 if the last probe got an HTTP status 200-399, else 0.");
    EACH_ENDPOINT(e, a)
        sample(w, e->target, NULL, NULL, probe_success(&e->last));
    family(w, "hscan_probe_http_status_code", "gauge",
           "HTTP status of the last probe, 0 when none arrived.");
    EACH_ENDPOINT(e, a)
        sample(w, e->target, NULL, NULL, e->last.status);
    family(w, "hscan_probe_error_info", "gauge",
           "Stable error name of the last probe, when it failed.");
    EACH_ENDPOINT(e, a)
        if (e->last.error)
            sample(w, e->target, "error", hscan_err_name(e->last.error), 1);
    family(w, "hscan_probe_duration_seconds", "gauge",
           "Time from starting the last probe to its result.");
    EACH_ENDPOINT(e, a)
        if (e->last.total_ms >= 0)
            sample(w, e->target, NULL, NULL, e->last.total_ms / 1000);
    family(w, "hscan_probe_phase_duration_seconds", "gauge",
           "Duration of each phase of the last probe that happened.");
    EACH_ENDPOINT(e, a)
        for (k = 0; k < N_PHASES; k++)
            if (e->last.phase_ms[k] >= 0)
                sample(w, e->target, "phase", phase_name[k],
                       e->last.phase_ms[k] / 1000);
    family(w, "hscan_probe_http_redirects", "gauge",
           "Redirects the last probe followed.");
    EACH_ENDPOINT(e, a)
        sample(w, e->target, NULL, NULL, (double)e->last.redirects);
}

/* TLS facts exist whenever a certificate arrived, verified or not. */
static void write_tls(struct writer *w, const struct agent *a)
{
    const struct endpoint *e;

    family(w, "hscan_probe_tls_verified", "gauge",
           "1 if the certificate chain and host name verified, else 0.");
    EACH_ENDPOINT(e, a)
        if (e->last.has_tls)
            sample(w, e->target, NULL, NULL, e->last.verified);
    family(w, "hscan_probe_tls_version_info", "gauge",
           "TLS version the last probe negotiated.");
    EACH_ENDPOINT(e, a)
        if (e->last.tls_version[0])
            sample(w, e->target, "version", e->last.tls_version, 1);
    family(w, "hscan_probe_tls_cert_expiry_timestamp_seconds", "gauge",
           "notAfter of the server's leaf certificate, in unix time.");
    EACH_ENDPOINT(e, a)
        if (e->last.not_after >= 0)
            sample(w, e->target, NULL, NULL, (double)e->last.not_after);
}

static void counter(struct writer *w, const char *name, const char *help,
                    uint64_t v)
{
    family(w, name, "counter", help);
    sample(w, NULL, NULL, NULL, (double)v);
}

static void write_agent(struct writer *w, const struct agent *a)
{
    hscan_stats_t st;
    size_t i;

    counter(w, "hscan_agent_rounds_total", "Probe rounds completed.",
            a->rounds);
    counter(w, "hscan_agent_rounds_skipped_total",
            "Ticks skipped because the previous round was still running.",
            a->skipped);
    family(w, "hscan_agent_round_duration_seconds", "gauge",
           "Wall time of the last round, first start to last result.");
    sample(w, NULL, NULL, NULL, a->round_seconds);

    memset(&st, 0, sizeof(st));
    hscan_stats(a->scan, &st);            /* counts since hscan_new() */
    counter(w, "hscan_scanner_targets_submitted_total",
            "Targets handed to the scanner.", st.submitted);
    family(w, "hscan_scanner_results_total", "counter",
           "Results delivered, by outcome: ok or the error name.");
    sample(w, NULL, "result", "ok", (double)st.ok);
    for (i = 0; i < st.n_errors && i < HSCAN_STATS_MAX_ERRORS; i++)
        sample(w, NULL, "result", hscan_err_name(st.by_error[i].code),
               (double)st.by_error[i].count);
    counter(w, "hscan_scanner_sent_bytes_total",
            "Bytes written to sockets, TLS records included.",
            st.bytes_sent);
    counter(w, "hscan_scanner_received_bytes_total",
            "Bytes read from sockets.", st.bytes_received);
}

/* Write FILE.tmp.PID, fsync it, rename it over FILE: the collector reads
 * either the old file or the new one, never half of one (it reads only
 * *.prom names, so it skips the temporary).  Without the fsync, a crash
 * soon after the rename may leave FILE empty on a file system that
 * delays allocation.  The writes block the loop, but the scanner is idle
 * between rounds. */
static int write_prom(const struct agent *a)
{
    struct writer w = { NULL, NULL, NULL, NULL, 0 };
    char tmp[4096];
    int ok;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", a->out,
                 (long)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    if ((w.f = fopen(tmp, "w")) == NULL)
        return -errno;
    write_probes(&w, a);
    write_tls(&w, a);
    write_agent(&w, a);
    ok = fflush(w.f) == 0 && !ferror(w.f) && fsync(fileno(w.f)) == 0;
    ok = fclose(w.f) == 0 && ok;
    if (!ok || rename(tmp, a->out) != 0) {
        int err = errno;

        unlink(tmp);
        return err ? -err : -EIO;
    }
    return 0;
}

/* ---- the rounds ---- */

static void close_handles(struct agent *a)
{
    uv_close((uv_handle_t *)&a->tick, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
}

/* Closing the scanner cancels what is in flight (each target still gets
 * its result); with our handles closed too, uv_run() returns. */
static void stop(struct agent *a)
{
    if (a->stopping)
        return;
    a->stopping = 1;
    close_handles(a);
    hscan_close(a->scan, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct agent *a = h->data;

    a->stop_signal = signum == SIGINT ? "SIGINT" : "SIGTERM";
    stop(a);
}

static void start_round(struct agent *a)
{
    size_t i;
    int rc;

    a->in_round = 1;
    a->round_start_ns = uv_hrtime();
    for (i = 0; i < a->n_ep; i++) {
        struct endpoint *e = &a->ep[i];

        rc = hscan_submit_ex(a->scan, e->target, strlen(e->target), e,
                             &e->opts, NULL);
        if (rc != 0) {
            e->last = no_sample;
            e->last.error = rc;
        }
    }
    /* This round's input is complete: on_drained fires once all of it is
     * done.  The next round's submissions re-arm it. */
    hscan_end_input(a->scan);
}

static void on_tick(uv_timer_t *t)
{
    struct agent *a = t->data;

    if (a->in_round) {                /* slower than the interval */
        a->skipped++;
        return;
    }
    start_round(a);
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct agent *a = arg;

    (void)scan;
    if (a->stopping) {                /* the round will not be written */
        a->late++;
        return;
    }
    copy_sample(&((struct endpoint *)r->udata)->last, r);
}

static void on_drained(hscan_t *scan, void *arg)
{
    struct agent *a = arg;
    size_t i, up = 0;
    int rc;

    (void)scan;
    a->in_round = 0;
    a->rounds++;
    a->round_seconds = (double)(uv_hrtime() - a->round_start_ns) / 1e9;
    for (i = 0; i < a->n_ep; i++)
        up += probe_success(&a->ep[i].last);
    rc = write_prom(a);
    a->write_failed = rc != 0;
    fprintf(stderr, "agent: round %lu: %zu of %zu up in %.3f s%s%s\n",
            a->rounds, up, a->n_ep, a->round_seconds,
            rc ? "; writing the file failed: " : "", rc ? strerror(-rc) : "");
    if (a->rounds_max && a->rounds == a->rounds_max)
        stop(a);
}

/* ---- the command line ---- */

static int usage(void)
{
    fprintf(stderr,
            "usage: agent --out FILE.prom [--interval SECONDS] [--rounds N]\n"
            "             [--resolvers IP[:PORT],...] [--ca-file PEM] "
            "[--follow N]\n"
            "             [--timeout-ms MS] [--path PATH] ENDPOINT...\n");
    return -1;
}

static int number(const char *s, double max, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return errno || end == s || *end || !(*out >= 0 && *out <= max) ? -1 : 0;
}

static int add_endpoint(struct agent *a, const char *target,
                        const hscan_target_opts_t *opts)
{
    const char *first = target + strspn(target, " \t");
    size_t i;

    if (*first == '\0' || *first == '#') {     /* would give no result */
        fprintf(stderr, "agent: '%s' is not a target\n", target);
        return -1;
    }
    for (i = 0; i < a->n_ep; i++)     /* one series per target label */
        if (strcmp(a->ep[i].target, target) == 0) {
            fprintf(stderr, "agent: endpoint '%s' given twice\n", target);
            return -1;
        }
    a->ep[a->n_ep].target = target;
    a->ep[a->n_ep].opts = *opts;
    a->ep[a->n_ep].last = no_sample;
    a->n_ep++;
    return 0;
}

static int parse_args(int argc, char **argv, struct agent *a,
                      hscan_config_t *cfg)
{
    hscan_target_opts_t cur;          /* for the endpoints named next */
    int i, pending = 0;
    double v = 0;

    hscan_target_opts_init(&cur);
    a->interval_ms = 30000;
    if ((a->ep = calloc((size_t)argc, sizeof(*a->ep))) == NULL)
        return -1;
    for (i = 1; i < argc; i++) {
        const char *o = argv[i], *arg = argv[i + 1];

        if (o[0] != '-') {
            if (add_endpoint(a, o, &cur) != 0)
                return -1;
            pending = 0;
            continue;
        }
        if (!arg)
            return usage();
        i++;
        if (strcmp(o, "--out") == 0)
            a->out = arg;
        else if (strcmp(o, "--resolvers") == 0)
            cfg->resolvers = arg;
        else if (strcmp(o, "--ca-file") == 0)
            cfg->ca_file = arg;
        else if (strcmp(o, "--path") == 0 && arg[0] == '/')
            cur.path = arg, pending = 1;
        else if (number(arg, 1e6, &v) != 0)
            return usage();
        else if (strcmp(o, "--interval") == 0 && v >= 0.001)
            a->interval_ms = (uint64_t)(v * 1000);
        else if (strcmp(o, "--rounds") == 0)
            a->rounds_max = (unsigned long)v;
        else if (strcmp(o, "--follow") == 0)
            cfg->follow = (unsigned)v;
        else if (strcmp(o, "--timeout-ms") == 0 && v >= 1)
            cur.timeout_ms = (uint64_t)v, pending = 1;
        else
            return usage();
    }
    if (pending)
        fprintf(stderr, "agent: --path and --timeout-ms apply to the "
                "endpoints after them\n");
    return !a->out || a->n_ep == 0 || pending ? usage() : 0;
}

int main(int argc, char **argv)
{
    struct agent a;
    hscan_config_t cfg;
    uv_loop_t loop;
    int rc;

    memset(&a, 0, sizeof(a));
    hscan_config_init(&cfg);
    if (parse_args(argc, argv, &a, &cfg) != 0) {
        free(a.ep);
        return 2;
    }
    cfg.on_result = on_result;
    cfg.on_drained = on_drained;
    cfg.arg = &a;
    uv_loop_init(&loop);
    /* Our own handles beside the scanner's, on the same loop.  The
     * signals are caught before hscan_new(), which loads the system's
     * trust store (seconds under valgrind): a SIGTERM meanwhile waits
     * for uv_run() instead of killing the process. */
    uv_timer_init(&loop, &a.tick);
    uv_signal_init(&loop, &a.sigint);
    uv_signal_init(&loop, &a.sigterm);
    a.tick.data = a.sigint.data = a.sigterm.data = &a;
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    if ((rc = hscan_new(&a.scan, &loop, &cfg)) != 0) {
        fprintf(stderr, "agent: %s\n", hscan_strerror(rc));
        close_handles(&a);
    } else {
        uv_timer_start(&a.tick, on_tick, 0, a.interval_ms);
    }

    uv_run(&loop, UV_RUN_DEFAULT);    /* until everything is closed */
    if (a.stop_signal)
        fprintf(stderr, "agent: stopped by %s; in-flight probes "
                "canceled: %lu\n", a.stop_signal, a.late);
    free(a.ep);
    return uv_loop_close(&loop) == 0 && rc == 0 && !a.write_failed ? 0 : 1;
}
