/* Result fields as text (lib/fields.c): every field of a hand-built
 * result, the empty values, header lookup, CSV quoting and the
 * snprintf-style truncation. */
#include <math.h>
#include <string.h>

#include "hscan.h"
#include "test-runner.h"

static const char *field(const hscan_result_t *r, const char *name)
{
    static char out[4096];
    size_t len = 12345;

    CHECK_INT(hscan_result_field(r, name, out, sizeof(out), &len), 0);
    CHECK(len < sizeof(out));
    CHECK_INT(strlen(out), len);
    return out;
}

static const char *csv(const hscan_result_t *r, const char *const *f,
                       size_t n)
{
    static char out[4096];
    size_t len = hscan_result_to_csv(r, f, n, out, sizeof(out));

    CHECK(len > 0 && len < sizeof(out));
    CHECK_INT(strlen(out), len);
    return out;
}

static const hscan_header_t hdrs[] = {
    { "Server", 6, "nginx/1.2, \"edge\"", 17 },
    { "Location", 8, "/next", 5 },
    { "X-Dup", 5, "1", 1 },
    { "x-dup", 5, " 2\r\n", 4 },
    { "SERVER", 6, "second", 6 },
    { "X-Bin", 5, "a\tb\x7f" "c\xff", 6 },
    { "X-Nul", 5, "a\0b", 3 },
    { "LOCATION", 8, "/other", 6 },
};

static const char *const sans[] = { "a.example", "b.example", "x\0y" };
static const size_t san_lens[] = { 9, 9, 3 };
static const char *const addrs[] = { "127.0.0.1", "::1" };
static const char *const cnames[] = { "c1.example", "c2.example" };

static void full_result(hscan_result_t *r, hscan_tls_t *t, hscan_audit_t *a,
                        hscan_hop_t *hop)
{
    memset(t, 0, sizeof(*t));
    t->version = "TLSv1.3";
    t->cipher = "TLS_AES_256_GCM_SHA384";
    t->verified = 0;
    t->verify_code = 18;
    t->verify_error = "self-signed certificate";
    t->subject = "CN=a.example,O=Ex\\, Inc";
    t->issuer = "CN=CA";
    t->san = sans;
    t->san_len = san_lens;
    t->n_san = 3;
    t->not_after = "2027-01-31T12:00:00Z";
    t->days_left = -3;
    t->sha256 = "ab12";
    memset(a, 0, sizeof(*a));
    a->passed = 5;
    a->checks = 7;
    a->missing = "hsts,csp";
    memset(hop, 0, sizeof(*hop));
    hop->url = "http://first.example/";
    hop->status = 301;
    memset(r, 0, sizeof(*r));
    r->id = 42;
    r->input = "a.example  # junk after";
    r->input_len = 9;
    r->url = "https://a.example/";
    r->scheme = "https";
    r->host = "a.example";
    r->ip = "127.0.0.1";
    r->path = "/listed?x=1";
    r->port = 443;
    r->status = 200;
    r->reason = "OK then";
    r->reason_len = 2;
    r->http_major = 1;
    r->http_minor = 1;
    r->headers = hdrs;
    r->n_headers = sizeof(hdrs) / sizeof(hdrs[0]);
    r->addresses = addrs;
    r->n_addresses = 2;
    r->cnames = cnames;
    r->n_cnames = 2;
    r->dns_ms = 1.0005;
    r->connect_ms = 0;
    r->tls_ms = 12.3456;
    r->ttfb_ms = 1500;
    r->total_ms = 0.0004;
    r->tls = t;
    r->redirects = hop;
    r->n_redirects = 1;
    r->fallback_error = HSCAN_ECONNECT_REFUSED;
    r->content_type = "text/html; charset=utf-8";
    r->content_type_len = 9;
    r->content_length = 1234;
    r->body_sha256 = "e3b0";
    r->title = "Hello, \"World\"";
    r->title_len = 14;
    r->audit = a;
}

/* The same, for a target that got nowhere: every value empty. */
static void empty_result(hscan_result_t *r)
{
    memset(r, 0, sizeof(*r));
    r->input = "bad host!";
    r->input_len = 9;
    r->http_major = -1;
    r->http_minor = -1;
    r->dns_ms = r->connect_ms = r->tls_ms = r->ttfb_ms = -1;
    r->total_ms = 0;
    r->content_length = -1;
    r->error = HSCAN_EINVALID_TARGET;
    r->error_detail = "invalid character in host name";
}

