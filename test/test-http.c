/* Response head parsing under limits, fed in every chunk size (llhttp
 * splits spans anywhere, so each case is replayed 1, 2, 3... bytes at a
 * time and must give the same facts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "http.h"
#include "request.h"
#include "util.h"
#include "test-runner.h"

struct outcome {
    int rc;
    int status;
    unsigned n_hdrs;
    char detail[HSCAN__DETAIL_SIZE];
};

static struct outcome feed(struct hscan__resp *r, const char *data,
                           size_t len, size_t chunk, size_t max_bytes,
                           unsigned max_hdrs)
{
    struct outcome o;
    size_t off = 0;

    memset(&o, 0, sizeof(o));
    hscan__resp_init(r, max_bytes, max_hdrs);
    while (off < len && o.rc == 0) {
        size_t n = len - off < chunk ? len - off : chunk;
        /* a private copy so an over-read past the chunk is an ASan error */
        char *c = malloc(n);
        memcpy(c, data + off, n);
        o.rc = hscan__resp_feed(r, c, n, o.detail, sizeof(o.detail));
        free(c);
        off += n;
    }
    o.status = r->status;
    o.n_hdrs = r->n_hdrs;
    return o;
}

static void hdr_is(struct hscan__resp *r, unsigned i, const char *name,
                   const char *value)
{
    CHECK(i < r->n_hdrs);
    CHECK_INT(r->hdrs[i].name_len, strlen(name));
    CHECK(memcmp(r->buf + r->hdrs[i].name_off, name, strlen(name)) == 0);
    CHECK_INT(r->hdrs[i].value_len, strlen(value));
    CHECK(memcmp(r->buf + r->hdrs[i].value_off, value, strlen(value)) == 0);
}

TEST(every_chunk_size)
{
    static const char resp[] =
        "HTTP/1.1 200 Fine Thanks\r\nServer: t\r\nX-Empty:\r\n"
        "X-Dup: 1\r\nx-dup: 2\r\nContent-Length: 5\r\n\r\nhello";
    size_t chunk;

    for (chunk = 1; chunk <= sizeof(resp); chunk++) {
        struct hscan__resp r;
        struct outcome o = feed(&r, resp, sizeof(resp) - 1, chunk, 65536,
                                256);
        CHECK_INT(o.rc, 1);
        CHECK_INT(o.status, 200);
        CHECK_INT(o.n_hdrs, 5);
        CHECK_INT(r.reason_len, 11);
        CHECK(memcmp(r.buf + r.reason_off, "Fine Thanks", 11) == 0);
        hdr_is(&r, 0, "Server", "t");
        hdr_is(&r, 1, "X-Empty", "");
        hdr_is(&r, 2, "X-Dup", "1");
        hdr_is(&r, 3, "x-dup", "2");
        hdr_is(&r, 4, "Content-Length", "5");
        /* the body is not part of the head */
        CHECK_INT(r.head_bytes, sizeof(resp) - 1 - 5);
        hscan__resp_free(&r);
    }
}

TEST(interim_1xx_is_recorded)
{
    static const char resp[] =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        "HTTP/1.1 404 Not Found\r\nServer: s\r\n\r\n";
    for (size_t chunk = 1; chunk < sizeof(resp); chunk += 7) {
        struct hscan__resp r;
        struct outcome o = feed(&r, resp, sizeof(resp) - 1, chunk, 65536,
                                256);
        CHECK_INT(o.rc, 1);
        CHECK_INT(o.status, 404);
        CHECK_INT(o.n_hdrs, 1);
        hdr_is(&r, 0, "Server", "s");
        CHECK_INT(r.n_interim, 2);
        CHECK_INT(r.interim[0], 100);
        CHECK_INT(r.interim[1], 103);
        CHECK_INT(r.anomalies, 0);
        hscan__resp_free(&r);
    }
}

/* 20 interim responses: the first 16 statuses are kept. */
TEST(interim_bounded)
{
    char resp[1024];
    size_t off = 0;
    struct hscan__resp r;
    struct outcome o;
    int i;

    for (i = 0; i < 20; i++)
        off += (size_t)sprintf(resp + off, "HTTP/1.1 1%02d X\r\n\r\n",
                               i + 2);     /* 101 would be final */
    off += (size_t)sprintf(resp + off, "HTTP/1.1 200 OK\r\n\r\n");
    o = feed(&r, resp, off, 13, 65536, 256);
    CHECK_INT(o.rc, 1);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.n_interim, HSCAN__MAX_INTERIM);
    CHECK_INT(r.interim[15], 117);
    hscan__resp_free(&r);
}

TEST(bare_lf_and_http10)
{
    static const char lf[] = "HTTP/1.0 200 OK\nServer: lf\n\nbody";
    struct hscan__resp r;
    struct outcome o = feed(&r, lf, sizeof(lf) - 1, 3, 65536, 256);
    CHECK_INT(o.rc, 1);
    CHECK_INT(o.status, 200);
    CHECK_INT(r.minor, 0);
    hdr_is(&r, 0, "Server", "lf");
    hscan__resp_free(&r);
}

