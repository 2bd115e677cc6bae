/* Integration tests of body capture (cfg.body_bytes): title, SHA-256,
 * content type and length, truncation, and the deadlines that still
 * hold while a body is read, against the loopback test servers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/evp.h>
#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

#define FAST_BODY "<html><title>fast</title></html>"

/* One target scanned with body capture of `bytes`; the record in *e. */
static struct rec *scan_one(struct env *e, const char *fmtline,
                            size_t bytes)
{
    static char line[128];
    const char *lines[1];

    snprintf(line, sizeof(line), fmtline, e->hport);
    lines[0] = line;
    e->cfg.body_bytes = bytes;
    env_scan(e, lines, 1);
    return &e->recs[0];
}

static void check_body(const struct rec *r, const char *want, int trunc)
{
    char sha[65];

    if (r->body_len != strlen(want) || r->body_truncated != trunc)
        fprintf(stderr, "  %s: %zu bytes, truncated %d\n", r->input,
                r->body_len, r->body_truncated);
    CHECK_INT(r->body_len, strlen(want));
    CHECK(r->body_len == 0 || memcmp(r->body, want, r->body_len) == 0);
    CHECK_INT(r->body_truncated, trunc);
    sha256_hex(want, strlen(want), sha);
    CHECK(r->body_sha256 != NULL);
    CHECK_STR(r->body_sha256, sha);
}

TEST_T(body_fast, 20)
{
    struct env e;
    struct rec *r;

    env_init(&e);
    r = scan_one(&e, "fast.test:%d", 4096);
    EXPECT_STATUS(r, 200);
    check_body(r, FAST_BODY, 0);
    CHECK_STR(r->title, "fast");
    CHECK_STR(r->ctype, "text/html");
    CHECK_INT(r->clen, strlen(FAST_BODY));
    CHECK(strstr(r->json, "\"title\":\"fast\",\"body\":{\"bytes\":32,"
                          "\"truncated\":false,\"sha256\":\"") != NULL);
    env_done(&e);
}

TEST_T(body_off_by_default, 20)
{
    struct env e;
    struct rec *r;

    env_init(&e);
    r = scan_one(&e, "fast.test:%d", 0);
    EXPECT_STATUS(r, 200);
    CHECK(r->body == NULL && r->body_sha256 == NULL && r->title == NULL);
    CHECK_STR(r->ctype, "text/html");          /* from the headers */
    CHECK_INT(r->clen, strlen(FAST_BODY));
    CHECK(strstr(r->json, "\"title\":null,\"body\":null,") != NULL);
    env_done(&e);
}

TEST_T(body_framings, 20)
{
    struct env e;
    struct rec *r;

    env_init(&e);
    r = scan_one(&e, "chunked.test:%d", 4096);     /* decoded */
    EXPECT_STATUS(r, 200);
    check_body(r, "hello world", 0);
    CHECK(r->title == NULL);
    CHECK_INT(r->clen, -1);
    env_done(&e);

    env_init(&e);                                   /* ends with close */
    r = scan_one(&e, "http10.test:%d", 4096);
    EXPECT_STATUS(r, 200);
    check_body(r, "<html><title>http10</title></html>\n", 0);
    CHECK_STR(r->title, "http10");
    env_done(&e);

    env_init(&e);                                   /* exactly full */
    r = scan_one(&e, "fast.test:%d", strlen(FAST_BODY));
    check_body(r, FAST_BODY, 0);
    env_done(&e);

    env_init(&e);                                   /* cut */
    r = scan_one(&e, "fast.test:%d", 10);
    EXPECT_STATUS(r, 200);
    check_body(r, "<html><tit", 1);
    CHECK(r->title == NULL);
    env_done(&e);
}

/* Bodies that never end or stop coming: the response stands, with what
 * arrived, within the deadlines. */
TEST_T(body_hostile, 30)
{
    struct env e;
    struct rec *r;

    env_init(&e);                   /* forever: stops at body_bytes */
    r = scan_one(&e, "endbody.test:%d", 2000);
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->body_len, 2000);
    CHECK_INT(r->body_truncated, 1);
    CHECK(r->total_ms < 2000.0 * slow_factor());
    env_done(&e);

    env_init(&e);                   /* Content-Length, no body, open */
    e.cfg.read_timeout_ms = 300;
    r = scan_one(&e, "nobody.test:%d", 4096);
    EXPECT_STATUS(r, 200);
    check_body(r, "", 1);
    CHECK(r->total_ms >= 250 && r->total_ms < 3000.0 * slow_factor());
    env_done(&e);

    env_init(&e);                   /* the same, the total deadline */
    e.cfg.timeout_ms = 400;
    r = scan_one(&e, "nobody.test:%d", 4096);
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->body_truncated, 1);
    CHECK(r->total_ms >= 350 && r->total_ms < 3000.0 * slow_factor());
    env_done(&e);

    env_init(&e);                   /* 10 of 100 bytes, then FIN */
    r = scan_one(&e, "shortbody.test:%d", 4096);
    EXPECT_STATUS(r, 200);
    check_body(r, "0123456789", 1);
    env_done(&e);

    env_init(&e);                   /* a chunk size that overflows */
    r = scan_one(&e, "chunkovf.test:%d", 4096);
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->body_truncated, 1);
    env_done(&e);
}

