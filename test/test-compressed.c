/* cfg.compressed through the library against the loopback test server's
 * content-coded pages (/ce/NAME, server-coded.c): the kept bytes, title
 * and digest are of the decoded page, the decoding facts in the view,
 * the per-target override both ways, and the config checks.  Without a
 * decoder built in, only the refusal is tested.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

static int built(void)
{
    return strstr(hscan_features(), "zlib") != NULL;
}

TEST(compressed_config_checked)
{
    hscan_config_t c;
    hscan_target_opts_t o;
    const char *field = NULL;
    char detail[256] = "";

    hscan_config_init(&c);
    c.on_result = (hscan_result_cb)1;
    c.compressed = 2;
    CHECK_INT(hscan_config_check(&c, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "compressed");
    c.compressed = -1;              /* only a target may say "not" */
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0), HSCAN_EINVAL);
    c.compressed = 1;
    CHECK_INT(hscan_config_check(&c, NULL, NULL, 0),
              *hscan_features() && (strstr(hscan_features(), "zlib") ||
                                    strstr(hscan_features(), "brotli"))
                  ? 0 : HSCAN_EINVAL);
    hscan_target_opts_init(&o);
    CHECK_INT(o.compressed, 0);
    o.compressed = -1;
    CHECK_INT(hscan_target_opts_check(&o, NULL, NULL, 0), 0);
    o.compressed = 3;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "compressed");
}

/* The scanner decodes; one target says not; one coded body is kept
 * decoded (body_keep), another is a bomb ending at body_bytes. */
TEST_T(compressed_scan, 60)
{
    static char lines[4][96];
    static const char *lp[4];
    static hscan_target_opts_t off;
    static const hscan_target_opts_t *opts[4];
    char page[8192], want[65], raw_sha[65];
    size_t n = tsrv_coded_page(page, sizeof(page));
    struct env e;
    struct rec *r;
    unsigned i;

    if (!built())
        return;             /* not built in */
    env_init(&e);
    snprintf(lines[0], sizeof(lines[0]), "http://127.0.0.1:%d/ce/gzchunked",
             e.hport);
    snprintf(lines[1], sizeof(lines[1]), "http://127.0.0.1:%d/ce/deflate",
             e.hport);
    snprintf(lines[2], sizeof(lines[2]), "http://127.0.0.1:%d/ce/gzip",
             e.hport);
    snprintf(lines[3], sizeof(lines[3]), "http://127.0.0.1:%d/ce/gzbomb",
             e.hport);
    hscan_target_opts_init(&off);
    off.compressed = -1;
    for (i = 0; i < 4; i++)
        lp[i] = lines[i];
    opts[2] = &off;
    e.opts = opts;
    e.cfg.compressed = 1;
    e.cfg.body_bytes = 65536;
    e.cfg.body_keep = 1;
    env_scan(&e, lp, 4);
    sha256_hex(page, n, want);
    for (i = 0; i < 2; i++) {
        r = &e.recs[i];
        EXPECT_STATUS(r, 200);
        CHECK_INT(r->body_len, n);
        CHECK(r->body && memcmp(r->body, page, n) == 0);
        CHECK_STR(r->body_sha256, want);
        CHECK_STR(r->title, "Coded page");
        CHECK_INT(r->body_truncated, 0);
        CHECK_INT(r->body_decoding, 1);
        CHECK_STR(r->body_decode, "done");
        CHECK_STR(r->body_encoding, i == 0 ? "gzip" : "deflate");
        CHECK(r->body_wire_len > 0 && r->body_wire_len < n);
        CHECK_INT(r->clen, i == 0 ? -1 : (long long)r->body_wire_len);
    }
    /* not for this target: the bytes as they came, no decoding facts */
    r = &e.recs[2];
    CHECK_INT(r->body_decoding, 0);
    CHECK(r->title == NULL);
    CHECK_INT(r->body_len, r->clen);
    sha256_hex(r->body, r->body_len, raw_sha);
    CHECK_STR(r->body_sha256, raw_sha);
    CHECK(strstr(r->json, "\"wire_bytes\"") == NULL);
    /* the bomb: 64 KiB decoded, named, a read or two of it taken */
    r = &e.recs[3];
    CHECK_INT(r->body_len, 65536);
    CHECK_INT(r->body_truncated, 1);
    CHECK_STR(r->body_decode, "decoded_limit");
    CHECK(r->body_wire_len < (size_t)r->clen / 4);    /* reads: 64 KiB */
    CHECK(r->clen > 1000000);
    env_done(&e);
}
