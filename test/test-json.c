/* JSON escaping and the record layout.  Every record must parse as JSON
 * whatever the bytes; invalid UTF-8 becomes \u00XX per byte. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "result.h"
#include "util.h"
#include "utf8.h"
#include "test-runner.h"
#include "utf8-oracle.h"

static const char *esc(const char *s, size_t n)
{
    static char out[4096];
    struct hscan__sb j = { out, sizeof(out) - 1, 0 };
    hscan__json_str(&j, s, n);
    CHECK(j.len < sizeof(out));
    out[j.len] = '\0';
    return out;
}

TEST(escape_basic)
{
    CHECK_STR(esc("abc", 3), "\"abc\"");
    CHECK_STR(esc("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    CHECK_STR(esc("\n\r\t", 3), "\"\\n\\r\\t\"");
    CHECK_STR(esc("a\0b", 3), "\"a\\u0000b\"");
    CHECK_STR(esc("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"");
    CHECK_STR(esc("", 0), "\"\"");
}

TEST(escape_utf8)
{
    /* valid sequences pass through */
    CHECK_STR(esc("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"");
    CHECK_STR(esc("\xe2\x82\xac", 3), "\"\xe2\x82\xac\"");
    CHECK_STR(esc("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"");
    /* invalid: lone bytes, truncated, overlong, surrogate, > U+10FFFF */
    CHECK_STR(esc("\xff", 1), "\"\\u00ff\"");
    CHECK_STR(esc("\xc3", 1), "\"\\u00c3\"");
    CHECK_STR(esc("\xc0\xaf", 2), "\"\\u00c0\\u00af\"");
    CHECK_STR(esc("\xe0\x80\xaf", 3), "\"\\u00e0\\u0080\\u00af\"");
    CHECK_STR(esc("\xed\xa0\x80", 3), "\"\\u00ed\\u00a0\\u0080\"");
    CHECK_STR(esc("\xf4\x90\x80\x80", 4),
              "\"\\u00f4\\u0090\\u0080\\u0080\"");
    CHECK_STR(esc("\xe2\x82", 2), "\"\\u00e2\\u0082\"");
    CHECK_STR(esc("a\xc3\xa9\xff" "b", 5), "\"a\xc3\xa9\\u00ffb\"");
}

/* The decoder shared with the CLI's table output: lengths and code
 * points at the edges of each form, and what it must refuse. */
TEST(utf8_seq_code_points)
{
    static const struct {
        const char *s;
        size_t n, len;
        uint32_t cp;
    } cases[] = {
        { "\xc2\x80", 2, 2, 0x80 }, { "\xc3\xa9", 2, 2, 0xe9 },
        { "\xdf\xbf", 2, 2, 0x7ff }, { "\xe0\xa0\x80", 3, 3, 0x800 },
        { "\xe2\x82\xac", 3, 3, 0x20ac }, { "\xed\x9f\xbf", 3, 3, 0xd7ff },
        { "\xee\x80\x80", 3, 3, 0xe000 }, { "\xef\xbf\xbf", 3, 3, 0xffff },
        { "\xf0\x90\x80\x80", 4, 4, 0x10000 },
        { "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
        { "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
        /* ASCII, continuation bytes, overlongs, surrogates, past
         * U+10FFFF, bytes that never start a sequence, cut short */
        { "a", 1, 0, 0 }, { "\x80", 1, 0, 0 }, { "\xc0\xaf", 2, 0, 0 },
        { "\xc1\xbf", 2, 0, 0 }, { "\xe0\x9f\xbf", 3, 0, 0 },
        { "\xed\xa0\x80", 3, 0, 0 }, { "\xed\xbf\xbf", 3, 0, 0 },
        { "\xf0\x8f\xbf\xbf", 4, 0, 0 }, { "\xf4\x90\x80\x80", 4, 0, 0 },
        { "\xf5\x80\x80\x80", 4, 0, 0 }, { "\xff", 1, 0, 0 },
        { "\xe2\x82", 2, 0, 0 }, { "\xf0\x9f\x98", 3, 0, 0 },
        { "\xc3\x28", 2, 0, 0 }, { "\xe2\x28\xac", 3, 0, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t cp = 0xffffffff;
        size_t k = hscan__utf8_seq((const unsigned char *)cases[i].s,
                                   cases[i].n, &cp);
        CHECK_INT(k, cases[i].len);
        if (k)
            CHECK_INT(cp, cases[i].cp);
        CHECK_INT(hscan__utf8_seq((const unsigned char *)cases[i].s,
                                  cases[i].n, NULL), cases[i].len);
    }
}

/* The library's decoder against the tests' own (test/utf8-oracle.h,
 * written differently): every first and second byte, the third and
 * fourth from the edges of the continuation range, every length cut. */
TEST(utf8_seq_matches_oracle)
{
    static const unsigned char edge[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
                                          0x9f, 0xa0, 0xbf, 0xc0, 0xff };
    const size_t ne = sizeof(edge);
    unsigned a, b, c, d, n, bad = 0;

    for (a = 0x80; a < 0x100; a++)
        for (b = 0; b < 0x100; b++)
            for (c = 0; c < ne; c++)
                for (d = 0; d < ne; d++)
                    for (n = 2; n <= 4; n++) {
                        unsigned char s[4] = { (unsigned char)a,
                                               (unsigned char)b, edge[c],
                                               edge[d] };
                        if (hscan__utf8_seq(s, n, NULL) !=
                            oracle_utf8_len(s, n) && bad++ < 5)
                            fprintf(stderr, "  %02x %02x %02x %02x /%u\n",
                                    a, b, edge[c], edge[d], n);
                    }
    CHECK_INT(bad, 0);
}

TEST(escape_every_byte_is_valid_json)
{
    /* All 256 byte values in one string: the output must contain no raw
     * control byte and no byte >= 0x80 outside a valid UTF-8 sequence. */
    char in[256];
    const unsigned char *o;
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    o = (const unsigned char *)esc(in, sizeof(in));
    for (; *o; o++) {
        CHECK(*o >= 0x20 && *o < 0x80);
    }
}

TEST(record_layout_and_truncation)
{
    static const char *const anomalies[] = { "bare_lf", "obs_fold" };
    static const int interim[] = { 103 };
    hscan_header_t h[2] = { { "Server", 6, "x\x01y", 3 },
                            { "X-Dup", 5, "", 0 } };
    const char *addrs[] = { "127.0.0.1" };
    hscan_result_t r;
    char small[16], big[2048];
    size_t need;

    memset(&r, 0, sizeof(r));
    r.input = "example.com";
    r.input_len = 11;
    r.url = "http://example.com/";
    r.scheme = "http";
    r.host = "example.com";
    r.ip = "127.0.0.1";
    r.port = 80;
    r.status = 200;
    r.reason = "OK";
    r.reason_len = 2;
    r.http_major = 1;
    r.http_minor = 1;
    r.headers = h;
    r.n_headers = 2;
    r.anomalies = anomalies;
    r.n_anomalies = 2;
    r.interim = interim;
    r.n_interim = 1;
    r.headers_complete = 1;
    r.addresses = addrs;
    r.n_addresses = 1;
    r.dns_ms = 1.5;
    r.connect_ms = 0.25;
    r.tls_ms = -1;
    r.ttfb_ms = 2;
    r.total_ms = 4;
    r.proxy_ms = -1;
    r.attempts = 1;
    r.content_length = -1;
    need = hscan_result_to_json(&r, big, sizeof(big));
    CHECK(need < sizeof(big));
    CHECK_INT(strlen(big), need);
    CHECK_STR(big,
        "{\"schema\":2,\"input\":\"example.com\","
        "\"url\":\"http://example.com/\",\"scheme\":\"http\","
        "\"host\":\"example.com\",\"ip\":\"127.0.0.1\",\"port\":80,"
        "\"status\":200,\"reason\":\"OK\",\"http_version\":\"HTTP/1.1\","
        "\"headers\":[[\"Server\",\"x\\u0001y\"],[\"X-Dup\",\"\"]],"
        "\"anomalies\":[\"bare_lf\",\"obs_fold\"],\"interim\":[103],"
        "\"headers_complete\":true,"
        "\"dns\":{\"addresses\":[\"127.0.0.1\"],\"cname\":[]},"
        "\"content_type\":null,\"content_length\":null,\"title\":null,"
        "\"body\":null,\"audit\":null,"
        "\"redirects\":[],\"tls\":null,\"timing_ms\":{\"dns\":1.500,"
        "\"connect\":0.250,\"tls\":null,\"ttfb\":2.000,\"total\":4.000,"
        "\"proxy\":null},"
        "\"error\":null,\"error_detail\":null,\"fallback\":null,"
        "\"h2\":null,\"proxy\":null,\"attempts\":1}");
    /* snprintf semantics: same length reported, NUL-terminated prefix */
    CHECK_INT(hscan_result_to_json(&r, small, sizeof(small)), need);
    CHECK_INT(strlen(small), sizeof(small) - 1);
    CHECK(memcmp(small, big, sizeof(small) - 1) == 0);
    CHECK_INT(hscan_result_to_json(&r, NULL, 0), need);
    /* a unit of a path list: "path" last, escaped like any string */
    r.path = "/a\"b";
    need = hscan_result_to_json(&r, big, sizeof(big));
    CHECK(need < sizeof(big));
    {
        const char *end = "\"h2\":null,\"proxy\":null,\"attempts\":1,"
                          "\"path\":\"/a\\\"b\"}";
        CHECK(strlen(big) > strlen(end) &&
              strcmp(big + strlen(big) - strlen(end), end) == 0);
    }
}

/* cfg.body_bytes facts: content type and length, title, body; and
 * the extractors' values. */
TEST(record_body_fields)
{
    static const char want[] =
        "\"content_type\":\"text/html; charset=\\\"utf-8\\\"\","
        "\"content_length\":1234,"
        "\"title\":\"A \\\"t\xc3\xa9st\\\" \\u0001\","
        "\"body\":{\"bytes\":6,\"truncated\":true,"
        "\"sha256\":\"00ff\",\"words\":1,\"lines\":1},\"audit\":null,"
        "\"redirects\"";
    static const hscan_extract_t ex[] = {
        { "v", "1.2", 3 }, { "extract_2", "x", 1 }, { "v", "a\0b", 3 },
    };
    hscan_result_t r;
    char buf[2048];
    const char *p;

    memset(&r, 0, sizeof(r));
    r.input = "x";
    r.input_len = 1;
    r.status = 200;
    r.http_major = r.http_minor = 1;
    r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = r.total_ms = -1;
    r.proxy_ms = -1;
    r.content_type = "text/html; charset=\"utf-8\"";
    r.content_type_len = strlen(r.content_type);
    r.content_length = 1234;
    r.title = "A \"t\xc3\xa9st\" \x01";
    r.title_len = strlen(r.title);
    r.body = "<html>";
    r.body_len = 6;
    r.body_truncated = 1;
    r.body_sha256 = "00ff";
    r.body_words = r.body_lines = 1;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    p = strstr(buf, "\"content_type\"");
    CHECK(p != NULL);
    CHECK(strncmp(p, want, strlen(want)) == 0);
    /* "extracts" after "body", each key once with its values in order */
    r.extracts = ex;
    r.n_extracts = 3;
    r.extracts_truncated = 1;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, "\"sha256\":\"00ff\",\"words\":1,\"lines\":1},"
                      "\"extracts\":{\"values\":{\"v\":[\"1.2\",\"a\\u0000b\"],"
                      "\"extract_2\":[\"x\"]},\"truncated\":true},"
                      "\"audit\":null") != NULL);
}

/* cfg.compressed: wire_bytes, encoding and decode right after sha256,
 * null where there was nothing; absent without body_decoding. */
TEST(record_body_decoding)
{
    hscan_result_t r;
    char buf[2048];

    memset(&r, 0, sizeof(r));
    r.input = "x";
    r.input_len = 1;
    r.status = 200;
    r.http_major = r.http_minor = 1;
    r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = r.total_ms = -1;
    r.proxy_ms = -1;
    r.body_len = 1048576;
    r.body_truncated = 1;
    r.body_sha256 = "00ff";
    r.body_decoding = 1;
    r.body_wire_len = 1043;
    r.body_encoding = "gzip, br";
    r.body_decode = "decoded_limit";
    r.body_words = 3;
    r.body_lines = 2;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, "\"body\":{\"bytes\":1048576,\"truncated\":true,"
                      "\"sha256\":\"00ff\",\"wire_bytes\":1043,"
                      "\"encoding\":\"gzip, br\","
                      "\"decode\":\"decoded_limit\",\"words\":3,"
                      "\"lines\":2},") != NULL);
    r.body_encoding = r.body_decode = NULL;
    r.body_wire_len = 10;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, "\"sha256\":\"00ff\",\"wire_bytes\":10,"
                      "\"encoding\":null,\"decode\":null,\"words\":3,")
          != NULL);
    r.body_decoding = 0;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, "\"sha256\":\"00ff\",\"words\":3,\"lines\":2},")
          != NULL);
    CHECK(strstr(buf, "wire_bytes") == NULL);
}

