/* Integration tests of name resolution and addresses: DNS errors, CNAME
 * chains, several addresses and families, address literals, and input
 * lines refused before any network activity.  Environment: scan-env.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

/* ---- DNS ---- */

TEST_T(scan_dns_errors, 20)
{
    static const char *const fmts[] = {
        "nx.test:%d", "servfail.test:%d", "refused.test:%d",
        "nodata.test:%d", "drop.test:%d", "a.b.nx.test:%d",
    };
    static const int want[] = {
        HSCAN_EDNS_NXDOMAIN, HSCAN_EDNS_SERVFAIL, HSCAN_EDNS_REFUSED,
        HSCAN_EDNS_NO_ADDRESS, HSCAN_EDNS_TIMEOUT, HSCAN_EDNS_NXDOMAIN,
    };
    enum { N = sizeof(want) / sizeof(want[0]) };
    char buf[N][64];
    const char *lines[N];
    struct env e;
    size_t i;

    env_init(&e);
    env_stretch(&e);
    /* drop.test's limit, which every other reply must beat */
    e.cfg.dns_timeout_ms = 500 * slow_factor();
    for (i = 0; i < N; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.hport);
    env_scan(&e, lines, N);
    for (i = 0; i < N; i++) {
        struct rec *r = &e.recs[i];
        EXPECT_ERR(r, want[i]);
        CHECK(r->detail != NULL);
        check_no_response(r);
        CHECK(r->ip == NULL);
        CHECK_INT(r->n_addrs, 0);
        CHECK(r->connect_ms == -1);
        CHECK(r->host != NULL &&
              strncmp(r->host, lines[i], strlen(r->host)) == 0 &&
              lines[i][strlen(r->host)] == ':');
    }
    CHECK(e.recs[4].total_ms >= 400.0 * slow_factor());
    env_done(&e);
}

TEST_T(scan_cname_chain, 20)
{
    static const char *const cn[] = { "hop1.cnamed.test", "hop2.fast.test" };
    static const char *const addrs[] = { "127.0.0.1" };
    char line[64];
    const char *lines[1];
    struct env e;
    struct rec *r;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "cname.test:%d", e.hport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    check_list(r->cnames, r->n_cnames, cn, 2);
    check_list(r->addrs, r->n_addrs, addrs, 1);
    CHECK_STR(r->host, "cname.test");
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK(strstr(r->json, "\"cname\":[\"hop1.cnamed.test\","
                          "\"hop2.fast.test\"]") != NULL);
    env_done(&e);
}

TEST_T(scan_multi_address_fallback, 20)
{
    static const char *const addrs[] = { "127.0.0.3", "127.0.0.1" };
    char line[64];
    const char *lines[1];
    struct env e;
    struct rec *r;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "multi.test:%d", e.hport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    check_list(r->addrs, r->n_addrs, addrs, 2);
    CHECK_STR(r->ip, "127.0.0.1");
    check_fast_headers(r);
    CHECK(r->connect_ms >= 0);
    env_done(&e);
}

TEST_T(scan_family4, 20)
{
    static const char *const addrs[] = { "127.0.0.1" };
    char l0[64], l1[64], l2[64];
    const char *lines[3];
    struct env e;

    env_init(&e);
    e.cfg.family = 4;
    lines[0] = fmt(l0, sizeof(l0), "both.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "v6.test:%d", e.hport);
    lines[2] = fmt(l2, sizeof(l2), "[::1]:%d", e.hport);
    env_scan(&e, lines, 3);
    EXPECT_STATUS(&e.recs[0], 200);
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, addrs, 1);
    CHECK_STR(e.recs[0].ip, "127.0.0.1");
    EXPECT_ERR(&e.recs[1], HSCAN_EDNS_NO_ADDRESS);
    CHECK_INT(e.recs[1].n_addrs, 0);
    /* an IPv6 literal under "IPv4 only" has no usable address either */
    EXPECT_ERR(&e.recs[2], HSCAN_EDNS_NO_ADDRESS);
    env_done(&e);
}

