/* cert-server.c: the certificate zoo's server (see cert-server.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "cert-server.h"
#include "test-runner.h"

/* Valgrind runs everything many times slower: every limit configured
 * and every time bound checked stretches by this factor, which keeps a
 * scan inside scan-env.c's fixed 20 s deadline (measured under valgrind
 * on 2 busy cores: 4.3 s for the RSA-8192 handshake, under 4 s for ten
 * handshakes at once). */
unsigned cs_slow(void)
{
    return getenv("HSCAN_UNDER_VALGRIND") ? 5 : 1;
}

static const char reply[] = "HTTP/1.1 200 OK\r\nServer: cert-test\r\n"
                            "Content-Length: 0\r\n\r\n";

/* ---- the server ---- */

struct sni_map {
    int n;
    const char *label[MAX_SITES];
    SSL_CTX *ctx[MAX_SITES];
};

/* The label before a final ".test" (any case) of `name`, or NULL. */
static const char *sni_label(const char *name, char *out, size_t size)
{
    size_t n = strlen(name), start;

    if (n < 6 || strcasecmp(name + n - 5, ".test") != 0)
        return NULL;
    n -= 5;
    start = n;
    while (start > 0 && name[start - 1] != '.')
        start--;
    if (n - start >= size)
        return NULL;
    memcpy(out, name + start, n - start);
    out[n - start] = '\0';
    return out;
}

/* Switch the connection to the site its SNI names; no SNI or an unknown
 * label keeps the first site. */
static int on_sni(SSL *ssl, int *alert, void *arg)
{
    const struct sni_map *m = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char label[64];
    int i;

    (void)alert;
    if (!name || !sni_label(name, label, sizeof(label)))
        return SSL_TLSEXT_ERR_OK;
    for (i = 0; i < m->n; i++)
        if (strcasecmp(label, m->label[i]) == 0) {
            SSL_set_SSL_CTX(ssl, m->ctx[i]);
            break;
        }
    return SSL_TLSEXT_ERR_OK;
}

/* One TLS exchange, in a child of the server. */
static void serve_one(int fd, const struct sni_map *m)
{
    SSL *ssl = SSL_new(m->ctx[0]);
    char buf[4096];

    if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1 &&
        SSL_read(ssl, buf, sizeof(buf)) > 0) {
        SSL_write(ssl, reply, (int)sizeof(reply) - 1);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
}

/* One handshake of `sctx` with a client through a BIO pair, before the
 * server forks: OpenSSL fetches its algorithms (and sets up a key's
 * arithmetic) lazily, and every connection's child would do it all
 * again, seconds each under valgrind.  Done in the test's process, the
 * scanner's OpenSSL is warmed up too, as in a long scan. */
static void warm_up(SSL_CTX *sctx)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *c = cctx ? SSL_new(cctx) : NULL, *s = SSL_new(sctx);
    BIO *cb = NULL, *sb = NULL;
    int i;

    if (c && s && BIO_new_bio_pair(&cb, 0, &sb, 0) == 1) {
        SSL_set_bio(c, cb, cb);
        SSL_set_bio(s, sb, sb);
        SSL_set_connect_state(c);
        SSL_set_accept_state(s);
        for (i = 0; i < 8 && !(SSL_is_init_finished(c) &&
                               SSL_is_init_finished(s));
             i++) {
            SSL_do_handshake(c);
            SSL_do_handshake(s);
        }
    }
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
}

/* The server process: a child per connection until killed. */
static void serve(int lfd, const struct sni_map *m)
{
    int fd;

    signal(SIGCHLD, SIG_IGN);           /* children reap themselves */
    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        pid_t pid = fork();

        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            alarm(60);
            close(lfd);
            serve_one(fd, m);
            _exit(0);
        }
        close(fd);
    }
    _exit(0);
}

