/* Integration tests of the API contract: every target gives exactly one
 * result, the window holds, pull feeding with LATER/feed, submit-only
 * scanners, no callback from inside a call, cancellation on close, config
 * validation, two scanners on one loop, the error table, and no threads.
 *
 * Each test owns a uv loop and the loopback DNS and HTTP servers; the
 * scanner resolves through that DNS server only.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "server-dns.h"
#include "server-http.h"
#include "test-runner.h"

/* Tests that extend this struct put it first, so the scanner's `arg`
 * can be read as a struct ctx by the shared callbacks. */
struct ctx {
    uv_loop_t loop;
    struct tsrv_http *http;
    struct tsrv_dns *dns;
    int hport, dport;
    char resolvers[32];
    hscan_config_t cfg;
    hscan_t *scan;
    int in_call;            /* inside a call into the library */

    /* targets and what came back */
    unsigned n;             /* targets given */
    unsigned next;          /* pull position */
    unsigned char *seen;    /* results per target */
    int *err;               /* error per target */
    int *status;            /* status per target */
    char line[128];
    unsigned results, drained, closed, nested;
    unsigned results_at_drain, results_after_close_call;
    unsigned pulls_after_end, ended;
    int servers_stopped;

    /* sampling */
    uv_timer_t tick;
    int ticking;
    unsigned max_in_flight, max_threads, ticks;
};

static int n_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;

    CHECK(d != NULL);
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void ctx_init(struct ctx *c, unsigned n)
{
    memset(c, 0, sizeof(*c));
    CHECK(uv_loop_init(&c->loop) == 0);
    CHECK(tsrv_dns_start(&c->loop, "127.0.0.1", 0, &c->dns) == 0);
    CHECK(tsrv_http_start(&c->loop, "127.0.0.1", 0, &c->http) == 0);
    c->dport = tsrv_dns_port(c->dns);
    c->hport = tsrv_http_port(c->http);
    snprintf(c->resolvers, sizeof(c->resolvers), "127.0.0.1:%d", c->dport);
    hscan_config_init(&c->cfg);
    c->cfg.scheme = HSCAN_SCHEME_HTTP;  /* plain-HTTP servers */
    c->cfg.resolvers = c->resolvers;
    c->cfg.timeout_ms = 8000;
    c->cfg.dns_timeout_ms = 3000;
    c->cfg.connect_timeout_ms = 3000;
    c->cfg.read_timeout_ms = 3000;
    c->cfg.arg = c;
    c->n = n;
    c->seen = calloc(n + 1, 1);
    c->err = calloc(n + 1, sizeof(int));
    c->status = calloc(n + 1, sizeof(int));
    CHECK(c->seen && c->err && c->status);
}

static void ctx_stop_servers(struct ctx *c)
{
    if (c->servers_stopped)
        return;
    c->servers_stopped = 1;
    tsrv_dns_stop(c->dns);
    tsrv_http_stop(c->http);
    if (c->ticking) {
        c->ticking = 0;
        uv_close((uv_handle_t *)&c->tick, NULL);
    }
}

/* Run the loop to the end and check it is empty. */
static void ctx_run(struct ctx *c)
{
    uv_run(&c->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&c->loop) == 0);
}

static void ctx_free(struct ctx *c)
{
    free(c->seen);
    free(c->err);
    free(c->status);
}

/* Check each target got exactly one result. */
static void check_once(const struct ctx *c)
{
    unsigned i, bad = 0;

    for (i = 0; i < c->n; i++)
        if (c->seen[i] != 1 && bad++ < 5)
            fprintf(stderr, "  target %u: %u results\n", i, c->seen[i]);
    CHECK_INT(bad, 0);
    CHECK_INT(c->results, c->n);
}

/* Record one result for udata = index + 1. */
static unsigned note(struct ctx *c, const hscan_result_t *r)
{
    uintptr_t u = (uintptr_t)r->udata;
    unsigned i = (unsigned)(u - 1);

    if (c->in_call)
        c->nested++;
    CHECK(u >= 1 && u <= c->n);
    c->seen[i]++;
    c->err[i] = r->error;
    c->status[i] = r->status;
    c->results++;
    return i;
}

static void on_tick(uv_timer_t *t)
{
    struct ctx *c = t->data;
    hscan_stats_t st;
    unsigned th = (unsigned)n_threads();

    c->ticks++;
    if (th > c->max_threads)
        c->max_threads = th;
    if (c->scan && !c->closed) {
        CHECK(hscan_stats(c->scan, &st) == 0);
        if (st.in_flight > c->max_in_flight)
            c->max_in_flight = st.in_flight;
    }
}

static void start_tick(struct ctx *c)
{
    CHECK(uv_timer_init(&c->loop, &c->tick) == 0);
    c->tick.data = c;
    c->ticking = 1;
    CHECK(uv_timer_start(&c->tick, on_tick, 20, 20) == 0);
}