TEST_T(scan_family6, 20)
{
    static const char *const addrs[] = { "::1" };
    char l0[64], l1[64], want[64];
    const char *lines[2];
    struct extra x;
    struct env e;
    int p6;

    env_init(&e);
    env_extra(&e, &x);
    CHECK(tsrv_http_start(&e.loop, "::1", 0, &x.http) == 0);
    p6 = tsrv_http_port(x.http);
    e.cfg.family = 6;
    lines[0] = fmt(l0, sizeof(l0), "both.test:%d", p6);
    lines[1] = fmt(l1, sizeof(l1), "http://[::1]:%d/", p6);
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, addrs, 1);
    CHECK_STR(e.recs[0].ip, "::1");
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_STR(e.recs[1].host, "::1");
    CHECK_STR(e.recs[1].ip, "::1");
    CHECK_STR(e.recs[1].url, fmt(want, sizeof(want), "http://[::1]:%d/",
                                 p6));
    CHECK_INT(e.recs[1].port, p6);
    CHECK(e.recs[1].dns_ms == -1);
    CHECK_INT(e.recs[1].n_addrs, 0);
    env_done(&e);
}

/* both.test: A 127.0.0.1 (refused on this port), then AAAA ::1 (served):
 * the next address, of the other family, is tried. */
TEST_T(scan_both_families_fallback, 20)
{
    static const char *const addrs[] = { "127.0.0.1", "::1" };
    char l0[64];
    const char *lines[1];
    struct extra x;
    struct env e;
    int port, rc;

    env_init(&e);
    env_extra(&e, &x);
    port = extra_refused(&e, &x, "127.0.0.1", 0);
    CHECK(port > 0);
    rc = tsrv_http_start(&e.loop, "::1", port, &x.http);
    if (rc != 0) {
        fprintf(stderr, "  [::1]:%d is taken (%s); skipped\n", port,
                uv_strerror(rc));
        x.http = NULL;
    }
    lines[0] = fmt(l0, sizeof(l0), "both.test:%d", port);
    env_scan(&e, lines, 1);
    if (rc == 0) {
        EXPECT_STATUS(&e.recs[0], 200);
        check_list(e.recs[0].addrs, e.recs[0].n_addrs, addrs, 2);
        CHECK_STR(e.recs[0].ip, "::1");
        CHECK(e.recs[0].connect_ms >= 0);
    }
    env_done(&e);
}

/* ---- literals ---- */

TEST_T(scan_literals, 20)
{
    char l0[64], l1[64], l2[64], l3[64], want[64];
    const char *lines[4];
    struct extra x;
    struct env e;
    struct rec *r;
    int rport, rport6;

    env_init(&e);
    env_extra(&e, &x);
    rport = extra_refused(&e, &x, "127.0.0.1", 0);
    CHECK(rport > 0);
    rport6 = extra_refused(&e, &x, "::1", 0);
    CHECK(rport6 > 0);
    CHECK(tsrv_http_start(&e.loop, "::1", 0, &x.http) == 0);
    e.cfg.connect_timeout_ms = 2500 * slow_factor();
    e.cfg.timeout_ms = 5000 * slow_factor();
    lines[0] = fmt(l0, sizeof(l0), "127.0.0.1:%d/b/fast", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "127.0.0.1:%d", rport);
    lines[2] = fmt(l2, sizeof(l2), "http://[::1]:%d/", rport6);
    lines[3] = fmt(l3, sizeof(l3), "http://[::1]:%d/b/status-204",
                   tsrv_http_port(x.http));
    env_scan(&e, lines, 4);

    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK(r->dns_ms == -1);
    CHECK_INT(r->n_addrs, 0);
    CHECK_INT(r->n_cnames, 0);
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK_STR(r->host, "127.0.0.1");
    CHECK_INT(r->port, e.hport);
    CHECK_STR(r->url, fmt(want, sizeof(want), "http://127.0.0.1:%d/b/fast",
                          e.hport));
    CHECK(strstr(r->json, "\"dns\":null") != NULL);
    check_fast_headers(r);

    r = &e.recs[1];
    EXPECT_ERR(r, HSCAN_ECONNECT_REFUSED);
    check_no_response(r);
    /* refused, not a connect timeout */
    CHECK(r->total_ms < 2000.0 * slow_factor());
    CHECK(r->connect_ms == -1);
    CHECK_STR(r->ip, "127.0.0.1");

    r = &e.recs[2];
    EXPECT_ERR(r, HSCAN_ECONNECT_REFUSED);
    CHECK_STR(r->host, "::1");
    CHECK_STR(r->ip, "::1");
    CHECK(r->total_ms < 2000.0 * slow_factor());

    r = &e.recs[3];
    EXPECT_STATUS(r, 204);
    CHECK_STR(r->ip, "::1");
    env_done(&e);
}

