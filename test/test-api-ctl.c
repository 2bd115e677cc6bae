/* Integration tests of the control API: pause/resume, cancelling one
 * target (queued, in flight, from inside a callback), per-target
 * overrides (hscan_submit_ex), target ids, the statistics (errors by
 * name, bytes, latency summaries, reset), sharding, and every public
 * function given NULL pointers.
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
#include "scan-env.h"
#include "server-capture.h"
#include "test-runner.h"

/* ---- pause and resume ---- */

struct pz {
    struct ctx c;               /* first: the shared callbacks read it */
    uv_timer_t t;
    unsigned at_check;
    hscan_stats_t st;
};

static void pz_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct pz *z = arg;

    note(&z->c, r);
    CHECK_INT(r->status, 200);
    if (z->c.results == 1) {
        CHECK(hscan_pause(scan) == 0);
        CHECK(hscan_pause(scan) == 0);          /* idempotent */
    }
}

static void pz_resume(uv_timer_t *t)
{
    struct pz *z = t->data;

    z->at_check = z->c.results;
    CHECK(hscan_stats(z->c.scan, &z->st) == 0);
    CHECK(hscan_resume(z->c.scan) == 0);
    uv_close((uv_handle_t *)t, NULL);
}

static void pz_drained(hscan_t *scan, void *arg)
{
    struct pz *z = arg;

    CHECK(z->at_check > 0);                     /* not while paused */
    drained_close(scan, arg);
}

TEST_T(api_pause_resume, 20)
{
    struct pz z;
    char line[64];
    unsigned i;

    ctx_init(&z.c, 20);
    z.at_check = 0;
    z.c.cfg.arg = &z;
    z.c.cfg.concurrency = 4;
    z.c.cfg.on_result = pz_result;
    z.c.cfg.on_drained = pz_drained;
    CHECK(new_scan(&z.c) == 0);
    snprintf(line, sizeof(line), "delay-100.test:%d", z.c.hport);
    for (i = 0; i < 20; i++)
        CHECK(submit(&z.c, line, i) == 0);
    CHECK(hscan_end_input(z.c.scan) == 0);
    CHECK(uv_timer_init(&z.c.loop, &z.t) == 0);
    z.t.data = &z;
    CHECK(uv_timer_start(&z.t, pz_resume, 900 * slow_factor(), 0) == 0);
    ctx_run(&z.c);
    /* paused at the first result: the three others in flight finished,
     * nothing new started */
    CHECK_INT(z.at_check, 4);
    CHECK_INT(z.st.in_flight, 0);
    CHECK_INT(z.st.paused, 1);
    CHECK_INT(z.st.queued, 16);
    CHECK_INT(z.st.finished, 4);
    check_once(&z.c);
    CHECK_INT(z.c.drained, 1);
    CHECK_INT(z.c.nested, 0);
    ctx_free(&z.c);
}

/* ---- cancel ---- */

struct cx {
    struct ctx c;
    uint64_t ids[8];
    int cancel_rc[4];
    uint64_t rid[8];            /* result id per index */
    double total[8];
    unsigned first;             /* index of the first result */
    uv_timer_t t;
};

static int submit_ex(struct ctx *c, const char *line, unsigned index,
                     const hscan_target_opts_t *o, uint64_t *id)
{
    int rc;

    c->in_call = 1;
    rc = hscan_submit_ex(c->scan, line, strlen(line),
                         (void *)(uintptr_t)(index + 1), o, id);
    c->in_call = 0;
    return rc;
}

static int cancel(struct ctx *c, uint64_t id)
{
    int rc;

    c->in_call = 1;
    rc = hscan_cancel(c->scan, id);
    c->in_call = 0;
    return rc;
}

static void cx_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct cx *x = arg;
    unsigned i = note(&x->c, r);

    (void)scan;
    if (x->c.results == 1)
        x->first = i;
    x->rid[i] = r->id;
    x->total[i] = r->total_ms;
}

