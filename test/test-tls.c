/* Integration tests of HTTPS: the tls object field by field for each
 * behaviour of server-tls.c, verification failures with and without
 * `insecure`, handshake failures, and the scheme modes (https-first and
 * its fallback, http, https, both; ports 80 and 443).
 *
 * The scanner trusts the TLS server's CA (cfg.ca_file) unless a test
 * says otherwise.  Environment: scan-env.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

/* OpenSSL's X509_V_ERR_* codes, as the record carries them. */
#define V_CERT_HAS_EXPIRED 10
#define V_DEPTH_ZERO_SELF_SIGNED 18
#define V_UNABLE_TO_GET_ISSUER_LOCALLY 20
#define V_HOSTNAME_MISMATCH 62

static int is_lower_hex(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

/* ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$ */
static int is_rfc3339(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    size_t i;

    if (!s || strlen(s) != sizeof(shape) - 1)
        return 0;
    for (i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
                            : s[i] != shape[i])
            return 0;
    return 1;
}

static int has_san(const struct tls_rec *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->n_san; i++)
        if (strcmp(t->san[i], name) == 0)
            return 1;
    return 0;
}

/* "ab:cd:..." as "abcd...". */
static void strip_colons(char *s)
{
    char *w = s;

    for (; *s; s++)
        if (*s != ':')
            *w++ = *s;
    *w = '\0';
}

/* The fingerprints of behaviour `name`'s certificate, read before the
 * server stops. */
struct prints {
    char sha256[96], spki[96];
};

static void get_prints(struct env *e, const char *name, struct prints *p)
{
    CHECK(tsrv_tls_fingerprints(e->tls, name, p->sha256, p->spki) == 0);
    strip_colons(p->sha256);
    strip_colons(p->spki);
    CHECK_INT(strlen(p->sha256), 64);
    CHECK_INT(strlen(p->spki), 64);
}

/* Facts every certificate of the test PKI has, whatever the verdict. */
static void check_cert_shape(const struct rec *r)
{
    const struct tls_rec *t = r->tls;

    if (!t)
        show(r);
    CHECK(t != NULL);
    CHECK(t->subject != NULL && t->issuer != NULL);
    CHECK(is_lower_hex(t->serial));
    CHECK(is_rfc3339(t->not_before));
    CHECK(is_rfc3339(t->not_after));
    /* Same-width UTC strings: text order is time order. */
    CHECK(strcmp(t->not_before, t->not_after) < 0);
    CHECK(is_lower_hex(t->sha256) && strlen(t->sha256) == 64);
    CHECK(is_lower_hex(t->spki_sha256) && strlen(t->spki_sha256) == 64);
    CHECK(t->chain_len >= 1);
    CHECK(t->n_san >= 1);
}

/* A certificate that failed verification with `code`, over a
 * handshake that completed. */
static void check_unverified(const struct rec *r, long code)
{
    char want[64];

    check_cert_shape(r);
    CHECK_INT(r->tls->verified, 0);
    CHECK_INT(r->tls->verify_code, code);
    CHECK(r->tls->verify_error != NULL && r->tls->verify_error[0]);
    CHECK(r->tls->version != NULL);
    snprintf(want, sizeof(want), "\"verify_error\":{\"code\":%ld,\"text\":",
             code);
    CHECK(strstr(r->json, want) != NULL);
    CHECK(strstr(r->json, "\"verified\":false") != NULL);
}

/* env_init_tls(), its limits stretched under valgrind: every test here
 * waits for handshakes, which valgrind makes take seconds. */
static void tls_env(struct env *e)
{
    env_init_tls(e);
    env_stretch(e);
}

/* ---- the tls object ---- */