static void on_closed(hscan_t *scan, void *arg)
{
    struct ctx *c = arg;

    (void)scan;
    if (c->in_call)
        c->nested++;
    c->closed++;
    ctx_stop_servers(c);
}

/* Close the scanner, marking the call. */
static int close_scan(struct ctx *c)
{
    int rc;

    c->in_call = 1;
    rc = hscan_close(c->scan, on_closed);
    c->in_call = 0;
    return rc;
}

static void drained_close(hscan_t *scan, void *arg)
{
    struct ctx *c = arg;

    CHECK(scan == c->scan);
    if (c->in_call)
        c->nested++;
    c->drained++;
    c->results_at_drain = c->results;
    CHECK(close_scan(c) == 0);
}

/* Drained: the counters add up, then close. */
static void drained_stats(hscan_t *scan, void *arg)
{
    struct ctx *c = arg;
    hscan_stats_t st;

    CHECK(hscan_stats(scan, &st) == 0);
    CHECK_INT(st.started, c->n);
    CHECK_INT(st.finished, c->n);
    CHECK_INT(st.in_flight, 0);
    CHECK_INT(st.concurrency, c->cfg.concurrency);
    CHECK_INT(st.ok, c->n / 2);
    drained_close(scan, arg);
}

static int new_scan(struct ctx *c)
{
    int rc;

    c->in_call = 1;
    rc = hscan_new(&c->scan, &c->loop, &c->cfg);
    c->in_call = 0;
    return rc;
}

static int submit(struct ctx *c, const char *line, unsigned index)
{
    int rc;

    c->in_call = 1;
    rc = hscan_submit(c->scan, line, strlen(line),
                      (void *)(uintptr_t)(index + 1));
    c->in_call = 0;
    return rc;
}

/* ---- exactly once, no threads ---- */

enum { K_FAST, K_DELAY, K_INVALID, K_NX };

static int pull_mixed(hscan_t *scan, void *arg, const char **line,
                      size_t *len, void **udata)
{
    struct ctx *c = arg;
    unsigned i;

    CHECK(scan == c->scan);
    if (c->in_call)
        c->nested++;
    if (c->ended) {
        c->pulls_after_end++;
        return HSCAN_NEXT_END;
    }
    if (c->next == c->n) {
        c->ended = 1;
        return HSCAN_NEXT_END;
    }
    i = c->next++;
    switch (i % 4) {
    case K_FAST:
        snprintf(c->line, sizeof(c->line), "x%u.fast.test:%d", i, c->hport);
        break;
    case K_DELAY:
        snprintf(c->line, sizeof(c->line), "http://delay-50.test:%d/%u",
                 c->hport, i);
        break;
    case K_INVALID:
        snprintf(c->line, sizeof(c->line), "bad host %u!", i);
        break;
    default:
        snprintf(c->line, sizeof(c->line), "n%u.nx.test:%d", i, c->hport);
        break;
    }
    *line = c->line;
    *len = strlen(c->line);
    *udata = (void *)(uintptr_t)(i + 1);
    return HSCAN_NEXT_TARGET;
}

static void result_mixed(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct ctx *c = arg;
    hscan_stats_t st;
    unsigned th;

    CHECK(scan == c->scan);
    note(c, r);
    CHECK_INT(c->drained, 0);
    th = (unsigned)n_threads();
    if (th > c->max_threads)
        c->max_threads = th;
    CHECK(hscan_stats(scan, &st) == 0);
    CHECK(st.finished == c->results);
    CHECK(st.in_flight <= c->cfg.concurrency);
    CHECK(st.started >= st.finished);
    if (st.in_flight > c->max_in_flight)
        c->max_in_flight = st.in_flight;
}