TEST(every_field_of_a_full_result)
{
    hscan_result_t r;
    hscan_tls_t t;
    hscan_audit_t a;
    hscan_hop_t hop;

    full_result(&r, &t, &a, &hop);
    CHECK_STR(field(&r, "id"), "42");
    CHECK_STR(field(&r, "input"), "a.example");
    CHECK_STR(field(&r, "url"), "https://a.example/");
    CHECK_STR(field(&r, "final_url"), "https://a.example/");
    CHECK_STR(field(&r, "scheme"), "https");
    CHECK_STR(field(&r, "host"), "a.example");
    CHECK_STR(field(&r, "ip"), "127.0.0.1");
    CHECK_STR(field(&r, "path"), "/listed?x=1");
    CHECK_STR(field(&r, "port"), "443");
    CHECK_STR(field(&r, "status"), "200");
    CHECK_STR(field(&r, "reason"), "OK");
    CHECK_STR(field(&r, "http_version"), "HTTP/1.1");
    CHECK_STR(field(&r, "content_type"), "text/html");
    CHECK_STR(field(&r, "content_length"), "1234");
    CHECK_STR(field(&r, "title"), "Hello, \"World\"");
    CHECK_STR(field(&r, "body_sha256"), "e3b0");
    /* the first value, as content_type; header:NAME has them all */
    CHECK_STR(field(&r, "server"), "nginx/1.2, \"edge\"");
    CHECK_STR(field(&r, "location"), "/next");
    CHECK_STR(field(&r, "redirects"), "1");
    CHECK_STR(field(&r, "tls_version"), "TLSv1.3");
    CHECK_STR(field(&r, "tls_cipher"), "TLS_AES_256_GCM_SHA384");
    CHECK_STR(field(&r, "tls_verified"), "false");
    CHECK_STR(field(&r, "tls_subject"), "CN=a.example,O=Ex\\, Inc");
    CHECK_STR(field(&r, "tls_issuer"), "CN=CA");
    CHECK_STR(field(&r, "tls_not_after"), "2027-01-31T12:00:00Z");
    CHECK_STR(field(&r, "tls_days_left"), "-3");
    CHECK_STR(field(&r, "tls_sha256"), "ab12");
    CHECK_STR(field(&r, "addresses"), "127.0.0.1,::1");
    CHECK_STR(field(&r, "cnames"), "c1.example,c2.example");
    /* three decimals, rounded as the JSON record's "%.3f" */
    CHECK_STR(field(&r, "dns_ms"), "1.001");
    CHECK_STR(field(&r, "connect_ms"), "0.000");
    CHECK_STR(field(&r, "tls_ms"), "12.346");
    CHECK_STR(field(&r, "ttfb_ms"), "1500.000");
    CHECK_STR(field(&r, "total_ms"), "0.000");
    CHECK_STR(field(&r, "error"), "");
    CHECK_STR(field(&r, "error_detail"), "");
    CHECK_STR(field(&r, "fallback_error"), "connect_refused");
    CHECK_STR(field(&r, "audit_passed"), "5/7");
    CHECK_STR(field(&r, "audit_missing"), "hsts,csp");
    t.verified = 1;
    CHECK_STR(field(&r, "tls_verified"), "true");
}

TEST(tls_san_keeps_every_byte)
{
    hscan_result_t r;
    hscan_tls_t t;
    hscan_audit_t a;
    hscan_hop_t hop;
    char out[64];
    size_t len = 0;

    full_result(&r, &t, &a, &hop);
    CHECK_INT(hscan_result_field(&r, "tls_san", out, sizeof(out), &len), 0);
    CHECK_INT(len, 23);
    CHECK(memcmp(out, "a.example,b.example,x\0y", 24) == 0);
    t.san_len = NULL;       /* lengths absent: strlen() of each */
    CHECK_STR(field(&r, "tls_san"), "a.example,b.example,x");
}

TEST(every_field_of_an_empty_result)
{
    static const char *const names[] = {
        "id", "url", "final_url", "scheme", "host", "ip", "port", "status",
        "reason", "http_version", "content_type", "content_length",
        "title", "body_sha256", "server", "location", "tls_version",
        "tls_cipher", "tls_verified", "tls_subject", "tls_issuer",
        "tls_san", "tls_not_after", "tls_days_left", "tls_sha256",
        "addresses", "cnames", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms",
        "fallback_error", "audit_passed", "audit_missing", "path",
        "header:Server"
    };
    hscan_result_t r;
    size_t i;

    empty_result(&r);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = field(&r, names[i]);
        if (*v)
            fprintf(stderr, "  %s = \"%s\"\n", names[i], v);
        CHECK_STR(v, "");
    }
    CHECK_STR(field(&r, "input"), "bad host!");
    CHECK_STR(field(&r, "redirects"), "0");
    CHECK_STR(field(&r, "total_ms"), "0.000");
    CHECK_STR(field(&r, "error"), "invalid_target");
    CHECK_STR(field(&r, "error_detail"), "invalid character in host name");
    /* NaN, infinity and absurd values are never printed as garbage */
    r.total_ms = -0.5;
    CHECK_STR(field(&r, "total_ms"), "");
    r.total_ms = HUGE_VAL;
    CHECK_STR(field(&r, "total_ms"), "");
    r.total_ms = 2e12;
    CHECK_STR(field(&r, "total_ms"), "2000000000000");
    r.http_major = 1;
    r.http_minor = -1;      /* HTTP/1 from a broken status line */
    CHECK_STR(field(&r, "http_version"), "HTTP/1.0");
    r.input = NULL;
    r.input_len = 0;
    CHECK_STR(field(&r, "input"), "");
}

