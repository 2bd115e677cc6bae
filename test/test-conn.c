/* Integration tests of how connections are made: retries (cfg.retries,
 * the record's attempts) and source addresses (cfg.source_ips), with
 * real sockets on loopback.  The capture server (server-capture.c)
 * fails its first connections on purpose and notes each peer address.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "server-capture.h"
#include "test-runner.h"

/* The least the back-off before attempts 2 and 3 waits: half of
 * 100 ms, then half of 200 ms (lib/probe-retry.c). */
#define MIN_WAIT_2_3 150.0

/* A scan with `retries` and timeouts stretched (scan-env.h); the
 * caller may change e->cfg before env_scan(). */
static void retry_env(struct env *e, unsigned retries)
{
    env_init(e);
    env_stretch(e);
    e->cfg.retries = retries;
}

/* Scan `path` on a capture server whose first `fail_first`
 * connections get `mode`; the server stays in `cap` for the checks
 * (cap_free() it). */
static void scan_cap(struct env *e, struct capture *cap, unsigned fail_first,
                     enum cap_fail mode, const char *path)
{
    static struct extra x;
    char l[80];
    const char *lines[1];

    env_extra(e, &x);
    CHECK(cap_start(&e->loop, cap, "127.0.0.1", 0) == 0);
    cap->fail_first = fail_first;
    cap->fail_mode = mode;
    x.caps[0] = cap;
    lines[0] = fmt(l, sizeof(l), "127.0.0.1:%d", cap->port);
    strcat(l, path);
    env_scan(e, lines, 1);
}

/* Scan a port with no listener, then `more` lines (NULL: none). */
static void scan_refused(struct env *e, const char *more0,
                         const char *more1)
{
    static struct extra x;
    char l[64];
    const char *lines[3];
    int port;

    env_extra(e, &x);
    port = extra_refused(e, &x, "127.0.0.1", 0);
    CHECK(port > 0);
    lines[0] = fmt(l, sizeof(l), "127.0.0.1:%d", port);
    lines[1] = more0;
    lines[2] = more1;
    env_scan(e, lines, more0 ? more1 ? 3 : 2 : 1);
}

static void expect_attempts(const struct rec *r, unsigned n)
{
    if (r->attempts != n)
        show(r);
    CHECK_INT(r->attempts, n);
}

/* A port with no listener: every attempt refused, the waits between
 * them in the total. */
TEST_T(retry_refused, 30)
{
    struct env e;

    retry_env(&e, 2);
    scan_refused(&e, NULL, NULL);
    EXPECT_ERR(&e.recs[0], HSCAN_ECONNECT_REFUSED);
    expect_attempts(&e.recs[0], 3);
    CHECK(e.recs[0].total_ms >= MIN_WAIT_2_3);
    CHECK(strstr(e.recs[0].json, ",\"attempts\":3}") != NULL);
    env_done(&e);
}

/* Without cfg.retries: one attempt, none for a name that never
 * resolved. */
TEST_T(retry_default_once, 30)
{
    struct env e;
    char ok[64];

    env_init(&e);
    scan_refused(&e, "nx.test", fmt(ok, sizeof(ok), "fast.test:%d",
                                    e.hport));
    EXPECT_ERR(&e.recs[0], HSCAN_ECONNECT_REFUSED);
    expect_attempts(&e.recs[0], 1);
    CHECK(e.recs[1].error != 0);
    expect_attempts(&e.recs[1], 0);
    EXPECT_STATUS(&e.recs[2], 200);
    expect_attempts(&e.recs[2], 1);
    env_done(&e);
}

/* The first `fail` connections get `mode`, then the answer: with
 * `retries`, the record's error (0: status 200) and attempts. */
static void cap_case(unsigned retries, unsigned fail, enum cap_fail mode,
                     int err, unsigned attempts)
{
    struct capture cap;
    struct env e;

    retry_env(&e, retries);
    scan_cap(&e, &cap, fail, mode, "/x");
    if (err)
        EXPECT_ERR(&e.recs[0], err);
    else
        EXPECT_STATUS(&e.recs[0], 200);
    expect_attempts(&e.recs[0], attempts);
    CHECK_INT(cap.n_conns, attempts);
    cap_free(&cap);
    env_done(&e);
}