TEST_T(api_exactly_once_2000, 60)
{
    struct ctx c;
    unsigned i, ok = 0, wrong = 0;

    ctx_init(&c, 2000);
    c.cfg.concurrency = 300;
    c.cfg.next_target = pull_mixed;
    c.cfg.on_result = result_mixed;
    c.cfg.on_drained = drained_stats;
    CHECK(new_scan(&c) == 0);
    start_tick(&c);
    CHECK_INT(c.next, 0);          /* nothing pulled inside hscan_new */
    ctx_run(&c);

    check_once(&c);
    CHECK_INT(c.drained, 1);
    CHECK_INT(c.results_at_drain, 2000);
    CHECK_INT(c.closed, 1);
    CHECK_INT(c.nested, 0);
    CHECK_INT(c.pulls_after_end, 0);
    CHECK(c.ticks > 0);
    CHECK_INT(c.max_threads, 1);
    CHECK(c.max_in_flight <= 300);
    for (i = 0; i < c.n; i++) {
        int want = i % 4 == K_INVALID ? HSCAN_EINVALID_TARGET
                 : i % 4 == K_NX ? HSCAN_EDNS_NXDOMAIN : 0;
        if (c.err[i] != want && wrong++ < 5)
            fprintf(stderr, "  target %u: %s, expected %s\n", i,
                    hscan_err_name(c.err[i]), hscan_err_name(want));
        if (want == 0 && c.status[i] != 200 && wrong++ < 5)
            fprintf(stderr, "  target %u: status %d\n", i, c.status[i]);
        ok += c.err[i] == 0;
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(ok, 1000);
    ctx_free(&c);
}

/* ---- the concurrency window ---- */

static int pull_delay(hscan_t *scan, void *arg, const char **line,
                      size_t *len, void **udata)
{
    struct ctx *c = arg;
    unsigned i;

    (void)scan;
    if (c->next == c->n)
        return HSCAN_NEXT_END;
    i = c->next++;
    snprintf(c->line, sizeof(c->line), "delay-200.test:%d", c->hport);
    *line = c->line;
    *len = strlen(c->line);
    *udata = (void *)(uintptr_t)(i + 1);
    return HSCAN_NEXT_TARGET;
}

static void result_window(hscan_t *scan, const hscan_result_t *r,
                          void *arg)
{
    struct ctx *c = arg;
    hscan_stats_t st;

    note(c, r);
    CHECK(hscan_stats(scan, &st) == 0);
    CHECK(st.in_flight <= 10);
    CHECK(st.started - st.finished <= 10);
    CHECK_INT(st.concurrency, 10);
    if (st.in_flight > c->max_in_flight)
        c->max_in_flight = st.in_flight;
}

TEST_T(api_concurrency_window, 30)
{
    struct ctx c;
    unsigned i;

    ctx_init(&c, 100);
    c.cfg.concurrency = 10;
    c.cfg.next_target = pull_delay;
    c.cfg.on_result = result_window;
    c.cfg.on_drained = drained_close;
    CHECK(new_scan(&c) == 0);
    start_tick(&c);
    ctx_run(&c);
    check_once(&c);
    CHECK_INT(c.drained, 1);
    CHECK_INT(c.closed, 1);
    CHECK(c.max_in_flight <= 10);
    CHECK_INT(c.max_in_flight, 10);     /* the window is used, too */
    for (i = 0; i < c.n; i++)
        CHECK_INT(c.status[i], 200);
    ctx_free(&c);
}

/* ---- pull with LATER, then hscan_feed() ---- */

struct later {
    struct ctx c;
    int ready;              /* targets may be given */
    unsigned given_in_batch, batches, later_calls;
    uv_timer_t feeder;
};

static void on_feed(uv_timer_t *t);

static int pull_later(hscan_t *scan, void *arg, const char **line,
                      size_t *len, void **udata)
{
    struct later *l = arg;
    unsigned i;

    (void)scan;
    if (l->c.in_call)
        l->c.nested++;
    if (l->c.next == l->c.n)
        return HSCAN_NEXT_END;
    if (!l->ready || l->given_in_batch == 5) {
        if (l->ready) {         /* batch done: wait for the timer again */
            l->ready = 0;
            l->given_in_batch = 0;
            CHECK(uv_timer_start(&l->feeder, on_feed, 50, 0) == 0);
        }
        l->later_calls++;
        return HSCAN_NEXT_LATER;
    }
    l->given_in_batch++;
    i = l->c.next++;
    snprintf(l->c.line, sizeof(l->c.line), "127.0.0.1:%d/b/fast/%u",
             l->c.hport, i);
    *line = l->c.line;
    *len = strlen(l->c.line);
    *udata = (void *)(uintptr_t)(i + 1);
    return HSCAN_NEXT_TARGET;
}

static void on_feed(uv_timer_t *t)
{
    struct later *l = t->data;
    unsigned before = l->c.results;

    CHECK_INT(l->c.drained, 0);
    l->ready = 1;
    l->batches++;
    l->c.in_call = 1;
    CHECK(hscan_feed(l->c.scan) == 0);
    CHECK(hscan_feed(l->c.scan) == 0);     /* idempotent */
    l->c.in_call = 0;
    CHECK_INT(l->c.results, before);
}

static void result_later(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct later *l = arg;

    (void)scan;
    note(&l->c, r);
    CHECK_INT(r->error, 0);
    CHECK_INT(r->status, 200);
}

static void drained_later(hscan_t *scan, void *arg)
{
    struct later *l = arg;

    uv_close((uv_handle_t *)&l->feeder, NULL);
    drained_close(scan, &l->c);
}

TEST_T(api_pull_later_feed, 20)
{
    struct later l;

    ctx_init(&l.c, 12);
    l.ready = 0;
    l.given_in_batch = l.batches = l.later_calls = 0;
    l.c.cfg.arg = &l;
    l.c.cfg.next_target = pull_later;
    l.c.cfg.on_result = result_later;
    l.c.cfg.on_drained = drained_later;
    CHECK(uv_timer_init(&l.c.loop, &l.feeder) == 0);
    l.feeder.data = &l;
    CHECK(uv_timer_start(&l.feeder, on_feed, 100, 0) == 0);
    CHECK(new_scan(&l.c) == 0);
    ctx_run(&l.c);
    check_once(&l.c);
    CHECK_INT(l.c.drained, 1);
    CHECK_INT(l.c.closed, 1);
    CHECK_INT(l.c.nested, 0);
    CHECK_INT(l.batches, 3);
    /* LATER stops the pulling until hscan_feed(): no busy polling. */
    CHECK(l.later_calls >= 3 && l.later_calls <= 20);
    ctx_free(&l.c);
}

/* ---- submit only ---- */

struct sub {
    struct ctx c;
    uv_timer_t later;
    unsigned drained_before_end;
    int ended;
};

static void on_end_timer(uv_timer_t *t)
{
    struct sub *s = t->data;

    s->drained_before_end = s->c.drained;
    s->ended = 1;
    s->c.in_call = 1;
    CHECK(hscan_end_input(s->c.scan) == 0);
    s->c.in_call = 0;
    CHECK_INT(s->c.drained, 0);     /* not from inside the call */
    uv_close((uv_handle_t *)&s->later, NULL);
}

static void result_sub(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct sub *s = arg;

    (void)scan;
    note(&s->c, r);
    if (s->c.results == s->c.n)
        CHECK(uv_timer_start(&s->later, on_end_timer, 100, 0) == 0);
}

static void drained_sub(hscan_t *scan, void *arg)
{
    struct sub *s = arg;

    CHECK(s->ended);
    drained_close(scan, &s->c);
}

TEST_T(api_submit_only, 20)
{
    struct sub s;
    unsigned i;

    ctx_init(&s.c, 20);
    s.drained_before_end = 0;
    s.ended = 0;
    s.c.cfg.arg = &s;
    s.c.cfg.next_target = NULL;
    s.c.cfg.on_result = result_sub;
    s.c.cfg.on_drained = drained_sub;
    CHECK(uv_timer_init(&s.c.loop, &s.later) == 0);
    s.later.data = &s;
    CHECK(new_scan(&s.c) == 0);
    for (i = 0; i < 20; i++) {
        char line[64];
        snprintf(line, sizeof(line), i % 2 ? "127.0.0.1:%d/b/notfound"
                                            : "fast.test:%d", s.c.hport);
        CHECK(submit(&s.c, line, i) == 0);
    }
    ctx_run(&s.c);
    check_once(&s.c);
    CHECK_INT(s.drained_before_end, 0);
    CHECK_INT(s.c.drained, 1);
    CHECK_INT(s.c.results_at_drain, 20);
    CHECK_INT(s.c.closed, 1);
    CHECK_INT(s.c.nested, 0);
    for (i = 0; i < 20; i++)
        CHECK_INT(s.c.status[i], i % 2 ? 404 : 200);
    ctx_free(&s.c);
}

/* Targets submitted from on_drained re-arm it: it fires again. */
static void result_plain(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    note(arg, r);
    CHECK_INT(r->status, 200);
}

static void drained_rearm(hscan_t *scan, void *arg)
{
    struct ctx *c = arg;
    char line[64];

    c->drained++;
    if (c->drained == 1) {
        CHECK_INT(c->results, 3);
        snprintf(line, sizeof(line), "fast.test:%d", c->hport);
        CHECK(submit(c, line, 3) == 0);
        CHECK(submit(c, line, 4) == 0);
        CHECK_INT(c->drained, 1);
        return;
    }
    CHECK_INT(c->results, 5);
    CHECK(scan == c->scan);
    CHECK(close_scan(c) == 0);
}

TEST_T(api_drained_rearms, 20)
{
    struct ctx c;
    char line[64];
    unsigned i;

    ctx_init(&c, 5);
    c.cfg.on_result = result_plain;
    c.cfg.on_drained = drained_rearm;
    CHECK(new_scan(&c) == 0);
    snprintf(line, sizeof(line), "127.0.0.1:%d", c.hport);
    for (i = 0; i < 3; i++)
        CHECK(submit(&c, line, i) == 0);
    CHECK(hscan_end_input(c.scan) == 0);
    ctx_run(&c);
    check_once(&c);
    CHECK_INT(c.drained, 2);
    CHECK_INT(c.closed, 1);
    CHECK_INT(c.nested, 0);
    ctx_free(&c);
}

/* ---- no callback from inside a call ---- */

/* Targets 0-4 invalid, 5-9 localhost (answered without the network),
 * 10-14 hang; 15-19 pulled invalid lines; 20-21 submitted from inside
 * on_result. */
struct nocb {
    struct ctx c;
    unsigned early;         /* results of targets other than hang */
    int fed, closed_call;
    uv_timer_t feeder;
};

static int pull_nocb(hscan_t *scan, void *arg, const char **line,
                     size_t *len, void **udata)
{
    struct nocb *x = arg;
    unsigned i;

    (void)scan;
    if (x->c.in_call)
        x->c.nested++;
    if (x->c.next == 5)
        return x->fed ? HSCAN_NEXT_END : HSCAN_NEXT_LATER;
    i = 15 + x->c.next++;
    snprintf(x->c.line, sizeof(x->c.line), "bad host %u!", i);
    *line = x->c.line;
    *len = strlen(x->c.line);
    *udata = (void *)(uintptr_t)(i + 1);
    return HSCAN_NEXT_TARGET;
}

static void result_nocb(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct nocb *x = arg;
    unsigned i = note(&x->c, r);

    (void)scan;
    if (i < 10 || i >= 15) {
        x->early++;
        if (i < 5 || i >= 15)
            CHECK_INT(r->error, HSCAN_EINVALID_TARGET);
        else
            CHECK_INT(r->status, 200);
    } else {
        CHECK_INT(r->error, HSCAN_ECANCELED);
    }
    if (x->early == 15 && i != 20 && i != 21 && x->c.results == 15) {
        CHECK(submit(&x->c, "bad host 20!", 20) == 0);
        CHECK(submit(&x->c, "bad host 21!", 21) == 0);
    }
    if (x->early == 17 && !x->fed) {
        x->fed = 1;
        x->c.in_call = 1;
        CHECK(hscan_feed(scan) == 0);
        x->c.in_call = 0;
    }
}

static void on_nocb_timer(uv_timer_t *t)
{
    struct nocb *x = t->data;
    hscan_stats_t st;

    CHECK(hscan_stats(x->c.scan, &st) == 0);
    if (x->early < 17 || !x->fed || x->closed_call)
        return;
    CHECK_INT(st.in_flight, 5);     /* the hang targets */
    x->closed_call = 1;
    CHECK(close_scan(&x->c) == 0);
    CHECK_INT(x->c.results, 17);
    uv_close((uv_handle_t *)&x->feeder, NULL);
}

TEST_T(api_no_callback_inside_calls, 20)
{
    struct nocb x;
    unsigned i;
    char line[64];

    ctx_init(&x.c, 22);
    x.early = 0;
    x.fed = x.closed_call = 0;
    x.c.cfg.arg = &x;
    x.c.cfg.next_target = pull_nocb;
    x.c.cfg.on_result = result_nocb;
    x.c.cfg.on_drained = drained_close;
    x.c.cfg.read_timeout_ms = 10000;
    x.c.cfg.timeout_ms = 15000;
    CHECK(new_scan(&x.c) == 0);
    for (i = 0; i < 15; i++) {
        if (i < 5)
            snprintf(line, sizeof(line), "bad host %u!", i);
        else if (i < 10)
            snprintf(line, sizeof(line), "localhost:%d", x.c.hport);
        else
            snprintf(line, sizeof(line), "127.0.0.1:%d/b/hang", x.c.hport);
        CHECK(submit(&x.c, line, i) == 0);
    }
    x.c.in_call = 1;
    CHECK(hscan_feed(x.c.scan) == 0);
    x.c.in_call = 0;
    CHECK_INT(x.c.results, 0);
    CHECK(uv_timer_init(&x.c.loop, &x.feeder) == 0);
    x.feeder.data = &x;
    CHECK(uv_timer_start(&x.feeder, on_nocb_timer, 20, 20) == 0);
    ctx_run(&x.c);
    check_once(&x.c);
    CHECK_INT(x.c.nested, 0);
    CHECK_INT(x.c.drained, 0);      /* closed with targets in flight */
    CHECK_INT(x.c.closed, 1);
    CHECK(x.closed_call);
    ctx_free(&x.c);
}

/* ---- close with targets in flight and queued ---- */

struct cl {
    struct ctx c;
    uv_timer_t t;
    unsigned at_close, in_flight_at_close, canceled;
    int close_rc;
};

static void result_cl(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct cl *x = arg;

    (void)scan;
    note(&x->c, r);
    if (r->error == HSCAN_ECANCELED)
        x->canceled++;
    else
        fprintf(stderr, "  unexpected %s\n", hscan_err_name(r->error));
}

static void on_cl_timer(uv_timer_t *t)
{
    struct cl *x = t->data;
    hscan_stats_t st;

    CHECK(hscan_stats(x->c.scan, &st) == 0);
    if (st.in_flight < 500)
        return;             /* not all slots taken yet */
    CHECK_INT(st.started, 500);
    x->in_flight_at_close = st.in_flight;
    x->at_close = x->c.results;
    x->close_rc = close_scan(&x->c);
    CHECK_INT(x->c.results, x->at_close);
    CHECK(hscan_close(x->c.scan, on_closed) == HSCAN_ECLOSED);
    uv_close((uv_handle_t *)&x->t, NULL);
}

TEST_T(api_close_in_flight, 30)
{
    struct cl x;
    char line[64];
    unsigned i;

    ctx_init(&x.c, 600);
    x.at_close = x.in_flight_at_close = x.canceled = 0;
    x.close_rc = -1;
    x.c.cfg.arg = &x;
    x.c.cfg.concurrency = 500;
    x.c.cfg.on_result = result_cl;
    x.c.cfg.on_drained = drained_close;
    x.c.cfg.read_timeout_ms = 20000;
    x.c.cfg.timeout_ms = 30000;
    CHECK(new_scan(&x.c) == 0);
    snprintf(line, sizeof(line), "127.0.0.1:%d/b/hang", x.c.hport);
    for (i = 0; i < 600; i++)
        CHECK(submit(&x.c, line, i) == 0);
    CHECK(uv_timer_init(&x.c.loop, &x.t) == 0);
    x.t.data = &x;
    CHECK(uv_timer_start(&x.t, on_cl_timer, 100, 20) == 0);
    ctx_run(&x.c);
    CHECK_INT(x.close_rc, 0);
    CHECK_INT(x.at_close, 0);
    CHECK_INT(x.in_flight_at_close, 500);
    check_once(&x.c);
    CHECK_INT(x.canceled, 600);
    CHECK_INT(x.c.closed, 1);
    CHECK_INT(x.c.drained, 0);
    CHECK_INT(x.c.nested, 0);
    ctx_free(&x.c);
}

/* hscan_close() from inside on_result; later calls say ECLOSED. */
static void result_close_inside(hscan_t *scan, const hscan_result_t *r,
                                void *arg)
{
    struct cl *x = arg;
    unsigned i = note(&x->c, r);

    if (i >= 10)
        CHECK_INT(r->error, HSCAN_ECANCELED);
    if (x->c.results > 1)
        return;
    CHECK(i < 10);                  /* the first result is a fast one */
    CHECK_INT(r->status, 200);
    x->close_rc = close_scan(&x->c);
    x->at_close = x->c.results;
    CHECK(hscan_close(scan, on_closed) == HSCAN_ECLOSED);
    CHECK(hscan_submit(scan, "fast.test", 9, NULL) == HSCAN_ECLOSED);
    CHECK(hscan_feed(scan) == HSCAN_ECLOSED);
    CHECK(hscan_end_input(scan) == HSCAN_ECLOSED);
}

TEST_T(api_close_inside_result, 20)
{
    struct cl x;
    char line[64];
    unsigned i;

    ctx_init(&x.c, 20);
    x.at_close = x.in_flight_at_close = x.canceled = 0;
    x.close_rc = -1;
    x.c.cfg.arg = &x;
    x.c.cfg.on_result = result_close_inside;
    x.c.cfg.on_drained = drained_close;
    x.c.cfg.read_timeout_ms = 10000;
    CHECK(new_scan(&x.c) == 0);
    for (i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), i < 10 ? "127.0.0.1:%d/b/fast"
                                            : "127.0.0.1:%d/b/hang",
                 x.c.hport);
        CHECK(submit(&x.c, line, i) == 0);
    }
    CHECK(hscan_end_input(x.c.scan) == 0);
    ctx_run(&x.c);
    CHECK_INT(x.close_rc, 0);
    CHECK_INT(x.at_close, 1);       /* nothing delivered inside close */
    check_once(&x.c);
    for (i = 10; i < 20; i++)
        CHECK_INT(x.c.err[i], HSCAN_ECANCELED);
    CHECK_INT(x.c.closed, 1);
    CHECK_INT(x.c.drained, 0);
    CHECK_INT(x.c.nested, 0);
    ctx_free(&x.c);
}

