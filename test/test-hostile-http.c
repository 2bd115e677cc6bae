/* The adversarial HTTP server zoo (issue 6; the HTTP cases of
 * reliability.md section 2, P0 and P1).  Each case asserts the exact
 * error name (and detail where it is fixed text), that the probe ended by
 * its deadline (total_ms and the scan's wall time), and that the record's
 * JSON line is valid (scan-env.c checks every record).  The memory cases
 * run the servers in a child process and measure this process's peak
 * RSS across 50 concurrent hostile targets.
 *
 * Cases already in test-scan.c are not repeated here: many/huge headers
 * at the default limits, trickle, hang, close and reset before any byte,
 * garbage, a bad status code, control bytes in a value, bare LF, one 103.
 * The parser is the library's own (lib/http.c): lenient by default,
 * each deviation named in `anomalies`; --strict (cfg.strict) refuses
 * what llhttp 8.1's strict mode refused.  A head cut short keeps what
 * was read before the cut (partial facts, headers_complete false).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

#define MAX_LINES 8
#define QUICK_MS 1000   /* a limit or a parse error, not a timer, ends it */

/* Valgrind runs everything many times slower: wall-clock bounds that
 * are not the library's own timers stretch by this much. */
/* ASan: its allocator keeps freed blocks in quarantine and pads every
 * block, so RSS is its own (as valgrind's is), and code runs about
 * twice as slowly. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static double slow(void)
{
    return getenv("HSCAN_UNDER_VALGRIND") ? 10 : UNDER_ASAN ? 2 : 1;
}

struct run {
    struct env e;
    char buf[MAX_LINES][96];
    const char *lines[MAX_LINES];
    double wall_ms;
};

static void check_wall(const struct run *r, double bound_ms)
{
    if (r->wall_ms > bound_ms * slow())
        fprintf(stderr, "  scan took %.1f ms\n", r->wall_ms);
    CHECK(r->wall_ms <= bound_ms * slow());
}

/* Scan the lines `fmts` (each formatted with the HTTP port) with the
 * config already set in r->e, and time the whole scan: the targets run
 * at once, so it ends by the per-target deadline (plus the servers'
 * and the scanner's closing). */
static void run_scan(struct run *r, const char *const *fmts, size_t n)
{
    uint64_t t0;
    size_t i;

    CHECK(n <= MAX_LINES);
    for (i = 0; i < n; i++)
        r->lines[i] = fmt(r->buf[i], sizeof(r->buf[i]), fmts[i], r->e.hport);
    t0 = uv_hrtime();
    env_scan(&r->e, r->lines, n);
    r->wall_ms = (double)(uv_hrtime() - t0) / 1e6;
    check_wall(r, (double)r->e.cfg.timeout_ms + 1000);
}

/* The record ended within `bound_ms` of its start. */
static void check_by(const struct rec *r, double bound_ms)
{
    CHECK(r->total_ms >= 0);
    if (r->total_ms > bound_ms * slow()) {
        fprintf(stderr, "  total_ms %.1f over %.0f\n", r->total_ms,
                bound_ms * slow());
        show(r);
    }
    CHECK(r->total_ms <= bound_ms * slow());
}

/* A failed record: the error, its fixed detail (NULL: any), no
 * response facts (the library keeps none on error), bytes had come. */
static void check_failed(const struct rec *r, int err, const char *detail)
{
    EXPECT_ERR(r, err);
    CHECK(r->detail != NULL);
    if (detail)
        CHECK_STR(r->detail, detail);
    CHECK_INT(r->status, 0);
    CHECK_INT(r->n_hdrs, 0);
    CHECK(r->reason == NULL);
    CHECK(r->ttfb_ms >= 0);
    CHECK(strstr(r->json, "\"status\":null,") != NULL);
    CHECK(strstr(r->json, "\"headers\":[],") != NULL);
}

/* An error after the status line: the status and the first `n_hdrs`
 * fields read before the cut are kept (n_hdrs -1: any number), and
 * the blank line had not come (or, `complete`, had: --strict refused
 * the framing fields). */