/* Reset twice with no byte, then the answer. */
TEST_T(retry_reset_then_ok, 30)
{
    cap_case(2, 2, CAP_RESET, 0, 3);
}

/* Closed twice with no byte, then the answer; one retry is not enough
 * (the close comes as a FIN or, with the request unread, an RST). */
TEST_T(retry_close_then_ok, 30)
{
    struct capture cap;
    struct env e;

    cap_case(3, 2, CAP_CLOSE, 0, 3);
    retry_env(&e, 1);
    scan_cap(&e, &cap, 2, CAP_CLOSE, "/c");
    CHECK(e.recs[0].error == HSCAN_EREAD_CLOSED ||
          e.recs[0].error == HSCAN_EREAD_RESET ||
          e.recs[0].error == HSCAN_EWRITE_FAILED);
    expect_attempts(&e.recs[0], 2);
    CHECK_INT(cap.n_conns, 2);
    cap_free(&cap);
    env_done(&e);
}

/* A byte came, then the close: the server answered, no retry (the
 * next connection would have had the 200). */
TEST_T(retry_not_after_a_byte, 30)
{
    cap_case(3, 1, CAP_BYTE_CLOSE, HSCAN_EREAD_CLOSED, 1);
}

/* The whole request went out, then a close with no byte: a POST with a
 * body may have been acted on and is not sent again; a GET is. */
TEST_T(retry_post_body_not_resent, 30)
{
    struct capture cap;
    struct env e;

    retry_env(&e, 2);
    e.cfg.method = "POST";
    e.cfg.body = "a=1";
    e.cfg.body_len = 3;
    scan_cap(&e, &cap, 2, CAP_READ_CLOSE, "/p");
    EXPECT_ERR(&e.recs[0], HSCAN_EREAD_CLOSED);
    expect_attempts(&e.recs[0], 1);
    CHECK_INT(cap.n_conns, 1);
    cap_free(&cap);
    env_done(&e);

    cap_case(2, 2, CAP_READ_CLOSE, 0, 3);
}

/* Many retries, a short budget: the record comes by the deadline, with
 * the last failure, not a wait cut short. */
TEST_T(retry_within_deadline, 30)
{
    struct env e;

    env_init(&e);
    e.cfg.retries = HSCAN_RETRIES_MAX;
    e.cfg.timeout_ms = 600;
    scan_refused(&e, NULL, NULL);
    EXPECT_ERR(&e.recs[0], HSCAN_ECONNECT_REFUSED);
    CHECK(e.recs[0].attempts >= 2 && e.recs[0].attempts < 1 +
          HSCAN_RETRIES_MAX);
    CHECK(e.recs[0].total_ms <= 600 + 200.0 * slow_factor());
    env_done(&e);
}

/* https-first: HTTPS gets its attempts, then HTTP its own. */
TEST_T(retry_before_fallback, 30)
{
    struct env e;

    retry_env(&e, 2);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS_FIRST;
    scan_refused(&e, NULL, NULL);
    EXPECT_ERR(&e.recs[0], HSCAN_ECONNECT_REFUSED);
    CHECK_INT(e.recs[0].fallback_error, HSCAN_ECONNECT_REFUSED);
    CHECK_STR(e.recs[0].scheme, "http");
    expect_attempts(&e.recs[0], 3);
    CHECK(e.recs[0].total_ms >= 2 * MIN_WAIT_2_3);
    env_done(&e);
}

/* ---- source addresses ---- */

/* Ten connections from two loopback aliases (Linux answers for all of
 * 127/8): five each, in turn. */