static SSL_CTX *site_ctx(const struct cert_server *cs, const struct site *s,
                         struct sni_map *m)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int i;

    CHECK(ctx != NULL);
    CHECK(SSL_CTX_use_certificate(ctx, s->leaf.cert) == 1);
    CHECK(SSL_CTX_use_PrivateKey(ctx, s->leaf.key) == 1);
    for (i = 0; i < s->n_sent; i++)
        CHECK(SSL_CTX_add1_chain_cert(ctx, s->sent[i]) == 1);
    SSL_CTX_set_tlsext_servername_callback(ctx, on_sni);
    SSL_CTX_set_tlsext_servername_arg(ctx, m);
    if (cs->client_auth) {
        CHECK(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx),
                                  cs->ca.cert) == 1);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
                                SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        /* certs.c's leaves are all serverAuth: any purpose will do. */
        CHECK(SSL_CTX_set_purpose(ctx, X509_PURPOSE_ANY) == 1);
    }
    return ctx;
}

/* ---- building the zoo ---- */

/* A CA, written as PEM for the scanner to trust; sites follow. */
void cs_init(struct cert_server *cs)
{
    int fd;

    memset(cs, 0, sizeof(*cs));
    CHECK(tcerts_ca(&cs->ca) == 0);
    snprintf(cs->ca_path, sizeof(cs->ca_path), "/tmp/hscan-test-ca-XXXXXX");
    fd = mkstemp(cs->ca_path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(tcerts_write_pem(&cs->ca, cs->ca_path) == 0);
}

/* An intermediate CA `cn` under `issuer` (NULL: the CA). */
struct tcert *cs_sub_ca(struct cert_server *cs,
                        const struct tcert *issuer, const char *cn)
{
    struct tcert *t;

    CHECK(cs->n_more < MAX_MORE);
    t = &cs->more[cs->n_more++];
    CHECK(tcerts_sub_ca(t, issuer ? issuer : &cs->ca, cn, 0) == 0);
    return t;
}

/* Site `label`: a leaf with common name `cn` and DNS SANs `sans`, valid
 * from yesterday for 90 days, signed by `issuer` (NULL: the CA). The
 * test adjusts it, then calls site_resign(). */
struct site *cs_site(struct cert_server *cs, const char *label,
                     const struct tcert *issuer, const char *cn,
                     const char *const *sans, int n_sans)
{
    struct site *s;

    CHECK(cs->n_site < MAX_SITES);
    s = &cs->site[cs->n_site++];
    s->label = label;
    s->issuer = issuer ? issuer : &cs->ca;
    CHECK(tcerts_leaf(&s->leaf, s->issuer, cn, sans, n_sans, NULL, 0, -1,
                      90) == 0);
    return s;
}

/* A site whose one SAN and CN are `label`.test. */
struct site *cs_simple(struct cert_server *cs, const char *label)
{
    char name[64];
    const char *sans[1];

    snprintf(name, sizeof(name), "%s.test", label);
    sans[0] = name;
    return cs_site(cs, label, NULL, name, sans, 1);
}

void site_send(struct site *s, X509 *x)
{
    CHECK(s->n_sent < MAX_SENT);
    s->sent[s->n_sent++] = x;
}

/* Sign the (adjusted) leaf again. */
void site_resign(struct site *s)
{
    CHECK(X509_sign(s->leaf.cert, s->issuer->key, EVP_sha256()) > 0);
}

/* Replace the leaf's subjectAltName by DNS names `names` (lengths
 * `lens`: a name may hold any byte), critical or not; n 0 removes it. */
void site_set_sans(struct site *s, const char *const *names,
                   const size_t *lens, int n, int critical)
{
    int idx = X509_get_ext_by_NID(s->leaf.cert, NID_subject_alt_name, -1);
    GENERAL_NAMES *gens;
    int i;

    if (idx >= 0)
        X509_EXTENSION_free(X509_delete_ext(s->leaf.cert, idx));
    if (n == 0)
        return;
    gens = sk_GENERAL_NAME_new_null();
    CHECK(gens != NULL);
    for (i = 0; i < n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *a = ASN1_IA5STRING_new();

        CHECK(g && a);
        CHECK(ASN1_STRING_set(a, names[i], (int)lens[i]) == 1);
        GENERAL_NAME_set0_value(g, GEN_DNS, a);
        CHECK(sk_GENERAL_NAME_push(gens, g) > 0);
    }
    CHECK(X509_add1_ext_i2d(s->leaf.cert, NID_subject_alt_name, gens,
                            critical, X509V3_ADD_DEFAULT) == 1);
    GENERAL_NAMES_free(gens);
}

/* Listen, fork the server. */
void cs_start(struct cert_server *cs)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct sni_map m;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), i;

    memset(&m, 0, sizeof(m));
    for (i = 0; i < cs->n_site; i++) {
        m.label[i] = cs->site[i].label;
        m.ctx[i] = site_ctx(cs, &cs->site[i], &m);
    }
    m.n = cs->n_site;
    CHECK(lfd >= 0 && m.n > 0);
    warm_up(m.ctx[0]);
    CHECK(uv_ip4_addr("127.0.0.1", 0, &sa) == 0);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(listen(lfd, 64) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    cs->port = ntohs(sa.sin_port);
    cs->pid = fork();
    CHECK(cs->pid >= 0);
    if (cs->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(120);
        serve(lfd, &m);
    }
    close(lfd);
    for (i = 0; i < m.n; i++)
        SSL_CTX_free(m.ctx[i]);
}

