/* Integration tests of a target's own client TLS options
 * (hscan_target_opts_t tls_min ... insecure, lib/tls-ctxs.c) against the
 * certificate zoo's server (cert-server.h): each target is handshaken
 * with a context made for its merged options, next to targets that use
 * the scanner's, in one scanner; a verdict reached with one target's
 * CAs never answers for another's.  test-tls-opts.py covers the
 * scanner-wide options through the CLI against openssl s_server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <uv.h>

#include "cert-server.h"
#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

static void expect_ok(const struct rec *r, const char *version)
{
    if (r->error || !r->tls || strcmp(r->tls->version, version) != 0)
        show(r);
    EXPECT_STATUS(r, 200);
    CHECK(r->tls != NULL);
    CHECK_STR(r->tls->version, version);
}

/* Versions and a cipher list per target, next to the scanner's. */
TEST_T(target_versions, 120)
{
    static const char *const hosts[] = { "a.test", "a.test", "a.test",
                                         "a.test" };
    hscan_target_opts_t v12, v13, c12;
    const hscan_target_opts_t *opts[4];
    struct cert_server cs;
    struct env e;

    cs_init(&cs);
    cs_simple(&cs, "a");
    cs_start(&cs);
    hscan_target_opts_init(&v12);
    hscan_target_opts_init(&v13);
    hscan_target_opts_init(&c12);
    v12.tls_max = HSCAN_TLS_1_2;
    v13.tls_min = HSCAN_TLS_1_3;
    c12.tls_max = HSCAN_TLS_1_2;
    c12.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
    opts[0] = &v12;
    opts[1] = NULL;
    opts[2] = &v13;
    opts[3] = &c12;
    cs_scan_opts(&e, &cs, hosts, 4, opts, NULL);
    expect_ok(&e.recs[0], "TLSv1.2");
    expect_ok(&e.recs[1], "TLSv1.3");
    expect_ok(&e.recs[2], "TLSv1.3");
    expect_ok(&e.recs[3], "TLSv1.2");
    CHECK_STR(e.recs[3].tls->cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
    CHECK(strcmp(e.recs[0].tls->cipher, "ECDHE-ECDSA-CHACHA20-POLY1305"));
    cs_stop(&cs);
    env_done(&e);
}

/* Roots that do not hold the server's CA: a target with the CA as its
 * ca_file verifies, the targets around it (same chain, cached verdict
 * of the scanner's context) do not; insecure reports instead. */
TEST_T(target_ca_file_insecure, 120)
{
    static const char *const hosts[] = { "a.test", "a.test", "a.test",
                                         "a.test" };
    hscan_target_opts_t ca, insecure;
    const hscan_target_opts_t *opts[4];
    struct cert_server cs;
    struct tcert other;
    char roots[] = "/tmp/hscan-test-roots-XXXXXX";
    struct env e;
    int fd;

    CHECK(tcerts_ca(&other) == 0);
    CHECK((fd = mkstemp(roots)) >= 0);
    close(fd);
    CHECK(tcerts_write_pem(&other, roots) == 0);
    cs_init(&cs);
    cs_simple(&cs, "a");
    cs_start(&cs);
    cs.roots = roots;
    hscan_target_opts_init(&ca);
    hscan_target_opts_init(&insecure);
    ca.ca_file = cs.ca_path;
    insecure.insecure = 1;
    opts[0] = NULL;
    opts[1] = &ca;
    opts[2] = NULL;
    opts[3] = &insecure;
    cs_scan_opts(&e, &cs, hosts, 4, opts, NULL);
    EXPECT_ERR(&e.recs[0], HSCAN_ETLS_CERT_INVALID);
    expect_ok(&e.recs[1], "TLSv1.3");
    CHECK_INT(e.recs[1].tls->verify_code, X509_V_OK);
    EXPECT_ERR(&e.recs[2], HSCAN_ETLS_CERT_INVALID);
    expect_ok(&e.recs[3], "TLSv1.3");
    CHECK(e.recs[3].tls->verify_code != X509_V_OK);
    cs_stop(&cs);
    env_done(&e);
    tcerts_free(&other);
    unlink(roots);
}

/* A client certificate (and key) signed by the CA, as one PEM file
 * when `key_path` is NULL. */
static void write_client(const struct cert_server *cs, struct tcert *c,
                         const char *cert_path, const char *key_path)
{
    static const char *const san[] = { "client.test" };
    FILE *f;

    CHECK(tcerts_leaf(c, &cs->ca, "client.test", san, 1, NULL, 0, -1,
                      30) == 0);
    CHECK(tcerts_write_pem(c, cert_path) == 0);
    CHECK((f = fopen(key_path ? key_path : cert_path, "a")) != NULL);
    CHECK(PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL) == 1);
    CHECK(fclose(f) == 0);
}

/* A server that requires a client certificate: the target that has
 * one (in one file, or with its key apart) passes, the others are
 * refused by the server. */