TEST_T(source_round_robin, 30)
{
    static const char *const src[] = { "127.0.0.2", "127.0.0.3" };
    char l[10][64];
    const char *lines[10];
    struct capture cap;
    struct extra x;
    struct env e;
    unsigned i, n2 = 0, n3 = 0;

    env_init(&e);
    env_stretch(&e);
    e.cfg.source_ips = src;
    e.cfg.n_source_ips = 2;
    e.cfg.concurrency = 1;          /* one at a time: order is turn */
    env_extra(&e, &x);
    CHECK(cap_start(&e.loop, &cap, "127.0.0.1", 0) == 0);
    x.caps[0] = &cap;
    for (i = 0; i < 10; i++) {
        snprintf(l[i], sizeof(l[i]), "127.0.0.1:%d/s%u", cap.port, i);
        lines[i] = l[i];
    }
    env_scan(&e, lines, 10);
    CHECK_INT(cap.n_conns, 10);
    for (i = 0; i < 10; i++) {
        EXPECT_STATUS(&e.recs[i], 200);
        n2 += strcmp(cap.peers[i], "127.0.0.2") == 0;
        n3 += strcmp(cap.peers[i], "127.0.0.3") == 0;
        if (i > 0)
            CHECK(strcmp(cap.peers[i], cap.peers[i - 1]) != 0);
    }
    CHECK_INT(n2, 5);
    CHECK_INT(n3, 5);
    cap_free(&cap);
    env_done(&e);
}

/* The connection to the proxy comes from a source address too (the
 * capture server stands in for the proxy: what follows its answer to
 * the CONNECT does not matter here). */
TEST_T(source_to_proxy, 30)
{
    static const char *const src[] = { "127.0.0.3" };
    char px[64];
    const char *lines[1] = { "127.0.0.1:9" };
    struct capture cap;
    struct extra x;
    struct env e;

    env_init(&e);
    env_stretch(&e);
    e.cfg.source_ips = src;
    e.cfg.n_source_ips = 1;
    env_extra(&e, &x);
    CHECK(cap_start(&e.loop, &cap, "127.0.0.1", 0) == 0);
    x.caps[0] = &cap;
    e.cfg.proxy = fmt(px, sizeof(px), "http://127.0.0.1:%d", cap.port);
    env_scan(&e, lines, 1);
    CHECK_INT(cap.n_conns, 1);
    CHECK_STR(cap.peers[0], "127.0.0.3");
    CHECK(cap_find(&cap, "127.0.0.1:9") != NULL);   /* the CONNECT */
    cap_free(&cap);
    env_done(&e);
}

/* An IPv6 destination with IPv4 sources only, and a source address
 * this host does not have: source_unusable, never retried, nothing
 * sent. */
TEST_T(source_unusable, 30)
{
    static const char *const v4[] = { "127.0.0.2" };
    static const char *const foreign[] = { "192.0.2.1", "::1" };
    const char *lines[2];
    struct env e;

    env_init(&e);
    e.cfg.source_ips = v4;
    e.cfg.n_source_ips = 1;
    e.cfg.retries = 2;
    lines[0] = "[::1]:9";
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_ESOURCE_UNUSABLE);
    CHECK(strstr(e.recs[0].detail, "family") != NULL);
    expect_attempts(&e.recs[0], 1);
    CHECK(strstr(e.recs[0].json, "\"error\":\"source_unusable\"") != NULL);
    env_done(&e);

    env_init(&e);
    e.cfg.source_ips = foreign;
    e.cfg.n_source_ips = 2;
    lines[0] = "127.0.0.1:9";
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_ESOURCE_UNUSABLE);
    CHECK(strstr(e.recs[0].detail, "192.0.2.1 is not this host's") != NULL);
    env_done(&e);
}

static void no_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s; (void)r; (void)arg;
}

/* hscan_config_check() on the two settings. */
TEST(conn_config_check)
{
    static const char *const bad[] = { "127.0.0.1", "1.2.3" };
    static const char *const ok[] = { "127.0.0.2", "::1" };
    hscan_config_t c;
    const char *field = NULL;
    char d[160];

    hscan_config_init(&c);
    c.on_result = no_result;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), 0);
    c.retries = HSCAN_RETRIES_MAX + 1;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), HSCAN_EINVAL);
    CHECK_STR(field, "retries");
    c.retries = HSCAN_RETRIES_MAX;
    c.source_ips = bad;
    c.n_source_ips = 2;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), HSCAN_EINVAL);
    CHECK_STR(field, "source_ips");
    CHECK(strstr(d, "'1.2.3'") != NULL);
    c.source_ips = NULL;
    CHECK_INT(hscan_config_check(&c, &field, d, sizeof(d)), HSCAN_EINVAL);
    c.source_ips = ok;
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), 0);
    c.n_source_ips = HSCAN_SOURCE_IPS_MAX + 1;
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), HSCAN_EINVAL);
}