static char *many_headers(unsigned n, size_t vlen, size_t *len)
{
    size_t cap = 64 + n * (vlen + 32), off;
    char *b = malloc(cap);
    off = (size_t)sprintf(b, "HTTP/1.1 200 OK\r\n");
    for (unsigned i = 0; i < n; i++) {
        off += (size_t)sprintf(b + off, "X-H-%u: ", i);
        memset(b + off, 'v', vlen);
        off += vlen;
        off += (size_t)sprintf(b + off, "\r\n");
    }
    off += (size_t)sprintf(b + off, "\r\n");
    *len = off;
    return b;
}

TEST(header_count_limit)
{
    size_t len;
    char *b = many_headers(300, 2, &len);
    struct hscan__resp r;
    struct outcome o = feed(&r, b, len, 4096, 65536, 256);
    CHECK_INT(o.rc, HSCAN_ETOO_MANY_HEADERS);
    CHECK(strstr(o.detail, "256"));
    hscan__resp_free(&r);
    /* exactly at the limit passes */
    free(b);
    b = many_headers(256, 2, &len);
    o = feed(&r, b, len, 4096, 65536, 256);
    CHECK_INT(o.rc, 1);
    CHECK_INT(o.n_hdrs, 256);
    hscan__resp_free(&r);
    free(b);
}

TEST(header_byte_limit)
{
    size_t len;
    char *b = many_headers(100, 1000, &len);   /* ~100 KB */
    for (size_t chunk = 1000; chunk <= len; chunk *= 4) {
        struct hscan__resp r;
        struct outcome o = feed(&r, b, len, chunk, 65536, 1000);
        CHECK_INT(o.rc, HSCAN_EHEADER_TOO_LARGE);
        /* memory held never exceeds the cap */
        CHECK(r.cap <= 65536);
        hscan__resp_free(&r);
    }
    free(b);
}

TEST(header_byte_limit_single_line)
{
    /* one endless header line with no CRLF must stop at the cap */
    struct hscan__resp r;
    char chunk[4096];
    int rc = 0;
    char d[HSCAN__DETAIL_SIZE];
    hscan__resp_init(&r, 65536, 256);
    rc = hscan__resp_feed(&r, "HTTP/1.1 200 OK\r\nX: ", 21, d, sizeof(d));
    memset(chunk, 'a', sizeof(chunk));
    for (int i = 0; i < 1000 && rc == 0; i++)
        rc = hscan__resp_feed(&r, chunk, sizeof(chunk), d, sizeof(d));
    CHECK_INT(rc, HSCAN_EHEADER_TOO_LARGE);
    CHECK(r.head_bytes <= 65536 + sizeof(chunk));
    hscan__resp_free(&r);
}

TEST(parse_errors)
{
    static const char *bad[] = {
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "\x00\x01\x02SSH-2.0-OpenSSH_9.0\r\n",
        "SSH-2.0-OpenSSH_9.0\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 099 OK\r\n\r\n",
        " HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.10 200 OK\r\n\r\n",
        "HTTP/x.1 200 OK\r\n\r\n",
        "<html><body>HTTP/0.9</body></html>\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hscan__resp r;
        size_t n = i == 1 ? 24 : strlen(bad[i]);
        struct outcome o = feed(&r, bad[i], n, n, 65536, 256);
        if (o.rc != HSCAN_EHTTP_PARSE)
            fprintf(stderr, "  case %zu: rc %d\n", i, o.rc);
        CHECK_INT(o.rc, HSCAN_EHTTP_PARSE);
        CHECK_INT(o.status, 0);
        CHECK(o.detail[0] != '\0');
        hscan__resp_free(&r);
    }
}

/* The reason glued to the code ("200OK", "200x OK"): read as curl
 * reads it, a spacing anomaly; an error under --strict. */
TEST(status_glued_reason)
{
    static const char *in[] = { "HTTP/1.1 200OK\r\n\r\n",
                                "HTTP/1.1 200x OK\r\n\r\n" };
    for (size_t i = 0; i < 2; i++) {
        struct hscan__resp r;
        size_t n = strlen(in[i]);
        struct outcome o = feed(&r, in[i], n, 1, 65536, 256);
        CHECK_INT(o.rc, 1);
        CHECK_INT(o.status, 200);
        CHECK(r.anomalies & (1u << HSCAN__A_STATUS_LINE_SPACES));
        hscan__resp_free(&r);
        hscan__resp_init(&r, 65536, 256);
        r.strict = 1;
        CHECK_INT(hscan__resp_feed(&r, in[i], n, o.detail,
                                   sizeof(o.detail)), HSCAN_EHTTP_PARSE);
        hscan__resp_free(&r);
    }
}

/* ---- observe, don't enforce: each case in every chunk size ---- */

#define A(x) (1u << HSCAN__A_##x)

struct hcase {
    const char *in;
    int strict;
    int rc;                 /* after the bytes, and the close if 0 */
    int status;
    uint32_t anomalies;
    const char *h[9];       /* name, value, ...; NULL ends */
    int frame;
};

