/* Integration tests: one scan against the loopback test servers per
 * behaviour, every record checked field by field.
 *
 * Each test owns a uv loop, a DNS and an HTTP server on 127.0.0.1 port 0
 * and one scanner pointed at that DNS server.  Targets are submitted with
 * their index as udata; on_result copies the whole view (it dies with the
 * callback) into recs[index], including the JSON line, which is checked
 * to be valid JSON for every record.  The drained callback closes the
 * scanner and the servers; the test then checks counts, uv_loop_close()
 * and the records.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "hscan.h"
#include "server-dns.h"
#include "server-http.h"
#include "test-runner.h"

#define DEADLINE_MS 20000

/* ---- a strict JSON validator (RFC 8259, UTF-8 checked) ---- */

static int json_value(const unsigned char **pp, int depth);

static void json_ws(const unsigned char **pp)
{
    while (**pp == ' ' || **pp == '\t' || **pp == '\n' || **pp == '\r')
        (*pp)++;
}

/* Length of the well-formed UTF-8 sequence at s (2..4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned lo = 0x80, hi = 0xbf;
    size_t need, i;

    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int json_string(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    int i;

    if (*p++ != '"')
        return 0;
    for (;;) {
        unsigned char c = *p;
        size_t k;

        if (c == '"') {
            *pp = p + 1;
            return 1;
        }
        if (c < 0x20 || c == 0x7f)  /* control bytes, the NUL end too */
            return 0;
        if (c == '\\') {
            c = *++p;
            if (c == 'u') {
                for (i = 1; i <= 4; i++)
                    if (!is_hex(p[i]))
                        return 0;
                p += 5;
            } else if (c && strchr("\"\\/bfnrt", c)) {
                p++;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if ((k = utf8_len(p)) == 0)
                return 0;
            p += k;
        } else {
            p++;
        }
    }
}