TEST_T(tls_valid_facts, 30)
{
    char line[80], want[128];
    const char *lines[1];
    struct prints pr;
    struct env e;
    struct rec *r;
    const struct tls_rec *t;

    tls_env(&e);
    get_prints(&e, "valid", &pr);
    lines[0] = fmt(line, sizeof(line), "https://valid.test:%d/", e.tport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->scheme, "https");
    CHECK_STR(r->url, line);
    CHECK_STR(r->host, "valid.test");
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK_INT(r->port, e.tport);
    CHECK(find_hdr(r, "Server") >= 0);
    check_hdr(r, (size_t)find_hdr(r, "Server"), "Server", "hscan-test-tls");
    CHECK_INT(r->fallback_error, 0);
    CHECK(r->fallback_detail == NULL);
    CHECK_INT(r->n_hops, 0);
    CHECK(r->tls_ms >= 0);
    CHECK(r->connect_ms >= 0);
    CHECK(r->ttfb_ms >= 0);
    CHECK(r->total_ms >= r->tls_ms);

    check_cert_shape(r);
    t = r->tls;
    CHECK(t->version != NULL && strncmp(t->version, "TLSv1.", 6) == 0);
    CHECK(t->cipher != NULL && t->cipher[0]);
    CHECK_STR(t->alpn, "http/1.1");
    CHECK_INT(t->verified, 1);
    CHECK_INT(t->verify_code, 0);
    CHECK(t->verify_error == NULL);
    CHECK(strstr(t->subject, "CN=valid.test") != NULL);
    CHECK(strstr(t->issuer, "hscan test CA") != NULL);
    CHECK(has_san(t, "valid.test"));
    CHECK(has_san(t, "*.valid.test"));
    CHECK(has_san(t, "127.0.0.1"));
    CHECK(has_san(t, "::1"));
    if (t->days_left < 88 || t->days_left > 90)
        show(r);
    CHECK(t->days_left >= 88 && t->days_left <= 90);
    CHECK_STR(t->sha256, pr.sha256);
    CHECK_STR(t->spki_sha256, pr.spki);
    CHECK_INT(t->chain_len, 1);

    CHECK(strstr(r->json, "\"verified\":true") != NULL);
    CHECK(strstr(r->json, "\"verify_error\":null") != NULL);
    CHECK(strstr(r->json, "\"alpn\":\"http/1.1\"") != NULL);
    snprintf(want, sizeof(want), "\"sha256\":\"%s\"", pr.sha256);
    CHECK(strstr(r->json, want) != NULL);
    CHECK(strstr(r->json, "\"fallback\":null") != NULL);
    CHECK(e.tls_handshakes >= 1);
    env_done(&e);
}