static const struct hcase cases[] = {
    /* framing (RFC 9112 6.3) */
    { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
      "chunked\r\n\r\n", 0, 1, 200, A(CL_AND_TE),
      { "Content-Length", "3", "Transfer-Encoding", "chunked" },
      HSCAN__F_CHUNKED },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
      0, 1, 200, A(DUPLICATE_CL), { "Content-Length", "5",
      "Content-Length", "5" }, HSCAN__F_LENGTH },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", 0, 1, 200,
      A(DUPLICATE_CL), { "Content-Length", "5, 5" }, HSCAN__F_LENGTH },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      0, 1, 200, A(CONFLICTING_CL), { "Content-Length", "5",
      "Content-Length", "6" }, HSCAN__F_CLOSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 1, 200,
      A(INVALID_CL), { "Content-Length", "-1" }, HSCAN__F_CLOSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", 0, 1, 200,
      A(INVALID_CL), { "Content-Length", "abc" }, HSCAN__F_CLOSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", 0, 1, 200,
      A(INVALID_CL), { "Content-Length", "+5" }, HSCAN__F_CLOSE },
    { "HTTP/1.1 200 OK\r\nContent-Length:   5 \t\r\n\r\n", 0, 1, 200, 0,
      { "Content-Length", "5" }, HSCAN__F_LENGTH },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, identity\r\n\r\n",
      0, 1, 200, A(UNKNOWN_TE) | A(REPEATED_TE),
      { "Transfer-Encoding", "identity, identity" }, HSCAN__F_CLOSE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, Chunked\r\n\r\n",
      0, 1, 200, A(REPEATED_TE), { "Transfer-Encoding",
      "chunked, Chunked" }, HSCAN__F_CHUNKED },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
      "chunked;x=1\r\n\r\n", 0, 1, 200, 0, { "Transfer-Encoding", "gzip",
      "Transfer-Encoding", "chunked;x=1" }, HSCAN__F_CHUNKED },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      0, 1, 200, 0, { "Transfer-Encoding", "chunked, gzip" },
      HSCAN__F_CLOSE },
    /* field lines (RFC 9112 5) */
    { "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\n\tc\r\nX-B: w\r\n\r\n", 0, 1,
      200, A(OBS_FOLD), { "X-Fold", "a b c", "X-B", "w" }, 0 },
    { "HTTP/1.1 200 OK\r\nX-Fold:  a  \r\n   b  \r\n \r\nX-E:\r\n  e\r\n"
      "\r\n", 0, 1, 200, A(OBS_FOLD), { "X-Fold", "a b", "X-E", "e" }, 0 },
    { "HTTP/1.1 200 OK\r\nX-A : v\r\nX-B\t: w\r\n\r\n", 0, 1, 200,
      A(SPACE_BEFORE_COLON), { "X-A", "v", "X-B", "w" }, 0 },
    { "HTTP/1.1 200 OK\r\n X-A: v\r\n\tmore\r\nX-B: w\r\n\r\n", 0, 1, 200,
      A(LEADING_SPACE), { "X-B", "w" }, 0 },
    { "HTTP/1.1 200 OK\r\nJustAName\r\n cont\r\nX-B: w\r\n\r\n", 0, 1,
      200, A(NO_COLON_LINE), { "X-B", "w" }, 0 },
    { "HTTP/1.1 200 OK\r\nX Bad Name: 1\r\n: e\r\nX-\x80: 2\r\n\r\n", 0, 1,
      200, A(INVALID_NAME), { "X Bad Name", "1", "", "e", "X-\x80", "2" }, 0 },
    { "HTTP/1.1 200 OK\r\nX-A:   v  \t\r\nX-E:\r\nX-F:   \r\n\r\n", 0, 1,
      200, 0, { "X-A", "v", "X-E", "", "X-F", "" }, 0 },
    { "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\r\n", 0, 1, 200, A(BARE_CR),
      { "X-A", "a\rb" }, 0 },
    { "HTTP/1.1 200 OK\nServer: lf\n\n", 0, 1, 200, A(BARE_LF),
      { "Server", "lf" }, 0 },
    /* status lines (RFC 9112 4) */
    { "HTTP/1.2 200 OK\r\n\r\n", 0, 1, 200, A(VERSION_UNUSUAL), { NULL }, 0 },
    { "http/1.1 200 OK\r\n\r\n", 0, 1, 200, A(VERSION_UNUSUAL), { NULL }, 0 },
    { "HTTP/2 200 OK\r\n\r\n", 0, 1, 200, A(VERSION_UNUSUAL), { NULL }, 0 },
    { "HTTP/1.1  200  OK  \r\n\r\n", 0, 1, 200, A(STATUS_LINE_SPACES),
      { NULL }, 0 },
    { "HTTP/1.1\t200\tOK\r\n\r\n", 0, 1, 200, A(STATUS_LINE_SPACES),
      { NULL }, 0 },
    { "HTTP/1.1 200\r\nA: b\r\n\r\n", 0, 1, 200, 0, { "A", "b" }, 0 },
    { "HTTP/1.1 999 Odd\r\n\r\n", 0, 1, 999, 0, { NULL }, 0 },
    /* the close inside the head */
    { "HTTP/1.1 200 OK\r\nServer: x\r\n", 0, 1, 200, A(HEAD_CUT_BY_CLOSE),
      { "Server", "x" }, 0 },
    { "HTTP/1.1 200 OK\r\nServer: x\r\nX-Partial: cut he", 0,
      HSCAN_EREAD_CLOSED, 200, 0, { "Server", "x" }, 0 },
    { "HTTP/1.1 200 O", 0, HSCAN_EREAD_CLOSED, 0, 0, { NULL }, 0 },
    /* --strict: what llhttp's strict mode refused, with partial facts */
    { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
      "chunked\r\n\r\n", 1, HSCAN_EHTTP_PARSE, 200, A(CL_AND_TE),
      { "Content-Length", "3", "Transfer-Encoding", "chunked" }, 0 },
    { "HTTP/1.1 200 OK\r\nA: 1\r\nX Bad: 1\r\nB: 2\r\n\r\n", 1,
      HSCAN_EHTTP_PARSE, 200, A(INVALID_NAME), { "A", "1", "X Bad", "1" }, 0 },
    { "HTTP/1.1 200 OK\r\nServer: x\r\n", 1, HSCAN_EREAD_CLOSED, 200,
      A(HEAD_CUT_BY_CLOSE), { "Server", "x" }, 0 },
    { "HTTP/1.1 200 OK\nX-Fold: a\n b\n\n", 1, 1, 200,
      A(BARE_LF) | A(OBS_FOLD), { "X-Fold", "a b" }, 0 },
};