/* Closed before the first loop iteration: queued targets are canceled
 * (blank lines give nothing), the pull callback is never called. */
static int pull_never(hscan_t *scan, void *arg, const char **line,
                      size_t *len, void **udata)
{
    (void)scan;
    (void)line;
    (void)len;
    (void)udata;
    ((struct ctx *)arg)->nested++;
    return HSCAN_NEXT_END;
}

static void result_canceled(hscan_t *scan, const hscan_result_t *r,
                            void *arg)
{
    (void)scan;
    note(arg, r);
    CHECK_INT(r->error, HSCAN_ECANCELED);
    CHECK_INT(r->status, 0);
}

TEST_T(api_close_before_start, 20)
{
    struct ctx c;
    unsigned i;

    ctx_init(&c, 5);
    c.cfg.next_target = pull_never;
    c.cfg.on_result = result_canceled;
    c.cfg.on_drained = drained_close;
    CHECK(new_scan(&c) == 0);
    for (i = 0; i < 5; i++)
        CHECK(submit(&c, i % 2 ? "fast.test" : "bad host!", i) == 0);
    CHECK(hscan_submit(c.scan, "  ", 2, NULL) == 0);
    CHECK(close_scan(&c) == 0);
    CHECK_INT(c.results, 0);
    ctx_run(&c);
    check_once(&c);
    CHECK_INT(c.closed, 1);
    CHECK_INT(c.drained, 0);
    CHECK_INT(c.nested, 0);
    ctx_free(&c);
}