TEST_T(api_cancel_queued, 20)
{
    struct cx x;
    char line[64];
    unsigned i;

    memset(&x, 0, sizeof(x));
    ctx_init(&x.c, 6);
    x.c.cfg.arg = &x;
    x.c.cfg.concurrency = 1;
    x.c.cfg.on_result = cx_result;
    x.c.cfg.on_drained = drained_close;
    CHECK(new_scan(&x.c) == 0);
    snprintf(line, sizeof(line), "delay-100.test:%d", x.c.hport);
    for (i = 0; i < 6; i++) {
        CHECK(submit_ex(&x.c, line, i, NULL, &x.ids[i]) == 0);
        if (i)
            CHECK(x.ids[i] > x.ids[i - 1]);
    }
    CHECK(cancel(&x.c, x.ids[3]) == 0);
    CHECK_INT(cancel(&x.c, x.ids[3]), HSCAN_ENOTFOUND);   /* once */
    CHECK_INT(cancel(&x.c, x.ids[5] + 1000), HSCAN_ENOTFOUND);
    CHECK(hscan_end_input(x.c.scan) == 0);
    ctx_run(&x.c);
    check_once(&x.c);
    CHECK_INT(x.c.nested, 0);
    CHECK_INT(x.first, 3);              /* on the next iteration */
    for (i = 0; i < 6; i++) {
        CHECK(x.rid[i] == x.ids[i]);
        CHECK_INT(x.c.err[i], i == 3 ? HSCAN_ECANCELED : 0);
    }
    ctx_free(&x.c);
}

/* In flight: one from a timer, one from inside another's result. */
static void cx_result_cancel(hscan_t *scan, const hscan_result_t *r,
                             void *arg)
{
    struct cx *x = arg;

    cx_result(scan, r, arg);
    if (r->id == x->ids[2])             /* the fast one */
        x->cancel_rc[1] = cancel(&x->c, x->ids[1]);
}

static void cx_timer(uv_timer_t *t)
{
    struct cx *x = t->data;

    x->cancel_rc[0] = cancel(&x->c, x->ids[0]);
    uv_close((uv_handle_t *)t, NULL);
}

TEST_T(api_cancel_in_flight, 20)
{
    struct cx x;
    char hang[64], slow[64];

    memset(&x, 0, sizeof(x));
    ctx_init(&x.c, 3);
    x.c.cfg.arg = &x;
    x.c.cfg.on_result = cx_result_cancel;
    x.c.cfg.on_drained = drained_close;
    CHECK(new_scan(&x.c) == 0);
    snprintf(hang, sizeof(hang), "hang.test:%d", x.c.hport);
    snprintf(slow, sizeof(slow), "delay-150.test:%d", x.c.hport);
    CHECK(submit_ex(&x.c, hang, 0, NULL, &x.ids[0]) == 0);
    CHECK(submit_ex(&x.c, hang, 1, NULL, &x.ids[1]) == 0);
    CHECK(submit_ex(&x.c, slow, 2, NULL, &x.ids[2]) == 0);
    CHECK(hscan_end_input(x.c.scan) == 0);
    CHECK(uv_timer_init(&x.c.loop, &x.t) == 0);
    x.t.data = &x;
    CHECK(uv_timer_start(&x.t, cx_timer, 100, 0) == 0);
    ctx_run(&x.c);
    check_once(&x.c);
    CHECK_INT(x.c.nested, 0);
    CHECK_INT(x.cancel_rc[0], 0);
    CHECK_INT(x.cancel_rc[1], 0);
    CHECK_INT(x.c.err[0], HSCAN_ECANCELED);
    CHECK_INT(x.c.err[1], HSCAN_ECANCELED);
    CHECK_INT(x.c.err[2], 0);
    /* the timeouts are 3 s and 8 s: these ended at the cancel (how long
     * after their start depends on when they started) */
    CHECK(x.total[0] > 0 && x.total[0] < 1000 * slow_factor());
    CHECK(x.total[1] > 0 && x.total[1] < 1000 * slow_factor());
    ctx_free(&x.c);
}