static void case_run(const struct hcase *c, size_t chunk)
{
    size_t len = strlen(c->in), i;
    struct hscan__resp r;
    struct outcome o;

    memset(&o, 0, sizeof(o));
    hscan__resp_init(&r, 65536, 256);
    r.strict = c->strict;
    for (i = 0; i < len && o.rc == 0; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;
        char *b = malloc(n);
        memcpy(b, c->in + i, n);
        o.rc = hscan__resp_feed(&r, b, n, o.detail, sizeof(o.detail));
        free(b);
    }
    if (o.rc == 0)
        o.rc = hscan__resp_eof(&r, o.detail, sizeof(o.detail));
    if (o.rc != c->rc || r.anomalies != c->anomalies)
        fprintf(stderr, "  case \"%.40s\" chunk %zu: rc %d (%s), "
                "anomalies %#x\n", c->in, chunk, o.rc, o.detail,
                r.anomalies);
    CHECK_INT(o.rc, c->rc);
    CHECK_INT(r.status, c->status);
    CHECK_INT(r.anomalies, c->anomalies);
    for (i = 0; c->h[i]; i += 2)
        hdr_is(&r, (unsigned)i / 2, c->h[i], c->h[i + 1]);
    CHECK_INT(r.n_hdrs, i / 2);
    if (c->rc == 1)
        CHECK_INT(r.frame, c->frame);
    hscan__resp_free(&r);
}

TEST(anomalies_every_chunk_size)
{
    size_t i, chunk;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (chunk = 1; chunk <= strlen(cases[i].in); chunk++)
            case_run(&cases[i], chunk);
}

TEST(status_line_facts)
{
    static const char resp[] = "HTTP/1.1  404\tNot  Found \r\n\r\n";
    struct hscan__resp r;
    struct outcome o = feed(&r, resp, sizeof(resp) - 1, 5, 65536, 256);

    CHECK_INT(o.rc, 1);
    CHECK_INT(r.major, 1);
    CHECK_INT(r.minor, 1);
    CHECK_INT(r.reason_len, 11);
    CHECK(memcmp(r.buf + r.reason_off, "Not  Found ", 11) == 0);
    CHECK_INT(r.complete, 1);
    hscan__resp_free(&r);
    o = feed(&r, "HTTP/2 200 \r\n\r\n", 15, 15, 65536, 256);
    CHECK_INT(r.major, 2);
    CHECK_INT(r.minor, 0);
    CHECK_INT(r.reason_len, 0);
    hscan__resp_free(&r);
}

/* Limits keep what came before them. */
TEST(limits_keep_partial_facts)
{
    size_t len;
    char *b = many_headers(300, 2, &len);
    struct hscan__resp r;
    struct outcome o = feed(&r, b, len, 7, 65536, 256);

    CHECK_INT(o.rc, HSCAN_ETOO_MANY_HEADERS);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.n_hdrs, 256);
    hdr_is(&r, 255, "X-H-255", "vv");
    CHECK_INT(r.complete, 0);
    hscan__resp_free(&r);
    free(b);
    b = many_headers(100, 1000, &len);
    o = feed(&r, b, len, 333, 8192, 256);
    CHECK_INT(o.rc, HSCAN_EHEADER_TOO_LARGE);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.n_hdrs, 8);     /* 17 + 8 * 1010 bytes fit in 8192 */
    CHECK(r.head_bytes <= 8192);
    hscan__resp_free(&r);
    free(b);
}

TEST(eof_details)
{
    struct hscan__resp r;
    char d[HSCAN__DETAIL_SIZE];
    hscan__resp_init(&r, 65536, 256);
    CHECK_INT(hscan__resp_eof(&r, d, sizeof(d)), HSCAN_EREAD_CLOSED);
    CHECK(strstr(d, "before any"));
    CHECK_INT(hscan__resp_feed(&r, "HTTP/1.1 200", 12, d, sizeof(d)), 0);
    CHECK_INT(hscan__resp_eof(&r, d, sizeof(d)), HSCAN_EREAD_CLOSED);
    CHECK(strstr(d, "12 bytes"));
    hscan__resp_free(&r);
}