TEST_T(tls_expired, 30)
{
    char line[80];
    const char *lines[1];
    struct prints pr;
    struct env e;
    struct rec *r;

    tls_env(&e);
    get_prints(&e, "expired", &pr);
    lines[0] = fmt(line, sizeof(line), "https://expired.test:%d/", e.tport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    CHECK(r->detail != NULL && strstr(r->detail, "10") != NULL);
    check_no_response(r);
    CHECK_STR(r->scheme, "https");
    CHECK_INT(r->fallback_error, 0);
    check_unverified(r, V_CERT_HAS_EXPIRED);
    CHECK(r->tls->days_left < 0);
    CHECK(strstr(r->tls->subject, "CN=expired.test") != NULL);
    CHECK(has_san(r->tls, "expired.test"));
    CHECK_STR(r->tls->sha256, pr.sha256);
    CHECK(r->tls_ms >= 0);
    CHECK(strstr(r->json, "\"error\":\"tls_cert_invalid\"") != NULL);
    CHECK(strstr(r->json, "\"status\":null") != NULL);
    env_done(&e);
}

/* insecure: the failed verification is reported, the exchange goes on. */
TEST_T(tls_expired_insecure, 30)
{
    char line[80];
    const char *lines[1];
    struct env e;
    struct rec *r;

    tls_env(&e);
    e.cfg.insecure = 1;
    lines[0] = fmt(line, sizeof(line), "https://expired.test:%d/", e.tport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK(r->detail == NULL);
    check_unverified(r, V_CERT_HAS_EXPIRED);
    CHECK(r->tls->days_left < 0);
    CHECK_STR(r->tls->alpn, "http/1.1");
    CHECK(strstr(r->json, "\"error\":null") != NULL);
    env_done(&e);
}

TEST_T(tls_verify_errors, 30)
{
    char l0[80], l1[80];
    const char *lines[2];
    struct env e;
    struct rec *r;

    tls_env(&e);
    lines[0] = fmt(l0, sizeof(l0), "https://wrongname.test:%d/", e.tport);
    lines[1] = fmt(l1, sizeof(l1), "https://selfsigned.test:%d/", e.tport);
    env_scan(&e, lines, 2);

    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    check_no_response(r);
    check_unverified(r, V_HOSTNAME_MISMATCH);
    CHECK(has_san(r->tls, "other.example"));
    CHECK_INT(r->tls->n_san, 1);
    CHECK(strstr(r->tls->issuer, "hscan test CA") != NULL);

    r = &e.recs[1];
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    check_no_response(r);
    check_unverified(r, V_DEPTH_ZERO_SELF_SIGNED);
    CHECK(strstr(r->tls->issuer, "CN=selfsigned.test") != NULL);
    CHECK(has_san(r->tls, "selfsigned.test"));
    env_done(&e);
}

/* Without the CA file the test CA is unknown: the chain cannot be
 * built. */
TEST_T(tls_unknown_ca, 30)
{
    char line[80];
    const char *lines[1];
    struct env e;
    struct rec *r;

    tls_env(&e);
    e.cfg.ca_file = NULL;
    lines[0] = fmt(line, sizeof(line), "https://valid.test:%d/", e.tport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    check_no_response(r);
    check_unverified(r, V_UNABLE_TO_GET_ISSUER_LOCALLY);
    CHECK(strstr(r->tls->subject, "CN=valid.test") != NULL);
    env_done(&e);
}

/* insecure: every verification failure is reported, not an error. */
TEST_T(tls_insecure_reports, 30)
{
    char l0[80], l1[80];
    const char *lines[2];
    struct env e;

    tls_env(&e);
    e.cfg.insecure = 1;
    lines[0] = fmt(l0, sizeof(l0), "https://wrongname.test:%d/", e.tport);
    lines[1] = fmt(l1, sizeof(l1), "https://selfsigned.test:%d/", e.tport);
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    check_unverified(&e.recs[0], V_HOSTNAME_MISMATCH);
    EXPECT_STATUS(&e.recs[1], 200);
    check_unverified(&e.recs[1], V_DEPTH_ZERO_SELF_SIGNED);
    env_done(&e);
}

/* The certificate arrived, then HTTP failed: the facts stay, and
 * https-first does not fall back (HTTPS answered). */
TEST_T(tls_facts_after_http_failure, 30)
{
    char l[3][80];
    const char *lines[3];
    struct env e;
    int i;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS_FIRST;
    e.cfg.read_timeout_ms = 500 * slow_factor();
    lines[0] = fmt(l[0], sizeof(l[0]), "valid.test:%d/b/close", e.tport);
    lines[1] = fmt(l[1], sizeof(l[1]), "valid.test:%d/b/garbage", e.tport);
    lines[2] = fmt(l[2], sizeof(l[2]), "valid.test:%d/b/hang", e.tport);
    env_scan(&e, lines, 3);
    EXPECT_ERR(&e.recs[0], HSCAN_EREAD_CLOSED);
    EXPECT_ERR(&e.recs[1], HSCAN_EHTTP_PARSE);
    EXPECT_ERR(&e.recs[2], HSCAN_EREAD_TIMEOUT);
    for (i = 0; i < 3; i++) {
        struct rec *r = &e.recs[i];
        CHECK_INT(r->status, 0);    /* ttfb may be set: bytes came */
        CHECK(r->reason == NULL);
        CHECK_INT(r->n_hdrs, 0);
        CHECK_STR(r->scheme, "https");
        CHECK_INT(r->fallback_error, 0);
        check_cert_shape(r);
        CHECK_INT(r->tls->verified, 1);
        CHECK_STR(r->tls->alpn, "http/1.1");
        CHECK(r->tls_ms >= 0);
    }
    env_done(&e);
}

/* ---- handshakes that fail ---- */

TEST_T(tls_handshake_failures, 30)
{
    char l0[80], l1[80], l2[80];
    const char *lines[3];
    struct env e;
    struct rec *r;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS;
    e.cfg.tls_timeout_ms = 500 * slow_factor();
    e.cfg.read_timeout_ms = 5000 * slow_factor();
    lines[0] = fmt(l0, sizeof(l0), "hang.test:%d", e.tport);
    lines[1] = fmt(l1, sizeof(l1), "reset.test:%d", e.tport);
    lines[2] = fmt(l2, sizeof(l2), "https://fast.test:%d/", e.hport);
    env_scan(&e, lines, 3);

    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETLS_TIMEOUT);
    check_no_response(r);
    CHECK(r->tls == NULL);
    CHECK(r->tls_ms == -1);
    CHECK(r->connect_ms >= 0);
    CHECK(r->total_ms >= 400);
    /* the TLS limit, not the read one */
    CHECK(r->total_ms < 2500.0 * slow_factor());
    CHECK_STR(r->scheme, "https");
    CHECK_INT(r->fallback_error, 0);
    CHECK(r->detail != NULL);

    r = &e.recs[1];
    EXPECT_ERR(r, HSCAN_ETLS_HANDSHAKE);
    check_no_response(r);
    CHECK(r->detail != NULL && r->detail[0] != '\0');
    CHECK(r->tls == NULL);
    CHECK_INT(r->fallback_error, 0);

    r = &e.recs[2];                 /* the HTTP server's 400 */
    EXPECT_ERR(r, HSCAN_ETLS_PLAINTEXT_REPLY);
    check_no_response(r);
    if (!r->detail || !strstr(r->detail, "HTTP/1.1 400"))
        show(r);
    CHECK(r->detail != NULL && strstr(r->detail, "HTTP/1.1 400") != NULL);
    CHECK(r->tls == NULL);
    CHECK_STR(r->scheme, "https");
    CHECK(strstr(r->json, "\"error\":\"tls_plaintext_reply\"") != NULL);
    env_done(&e);
}

TEST_T(tls_alpn_version_ip, 30)
{
    char l[4][80], want[80];
    const char *lines[4];
    struct env e;
    struct rec *r;
    int i;

    tls_env(&e);
    lines[0] = fmt(l[0], sizeof(l[0]), "https://alpn-none.test:%d/", e.tport);
    lines[1] = fmt(l[1], sizeof(l[1]), "https://tls12.test:%d/", e.tport);
    lines[2] = fmt(l[2], sizeof(l[2]), "https://127.0.0.1:%d/", e.tport);
    lines[3] = fmt(l[3], sizeof(l[3]), "https://x7.valid.test:%d/", e.tport);
    env_scan(&e, lines, 4);
    for (i = 0; i < 4; i++) {
        r = &e.recs[i];
        EXPECT_STATUS(r, 200);
        check_cert_shape(r);
        CHECK_INT(r->tls->verified, 1);
        CHECK_INT(r->tls->verify_code, 0);
        CHECK(r->tls->cipher != NULL);
    }

    r = &e.recs[0];
    CHECK(r->tls->alpn == NULL);
    CHECK(strstr(r->json, "\"alpn\":null") != NULL);
    CHECK(r->tls->version != NULL);

    r = &e.recs[1];
    CHECK_STR(r->tls->version, "TLSv1.2");
    CHECK_STR(r->tls->alpn, "http/1.1");

    r = &e.recs[2];                 /* no SNI; the IP SAN matches */
    CHECK_STR(r->host, "127.0.0.1");
    CHECK_STR(r->url, fmt(want, sizeof(want), "https://127.0.0.1:%d/",
                          e.tport));
    CHECK(r->dns_ms == -1);
    CHECK(strstr(r->tls->subject, "CN=valid.test") != NULL);

    r = &e.recs[3];                 /* the wildcard SAN */
    CHECK_STR(r->host, "x7.valid.test");
    env_done(&e);
}

/* ---- the handshake's parameters ---- */

static void digest_hex(const EVP_MD *md, const char *s, char *out,
                       size_t digits)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    size_t i;

    CHECK(EVP_Digest(s, strlen(s), d, &n, md, NULL) == 1);
    for (i = 0; i < digits; i++)
        snprintf(out + i, 2, "%x", i & 1 ? d[i / 2] & 15 : d[i / 2] >> 4);
}

/* The fingerprints agree with the record's own extension list, and the
 * cipher JA4S names: JA3S recomputed from "771,cipher,ext-ext", the
 * tail of JA4S from "xxxx,xxxx" (lib/tls-hello.c has the rules). */
static void check_prints_consistent(const struct tls_rec *t,
                                    const char *ja4_head)
{
    char ja3[256], list[256], md5[33] = "", sha[13] = "";
    size_t i, k = 0, m;
    unsigned cipher = 0;

    CHECK(t->ja3s != NULL && t->ja4s != NULL);
    CHECK(strncmp(t->ja4s, ja4_head, strlen(ja4_head)) == 0);
    CHECK(sscanf(t->ja4s + 8, "%4x_", &cipher) == 1);
    m = (size_t)snprintf(ja3, sizeof(ja3), "771,%u,", cipher);
    for (i = 0; i < t->n_extensions; i++) {
        m += (size_t)snprintf(ja3 + m, sizeof(ja3) - m, "%s%u", i ? "-" : "",
                              t->extensions[i]);
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%04x",
                              i ? "," : "", t->extensions[i]);
    }
    digest_hex(EVP_md5(), ja3, md5, 32);
    CHECK_STR(t->ja3s, md5);
    digest_hex(EVP_sha256(), list, sha, 12);
    CHECK_STR(t->ja4s + 13, sha);
}