TEST_T(scan_invalid_lines, 20)
{
    static const char *const lines[] = {
        "bad host!", "example.com:99999", "", "   \t ", "# comment",
        "  # indented comment", "  bad host!  ", "https://fast .test/",
        "ftp://fast.test/", "user@fast.test", "fast.test:0",
        "[::1", "fast..test", "http://fast.test/a b",
        "fast.test:80x",
    };
    enum { N = sizeof(lines) / sizeof(lines[0]) };
    struct env e;
    size_t i;

    env_init(&e);
    env_scan(&e, lines, N);
    for (i = 0; i < N; i++) {
        struct rec *r = &e.recs[i];
        if (line_skipped(lines[i]))
            continue;
        EXPECT_ERR(r, HSCAN_EINVALID_TARGET);
        CHECK(r->detail != NULL && r->detail[0] != '\0');
        check_no_response(r);
        CHECK(r->url == NULL);
        CHECK(r->scheme == NULL);
        CHECK(r->ip == NULL);
        CHECK_INT(r->n_addrs, 0);
        CHECK(r->dns_ms == -1);
        CHECK(r->connect_ms == -1);
        CHECK(strstr(r->json, "\"error\":\"invalid_target\"") != NULL);
    }
    CHECK_STR(e.recs[0].input, "bad host!");
    CHECK_STR(e.recs[6].input, "bad host!");    /* trimmed */
    CHECK_STR(e.recs[1].input, "example.com:99999");
    CHECK_INT(e.dns_queries, 0);
    env_done(&e);
}

/* Input bytes are kept exactly (NUL and non-UTF-8 included) and still
 * give valid JSON; lines over 8192 bytes are refused. */
TEST_T(scan_odd_input_bytes, 20)
{
    static char longline[9001];
    static const char nul[] = "bad\0host";
    static const char hi[] = "caf\xe9.test";
    const char *lines[3];
    size_t lens[3];
    struct env e;
    size_t i;

    memset(longline, 'a', sizeof(longline) - 1);
    memcpy(longline, "fast.test/", 10);
    env_init(&e);
    lines[0] = nul;
    lens[0] = sizeof(nul) - 1;
    lines[1] = hi;
    lens[1] = sizeof(hi) - 1;
    lines[2] = longline;
    lens[2] = sizeof(longline) - 1;
    e.lens = lens;
    env_scan(&e, lines, 3);
    for (i = 0; i < 3; i++) {
        EXPECT_ERR(&e.recs[i], HSCAN_EINVALID_TARGET);
        CHECK(e.recs[i].detail != NULL);
    }
    CHECK(memcmp(e.recs[0].input, nul, sizeof(nul)) == 0);
    CHECK(strstr(e.recs[0].json, "\"input\":\"bad\\u0000host\"") != NULL);
    CHECK_STR(e.recs[1].input, hi);
    CHECK(strstr(e.recs[1].json, "\"input\":\"caf\\u00e9.test\"") != NULL);
    CHECK_INT(strlen(e.recs[2].input), sizeof(longline) - 1);
    env_done(&e);
}

/* Several --resolver values share the load: every one of them gets
 * queries, and every name still resolves. */
struct second_dns {
    struct tsrv_dns *srv;
    unsigned long queries;
};

static void stop_second(void *arg)
{
    struct second_dns *d = arg;

    d->queries = tsrv_dns_queries(d->srv);
    tsrv_dns_stop(d->srv);
}