static void check_partial_c(const struct rec *r, int err,
                            const char *detail, int status, long n_hdrs,
                            int complete)
{
    EXPECT_ERR(r, err);
    CHECK(r->detail != NULL);
    if (detail)
        CHECK_STR(r->detail, detail);
    CHECK_INT(r->status, status);
    if (n_hdrs >= 0)
        CHECK_INT(r->n_hdrs, n_hdrs);
    else
        CHECK(r->n_hdrs > 0);
    CHECK(strstr(r->json, complete ? "\"headers_complete\":true"
                                   : "\"headers_complete\":false") != NULL);
}

static void check_partial(const struct rec *r, int err, const char *detail,
                          int status, long n_hdrs)
{
    check_partial_c(r, err, detail, status, n_hdrs, 0);
}

/* The record names `anomaly` (a JSON string with its quotes). */
static void check_anomaly(const struct rec *r, const char *anomaly)
{
    const char *a = strstr(r->json, "\"anomalies\":[");

    CHECK(a != NULL);
    if (!strstr(a, anomaly) || strstr(a, anomaly) > strchr(a, ']'))
        show(r);
    CHECK(strstr(a, anomaly) != NULL && strstr(a, anomaly) < strchr(a, ']'));
}

/* The detail starts with `hpe`. */
static void check_parse(const struct rec *r, const char *hpe)
{
    check_failed(r, HSCAN_EHTTP_PARSE, NULL);
    if (strncmp(r->detail, hpe, strlen(hpe)) != 0)
        show(r);
    CHECK(strncmp(r->detail, hpe, strlen(hpe)) == 0);
    CHECK(strstr(r->json, "\"error\":\"http_parse\"") != NULL);
}

static void check_value(const struct rec *r, const char *name,
                        const char *value, size_t value_len)
{
    long i = find_hdr(r, name);

    if (i < 0)
        show(r);
    CHECK(i >= 0);
    CHECK_INT(r->hdrs[i].value_len, value_len);
    CHECK(memcmp(r->hdrs[i].value, value, value_len) == 0);
}

/* ---- header blocks that never end, or end too late ---- */

/* Fields forever: with 20-byte fields the count cap (256) comes first,
 * with 1 KB fields the byte cap (64 KiB). */
TEST_T(hostile_endless_headers, 20)
{
    static const char *const fmts[] = {
        "endless.test:%d", "endless-1000.test:%d",
    };
    struct run r;
    size_t i;

    env_init(&r.e);
    run_scan(&r, fmts, 2);
    check_partial(&r.e.recs[0], HSCAN_ETOO_MANY_HEADERS,
                  "more than 256 header fields", 200, 256);
    CHECK(strstr(r.e.recs[0].json, "\"error\":\"too_many_headers\""));
    check_partial(&r.e.recs[1], HSCAN_EHEADER_TOO_LARGE,
                  "header block over 65536 bytes", 200, -1);
    CHECK(strstr(r.e.recs[1].json, "\"error\":\"header_too_large\""));
    for (i = 0; i < 2; i++)
        check_by(&r.e.recs[i], QUICK_MS);
    check_wall(&r, 2000);
    env_done(&r.e);
}

/* One 1 MiB line without CRLF: the byte cap ends it at 64 KiB.  With a
 * cap above the line, the head never ends and the server falls silent:
 * read_timeout. */
TEST_T(hostile_long_header_line, 20)
{
    static const char *const fmts[] = { "longline.test:%d" };
    struct run r;

    env_init(&r.e);
    run_scan(&r, fmts, 1);
    check_partial(&r.e.recs[0], HSCAN_EHEADER_TOO_LARGE,
                  "header block over 65536 bytes", 200, -1);
    check_by(&r.e.recs[0], QUICK_MS);
    check_wall(&r, 2000);
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.max_header_bytes = 2 << 20;
    r.e.cfg.read_timeout_ms = 500;
    r.e.cfg.timeout_ms = 3000 * slow();
    run_scan(&r, fmts, 1);
    check_partial(&r.e.recs[0], HSCAN_EREAD_TIMEOUT, "no data for 500 ms",
                  200, -1);
    CHECK(r.e.recs[0].total_ms >= 400);
    check_by(&r.e.recs[0], 2500);
    env_done(&r.e);
}