/* cfg.hash and cfg.favicon: "md5" and "mmh3" after "sha256" (null
 * when left out), "favicon" after "body" with every member in order. */
TEST(record_hashes_favicon)
{
    static const char body[] =
        "\"body\":{\"bytes\":3,\"truncated\":false,\"sha256\":null,"
        "\"words\":1,\"lines\":1,\"md5\":\"ab\",\"mmh3\":-2147483648},\"favicon\":{\"url\":"
        "\"http://x/favicon.ico\",\"status\":404,\"bytes\":10,"
        "\"truncated\":false,\"sha256\":null,\"md5\":null,\"mmh3\":null,"
        "\"ms\":1.500,\"error\":null,\"error_detail\":null},\"audit\":";
    static const char failed[] =
        "\"body\":null,\"favicon\":{\"url\":\"u\",\"status\":null,"
        "\"bytes\":0,\"truncated\":false,\"sha256\":null,\"md5\":null,"
        "\"mmh3\":null,\"ms\":2.000,\"error\":\"read_timeout\","
        "\"error_detail\":\"d\"},\"audit\":";
    static const char whole[] =
        "\"favicon\":{\"url\":\"data:\",\"status\":null,\"bytes\":1,"
        "\"truncated\":false,\"sha256\":\"s\",\"md5\":\"m\","
        "\"mmh3\":7,\"ms\":0.000,";
    hscan_favicon_t f;
    hscan_result_t r;
    char buf[4096];

    memset(&r, 0, sizeof(r));
    r.input = "x";
    r.input_len = 1;
    r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = r.total_ms = -1;
    r.proxy_ms = -1;
    r.status = 200;
    r.body_len = 3;
    r.body_words = r.body_lines = 1;
    r.body_md5 = "ab";
    r.has_body_mmh3 = 1;
    r.body_mmh3 = INT32_MIN;
    memset(&f, 0, sizeof(f));
    f.url = "http://x/favicon.ico";
    f.status = 404;
    f.bytes = 10;
    f.ms = 1.5;
    r.favicon = &f;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, body) != NULL);
    /* no hashes asked for beyond the default: no md5, no mmh3 */
    r.body_md5 = NULL;
    r.has_body_mmh3 = 0;
    r.body_sha256 = "00";
    r.favicon = NULL;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, "\"sha256\":\"00\",\"words\":1,\"lines\":1},"
                      "\"audit\":") != NULL);
    CHECK(strstr(buf, "favicon") == NULL);
    /* an icon that failed: its error, the record's none */
    r.body_sha256 = NULL;
    memset(&f, 0, sizeof(f));
    f.url = "u";
    f.ms = 2;
    f.error = HSCAN_EREAD_TIMEOUT;
    f.error_detail = "d";
    r.favicon = &f;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, failed) != NULL);
    CHECK(strstr(buf, "\"error\":null,\"error_detail\":null,") != NULL);
    /* a whole icon */
    memset(&f, 0, sizeof(f));
    f.url = "data:";
    f.bytes = 1;
    f.sha256 = "s";
    f.md5 = "m";
    f.has_mmh3 = 1;
    f.mmh3 = 7;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, whole) != NULL);
}

