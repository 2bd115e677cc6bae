/* Integration tests of the request bytes: a raw capture server
 * (server-capture.c) keeps what the scanner sends, compared byte for
 * byte.  Environment: scan-env.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "server-capture.h"
#include "test-runner.h"

static void check_request(const struct capture *cap, const char *path,
                          const char *want)
{
    const char *got = cap_find(cap, path);

    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "  request for %s:\n%s\n  expected:\n%s\n", path,
                got ? got : "(none)", want);
    CHECK(got && strcmp(got, want) == 0);
}

TEST_T(scan_request_bytes, 20)
{
    char l[5][80], want[512];
    const char *lines[5];
    struct capture cap, cap6;
    struct extra x;
    struct env e;
    size_t i;

    env_init(&e);
    env_extra(&e, &x);
    CHECK(cap_start(&e.loop, &cap, "127.0.0.1", 0) == 0);
    CHECK(cap_start(&e.loop, &cap6, "::1", 0) == 0);
    x.caps[0] = &cap;
    x.caps[1] = &cap6;
    lines[0] = fmt(l[0], sizeof(l[0]), "127.0.0.1:%d/p?q=1", cap.port);
    lines[1] = fmt(l[1], sizeof(l[1]), "fast.test:%d/name", cap.port);
    lines[2] = fmt(l[2], sizeof(l[2]), "http://[::1]:%d/v6", cap6.port);
    lines[3] = fmt(l[3], sizeof(l[3]), "127.0.0.1:%d?only=query",
                   cap.port);
    lines[4] = fmt(l[4], sizeof(l[4]), "http://FAST.test:%d/frag#x",
                   cap.port);
    env_scan(&e, lines, 5);
    for (i = 0; i < 5; i++)
        EXPECT_STATUS(&e.recs[i], 200);
    CHECK_INT(cap.n_reqs, 4);
    CHECK_INT(cap6.n_reqs, 1);

#define TAIL "User-Agent: hscan/" HSCAN_VERSION_STRING "\r\n"              \
             "Accept: */*\r\nConnection: close\r\n\r\n"
    snprintf(want, sizeof(want), "GET /p?q=1 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" TAIL, cap.port);
    check_request(&cap, "/p?q=1", want);
    snprintf(want, sizeof(want), "GET /name HTTP/1.1\r\n"
             "Host: fast.test:%d\r\n" TAIL, cap.port);
    check_request(&cap, "/name", want);
    snprintf(want, sizeof(want), "GET /v6 HTTP/1.1\r\n"
             "Host: [::1]:%d\r\n" TAIL, cap6.port);
    check_request(&cap6, "/v6", want);
    snprintf(want, sizeof(want), "GET /?only=query HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" TAIL, cap.port);
    check_request(&cap, "/?only=query", want);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/?only=query",
             cap.port);
    CHECK_STR(e.recs[3].url, want);
    snprintf(want, sizeof(want), "GET /frag HTTP/1.1\r\n"
             "Host: FAST.test:%d\r\n" TAIL, cap.port);
    check_request(&cap, "/frag", want);
    cap_free(&cap);
    cap_free(&cap6);
    env_done(&e);
}

TEST_T(scan_request_config, 20)
{
    static const char *const hdrs[] = { "X-A: 1", "Accept:" };
    char l[2][80], want[512];
    const char *lines[2];
    struct capture cap;
    struct extra x;
    struct env e;

    env_init(&e);
    env_extra(&e, &x);
    CHECK(cap_start(&e.loop, &cap, "127.0.0.1", 0) == 0);
    x.caps[0] = &cap;
    e.cfg.method = "HEAD";
    e.cfg.user_agent = "probe-test/9";
    e.cfg.headers = hdrs;
    e.cfg.n_headers = 2;
    e.cfg.path = "/cfg";
    lines[0] = fmt(l[0], sizeof(l[0]), "127.0.0.1:%d/p?q=1", cap.port);
    lines[1] = fmt(l[1], sizeof(l[1]), "127.0.0.1:%d", cap.port);
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    EXPECT_STATUS(&e.recs[1], 200);
    snprintf(want, sizeof(want), "HEAD /p?q=1 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\nUser-Agent: probe-test/9\r\n"
             "Connection: close\r\nX-A: 1\r\n\r\n", cap.port);
    check_request(&cap, "/p?q=1", want);
    snprintf(want, sizeof(want), "HEAD /cfg HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\nUser-Agent: probe-test/9\r\n"
             "Connection: close\r\nX-A: 1\r\n\r\n", cap.port);
    check_request(&cap, "/cfg", want);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/cfg", cap.port);
    CHECK_STR(e.recs[1].url, want);
    cap_free(&cap);
    env_done(&e);
}

