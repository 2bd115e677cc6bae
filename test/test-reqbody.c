/* Integration tests of credentials and request bodies (cfg.basic_auth,
 * cfg.body and their per-target overrides): the bytes a raw capture
 * server (server-capture.c) received, compared byte for byte, and the
 * checks that refuse what cannot be sent.  Environments: scan-env.c
 * (one scanner's settings), api-env.c (hscan_submit_ex()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "api-env.h"
#include "scan-env.h"
#include "server-capture.h"
#include "test-runner.h"

#define UA "User-Agent: hscan/" HSCAN_VERSION_STRING "\r\n"
#define FORM "Content-Type: application/x-www-form-urlencoded\r\n"
/* base64 of "alice:s3cr3t" (RFC 7617 2) */
#define ALICE "YWxpY2U6czNjcjN0"

/* The request for `path` is exactly `want` (`want_len` bytes). */
static void check_bytes(const struct capture *cap, const char *path,
                        const char *want, size_t want_len)
{
    const char *got = cap_find(cap, path);
    size_t got_len = 0;
    unsigned i;

    for (i = 0; got && i < cap->n_reqs; i++)
        if (cap->reqs[i] == got)
            got_len = cap->req_len[i];
    if (!got || got_len != want_len || memcmp(got, want, want_len) != 0)
        fprintf(stderr, "  request for %s (%zu bytes):\n%s\n  expected "
                "(%zu bytes):\n%s\n", path, got_len, got ? got : "(none)",
                want_len, want);
    CHECK(got && got_len == want_len && memcmp(got, want, want_len) == 0);
}

static void check_str(const struct capture *cap, const char *path,
                      const char *want)
{
    check_bytes(cap, path, want, strlen(want));
}

/* Scan one target, `path` on a capture server, with e->cfg as set. */
static void scan_one(struct env *e, struct capture *cap, struct extra *x,
                     const char *path)
{
    char l[80];
    const char *lines[1];
    int n;

    env_extra(e, x);
    CHECK(cap_start(&e->loop, cap, "127.0.0.1", 0) == 0);
    x->caps[0] = cap;
    n = snprintf(l, sizeof(l), "127.0.0.1:%d%s", cap->port, path);
    CHECK(n > 0 && (size_t)n < sizeof(l));
    lines[0] = l;
    env_scan(e, lines, 1);
    EXPECT_STATUS(&e->recs[0], 200);
}

TEST_T(reqbody_form_post, 20)
{
    struct capture cap;
    struct extra x;
    struct env e;
    char want[512];

    env_init(&e);
    e.cfg.method = "POST";
    e.cfg.body = "a=1&b=two";
    e.cfg.body_len = 9;
    scan_one(&e, &cap, &x, "/form");
    snprintf(want, sizeof(want), "POST /form HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" UA "Accept: */*\r\n"
             "Connection: close\r\nContent-Length: 9\r\n" FORM "\r\n"
             "a=1&b=two", cap.port);
    check_str(&cap, "/form", want);
    cap_free(&cap);
    env_done(&e);
}

/* The method stays the config's: a GET with a body is sent as such. */
TEST_T(reqbody_keeps_method_and_content_type, 20)
{
    static const char *const hdrs[] = { "Content-Type: application/json" };
    struct capture cap;
    struct extra x;
    struct env e;
    char want[512];

    env_init(&e);
    e.cfg.headers = hdrs;
    e.cfg.n_headers = 1;
    e.cfg.body = "{\"k\":1}";
    e.cfg.body_len = 7;
    scan_one(&e, &cap, &x, "/json");
    snprintf(want, sizeof(want), "GET /json HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" UA "Accept: */*\r\n"
             "Connection: close\r\nContent-Length: 7\r\n"
             "Content-Type: application/json\r\n\r\n{\"k\":1}", cap.port);
    check_str(&cap, "/json", want);
    cap_free(&cap);
    env_done(&e);
}

TEST_T(reqbody_empty, 20)
{
    struct capture cap;
    struct extra x;
    struct env e;
    char want[512];

    env_init(&e);
    e.cfg.method = "PUT";
    e.cfg.body = "";
    e.cfg.body_len = 0;
    scan_one(&e, &cap, &x, "/empty");
    snprintf(want, sizeof(want), "PUT /empty HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" UA "Accept: */*\r\n"
             "Connection: close\r\nContent-Length: 0\r\n" FORM "\r\n",
             cap.port);
    check_str(&cap, "/empty", want);
    cap_free(&cap);
    env_done(&e);
}

