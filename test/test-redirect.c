/* Integration tests of redirect following (cfg.follow): absolute,
 * relative and cross-host Locations, http to https and back, every
 * redirect status, the limit, loops, Locations that cannot be followed,
 * a hop that fails, and the hops in the record and its JSON.
 *
 * The redirect routes are server-http.h's (/r?to=URL, /chain-N, /loop,
 * /rel, /see-other, /r307, /r308); the TLS server answers them too.
 * Environment: scan-env.c, plain HTTP with the TLS server's CA trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

#define LINE_MAX_ 200
#define TO_MAX 96

/* Hop `i` of `r` is {url, status, location} from 127.0.0.1. */
static void check_hop(const struct rec *r, size_t i, const char *url,
                      int status, const char *location)
{
    const struct hop_rec *h;

    if (i >= r->n_hops) {
        fprintf(stderr, "  no hop %zu\n", i);
        show(r);
    }
    CHECK(i < r->n_hops);
    h = &r->hops[i];
    if (!h->url || strcmp(h->url, url) != 0 || h->status != status ||
        strcmp(h->location, location) != 0)
        show(r);
    CHECK_STR(h->url, url);
    CHECK_INT(h->status, status);
    CHECK_STR(h->location, location);
    CHECK_INT(h->location_len, strlen(location));
    CHECK_STR(h->ip, "127.0.0.1");
    CHECK(h->total_ms >= 0);
    CHECK(h->total_ms <= r->total_ms);
}

/* A redirect env: plain HTTP, following `follow` hops; its limits
 * stretched under valgrind, where a chain with a handshake takes
 * seconds. */
static void redirect_env(struct env *e, unsigned follow)
{
    env_init_tls(e);
    env_stretch(e);
    e->cfg.scheme = HSCAN_SCHEME_HTTP;
    e->cfg.follow = follow;
}

/* By default a 3xx is reported as it is. */
TEST_T(redirect_follow0, 30)
{
    char line[LINE_MAX_], to[TO_MAX];
    const char *lines[1];
    struct env e;
    struct rec *r;
    long i;

    redirect_env(&e, 0);
    snprintf(to, sizeof(to), "http://fast.test:%d/chain-0", e.hport);
    snprintf(line, sizeof(line), "http://fast.test:%d/r?to=%s", e.hport, to);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 302);
    CHECK_INT(r->n_hops, 0);
    CHECK_STR(r->url, line);
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", to);
    CHECK(strstr(r->json, "\"redirects\":[]") != NULL);
    env_done(&e);
}

TEST_T(redirect_http_to_https, 30)
{
    char line[LINE_MAX_], to[TO_MAX];
    const char *lines[1];
    struct env e;
    struct rec *r;

    redirect_env(&e, 3);
    snprintf(to, sizeof(to), "https://valid.test:%d/", e.tport);
    snprintf(line, sizeof(line), "http://fast.test:%d/r?to=%s", e.hport, to);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->scheme, "https");
    CHECK_STR(r->url, to);
    CHECK_STR(r->host, "valid.test");
    CHECK_INT(r->port, e.tport);
    CHECK_STR(r->ip, "127.0.0.1");
    check_hdr(r, 0, "Server", "hscan-test-tls");
    CHECK(r->tls != NULL);
    CHECK_INT(r->tls->verified, 1);
    CHECK_STR(r->tls->alpn, "http/1.1");
    CHECK(strstr(r->tls->subject, "CN=valid.test") != NULL);
    CHECK(r->tls_ms >= 0);
    CHECK_INT(r->fallback_error, 0);
    CHECK_INT(r->n_hops, 1);
    check_hop(r, 0, line, 302, to);
    CHECK(e.tls_handshakes >= 1);
    env_done(&e);
}

/* Back from https to http: the final record has no TLS facts. */
TEST_T(redirect_https_to_http, 30)
{
    char line[LINE_MAX_], to[TO_MAX];
    const char *lines[1];
    struct env e;
    struct rec *r;

    redirect_env(&e, 3);
    snprintf(to, sizeof(to), "http://fast.test:%d/", e.hport);
    snprintf(line, sizeof(line), "https://valid.test:%d/r?to=%s", e.tport,
             to);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->scheme, "http");
    CHECK_STR(r->url, to);
    check_fast_headers(r);
    CHECK(r->tls == NULL);
    CHECK(r->tls_ms == -1);
    CHECK_INT(r->n_hops, 1);
    check_hop(r, 0, line, 302, to);
    env_done(&e);
}