static int has_ext(const struct tls_rec *t, unsigned type)
{
    size_t i;

    for (i = 0; i < t->n_extensions; i++)
        if (t->extensions[i] == type)
            return 1;
    return 0;
}

/* TLS 1.3, TLS 1.2 and a HelloRetryRequest against the test server,
 * whose leaf has a P-256 key. */
TEST_T(tls_handshake_parameters, 30)
{
    char l[3][80];
    const char *lines[3];
    struct env e;
    const struct tls_rec *t;
    int i;

    tls_env(&e);
    lines[0] = fmt(l[0], sizeof(l[0]), "https://valid.test:%d/", e.tport);
    lines[1] = fmt(l[1], sizeof(l[1]), "https://tls12.test:%d/", e.tport);
    lines[2] = fmt(l[2], sizeof(l[2]), "https://hrr.test:%d/", e.tport);
    env_scan(&e, lines, 3);
    for (i = 0; i < 3; i++) {
        EXPECT_STATUS(&e.recs[i], 200);
        CHECK_STR(e.recs[i].tls->sigalg, "ecdsa_secp256r1_sha256");
        /* OpenSSL servers send tickets by default, TLS 1.3 after the
         * handshake */
        CHECK_INT(e.recs[i].tls->ticket, 1);
    }

    t = e.recs[0].tls;
    CHECK_STR(t->version, "TLSv1.3");
    CHECK_STR(t->group, "x25519");
    CHECK_INT(t->hello_retry, 0);
    /* OpenSSL's order: supported_versions, key_share; no ALPN in a
     * TLS 1.3 ServerHello, so "00" */
    CHECK_INT(t->n_extensions, 2);
    CHECK_INT(t->extensions[0], 43);
    CHECK_INT(t->extensions[1], 51);
    check_prints_consistent(t, "t130200_13");
    CHECK(strstr(e.recs[0].json, "\"extensions\":[43,51],") != NULL);

    t = e.recs[1].tls;
    CHECK_STR(t->version, "TLSv1.2");
    CHECK_STR(t->group, "x25519");
    CHECK_INT(t->hello_retry, 0);
    CHECK(has_ext(t, 65281) && has_ext(t, 16) && has_ext(t, 35));
    CHECK(!has_ext(t, 43) && !has_ext(t, 51));
    {
        char head[16];
        snprintf(head, sizeof(head), "t12%02zuh1_c0", t->n_extensions);
        check_prints_consistent(t, head);
    }

    t = e.recs[2].tls;
    CHECK_STR(t->version, "TLSv1.3");
    CHECK_STR(t->group, "secp384r1");
    CHECK_INT(t->hello_retry, 1);
    CHECK(strstr(e.recs[2].json, "\"hello_retry\":true,") != NULL);
    check_prints_consistent(t, "t130200_13");
    env_done(&e);
}