/* ---- per-target overrides ---- */

struct ov {
    struct ctx c;
    struct capture cap;
    unsigned left;
    char url[4][128];
    char detail[128];
    double total3;
};

static void ov_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct ov *o = arg;
    unsigned i = note(&o->c, r);

    (void)scan;
    if (i < 4 && r->url)
        snprintf(o->url[i], sizeof(o->url[i]), "%s", r->url);
    if (i == 3) {
        o->total3 = r->total_ms;
        snprintf(o->detail, sizeof(o->detail), "%s",
                 r->error_detail ? r->error_detail : "");
    }
}

static void ov_drained(hscan_t *scan, void *arg)
{
    struct ov *o = arg;

    cap_stop(&o->cap);
    drained_close(scan, arg);
}

static int has_line(const char *head, const char *line)
{
    size_t n = strlen(line);
    const char *p = head;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == head || p[-1] == '\n') && p[n] == '\r')
            return 1;
        p += n;
    }
    return 0;
}

TEST_T(api_target_overrides, 20)
{
    static const char *scan_hdrs[] = { "X-Scan: s", "X-Test: scanner" };
    static const char *tgt_hdrs[] = { "X-Test: target",
                                      "User-Agent: agent/1", "Accept:" };
    static const char *bad_hdr[] = { "NoColon" };
    static const char *crlf_hdr[] = { "X-A: b\r\nX-B: c" };
    struct ov o;
    hscan_target_opts_t t;
    hscan_stats_t st;
    const char *h;
    char line[96];

    memset(&o, 0, sizeof(o));
    ctx_init(&o.c, 4);
    CHECK(cap_start(&o.c.loop, &o.cap, "127.0.0.1", 0) == 0);
    o.c.cfg.arg = &o;
    o.c.cfg.headers = scan_hdrs;
    o.c.cfg.n_headers = 2;
    o.c.cfg.on_result = ov_result;
    o.c.cfg.on_drained = ov_drained;
    CHECK(new_scan(&o.c) == 0);

    /* refused, and nothing queued */
    hscan_target_opts_init(&t);
    t.method = "GE T";
    CHECK_INT(submit_ex(&o.c, "x.test", 0, &t, NULL), HSCAN_EINVAL);
    hscan_target_opts_init(&t);
    t.path = "nopath";
    CHECK_INT(submit_ex(&o.c, "x.test", 0, &t, NULL), HSCAN_EINVAL);
    hscan_target_opts_init(&t);
    t.headers = bad_hdr;
    t.n_headers = 1;
    CHECK_INT(submit_ex(&o.c, "x.test", 0, &t, NULL), HSCAN_EINVAL);
    t.headers = crlf_hdr;
    CHECK_INT(submit_ex(&o.c, "x.test", 0, &t, NULL), HSCAN_EINVAL);
    CHECK(hscan_stats(o.c.scan, &st) == 0);
    CHECK_INT(st.submitted, 0);

    hscan_target_opts_init(&t);
    t.method = "HEAD";
    t.headers = tgt_hdrs;
    t.n_headers = 3;
    snprintf(line, sizeof(line), "127.0.0.1:%d/one", o.cap.port);
    CHECK(submit_ex(&o.c, line, 0, &t, NULL) == 0);
    snprintf(line, sizeof(line), "127.0.0.1:%d/two", o.cap.port);
    CHECK(submit_ex(&o.c, line, 1, NULL, NULL) == 0);
    hscan_target_opts_init(&t);
    t.path = "/three?q=1";
    snprintf(line, sizeof(line), "127.0.0.1:%d", o.cap.port);
    CHECK(submit_ex(&o.c, line, 2, &t, NULL) == 0);
    hscan_target_opts_init(&t);
    t.timeout_ms = 300;
    snprintf(line, sizeof(line), "hang.test:%d", o.c.hport);
    CHECK(submit_ex(&o.c, line, 3, &t, NULL) == 0);
    CHECK(hscan_end_input(o.c.scan) == 0);
    ctx_run(&o.c);
    check_once(&o.c);

    CHECK((h = cap_find(&o.cap, "/one")) != NULL);
    CHECK(strncmp(h, "HEAD /one HTTP/1.1\r\n", 20) == 0);
    CHECK(has_line(h, "X-Scan: s"));
    CHECK(has_line(h, "X-Test: target"));
    CHECK(!has_line(h, "X-Test: scanner"));
    CHECK(has_line(h, "User-Agent: agent/1"));
    CHECK(strstr(h, "Accept:") == NULL);
    CHECK(has_line(h, "Connection: close"));
    CHECK((h = cap_find(&o.cap, "/two")) != NULL);
    CHECK(strncmp(h, "GET /two HTTP/1.1\r\n", 19) == 0);
    CHECK(has_line(h, "X-Test: scanner"));
    CHECK(has_line(h, "Accept: */*"));
    CHECK(strstr(h, "User-Agent: hscan/") != NULL);
    CHECK((h = cap_find(&o.cap, "/three?q=1")) != NULL);
    CHECK(strncmp(h, "GET /three?q=1 HTTP/1.1\r\n", 25) == 0);
    CHECK(strstr(o.url[2], "/three?q=1") != NULL);
    CHECK_INT(o.c.status[0], 200);
    CHECK_INT(o.c.status[1], 200);
    CHECK_INT(o.c.status[2], 200);
    /* the scanner's timeout is 8 s.  Deadlines run on loop time, read
     * at the start of the loop iteration, so under valgrind a target
     * may start some ms after its deadline's base.  The target's own
     * 300 ms ends the wait for a response: read_timeout, naming it. */
    CHECK_INT(o.c.err[3], HSCAN_EREAD_TIMEOUT);
    if (!(o.total3 >= 250 && o.total3 < 1500 * slow_factor()))
        fprintf(stderr, "  total %.1f ms\n", o.total3);
    CHECK(o.total3 >= 250 && o.total3 < 1500 * slow_factor());
    CHECK(strstr(o.detail, "overall budget of 300 ms") != NULL);
    cap_free(&o.cap);
    ctx_free(&o.c);
}