/* Closed while lookups wait on a resolver that never answers and while
 * connections hang: everything is canceled and the loop ends clean. */
struct dnsclose {
    struct ctx c;
    uv_timer_t t;
};

static void on_dnsclose_timer(uv_timer_t *t)
{
    struct dnsclose *x = t->data;
    hscan_stats_t st;

    CHECK(hscan_stats(x->c.scan, &st) == 0);
    CHECK_INT(st.in_flight, 6);
    CHECK_INT(x->c.results, 0);
    CHECK(close_scan(&x->c) == 0);
    uv_close((uv_handle_t *)&x->t, NULL);
}

TEST_T(api_close_during_dns, 20)
{
    struct dnsclose x;
    char line[64];
    unsigned i;

    ctx_init(&x.c, 6);
    x.c.cfg.arg = &x;
    x.c.cfg.on_result = result_canceled;
    x.c.cfg.on_drained = drained_close;
    x.c.cfg.dns_timeout_ms = 10000;
    x.c.cfg.read_timeout_ms = 10000;
    x.c.cfg.timeout_ms = 15000;
    CHECK(new_scan(&x.c) == 0);
    for (i = 0; i < 6; i++) {
        snprintf(line, sizeof(line), i < 4 ? "d%u.drop.test:%d"
                                           : "h%u.hang.test:%d",
                 i, x.c.hport);
        CHECK(submit(&x.c, line, i) == 0);
    }
    CHECK(hscan_end_input(x.c.scan) == 0);
    CHECK(uv_timer_init(&x.c.loop, &x.t) == 0);
    x.t.data = &x;
    CHECK(uv_timer_start(&x.t, on_dnsclose_timer, 300, 0) == 0);
    ctx_run(&x.c);
    check_once(&x.c);
    CHECK_INT(x.c.closed, 1);
    CHECK_INT(x.c.drained, 0);
    CHECK_INT(x.c.nested, 0);
    ctx_free(&x.c);
}