static int json_number(const unsigned char **pp)
{
    const unsigned char *p = *pp;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (is_digit(*p))
        while (is_digit(*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!is_digit(*++p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    *pp = p;
    return 1;
}

static int json_word(const unsigned char **pp, const char *w)
{
    size_t n = strlen(w);

    if (strncmp((const char *)*pp, w, n) != 0)
        return 0;
    *pp += n;
    return 1;
}

/* Elements of an object (close '}') or an array (close ']'). */
static int json_members(const unsigned char **pp, int depth, char close)
{
    json_ws(pp);
    if (**pp == (unsigned char)close) {
        (*pp)++;
        return 1;
    }
    for (;;) {
        json_ws(pp);
        if (close == '}') {
            if (!json_string(pp))
                return 0;
            json_ws(pp);
            if (*(*pp)++ != ':')
                return 0;
        }
        if (!json_value(pp, depth + 1))
            return 0;
        json_ws(pp);
        if (**pp == ',') {
            (*pp)++;
            continue;
        }
        if (**pp != (unsigned char)close)
            return 0;
        (*pp)++;
        return 1;
    }
}

static int json_value(const unsigned char **pp, int depth)
{
    if (depth > 32)
        return 0;
    json_ws(pp);
    switch (**pp) {
    case '{':
    case '[':
        (*pp)++;
        return json_members(pp, depth, (*pp)[-1] == '{' ? '}' : ']');
    case '"':
        return json_string(pp);
    case 't':
        return json_word(pp, "true");
    case 'f':
        return json_word(pp, "false");
    case 'n':
        return json_word(pp, "null");
    default:
        return json_number(pp);
    }
}

/* 1 when `s` is exactly one valid JSON object. */
static int json_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    json_ws(&p);
    if (*p != '{' || !json_value(&p, 0))
        return 0;
    json_ws(&p);
    return *p == '\0';
}

/* ---- copies of result views ---- */

struct hdr {
    char *name, *value;
    size_t name_len, value_len;
};

struct rec {
    int got;                /* results seen for this index */
    int error;
    char *detail;
    char *input, *url, *scheme, *host, *ip;
    int port, status, major, minor;
    char *reason;
    size_t reason_len;
    struct hdr *hdrs;
    size_t n_hdrs;
    char **addrs, **cnames;
    size_t n_addrs, n_cnames;
    int addrs_null, cnames_null;
    double dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms;
    char *json;
};

static char *dup_mem(const char *p, size_t n)
{
    char *d = malloc(n + 1);

    CHECK(d != NULL);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static char *dup_str(const char *s)
{
    return s ? dup_mem(s, strlen(s)) : NULL;
}

static char **dup_list(const char *const *v, size_t n)
{
    char **d = calloc(n + 1, sizeof(*d));
    size_t i;

    CHECK(d != NULL);
    for (i = 0; i < n; i++)
        d[i] = dup_str(v[i]);
    return d;
}

static void free_list(char **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void rec_free(struct rec *r)
{
    size_t i;

    free(r->detail);
    free(r->input);
    free(r->url);
    free(r->scheme);
    free(r->host);
    free(r->ip);
    free(r->reason);
    for (i = 0; i < r->n_hdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free_list(r->addrs, r->n_addrs);
    free_list(r->cnames, r->n_cnames);
    free(r->json);
}

static void rec_copy(struct rec *d, const hscan_result_t *r)
{
    size_t i, n;

    rec_free(d);
    d->error = r->error;
    d->detail = dup_str(r->error_detail);
    d->input = r->input ? dup_mem(r->input, r->input_len) : NULL;
    d->url = dup_str(r->url);
    d->scheme = dup_str(r->scheme);
    d->host = dup_str(r->host);
    d->ip = dup_str(r->ip);
    d->port = r->port;
    d->status = r->status;
    d->reason = r->reason ? dup_mem(r->reason, r->reason_len) : NULL;
    d->reason_len = r->reason_len;
    d->major = r->http_major;
    d->minor = r->http_minor;
    d->n_hdrs = r->n_headers;
    d->hdrs = calloc(r->n_headers + 1, sizeof(*d->hdrs));
    CHECK(d->hdrs != NULL);
    CHECK(r->n_headers == 0 || r->headers != NULL);
    for (i = 0; i < r->n_headers; i++) {
        d->hdrs[i].name = dup_mem(r->headers[i].name, r->headers[i].name_len);
        d->hdrs[i].name_len = r->headers[i].name_len;
        d->hdrs[i].value = dup_mem(r->headers[i].value,
                                   r->headers[i].value_len);
        d->hdrs[i].value_len = r->headers[i].value_len;
    }
    CHECK(r->n_addresses == 0 || r->addresses != NULL);
    CHECK(r->n_cnames == 0 || r->cnames != NULL);
    d->n_addrs = r->n_addresses;
    d->addrs = dup_list(r->addresses, r->n_addresses);
    d->n_cnames = r->n_cnames;
    d->cnames = dup_list(r->cnames, r->n_cnames);
    d->dns_ms = r->dns_ms;
    d->connect_ms = r->connect_ms;
    d->tls_ms = r->tls_ms;
    d->ttfb_ms = r->ttfb_ms;
    d->total_ms = r->total_ms;

    /* The JSON line: snprintf semantics, and valid JSON whatever bytes
     * the server sent. */
    n = hscan_result_to_json(r, NULL, 0);
    d->json = malloc(n + 1);
    CHECK(d->json != NULL);
    CHECK_INT(hscan_result_to_json(r, d->json, n + 1), n);
    CHECK_INT(strlen(d->json), n);
    if (!json_valid(d->json)) {
        fprintf(stderr, "  invalid JSON: %s\n", d->json);
        CHECK(!"JSON record is valid");
    }
    if (n > 8) {
        char small[8];
        CHECK_INT(hscan_result_to_json(r, small, sizeof(small)), n);
        CHECK(small[7] == '\0' && memcmp(small, d->json, 7) == 0);
    }
}

/* ---- one scan on its own loop ---- */

struct env {
    uv_loop_t loop;
    struct tsrv_http *http;
    struct tsrv_dns *dns;
    int hport, dport;
    char resolvers[32];
    hscan_config_t cfg;
    const char *const *lines;
    const size_t *lens;         /* line lengths, or NULL: strlen */
    struct rec *recs;
    size_t n;
    unsigned results, drained, closed, late;
    unsigned long dns_queries;
    uv_timer_t deadline;
    void (*on_stop)(void *);    /* extra handles to close, or NULL */
    void *stop_arg;
};

static void env_init(struct env *e)
{
    memset(e, 0, sizeof(*e));
    CHECK(uv_loop_init(&e->loop) == 0);
    CHECK(tsrv_dns_start(&e->loop, "127.0.0.1", 0, &e->dns) == 0);
    CHECK(tsrv_http_start(&e->loop, "127.0.0.1", 0, &e->http) == 0);
    e->dport = tsrv_dns_port(e->dns);
    e->hport = tsrv_http_port(e->http);
    CHECK(e->dport > 0 && e->hport > 0);
    snprintf(e->resolvers, sizeof(e->resolvers), "127.0.0.1:%d", e->dport);
    hscan_config_init(&e->cfg);
    e->cfg.scheme = HSCAN_SCHEME_HTTP;  /* plain-HTTP servers */
    e->cfg.resolvers = e->resolvers;
    e->cfg.timeout_ms = 3000;
    e->cfg.dns_timeout_ms = 1500;
    e->cfg.connect_timeout_ms = 1500;
    e->cfg.read_timeout_ms = 1000;
}

static int line_skipped(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0' || *s == '#';
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct env *e = arg;
    uintptr_t i = (uintptr_t)r->udata;

    (void)scan;
    e->results++;
    if (e->drained)
        e->late++;
    CHECK(i < e->n);
    CHECK(r->error <= 0);
    CHECK(strcmp(hscan_err_name(r->error), "unknown_error") != 0);
    CHECK(r->total_ms >= 0);
    CHECK(r->tls_ms == -1);
    e->recs[i].got++;
    rec_copy(&e->recs[i], r);
}

static void on_closed(hscan_t *scan, void *arg)
{
    struct env *e = arg;

    (void)scan;
    e->closed++;
}

static void on_drained(hscan_t *scan, void *arg)
{
    struct env *e = arg;

    e->drained++;
    CHECK(hscan_close(scan, on_closed) == 0);
    e->dns_queries = tsrv_dns_queries(e->dns);
    tsrv_dns_stop(e->dns);
    tsrv_http_stop(e->http);
    if (e->on_stop)
        e->on_stop(e->stop_arg);
}

static void on_deadline(uv_timer_t *t)
{
    struct env *e = t->data;
    size_t i;

    fprintf(stderr, "  deadline: %u results, drained %u\n", e->results,
            e->drained);
    for (i = 0; i < e->n; i++)
        if (!e->recs[i].got && !line_skipped(e->lines[i]))
            fprintf(stderr, "  no result for \"%s\"\n", e->lines[i]);
    CHECK(!"scan finished before the deadline");
}

/* Scan `lines` (n of them) with e->cfg, then close everything.  The
 * records are in e->recs; free them with env_done(). */
static void env_scan(struct env *e, const char *const *lines, size_t n)
{
    hscan_t *scan = NULL;
    size_t i;

    e->lines = lines;
    e->n = n;
    e->recs = calloc(n + 1, sizeof(*e->recs));
    CHECK(e->recs != NULL);
    e->cfg.on_result = on_result;
    e->cfg.on_drained = on_drained;
    e->cfg.arg = e;
    CHECK(hscan_new(&scan, &e->loop, &e->cfg) == 0);
    for (i = 0; i < n; i++)
        CHECK(hscan_submit(scan, lines[i],
                           e->lens ? e->lens[i] : strlen(lines[i]),
                           (void *)(uintptr_t)i) == 0);
    CHECK(hscan_end_input(scan) == 0);
    CHECK(e->results == 0);

    CHECK(uv_timer_init(&e->loop, &e->deadline) == 0);
    e->deadline.data = e;
    CHECK(uv_timer_start(&e->deadline, on_deadline, DEADLINE_MS, 0) == 0);
    uv_unref((uv_handle_t *)&e->deadline);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&e->deadline, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&e->loop) == 0);

    CHECK_INT(e->drained, 1);
    CHECK_INT(e->closed, 1);
    CHECK_INT(e->late, 0);
    for (i = 0; i < n; i++) {
        if (e->recs[i].got != (line_skipped(lines[i]) ? 0 : 1))
            fprintf(stderr, "  \"%s\": %d results\n", lines[i],
                    e->recs[i].got);
        CHECK_INT(e->recs[i].got, line_skipped(lines[i]) ? 0 : 1);
    }
}

static void env_done(struct env *e)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        rec_free(&e->recs[i]);
    free(e->recs);
    e->recs = NULL;
}

/* ---- record checks ---- */

static void show(const struct rec *r)
{
    fprintf(stderr, "  record: %s\n", r->json ? r->json : "(none)");
}

#define EXPECT_ERR(r, code)                                               \
    do {                                                                  \
        if ((r)->error != (code))                                         \
            show(r);                                                      \
        CHECK_INT((r)->error, (code));                                    \
    } while (0)

#define EXPECT_STATUS(r, code)                                            \
    do {                                                                  \
        if ((r)->error != 0 || (r)->status != (code))                     \
            show(r);                                                      \
        CHECK_INT((r)->error, 0);                                         \
        CHECK_INT((r)->status, (code));                                   \
    } while (0)

static void check_hdr(const struct rec *r, size_t i, const char *name,
                      const char *value)
{
    int ok = i < r->n_hdrs && r->hdrs[i].name_len == strlen(name) &&
             memcmp(r->hdrs[i].name, name, strlen(name)) == 0 &&
             r->hdrs[i].value_len == strlen(value) &&
             memcmp(r->hdrs[i].value, value, strlen(value)) == 0;

    if (!ok) {
        fprintf(stderr, "  header %zu: expected [%s: %s]\n", i, name,
                value);
        show(r);
    }
    CHECK(ok);
}

/* Index of the first header named `name` (any case), or -1. */
static long find_hdr(const struct rec *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_hdrs; i++)
        if (r->hdrs[i].name_len == strlen(name) &&
            strncasecmp(r->hdrs[i].name, name, strlen(name)) == 0)
            return (long)i;
    return -1;
}

static void check_list(char **got, size_t n, const char *const *want,
                       size_t n_want)
{
    size_t i;

    CHECK_INT(n, n_want);
    for (i = 0; i < n_want; i++)
        CHECK_STR(got[i], want[i]);
}

static void check_fast_headers(const struct rec *r)
{
    CHECK_INT(r->n_hdrs, 5);
    check_hdr(r, 0, "Server", "hscan-test");
    check_hdr(r, 1, "Content-Type", "text/html");
    check_hdr(r, 2, "X-Dup", "1");
    check_hdr(r, 3, "X-Dup", "2");
    check_hdr(r, 4, "Content-Length", "32");
}

/* A record that never reached HTTP: no response fields. */
static void check_no_response(const struct rec *r)
{
    CHECK_INT(r->status, 0);
    CHECK(r->reason == NULL);
    CHECK_INT(r->major, -1);
    CHECK_INT(r->n_hdrs, 0);
    CHECK(r->ttfb_ms == -1);
}

static char *fmt(char *buf, size_t size, const char *f, int port)
{
    snprintf(buf, size, f, port);
    return buf;
}

/* ---- behaviours over HTTP ---- */

TEST_T(scan_fast, 20)
{
    struct env e;
    char line[64], url[64], want[64];
    const char *lines[1];
    const char *addrs[] = { "127.0.0.1" };
    struct rec *r;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "fast.test:%d", e.hport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK(r->detail == NULL);
    CHECK_STR(r->input, line);
    CHECK_STR(r->url, fmt(url, sizeof(url), "http://fast.test:%d/", e.hport));
    CHECK_STR(r->scheme, "http");
    CHECK_STR(r->host, "fast.test");
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK_INT(r->port, e.hport);
    CHECK_STR(r->reason, "OK");
    CHECK_INT(r->reason_len, 2);
    CHECK_INT(r->major, 1);
    CHECK_INT(r->minor, 1);
    check_fast_headers(r);
    check_list(r->addrs, r->n_addrs, addrs, 1);
    CHECK_INT(r->n_cnames, 0);
    CHECK(r->dns_ms >= 0);
    CHECK(r->connect_ms >= 0);
    CHECK(r->ttfb_ms >= 0);
    CHECK(r->total_ms >= r->ttfb_ms);
    CHECK(r->total_ms >= r->dns_ms);
    CHECK(strstr(r->json, "\"status\":200,") != NULL);
    CHECK(strstr(r->json, "\"ip\":\"127.0.0.1\"") != NULL);
    CHECK(strstr(r->json, "\"error\":null") != NULL);
    CHECK(strstr(r->json, "\"http_version\":\"HTTP/1.1\"") != NULL);
    CHECK(strstr(r->json, "[\"X-Dup\",\"1\"],[\"X-Dup\",\"2\"]") != NULL);
    CHECK(strstr(r->json, "\"addresses\":[\"127.0.0.1\"]") != NULL);
    CHECK(strstr(r->json, fmt(want, sizeof(want), "\"port\":%d,",
                              e.hport)) != NULL);
    CHECK(e.dns_queries >= 1);
    env_done(&e);
}

TEST_T(scan_delay, 20)
{
    struct env e;
    char line[64];
    const char *lines[1];

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "delay-300.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_STATUS(&e.recs[0], 200);
    CHECK(e.recs[0].ttfb_ms >= 250);
    CHECK(e.recs[0].total_ms >= e.recs[0].ttfb_ms);
    check_fast_headers(&e.recs[0]);
    env_done(&e);
}

enum {
    S_301, S_302, S_404, S_500, S_HTTP10, S_CHUNKED, S_418, S_EARLY, S_LF,
    S_PATH, S_N
};

TEST_T(scan_statuses, 20)
{
    static const char *const fmts[S_N] = {
        "r301.test:%d", "http://r302.test:%d/", "notfound.test:%d",
        "error.test:%d", "http10.test:%d", "chunked.test:%d",
        "status-418.test:%d", "early.test:%d", "lf.test:%d",
        "http://fast.test:%d/b/notfound?x=1",
    };
    char buf[S_N][80], want[80];
    const char *lines[S_N];
    struct env e;
    struct rec *r;
    long i;

    env_init(&e);
    for (i = 0; i < S_N; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.hport);
    env_scan(&e, lines, S_N);

    r = &e.recs[S_301];             /* reported, not followed */
    EXPECT_STATUS(r, 301);
    CHECK_STR(r->reason, "Moved Permanently");
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", "http://fast.test/");
    r = &e.recs[S_302];
    EXPECT_STATUS(r, 302);
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", "/next");
    CHECK_STR(r->url, fmt(want, sizeof(want), "http://r302.test:%d/",
                          e.hport));
    EXPECT_STATUS(&e.recs[S_404], 404);
    CHECK_STR(e.recs[S_404].reason, "Not Found");
    EXPECT_STATUS(&e.recs[S_500], 500);
    CHECK_STR(e.recs[S_500].reason, "Internal Server Error");

    r = &e.recs[S_HTTP10];
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->major, 1);
    CHECK_INT(r->minor, 0);
    CHECK(strstr(r->json, "\"http_version\":\"HTTP/1.0\"") != NULL);

    r = &e.recs[S_CHUNKED];
    EXPECT_STATUS(r, 200);
    i = find_hdr(r, "Transfer-Encoding");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Transfer-Encoding", "chunked");

    r = &e.recs[S_418];
    EXPECT_STATUS(r, 418);
    CHECK_STR(r->reason, "Status");
    CHECK_INT(r->n_hdrs, 1);
    check_hdr(r, 0, "Content-Length", "0");

    r = &e.recs[S_EARLY];           /* the 103 and its Link are skipped */
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->reason, "OK");
    check_fast_headers(r);
    CHECK(find_hdr(r, "Link") < 0);

    r = &e.recs[S_LF];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->reason, "OK");
    CHECK_INT(r->n_hdrs, 2);
    check_hdr(r, 0, "Server", "lf");
    check_hdr(r, 1, "Content-Length", "0");

    r = &e.recs[S_PATH];            /* the path picks the behaviour */
    EXPECT_STATUS(r, 404);
    CHECK_STR(r->url, fmt(want, sizeof(want),
                          "http://fast.test:%d/b/notfound?x=1", e.hport));
    env_done(&e);
}