TEST_T(redirect_cross_host, 30)
{
    char line[LINE_MAX_], to[TO_MAX];
    const char *lines[1];
    struct env e;
    struct rec *r;

    redirect_env(&e, 3);
    snprintf(to, sizeof(to), "http://other.fast.test:%d/", e.hport);
    snprintf(line, sizeof(line), "http://fast.test:%d/r?to=%s", e.hport, to);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->host, "other.fast.test");
    CHECK_STR(r->url, to);
    CHECK_STR(r->ip, "127.0.0.1");
    check_fast_headers(r);
    CHECK_INT(r->n_hops, 1);
    check_hop(r, 0, line, 302, to);
    CHECK_INT(r->n_addrs, 1);
    CHECK_STR(r->addrs[0], "127.0.0.1");
    CHECK(r->dns_ms >= 0);
    /* each name looked up: A and AAAA for fast.test and other.fast.test */
    CHECK(e.dns_queries >= 2);
    env_done(&e);
}

enum { R_CHAIN, R_REL, R_303, R_307, R_308, R_N };

TEST_T(redirect_relative_and_statuses, 30)
{
    static const char *const paths[R_N] = {
        "/chain-3", "/x/rel", "/see-other", "/r307", "/r308",
    };
    static const int status[R_N] = { 302, 301, 303, 307, 308 };
    char l[R_N][LINE_MAX_], base[64], u[LINE_MAX_], want[LINE_MAX_];
    const char *lines[R_N];
    struct env e;
    struct rec *r;
    int i;

    redirect_env(&e, 5);
    snprintf(base, sizeof(base), "http://fast.test:%d", e.hport);
    for (i = 0; i < R_N; i++) {
        snprintf(l[i], sizeof(l[i]), "%s%s", base, paths[i]);
        lines[i] = l[i];
    }
    env_scan(&e, lines, R_N);

    r = &e.recs[R_CHAIN];
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->n_hops, 3);
    for (i = 0; i < 3; i++) {
        snprintf(u, sizeof(u), "%s/chain-%d", base, 3 - i);
        snprintf(want, sizeof(want), "/chain-%d", 2 - i);
        check_hop(r, (size_t)i, u, 302, want);
    }
    snprintf(u, sizeof(u), "%s/chain-0", base);
    CHECK_STR(r->url, u);
    check_fast_headers(r);

    r = &e.recs[R_REL];             /* "fast-landing": same directory */
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->n_hops, 1);
    check_hop(r, 0, l[R_REL], 301, "fast-landing");
    snprintf(u, sizeof(u), "%s/x/fast-landing", base);
    CHECK_STR(r->url, u);

    for (i = R_303; i < R_N; i++) {
        r = &e.recs[i];
        EXPECT_STATUS(r, 200);
        CHECK_INT(r->n_hops, 1);
        check_hop(r, 0, l[i], status[i], "/chain-0");
        snprintf(u, sizeof(u), "%s/chain-0", base);
        CHECK_STR(r->url, u);
    }
    env_done(&e);
}

/* The hops in the JSON record, in order, with the first response
 * first. */
TEST_T(redirect_json_hops, 30)
{
    char line[LINE_MAX_], want[512];
    const char *lines[1], *at, *prev;
    struct env e;
    struct rec *r;
    int i;

    redirect_env(&e, 5);
    snprintf(line, sizeof(line), "http://fast.test:%d/chain-2", e.hport);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->n_hops, 2);
    prev = strstr(r->json, "\"redirects\":[{\"url\":");
    CHECK(prev != NULL);
    for (i = 0; i < 2; i++) {
        snprintf(want, sizeof(want), "{\"url\":\"http://fast.test:%d/chain-%d"
                 "\",\"status\":302,\"location\":\"/chain-%d\",\"ip\":"
                 "\"127.0.0.1\",\"total_ms\":", e.hport, 2 - i, 1 - i);
        at = strstr(r->json, want);
        if (!at || at < prev)
            fprintf(stderr, "  hop %d not found in order: %s\n", i, want);
        CHECK(at != NULL && at >= prev);
        prev = at;
    }
    CHECK(strstr(r->json, "}],\"tls\":null") != NULL);
    env_done(&e);
}

/* More redirects than allowed: the chain so far and no response. */
TEST_T(redirect_limit, 30)
{
    char line[LINE_MAX_], u[LINE_MAX_], want[32];
    const char *lines[1];
    struct env e;
    struct rec *r;
    int i;

    redirect_env(&e, 2);
    snprintf(line, sizeof(line), "http://fast.test:%d/chain-5", e.hport);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETOO_MANY_REDIRECTS);
    CHECK(r->detail != NULL && strstr(r->detail, "2") != NULL);
    CHECK_INT(r->n_hops, 3);
    for (i = 0; i < 3; i++) {
        snprintf(u, sizeof(u), "http://fast.test:%d/chain-%d", e.hport,
                 5 - i);
        snprintf(want, sizeof(want), "/chain-%d", 4 - i);
        check_hop(r, (size_t)i, u, 302, want);
    }
    CHECK(strstr(r->json, "\"error\":\"too_many_redirects\"") != NULL);
    env_done(&e);
}