/* ---- config validation ---- */

static void result_none(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)r;
    (void)arg;
    CHECK(!"no result expected");
}

static void closed_count(hscan_t *scan, void *arg)
{
    (void)scan;
    (*(unsigned *)arg)++;
}

TEST_T(api_bad_configs, 20)
{
    static const char *const no_colon[] = { "X-A 1" };
    static const char *const crlf[] = { "X-A: 1\r\nX-B: 2" };
    static const char *const lf[] = { "X-A: 1\nX-B: 2" };
    static const char *const ok_hdrs[] = { "X-A: 1", "Accept:" };
    hscan_t *const sentinel = (hscan_t *)(uintptr_t)0x5ca9;
    hscan_config_t base, cfg;
    uv_loop_t loop;
    hscan_t *out;
    unsigned closed = 0;
    int i;

    CHECK(uv_loop_init(&loop) == 0);
    hscan_config_init(&base);
    base.resolvers = "127.0.0.1:53";
    base.on_result = result_none;
    base.arg = &closed;

    for (i = 0; i < 12; i++) {
        cfg = base;
        switch (i) {
        case 0: cfg.on_result = NULL; break;
        case 1: cfg.concurrency = 0; break;
        case 2: cfg.method = "GE T"; break;
        case 3: cfg.headers = no_colon; cfg.n_headers = 1; break;
        case 4: cfg.headers = crlf; cfg.n_headers = 1; break;
        case 5: cfg.family = 5; break;
        case 6: cfg.path = "x"; break;
        case 7: cfg.headers = lf; cfg.n_headers = 1; break;
        case 8: cfg.method = ""; break;
        case 9: cfg.user_agent = "a\r\nX-Evil: 1"; break;
        case 10: cfg.path = "/a b"; break;
        case 11: cfg.family = -1; break;
        }
        out = sentinel;
        if (hscan_new(&out, &loop, &cfg) != HSCAN_EINVAL)
            fprintf(stderr, "  case %d accepted\n", i);
        CHECK(hscan_new(&out, &loop, &cfg) == HSCAN_EINVAL);
        CHECK(out == sentinel);
    }
    cfg = base;
    cfg.resolvers = "not an address";
    out = sentinel;
    CHECK(hscan_new(&out, &loop, &cfg) < 0);
    CHECK(out == sentinel);
    CHECK(hscan_new(NULL, &loop, &base) == HSCAN_EINVAL);
    CHECK(hscan_new(&out, NULL, &base) == HSCAN_EINVAL);
    CHECK(hscan_new(&out, &loop, NULL) == HSCAN_EINVAL);
    CHECK(out == sentinel);
    /* nothing was left on the loop by the refusals */
    CHECK(uv_loop_close(&loop) == 0);

    /* a good config with the same fields edited validly, closed at once:
     * nothing is ever pulled or delivered */
    CHECK(uv_loop_init(&loop) == 0);
    cfg = base;
    cfg.method = "HEAD";
    cfg.path = "/x";
    cfg.headers = ok_hdrs;
    cfg.n_headers = 2;
    cfg.family = 6;
    out = sentinel;
    CHECK(hscan_new(&out, &loop, &cfg) == 0);
    CHECK(out != sentinel && out != NULL);
    CHECK(hscan_close(out, closed_count) == 0);
    CHECK_INT(closed, 0);           /* never from inside the call */
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed, 1);
    CHECK(uv_loop_close(&loop) == 0);
}