/* 100,000 fields "a:b": the count cap at its default; with the count
 * cap raised, the byte cap; with both raised, every field is kept. */
TEST_T(hostile_tiny_headers, 40)
{
    static const char *const one[] = { "tiny.test:%d" };
    static const char *const two[] = {
        "tiny.test:%d", "tiny-100001.test:%d",
    };
    struct run r;
    struct rec *k;

    env_init(&r.e);
    run_scan(&r, one, 1);
    check_partial(&r.e.recs[0], HSCAN_ETOO_MANY_HEADERS,
                  "more than 256 header fields", 200, 256);
    check_by(&r.e.recs[0], QUICK_MS);
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.max_headers = 1000000;
    run_scan(&r, one, 1);
    check_partial(&r.e.recs[0], HSCAN_EHEADER_TOO_LARGE,
                  "header block over 65536 bytes", 200, -1);
    check_by(&r.e.recs[0], QUICK_MS);
    env_done(&r.e);

    /* Server + 100,000 fields = the limit exactly; one more is over. */
    env_init(&r.e);
    r.e.cfg.max_headers = 100001;
    r.e.cfg.max_header_bytes = 1 << 20;
    r.e.cfg.timeout_ms = 3000 * slow();
    run_scan(&r, two, 2);
    k = &r.e.recs[0];
    EXPECT_STATUS(k, 200);
    CHECK_INT(k->n_hdrs, 100001);
    check_hdr(k, 0, "Server", "hscan-test");
    check_hdr(k, 1, "a", "b");
    check_hdr(k, 100000, "a", "b");
    check_by(k, 3000);
    check_partial(&r.e.recs[1], HSCAN_ETOO_MANY_HEADERS,
                  "more than 100001 header fields", 200, 100001);
    check_by(&r.e.recs[1], 3000);
    env_done(&r.e);
}

/* ---- pacing: many tiny writes, and a drip past the deadline ---- */

/* A 10,000-byte status line, one byte per write (TCP_NODELAY, one write
 * per loop turn, so the probe reads it in 10,000 reads of one byte, as
 * strace shows): parsed as if it came at once. */
TEST_T(hostile_split_status_line, 20)
{
    static const char *const fmts[] = { "split.test:%d" };
    struct run r;
    struct rec *k;
    size_t i;

    env_init(&r.e);
    r.e.cfg.timeout_ms = 3000 * slow();
    run_scan(&r, fmts, 1);
    k = &r.e.recs[0];
    EXPECT_STATUS(k, 200);
    CHECK_INT(k->major, 1);
    CHECK_INT(k->minor, 1);
    CHECK_INT(k->reason_len, 10000 - 15);
    for (i = 0; i < k->reason_len; i++)
        CHECK(k->reason[i] == 'r');
    CHECK_INT(k->n_hdrs, 2);
    check_hdr(k, 0, "Server", "hscan-test");
    check_hdr(k, 1, "Content-Length", "0");
    check_by(k, 3000);
    env_done(&r.e);
}

/* A byte every 900 ms forever: never idle for the 1500 ms read timeout,
 * so only the absolute deadline (2500 ms) ends it, on time, as
 * read_timeout that names the overall budget.  With a read timeout
 * below the drip interval, that one fires instead: same name, the
 * phase's own detail. */
TEST_T(hostile_slow_drip, 20)
{
    static const char *const fmts[] = { "drip.test:%d" };
    struct run r;
    struct rec *k;

    env_init(&r.e);
    r.e.cfg.timeout_ms = 2500;
    r.e.cfg.read_timeout_ms = 1500;
    run_scan(&r, fmts, 1);
    k = &r.e.recs[0];
    check_failed(k, HSCAN_EREAD_TIMEOUT, "overall budget of 2500 ms ran "
                 "out while reading the response (phase limit 1500 ms)");
    CHECK(strstr(k->json, "\"error\":\"read_timeout\"") != NULL);
    CHECK(k->total_ms >= 2300);
    CHECK(k->total_ms <= 2500 + 700 * slow());
    check_wall(&r, 4000);
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.timeout_ms = 2500;
    r.e.cfg.read_timeout_ms = 400;
    run_scan(&r, fmts, 1);
    k = &r.e.recs[0];
    check_failed(k, HSCAN_EREAD_TIMEOUT, "no data for 400 ms");
    CHECK(k->total_ms >= 300);
    CHECK(k->total_ms < 2300);
    env_done(&r.e);
}

