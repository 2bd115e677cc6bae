/* cfg.exclude against real sockets: an excluded address is never
 * connected to.  Listeners on 127.0.0.3 and 127.0.0.4 (the HTTP
 * server's port) count the connections they accept; the test DNS
 * server's ip-127-B-C-D labels point names at them (server-dns.h).  A
 * target that is not excluded reaches a counter in each test, so a
 * counter that cannot count fails the test too.  Environment:
 * scan-env.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"
#include "tsrv-net.h"

/* A listener that accepts, counts and closes. */
struct counter {
    uv_tcp_t tcp;
    unsigned accepts;
};

struct rig {
    struct counter c3, c4;      /* 127.0.0.3, 127.0.0.4 */
    struct tsrv_http *http2;    /* 127.0.0.2: a server that answers */
};

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void on_conn(uv_stream_t *srv, int status)
{
    struct counter *c = srv->data;
    uv_tcp_t *t = malloc(sizeof(*t));

    CHECK(status == 0 && t != NULL);
    CHECK(uv_tcp_init(srv->loop, t) == 0);
    if (uv_accept(srv, (uv_stream_t *)t) == 0)
        c->accepts++;
    uv_close((uv_handle_t *)t, free_handle);
}

static void counter_start(uv_loop_t *loop, struct counter *c,
                          const char *ip, int port)
{
    c->accepts = 0;
    CHECK(uv_tcp_init(loop, &c->tcp) == 0);
    c->tcp.data = c;
    CHECK_INT(tsrv_tcp_bind(&c->tcp, ip, port), port);
    CHECK(uv_listen((uv_stream_t *)&c->tcp, 64, on_conn) == 0);
}

static void rig_stop(void *arg)
{
    struct rig *g = arg;

    uv_close((uv_handle_t *)&g->c3.tcp, NULL);
    uv_close((uv_handle_t *)&g->c4.tcp, NULL);
    tsrv_http_stop(g->http2);
}

/* The env with the rig on the HTTP server's port, excluding `v`. */
static void rig_init(struct env *e, struct rig *g, const char *const *v,
                     size_t n)
{
    env_init(e);
    env_stretch(e);
    counter_start(&e->loop, &g->c3, "127.0.0.3", e->hport);
    counter_start(&e->loop, &g->c4, "127.0.0.4", e->hport);
    CHECK(tsrv_http_start(&e->loop, "127.0.0.2", e->hport, &g->http2) == 0);
    e->on_stop = rig_stop;
    e->stop_arg = g;
    e->cfg.exclude = v;
    e->cfg.n_exclude = n;
}

/* lines[i]: fmts[i] with the HTTP server's port for each %d (one or
 * two), in buf[i]. */
static void make_lines(const struct env *e, const char *const *fmts,
                       size_t n, char (*buf)[160], const char **lines)
{
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(buf[i], sizeof(buf[i]), fmts[i], e->hport, e->hport);
        lines[i] = buf[i];
    }
}

static void expect_excluded(const struct rec *r, const char *detail)
{
    EXPECT_ERR(r, HSCAN_EEXCLUDED);
    if (!r->detail || strcmp(r->detail, detail) != 0) {
        fprintf(stderr, "  detail: want '%s'\n", detail);
        show(r);
    }
    CHECK_STR(r->detail, detail);
    CHECK(r->ip == NULL);
    CHECK(r->connect_ms == -1);
    check_no_response(r);
    CHECK(strstr(r->json, "\"error\":\"excluded\"") != NULL);
}

/* A name resolving into an excluded range, an address literal (and its
 * IPv4-mapped IPv6 form), and the canary that is let through. */
TEST_T(exclude_resolved_and_literal, 30)
{
    static const char *const v[] = { "127.0.0.3/32", "10.0.0.0/8" };
    static const char *const a3[] = { "127.0.0.3" };
    static const char *const fmts[] = {
        "http://ip-127-0-0-3.fast.test:%d/", "http://127.0.0.3:%d/",
        "http://[::ffff:127.0.0.3]:%d/", "http://ip-127-0-0-4.fast.test:%d/"
    };
    char l[4][160];
    const char *lines[4];
    struct rig g;
    struct env e;

    rig_init(&e, &g, v, 2);
    make_lines(&e, fmts, 4, l, lines);
    env_scan(&e, lines, 4);
    expect_excluded(&e.recs[0], "address 127.0.0.3 excluded by "
                                "127.0.0.3/32");
    /* what DNS said is still a fact of the record */
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, a3, 1);
    CHECK(e.recs[0].dns_ms >= 0);
    expect_excluded(&e.recs[1], "address 127.0.0.3 excluded by "
                                "127.0.0.3/32");
    expect_excluded(&e.recs[2], "address ::ffff:127.0.0.3 excluded by "
                                "127.0.0.3/32");
    CHECK(e.recs[3].error != HSCAN_EEXCLUDED);
    CHECK_INT(g.c3.accepts, 0);
    CHECK_INT(g.c4.accepts, 1);         /* the canary got through */
    CHECK_INT(e.stats.finished, 4);
    env_done(&e);
}

/* ip-127-0-0-2.multi.test: A 127.0.0.3 then A 127.0.0.2.  127.0.0.3 is
 * skipped, never connected to; 127.0.0.2 answers. */