TEST_T(target_client_cert, 120)
{
    static const char *const hosts[] = { "a.test", "a.test", "a.test" };
    hscan_target_opts_t one, two;
    const hscan_target_opts_t *opts[3];
    struct cert_server cs;
    struct tcert client;
    char pem[] = "/tmp/hscan-test-client-XXXXXX";
    char crt[] = "/tmp/hscan-test-crt-XXXXXX";
    char key[] = "/tmp/hscan-test-key-XXXXXX";
    struct env e;

    CHECK(close(mkstemp(pem)) == 0);
    CHECK(close(mkstemp(crt)) == 0);
    CHECK(close(mkstemp(key)) == 0);
    cs_init(&cs);
    cs_simple(&cs, "a");
    cs.client_auth = 1;
    cs_start(&cs);
    write_client(&cs, &client, pem, NULL);
    CHECK(truncate(key, 0) == 0);
    CHECK(tcerts_write_pem(&client, crt) == 0);
    {
        FILE *f = fopen(key, "w");
        CHECK(f != NULL);
        CHECK(PEM_write_PrivateKey(f, client.key, NULL, NULL, 0, NULL,
                                   NULL) == 1);
        CHECK(fclose(f) == 0);
    }
    hscan_target_opts_init(&one);
    hscan_target_opts_init(&two);
    one.cert_file = pem;
    two.cert_file = crt;
    two.key_file = key;
    opts[0] = NULL;
    opts[1] = &one;
    opts[2] = &two;
    cs_scan_opts(&e, &cs, hosts, 3, opts, NULL);
    CHECK(e.recs[0].error != 0);
    CHECK(e.recs[0].status == 0);
    expect_ok(&e.recs[1], "TLSv1.3");
    expect_ok(&e.recs[2], "TLSv1.3");
    cs_stop(&cs);
    env_done(&e);
    tcerts_free(&client);
    unlink(pem);
    unlink(crt);
    unlink(key);
}

static void on_nothing(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s;
    (void)r;
    (void)arg;
}

/* What hscan_target_opts_check() and hscan_submit_ex() refuse: a key
 * that is not the certificate's, a list OpenSSL does not know, a CA
 * file that does not load, versions that cross once merged with the
 * scanner's; and a 65th distinct set. */
TEST_T(target_refused, 120)
{
    hscan_config_t cfg;
    hscan_target_opts_t o;
    struct cert_server cs;
    struct tcert client, stray;
    char pem[] = "/tmp/hscan-test-client-XXXXXX";
    char other[] = "/tmp/hscan-test-other-XXXXXX";
    const char *field = NULL;
    char detail[256], list[80];
    uv_loop_t loop;
    hscan_t *s;
    FILE *f;
    int i;

    CHECK(close(mkstemp(pem)) == 0);
    CHECK(close(mkstemp(other)) == 0);
    cs_init(&cs);
    write_client(&cs, &client, pem, NULL);
    CHECK(tcerts_ca(&stray) == 0);
    CHECK((f = fopen(other, "w")) != NULL);
    CHECK(PEM_write_PrivateKey(f, stray.key, NULL, NULL, 0, NULL, NULL) ==
          1);
    CHECK(fclose(f) == 0);

    hscan_target_opts_init(&o);
    o.cert_file = pem;
    o.key_file = other;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "key_file");
    CHECK(strstr(detail, "does not match") != NULL);
    hscan_target_opts_init(&o);
    o.key_file = other;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "key_file");
    hscan_target_opts_init(&o);
    o.curves = "P-999";
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "curves");
    hscan_target_opts_init(&o);
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "ca_file");
    hscan_target_opts_init(&o);
    o.insecure = 2;
    CHECK_INT(hscan_target_opts_check(&o, &field, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK_STR(field, "insecure");

    CHECK(uv_loop_init(&loop) == 0);
    hscan_config_init(&cfg);
    cfg.on_result = on_nothing;
    cfg.tls_max = HSCAN_TLS_1_2;
    cfg.resolvers = "127.0.0.1:9";  /* nothing is looked up: closed first */
    CHECK(hscan_new(&s, &loop, &cfg) == 0);
    hscan_target_opts_init(&o);
    o.tls_min = HSCAN_TLS_1_3;      /* fine alone, not over tls_max 1.2 */
    CHECK_INT(hscan_target_opts_check(&o, NULL, NULL, 0), 0);
    CHECK_INT(hscan_submit_ex(s, "a.test", 6, NULL, &o, NULL), HSCAN_EINVAL);
    hscan_target_opts_init(&o);
    o.cert_file = pem;
    o.key_file = other;
    CHECK_INT(hscan_submit_ex(s, "a.test", 6, NULL, &o, NULL), HSCAN_EINVAL);
    /* 64 distinct sets (one list spelled 64 ways), then no more; a set
     * seen before is still fine. */
    hscan_target_opts_init(&o);
    for (i = 0; i < 64; i++) {
        snprintf(list, sizeof(list), "HIGH:%*s", i, "");
        o.ciphers = list;
        CHECK_INT(hscan_submit_ex(s, "a.test", 6, NULL, &o, NULL), 0);
    }
    snprintf(list, sizeof(list), "HIGH:%*s", i, "");
    CHECK_INT(hscan_submit_ex(s, "a.test", 6, NULL, &o, NULL), HSCAN_EINVAL);
    o.ciphers = "HIGH:";
    CHECK_INT(hscan_submit_ex(s, "a.test", 6, NULL, &o, NULL), 0);
    hscan_close(s, NULL);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(uv_loop_close(&loop) == 0);

    unlink(cs.ca_path);             /* no server was started */
    tcerts_free(&cs.ca);
    tcerts_free(&client);
    tcerts_free(&stray);
    unlink(pem);
    unlink(other);
}
