/* Integration tests of the API contract, closing: cancellation on close
 * (targets in flight and queued, from inside on_result, before the first
 * loop iteration, during DNS), config validation, two scanners on one
 * loop, and the error table.  Feeding is in test-api.c.
 *
 * Each test owns a uv loop and the loopback DNS and HTTP servers
 * (api-env.h); the scanner resolves through that DNS server only.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "api-env.h"
#include "hscan.h"
#include "test-runner.h"

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

/* 600 hanging targets, 500 in flight: closing gives each a canceled
 * record.  With `max_per_ip` 3 only three of them connect; the rest
 * wait for the address, and are canceled there. */
static void close_in_flight(unsigned max_per_ip)
{
    struct cl x;
    char line[64];
    unsigned i;

    ctx_init(&x.c, 600);
    x.at_close = x.in_flight_at_close = x.canceled = 0;
    x.close_rc = -1;
    x.c.cfg.arg = &x;
    x.c.cfg.concurrency = 500;
    x.c.cfg.max_per_ip = max_per_ip;
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

TEST_T(api_close_in_flight, 30) { close_in_flight(0); }
TEST_T(api_close_gate_waiting, 30) { close_in_flight(3); }

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

/* hscan_close() inside the first result, with 199 more answers on
 * their way in the same loop iteration (NXDOMAIN from the loopback
 * resolver, all sent at once): every one of them is canceled, none
 * keeps its real result (hscan.h: "every target in flight at the call
 * gets canceled"). */
static void result_close_first(hscan_t *scan, const hscan_result_t *r,
                               void *arg)
{
    struct ctx *c = arg;

    (void)scan;
    note(c, r);
    if (c->results == 1) {
        CHECK_INT(r->error, HSCAN_EDNS_NXDOMAIN);
        CHECK(close_scan(c) == 0);
        return;
    }
    CHECK_INT(r->error, HSCAN_ECANCELED);
}

TEST_T(api_close_same_iteration, 20)
{
    struct ctx c;
    char line[64];
    unsigned i, canceled = 0;

    ctx_init(&c, 200);
    c.cfg.on_result = result_close_first;
    c.cfg.on_drained = drained_close;
    c.cfg.concurrency = 200;
    CHECK(new_scan(&c) == 0);
    for (i = 0; i < 200; i++) {
        snprintf(line, sizeof(line), "n%u.nx.test:%d", i, c.hport);
        CHECK(submit(&c, line, i) == 0);
    }
    CHECK(hscan_end_input(c.scan) == 0);
    ctx_run(&c);
    check_once(&c);
    CHECK_INT(c.results, 200);
    for (i = 0; i < 200; i++)
        canceled += c.err[i] == HSCAN_ECANCELED;
    CHECK_INT(canceled, 199);
    CHECK_INT(c.closed, 1);
    ctx_free(&c);
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
