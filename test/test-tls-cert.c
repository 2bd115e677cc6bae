/* Integration tests of certificate facts that server-tls.c does not
 * serve: a certificate that expired a minute ago, a server that sends
 * its CA along, a SAN with a NUL byte inside.
 *
 * Each test builds its certificate with certs.h (then adjusts and
 * re-signs it), and serves it from a forked child: a blocking OpenSSL
 * server on a listener the parent opened on 127.0.0.1 port 0, killed
 * once the scan is over.  Blocking is fine there: the child has nothing
 * else to do, and the scanner's loop is the parent's.  Environment:
 * scan-env.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "certs.h"
#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

struct cert_server {
    struct tcert ca, leaf;
    char ca_path[64];
    int port;
    pid_t pid;
};

static const char reply[] = "HTTP/1.1 200 OK\r\nServer: cert-test\r\n"
                            "Content-Length: 0\r\n\r\n";

/* The child: one TLS exchange per connection until killed. */
static void serve(int lfd, SSL_CTX *ctx)
{
    char buf[4096];
    int fd;

    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        SSL *ssl = SSL_new(ctx);

        if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1 &&
            SSL_read(ssl, buf, sizeof(buf)) > 0) {
            SSL_write(ssl, reply, (int)sizeof(reply) - 1);
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        close(fd);
    }
    _exit(0);
}

/* A CA and a leaf for `name` (SANs `name`), valid from yesterday for 90
 * days; the test adjusts the leaf, then calls cs_start(). */
static void cs_init(struct cert_server *cs, const char *name)
{
    const char *sans[1];
    int fd;

    memset(cs, 0, sizeof(*cs));
    sans[0] = name;
    CHECK(tcerts_ca(&cs->ca) == 0);
    CHECK(tcerts_leaf(&cs->leaf, &cs->ca, name, sans, 1, NULL, 0, -1,
                      90) == 0);
    snprintf(cs->ca_path, sizeof(cs->ca_path), "/tmp/hscan-test-ca-XXXXXX");
    fd = mkstemp(cs->ca_path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(tcerts_write_pem(&cs->ca, cs->ca_path) == 0);
}

/* Sign the (adjusted) leaf again with the CA key. */
static void cs_resign(struct cert_server *cs)
{
    CHECK(X509_sign(cs->leaf.cert, cs->ca.key, EVP_sha256()) > 0);
}

/* Listen, fork the server; `with_ca`: send the CA after the leaf. */
static void cs_start(struct cert_server *cs, int with_ca)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(ctx != NULL && lfd >= 0);
    CHECK(SSL_CTX_use_certificate(ctx, cs->leaf.cert) == 1);
    CHECK(SSL_CTX_use_PrivateKey(ctx, cs->leaf.key) == 1);
    if (with_ca)
        CHECK(SSL_CTX_add1_chain_cert(ctx, cs->ca.cert) == 1);
    CHECK(uv_ip4_addr("127.0.0.1", 0, &sa) == 0);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(listen(lfd, 16) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    cs->port = ntohs(sa.sin_port);
    cs->pid = fork();
    CHECK(cs->pid >= 0);
    if (cs->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(60);
        serve(lfd, ctx);
    }
    close(lfd);
    SSL_CTX_free(ctx);
}

static void cs_stop(struct cert_server *cs)
{
    kill(cs->pid, SIGKILL);
    waitpid(cs->pid, NULL, 0);
    unlink(cs->ca_path);
    tcerts_free(&cs->leaf);
    tcerts_free(&cs->ca);
}

/* Scan `url` (one %d: the port) against the cert server, trusting its
 * CA; the record is e->recs[0]. */
static void cs_scan(struct env *e, struct cert_server *cs, const char *url,
                    char *line, size_t size)
{
    const char *lines[1];

    env_init(e);
    e->cfg.scheme = HSCAN_SCHEME_HTTPS;
    e->cfg.ca_file = cs->ca_path;
    e->cfg.tls_timeout_ms = 1500;
    e->allow_tls = 1;
    lines[0] = fmt(line, size, url, cs->port);
    env_scan(e, lines, 1);
}

/* results.md: days_left is "negative once expired". */
TEST_T(cert_expired_a_minute_ago, 30)
{
    struct cert_server cs;
    struct env e;
    struct rec *r;
    char line[80];

    cs_init(&cs, "gone.test");
    CHECK(X509_gmtime_adj(X509_getm_notAfter(cs.leaf.cert), -60) != NULL);
    cs_resign(&cs);
    cs_start(&cs, 0);
    cs_scan(&e, &cs, "https://gone.test:%d/", line, sizeof(line));
    cs_stop(&cs);
    r = &e.recs[0];
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    CHECK(r->tls != NULL);
    CHECK_INT(r->tls->verify_code, 10);
    if (r->tls->days_left >= 0)
        show(r);
    CHECK(r->tls->days_left < 0);
    env_done(&e);
}

/* chain_len counts the certificates the server sent, leaf included. */
TEST_T(cert_chain_with_ca, 30)
{
    struct cert_server cs;
    struct env e;
    struct rec *r;
    char line[80];

    cs_init(&cs, "chain.test");
    cs_start(&cs, 1);
    cs_scan(&e, &cs, "https://chain.test:%d/", line, sizeof(line));
    cs_stop(&cs);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    check_hdr(r, 0, "Server", "cert-test");
    CHECK(r->tls != NULL);
    CHECK_INT(r->tls->verified, 1);
    CHECK_INT(r->tls->chain_len, 2);
    CHECK(strstr(r->json, "\"chain_len\":2") != NULL);
    env_done(&e);
}

/* A SAN DNS name with a NUL byte inside: tls.c promises that "a NUL
 * byte cannot hide the rest of a name because the ASN.1 length is used"
 * and results.md that bytes are escaped by the JSON writer: the JSON
 * must not read "evil.test".  (The C view has no length for SANs, so
 * there the name necessarily ends at the NUL.) */
TEST_T(cert_san_with_nul, 30)
{
    static const char nul_name[] = "evil.test\0.nul.test";
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    struct cert_server cs;
    struct env e;
    struct rec *r;
    char line[80];
    int idx;

    cs_init(&cs, "nul.test");
    CHECK(gens && g && s);
    CHECK(ASN1_STRING_set(s, nul_name, sizeof(nul_name) - 1) == 1);
    GENERAL_NAME_set0_value(g, GEN_DNS, s);
    CHECK(sk_GENERAL_NAME_push(gens, g) > 0);
    idx = X509_get_ext_by_NID(cs.leaf.cert, NID_subject_alt_name, -1);
    CHECK(idx >= 0);
    X509_EXTENSION_free(X509_delete_ext(cs.leaf.cert, idx));
    CHECK(X509_add1_ext_i2d(cs.leaf.cert, NID_subject_alt_name, gens, 0,
                            0) == 1);
    GENERAL_NAMES_free(gens);
    cs_resign(&cs);
    cs_start(&cs, 0);
    cs_scan(&e, &cs, "https://nul.test:%d/", line, sizeof(line));
    cs_stop(&cs);
    r = &e.recs[0];
    /* the only SAN does not match nul.test, whatever its bytes */
    EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
    CHECK(r->tls != NULL);
    CHECK_INT(r->tls->n_san, 1);
    if (!strstr(r->json, "\"san\":[\"evil.test\\u0000.nul.test\"]"))
        show(r);
    CHECK(strstr(r->json, "\"san\":[\"evil.test\\u0000.nul.test\"]") !=
          NULL);
    env_done(&e);
}