TEST(request_tail)
{
    hscan_config_t cfg;
    const char *hdrs[] = { "Accept: text/html", "Connection:", "X-A: 1" };
    size_t len;
    char *t;

    hscan_config_init(&cfg);
    t = hscan__request_tail(&cfg, "hscan/test", &len);
    CHECK_STR(t, "User-Agent: hscan/test\r\nAccept: */*\r\n"
                 "Connection: close\r\n\r\n");
    CHECK_INT(len, strlen(t));
    free(t);
    cfg.headers = hdrs;
    cfg.n_headers = 3;
    t = hscan__request_tail(&cfg, "ua", &len);
    CHECK_STR(t, "User-Agent: ua\r\nAccept: text/html\r\nX-A: 1\r\n\r\n");
    free(t);
}

/* What a redirect sends (hscan__req_redirect): no credentials to
 * another origin, a GET without body after a 303 or a POST's 301/302. */
static char *built(struct hscan__req *r)
{
    struct hscan__target t = { HSCAN__HTTP, "h", 1, "/", 1, 80, 0 };
    char *out = NULL, *s;
    size_t len = 0;

    CHECK(hscan__req_build(r, &t, &out, &len) == 0);
    s = malloc(len + 1);        /* the bytes, as a C string to search */
    CHECK(s != NULL);
    memcpy(s, out, len);
    s[len] = '\0';
    free(out);
    return s;
}

TEST(request_redirect)
{
    hscan_config_t cfg;
    const char *hdrs[] = { "Cookie: a=1", "X-A: 1",
                           "Authorization: Bearer tok" };
    struct hscan__req *base, *r;
    char *b;

    hscan_config_init(&cfg);
    cfg.method = "POST";
    cfg.basic_auth = "u:p";
    cfg.body = "k=v";
    cfg.body_len = 3;
    cfg.headers = hdrs;
    cfg.n_headers = 3;
    CHECK(hscan__req_new(&base, &cfg) == 0);
    /* the same origin, a 307: all of it again, the same description */
    CHECK(hscan__req_redirect(&r, base, 0, 307) == 0);
    CHECK(r == base);
    hscan__req_unref(r);
    /* another origin, a 307: POST and body kept, credentials dropped */
    CHECK(hscan__req_redirect(&r, base, 1, 307) == 0);
    b = built(r);
    CHECK(strncmp(b, "POST / HTTP/1.1\r\n", 17) == 0);
    CHECK(strstr(b, "Authorization") == NULL && strstr(b, "Cookie") ==
          NULL);
    CHECK(strstr(b, "X-A: 1\r\n") != NULL);
    CHECK(strstr(b, "Content-Length: 3\r\n") != NULL &&
          strstr(b, "\r\n\r\nk=v") != NULL);
    free(b);
    hscan__req_unref(r);
    /* the same origin, a 303: GET, no body, credentials kept */
    CHECK(hscan__req_redirect(&r, base, 0, 303) == 0);
    b = built(r);
    CHECK(strncmp(b, "GET / HTTP/1.1\r\n", 16) == 0);
    /* (the user's Authorization line replaces -u's Basic one) */
    CHECK(strstr(b, "Authorization: Bearer tok\r\n") != NULL);
    CHECK(strstr(b, "Content-Length") == NULL &&
          strstr(b, "Content-Type") == NULL);
    CHECK(strstr(b, "k=v") == NULL);
    free(b);
    hscan__req_unref(r);
    /* a POST's 302 to another origin: GET, nothing of either */
    CHECK(hscan__req_redirect(&r, base, 1, 302) == 0);
    b = built(r);
    CHECK(strncmp(b, "GET / ", 6) == 0 && strstr(b, "Basic") == NULL &&
          strstr(b, "k=v") == NULL && strstr(b, "Bearer") == NULL);
    free(b);
    hscan__req_unref(r);
    hscan__req_unref(base);
}

/* The server name (cfg.sni, cfg.no_sni) is the target's: a target's
 * overrides replace the scanner's; a redirect to another origin drops
 * sni (that host is named) and keeps no_sni. */
TEST(request_sni)
{
    hscan_config_t cfg;
    hscan_target_opts_t o;
    struct hscan__req *base, *r, *m;

    hscan_config_init(&cfg);
    cfg.sni = "a.test";
    CHECK(hscan__req_new(&base, &cfg) == 0);
    CHECK_STR(base->sni, "a.test");
    CHECK(hscan__req_redirect(&r, base, 0, 301) == 0);
    CHECK(r == base);
    hscan__req_unref(r);
    CHECK(hscan__req_redirect(&r, base, 1, 301) == 0);
    CHECK(r != base && r->sni == NULL && r->no_sni == 0);
    hscan__req_unref(r);
    CHECK(hscan__req_redirect(&r, base, 1, 303) == 0);
    CHECK(r->sni == NULL);
    hscan__req_unref(r);
    CHECK(hscan__req_redirect(&r, base, 0, 303) == 0);
    CHECK_STR(r->sni, "a.test");
    hscan__req_unref(r);
    hscan_target_opts_init(&o);
    o.sni = "b.test";
    CHECK(hscan__req_merge(&m, base, &o) == 0);
    CHECK_STR(m->sni, "b.test");
    CHECK_INT(m->no_sni, 0);
    hscan__req_unref(m);
    o.sni = NULL;
    o.no_sni = 1;
    CHECK(hscan__req_merge(&m, base, &o) == 0);
    CHECK(m->sni == NULL && m->no_sni == 1);
    CHECK(hscan__req_redirect(&r, m, 1, 303) == 0);
    CHECK(r->sni == NULL && r->no_sni == 1);
    hscan__req_unref(r);
    hscan__req_unref(m);
    hscan__req_unref(base);
}