TEST_T(scan_many_headers, 20)
{
    char l0[64], l1[64], l2[64], name[32], value[32];
    const char *lines[3];
    struct env e;
    struct rec *r;
    size_t i;

    env_init(&e);
    lines[0] = fmt(l0, sizeof(l0), "many.test:%d", e.hport);
    /* 254 + Server + Content-Length = 256 fields, the default limit */
    lines[1] = fmt(l1, sizeof(l1), "many-254.test:%d", e.hport);
    lines[2] = fmt(l2, sizeof(l2), "many-255.test:%d", e.hport);
    env_scan(&e, lines, 3);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->n_hdrs, 102);
    check_hdr(r, 0, "Server", "hscan-test");
    for (i = 0; i < 100 && i + 1 < r->n_hdrs; i++) {
        snprintf(name, sizeof(name), "X-H-%zu", i);
        snprintf(value, sizeof(value), "v%zu", i);
        check_hdr(r, i + 1, name, value);
    }
    check_hdr(r, 101, "Content-Length", "0");
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_INT(e.recs[1].n_hdrs, 256);
    EXPECT_ERR(&e.recs[2], HSCAN_ETOO_MANY_HEADERS);
    env_done(&e);
}

TEST_T(scan_too_many_headers, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "many-300.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_ETOO_MANY_HEADERS);
    CHECK(e.recs[0].detail != NULL);
    CHECK_STR(e.recs[0].ip, "127.0.0.1");
    CHECK(strstr(e.recs[0].json, "\"error\":\"too_many_headers\""));
    env_done(&e);
}