void cs_stop(struct cert_server *cs)
{
    int i;

    kill(cs->pid, SIGKILL);
    waitpid(cs->pid, NULL, 0);
    unlink(cs->ca_path);
    for (i = 0; i < cs->n_site; i++)
        tcerts_free(&cs->site[i].leaf);
    for (i = 0; i < cs->n_more; i++)
        tcerts_free(&cs->more[i]);
    tcerts_free(&cs->ca);
}

static void scan_with(struct env *e, const struct cert_server *cs,
                      const char *const *hosts, size_t n, int insecure,
                      const hscan_target_opts_t *const *opts,
                      const char *sni);

/* Scan https://HOST:PORT/ for each of `hosts` against the server,
 * trusting its CA; record i is e->recs[i].  The limits stretch under
 * valgrind. */
void cs_scan(struct env *e, const struct cert_server *cs,
             const char *const *hosts, size_t n, int insecure)
{
    scan_with(e, cs, hosts, n, insecure, NULL, NULL);
}

void cs_scan_opts(struct env *e, const struct cert_server *cs,
                  const char *const *hosts, size_t n,
                  const hscan_target_opts_t *const *opts, const char *sni)
{
    scan_with(e, cs, hosts, n, 0, opts, sni);
}

static void scan_with(struct env *e, const struct cert_server *cs,
                      const char *const *hosts, size_t n, int insecure,
                      const hscan_target_opts_t *const *opts,
                      const char *sni)
{
    static char buf[MAX_LINES][128];
    const char *lines[MAX_LINES];
    size_t i;

    CHECK(n > 0 && n <= MAX_LINES);
    /* The CA is the only root: no distribution root can make a
     * certificate here verify, and the scanner does not spend seconds
     * under valgrind parsing the system bundle (this is the test's own
     * forked process). */
    CHECK(setenv("SSL_CERT_FILE", cs->roots ? cs->roots : cs->ca_path,
                 1) == 0);
    env_init(e);
    e->cfg.scheme = HSCAN_SCHEME_HTTPS;
    e->cfg.ca_file = cs->roots ? NULL : cs->ca_path;
    e->cfg.insecure = insecure;
    e->cfg.tls_chain = cs->tls_chain;
    if (cs->concurrency)
        e->cfg.concurrency = cs->concurrency;
    e->cfg.dns_timeout_ms *= cs_slow();
    e->cfg.connect_timeout_ms *= cs_slow();
    e->cfg.read_timeout_ms *= cs_slow();
    e->cfg.tls_timeout_ms = 2000 * cs_slow();
    e->cfg.timeout_ms = 3000 * cs_slow();
    e->allow_tls = 1;
    for (i = 0; i < n; i++) {
        snprintf(buf[i], sizeof(buf[i]), "https://%s:%d/", hosts[i],
                 cs->port);
        lines[i] = buf[i];
    }
    e->opts = opts;
    e->cfg.sni = sni;
    if (opts)
        e->cfg.concurrency = 1;
    env_scan(e, lines, n);
}