/* ---- statistics ---- */

struct sx {
    struct ctx c;
    hscan_stats_t st, after_reset;
};

static void sx_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    note(arg, r);
}

static void sx_drained(hscan_t *scan, void *arg)
{
    struct sx *x = arg;

    CHECK(hscan_stats(scan, &x->st) == 0);
    CHECK(hscan_stats_reset(scan) == 0);
    CHECK(hscan_stats(scan, &x->after_reset) == 0);
    drained_close(scan, arg);
}

static void check_latency(const hscan_latency_t *l, uint64_t count)
{
    CHECK_INT(l->count, count);
    CHECK(l->min_ms >= 0);
    CHECK(l->min_ms <= l->p50_ms && l->p50_ms <= l->p90_ms);
    CHECK(l->p90_ms <= l->p99_ms && l->p99_ms <= l->max_ms);
    CHECK(l->mean_ms >= l->min_ms && l->mean_ms <= l->max_ms);
}

TEST_T(api_stats_fields, 20)
{
    struct sx x;
    char line[64];
    const hscan_stats_t *st = &x.st;

    memset(&x, 0, sizeof(x));
    ctx_init(&x.c, 5);
    x.c.cfg.arg = &x;
    x.c.cfg.concurrency = 7;
    x.c.cfg.on_result = sx_result;
    x.c.cfg.on_drained = sx_drained;
    CHECK(new_scan(&x.c) == 0);
    snprintf(line, sizeof(line), "fast.test:%d", x.c.hport);
    CHECK(submit(&x.c, line, 0) == 0);
    snprintf(line, sizeof(line), "127.0.0.1:%d/b/status-503", x.c.hport);
    CHECK(submit(&x.c, line, 1) == 0);
    snprintf(line, sizeof(line), "x.nx.test:%d", x.c.hport);
    CHECK(submit(&x.c, line, 2) == 0);
    CHECK(submit(&x.c, "127.0.0.1:1", 3) == 0);     /* nobody listens */
    CHECK(submit(&x.c, "bad host!", 4) == 0);
    CHECK(hscan_end_input(x.c.scan) == 0);
    ctx_run(&x.c);
    check_once(&x.c);

    CHECK_INT(st->submitted, 5);
    CHECK_INT(st->started, 5);
    CHECK_INT(st->finished, 5);
    CHECK_INT(st->ok, 2);
    CHECK_INT(st->errors, 3);
    CHECK_INT(st->queued, 0);
    CHECK_INT(st->in_flight, 0);
    CHECK_INT(st->paused, 0);
    CHECK_INT(st->n_errors, 3);             /* in table order */
    CHECK_INT(st->by_error[0].code, HSCAN_EINVALID_TARGET);
    CHECK_INT(st->by_error[1].code, HSCAN_EDNS_NXDOMAIN);
    CHECK_INT(st->by_error[2].code, HSCAN_ECONNECT_REFUSED);
    CHECK_INT(st->by_error[0].count + st->by_error[1].count +
              st->by_error[2].count, 3);
    /* two requests of ~80 bytes; two responses with headers */
    CHECK(st->bytes_sent >= 120 && st->bytes_sent < 1000);
    CHECK(st->bytes_received >= 100 && st->bytes_received < 10000);
    check_latency(&st->total, 4);           /* the invalid line: none */
    check_latency(&st->dns, 2);             /* two names */
    check_latency(&st->connect, 2);         /* two connections made */
    check_latency(&st->ttfb, 2);
    check_latency(&st->tls, 0);
    CHECK(st->total.max_ms < 5000 * slow_factor());

    CHECK_INT(x.after_reset.finished, 0);
    CHECK_INT(x.after_reset.submitted, 0);
    CHECK_INT(x.after_reset.n_errors, 0);
    CHECK_INT(x.after_reset.total.count, 0);
    CHECK_INT(x.after_reset.bytes_sent, 0);
    CHECK_INT(x.after_reset.dns_lookups, 0);
    CHECK_INT(x.after_reset.concurrency, 7);
    ctx_free(&x.c);
}