/* ---- bytes ---- */

/* NUL and 0x80-0xFF: kept byte for byte in the reason phrase and in a
 * value (lengths exact, nothing cut at the NUL), escaped one \u00XX per
 * byte in JSON.  In a header name they are not a token: the name is
 * kept as received and named invalid_name; --strict stops there
 * (http_parse, the fields before it kept). */
TEST_T(hostile_binary_bytes, 20)
{
    static const char *const fmts[] = {
        "binval.test:%d", "binname.test:%d", "nulname.test:%d",
    };
    char reason[3 + 128], value[2 + 128], esc[128 * 6 + 1];
    char want[sizeof(esc) + 64];
    struct run r;
    struct rec *k;
    int i;

    memcpy(reason, "OK\0", 3);
    memcpy(value, "v\0", 2);
    for (i = 0; i < 128; i++) {
        reason[3 + i] = (char)(0x80 + i);
        value[2 + i] = (char)(0x80 + i);
        snprintf(esc + 6 * i, 7, "\\u00%02x", 0x80 + i);
    }
    env_init(&r.e);
    run_scan(&r, fmts, 3);
    k = &r.e.recs[0];
    EXPECT_STATUS(k, 200);
    CHECK_INT(k->reason_len, sizeof(reason));
    CHECK(memcmp(k->reason, reason, sizeof(reason)) == 0);
    check_value(k, "X-Bin", value, sizeof(value));
    snprintf(want, sizeof(want), "\"reason\":\"OK\\u0000%s\"", esc);
    if (!strstr(k->json, want))
        show(k);
    CHECK(strstr(k->json, want) != NULL);
    snprintf(want, sizeof(want), "[\"X-Bin\",\"v\\u0000%s\"]", esc);
    CHECK(strstr(k->json, want) != NULL);
    check_by(k, QUICK_MS);
    check_value(&r.e.recs[1], "X-\x80\xff", "v", 1);
    CHECK(strstr(r.e.recs[2].json, "[\"X-\\u0000\",\"v\"]") != NULL);
    for (i = 1; i < 3; i++) {
        EXPECT_STATUS(&r.e.recs[i], 200);
        check_anomaly(&r.e.recs[i], "\"invalid_name\"");
        check_by(&r.e.recs[i], QUICK_MS);
    }
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.strict = 1;
    run_scan(&r, fmts + 1, 2);
    for (i = 0; i < 2; i++) {
        check_partial(&r.e.recs[i], HSCAN_EHTTP_PARSE,
                      "strict: invalid_name", 200, 2);
        check_by(&r.e.recs[i], QUICK_MS);
    }
    env_done(&r.e);
}

/* ---- framing: Content-Length and Transfer-Encoding ---- */

/* Conflicting framing fields are read through and named (RFC 9112
 * 6.3); --strict refuses them, as llhttp's strict mode did, keeping the
 * fields.  The body is not read here (the probe stops at the end of the
 * head), so a bad chunk size or a short body is not seen. */