/* ---- schemes ---- */

enum { HF_TLS, HF_PLAIN, HF_REFUSED, HF_EXPIRED, HF_N };

/* The default: https first, http when https cannot be spoken; a bad
 * certificate is an answer. */
TEST_T(scheme_https_first, 30)
{
    char l[HF_N][80], want[80];
    const char *lines[HF_N];
    struct extra x;
    struct env e;
    struct rec *r;
    int rport;

    tls_env(&e);
    env_extra(&e, &x);
    rport = extra_refused(&e, &x, "127.0.0.1", 0);
    CHECK(rport > 0);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS_FIRST;
    lines[HF_TLS] = fmt(l[HF_TLS], 80, "valid.test:%d", e.tport);
    lines[HF_PLAIN] = fmt(l[HF_PLAIN], 80, "fast.test:%d", e.hport);
    lines[HF_REFUSED] = fmt(l[HF_REFUSED], 80, "fast.test:%d", rport);
    lines[HF_EXPIRED] = fmt(l[HF_EXPIRED], 80, "expired.test:%d", e.tport);
    env_scan(&e, lines, HF_N);

    r = &e.recs[HF_TLS];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->scheme, "https");
    CHECK_STR(r->url, fmt(want, sizeof(want), "https://valid.test:%d/",
                          e.tport));
    CHECK_INT(r->fallback_error, 0);
    CHECK(r->tls != NULL && r->tls->verified);

    r = &e.recs[HF_PLAIN];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->scheme, "http");
    CHECK_STR(r->url, fmt(want, sizeof(want), "http://fast.test:%d/",
                          e.hport));
    CHECK_INT(r->port, e.hport);
    check_fast_headers(r);
    CHECK(r->tls == NULL);
    CHECK_INT(r->fallback_error, HSCAN_ETLS_PLAINTEXT_REPLY);
    CHECK(r->fallback_detail != NULL &&
          strstr(r->fallback_detail, "HTTP/1.1 400") != NULL);
    CHECK(strstr(r->json, "\"fallback\":{\"scheme\":\"https\",\"error\":"
                          "\"tls_plaintext_reply\",\"error_detail\":") !=
          NULL);

    r = &e.recs[HF_REFUSED];        /* both schemes refused */
    EXPECT_ERR(r, HSCAN_ECONNECT_REFUSED);
    check_no_response(r);
    CHECK_STR(r->scheme, "http");
    CHECK_INT(r->port, rport);
    CHECK_INT(r->fallback_error, HSCAN_ECONNECT_REFUSED);
    CHECK(r->fallback_detail != NULL);
    CHECK(strstr(r->json, "\"error\":\"connect_refused\"") != NULL);

    r = &e.recs[HF_EXPIRED];        /* no fallback */
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    CHECK_STR(r->scheme, "https");
    CHECK_INT(r->fallback_error, 0);
    CHECK(r->fallback_detail == NULL);
    check_unverified(r, V_CERT_HAS_EXPIRED);
    env_done(&e);
}