/* ---- sharding ---- */

static uint64_t fnv(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static unsigned shard(const char *line, unsigned n)
{
    return hscan_shard_of(line, strlen(line), n);
}

TEST_T(api_shard_of, 20)
{
    static const char *same[] = {
        "example.com", "EXAMPLE.com", "  example.com\t", "example.com.",
        "https://Example.COM:8443/x?y", "http://example.com/",
        "example.com:8080"
    };
    unsigned n, i, per[3] = { 0, 0, 0 };
    char line[64];

    for (n = 2; n < 40; n++) {
        CHECK_INT(shard("example.com", n), fnv("example.com") % n);
        for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
            CHECK_INT(shard(same[i], n), shard("example.com", n));
        CHECK_INT(shard("[2001:db8::1]:8080", n), fnv("2001:db8::1") % n);
        CHECK_INT(shard("http://[2001:db8::1]/", n),
                  fnv("2001:db8::1") % n);
        CHECK_INT(shard("192.0.2.1", n), fnv("192.0.2.1") % n);
        /* not a target: the trimmed text itself */
        CHECK_INT(shard(" bad host! ", n), fnv("bad host!") % n);
    }
    /* pinned: the hash is documented as stable */
    CHECK_INT(fnv("example.com"), 0x576846634e2714c6ULL);
    CHECK_INT(shard("example.com", 0), 0);
    CHECK_INT(shard("example.com", 1), 0);
    for (i = 0; i < 3000; i++) {
        snprintf(line, sizeof(line), "h%u.example.net", i);
        per[shard(line, 3)]++;
    }
    for (i = 0; i < 3; i++)
        CHECK(per[i] > 900 && per[i] < 1100);
}

/* A pulling scanner with shard 1/3 takes exactly that shard's lines. */
struct sh {
    struct ctx c;
    unsigned mine;
    uint64_t max_id;
    unsigned wrong_shard;
    char lines[60][48];
};

static int sh_pull(hscan_t *scan, void *arg, const char **line,
                   size_t *len, void **udata)
{
    struct sh *h = arg;
    unsigned i;

    (void)scan;
    if (h->c.next == h->c.n)
        return HSCAN_NEXT_END;
    i = h->c.next++;
    *line = h->lines[i];
    *len = strlen(h->lines[i]);
    *udata = (void *)(uintptr_t)(i + 1);
    return HSCAN_NEXT_TARGET;
}

static void sh_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct sh *h = arg;
    unsigned i = note(&h->c, r);

    (void)scan;
    if (shard(h->lines[i], 3) != 1)
        h->wrong_shard++;
    CHECK(r->id >= 1);
    if (r->id > h->max_id)
        h->max_id = r->id;
}