TEST_T(hostile_framing, 20)
{
    static const char *const fmts[] = {
        "dupcl.test:%d", "conflictcl.test:%d", "clte.test:%d",
        "chunkovf.test:%d", "shortbody.test:%d", "h09.test:%d",
    };
    struct run r;
    struct rec *k;
    size_t i;

    env_init(&r.e);
    run_scan(&r, fmts, 6);
    EXPECT_STATUS(&r.e.recs[0], 200);
    check_anomaly(&r.e.recs[0], "\"duplicate_cl\"");
    EXPECT_STATUS(&r.e.recs[1], 200);
    check_anomaly(&r.e.recs[1], "\"conflicting_cl\"");
    EXPECT_STATUS(&r.e.recs[2], 200);
    check_anomaly(&r.e.recs[2], "\"cl_and_te\"");
    check_value(&r.e.recs[2], "Transfer-Encoding", "chunked", 7);
    k = &r.e.recs[3];
    EXPECT_STATUS(k, 200);
    check_value(k, "Transfer-Encoding", "chunked", 7);
    k = &r.e.recs[4];
    EXPECT_STATUS(k, 200);
    check_value(k, "Content-Length", "100", 3);
    /* HTTP/0.9: body bytes where the status line should be */
    check_parse(&r.e.recs[5], "not HTTP: ");
    for (i = 0; i < 6; i++)
        check_by(&r.e.recs[i], QUICK_MS);
    check_wall(&r, 2000);
    env_done(&r.e);

    /* the body as RFC 9112 6.3 frames it: chunked wins over the length;
     * equal lengths stand; differing ones: until the close */
    env_init(&r.e);
    r.e.cfg.body_bytes = 100;
    r.e.cfg.read_timeout_ms = 2000 * slow();
    run_scan(&r, fmts, 3);
    for (i = 0; i < 3; i++) {
        k = &r.e.recs[i];
        EXPECT_STATUS(k, 200);
        CHECK_INT(k->body_len, i == 1 ? 6 : 5);
        CHECK(memcmp(k->body, i == 1 ? "hello!" : "hello", k->body_len)
              == 0);
        CHECK_INT(k->body_truncated, 0);
    }
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.strict = 1;
    run_scan(&r, fmts, 3);
    check_partial_c(&r.e.recs[0], HSCAN_EHTTP_PARSE,
                    "strict: duplicate_cl", 200, 3, 1);
    check_partial_c(&r.e.recs[1], HSCAN_EHTTP_PARSE,
                    "strict: conflicting_cl", 200, 3, 1);
    check_partial_c(&r.e.recs[2], HSCAN_EHTTP_PARSE, "strict: cl_and_te",
                    200, 3, 1);
    CHECK(strstr(r.e.recs[2].json, "\"headers\":[[\"Server\",\"hscan-test"
                 "\"],[\"Content-Length\",\"5\"],[\"Transfer-Encoding\","
                 "\"chunked\"]]") != NULL);
    env_done(&r.e);
}

/* Not HTTP at all: a four-digit status, a TLS alert record on the
 * plain port (garbage and a bad digit: test-scan.c). */
TEST_T(hostile_not_http, 20)
{
    static const char *const fmts[] = {
        "longstatus.test:%d", "tlsalert.test:%d",
    };
    struct run r;

    env_init(&r.e);
    run_scan(&r, fmts, 2);
    check_parse(&r.e.recs[0], "status line: the status code is not 3 "
                "digits");
    check_parse(&r.e.recs[1], "not HTTP: ");
    check_by(&r.e.recs[0], QUICK_MS);
    check_by(&r.e.recs[1], QUICK_MS);
    env_done(&r.e);
}

/* ---- the connection ends inside the head ---- */

/* RST (SO_LINGER 0) after part of the head: read_reset; FIN there:
 * read_closed, with the byte count.  Both keep the status and the
 * whole field lines before the cut ("X-Partial: cut he" is not one). */
TEST_T(hostile_cut_head, 20)
{
    static const char *const fmts[] = {
        "rstmid.test:%d", "finmid.test:%d", "rstmid-0.test:%d",
    };
    static const char part[] = "HTTP/1.1 200 OK\r\nServer: hscan-test\r\n"
                               "X-Partial: cut he";
    char detail[96];
    struct run r;

    env_init(&r.e);
    run_scan(&r, fmts, 3);
    check_partial(&r.e.recs[0], HSCAN_EREAD_RESET,
                  "connection reset by peer", 200, 1);
    snprintf(detail, sizeof(detail), "closed after %zu bytes, inside the "
             "header block", sizeof(part) - 1);
    check_partial(&r.e.recs[1], HSCAN_EREAD_CLOSED, detail, 200, 1);
    check_hdr(&r.e.recs[1], 0, "Server", "hscan-test");
    /* the bytes and the RST in one poll: libuv reports EOF for it (the
     * probe then finds the reset in SO_ERROR) */
    check_partial(&r.e.recs[2], HSCAN_EREAD_RESET,
                  "connection reset by peer", 200, 1);
    check_by(&r.e.recs[0], QUICK_MS);
    check_by(&r.e.recs[1], QUICK_MS);
    check_by(&r.e.recs[2], QUICK_MS);
    env_done(&r.e);
}