TEST(header_columns)
{
    hscan_result_t r;
    hscan_tls_t t;
    hscan_audit_t a;
    hscan_hop_t hop;
    char out[64];
    size_t len = 0;

    full_result(&r, &t, &a, &hop);
    /* any case, every value in order, joined by ", " */
    CHECK_STR(field(&r, "header:x-DUP"), "1,  2\r\n");
    CHECK_STR(field(&r, "header:Server"), "nginx/1.2, \"edge\", second");
    CHECK_STR(field(&r, "header:location"), "/next, /other");
    CHECK_STR(field(&r, "header:X-Missing"), "");
    /* bytes as received: control bytes, invalid UTF-8, NUL */
    CHECK_STR(field(&r, "header:X-Bin"), "a\tb\x7f" "c\xff");
    CHECK_INT(hscan_result_field(&r, "header:X-Nul", out, sizeof(out), &len),
              0);
    CHECK_INT(len, 3);
    CHECK(memcmp(out, "a\0b", 4) == 0);
    /* a name that is only a prefix of the header's is no match */
    CHECK_STR(field(&r, "header:X-Du"), "");
    /* the anomalies, joined as a list */
    {
        static const char *const anom[] = { "obs_fold", "bare_lf" };
        r.anomalies = anom;
        r.n_anomalies = 2;
        CHECK_STR(field(&r, "anomalies"), "obs_fold,bare_lf");
        r.n_anomalies = 0;
        CHECK_STR(field(&r, "anomalies"), "");
    }
}

TEST(field_names)
{
    char list[] = HSCAN_FIELDS;
    char *save = NULL, *name;
    hscan_result_t r;
    char out[8] = "keep";
    size_t len = 99, n = 0;

    /* every advertised name works (the lookup is a binary search: an
     * unsorted table would lose some) */
    for (name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        if (!hscan_field_valid(name))
            fprintf(stderr, "  not valid: %s\n", name);
        CHECK(hscan_field_valid(name));
        n++;
    }
    CHECK_INT(n, 41);
    CHECK(hscan_field_valid("header:X-Frame-Options"));
    CHECK(hscan_field_valid("header:a!#$%&'*+-.^_`|~9"));
    CHECK(!hscan_field_valid("header:"));
    CHECK(!hscan_field_valid("header:X Y"));
    CHECK(!hscan_field_valid("header:X:Y"));
    CHECK(!hscan_field_valid("header:X,Y"));
    CHECK(!hscan_field_valid("header:\"X\""));
    CHECK(!hscan_field_valid("Header:X"));
    CHECK(!hscan_field_valid("STATUS"));
    CHECK(!hscan_field_valid("status "));
    CHECK(!hscan_field_valid(""));
    CHECK(!hscan_field_valid("zzz"));
    CHECK(!hscan_field_valid("aaa"));
    CHECK(!hscan_field_valid(NULL));
    /* an invalid name leaves the out-parameters alone */
    empty_result(&r);
    CHECK_INT(hscan_result_field(&r, "nope", out, sizeof(out), &len),
              HSCAN_EINVAL);
    CHECK_STR(out, "keep");
    CHECK_INT(len, 99);
    CHECK_INT(hscan_result_field(&r, "header:a b", out, sizeof(out), &len),
              HSCAN_EINVAL);
    CHECK_INT(hscan_result_field(&r, "status", out, sizeof(out), NULL), 0);
}