static void sh_drained(hscan_t *scan, void *arg)
{
    struct sh *h = arg;
    hscan_stats_t st;

    CHECK(hscan_stats(scan, &st) == 0);
    CHECK_INT(st.submitted, 60);
    CHECK_INT(st.shard_skipped, 60 - h->mine);
    CHECK_INT(st.started, h->mine);
    drained_close(scan, arg);
}

TEST_T(api_shard_pull, 20)
{
    struct sh h;
    unsigned i;

    memset(&h, 0, sizeof(h));
    ctx_init(&h.c, 60);
    for (i = 0; i < 60; i++) {
        if (i % 10 == 9)
            snprintf(h.lines[i], sizeof(h.lines[i]), "bad line %u!", i);
        else
            snprintf(h.lines[i], sizeof(h.lines[i]), "s%u.fast.test:%d", i,
                     h.c.hport);
        h.mine += shard(h.lines[i], 3) == 1;
    }
    CHECK(h.mine >= 10 && h.mine <= 30);
    h.c.cfg.arg = &h;
    h.c.cfg.shard_index = 1;
    h.c.cfg.shard_count = 3;
    h.c.cfg.next_target = sh_pull;
    h.c.cfg.on_result = sh_result;
    h.c.cfg.on_drained = sh_drained;
    CHECK(new_scan(&h.c) == 0);
    ctx_run(&h.c);
    CHECK_INT(h.c.results, h.mine);
    CHECK_INT(h.wrong_shard, 0);
    CHECK_INT(h.max_id, h.mine);        /* ids 1..mine, no gaps */
    CHECK_INT(h.c.drained, 1);
    ctx_free(&h.c);

    /* shard_index must be below shard_count */
    ctx_init(&h.c, 1);
    h.c.cfg.shard_index = 3;
    h.c.cfg.shard_count = 3;
    h.c.cfg.on_result = sh_result;
    CHECK_INT(new_scan(&h.c), HSCAN_EINVAL);
    ctx_stop_servers(&h.c);
    ctx_run(&h.c);
    ctx_free(&h.c);
}

/* ---- NULL pointers: HSCAN_EINVAL or the neutral value, no crash ---- */

static void nul_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)r;
    (void)arg;
    CHECK(!"no result expected");
}

static void nul_closed(hscan_t *scan, void *arg)
{
    (void)scan;
    (*(unsigned *)arg)++;
}

/* A record as for an invalid line: nothing reached. */
static void blank_result(hscan_result_t *r)
{
    memset(r, 0, sizeof(*r));
    r->http_major = r->http_minor = -1;
    r->content_length = -1;
    r->dns_ms = r->connect_ms = r->tls_ms = r->ttfb_ms = -1;
}