/* ---- two scanners on one loop ---- */

struct two {
    struct ctx c;           /* servers, results of both */
    hscan_t *s[2];
    unsigned results[2], drained[2], closed[2];
};

struct two_arg {
    struct two *t;
    int which;
};

static void two_closed(hscan_t *scan, void *arg)
{
    struct two_arg *a = arg;

    (void)scan;
    a->t->closed[a->which]++;
    if (a->t->closed[0] && a->t->closed[1])
        ctx_stop_servers(&a->t->c);
}

static void two_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct two_arg *a = arg;
    unsigned i;

    CHECK(scan == a->t->s[a->which]);
    i = note(&a->t->c, r);
    CHECK_INT(i % 2, (unsigned)a->which);   /* its own targets only */
    a->t->results[a->which]++;
    CHECK_INT(r->error, 0);
}

static void two_drained(hscan_t *scan, void *arg)
{
    struct two_arg *a = arg;

    a->t->drained[a->which]++;
    CHECK(hscan_close(scan, two_closed) == 0);
}

TEST_T(api_two_scanners, 20)
{
    struct two t;
    struct two_arg a[2];
    char line[64];
    unsigned i;
    int k;

    memset(&t, 0, sizeof(t));
    ctx_init(&t.c, 100);
    for (k = 0; k < 2; k++) {
        hscan_config_t cfg = t.c.cfg;
        a[k].t = &t;
        a[k].which = k;
        cfg.arg = &a[k];
        cfg.concurrency = k ? 7 : 50;
        cfg.on_result = two_result;
        cfg.on_drained = two_drained;
        CHECK(hscan_new(&t.s[k], &t.c.loop, &cfg) == 0);
    }
    for (i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), i % 3 ? "fast.test:%d"
                                           : "delay-100.test:%d",
                 t.c.hport);
        CHECK(hscan_submit(t.s[i % 2], line, strlen(line),
                           (void *)(uintptr_t)(i + 1)) == 0);
    }
    CHECK(hscan_end_input(t.s[0]) == 0);
    CHECK(hscan_end_input(t.s[1]) == 0);
    ctx_run(&t.c);
    check_once(&t.c);
    for (k = 0; k < 2; k++) {
        CHECK_INT(t.results[k], 50);
        CHECK_INT(t.drained[k], 1);
        CHECK_INT(t.closed[k], 1);
    }
    ctx_free(&t.c);
}