/* tls.ocsp and tls.scts: null and [] when nothing came, then every
 * member in the documented order. */
TEST(record_tls_ocsp_scts)
{
    static const hscan_tls_sct_t scts[] = {
        { "x509", "AQID", "2023-11-14T22:13:20.123Z" },
        { "tls", NULL, NULL },
    };
    static const char none[] = "\"earliest_days_left\":null,\"ocsp\":null,"
                               "\"scts\":[],\"sct_count\":0}";
    static const char some[] =
        "\"earliest_days_left\":null,\"ocsp\":{\"status\":\"revoked\","
        "\"revoked_at\":\"2024-01-01T00:00:00Z\","
        "\"reason\":\"keyCompromise\","
        "\"this_update\":\"2026-01-01T00:00:00Z\",\"next_update\":null,"
        "\"verified\":false,\"error\":\"signature does not verify\"},"
        "\"scts\":[{\"source\":\"x509\",\"log_id\":\"AQID\","
        "\"timestamp\":\"2023-11-14T22:13:20.123Z\"},"
        "{\"source\":\"tls\",\"log_id\":null,\"timestamp\":null}],"
        "\"sct_count\":3}";
    hscan_result_t r;
    hscan_tls_t t;
    char buf[4096];

    memset(&r, 0, sizeof(r));
    memset(&t, 0, sizeof(t));
    r.input = "x";
    r.input_len = 1;
    r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = r.total_ms = -1;
    r.proxy_ms = -1;
    t.alert_code = -1;
    r.tls = &t;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, none) != NULL);
    t.ocsp.stapled = 1;
    t.ocsp.status = "revoked";
    t.ocsp.revoked_at = "2024-01-01T00:00:00Z";
    t.ocsp.reason = "keyCompromise";
    t.ocsp.this_update = "2026-01-01T00:00:00Z";
    t.ocsp.error = "signature does not verify";
    t.scts = scts;
    t.n_scts = 2;
    t.n_scts_total = 3;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    if (!strstr(buf, some))
        fprintf(stderr, "  %s\n", buf);
    CHECK(strstr(buf, some) != NULL);
}