static void null_results(void)
{
    static const char *const fields[] = { "status", "error" };
    hscan_result_t r;
    char buf[64];
    size_t len = 99;

    blank_result(&r);
    CHECK_INT(hscan_result_to_json(NULL, buf, sizeof(buf)), 0);
    CHECK_INT(hscan_result_to_json(&r, NULL, sizeof(buf)), 0);
    CHECK(hscan_result_to_json(&r, NULL, 0) > 0);       /* measuring */
    CHECK_INT(hscan_result_field(NULL, "status", buf, sizeof(buf), &len),
              HSCAN_EINVAL);
    CHECK_INT(hscan_result_field(&r, NULL, buf, sizeof(buf), &len),
              HSCAN_EINVAL);
    CHECK_INT(hscan_result_field(&r, "error", NULL, sizeof(buf), &len),
              HSCAN_EINVAL);
    CHECK_INT(len, 99);                 /* untouched on failure */
    CHECK_INT(hscan_result_field(&r, "error", NULL, 0, &len), 0);
    CHECK_INT(hscan_result_field(&r, "error", buf, sizeof(buf), NULL), 0);
    CHECK_INT(hscan_result_to_csv(&r, NULL, 2, buf, sizeof(buf)), 0);
    CHECK_INT(hscan_result_to_csv(&r, fields, 2, NULL, sizeof(buf)), 0);
    CHECK(hscan_result_to_csv(&r, fields, 2, NULL, 0) > 0);
    CHECK(hscan_result_to_csv(NULL, fields, 2, buf, sizeof(buf)) > 0);
    CHECK_INT(hscan_field_valid(NULL), 0);
}

TEST_T(api_null_pointers, 20)
{
    hscan_config_t cfg;
    hscan_stats_t st;
    uv_loop_t loop;
    hscan_t *scan;
    unsigned closed = 0;

    CHECK_INT(hscan_pause(NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_resume(NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_feed(NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_end_input(NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_close(NULL, NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_stats(NULL, &st), HSCAN_EINVAL);
    CHECK_INT(hscan_stats(NULL, NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_stats_reset(NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_submit(NULL, "x", 1, NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_submit_ex(NULL, "x", 1, NULL, NULL, NULL),
              HSCAN_EINVAL);
    CHECK_INT(hscan_cancel(NULL, 1), HSCAN_EINVAL);
    CHECK_INT(hscan_config_check(NULL, NULL, NULL, 0), HSCAN_EINVAL);
    CHECK_INT(hscan_target_opts_check(NULL, NULL, NULL, 0), 0);
    hscan_config_init(NULL);
    hscan_target_opts_init(NULL);
    CHECK_INT(hscan_shard_of(NULL, 5, 4), 0);
    CHECK(hscan_shard_of(NULL, 0, 4) < 4);
    null_results();

    /* a live scanner: a NULL `out`, a NULL line */
    CHECK(uv_loop_init(&loop) == 0);
    hscan_config_init(&cfg);
    cfg.resolvers = "127.0.0.1:53";
    cfg.scheme = HSCAN_SCHEME_HTTP;
    cfg.on_result = nul_result;
    cfg.arg = &closed;
    CHECK(hscan_new(&scan, &loop, &cfg) == 0);
    CHECK_INT(hscan_stats(scan, NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_stats(scan, &st), 0);
    CHECK_INT(hscan_submit(scan, NULL, 3, NULL), HSCAN_EINVAL);
    CHECK_INT(hscan_submit_ex(scan, NULL, 3, NULL, NULL, NULL),
              HSCAN_EINVAL);
    CHECK_INT(hscan_close(scan, nul_closed), 0);
    CHECK_INT(closed, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed, 1);
    CHECK(uv_loop_close(&loop) == 0);
}