/* Handshakes that time out or are reset fall back to http (here on
 * the same port, where plain HTTP fails too). */
TEST_T(scheme_https_first_handshake_fallback, 30)
{
    char l0[80], l1[80];
    const char *lines[2];
    struct env e;
    int i;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS_FIRST;
    /* hang.test's limit, which reset.test's RST must beat */
    e.cfg.tls_timeout_ms = 500 * slow_factor();
    e.cfg.read_timeout_ms = 800;    /* plain HTTP to TLS: any error */
    lines[0] = fmt(l0, sizeof(l0), "hang.test:%d", e.tport);
    lines[1] = fmt(l1, sizeof(l1), "reset.test:%d", e.tport);
    env_scan(&e, lines, 2);
    CHECK_INT(e.recs[0].fallback_error, HSCAN_ETLS_TIMEOUT);
    CHECK_INT(e.recs[1].fallback_error, HSCAN_ETLS_HANDSHAKE);
    for (i = 0; i < 2; i++) {
        struct rec *r = &e.recs[i];
        if (r->error == 0)
            show(r);
        CHECK(r->error != 0);
        CHECK_STR(r->scheme, "http");
        CHECK(r->tls == NULL);
        CHECK(r->fallback_detail != NULL && r->fallback_detail[0]);
        CHECK(strstr(r->json, "\"fallback\":{\"scheme\":\"https\"") != NULL);
    }
    CHECK(e.recs[0].total_ms >= 400);
    env_done(&e);
}

