/* Integration tests of many paths and every address (cfg.paths,
 * cfg.all_ips, cfg.unit_done): one record per unit, exactly once, each
 * with its own path or address; skipping units already done; cancelling
 * a target with units still queued.  Environment: scan-env.c; `five.test`
 * resolves to 127.0.0.1-3, ::1 and ::ffff:127.0.0.2 (server-dns.h),
 * served by one dual-stack server on "::".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "server-dns.h"
#include "server-http.h"
#include "test-runner.h"

static const char *const paths3[] = { "/one", "/two?x=1", "/three" };

static const char *const five[] = {
    "127.0.0.1", "127.0.0.2", "127.0.0.3", "::1", "::ffff:127.0.0.2"
};

/* Index of `s` in `list`, or -1. */
static int find(const char *const *list, size_t n, const char *s)
{
    size_t i;

    for (i = 0; s && i < n; i++)
        if (strcmp(list[i], s) == 0)
            return (int)i;
    return -1;
}

/* A dual-stack HTTP server for five.test; its port. */
static int dual_stack(struct env *e, struct extra *x)
{
    env_extra(e, x);
    CHECK(tsrv_http_start(&e->loop, "::", 0, &x->http) == 0);
    return tsrv_http_port(x->http);
}

/* Scan five.test alone with all_ips on e->cfg, expecting `per_line`
 * records; `line` (64 bytes) and `lines` (one) hold the input. */
static void scan_five(struct env *e, struct extra *x, char *line,
                      const char **lines, unsigned per_line)
{
    int port = dual_stack(e, x);

    e->cfg.all_ips = 1;
    e->per_line = per_line;
    lines[0] = fmt(line, 64, "five.test:%d", port);
    env_scan(e, lines, 1);
}

/* Record k of line 0: a 200 from one of the first `n_ips` of `five`;
 * the bit of its address. */
static unsigned five_rec(struct env *e, unsigned k, size_t n_ips)
{
    struct rec *r = env_rec(e, 0, k);
    int j = find(five, n_ips, r->ip);

    EXPECT_STATUS(r, 200);
    CHECK(j >= 0);
    return 1u << j;
}

TEST_T(expand_paths, 20)
{
    char l0[64], l1[64];
    const char *lines[2];
    struct env e;
    size_t i;
    unsigned k;

    env_init(&e);
    e.cfg.paths = paths3;
    e.cfg.n_paths = 3;
    e.per_line = 3;
    lines[0] = fmt(l0, sizeof(l0), "fast.test:%d", e.hport);
    /* the listed path replaces the input's path and query */
    lines[1] = fmt(l1, sizeof(l1), "http://127.0.0.1:%d/own?q=1", e.hport);
    env_scan(&e, lines, 2);
    for (i = 0; i < 2; i++) {
        unsigned seen = 0;
        for (k = 0; k < 3; k++) {
            struct rec *r = env_rec(&e, i, k);
            int j = find(paths3, 3, r->path);
            char want[96];
            EXPECT_STATUS(r, 200);
            CHECK(j >= 0);
            seen |= 1u << j;
            snprintf(want, sizeof(want), "http://%s:%d%s",
                     i ? "127.0.0.1" : "fast.test", e.hport, paths3[j]);
            CHECK_STR(r->url, want);
            CHECK_STR(r->input, lines[i]);
            CHECK(r->id == env_rec(&e, i, 0)->id);
        }
        CHECK_INT(seen, 7);
    }
    CHECK(env_rec(&e, 0, 0)->id != env_rec(&e, 1, 0)->id);
    CHECK_INT(e.stats.started, 2);
    CHECK_INT(e.stats.finished, 6);
    env_done(&e);
}

/* An invalid input gives one record, without a path. */
TEST_T(expand_paths_invalid, 20)
{
    const char *lines[] = { "ftp://x.test/" };
    struct env e;

    env_init(&e);
    e.cfg.paths = paths3;
    e.cfg.n_paths = 3;
    e.cfg.all_ips = 1;
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_EINVALID_TARGET);
    CHECK(e.recs[0].path == NULL);
    CHECK_INT(e.stats.finished, 1);
    env_done(&e);
}