/* ---- HTML title (cfg.body_bytes) ---- */

static void title_is(const char *html, const char *want)
{
    char out[256];
    long n = hscan__html_title(html, strlen(html), out, sizeof(out));

    if (!want) {
        CHECK_INT(n, -1);
        return;
    }
    CHECK(n >= 0);
    CHECK((size_t)n <= strlen(html));
    out[n] = '\0';
    CHECK_STR(out, want);
}

TEST(html_title)
{
    title_is("<html><title>fast</title></html>", "fast");
    title_is("<HTML><TITLE lang=en>\n  A  &amp;\tB \n</Title>", "A & B");
    title_is("<head><title></title></head>", "");
    title_is("<titles>no</titles><title>yes</title>", "yes");
    title_is("<html><body>none</body></html>", NULL);
    title_is("", NULL);
    title_is("<title>&lt;b&gt; &quot;q&quot; &#39;s&apos;</title>",
             "<b> \"q\" 's'");
    title_is("<title>caf&#233; &#xE9; &#x1F600;</title>",
             "caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80");
    title_is("<title>&#0; &#xD800; &#99999999;</title>",
             "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
    title_is("<title>a&nbsp;&nbsp;b&unknown;c &amp</title>",
             "a b&unknown;c &amp");
    title_is("<title>cut short by body_bytes", "cut short by body_bytes");
    title_is("<title>\xff\xfe raw</title>", "\xff\xfe raw");
    title_is("<title>a</title><title>b</title>", "a");
    title_is("<title/>x", "x");
}

TEST(html_title_small_buffer)
{
    char out[4];
    long n = hscan__html_title("<title>abcdef</title>", 21, out, 4);

    CHECK_INT(n, 4);
    CHECK(memcmp(out, "abcd", 4) == 0);
}

/* The raw title text as the one-shot code found it before the title
 * was streamed (first "<title" not "<titles", to the first "</title"
 * or the end): an oracle for the tokenizer's bounds. */
static const char *find_ci(const char *h, size_t n, const char *pat)
{
    size_t m = strlen(pat), i, j;

    for (i = 0; i + m <= n; i++) {
        for (j = 0; j < m && (h[i + j] | (h[i + j] >= 'A' &&
                              h[i + j] <= 'Z' ? 0x20 : 0)) == pat[j]; j++)
            ;
        if (j == m)
            return h + i;
    }
    return NULL;
}

static long oracle_title(const char *html, size_t n, char *out,
                         size_t size)
{
    const char *p = html, *end = html + n, *close;
    char *wrapped;
    long len;

    while ((p = find_ci(p, (size_t)(end - p), "<title")) != NULL) {
        const char *a = p + 6;
        if (a == end || *a == '>' || *a == '/' || *a == ' ' ||
            *a == '\t' || *a == '\n' || *a == '\r' || *a == '\f')
            break;
        p = a;
    }
    if (!p)
        return -1;
    while (p < end && *p != '>')
        p++;
    if (p < end)
        p++;
    if ((close = find_ci(p, (size_t)(end - p), "</title")) != NULL)
        end = close;
    /* the decoding alone, through the one-shot code */
    wrapped = malloc(7 + (size_t)(end - p));
    memcpy(wrapped, "<title>", 7);
    memcpy(wrapped + 7, p, (size_t)(end - p));
    len = hscan__html_title(wrapped, 7 + (size_t)(end - p), out, size);
    free(wrapped);
    return len;
}

/* The tokenizer fed s[0..n) cut at cuts[0..k), each piece an exact
 * copy (an over-read is an ASan report). */
static long title_fed(const char *s, size_t n, const size_t *cuts,
                      size_t k, char *out, size_t size)
{
    struct hscan__title t;
    size_t i, at = 0;
    long len;

    hscan__title_init(&t, n);
    for (i = 0; i <= k; i++) {
        size_t to = i < k ? cuts[i] : n;
        char *b = malloc(to - at + 1);
        memcpy(b, s + at, to - at);
        CHECK_INT(hscan__title_feed(&t, b, to - at), 0);
        free(b);
        at = to;
    }
    CHECK(t.len <= n);
    len = hscan__title_text(&t, out, size);
    hscan__title_free(&t);
    return len;
}

#define S(lit) { lit, sizeof(lit) - 1 }
static const struct { const char *s; size_t n; } tricky[] = {
    S("<html><title>fast</title></html>"),
    S("<HTML><TITLE lang=x>\n  A  &amp;\tB \n</TiTlE>"),
    S("<titles>no</titles><title>yes</title>"),
    S("<title>a &amp; b &#x1F600; &#233;&nbsp;c &#39;</title>"),
    S("<title>&#x;&#;&#1234567;&amp &unknown; &NBSP;</title>"),
    S("<title>x</titl"),
    S("x<title"),
    S("<title"),
    S("<title>no end tag &am"),
    S("<title lang=\"a>b\">t</title >"),
    S("<title\tx=1>t</title\n>"),
    S("<<title>>x</title>"),
    S("<title<title>y</title>"),
    S("<ti<title>z"),
    S("</title><title>q</title>"),
    S("<title>a</ti</title>"),
    S("<title>x<</title>"),
    S("<TITLE>A<</<//</TITLE>"),
    S("<title/>x"),
    S("<title>a</title><title>b</title>"),
    S(""),
    S("no title here < at all <t <ti"),
    S("a\0<title>b\0c &#0;</title>"),
    S("<title\0>n</title>"),
    S("<title>  \xff\xfe raw \t</title>"),
    S("<html><head><title>A rather long title that goes on and on, "
      "longer than several reads &mdash; with &hellip; entities &amp; "
      "spaces   and   tabs\t\tand a few more words to make it long, "
      "long, long, long, long, long, long, long, long, long, long, "
      "long, long enough</title></head>"),
};
#undef S

static void title_same(const char *s, size_t n, const size_t *cuts,
                       size_t k, long want, const char *w, size_t size)
{
    char got[512];
    long len = title_fed(s, n, cuts, k, got, size);

    if (len != want || (len > 0 && memcmp(got, w, (size_t)len) != 0))
        fprintf(stderr, "  \"%.40s\" cut at %zu (%zu cuts), size %zu: "
                "%ld, want %ld\n", s, k ? cuts[0] : 0, k, size, len,
                want);
    CHECK_INT(len, want);
    CHECK(len <= 0 || memcmp(got, w, (size_t)len) == 0);
}

/* Fed in every 2-way split and byte by byte, the streaming tokenizer
 * gives the one-shot title, which gives the old code's. */
TEST(html_title_streamed)
{
    static const size_t sizes[] = { 512, 3 };
    size_t i, j, c, *cuts;

    for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
        const char *s = tricky[i].s;
        size_t n = tricky[i].n;
        for (j = 0; j < 2; j++) {
            char want[512], old[512];
            long wl = hscan__html_title(s, n, want, sizes[j]);
            long ol = oracle_title(s, n, old, sizes[j]);
            CHECK_INT(wl, ol);
            CHECK(wl <= 0 || memcmp(want, old, (size_t)wl) == 0);
            for (c = 0; c <= n; c++)
                title_same(s, n, &c, 1, wl, want, sizes[j]);
            cuts = malloc((n + 1) * sizeof(*cuts));
            for (c = 0; c < n; c++)
                cuts[c] = c + 1;
            title_same(s, n, cuts, n ? n - 1 : 0, wl, want, sizes[j]);
            free(cuts);
        }
    }
}