/* hscan__ms3(), the timing_ms form of JSON records and text fields. */
static const char *ms3(double ms, char *t)
{
    size_t n = hscan__ms3(t, ms);

    CHECK(n < HSCAN__MS_SIZE);
    t[n] = '\0';
    return t;
}

/* The tls object's handshake parameters, after "alert": present
 * (numbers in the order sent) and absent (nulls, an empty list). */
TEST(record_tls_handshake_fields)
{
    static const unsigned short ext[] = { 65281, 0, 35 };
    static const char want[] =
        "\"alert\":null,\"group\":\"x25519\","
        "\"sigalg\":\"rsa_pss_rsae_sha256\",\"ticket\":true,"
        "\"hello_retry\":false,\"extensions\":[65281,0,35],"
        "\"ja3s\":\"00447ab319e9d94ba2b4c1248e155917\","
        "\"ja4s\":\"t1206h1_c02f_17136cd5846b\","
        "\"earliest_not_after\":null,\"earliest_days_left\":null,";
    hscan_result_t r;
    hscan_tls_t t;
    char buf[2048];
    const char *p;

    memset(&r, 0, sizeof(r));
    memset(&t, 0, sizeof(t));
    r.input = "x";
    r.input_len = 1;
    r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = r.total_ms = -1;
    r.proxy_ms = -1;
    r.tls = &t;
    t.verify_code = -1;
    t.alert_code = -1;
    t.group = "x25519";
    t.sigalg = "rsa_pss_rsae_sha256";
    t.ticket = 1;
    t.extensions = ext;
    t.n_extensions = 3;
    t.ja3s = "00447ab319e9d94ba2b4c1248e155917";
    t.ja4s = "t1206h1_c02f_17136cd5846b";
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    p = strstr(buf, "\"alert\":null,");
    CHECK(p != NULL);
    CHECK(strncmp(p, want, strlen(want)) == 0);
    memset(&t, 0, sizeof(t));
    t.verify_code = t.alert_code = -1;
    t.hello_retry = 1;
    CHECK(hscan_result_to_json(&r, buf, sizeof(buf)) < sizeof(buf));
    CHECK(strstr(buf, "\"alert\":null,\"group\":null,\"sigalg\":null,"
                      "\"ticket\":false,\"hello_retry\":true,"
                      "\"extensions\":[],\"ja3s\":null,\"ja4s\":null,"
                      "\"earliest_not_after\":null,"
                      "\"earliest_days_left\":null,")
          != NULL);
}