TEST_T(scan_request_header_replaces_default, 20)
{
    static const char *const hdrs[] = { "user-agent: over/1",
                                        "Connection: keep-alive" };
    char l[1][80];
    const char *lines[1], *got;
    struct capture cap;
    struct extra x;
    struct env e;

    env_init(&e);
    env_extra(&e, &x);
    CHECK(cap_start(&e.loop, &cap, "127.0.0.1", 0) == 0);
    x.caps[0] = &cap;
    e.cfg.headers = hdrs;
    e.cfg.n_headers = 2;
    lines[0] = fmt(l[0], sizeof(l[0]), "127.0.0.1:%d/r", cap.port);
    env_scan(&e, lines, 1);
    EXPECT_STATUS(&e.recs[0], 200);
    got = cap_find(&cap, "/r");
    CHECK(got != NULL);
    if (got) {
        CHECK(strstr(got, "\r\nuser-agent: over/1\r\n") != NULL);
        CHECK(strstr(got, "\r\nConnection: keep-alive\r\n") != NULL);
        CHECK(strstr(got, "hscan/") == NULL);
        CHECK(strstr(got, "close") == NULL);
        CHECK(strstr(got, "\r\nAccept: */*\r\n") != NULL);
        CHECK(strncmp(got, "GET /r HTTP/1.1\r\nHost: 127.0.0.1:", 33) == 0);
        CHECK(strcmp(got + strlen(got) - 4, "\r\n\r\n") == 0);
    }
    cap_free(&cap);
    env_done(&e);
}

/* A user Host header replaces ours: the server sees only that one (and
 * test server picks its behaviour from it). */
TEST_T(scan_request_host_override, 20)
{
    static const char *const hdrs[] = { "host: status-418.test" };
    char l[2][80];
    const char *lines[2], *got, *h;
    struct capture cap;
    struct extra x;
    struct env e;
    int n_host = 0;

    env_init(&e);
    env_extra(&e, &x);
    CHECK(cap_start(&e.loop, &cap, "127.0.0.1", 0) == 0);
    x.caps[0] = &cap;
    e.cfg.headers = hdrs;
    e.cfg.n_headers = 1;
    lines[0] = fmt(l[0], sizeof(l[0]), "127.0.0.1:%d/h", cap.port);
    lines[1] = fmt(l[1], sizeof(l[1]), "fast.test:%d", e.hport);
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    EXPECT_STATUS(&e.recs[1], 418);
    got = cap_find(&cap, "/h");
    CHECK(got != NULL);
    for (h = got; h && (h = strcasestr(h, "\r\nhost:")) != NULL; h += 2)
        n_host++;
    CHECK_INT(n_host, 1);
    CHECK(got && strstr(got, "\r\nhost: status-418.test\r\n") != NULL);
    CHECK(got && strcmp(got + strlen(got) - 4, "\r\n\r\n") == 0);
    cap_free(&cap);
    env_done(&e);
}

/* A name on the default port: Host carries no port, nor does the url.
 * Needs 127.0.0.1:80; skipped when it cannot be bound. */
TEST_T(scan_request_default_port, 20)
{
    static const char *const lines[] = { "fast.test/p80",
                                         "http://fast.test:80/q80" };
    static const char *const skip[] = { "# 127.0.0.1:80 is not ours" };
    char want[512];
    struct capture cap;
    struct extra x;
    struct env e;
    int rc;

    env_init(&e);
    env_extra(&e, &x);
    rc = cap_start(&e.loop, &cap, "127.0.0.1", 80);
    if (rc != 0) {
        fprintf(stderr, "  127.0.0.1:80: %s; skipped\n", uv_strerror(rc));
        env_scan(&e, skip, 1);
        env_done(&e);
        return;
    }
    x.caps[0] = &cap;
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_STR(e.recs[0].url, "http://fast.test/p80");
    CHECK_STR(e.recs[1].url, "http://fast.test/q80");
    CHECK_INT(e.recs[0].port, 80);
    snprintf(want, sizeof(want), "GET /p80 HTTP/1.1\r\nHost: fast.test\r\n"
             TAIL);
    check_request(&cap, "/p80", want);
    snprintf(want, sizeof(want), "GET /q80 HTTP/1.1\r\nHost: fast.test\r\n"
             TAIL);
    check_request(&cap, "/q80", want);
    cap_free(&cap);
    env_done(&e);
}