/* The streamed SHA-256 is the one-shot digest, in any split, kept or
 * not, the context reused from one body to the next. */
TEST(body_facts_sha256_streamed)
{
    static char data[5000];
    struct hscan__md md;
    size_t i, round;
    unsigned seed = 12345;

    memset(&md, 0, sizeof(md));
    for (i = 0; i < sizeof(data); i++)
        data[i] = (char)((seed = seed * 1103515245u + 12345u) >> 16);
    for (round = 0; round < 40; round++) {
        struct hscan__bodyf bf;
        size_t n = round * 125, off = 0;
        unsigned char dg[32];
        unsigned int len = 0;
        char hex[65], want[65];

        memset(&bf, 0, sizeof(bf));
        hscan__bodyf_start(&bf, &md, (int)(round & 1), sizeof(data));
        while (off < n) {
            size_t c = ((seed = seed * 1103515245u + 12345u) >> 16) % 700;
            if (c > n - off)
                c = n - off;
            CHECK_INT(hscan__bodyf_feed(&bf, data + off, c), 0);
            off += c;
        }
        hscan__bodyf_end(&bf);
        CHECK(bf.ctx == NULL);
        CHECK(md.spare != NULL || n == 0);
        CHECK(EVP_Digest(data, n, dg, &len, EVP_sha256(), NULL) == 1);
        for (i = 0; i < 32; i++)
            sprintf(want + 2 * i, "%02x", dg[i]);
        CHECK_INT(hscan__bodyf_hex(&bf, hex), 0);
        CHECK_STR(hex, want);
        CHECK_INT(bf.len, n);
        CHECK((round & 1) ? n == 0 || memcmp(bf.buf, data, n) == 0
                          : bf.buf == NULL);
        hscan__bodyf_free(&bf);
    }
    hscan__md_free(&md);
}

TEST(content_length_values)
{
    CHECK_INT(hscan__content_length("123", 3), 123);
    CHECK_INT(hscan__content_length(" 42 ", 4), 42);
    CHECK_INT(hscan__content_length("", 0), -1);
    CHECK_INT(hscan__content_length("1,2", 3), -1);
    CHECK_INT(hscan__content_length("-1", 2), -1);
    CHECK_INT(hscan__content_length("99999999999999999999", 20), -1);
}