/* No body to read: HEAD, 204, a 101 upgrade. */
TEST_T(body_none, 20)
{
    struct env e;
    struct rec *r;

    env_init(&e);
    e.cfg.method = "HEAD";
    r = scan_one(&e, "nobody.test:%d", 4096);   /* would hang otherwise */
    EXPECT_STATUS(r, 200);
    CHECK(r->body == NULL && r->body_sha256 == NULL);
    CHECK(r->total_ms < 1000.0 * slow_factor());
    env_done(&e);

    env_init(&e);
    r = scan_one(&e, "status-204.test:%d", 4096);
    EXPECT_STATUS(r, 204);
    check_body(r, "", 0);
    env_done(&e);

    env_init(&e);
    r = scan_one(&e, "upgrade.test:%d", 4096);
    EXPECT_STATUS(r, 101);
    check_body(r, "", 0);
    env_done(&e);
}

/* Over TLS, and only the final response of a redirect chain. */
TEST_T(body_tls_and_redirect, 30)
{
    struct env e;
    char line[128];
    const char *lines[1];
    struct rec *r;

    env_init_tls(&e);
    snprintf(line, sizeof(line), "https://fast.test:%d/", e.tport);
    lines[0] = line;
    e.cfg.body_bytes = 4096;
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->title, "fast");
    check_body(r, FAST_BODY, 0);
    env_done(&e);

    env_init(&e);
    e.cfg.follow = 3;
    r = scan_one(&e, "http://127.0.0.1:%d/chain-2", 4096);
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->n_hops, 2);
    CHECK_STR(r->title, "fast");
    env_done(&e);
}

/* cfg.body_keep = 0: no body bytes in the result, the same facts. */
TEST_T(body_keep_off, 60)
{
    static const struct { const char *line; size_t bytes; } cases[] = {
        { "fast.test:%d", 4096 }, { "fast.test:%d", 10 },
        { "chunked.test:%d", 4096 }, { "http10.test:%d", 4096 },
        { "shortbody.test:%d", 4096 }, { "status-204.test:%d", 4096 },
        { "endbody.test:%d", 3000 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct env kept, bare;
        struct rec *a, *b;

        env_init(&kept);
        a = scan_one(&kept, cases[i].line, cases[i].bytes);
        env_init(&bare);
        bare.cfg.body_keep = 0;
        b = scan_one(&bare, cases[i].line, cases[i].bytes);
        EXPECT_STATUS(a, b->status);
        CHECK(a->body_sha256 != NULL && b->body_sha256 != NULL);
        CHECK(a->body_len == 0 || a->body != NULL);
        CHECK(b->body == NULL);
        CHECK_INT(b->body_len, a->body_len);
        CHECK_INT(b->body_truncated, a->body_truncated);
        CHECK_STR(b->body_sha256, a->body_sha256);
        CHECK((a->title == NULL) == (b->title == NULL));
        CHECK(!a->title || strcmp(a->title, b->title) == 0);
        if (a->body) {
            char sha[65];
            sha256_hex(a->body, a->body_len, sha);
            CHECK_STR(b->body_sha256, sha);
        }
        CHECK(strstr(b->json, "\"body\":{\"bytes\":") != NULL);
        env_done(&kept);
        env_done(&bare);
    }
}

static long maxrss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 300 bodies that never end, all in flight at once: each holds at most
 * body_bytes, so the peak grows by about 300 x 16 KiB, not more. */
TEST_T(body_memory_bounded, 60)
{
    enum { N = 300, BYTES = 16384 };
    static const char *lines[N];
    struct env e;
    long before, grew;
    size_t i, full = 0;

    env_init(&e);
    for (i = 0; i < N; i++) {
        char *l = malloc(64);
        CHECK(l != NULL);
        snprintf(l, 64, "e%zu.endbody.test:%d", i, e.hport);
        lines[i] = l;
    }
    e.cfg.concurrency = N;
    e.cfg.body_bytes = BYTES;
    env_stretch(&e);
    before = maxrss_kib();
    env_scan(&e, lines, N);
    grew = maxrss_kib() - before;
    for (i = 0; i < N; i++) {
        struct rec *r = &e.recs[i];
        EXPECT_STATUS(r, 200);
        full += r->body_len == BYTES && r->body_truncated;
        free((char *)lines[i]);
    }
    CHECK_INT(full, N);
    fprintf(stderr, "  %d endless bodies of %d bytes: peak RSS +%ld KiB\n",
            N, BYTES, grew);
    /* bodies 4.7 MiB, their records' copies as much again, servers.
     * Under valgrind and ASan the RSS is mostly theirs. */
#ifndef __SANITIZE_ADDRESS__
    if (!getenv("HSCAN_UNDER_VALGRIND"))
        CHECK(grew < 3 * N * BYTES / 1024 + 16 * 1024);
#endif
    env_done(&e);
}
