/* Integration tests of the server name a target sends and verifies
 * (hscan_target_opts_t.sni and .no_sni) against the certificate zoo's
 * server, which picks a site's certificate by the SNI name's label
 * (cert-server.h: no name, or an unknown one, gets the first site).
 *
 * One scanner, targets one at a time, so the chain verdict the first
 * handshake caches (vcache.c) is there for the next: a verdict reached
 * for one name must not pass another name on the same chain.
 * test-tls-opts.py covers the CLI against openssl s_server. */
#include <string.h>

#include <openssl/x509.h>

#include "cert-server.h"
#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

static void check_rec(const struct rec *r, const char *subject, long code)
{
    if (!r->tls || r->tls->verify_code != code ||
        strcmp(r->tls->subject, subject) != 0)
        show(r);
    CHECK(r->tls != NULL);
    CHECK_STR(r->tls->subject, subject);
    CHECK_INT(r->tls->verify_code, code);
    if (code == X509_V_OK)
        EXPECT_STATUS(r, 200);
    else
        EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
}

/* Sites a and b (a first: the one for no name). */
static void start_ab(struct cert_server *cs)
{
    cs_init(cs);
    cs_simple(cs, "a");
    cs_simple(cs, "b");
    cs_start(cs);
}

TEST_T(sni_per_target, 120)
{
    static const char *const hosts[] = { "127.0.0.1", "127.0.0.1",
                                         "b.test", "b.test", "b.test" };
    hscan_target_opts_t sni_a, sni_xa, sni_b, none;
    const hscan_target_opts_t *opts[5];
    struct cert_server cs;
    struct env e;

    start_ab(&cs);
    hscan_target_opts_init(&sni_a);
    hscan_target_opts_init(&sni_xa);
    hscan_target_opts_init(&sni_b);
    hscan_target_opts_init(&none);
    sni_a.sni = "a.test";           /* site a, verified for a.test */
    sni_xa.sni = "x.a.test";        /* site a again, not for x.a.test */
    sni_b.sni = "b.test";
    none.no_sni = 1;                /* the first site (a), for b.test */
    opts[0] = &sni_a;
    opts[1] = &sni_xa;
    opts[2] = &none;
    opts[3] = NULL;                 /* the host's name: site b */
    opts[4] = &sni_b;
    cs_scan_opts(&e, &cs, hosts, 5, opts, NULL);
    check_rec(&e.recs[0], "CN=a.test", X509_V_OK);
    check_rec(&e.recs[1], "CN=a.test", X509_V_ERR_HOSTNAME_MISMATCH);
    check_rec(&e.recs[2], "CN=a.test", X509_V_ERR_HOSTNAME_MISMATCH);
    check_rec(&e.recs[3], "CN=b.test", X509_V_OK);
    check_rec(&e.recs[4], "CN=b.test", X509_V_OK);
    cs_stop(&cs);
    env_done(&e);
}

/* The scanner's sni for every target, a target's no_sni over it. */
TEST_T(sni_scanner_wide, 120)
{
    static const char *const hosts[] = { "127.0.0.1", "a.test" };
    hscan_target_opts_t none;
    const hscan_target_opts_t *opts[2] = { NULL, &none };
    struct cert_server cs;
    struct env e;

    start_ab(&cs);
    hscan_target_opts_init(&none);
    none.no_sni = 1;
    cs_scan_opts(&e, &cs, hosts, 2, opts, "b.test");
    check_rec(&e.recs[0], "CN=b.test", X509_V_OK);
    check_rec(&e.recs[1], "CN=a.test", X509_V_OK);
    cs_stop(&cs);
    env_done(&e);
}