TEST(field_truncation)
{
    hscan_result_t r;
    hscan_tls_t t;
    hscan_audit_t a;
    hscan_hop_t hop;
    char out[32];
    size_t len = 0;

    full_result(&r, &t, &a, &hop);
    /* size 0: nothing written, full length reported */
    memset(out, 'z', sizeof(out));
    CHECK_INT(hscan_result_field(&r, "url", out, 0, &len), 0);
    CHECK_INT(len, 18);
    CHECK(out[0] == 'z');
    CHECK_INT(hscan_result_field(&r, "url", NULL, 0, &len), 0);
    CHECK_INT(len, 18);
    /* size 1: only the NUL */
    CHECK_INT(hscan_result_field(&r, "url", out, 1, &len), 0);
    CHECK_INT(len, 18);
    CHECK(out[0] == '\0' && out[1] == 'z');
    /* one short of the NUL, then exactly enough */
    CHECK_INT(hscan_result_field(&r, "url", out, 18, &len), 0);
    CHECK_INT(len, 18);
    CHECK_STR(out, "https://a.example");
    CHECK_INT(hscan_result_field(&r, "url", out, 19, &len), 0);
    CHECK_INT(len, 18);
    CHECK_STR(out, "https://a.example/");
    CHECK(out[19] == 'z');
    /* a value built from pieces is cut the same way */
    CHECK_INT(hscan_result_field(&r, "http_version", out, 7, &len), 0);
    CHECK_INT(len, 8);
    CHECK_STR(out, "HTTP/1");
}

TEST(csv_rows)
{
    static const char *const f[] = { "input", "status", "server", "title",
                                     "content_length", "error" };
    hscan_result_t r;
    hscan_tls_t t;
    hscan_audit_t a;
    hscan_hop_t hop;

    full_result(&r, &t, &a, &hop);
    CHECK_STR(csv(NULL, f, 6),
              "input,status,server,title,content_length,error\r\n");
    /* comma and quote: quoted, quotes doubled (RFC 4180 2.6, 2.7) */
    CHECK_STR(csv(&r, f, 6), "a.example,200,\"nginx/1.2, \"\"edge\"\"\","
                             "\"Hello, \"\"World\"\"\",1234,\r\n");
    empty_result(&r);
    CHECK_STR(csv(&r, f, 6), "bad host!,,,,,invalid_target\r\n");
    /* no fields: an empty row */
    CHECK_STR(csv(&r, f, 0), "\r\n");
}

TEST(csv_quoting)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        { "plain", 5, "plain" },
        { "", 0, "" },
        { "a,b", 3, "\"a,b\"" },
        { "a\"b", 3, "\"a\"\"b\"" },
        { "\"", 1, "\"\"\"\"" },
        { "a\rb", 3, "\"a\rb\"" },
        { "a\nb", 3, "\"a\nb\"" },
        { "a\r\n", 3, "\"a\r\n\"" },
        { " lead", 5, "\" lead\"" },
        { "\tlead", 5, "\"\tlead\"" },
        { "trail ", 6, "\"trail \"" },
        { "in side", 7, "in side" },
        { "a\tb\x7f\xff", 5, "a\tb\x7f\xff" },
        { "=1+1", 4, "=1+1" },
    };
    static const char *const f[] = { "header:X", "status" };
    hscan_header_t h;
    hscan_result_t r;
    char want[64];
    size_t i;

    empty_result(&r);
    r.headers = &h;
    r.n_headers = 1;
    r.status = 204;
    h.name = "X";
    h.name_len = 1;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h.value = cases[i].in;
        h.value_len = cases[i].len;
        snprintf(want, sizeof(want), "%s,204\r\n", cases[i].out);
        CHECK_STR(csv(&r, f, 2), want);
    }
}

TEST(csv_bad_name_and_truncation)
{
    static const char *const bad[] = { "status", "nope" };
    static const char *const f[] = { "status", "server" };
    hscan_result_t r;
    hscan_tls_t t;
    hscan_audit_t a;
    hscan_hop_t hop;
    char out[64];
    const char *want = "200,\"nginx/1.2, \"\"edge\"\"\"\r\n";
    size_t n = strlen(want), i;

    full_result(&r, &t, &a, &hop);
    memset(out, 'z', sizeof(out));
    CHECK_INT(hscan_result_to_csv(&r, bad, 2, out, sizeof(out)), 0);
    CHECK_INT(hscan_result_to_csv(NULL, bad, 2, out, sizeof(out)), 0);
    CHECK(out[0] == 'z');
    CHECK_INT(hscan_result_to_csv(&r, f, 2, NULL, 0), n);
    /* every size from 1 to the exact fit: a prefix, NUL-terminated */
    for (i = 1; i <= n + 1; i++) {
        memset(out, 'z', sizeof(out));
        CHECK_INT(hscan_result_to_csv(&r, f, 2, out, i), n);
        CHECK_INT(strlen(out), i - 1);
        CHECK(memcmp(out, want, i - 1) == 0);
        CHECK(out[i] == 'z');
    }
}