/* What the record says of the response that ended a chain in error:
 * results.md, "When `error` is set, `status`, `reason`, `http_version`
 * are null and `headers` is `[]`". */
TEST_T(redirect_error_has_no_response, 30)
{
    char l0[LINE_MAX_], l1[LINE_MAX_];
    const char *lines[2];
    struct env e;
    int i;

    redirect_env(&e, 1);
    lines[0] = fmt(l0, sizeof(l0), "http://fast.test:%d/chain-3", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "http://fast.test:%d/loop", e.hport);
    env_scan(&e, lines, 2);
    for (i = 0; i < 2; i++) {
        struct rec *r = &e.recs[i];
        EXPECT_ERR(r, HSCAN_ETOO_MANY_REDIRECTS);
        if (r->status != 0)
            show(r);
        /* as check_no_response(), except that bytes did arrive: the
         * redirect was read, so ttfb is measured */
        CHECK_INT(r->status, 0);
        CHECK(r->reason == NULL);
        CHECK_INT(r->major, -1);
        CHECK_INT(r->n_hdrs, 0);
        CHECK(r->ttfb_ms >= 0);
        CHECK(strstr(r->json, "\"status\":null") != NULL);
        CHECK(strstr(r->json, "\"headers\":[]") != NULL);
    }
    env_done(&e);
}

TEST_T(redirect_loop, 30)
{
    char line[LINE_MAX_];
    const char *lines[1];
    struct env e;
    struct rec *r;

    redirect_env(&e, 5);
    snprintf(line, sizeof(line), "http://fast.test:%d/loop", e.hport);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETOO_MANY_REDIRECTS);
    CHECK(r->detail != NULL && strstr(r->detail, "loop") != NULL);
    CHECK_INT(r->n_hops, 1);
    check_hop(r, 0, line, 302, "/loop");
    env_done(&e);
}

/* A Location that is not http(s) ends the chain: that response is
 * final, and no hop is listed for it. */
TEST_T(redirect_unfollowable, 30)
{
    char l0[LINE_MAX_], l1[LINE_MAX_], to[TO_MAX];
    const char *lines[2];
    struct env e;
    struct rec *r;
    long i;

    redirect_env(&e, 3);
    snprintf(l0, sizeof(l0), "http://fast.test:%d/r?to=ftp://fast.test/x",
             e.hport);
    snprintf(to, sizeof(to), "ftp://fast.test/x");
    /* a chain whose second response cannot be followed */
    snprintf(l1, sizeof(l1), "http://fast.test:%d/r?to=/r?to=%s", e.hport,
             to);
    lines[0] = l0;
    lines[1] = l1;
    env_scan(&e, lines, 2);

    r = &e.recs[0];
    EXPECT_STATUS(r, 302);
    CHECK_INT(r->n_hops, 0);
    CHECK_STR(r->url, l0);
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", to);

    r = &e.recs[1];
    EXPECT_STATUS(r, 302);
    CHECK_INT(r->n_hops, 1);
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", to);
    env_done(&e);
}

/* A hop that fails: the error is the last hop's, the chain is kept, and
 * the top-level fields describe the failed hop, not the first one. */
TEST_T(redirect_hop_fails, 30)
{
    char l[3][LINE_MAX_], to[3][TO_MAX];
    const char *lines[3];
    struct env e;
    struct rec *r;
    int i;

    redirect_env(&e, 3);
    snprintf(to[0], sizeof(to[0]), "http://nx.test:%d/", e.hport);
    snprintf(to[1], sizeof(to[1]), "https://expired.test:%d/", e.tport);
    snprintf(to[2], sizeof(to[2]), "http://fast.test:%d/b/close", e.hport);
    for (i = 0; i < 3; i++) {
        snprintf(l[i], sizeof(l[i]), "http://fast.test:%d/r?to=%.95s",
                 e.hport, to[i]);
        lines[i] = l[i];
    }
    env_scan(&e, lines, 3);
    for (i = 0; i < 3; i++) {
        r = &e.recs[i];
        CHECK_INT(r->n_hops, 1);
        check_hop(r, 0, l[i], 302, to[i]);
        CHECK_STR(r->url, to[i]);
        check_no_response(r);
    }

    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_EDNS_NXDOMAIN);
    CHECK_STR(r->host, "nx.test");
    CHECK(r->ip == NULL);
    CHECK_INT(r->n_addrs, 0);
    CHECK(r->connect_ms == -1);

    r = &e.recs[1];
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    CHECK_STR(r->scheme, "https");
    CHECK(r->tls != NULL);
    CHECK_INT(r->tls->verify_code, 10);
    CHECK_INT(r->fallback_error, 0);

    r = &e.recs[2];
    EXPECT_ERR(r, HSCAN_EREAD_CLOSED);
    CHECK_STR(r->ip, "127.0.0.1");
    env_done(&e);
}