TEST_T(scan_resolvers_rotate, 20)
{
    static char bufs[40][64];
    const char *lines[40];
    struct second_dns two;
    struct env e;
    size_t i;

    env_init(&e);
    CHECK(tsrv_dns_start(&e.loop, "127.0.0.1", 0, &two.srv) == 0);
    snprintf(e.resolvers, sizeof(e.resolvers), "127.0.0.1:%d,127.0.0.1:%d",
             e.dport, tsrv_dns_port(two.srv));
    two.queries = 0;
    e.on_stop = stop_second;
    e.stop_arg = &two;
    for (i = 0; i < 40; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "h%zu.fast.test:%d", i, e.hport);
        lines[i] = bufs[i];
    }
    env_scan(&e, lines, 40);
    for (i = 0; i < 40; i++)
        EXPECT_STATUS(&e.recs[i], 200);
    /* 40 names, A and AAAA each: 80 queries between the two servers,
     * and both took a share. */
    if (e.dns_queries == 0 || two.queries == 0)
        fprintf(stderr, "  queries: %lu and %lu\n", e.dns_queries,
                two.queries);
    CHECK(e.dns_queries > 0);
    CHECK(two.queries > 0);
    CHECK_INT(e.dns_queries + two.queries, 80);
    env_done(&e);
}

/* ---- the scan's DNS cache ---- */

/* One name asked again, in other case or with a trailing dot: asked of
 * the resolver once.  NXDOMAIN is kept too.  `conc` 1 takes the lines in
 * turn (cache hits); a wide window asks together (shared lookups). */
static void cache_case(unsigned conc, unsigned cache)
{
    static const char *const fmts[] = {
        "fast.test:%d", "FAST.test:%d", "fast.test.:%d", "nx.test:%d",
        "nx.test:%d",
    };
    enum { N = sizeof(fmts) / sizeof(fmts[0]) };
    char buf[N][64];
    const char *lines[N];
    struct env e;
    size_t i;

    env_init(&e);
    e.cfg.concurrency = conc;
    e.cfg.dns_cache = cache;
    for (i = 0; i < N; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.hport);
    env_scan(&e, lines, N);
    for (i = 0; i < 3; i++) {
        EXPECT_STATUS(&e.recs[i], 200);
        CHECK_INT(e.recs[i].n_addrs, 1);
        CHECK_STR(e.recs[i].ip, "127.0.0.1");
    }
    EXPECT_ERR(&e.recs[3], HSCAN_EDNS_NXDOMAIN);
    EXPECT_ERR(&e.recs[4], HSCAN_EDNS_NXDOMAIN);
    if (cache == 0 && conc == 1) {
        CHECK_INT(e.stats.dns_lookups, 5);
        CHECK_INT(e.dns_queries, 10);
    } else {
        CHECK_INT(e.stats.dns_lookups, 2);
        CHECK_INT(e.dns_queries, 4);    /* A and AAAA of two names */
        CHECK_INT(e.stats.dns_cache_hits + e.stats.dns_shared, 3);
        if (conc == 1)
            CHECK_INT(e.stats.dns_cache_hits, 3);
    }
    env_done(&e);
}

TEST_T(dns_cache_in_turn, 20) { cache_case(1, 4096); }
TEST_T(dns_cache_together, 20) { cache_case(10, 4096); }
TEST_T(dns_cache_off, 20) { cache_case(1, 0); }