/* Any bytes, NUL included, a megabyte of them: all sent, once. */
TEST_T(reqbody_binary_large, 30)
{
    static const char *const hdrs[] = { "Content-Type:" };
    const size_t n = 1u << 20;
    struct capture cap;
    struct extra x;
    struct env e;
    char head[512], *want, *body;
    size_t hl, i;

    CHECK((body = malloc(n)) != NULL);
    for (i = 0; i < n; i++)
        body[i] = (char)(i * 7);
    env_init(&e);
    env_stretch(&e);
    e.cfg.method = "POST";
    e.cfg.headers = hdrs;
    e.cfg.n_headers = 1;
    e.cfg.body = body;
    e.cfg.body_len = n;
    scan_one(&e, &cap, &x, "/bin");
    free(body);             /* the scanner copied it at hscan_new() */
    hl = (size_t)snprintf(head, sizeof(head), "POST /bin HTTP/1.1\r\n"
                          "Host: 127.0.0.1:%d\r\n" UA "Accept: */*\r\n"
                          "Connection: close\r\nContent-Length: %zu\r\n"
                          "\r\n", cap.port, n);
    CHECK((want = malloc(hl + n)) != NULL);
    memcpy(want, head, hl);
    for (i = 0; i < n; i++)
        want[hl + i] = (char)(i * 7);
    check_bytes(&cap, "/bin", want, hl + n);
    free(want);
    cap_free(&cap);
    env_done(&e);
}

TEST_T(reqbody_basic_auth, 20)
{
    struct capture cap;
    struct extra x;
    struct env e;
    char want[512];

    env_init(&e);
    e.cfg.basic_auth = "alice:s3cr3t";
    scan_one(&e, &cap, &x, "/auth");
    snprintf(want, sizeof(want), "GET /auth HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\nAuthorization: Basic " ALICE "\r\n"
             UA "Accept: */*\r\nConnection: close\r\n\r\n", cap.port);
    check_str(&cap, "/auth", want);
    /* the record holds no credentials */
    CHECK(strstr(e.recs[0].json, "s3cr3t") == NULL);
    CHECK(strstr(e.recs[0].json, ALICE) == NULL);
    cap_free(&cap);
    env_done(&e);
}

/* An explicit Authorization line wins over basic_auth; padding. */
TEST_T(reqbody_auth_header_wins, 20)
{
    static const char *const hdrs[] = { "authorization: Bearer t0k" };
    struct capture cap, cap2;
    struct extra x;
    struct env e;
    char want[512];

    env_init(&e);
    e.cfg.basic_auth = "alice:s3cr3t";
    e.cfg.headers = hdrs;
    e.cfg.n_headers = 1;
    scan_one(&e, &cap, &x, "/bearer");
    snprintf(want, sizeof(want), "GET /bearer HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" UA "Accept: */*\r\n"
             "Connection: close\r\nauthorization: Bearer t0k\r\n\r\n",
             cap.port);
    check_str(&cap, "/bearer", want);
    cap_free(&cap);
    env_done(&e);

    /* 2 bytes past a multiple of 3: "=" padding; none for 6 bytes; an
     * empty password and a ':' inside one are fine */
    env_init(&e);
    e.cfg.basic_auth = "a:";
    scan_one(&e, &cap2, &x, "/pad");
    CHECK(strstr(cap_find(&cap2, "/pad"),
                 "\r\nAuthorization: Basic YTo=\r\n") != NULL);
    cap_free(&cap2);
    env_done(&e);
    env_init(&e);
    e.cfg.basic_auth = "ab:c:d";
    scan_one(&e, &cap2, &x, "/pad2");
    CHECK(strstr(cap_find(&cap2, "/pad2"),
                 "\r\nAuthorization: Basic YWI6Yzpk\r\n") != NULL);
    cap_free(&cap2);
    env_done(&e);
}

/* ---- per target (hscan_submit_ex) ---- */

struct ov {
    struct ctx c;               /* first: the scanner's arg */
    struct capture cap;
};

static void ov_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    note(arg, r);
}

static void ov_drained(hscan_t *scan, void *arg)
{
    struct ov *o = arg;

    cap_stop(&o->cap);
    drained_close(scan, arg);
}

static int submit_ex(struct ctx *c, const char *line, unsigned index,
                     const hscan_target_opts_t *o)
{
    int rc;

    c->in_call = 1;
    rc = hscan_submit_ex(c->scan, line, strlen(line),
                         (void *)(uintptr_t)(index + 1), o, NULL);
    c->in_call = 0;
    return rc;
}