/* Address literals on either side of a hop: a literal gets no lookup
 * (dns_ms -1, no addresses) and, over https, no SNI but an IP SAN
 * check. */
TEST_T(redirect_literals, 30)
{
    char l[3][LINE_MAX_], to[3][TO_MAX];
    const char *lines[3];
    struct env e;
    struct rec *r;
    int i;

    redirect_env(&e, 3);
    snprintf(to[0], sizeof(to[0]), "http://127.0.0.1:%d/chain-0", e.hport);
    snprintf(to[1], sizeof(to[1]), "https://127.0.0.1:%d/", e.tport);
    snprintf(to[2], sizeof(to[2]), "http://fast.test:%d/chain-0", e.hport);
    for (i = 0; i < 3; i++) {
        snprintf(l[i], sizeof(l[i]), "http://%s:%d/r?to=%.95s",
                 i < 2 ? "fast.test" : "127.0.0.1", e.hport, to[i]);
        lines[i] = l[i];
    }
    env_scan(&e, lines, 3);
    for (i = 0; i < 3; i++) {
        r = &e.recs[i];
        EXPECT_STATUS(r, 200);
        CHECK_STR(r->url, to[i]);
        CHECK_INT(r->n_hops, 1);
        check_hop(r, 0, l[i], 302, to[i]);
        CHECK_STR(r->ip, "127.0.0.1");
    }
    for (i = 0; i < 2; i++) {
        r = &e.recs[i];
        CHECK_STR(r->host, "127.0.0.1");
        CHECK(r->dns_ms == -1);
        CHECK_INT(r->n_addrs, 0);
        CHECK(strstr(r->json, "\"dns\":null") != NULL);
    }
    CHECK(e.recs[1].tls != NULL && e.recs[1].tls->verified);
    r = &e.recs[2];                 /* from a literal to a name */
    CHECK_STR(r->host, "fast.test");
    CHECK(r->dns_ms >= 0);
    CHECK_INT(r->n_addrs, 1);
    env_done(&e);
}

/* The absolute limit covers the chain: a hop that is too slow after a
 * redirect ends in the phase it cut short (the second hop's response:
 * read_timeout, naming the overall budget), with the chain so far
 * kept. */
TEST_T(redirect_deadline_covers_chain, 30)
{
    char line[LINE_MAX_];
    const char *lines[1];
    struct env e;
    struct rec *r;

    redirect_env(&e, 3);
    /* the first hop must beat the limit: stretched with it */
    e.cfg.timeout_ms = 1000 * slow_factor();
    e.cfg.read_timeout_ms = 5000 * slow_factor();
    snprintf(line, sizeof(line), "http://delay-300.test:%d/r?to="
             "http://delay-%u.test:%d/", e.hport, 1500 * slow_factor(),
             e.hport);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    /* server-http.c: the redirect routes answer at once, whatever the
     * Host label; so the first hop is fast, the second one too slow */
    EXPECT_ERR(r, HSCAN_EREAD_TIMEOUT);
    CHECK(r->detail != NULL &&
          strstr(r->detail, "overall budget of") != NULL &&
          strstr(r->detail, "while reading the response") != NULL);
    CHECK_INT(r->n_hops, 1);
    CHECK(r->total_ms >= 900.0 * slow_factor());
    /* not the 1500 ms of the delay */
    CHECK(r->total_ms < 1450.0 * slow_factor());
    env_done(&e);
}

/* https-first: after the fallback to http, redirects are followed and
 * the fallback stays in the record. */
TEST_T(redirect_after_fallback, 30)
{
    char line[LINE_MAX_], u[LINE_MAX_];
    const char *lines[1];
    struct env e;
    struct rec *r;

    redirect_env(&e, 3);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS_FIRST;
    snprintf(line, sizeof(line), "fast.test:%d/chain-2", e.hport);
    lines[0] = line;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->scheme, "http");
    CHECK_INT(r->fallback_error, HSCAN_ETLS_PLAINTEXT_REPLY);
    CHECK_INT(r->n_hops, 2);
    snprintf(u, sizeof(u), "http://fast.test:%d/chain-2", e.hport);
    check_hop(r, 0, u, 302, "/chain-1");
    snprintf(u, sizeof(u), "http://fast.test:%d/chain-0", e.hport);
    CHECK_STR(r->url, u);
    env_done(&e);
}