/* A chunked body's trailer fields are not headers of the response. */
TEST(body_trailers_not_headers)
{
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n";
    struct hscan__resp r;
    char d[HSCAN__DETAIL_SIZE];
    size_t n = sizeof(resp) - 1;

    hscan__resp_init(&r, 65536, 256);
    CHECK_INT(hscan__resp_feed(&r, resp, n, d, sizeof(d)), 1);
    CHECK_INT(r.n_hdrs, 1);
    hscan__resp_body_start(&r, 100, NULL, 1);
    CHECK_INT(hscan__resp_body_feed(&r, resp + r.rest, n - r.rest), 1);
    CHECK_INT(r.n_hdrs, 1);
    CHECK_INT(r.body_len, 5);
    CHECK(memcmp(r.bf.buf, "hello", 5) == 0);
    CHECK_INT(r.body_truncated, 0);
    hscan__resp_free(&r);
}

/* ---- body framing (RFC 9112 6.3) and the chunked decoder (7.1) ---- */

struct bcase {
    const char *in;         /* head and body */
    size_t max;             /* body_max */
    int closed;             /* the close ends it if the bytes did not */
    const char *body;
    int truncated;
    uint32_t anomalies;
};

static const struct bcase bodies[] = {
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;a=b\r\nhello\r\n0\r\nX-T: t\r\n\r\nNEXT", 100, 0, "hello", 0, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\nhello\n1\n!\n0\n\n", 100, 0, "hello!", 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 100, 0, "hello", 0,
      A(CL_AND_TE) },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello",
      100, 0, "", 1, A(INVALID_CHUNK) },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 100, 0, "", 1,
      A(INVALID_CHUNK) },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabcX\r\n", 100, 0, "abc", 1, A(INVALID_CHUNK) },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n", 100, 1, "abc", 1, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\n0123456789\r\n0\r\n\r\n", 4, 0, "0123", 1, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", 100, 0,
      "hello", 0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4, 0,
      "0123", 1, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", 100, 1,
      "01234", 1, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
      "hello!", 100, 1, "hello!", 0, A(CONFLICTING_CL) },
    { "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nhello", 100, 1,
      "hello", 0, A(INVALID_CL) },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, identity\r\n\r\n"
      "hello", 100, 1, "hello", 0, A(UNKNOWN_TE) | A(REPEATED_TE) },
    { "HTTP/1.1 200 OK\r\n\r\nuntil the close", 100, 1,
      "until the close", 0, 0 },
    { "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", 100, 0,
      "", 0, 0 },
    { "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello", 100, 0,
      "", 0, 0 },
};

static struct hscan__md test_md;    /* as a scanner's */

/* r's body facts are those of `want` (its bytes when kept). */
static void check_facts(struct hscan__resp *r, const char *want, size_t n)
{
    unsigned char dg[32];
    unsigned int len = 0;
    char t1[64], t2[64];
    long l1, l2;

    CHECK_INT(r->bf.ended, 1);
    CHECK_INT(r->bf.len, n);
    CHECK(r->bf.keep ? n == 0 || memcmp(r->bf.buf, want, n) == 0
                     : r->bf.buf == NULL);
    CHECK(EVP_Digest(want, n, dg, &len, EVP_sha256(), NULL) == 1);
    CHECK_INT(r->bf.has_digest, 1);
    CHECK(memcmp(r->bf.digest, dg, 32) == 0);
    CHECK(r->bf.ctx == NULL);
    l1 = hscan__html_title(want, n, t1, sizeof(t1));
    l2 = hscan__title_text(&r->bf.title, t2, sizeof(t2));
    CHECK_INT(l1, l2);
    CHECK(l1 <= 0 || memcmp(t1, t2, (size_t)l1) == 0);
}

static void body_run(const struct bcase *c, size_t chunk, int keep)
{
    size_t len = strlen(c->in), off = 0;
    struct hscan__resp r;
    char d[HSCAN__DETAIL_SIZE];
    int rc = 0, done = 0;

    hscan__resp_init(&r, 65536, 256);
    while (off < len && !done) {
        size_t n = len - off < chunk ? len - off : chunk;
        char *b = malloc(n);
        memcpy(b, c->in + off, n);
        if (rc == 0) {
            rc = hscan__resp_feed(&r, b, n, d, sizeof(d));
            CHECK(rc >= 0);
            if (rc == 1) {
                hscan__resp_body_start(&r, c->max, &test_md, keep);
                done = hscan__resp_body_feed(&r, b + r.rest, n - r.rest);
            }
        } else {
            done = hscan__resp_body_feed(&r, b, n);
        }
        free(b);
        off += n;
    }
    CHECK_INT(rc, 1);
    if (!done) {
        CHECK(c->closed);
        hscan__resp_body_cut(&r, 1);
    }
    if (r.body_len != strlen(c->body) || r.body_truncated != c->truncated)
        fprintf(stderr, "  case \"%.50s\" chunk %zu: %u bytes, "
                "truncated %d\n", c->in, chunk, r.body_len,
                r.body_truncated);
    CHECK_INT(r.body_len, strlen(c->body));
    check_facts(&r, c->body, strlen(c->body));
    CHECK_INT(r.body_truncated, c->truncated);
    CHECK_INT(r.anomalies, c->anomalies);
    CHECK_INT(r.n_hdrs <= 2, 1);    /* trailers are not headers */
    hscan__resp_free(&r);
}

TEST(body_framing_every_chunk_size)
{
    size_t i, chunk;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        for (chunk = 1; chunk <= strlen(bodies[i].in); chunk++) {
            body_run(&bodies[i], chunk, 1);
            body_run(&bodies[i], chunk, 0);
        }
    hscan__md_free(&test_md);
}