/* Only https: no fallback whatever happens. */
TEST_T(scheme_https_only, 30)
{
    char l0[80], l1[80];
    const char *lines[2];
    struct env e;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_HTTPS;
    lines[0] = fmt(l0, sizeof(l0), "fast.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "valid.test:%d", e.tport);
    env_scan(&e, lines, 2);
    EXPECT_ERR(&e.recs[0], HSCAN_ETLS_PLAINTEXT_REPLY);
    CHECK_STR(e.recs[0].scheme, "https");
    CHECK_INT(e.recs[0].fallback_error, 0);
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_STR(e.recs[1].scheme, "https");
    env_done(&e);
}

/* Only http: plain text to the TLS port fails, as any non-HTTP reply. */
TEST_T(scheme_http_on_tls_port, 30)
{
    char line[80], want[80];
    const char *lines[1];
    struct env e;
    struct rec *r;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_HTTP;
    e.cfg.read_timeout_ms = 800;
    lines[0] = fmt(line, sizeof(line), "valid.test:%d", e.tport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    if (r->error == 0)
        show(r);
    CHECK(r->error != 0);
    check_no_response(r);
    CHECK_STR(r->scheme, "http");
    CHECK_STR(r->url, fmt(want, sizeof(want), "http://valid.test:%d/",
                          e.tport));
    CHECK(r->tls == NULL);
    CHECK_INT(r->fallback_error, 0);
    CHECK_INT(e.tls_handshakes, 0);
    env_done(&e);
}

/* both: one record per scheme, udata the same. */
TEST_T(scheme_both, 30)
{
    char l0[80], l1[80];
    const char *lines[2];
    struct env e;
    struct rec *r;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_BOTH;
    e.per_line = 2;
    lines[0] = fmt(l0, sizeof(l0), "fast.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "valid.test:%d", e.tport);
    env_scan(&e, lines, 2);

    r = env_rec_scheme(&e, 0, "https");
    CHECK(r != NULL);
    EXPECT_ERR(r, HSCAN_ETLS_PLAINTEXT_REPLY);
    CHECK_INT(r->fallback_error, 0);
    CHECK_STR(r->input, l0);
    r = env_rec_scheme(&e, 0, "http");
    CHECK(r != NULL);
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->fallback_error, 0);
    check_fast_headers(r);
    CHECK_STR(r->input, l0);

    r = env_rec_scheme(&e, 1, "https");
    CHECK(r != NULL);
    EXPECT_STATUS(r, 200);
    CHECK(r->tls != NULL && r->tls->verified);
    r = env_rec_scheme(&e, 1, "http");
    CHECK(r != NULL);
    CHECK(r->error != 0);
    CHECK(r->tls == NULL);
    env_done(&e);
}

TEST_T(scheme_both_exactly_once, 60)
{
    enum { N = 50 };
    static char buf[N][80];
    const char *lines[N];
    struct env e;
    size_t i;

    tls_env(&e);
    e.cfg.scheme = HSCAN_SCHEME_BOTH;
    e.cfg.concurrency = 16;
    e.cfg.timeout_ms = 8000 * slow_factor();
    e.per_line = 2;
    for (i = 0; i < N; i++) {
        if (i % 2)
            snprintf(buf[i], sizeof(buf[i]), "x%zu.fast.test:%d", i,
                     e.hport);
        else
            snprintf(buf[i], sizeof(buf[i]), "x%zu.valid.test:%d", i,
                     e.tport);
        lines[i] = buf[i];
    }
    env_scan(&e, lines, N);
    CHECK_INT(e.results, 2 * N);
    for (i = 0; i < N; i++) {
        struct rec *s = env_rec_scheme(&e, i, "https");
        struct rec *p = env_rec_scheme(&e, i, "http");

        CHECK(s != NULL && p != NULL);
        CHECK_STR(s->input, lines[i]);
        CHECK_STR(p->input, lines[i]);
        if (i % 2) {
            EXPECT_ERR(s, HSCAN_ETLS_PLAINTEXT_REPLY);
            EXPECT_STATUS(p, 200);
        } else {
            EXPECT_STATUS(s, 200);
            CHECK(s->tls != NULL && s->tls->verified);
            CHECK(p->error != 0);
        }
    }
    env_done(&e);
}

/* Ports 80 and 443 name their scheme, whatever the mode: with `both`,
 * one record each.  Needs 127.0.0.1:80 and :443; skipped without. */
TEST_T(scheme_default_ports, 30)
{
    static const char *const lines[] = { "valid.test:443", "fast.test:80",
                                         "valid.test:443/b/status-204" };
    static const char *const skip[] = { "# ports 80/443 are not ours" };
    struct extra x;
    struct env e;
    int rc;

    tls_env(&e);
    env_extra(&e, &x);
    /* Its own CA replaces the PEM the scanner is to trust. */
    rc = tsrv_tls_start(&e.loop, "127.0.0.1", 443, e.ca_path, &x.tls);
    if (rc == 0) {
        rc = tsrv_http_start(&e.loop, "127.0.0.1", 80, &x.http);
        if (rc != 0)
            x.http = NULL;
    } else {
        x.tls = NULL;
    }
    if (rc != 0) {
        fprintf(stderr, "  127.0.0.1:80/443: %s; skipped\n",
                uv_strerror(rc));
        env_scan(&e, skip, 1);
        env_done(&e);
        return;
    }
    e.cfg.scheme = HSCAN_SCHEME_BOTH;
    env_scan(&e, lines, 3);
    EXPECT_STATUS(&e.recs[0], 200);
    CHECK_STR(e.recs[0].scheme, "https");
    CHECK_STR(e.recs[0].url, "https://valid.test/");
    CHECK_INT(e.recs[0].port, 443);
    CHECK(e.recs[0].tls != NULL && e.recs[0].tls->verified);
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_STR(e.recs[1].scheme, "http");
    CHECK_STR(e.recs[1].url, "http://fast.test/");
    CHECK_INT(e.recs[1].port, 80);
    CHECK_INT(e.recs[1].fallback_error, 0);
    EXPECT_STATUS(&e.recs[2], 204);
    CHECK_STR(e.recs[2].url, "https://valid.test/b/status-204");
    env_done(&e);
}

/* One certificate met under several names in one scan: the chain's
 * verification is reused (lib/vcache.c), the name is checked each time,
 * and each record says what OpenSSL alone would have said. */
TEST_T(tls_verify_reused_per_name, 30)
{
    static const char *const fmts[] = {
        "https://valid.test:%d/", "https://x.other.test:%d/",
        "https://127.0.0.1:%d/", "https://y.valid.test:%d/",
        "https://z.other.test:%d/", "https://expired.test:%d/",
        "https://x.expired.test:%d/", "https://selfsigned.test:%d/",
        "https://x.selfsigned.test:%d/", "https://valid.test:%d/",
    };
    static const long want[] = {
        0, V_HOSTNAME_MISMATCH, 0, 0, V_HOSTNAME_MISMATCH,
        V_CERT_HAS_EXPIRED, V_CERT_HAS_EXPIRED, V_DEPTH_ZERO_SELF_SIGNED,
        V_DEPTH_ZERO_SELF_SIGNED, 0,
    };
    enum { N = sizeof(want) / sizeof(want[0]) };
    char buf[N][80];
    const char *lines[N];
    struct env e;
    size_t i;

    tls_env(&e);
    e.cfg.concurrency = 1;          /* in order: first miss, then hits */
    e.cfg.insecure = 1;             /* every record gets its response */
    for (i = 0; i < N; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.tport);
    env_scan(&e, lines, N);
    for (i = 0; i < N; i++) {
        struct rec *r = &e.recs[i];
        EXPECT_STATUS(r, 200);
        CHECK(r->tls != NULL);
        if (!r->tls)
            continue;
        if (r->tls->verify_code != want[i])
            fprintf(stderr, "  %s: verify_code %ld, want %ld\n", lines[i],
                    r->tls->verify_code, want[i]);
        CHECK_INT(r->tls->verify_code, want[i]);
        CHECK_INT(r->tls->verified, want[i] == 0);
    }
    env_done(&e);
}