TEST_T(reqbody_per_target, 20)
{
    static const char *const drop_auth[] = { "Authorization:" };
    struct ov o;
    hscan_target_opts_t t;
    char line[96], want[512];
    unsigned i;

    memset(&o, 0, sizeof(o));
    ctx_init(&o.c, 4);
    CHECK(cap_start(&o.c.loop, &o.cap, "127.0.0.1", 0) == 0);
    o.c.cfg.arg = &o;
    o.c.cfg.method = "POST";
    o.c.cfg.body = "scan=1";
    o.c.cfg.body_len = 6;
    o.c.cfg.basic_auth = "alice:s3cr3t";
    o.c.cfg.on_result = ov_result;
    o.c.cfg.on_drained = ov_drained;
    CHECK(new_scan(&o.c) == 0);

    /* 0: the scanner's body and credentials */
    snprintf(line, sizeof(line), "127.0.0.1:%d/0", o.cap.port);
    CHECK(submit_ex(&o.c, line, 0, NULL) == 0);
    /* 1: its own body and user */
    hscan_target_opts_init(&t);
    t.body = "target=two";
    t.body_len = 10;
    t.basic_auth = "bob:pw";
    snprintf(line, sizeof(line), "127.0.0.1:%d/1", o.cap.port);
    CHECK(submit_ex(&o.c, line, 1, &t) == 0);
    /* 2: an empty body, the scanner's credentials dropped */
    hscan_target_opts_init(&t);
    t.body = "";
    t.headers = drop_auth;
    t.n_headers = 1;
    snprintf(line, sizeof(line), "127.0.0.1:%d/2", o.cap.port);
    CHECK(submit_ex(&o.c, line, 2, &t) == 0);
    /* 3: another method, the scanner's body kept */
    hscan_target_opts_init(&t);
    t.method = "PATCH";
    snprintf(line, sizeof(line), "127.0.0.1:%d/3", o.cap.port);
    CHECK(submit_ex(&o.c, line, 3, &t) == 0);
    CHECK(hscan_end_input(o.c.scan) == 0);
    ctx_run(&o.c);
    check_once(&o.c);
    for (i = 0; i < 4; i++)
        CHECK_INT(o.c.status[i], 200);

    snprintf(want, sizeof(want), "POST /0 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\nAuthorization: Basic " ALICE "\r\n"
             UA "Accept: */*\r\nConnection: close\r\n"
             "Content-Length: 6\r\n" FORM "\r\nscan=1", o.cap.port);
    check_str(&o.cap, "/0", want);
    snprintf(want, sizeof(want), "POST /1 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\nAuthorization: Basic Ym9iOnB3\r\n"
             UA "Accept: */*\r\nConnection: close\r\n"
             "Content-Length: 10\r\n" FORM "\r\ntarget=two", o.cap.port);
    check_str(&o.cap, "/1", want);
    snprintf(want, sizeof(want), "POST /2 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n" UA "Accept: */*\r\n"
             "Connection: close\r\nContent-Length: 0\r\n" FORM "\r\n",
             o.cap.port);
    check_str(&o.cap, "/2", want);
    snprintf(want, sizeof(want), "PATCH /3 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\nAuthorization: Basic " ALICE "\r\n"
             UA "Accept: */*\r\nConnection: close\r\n"
             "Content-Length: 6\r\n" FORM "\r\nscan=1", o.cap.port);
    check_str(&o.cap, "/3", want);
    cap_free(&o.cap);
    ctx_free(&o.c);
}

/* ---- what the checks refuse ---- */

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)r;
    (void)arg;
}

static void refused(const hscan_config_t *c, const char *field,
                    const char *lead)
{
    const char *got = NULL;
    char detail[256] = "";

    CHECK_INT(hscan_config_check(c, &got, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(got, field);
    if (strncmp(detail, lead, strlen(lead)) != 0)
        fprintf(stderr, "  detail \"%s\"\n", detail);
    CHECK(strncmp(detail, lead, strlen(lead)) == 0);
    CHECK(strstr(detail, "s3cr3t") == NULL);
}

TEST(reqbody_config_checked)
{
    hscan_config_t c;
    static char big[1];

    hscan_config_init(&c);
    c.on_result = on_result;
    c.basic_auth = "alice-s3cr3t";
    refused(&c, "basic_auth", "(not shown):");
    hscan_config_init(&c);
    c.on_result = on_result;
    c.body_len = 3;
    refused(&c, "body", "NULL: body_len is 3");
    c.body = big;
    c.body_len = HSCAN_REQUEST_BODY_MAX + 1;
    refused(&c, "body", "16777217 bytes: must be at most 16777216");
    c.body_len = HSCAN_REQUEST_BODY_MAX;    /* the bound itself is fine */
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), 0);
    c.body_len = 1;
    c.basic_auth = ":";
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), 0);
#ifdef HSCAN_HAVE_NGHTTP2
    c.http_version = HSCAN_HTTP_2;  /* a body goes over HTTP/2 too */
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), 0);
    c.http_version = HSCAN_HTTP_DEFAULT;
    c.h2c = 1;
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), 0);
#endif
}

TEST(reqbody_target_opts_checked)
{
    hscan_target_opts_t o;
    const char *field = NULL;
    char detail[256] = "";

    hscan_target_opts_init(&o);
    o.basic_auth = "nocolon";
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "basic_auth");
    CHECK(strstr(detail, "nocolon") == NULL);
    hscan_target_opts_init(&o);
    o.body = "x";
    o.body_len = HSCAN_REQUEST_BODY_MAX + 1;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "body");
    o.body_len = 1;
    CHECK_INT(hscan_target_opts_check(&o, NULL, NULL, 0), 0);
}