/* ---- replies without a body, 1xx ---- */

/* Content-Length: 1000 and no body, the connection left open: the
 * status is recorded at the end of the head, long before the 1000 ms
 * read timeout (no wait for a body), for GET and for HEAD. */
TEST_T(hostile_no_body, 20)
{
    static const char *const fmts[] = {
        "nobody-204.test:%d", "nobody-304.test:%d", "nobody.test:%d",
    };
    static const int want[] = { 204, 304, 200 };
    struct run r;
    size_t i;

    env_init(&r.e);
    run_scan(&r, fmts, 3);
    for (i = 0; i < 3; i++) {
        EXPECT_STATUS(&r.e.recs[i], want[i]);
        check_value(&r.e.recs[i], "Content-Length", "1000", 4);
        check_by(&r.e.recs[i], 500);
    }
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.method = "HEAD";
    run_scan(&r, fmts + 2, 1);
    EXPECT_STATUS(&r.e.recs[0], 200);
    check_by(&r.e.recs[0], 500);
    env_done(&r.e);
}

/* A body that never ends: the probe stops at the end of the head, so
 * it is a 200 at once and nothing of the body is held. */
TEST_T(hostile_endless_body, 20)
{
    static const char *const fmts[] = { "endbody.test:%d" };
    struct run r;

    env_init(&r.e);
    run_scan(&r, fmts, 1);
    EXPECT_STATUS(&r.e.recs[0], 200);
    CHECK_INT(r.e.recs[0].n_hdrs, 1);
    check_hdr(&r.e.recs[0], 0, "Server", "hscan-test");
    check_by(&r.e.recs[0], 500);
    env_done(&r.e);
}

/* An unsolicited 101 is final (the connection left HTTP); three 103s
 * are recorded in `interim`, their fields dropped; 5,000 of them count
 * against the header byte limit (the first 16 statuses kept). */
TEST_T(hostile_interim, 20)
{
    static const char *const fmts[] = {
        "upgrade.test:%d", "early-3.test:%d", "early-5000.test:%d",
    };
    struct run r;
    struct rec *k;

    env_init(&r.e);
    run_scan(&r, fmts, 3);
    k = &r.e.recs[0];
    EXPECT_STATUS(k, 101);
    CHECK_STR(k->reason, "Switching Protocols");
    check_value(k, "Upgrade", "websocket", 9);
    check_by(k, 500);
    k = &r.e.recs[1];
    EXPECT_STATUS(k, 200);
    check_fast_headers(k);
    CHECK(find_hdr(k, "Link") < 0);
    CHECK(strstr(k->json, "\"interim\":[103,103,103],") != NULL);
    check_by(k, QUICK_MS);
    check_failed(&r.e.recs[2], HSCAN_EHEADER_TOO_LARGE,
                 "header block over 65536 bytes");
    CHECK(strstr(r.e.recs[2].json, "\"interim\":[103,103,103,103,103,103,"
                 "103,103,103,103,103,103,103,103,103,103],") != NULL);
    check_by(&r.e.recs[2], QUICK_MS);
    env_done(&r.e);
}

/* ---- header syntax that browsers read ---- */

/* Spaces inside a name are kept in the name (invalid_name); obs-fold
 * lines are joined to the value with one SP each (RFC 9112 5.2).
 * (Bare LF: test-scan.c scan_statuses and test-http.c.) */
TEST_T(hostile_header_syntax, 20)
{
    static const char *const fmts[] = {
        "spacename.test:%d", "obsfold.test:%d",
    };
    struct run r;
    struct rec *k;

    env_init(&r.e);
    run_scan(&r, fmts, 2);
    k = &r.e.recs[0];
    EXPECT_STATUS(k, 200);
    check_hdr(k, 1, "X Bad Name", "1");
    CHECK(strstr(k->json, "[\"X Bad Name\",\"1\"]") != NULL);
    check_anomaly(k, "\"invalid_name\"");
    k = &r.e.recs[1];
    EXPECT_STATUS(k, 200);
    check_hdr(k, 1, "X-Fold", "a b c");
    check_anomaly(k, "\"obs_fold\"");
    check_hdr(k, 2, "Content-Length", "0");
    check_by(&r.e.recs[0], QUICK_MS);
    check_by(&r.e.recs[1], QUICK_MS);
    env_done(&r.e);
}

