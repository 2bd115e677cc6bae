/* Unit tests of hscan_config_check() and hscan_target_opts_check():
 * every rule names its member and says why, the out-parameters are
 * written only on failure, the detail is bounded and escaped, and
 * hscan_new() refuses exactly what the check refuses (it creates
 * nothing for a refused config, so no server is needed). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "test-runner.h"

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)r;
    (void)arg;
}

static void base(hscan_config_t *cfg)
{
    hscan_config_init(cfg);
    cfg->on_result = on_result;
}

/* `cfg` is refused, naming `field`, with a detail starting `lead`;
 * hscan_new() refuses it too and leaves *out alone. */
static void refused(const hscan_config_t *cfg, const char *field,
                    const char *lead)
{
    hscan_t *const sentinel = (hscan_t *)(uintptr_t)0x5ca9;
    hscan_t *out = sentinel;
    const char *got = "untouched";
    char detail[512];
    uv_loop_t loop;

    detail[0] = '\0';
    CHECK_INT(hscan_config_check(cfg, &got, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(got, field);
    if (strncmp(detail, lead, strlen(lead)) != 0)
        fprintf(stderr, "  %s: detail \"%s\"\n", field, detail);
    CHECK(strncmp(detail, lead, strlen(lead)) == 0);
    CHECK(strlen(detail) > strlen(lead));   /* and says why */
    CHECK(uv_loop_init(&loop) == 0);
    CHECK_INT(hscan_new(&out, &loop, cfg), HSCAN_EINVAL);
    CHECK(out == sentinel);
    CHECK(uv_loop_close(&loop) == 0);
}

static void accepted(const hscan_config_t *cfg)
{
    const char *field = "untouched";
    char detail[16] = "untouched";

    CHECK_INT(hscan_config_check(cfg, &field, detail, sizeof(detail)), 0);
    CHECK_STR(field, "untouched");
    CHECK_STR(detail, "untouched");
}

TEST(config_each_field_named)
{
    static const char *const no_colon[] = { "X-A 1" };
    static const char *const lead_colon[] = { ": 1" };
    static const char *const crlf[] = { "X-A: 1", "X-B: 1\r\nX-C: 2" };
    static const char *const null_line[] = { "X-A: 1", NULL };
    hscan_config_t c;

    base(&c); c.concurrency = 0; refused(&c, "concurrency", "0:");
    base(&c); c.concurrency = 1000001;
    refused(&c, "concurrency", "1000001:");
    base(&c); c.timeout_ms = 0; refused(&c, "timeout_ms", "0:");
    base(&c); c.dns_timeout_ms = 0; refused(&c, "dns_timeout_ms", "0:");
    base(&c); c.connect_timeout_ms = 0;
    refused(&c, "connect_timeout_ms", "0:");
    base(&c); c.read_timeout_ms = 0; refused(&c, "read_timeout_ms", "0:");
    base(&c); c.method = "G T"; refused(&c, "method", "'G T':");
    base(&c); c.method = ""; refused(&c, "method", "'':");
    base(&c); c.path = "x"; refused(&c, "path", "'x':");
    base(&c); c.path = "/a b"; refused(&c, "path", "'/a b':");
    base(&c); c.user_agent = "a\r\nX-Evil: 1";
    refused(&c, "user_agent", "'a\\r\\nX-Evil: 1':");
    base(&c); c.n_headers = 1; refused(&c, "headers", "NULL:");
    base(&c); c.headers = null_line; c.n_headers = 2;
    refused(&c, "headers", "NULL:");
    base(&c); c.headers = no_colon; c.n_headers = 1;
    refused(&c, "headers", "'X-A 1':");
    base(&c); c.headers = lead_colon; c.n_headers = 1;
    refused(&c, "headers", "': 1':");
    base(&c); c.headers = crlf; c.n_headers = 2;
    refused(&c, "headers", "'X-B: 1\\r\\nX-C: 2':");
    base(&c); c.family = 5; refused(&c, "family", "5:");
    base(&c); c.family = -1; refused(&c, "family", "-1:");
    base(&c); c.max_header_bytes = 63;
    refused(&c, "max_header_bytes", "63:");
    base(&c); c.max_headers = 0; refused(&c, "max_headers", "0:");
    base(&c); c.scheme = -1; refused(&c, "scheme", "-1:");
    base(&c); c.scheme = HSCAN_SCHEME_BOTH + 1; refused(&c, "scheme", "4:");
    base(&c); c.follow = 101; refused(&c, "follow", "101:");
    base(&c); c.tls_timeout_ms = 0; refused(&c, "tls_timeout_ms", "0:");
    base(&c); c.body_bytes = (16u << 20) + 1;
    refused(&c, "body_bytes", "16777217:");
    base(&c); c.body_keep = 2; refused(&c, "body_keep", "2:");
    base(&c); c.body_keep = -1; refused(&c, "body_keep", "-1:");
    base(&c); c.shard_count = 3; c.shard_index = 3;
    refused(&c, "shard_index", "3:");
    base(&c); c.on_result = NULL; refused(&c, "on_result", "NULL:");
}

TEST(config_limits_accepted)
{
    static const char *const hdrs[] = { "X-A: 1", "Accept:", "X-B:x" };
    hscan_config_t c;

    base(&c); accepted(&c);
    base(&c); c.concurrency = 1000000; c.follow = 100;
    c.max_header_bytes = 64; c.max_headers = 1; accepted(&c);
    base(&c); c.body_keep = 0; accepted(&c);
    base(&c); c.body_bytes = 16u << 20; c.family = 6;
    c.scheme = HSCAN_SCHEME_BOTH; accepted(&c);
    base(&c); c.method = NULL; c.path = NULL; c.user_agent = NULL;
    accepted(&c);
    base(&c); c.method = "M-SEARCH"; c.path = "/a?b=c";
    c.user_agent = "x y"; c.headers = hdrs; c.n_headers = 3; accepted(&c);
    /* no sharding: the index is not looked at (as before) */
    base(&c); c.shard_count = 1; c.shard_index = 5; accepted(&c);
    base(&c); c.shard_count = 3; c.shard_index = 2; accepted(&c);
    /* tried by hscan_new() only */
    base(&c); c.resolvers = "not an address"; c.ca_file = "/nonexistent";
    accepted(&c);
}

TEST(config_report_shape)
{
    hscan_config_t c;
    const char *field = "untouched";
    char small[8], detail[512], long_ua[300];

    /* the first member at fault, in declaration order */
    base(&c);
    c.on_result = NULL;
    c.follow = 500;
    c.concurrency = 0;
    CHECK_INT(hscan_config_check(&c, &field, NULL, 0), HSCAN_EINVAL);
    CHECK_STR(field, "concurrency");
    c.concurrency = 1;
    CHECK_INT(hscan_config_check(&c, &field, NULL, 0), HSCAN_EINVAL);
    CHECK_STR(field, "follow");
    /* either out-parameter may be NULL */
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), HSCAN_EINVAL);
    CHECK_INT(hscan_config_check(&c, NULL, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(detail, "500: must be at most 100");
    /* cut to fit, NUL-terminated; size 0 writes nothing */
    memset(small, 'x', sizeof(small));
    CHECK_INT(hscan_config_check(&c, NULL, small, 0), HSCAN_EINVAL);
    CHECK(small[0] == 'x');
    CHECK_INT(hscan_config_check(&c, NULL, small, sizeof(small)),
              HSCAN_EINVAL);
    CHECK_STR(small, "500: mu");
    /* a long value is cut at 64 bytes; its control bytes escaped */
    memset(long_ua, 'a', sizeof(long_ua) - 1);
    long_ua[sizeof(long_ua) - 1] = '\0';
    long_ua[1] = '\n';
    long_ua[2] = '\001';
    base(&c);
    c.user_agent = long_ua;
    CHECK_INT(hscan_config_check(&c, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "user_agent");
    CHECK(strncmp(detail, "'a\\n\\x01aaa", 11) == 0);
    CHECK(strstr(detail, "'...: holds CR or LF") != NULL);
    CHECK(strlen(detail) < 100);
    /* no config at all: no member to name */
    field = "untouched";
    CHECK_INT(hscan_config_check(NULL, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK(field == NULL);
    CHECK(detail[0] != '\0');
}

TEST(config_target_opts)
{
    static const char *const bad[] = { "X-A: 1", "no colon" };
    static const char *const good[] = { "Authorization: x", "Accept:" };
    hscan_target_opts_t o;
    const char *field = "untouched";
    char detail[512] = "untouched";

    CHECK_INT(hscan_target_opts_check(NULL, &field, detail,
                                      sizeof(detail)), 0);
    hscan_target_opts_init(&o);
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              0);
    o.method = "HEAD";
    o.path = "/healthz";
    o.headers = good;
    o.n_headers = 2;
    o.timeout_ms = 1;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              0);
    CHECK_STR(field, "untouched");
    CHECK_STR(detail, "untouched");
    o.method = "HE AD";
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "method");
    o.method = NULL;
    o.path = "healthz";
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "path");
    o.path = NULL;
    o.headers = bad;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "headers");
    CHECK(strncmp(detail, "'no colon':", 11) == 0);
    o.headers = NULL;
    CHECK_INT(hscan_target_opts_check(&o, &field, NULL, 0), HSCAN_EINVAL);
    CHECK_STR(field, "headers");
}