TEST_T(scan_header_too_large, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.max_headers = 5000;
    lines[0] = fmt(line, sizeof(line), "huge.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_EHEADER_TOO_LARGE);
    CHECK(e.recs[0].detail != NULL);
    CHECK(e.recs[0].ttfb_ms >= 0);
    env_done(&e);
}

TEST_T(scan_max_header_bytes, 20)
{
    char l0[64], l1[64], l2[64];
    const char *lines[3];
    struct env e;

    env_init(&e);
    e.cfg.max_header_bytes = 1024;
    e.cfg.max_headers = 100000;
    lines[0] = fmt(l0, sizeof(l0), "fast.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "many.test:%d", e.hport);   /* ~1.4 KB */
    lines[2] = fmt(l2, sizeof(l2), "many-40.test:%d", e.hport); /* ~600 B */
    env_scan(&e, lines, 3);
    EXPECT_STATUS(&e.recs[0], 200);
    check_fast_headers(&e.recs[0]);
    EXPECT_ERR(&e.recs[1], HSCAN_EHEADER_TOO_LARGE);
    EXPECT_STATUS(&e.recs[2], 200);
    CHECK_INT(e.recs[2].n_hdrs, 42);
    env_done(&e);
}

/* With the default 64 KiB limit: ~4000 short fields are over it. */
TEST_T(scan_default_header_bytes, 20)
{
    char l0[64], l1[64];
    const char *lines[2];
    struct env e;

    env_init(&e);
    e.cfg.max_headers = 100000;
    lines[0] = fmt(l0, sizeof(l0), "many-2000.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "many-5000.test:%d", e.hport);
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    CHECK_INT(e.recs[0].n_hdrs, 2002);
    EXPECT_ERR(&e.recs[1], HSCAN_EHEADER_TOO_LARGE);
    env_done(&e);
}

/* The absolute limit also covers the DNS phase. */
TEST_T(scan_total_deadline_in_dns, 20)
{
    char l0[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.timeout_ms = 300;
    e.cfg.dns_timeout_ms = 5000;
    lines[0] = fmt(l0, sizeof(l0), "drop.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_ETIMEOUT);
    CHECK(e.recs[0].total_ms >= 250);
    CHECK(e.recs[0].total_ms < 4000);
    env_done(&e);
}

TEST_T(scan_trickle_hits_total_deadline, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.timeout_ms = 1500;
    e.cfg.read_timeout_ms = 10000;
    lines[0] = fmt(line, sizeof(line), "trickle.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_ETIMEOUT);
    CHECK_INT(e.recs[0].status, 0);
    CHECK(e.recs[0].ttfb_ms >= 0);
    CHECK(e.recs[0].total_ms >= 1000);
    CHECK(e.recs[0].total_ms < 9000);
    env_done(&e);
}

TEST_T(scan_hang_read_timeout, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.read_timeout_ms = 500;
    lines[0] = fmt(line, sizeof(line), "hang.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_EREAD_TIMEOUT);
    check_no_response(&e.recs[0]);
    CHECK_STR(e.recs[0].ip, "127.0.0.1");
    CHECK(e.recs[0].connect_ms >= 0);
    CHECK(e.recs[0].total_ms >= 400);
    env_done(&e);
}

TEST_T(scan_broken_replies, 20)
{
    static const char *const fmts[] = {
        "close.test:%d", "reset.test:%d", "garbage.test:%d",
        "badstatus.test:%d",
    };
    static const int want[] = {
        HSCAN_EREAD_CLOSED, HSCAN_EREAD_RESET, HSCAN_EHTTP_PARSE,
        HSCAN_EHTTP_PARSE,
    };
    char buf[4][64];
    const char *lines[4];
    struct env e;
    size_t i;

    env_init(&e);
    for (i = 0; i < 4; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.hport);
    env_scan(&e, lines, 4);
    for (i = 0; i < 4; i++) {
        EXPECT_ERR(&e.recs[i], want[i]);
        CHECK(e.recs[i].detail != NULL);
        CHECK_INT(e.recs[i].status, 0);
        CHECK_STR(e.recs[i].ip, "127.0.0.1");
        CHECK(e.recs[i].connect_ms >= 0);
    }
    env_done(&e);
}

TEST_T(scan_control_bytes, 20)
{
    static const char value[] = "a\tb\x7f" "c\xff\xfe" "d\xc3\xa9" "e";
    static const char in_json[] = "[\"X-Bin\",\"a\\tb\\u007fc\\u00ff\\u00fe"
                                   "d\xc3\xa9" "e\"]";
    char line[64];
    const char *lines[1];
    struct env e;
    struct rec *r;
    long i;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "ctl.test:%d", e.hport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    i = find_hdr(r, "X-Bin");
    CHECK(i >= 0);
    CHECK_INT(r->hdrs[i].value_len, sizeof(value) - 1);
    CHECK(memcmp(r->hdrs[i].value, value, sizeof(value) - 1) == 0);
    if (!strstr(r->json, in_json))
        show(r);
    CHECK(strstr(r->json, in_json) != NULL);
    CHECK(strstr(r->json, "\\u00ff") != NULL);
    env_done(&e);
}

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
    e.cfg.dns_timeout_ms = 500;
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
    CHECK(e.recs[4].total_ms >= 400);
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

/* Servers and handles a test adds to its loop, closed with the others
 * once the scan has drained. */
struct extra {
    struct tsrv_http *http;
    uv_tcp_t refused[2];
    int n_refused;
    struct capture *caps[2];
};

static void cap_stop(struct capture *cap);

static void extra_stop(void *arg)
{
    struct extra *x = arg;
    int i;

    if (x->http)
        tsrv_http_stop(x->http);
    for (i = 0; i < x->n_refused; i++)
        uv_close((uv_handle_t *)&x->refused[i], NULL);
    for (i = 0; i < 2; i++)
        if (x->caps[i])
            cap_stop(x->caps[i]);
}

static void env_extra(struct env *e, struct extra *x)
{
    memset(x, 0, sizeof(*x));
    e->on_stop = extra_stop;
    e->stop_arg = x;
}

/* Bind a TCP socket on ip:port without listening: connecting to it is
 * refused.  Returns the port, or a negative uv error. */
static int bind_refused(uv_loop_t *loop, uv_tcp_t *t, const char *ip,
                        int port)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss), rc;

    CHECK(uv_tcp_init(loop, t) == 0);
    if (strchr(ip, ':'))
        rc = uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss);
    else
        rc = uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
    CHECK(rc == 0);
    rc = uv_tcp_bind(t, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
    if (rc != 0)
        return rc;
    return ss.ss_family == AF_INET6
               ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A refused port on `ip`, its handle closed with the servers. */
static int extra_refused(struct env *e, struct extra *x, const char *ip,
                         int port)
{
    return bind_refused(&e->loop, &x->refused[x->n_refused++], ip, port);
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
    e.cfg.connect_timeout_ms = 2500;
    e.cfg.timeout_ms = 5000;
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
    CHECK(r->total_ms < 2000);      /* refused, not a connect timeout */
    CHECK(r->connect_ms == -1);
    CHECK_STR(r->ip, "127.0.0.1");

    r = &e.recs[2];
    EXPECT_ERR(r, HSCAN_ECONNECT_REFUSED);
    CHECK_STR(r->host, "::1");
    CHECK_STR(r->ip, "::1");
    CHECK(r->total_ms < 2000);

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

/* ---- the request bytes, captured by a raw server ---- */

#define CAP_MAX 8

struct cap_conn {
    uv_tcp_t tcp;
    uv_write_t wr;
    uv_shutdown_t sh;
    struct capture *cap;
    char buf[8192];
    size_t len;
    int answered, closing;
};

struct capture {
    uv_tcp_t listener;
    int port;
    char *reqs[CAP_MAX];
    unsigned n_reqs;
    struct cap_conn *conns[CAP_MAX];
    unsigned n_conns;
};

static const char cap_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void cap_closed(uv_handle_t *h)
{
    struct cap_conn *c = h->data;
    unsigned i;

    for (i = 0; i < c->cap->n_conns; i++)
        if (c->cap->conns[i] == c)
            c->cap->conns[i] = NULL;
    free(c);
}

static void cap_close(struct cap_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, cap_closed);
}

static void cap_shut(uv_shutdown_t *req, int status)
{
    (void)status;
    cap_close(req->handle->data);
}

static void cap_written(uv_write_t *req, int status)
{
    struct cap_conn *c = req->handle->data;

    if (status < 0 || c->closing ||
        uv_shutdown(&c->sh, (uv_stream_t *)&c->tcp, cap_shut) != 0)
        cap_close(c);
}

static void cap_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct cap_conn *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->buf + c->len,
                       (unsigned)(sizeof(c->buf) - 1 - c->len));
}

static void cap_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct cap_conn *c = s->data;
    uv_buf_t b = uv_buf_init((char *)cap_reply, sizeof(cap_reply) - 1);

    (void)buf;
    if (n < 0 || c->len + 1 >= sizeof(c->buf)) {
        cap_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (c->answered || !strstr(c->buf, "\r\n\r\n"))
        return;
    c->answered = 1;
    if (c->cap->n_reqs < CAP_MAX)
        c->cap->reqs[c->cap->n_reqs++] = dup_str(c->buf);
    if (uv_write(&c->wr, s, &b, 1, cap_written) != 0)
        cap_close(c);
}

static void cap_connection(uv_stream_t *server, int status)
{
    struct capture *cap = server->data;
    struct cap_conn *c;

    if (status < 0 || cap->n_conns == CAP_MAX)
        return;
    c = calloc(1, sizeof(*c));
    CHECK(c != NULL);
    c->cap = cap;
    CHECK(uv_tcp_init(server->loop, &c->tcp) == 0);
    c->tcp.data = c;
    cap->conns[cap->n_conns++] = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, cap_alloc, cap_read) != 0)
        cap_close(c);
}

/* Listen on ip:port; returns 0 or a uv error (then nothing is open). */
static int cap_start(uv_loop_t *loop, struct capture *cap, const char *ip,
                     int port)
{
    int rc;

    memset(cap, 0, sizeof(*cap));
    rc = bind_refused(loop, &cap->listener, ip, port);
    if (rc > 0) {
        cap->port = rc;
        rc = uv_listen((uv_stream_t *)&cap->listener, 64, cap_connection);
    }
    if (rc < 0) {
        uv_close((uv_handle_t *)&cap->listener, NULL);
        return rc;
    }
    cap->listener.data = cap;
    return 0;
}

static void cap_stop(struct capture *cap)
{
    unsigned i;

    uv_close((uv_handle_t *)&cap->listener, NULL);
    for (i = 0; i < cap->n_conns; i++)
        if (cap->conns[i])
            cap_close(cap->conns[i]);
}

/* The captured request whose request line has `path`, or NULL. */
static const char *cap_find(const struct capture *cap, const char *path)
{
    unsigned i;

    for (i = 0; i < cap->n_reqs; i++) {
        const char *sp = strchr(cap->reqs[i], ' ');
        if (sp && strncmp(sp + 1, path, strlen(path)) == 0 &&
            sp[1 + strlen(path)] == ' ')
            return cap->reqs[i];
    }
    return NULL;
}

static void cap_free(struct capture *cap)
{
    unsigned i;

    for (i = 0; i < cap->n_reqs; i++)
        free(cap->reqs[i]);
}

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

/* ---- connect timeout: a listener whose accept queue is full ---- */

TEST_T(scan_connect_timeout, 20)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char l[4][64];
    const char *lines[4];
    struct env e;
    int fd, port, i, timeouts = 0;

    env_init(&e);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(uv_ip4_addr("127.0.0.1", 0, &sa) == 0);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(listen(fd, 0) == 0);     /* never accepted: SYNs get dropped */
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    port = ntohs(sa.sin_port);
    e.cfg.connect_timeout_ms = 500;
    e.cfg.read_timeout_ms = 500;
    for (i = 0; i < 4; i++)
        lines[i] = fmt(l[i], sizeof(l[i]), "127.0.0.1:%d", port);
    env_scan(&e, lines, 4);
    close(fd);
    for (i = 0; i < 4; i++) {
        struct rec *r = &e.recs[i];
        if (r->error != HSCAN_ECONNECT_TIMEOUT &&
            r->error != HSCAN_EREAD_TIMEOUT)
            show(r);
        CHECK(r->error == HSCAN_ECONNECT_TIMEOUT ||
              r->error == HSCAN_EREAD_TIMEOUT);
        if (r->error == HSCAN_ECONNECT_TIMEOUT) {
            timeouts++;
            CHECK(r->connect_ms == -1);
            CHECK(r->total_ms >= 400);
        }
    }
    CHECK(timeouts >= 1);
    env_done(&e);
}

/* ---- descriptor exhaustion ---- */

/* Run the DNS and HTTP servers in a child process, so that the
 * descriptor limit set here does not starve them.  Returns its pid. */
static pid_t spawn_servers(int *hport, int *dport)
{
    int fds[2], ports[2] = { 0, 0 };
    pid_t pid;

    CHECK(pipe(fds) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct tsrv_http *http;
        struct tsrv_dns *dns;
        uv_loop_t loop;

        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(60);
        if (uv_loop_init(&loop) != 0 ||
            tsrv_dns_start(&loop, "127.0.0.1", 0, &dns) != 0 ||
            tsrv_http_start(&loop, "127.0.0.1", 0, &http) != 0)
            _exit(1);
        ports[0] = tsrv_http_port(http);
        ports[1] = tsrv_dns_port(dns);
        if (write(fds[1], ports, sizeof(ports)) != sizeof(ports))
            _exit(1);
        close(fds[1]);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(0);
    }
    close(fds[1]);
    CHECK(read(fds[0], ports, sizeof(ports)) == sizeof(ports));
    close(fds[0]);
    *hport = ports[0];
    *dport = ports[1];
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* The descriptor limit that leaves exactly `spare` free descriptor
 * numbers (the kernel hands out the lowest free one below the limit;
 * descriptors above it stay open but new ones cannot go there). */
static rlim_t limit_for(int spare)
{
    static char open_fd[4096];
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int fd, free_n = 0;

    CHECK(d != NULL);
    memset(open_fd, 0, sizeof(open_fd));
    while ((de = readdir(d)) != NULL) {
        fd = atoi(de->d_name);
        if (de->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 &&
            fd < (int)sizeof(open_fd))
            open_fd[fd] = 1;
    }
    closedir(d);
    for (fd = 0; fd < (int)sizeof(open_fd); fd++) {
        if (open_fd[fd])
            continue;
        if (free_n == spare)
            break;
        free_n++;
    }
    return (rlim_t)fd;
}

struct bare {
    struct rec *recs;
    size_t n;
    unsigned results, drained, closed;
};

static void bare_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct bare *b = arg;
    uintptr_t i = (uintptr_t)r->udata;

    (void)scan;
    b->results++;
    CHECK(i < b->n);
    b->recs[i].got++;
    rec_copy(&b->recs[i], r);
}

static void bare_closed(hscan_t *scan, void *arg)
{
    struct bare *b = arg;

    (void)scan;
    b->closed++;
}

static void bare_drained(hscan_t *scan, void *arg)
{
    struct bare *b = arg;

    b->drained++;
    CHECK(hscan_close(scan, bare_closed) == 0);
}

/* Scan n copies of `line` with `spare` free descriptors; servers in a
 * child process.  Records in b->recs. */
static void scan_starved(struct bare *b, const char *fmt_line, size_t n,
                         int spare)
{
    char line[64], resolvers[32];
    hscan_config_t cfg;
    struct rlimit rl;
    hscan_t *scan;
    uv_loop_t loop;
    int hport, dport;
    pid_t pid;
    size_t i;

    pid = spawn_servers(&hport, &dport);
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->recs = calloc(n, sizeof(*b->recs));
    CHECK(b->recs != NULL);
    snprintf(line, sizeof(line), fmt_line, hport);
    snprintf(resolvers, sizeof(resolvers), "127.0.0.1:%d", dport);
    CHECK(uv_loop_init(&loop) == 0);
    hscan_config_init(&cfg);
    cfg.scheme = HSCAN_SCHEME_HTTP;  /* plain-HTTP servers */
    cfg.resolvers = resolvers;
    cfg.concurrency = 50;
    cfg.timeout_ms = 3000;
    cfg.read_timeout_ms = 300;
    cfg.dns_timeout_ms = 1000;
    cfg.connect_timeout_ms = 1000;
    cfg.on_result = bare_result;
    cfg.on_drained = bare_drained;
    cfg.arg = b;
    CHECK(hscan_new(&scan, &loop, &cfg) == 0);
    for (i = 0; i < n; i++)
        CHECK(hscan_submit(scan, line, strlen(line),
                           (void *)(uintptr_t)i) == 0);
    CHECK(hscan_end_input(scan) == 0);
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = limit_for(spare);
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    reap(pid);
    CHECK_INT(b->results, n);
    CHECK_INT(b->drained, 1);
    CHECK_INT(b->closed, 1);
    for (i = 0; i < n; i++)
        CHECK_INT(b->recs[i].got, 1);
}

static void bare_free(struct bare *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        rec_free(&b->recs[i]);
    free(b->recs);
}

static void check_starved(struct bare *b)
{
    unsigned exhausted = 0, timed_out = 0;
    size_t i;

    for (i = 0; i < b->n; i++) {
        struct rec *r = &b->recs[i];
        if (r->error == HSCAN_ERESOURCE_EXHAUSTED) {
            exhausted++;
            CHECK(r->detail != NULL);
            check_no_response(r);
        } else if (r->error == HSCAN_EREAD_TIMEOUT) {
            timed_out++;
        } else {
            show(r);
            CHECK(!"resource_exhausted or read_timeout");
        }
    }
    CHECK(exhausted >= 1);
    CHECK(timed_out >= 1);
}

TEST_T(scan_fd_exhaustion_literal, 20)
{
    struct bare b;

    scan_starved(&b, "127.0.0.1:%d/b/hang", 50, 8);
    check_starved(&b);
    bare_free(&b);
}

TEST_T(scan_fd_exhaustion_name, 20)
{
    struct bare b;

    scan_starved(&b, "hang.test:%d", 50, 8);
    check_starved(&b);
    bare_free(&b);
}

/* No descriptor at all: even the DNS socket cannot be opened.  That is a
 * local shortage, not a DNS timeout. */
TEST_T(scan_fd_exhaustion_dns, 20)
{
    struct bare b;
    size_t i;

    scan_starved(&b, "fast.test:%d", 3, 0);
    for (i = 0; i < b.n; i++) {
        if (b.recs[i].error != HSCAN_ERESOURCE_EXHAUSTED)
            show(&b.recs[i]);
        CHECK_INT(b.recs[i].error, HSCAN_ERESOURCE_EXHAUSTED);
    }
    bare_free(&b);
}