/* ---- error table ---- */

TEST(api_error_names)
{
    static const struct {
        int code;
        const char *name, *msg;
    } table[] = {
#define XX(c, id, name, msg) { HSCAN_##id, name, msg },
        HSCAN_ERRNO_MAP(XX)
#undef XX
    };
    enum { N = sizeof(table) / sizeof(table[0]) };
    size_t i, j;

    CHECK(N >= 30);
    for (i = 0; i < N; i++) {
        const char *name = hscan_err_name(table[i].code);
        const char *msg = hscan_strerror(table[i].code);

        CHECK(table[i].code < 0);
        CHECK(name != NULL && msg != NULL);
        CHECK_STR(name, table[i].name);
        CHECK_STR(msg, table[i].msg);
        CHECK(strcmp(name, "unknown_error") != 0);
        CHECK(strcmp(name, "ok") != 0);
        for (j = 0; j < i; j++) {
            CHECK(table[j].code != table[i].code);
            CHECK(strcmp(hscan_err_name(table[j].code), name) != 0);
        }
    }
    CHECK_STR(hscan_err_name(0), "ok");
    CHECK_STR(hscan_err_name(-999), "unknown_error");
    CHECK_STR(hscan_err_name(12345), "unknown_error");
    CHECK(hscan_strerror(-999) != NULL);
    CHECK(hscan_strerror(0) != NULL);
    CHECK_STR(hscan_version(), HSCAN_VERSION_STRING);
}