TEST_T(expand_all_ips, 20)
{
    char line[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    unsigned k, seen = 0;

    env_init(&e);
    e.cfg.concurrency = 2;
    scan_five(&e, &x, line, lines, 5);
    for (k = 0; k < 5; k++) {
        struct rec *r = env_rec(&e, 0, k);
        seen |= five_rec(&e, k, 5);
        CHECK_STR(r->input, lines[0]);
        CHECK_STR(r->host, "five.test");
        CHECK(r->path == NULL);
        /* every unit keeps the lookup's facts */
        check_list(r->addrs, r->n_addrs, five, 5);
        CHECK(r->dns_ms >= 0);
        CHECK(r->id == env_rec(&e, 0, 0)->id);
    }
    CHECK_INT(seen, 31);
    CHECK_INT(e.stats.started, 1);
    CHECK_INT(e.stats.finished, 5);
    CHECK_INT(e.dns_queries, 2);        /* A and AAAA, once */
    env_done(&e);
}

/* A failed lookup and a literal: one record each. */
TEST_T(expand_all_ips_one, 20)
{
    char l0[64], l1[64];
    const char *lines[2];
    struct env e;

    env_init(&e);
    e.cfg.all_ips = 1;
    lines[0] = fmt(l0, sizeof(l0), "nx.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "127.0.0.1:%d", e.hport);
    env_scan(&e, lines, 2);
    EXPECT_ERR(&e.recs[0], HSCAN_EDNS_NXDOMAIN);
    CHECK(e.recs[0].ip == NULL);
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_STR(e.recs[1].ip, "127.0.0.1");
    env_done(&e);
}

/* -4: that family's addresses only. */
TEST_T(expand_all_ips_family, 20)
{
    char line[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    unsigned k, seen = 0;

    env_init(&e);
    e.cfg.family = 4;
    scan_five(&e, &x, line, lines, 3);
    for (k = 0; k < 3; k++)
        seen |= five_rec(&e, k, 3);
    CHECK_INT(seen, 7);
    env_done(&e);
}

/* cfg.exclude: an excluded address makes no unit (no record, never
 * contacted); the others are probed. */
TEST_T(expand_all_ips_exclude, 20)
{
    static const char *const ex[] = { "127.0.0.2", "::1" };
    char line[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    unsigned k, seen = 0;

    env_init(&e);
    e.cfg.exclude = ex;
    e.cfg.n_exclude = 2;
    /* (127.0.0.2 excludes its IPv4-mapped form too) */
    scan_five(&e, &x, line, lines, 2);
    for (k = 0; k < 2; k++)
        seen |= five_rec(&e, k, 5);
    CHECK_INT(seen, 1u | 4u);           /* 127.0.0.1, 127.0.0.3 */
    env_done(&e);
}

/* cfg.retries: a unit refused retries its own address, never another
 * (only 127.0.0.1 listens here: the others refuse). */
TEST_T(expand_all_ips_retries, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;
    unsigned k, seen = 0;

    env_init(&e);
    e.cfg.all_ips = 1;
    e.cfg.retries = 1;
    e.per_line = 5;
    lines[0] = fmt(line, sizeof(line), "five.test:%d", e.hport);
    env_scan(&e, lines, 1);
    for (k = 0; k < 5; k++) {
        struct rec *r = env_rec(&e, 0, k);
        int j = find(five, 5, r->ip);
        CHECK(j >= 0);
        seen |= 1u << j;
        if (j == 0) {
            EXPECT_STATUS(r, 200);
            CHECK_INT(r->attempts, 1);
        } else {
            EXPECT_ERR(r, HSCAN_ECONNECT_REFUSED);
            CHECK_INT(r->attempts, 2);
        }
    }
    CHECK_INT(seen, 31);
    env_done(&e);
}

/* HSCAN_SCHEME_BOTH: each address once per scheme. */
TEST_T(expand_all_ips_both, 20)
{
    char line[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    unsigned k, seen[2] = { 0, 0 };

    env_init(&e);
    e.cfg.scheme = HSCAN_SCHEME_BOTH;
    e.allow_tls = 1;
    scan_five(&e, &x, line, lines, 10);
    for (k = 0; k < 10; k++) {
        struct rec *r = env_rec(&e, 0, k);
        int j = find(five, 5, r->ip);
        int https = strcmp(r->scheme, "https") == 0;
        CHECK(j >= 0);
        CHECK(!(seen[https] & (1u << j)));
        seen[https] |= 1u << j;
        if (!https)
            EXPECT_STATUS(r, 200);
    }
    CHECK_INT(seen[0], 31);
    CHECK_INT(seen[1], 31);
    env_done(&e);
}

TEST_T(expand_paths_x_ips, 20)
{
    char line[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    unsigned k, seen[2] = { 0, 0 };

    env_init(&e);
    e.cfg.paths = paths3;
    e.cfg.n_paths = 2;
    e.cfg.concurrency = 3;
    scan_five(&e, &x, line, lines, 10);
    for (k = 0; k < 10; k++) {
        unsigned bit = five_rec(&e, k, 5);
        int p = find(paths3, 2, env_rec(&e, 0, k)->path);
        CHECK(p >= 0);
        CHECK(!(seen[p] & bit));
        seen[p] |= bit;
    }
    CHECK_INT(seen[0], 31);
    CHECK_INT(seen[1], 31);
    env_done(&e);
}

/* ---- unit_done: what an earlier run recorded is skipped ---- */

static unsigned asked_null, asked_ip;

static int skip_some(hscan_t *scan, void *arg, const char *input,
                     size_t len, const char *path, const char *ip)
{
    (void)scan;
    (void)arg;
    CHECK(input != NULL && len > 0 && input[0] != ' ');
    if (!ip) {
        asked_null++;
        return path && strcmp(path, "/two?x=1") == 0;
    }
    asked_ip++;
    return strcmp(ip, "127.0.0.2") == 0 || strcmp(ip, "::1") == 0;
}

TEST_T(expand_unit_done, 20)
{
    char line[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    unsigned k;

    env_init(&e);
    e.cfg.paths = paths3;
    e.cfg.n_paths = 3;
    e.cfg.unit_done = skip_some;
    /* (3 paths - 1) x (5 addresses - 2) */
    scan_five(&e, &x, line, lines, 6);
    for (k = 0; k < 6; k++) {
        struct rec *r = env_rec(&e, 0, k);
        CHECK(!(five_rec(&e, k, 5) & (2u | 8u)));  /* 127.0.0.2, ::1 */
        CHECK(strcmp(r->path, "/two?x=1") != 0);
    }
    CHECK_INT(asked_null, 3);
    CHECK_INT(asked_ip, 10);
    CHECK_INT(e.stats.finished, 6);
    env_done(&e);
}

static int skip_all(hscan_t *scan, void *arg, const char *input,
                    size_t len, const char *path, const char *ip)
{
    (void)scan;
    (void)arg;
    (void)input;
    (void)len;
    (void)path;
    return ip != NULL;         /* every address done */
}

/* ---- a scanner of our own: counting, cancelling ---- */

struct own {
    struct env e;
    struct extra x;
    uint64_t id;
    int cancel_first;
    unsigned results, ok, canceled, canceled_ip, canceled_path2;
    unsigned max_in_flight, drained, closed;
    unsigned long requests;     /* the dual-stack server's, at the end */
    hscan_t *scan;
    uv_check_t check;           /* samples in_flight every iteration */
};

static void own_sample(uv_check_t *c)
{
    struct own *o = c->data;
    hscan_stats_t st;

    if (o->scan && hscan_stats(o->scan, &st) == 0 &&
        st.in_flight > o->max_in_flight)
        o->max_in_flight = (unsigned)st.in_flight;
}

static void own_closed(hscan_t *scan, void *arg)
{
    struct own *o = arg;

    (void)scan;
    o->closed++;
    o->scan = NULL;
    uv_close((uv_handle_t *)&o->check, NULL);
}

static void own_drained(hscan_t *scan, void *arg)
{
    struct own *o = arg;

    o->drained++;
    CHECK(hscan_close(scan, own_closed) == 0);
    o->requests = tsrv_http_requests(o->x.http);
    tsrv_dns_stop(o->e.dns);
    tsrv_http_stop(o->e.http);
    tsrv_http_stop(o->x.http);
}

static void own_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct own *o = arg;

    CHECK(r->id == o->id);
    o->results++;
    if (r->error == 0)
        o->ok++;
    if (r->error == HSCAN_ECANCELED) {
        o->canceled++;
        o->canceled_ip += r->ip != NULL;
        o->canceled_path2 += r->path && strcmp(r->path, "/two?x=1") == 0;
        if (r->ip) {
            CHECK(find(five, 5, r->ip) >= 0);
            CHECK_STR(r->path, "/one");
        }
    }
    if (o->cancel_first && o->results == 1)
        CHECK(hscan_cancel(scan, r->id) == 0);
}

/* The environment, with all_ips, the first `n_paths` of paths3 and
 * `concurrency`. */
static void own_init(struct own *o, size_t n_paths, unsigned concurrency)
{
    env_init(&o->e);
    o->e.cfg.all_ips = 1;
    o->e.cfg.paths = n_paths ? paths3 : NULL;
    o->e.cfg.n_paths = n_paths;
    o->e.cfg.concurrency = concurrency;
}

/* Scan `line` (for five.test's server: %d is its port) on o->e.cfg. */
static void own_scan(struct own *o, const char *f)
{
    char line[64];
    hscan_t *scan;
    int port;

    port = dual_stack(&o->e, &o->x);
    o->e.cfg.on_result = own_result;
    o->e.cfg.on_drained = own_drained;
    o->e.cfg.arg = o;
    CHECK(hscan_new(&scan, &o->e.loop, &o->e.cfg) == 0);
    o->scan = scan;
    CHECK(uv_check_init(&o->e.loop, &o->check) == 0);
    o->check.data = o;
    CHECK(uv_check_start(&o->check, own_sample) == 0);
    fmt(line, sizeof(line), f, port);
    CHECK(hscan_submit_ex(scan, line, strlen(line), NULL, NULL,
                          &o->id) == 0);
    CHECK(hscan_end_input(scan) == 0);
    uv_run(&o->e.loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&o->e.loop) == 0);
    CHECK_INT(o->drained, 1);
    CHECK_INT(o->closed, 1);
}

/* Cancel after the first record: every unit still queued gets its
 * canceled record (the other addresses of the first path, with their
 * address; the second path, not yet resolved, once), none twice. */
TEST_T(expand_cancel, 20)
{
    static struct own o;

    own_init(&o, 2, 1);
    o.cancel_first = 1;
    own_scan(&o, "five.test:%d");
    CHECK_INT(o.ok, 1);
    CHECK_INT(o.canceled, 5);
    CHECK_INT(o.canceled_ip, 4);
    CHECK_INT(o.canceled_path2, 1);
    CHECK_INT(o.results, 6);
    CHECK_INT(o.max_in_flight, 1);
}

/* The window holds: siblings wait for a slot. */
TEST_T(expand_concurrency, 20)
{
    static struct own o;

    own_init(&o, 3, 2);
    own_scan(&o, "five.test:%d");
    CHECK_INT(o.ok, 15);
    CHECK_INT(o.results, 15);
    CHECK_INT(o.requests, 15);
    CHECK_INT(o.max_in_flight, 2);
}

/* Every address done: no record, no connection, and the scan drains. */
TEST_T(expand_unit_done_all, 20)
{
    static struct own o;

    own_init(&o, 0, 100);
    o.e.cfg.unit_done = skip_all;
    own_scan(&o, "five.test:%d");
    CHECK_INT(o.results, 0);
    CHECK_INT(o.requests, 0);
}

/* A resolving proxy leaves no addresses to enumerate. */
TEST(expand_config)
{
    hscan_config_t cfg;
    const char *field = NULL;
    const char *bad[] = { "one" };
    char why[128];

    hscan_config_init(&cfg);
    cfg.on_result = (hscan_result_cb)1;
    cfg.all_ips = 1;
    cfg.proxy = "socks5h://127.0.0.1:1080";
    CHECK(hscan_config_check(&cfg, &field, why, sizeof(why)) != 0);
    CHECK_STR(field, "all_ips");
    cfg.proxy = "socks5://127.0.0.1:1080";
    CHECK(hscan_config_check(&cfg, NULL, NULL, 0) == 0);
    cfg.all_ips = 2;
    CHECK(hscan_config_check(&cfg, &field, why, sizeof(why)) != 0);
    CHECK_STR(field, "all_ips");
    cfg.all_ips = 0;
    cfg.paths = bad;
    cfg.n_paths = 1;
    CHECK(hscan_config_check(&cfg, &field, why, sizeof(why)) != 0);
    CHECK_STR(field, "paths");
    cfg.paths = NULL;
    CHECK(hscan_config_check(&cfg, &field, why, sizeof(why)) != 0);
    CHECK_STR(field, "paths");
    cfg.paths = paths3;
    CHECK(hscan_config_check(&cfg, NULL, NULL, 0) == 0);
}
