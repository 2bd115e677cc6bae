/* Response head parsing under limits, fed in every chunk size (llhttp
 * splits spans anywhere, so each case is replayed 1, 2, 3... bytes at a
 * time and must give the same facts). */
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

TEST(interim_1xx_is_skipped)
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
        hscan__resp_free(&r);
    }
}

TEST(bare_lf_and_http10)
{
    static const char lf[] = "HTTP/1.0 200 OK\nServer: lf\n\nbody";
    struct hscan__resp r;
    struct outcome o = feed(&r, lf, sizeof(lf) - 1, 3, 65536, 256);
    CHECK_INT(o.rc, 1);
    CHECK_INT(o.status, 200);
    CHECK_INT(llhttp_get_http_minor(&r.parser), 0);
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
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hscan__resp r;
        size_t n = i == 1 ? 24 : strlen(bad[i]);
        struct outcome o = feed(&r, bad[i], n, n, 65536, 256);
        if (o.rc != HSCAN_EHTTP_PARSE)
            fprintf(stderr, "  case %zu: rc %d\n", i, o.rc);
        CHECK_INT(o.rc, HSCAN_EHTTP_PARSE);
        CHECK(strstr(o.detail, "HPE_") == o.detail);
        hscan__resp_free(&r);
    }
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
    hscan__resp_body_start(&r, 100);
    CHECK_INT(hscan__resp_body_feed(&r, resp + r.rest, n - r.rest), 1);
    CHECK_INT(r.n_hdrs, 1);
    CHECK_INT(r.body_len, 5);
    CHECK(memcmp(r.body, "hello", 5) == 0);
    CHECK_INT(r.body_truncated, 0);
    hscan__resp_free(&r);
}