/* A CNAME chain comes back from the cache as it was. */
TEST_T(dns_cache_keeps_cnames, 20)
{
    static const char *const cn[] = { "hop1.cnamed.test", "hop2.fast.test" };
    char l0[64], l1[64];
    const char *lines[2];
    struct env e;
    size_t i;

    env_init(&e);
    e.cfg.concurrency = 1;
    lines[0] = fmt(l0, sizeof(l0), "cname.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "cname.test:%d", e.hport);
    env_scan(&e, lines, 2);
    for (i = 0; i < 2; i++) {
        EXPECT_STATUS(&e.recs[i], 200);
        check_list(e.recs[i].cnames, e.recs[i].n_cnames, cn, 2);
    }
    CHECK_INT(e.stats.dns_cache_hits, 1);
    env_done(&e);
}

/* Transient failures are never kept: SERVFAIL asked twice is sent
 * twice. */
TEST_T(dns_cache_skips_failures, 20)
{
    char l0[64], l1[64];
    const char *lines[2];
    struct env e;

    env_init(&e);
    e.cfg.concurrency = 1;
    lines[0] = fmt(l0, sizeof(l0), "servfail.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "servfail.test:%d", e.hport);
    env_scan(&e, lines, 2);
    EXPECT_ERR(&e.recs[0], HSCAN_EDNS_SERVFAIL);
    EXPECT_ERR(&e.recs[1], HSCAN_EDNS_SERVFAIL);
    CHECK_INT(e.stats.dns_lookups, 2);
    CHECK_INT(e.stats.dns_cache_hits, 0);
    CHECK_INT(e.dns_queries, 4);
    env_done(&e);
}

/* With two resolvers a SERVFAIL is asked again (of the other one, as
 * rotation goes); the record still says SERVFAIL when both fail. */
TEST_T(dns_retry_other_resolver, 20)
{
    struct second_dns two;
    char l0[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    CHECK(tsrv_dns_start(&e.loop, "127.0.0.1", 0, &two.srv) == 0);
    snprintf(e.resolvers, sizeof(e.resolvers), "127.0.0.1:%d,127.0.0.1:%d",
             e.dport, tsrv_dns_port(two.srv));
    two.queries = 0;
    e.on_stop = stop_second;
    e.stop_arg = &two;
    lines[0] = fmt(l0, sizeof(l0), "servfail.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_EDNS_SERVFAIL);
    CHECK_INT(e.stats.dns_lookups, 2);
    CHECK_INT(e.dns_queries + two.queries, 4);
    env_done(&e);
}

/* dns_rate caps queries per second; waiting for the cap is not charged
 * to the DNS timeout, so nothing times out (and nothing is sent twice).
 * Under valgrind every time here is ten times longer: the rate a tenth,
 * so that the wait still outlasts the timeout. */
TEST_T(dns_rate_cap, 20)
{
    enum { N = 30 };
    static char bufs[N][64];
    const char *lines[N];
    unsigned f = slow_factor();
    struct env e;
    uint64_t t0;
    double secs;
    size_t i;

    env_init(&e);
    env_stretch(&e);
    e.cfg.dns_rate = 100 / f;
    e.cfg.dns_timeout_ms = 200 * f;
    for (i = 0; i < N; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "r%zu.fast.test:%d", i, e.hport);
        lines[i] = bufs[i];
    }
    t0 = uv_hrtime();
    env_scan(&e, lines, N);
    secs = (double)(uv_hrtime() - t0) / 1e9;
    for (i = 0; i < N; i++)
        EXPECT_STATUS(&e.recs[i], 200);
    CHECK_INT(e.dns_queries, 2 * N);
    /* 60 queries at 100/s with a burst of 2: at least 0.58 s */
    if (secs < 0.5 * f)
        fprintf(stderr, "  took %.3f s\n", secs);
    CHECK(secs >= 0.5 * f);
    env_done(&e);
}

/* Time outside any phase keeps the bare `timeout`: a lookup still
 * waiting for --dns-rate was never sent, so the resolver was not slow.
 * At one query a second with a burst of two, name k (A and AAAA) waits
 * 2k s; the overall budget ends the later ones before they are sent. */
TEST_T(dns_rate_wait_is_timeout, 20)
{
    enum { N = 4 };
    static char bufs[N][64];
    const char *lines[N];
    unsigned f = slow_factor();
    char want[96];
    struct env e;
    size_t i;

    env_init(&e);
    env_stretch(&e);
    e.cfg.dns_rate = 1;
    e.cfg.timeout_ms = 500 * f;
    for (i = 0; i < N; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "w%zu.fast.test:%d", i, e.hport);
        lines[i] = bufs[i];
    }
    snprintf(want, sizeof(want), "overall budget of %u ms ran out before "
             "the DNS query was sent", 500 * f);
    env_scan(&e, lines, N);
    for (i = 0; i < N; i++) {
        struct rec *r = &e.recs[i];

        if (r->error == 0) {
            CHECK(i * 2000 < 500 * f);      /* sent within the budget */
            continue;
        }
        EXPECT_ERR(r, HSCAN_ETIMEOUT);
        CHECK(strstr(r->json, "\"error\":\"timeout\"") != NULL);
        CHECK(r->detail != NULL && strcmp(r->detail, want) == 0);
        CHECK(r->dns_ms == -1);             /* no lookup was made */
        CHECK(strstr(r->json, "\"dns\":null") != NULL);
    }
    EXPECT_STATUS(&e.recs[0], 200);
    EXPECT_ERR(&e.recs[N - 1], HSCAN_ETIMEOUT);
    env_done(&e);
}