/* ---- redirects ---- */

/* A 100 KB Location with --follow: over the default 64 KiB head limit,
 * header_too_large; under a raised limit, too long a URL to follow, so
 * the 302 is the final answer with its Location byte for byte.  A 4 KB
 * one that points back at itself: too_many_redirects after two hops. */
TEST_T(hostile_big_location, 20)
{
    static const char *const big[] = { "bigloc.test:%d" };
    static const char *const mid[] = { "bigloc.test:%d",
                                       "bigloc-4000.test:%d" };
    struct run r;
    struct rec *k;
    long i;
    size_t j;

    env_init(&r.e);
    r.e.cfg.follow = 5;
    run_scan(&r, big, 1);
    check_partial(&r.e.recs[0], HSCAN_EHEADER_TOO_LARGE,
                  "header block over 65536 bytes", 302, -1);
    CHECK(find_hdr(&r.e.recs[0], "Location") < 0);
    CHECK_INT(r.e.recs[0].n_hops, 0);
    check_by(&r.e.recs[0], QUICK_MS);
    env_done(&r.e);

    env_init(&r.e);
    r.e.cfg.follow = 5;
    r.e.cfg.max_header_bytes = 256 << 10;
    run_scan(&r, mid, 2);
    k = &r.e.recs[0];
    EXPECT_STATUS(k, 302);
    CHECK_INT(k->n_hops, 0);
    i = find_hdr(k, "Location");
    CHECK(i >= 0);
    CHECK_INT(k->hdrs[i].value_len, 102400);
    CHECK(k->hdrs[i].value[0] == '/');
    for (j = 1; j < k->hdrs[i].value_len; j++)
        CHECK(k->hdrs[i].value[j] == 'l');
    check_by(k, QUICK_MS);
    k = &r.e.recs[1];
    EXPECT_ERR(k, HSCAN_ETOO_MANY_REDIRECTS);
    CHECK(strncmp(k->detail, "redirect loop back to ", 22) == 0);
    CHECK_INT(k->n_hops, 2);
    for (j = 0; j < k->n_hops; j++) {
        CHECK_INT(k->hops[j].status, 302);
        CHECK_INT(k->hops[j].location_len, 4000);
    }
    check_by(k, QUICK_MS);
    env_done(&r.e);
}

/* ---- memory: 50 concurrent hostile targets ---- */

#define MEM_N 50
#define MEM_SLACK_KB 8192   /* allocator, libuv, c-ares, records */

/* The HTTP server in a child process, so that its buffers are not in
 * this process's RSS.  Returns the child's pid. */
static pid_t spawn_http(int *port)
{
    int fds[2];
    pid_t pid;

    CHECK(pipe(fds) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct tsrv_http *http;
        uv_loop_t loop;

        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(60);
        if (uv_loop_init(&loop) != 0 ||
            tsrv_http_start(&loop, "127.0.0.1", 0, &http) != 0)
            _exit(1);
        *port = tsrv_http_port(http);
        if (write(fds[1], port, sizeof(*port)) != sizeof(*port))
            _exit(1);
        close(fds[1]);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(0);
    }
    close(fds[1]);
    CHECK(read(fds[0], port, sizeof(*port)) == sizeof(*port));
    close(fds[0]);
    return pid;
}

/* A field of /proc/self/status in kB, or -1. */
static long status_kb(const char *key)
{
    char line[128];
    size_t n = strlen(key);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");

    CHECK(f != NULL);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = atol(line + n + 1);
    fclose(f);
    return v;
}

/* Restart the peak-RSS count (VmHWM) at the current RSS (Linux 4.0+);
 * where that is refused the old peak stays, which only hides growth
 * below it. */
static void reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);

    if (fd >= 0) {
        if (write(fd, "5", 1) != 1)
            fprintf(stderr, "  clear_refs refused\n");
        close(fd);
    }
}

struct mem {
    struct rec recs[MEM_N];
    unsigned results, drained, closed;
};

