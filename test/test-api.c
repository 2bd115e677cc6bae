/* Integration tests of the API contract, feeding: every target gives
 * exactly one result, the window holds, pull feeding with LATER/feed,
 * submit-only scanners, on_drained re-arming, no callback from inside a
 * call, and no threads.  Closing, cancellation, config validation, two
 * scanners and the error table are in test-api-close.c.
 *
 * Each test owns a uv loop and the loopback DNS and HTTP servers
 * (api-env.h); the scanner resolves through that DNS server only.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "api-env.h"
#include "hscan.h"
#include "test-runner.h"

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