TEST_T(exclude_one_of_two_addresses, 30)
{
    static const char *const v[] = { "127.0.0.3" };
    static const char *const both[] = { "127.0.0.3", "127.0.0.2" };
    char l0[96];
    const char *lines[1];
    struct rig g;
    struct env e;

    rig_init(&e, &g, v, 1);
    lines[0] = fmt(l0, sizeof(l0), "http://ip-127-0-0-2.multi.test:%d/",
                   e.hport);
    env_scan(&e, lines, 1);
    EXPECT_STATUS(&e.recs[0], 200);
    CHECK_STR(e.recs[0].ip, "127.0.0.2");
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, both, 2);
    CHECK_INT(g.c3.accepts, 0);
    env_done(&e);
}

/* Redirects into an excluded name, address and literal: the chain up to
 * the hop is kept, nothing past it is contacted. */
TEST_T(exclude_redirect_hop, 30)
{
    static const char *const v[] = { "127.0.0.3", "secret.fast.test" };
    static const char *const fmts[] = {
        "http://fast.test:%d/r?to=http://ip-127-0-0-3.fast.test:%d/",
        "http://fast.test:%d/r?to=http://127.0.0.3:%d/",
        "http://fast.test:%d/r?to=http://a.SECRET.fast.test.:%d/",
        "http://fast.test:%d/r?to=http://ip-127-0-0-4.fast.test:%d/",
    };
    static const char *const want[] = {
        "redirect 1: address 127.0.0.3 excluded by 127.0.0.3",
        "redirect 1: address 127.0.0.3 excluded by 127.0.0.3",
        "redirect 1: name a.SECRET.fast.test. excluded by secret.fast.test",
    };
    char l[4][160];
    const char *lines[4];
    struct rig g;
    struct env e;
    size_t i;

    rig_init(&e, &g, v, 2);
    e.cfg.follow = 3;
    make_lines(&e, fmts, 4, l, lines);
    env_scan(&e, lines, 4);
    for (i = 0; i < 3; i++) {
        struct rec *r = &e.recs[i];
        expect_excluded(r, want[i]);
        CHECK_INT(r->n_hops, 1);
        CHECK_INT(r->hops[0].status, 302);
        CHECK_STR(r->hops[0].ip, "127.0.0.1");
    }
    CHECK(e.recs[3].error != HSCAN_EEXCLUDED);
    CHECK_INT(e.recs[3].n_hops, 1);
    CHECK_INT(g.c3.accepts, 0);
    CHECK_INT(g.c4.accepts, 1);
    env_done(&e);
}

/* A name excluded by name is not even looked up; a CNAME into an
 * excluded name stops before the connect. */
TEST_T(exclude_names_and_cnames, 30)
{
    static const char *const v[] = { "cnamed.test", "secret.fast.test" };
    static const char *const fmts[] = {
        "http://cname.test:%d/", "http://x.Secret.Fast.Test:%d/",
        "http://ip-127-0-0-4.fast.test:%d/"
    };
    char l[3][160];
    const char *lines[3];
    struct rig g;
    struct env e;

    rig_init(&e, &g, v, 2);
    make_lines(&e, fmts, 3, l, lines);
    env_scan(&e, lines, 3);
    expect_excluded(&e.recs[0], "CNAME hop1.cnamed.test excluded by "
                                "cnamed.test");
    CHECK_INT(e.recs[0].n_cnames, 2);
    expect_excluded(&e.recs[1], "name x.Secret.Fast.Test excluded by "
                                "secret.fast.test");
    CHECK(e.recs[1].dns_ms == -1);
    CHECK_INT(e.recs[1].n_addrs, 0);
    CHECK(e.recs[2].error != HSCAN_EEXCLUDED);
    CHECK_INT(g.c4.accepts, 1);
    env_done(&e);
}

/* A hostile AAAA ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket:
 * an IPv4 rule holds for it. */
TEST_T(exclude_v4_mapped_answer, 30)
{
    static const char *const v[] = { "127.0.0.0/30" };
    char l0[96];
    const char *lines[1];
    struct rig g;
    struct env e;

    rig_init(&e, &g, v, 1);
    lines[0] = fmt(l0, sizeof(l0), "http://mapped.test:%d/", e.hport);
    env_scan(&e, lines, 1);
    expect_excluded(&e.recs[0], "address ::ffff:127.0.0.1 excluded by "
                                "127.0.0.0/30");
    env_done(&e);
}

static void no_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s;
    (void)r;
    (void)arg;
}

/* hscan_config_check() names the bad entry; hscan_new() refuses it. */
TEST(exclude_config_refused)
{
    static const char *const bad[] = { "10.0.0.0/8", "10.0.0.0/33" };
    static const char *const star[] = { "*" };
    hscan_config_t c;
    const char *field = NULL;
    char d[256] = "";
    hscan_t *s = NULL;
    uv_loop_t loop;

    hscan_config_init(&c);
    c.on_result = no_result;
    c.exclude = bad;
    c.n_exclude = 2;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), HSCAN_EINVAL);
    CHECK_STR(field, "exclude");
    CHECK(strncmp(d, "'10.0.0.0/33': not a CIDR", 25) == 0);
    CHECK(uv_loop_init(&loop) == 0);
    CHECK_INT(hscan_new(&s, &loop, &c), HSCAN_EINVAL);
    CHECK(s == NULL);
    c.exclude = star;
    c.n_exclude = 1;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), HSCAN_EINVAL);
    CHECK(strstr(d, "would exclude every target") != NULL);
    c.exclude = NULL;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), HSCAN_EINVAL);
    CHECK_STR(d, "NULL: n_exclude is 1");
    CHECK_STR(hscan_err_name(HSCAN_EEXCLUDED), "excluded");
    CHECK_INT(HSCAN_EEXCLUDED, -100);
    CHECK(uv_loop_close(&loop) == 0);
}