/* ---- address family preference ---- */

TEST(config_prefer_family)
{
    hscan_config_t c;

    base(&c); CHECK_INT(c.prefer_family, 0);
    CHECK_INT(c.attempt_delay_ms, 250);
    base(&c); c.prefer_family = 5; refused(&c, "prefer_family", "5:");
    base(&c); c.prefer_family = 6; c.family = 4;
    refused(&c, "prefer_family", "6:");
    base(&c); c.prefer_family = 4; c.family = 6;
    refused(&c, "prefer_family", "4:");
    base(&c); c.attempt_delay_ms = 9;
    refused(&c, "attempt_delay_ms", "9:");
    base(&c); c.attempt_delay_ms = 2001;
    refused(&c, "attempt_delay_ms", "2001:");
    base(&c); c.prefer_family = 6; c.family = 6; accepted(&c);
    base(&c); c.prefer_family = 4; c.attempt_delay_ms = 10; accepted(&c);
    base(&c); c.prefer_family = 6; c.attempt_delay_ms = 2000; accepted(&c);
}

/* ---- client TLS options ---- */

TEST(config_tls_opts)
{
    hscan_config_t c;
    hscan_target_opts_t o;
    const char *field = "untouched";
    char detail[256];

    base(&c); c.sni = "a.test"; accepted(&c);
    base(&c); c.no_sni = 1; accepted(&c);
    base(&c); c.sni = ""; refused(&c, "sni", "'':");
    base(&c); c.sni = "a b"; refused(&c, "sni", "'a b':");
    base(&c); c.sni = "10.0.0.1"; refused(&c, "sni", "'10.0.0.1':");
    base(&c); c.sni = "::1"; refused(&c, "sni", "'::1':");
    base(&c); c.sni = "a.test"; c.no_sni = 1; refused(&c, "no_sni", "1:");
    base(&c); c.no_sni = 2; refused(&c, "no_sni", "2:");
    base(&c); c.tls_min = HSCAN_TLS_1_2; c.tls_max = HSCAN_TLS_1_3;
    accepted(&c);
    base(&c); c.tls_min = c.tls_max = HSCAN_TLS_1_3; accepted(&c);
    base(&c); c.tls_min = 14; refused(&c, "tls_min", "14:");
    base(&c); c.tls_max = 9; refused(&c, "tls_max", "9:");
    base(&c); c.tls_min = HSCAN_TLS_1_3; c.tls_max = HSCAN_TLS_1_2;
    refused(&c, "tls_max", "12 (TLS 1.2):");
    base(&c); c.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:HIGH";
    c.ciphersuites = "TLS_AES_128_GCM_SHA256"; c.curves = "X25519:P-256";
    accepted(&c);
    /* TLS 1.3 names are no TLS 1.2 cipher list */
    base(&c); c.ciphers = "TLS_AES_128_GCM_SHA256";
    refused(&c, "ciphers", "'TLS_AES_128_GCM_SHA256':");
    base(&c); c.ciphersuites = "AES128-SHA";
    refused(&c, "ciphersuites", "'AES128-SHA':");
    base(&c); c.curves = "P-999"; refused(&c, "curves", "'P-999':");
    base(&c); c.key_file = "k.pem"; refused(&c, "key_file", "'k.pem':");
    base(&c); c.cert_file = "/nonexistent/c.pem";
    refused(&c, "cert_file", "'/nonexistent/c.pem':");

    hscan_target_opts_init(&o);
    o.sni = "b.test";
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              0);
    o.no_sni = 1;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "no_sni");
    o.sni = "127.0.0.1";
    o.no_sni = 0;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "sni");
    CHECK(strstr(detail, "RFC 6066") != NULL);
}

/* cfg.hash, cfg.favicon, cfg.favicon_bytes. */
TEST(config_hash_favicon)
{
    hscan_config_t c;

    base(&c); c.hash = 8; refused(&c, "hash", "0x8:");
    base(&c); c.hash = HSCAN_HASH_MD5 | 16; refused(&c, "hash", "0x12:");
    base(&c); c.favicon = 2; refused(&c, "favicon", "2:");
    base(&c); c.favicon_bytes = (16u << 20) + 1;
    refused(&c, "favicon_bytes", "16777217:");
    base(&c); c.hash = HSCAN_HASH_SHA256 | HSCAN_HASH_MD5 | HSCAN_HASH_MMH3;
    c.favicon = 1; c.favicon_bytes = 16u << 20; accepted(&c);
    base(&c); c.hash = HSCAN_HASH_MMH3; accepted(&c);
}