static void mem_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct mem *m = arg;
    uintptr_t i = (uintptr_t)r->udata;

    (void)scan;
    m->results++;
    CHECK(i < MEM_N);
    m->recs[i].got++;
    rec_copy(&m->recs[i], r);
}

static void mem_closed(hscan_t *scan, void *arg)
{
    (void)scan;
    ((struct mem *)arg)->closed++;
}

static void mem_drained(hscan_t *scan, void *arg)
{
    ((struct mem *)arg)->drained++;
    CHECK(hscan_close(scan, mem_closed) == 0);
}

/* Scan MEM_N copies of 127.0.0.1:PORT`path` at once under the given
 * limits; every record must be `err`.  Asserts the peak RSS growth of
 * this process stays below MEM_N probes each holding its limits (header
 * bytes plus the field index) three times over, plus MEM_SLACK_KB. */
static void mem_case(const char *path, size_t max_bytes, unsigned max_hdrs,
                     int err)
{
    static struct mem m;
    char line[96];
    hscan_config_t cfg;
    hscan_t *scan;
    uv_loop_t loop;
    long before, peak, bound;
    uint64_t t0;
    double wall_ms;
    int port;
    pid_t pid;
    size_t i;

    pid = spawn_http(&port);
    memset(&m, 0, sizeof(m));
    snprintf(line, sizeof(line), "127.0.0.1:%d%s", port, path);
    CHECK(uv_loop_init(&loop) == 0);
    hscan_config_init(&cfg);
    cfg.scheme = HSCAN_SCHEME_HTTP;
    cfg.concurrency = MEM_N;
    cfg.timeout_ms = 3000 * slow();
    cfg.read_timeout_ms = 1000 * slow();
    cfg.connect_timeout_ms = 1000 * slow();
    cfg.max_header_bytes = max_bytes;
    cfg.max_headers = max_hdrs;
    cfg.on_result = mem_result;
    cfg.on_drained = mem_drained;
    cfg.arg = &m;
    CHECK(hscan_new(&scan, &loop, &cfg) == 0);
    for (i = 0; i < MEM_N; i++)
        CHECK(hscan_submit(scan, line, strlen(line),
                           (void *)(uintptr_t)i) == 0);
    CHECK(hscan_end_input(scan) == 0);
    reset_peak();
    before = status_kb("VmRSS");
    t0 = uv_hrtime();
    uv_run(&loop, UV_RUN_DEFAULT);
    wall_ms = (double)(uv_hrtime() - t0) / 1e6;
    peak = status_kb("VmHWM");
    CHECK(uv_loop_close(&loop) == 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    CHECK(wall_ms <= (double)cfg.timeout_ms + 1000 * slow());
    CHECK_INT(m.results, MEM_N);
    CHECK_INT(m.drained, 1);
    CHECK_INT(m.closed, 1);
    for (i = 0; i < MEM_N; i++) {
        CHECK_INT(m.recs[i].got, 1);
        EXPECT_ERR(&m.recs[i], err);
        check_by(&m.recs[i], 2000);
        rec_free(&m.recs[i]);
    }
    bound = (long)(MEM_N * (max_bytes + (size_t)max_hdrs * 16) * 3 / 1024) +
            MEM_SLACK_KB;
    printf("  %s: peak RSS +%ld kB (bound %ld kB)\n", path, peak - before,
           bound);
    CHECK(before > 0 && peak > 0);
    if (!getenv("HSCAN_UNDER_VALGRIND") && !UNDER_ASAN)
        CHECK(peak - before < bound);       /* their RSS is their own */
}

/* Fields of ~80 bytes forever: the byte cap comes first (~820 fields). */
TEST_T(hostile_mem_endless, 30)
{
    mem_case("/b/endless-64", 65536, 2000, HSCAN_EHEADER_TOO_LARGE);
}

/* 1 MiB lines: each probe stops at 64 KiB. */
TEST_T(hostile_mem_longline, 30)
{
    mem_case("/b/longline", 65536, 256, HSCAN_EHEADER_TOO_LARGE);
}

/* 100,000 fields each: each probe stops at 256. */
TEST_T(hostile_mem_tiny, 30)
{
    mem_case("/b/tiny", 65536, 256, HSCAN_ETOO_MANY_HEADERS);
}