TEST(ms3_forms)
{
    char t[HSCAN__MS_SIZE];

    CHECK_STR(ms3(0, t), "0.000");
    CHECK_STR(ms3(0.25, t), "0.250");
    CHECK_STR(ms3(0.0004, t), "0.000");
    CHECK_STR(ms3(0.0006, t), "0.001");
    CHECK_STR(ms3(123.456, t), "123.456");
    CHECK_STR(ms3(1500, t), "1500.000");
    CHECK_STR(ms3(999999999999.0, t), "999999999999.000");
    CHECK_STR(ms3(2e12, t), "2000000000000");
    CHECK_STR(ms3(1e300, t), "1.0000000000000001e+300");
    CHECK_STR(ms3(-1, t), "");
    CHECK_STR(ms3(-0.0, t), "0.000");
    CHECK_STR(ms3(HUGE_VAL, t), "");
    CHECK_STR(ms3(NAN, t), "");
}

TEST(error_names)
{
    CHECK_STR(hscan_err_name(0), "ok");
    CHECK_STR(hscan_err_name(HSCAN_EDNS_NXDOMAIN), "dns_nxdomain");
    CHECK_STR(hscan_err_name(HSCAN_EHEADER_TOO_LARGE), "header_too_large");
    CHECK_STR(hscan_err_name(HSCAN_ERESOURCE_EXHAUSTED),
              "resource_exhausted");
    CHECK_STR(hscan_err_name(-9999), "unknown_error");
    CHECK_STR(hscan_strerror(-9999), "unknown error");
    CHECK_STR(hscan_strerror(HSCAN_ECANCELED),
              "scan closed before the target finished");
}
