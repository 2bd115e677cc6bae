/* server-tls-pki.c: what the HTTPS test server presents (see
 * server-tls.h): the behaviour an SNI label picks, the certificates
 * (made at start, and the generated ones of sans-N and chain-N), the
 * ClientHello and ALPN callbacks and the SSL_CTX.  The connections
 * are server-tls.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "server-tls-int.h"

#define N_VALID_NAMES (sizeof(valid_names) / sizeof(valid_names[0]))

/* Indexed by enum tbeh. */
static const struct {
    const char *name;
    enum tbeh beh;
    int cert;               /* enum cert_id, or -1: none of its own */
    unsigned flags;
    unsigned arg;           /* default of NAME-N */
} tls_behaviours[] = {
    { "valid", T_VALID, C_VALID, 0, 0 },
    { "expired", T_EXPIRED, C_EXPIRED, 0, 0 },
    { "wrongname", T_WRONGNAME, C_WRONGNAME, 0, 0 },
    { "selfsigned", T_SELFSIGNED, C_SELFSIGNED, 0, 0 },
    { "hang", T_HANG, -1, F_HOLD, 0 }, { "reset", T_RESET, -1, F_HOLD, 0 },
    { "alpn-none", T_ALPN_NONE, C_VALID, 0, 0 },
    { "tls12", T_TLS12, C_VALID, F_TLS12, 0 },
    { "eof", T_EOF, -1, F_HOLD, 0 }, { "alert", T_ALERT, -1, F_HOLD, 40 },
    { "fakehello", T_FAKEHELLO, -1, F_HOLD, 0 },
    { "shgarbage", T_SHGARBAGE, C_VALID, 0, 0 },
    { "shstall", T_SHSTALL, C_VALID, 0, 0 },
    { "sans", T_SANS, -1, 0, 10000 }, { "chain", T_CHAIN, -1, 0, 50 },
    { "reneg", T_RENEG, C_VALID, F_TLS12, 0 },
    { "reneg-wait", T_RENEG_WAIT, C_VALID, F_TLS12, 0 },
    { "reneg-loop", T_RENEG_LOOP, C_VALID, F_TLS12, 0 },
    { "clientcert", T_CLIENTCERT, C_VALID, 0, 13 },
    { "certreq", T_CERTREQ, C_VALID, 0, 0 },
    { "noclose", T_NOCLOSE, C_VALID, 0, 0 },
    { "partial", T_PARTIAL, C_VALID, 0, 20 },
    { "tickets", T_TICKETS, C_VALID, 0, 100 },
    { "rec1", T_REC1, C_VALID, F_TLS12, 0 },
    { "seg1", T_SEG1, C_VALID, 0, 0 },
    { "hrr", T_HRR, C_VALID, 0, 0 },
};

#define N_BEHAVIOURS (sizeof(tls_behaviours) / sizeof(tls_behaviours[0]))

/* The valid leaf covers NAME.test and *.NAME.test for each of these. */
static const char *const valid_names[] = {
    "valid", "alpn-none", "tls12", "redir", "fast", "delay", "r301",
    "r302", "notfound", "error", "http10", "chunked", "many", "huge",
    "trickle", "close", "garbage", "badstatus", "ctl", "lf", "status",
    "early", "shgarbage", "shstall", "reneg", "reneg-wait", "reneg-loop",
    "clientcert", "certreq", "noclose", "partial", "tickets", "rec1",
    "seg1", "hrr",
};

static const unsigned char alpn_http11[] = { 8, 'h', 't', 't', 'p', '/',
                                             '1', '.', '1' };

/* ---- behaviours ---- */

static int find_behaviour(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < N_BEHAVIOURS; i++)
        if (strlen(tls_behaviours[i].name) == n &&
            strncasecmp(tls_behaviours[i].name, p, n) == 0)
            return (int)i;
    return -1;
}

/* NAME or NAME-N (N decimal, at most 9 digits); -1 if neither. */
static int find_behaviour_arg(const char *p, size_t n, unsigned *arg)
{
    size_t k = n, digits = 0;
    unsigned v = 0;
    int i = find_behaviour(p, n);

    if (i >= 0) {
        *arg = tls_behaviours[i].arg;
        return i;
    }
    while (k > 0 && p[k - 1] >= '0' && p[k - 1] <= '9' && digits < 9) {
        k--;
        digits++;
    }
    if (digits == 0 || k < 2 || p[k - 1] != '-')
        return -1;
    i = find_behaviour(p, k - 1);
    if (i < 0 || tls_behaviours[i].arg == 0)
        return -1;
    for (; k < n; k++)
        v = v * 10 + (unsigned)(p[k] - '0');
    *arg = v;
    return i;
}

/* The host name in a server_name extension body; 1 if found. */
static int sni_host(const unsigned char *p, size_t len, const char **name,
                    size_t *n)
{
    size_t list;

    if (len < 5)
        return 0;
    list = (size_t)p[0] << 8 | p[1];
    if (list + 2 != len || p[2] != 0)   /* 0: host_name */
        return 0;
    *n = (size_t)p[3] << 8 | p[4];
    *name = (const char *)p + 5;
    return *n + 5 <= len;
}

static enum tbeh sni_behaviour(SSL *ssl, unsigned *arg)
{
    const unsigned char *ext;
    const char *host, *label;
    size_t len, n, ln;
    int i;

    *arg = 0;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext,
                                   &len) ||
        !sni_host(ext, len, &host, &n) ||
        !tsrv_http_host_label(host, n, &label, &ln))
        return T_VALID;
    i = find_behaviour_arg(label, ln, arg);
    return i < 0 ? T_VALID : tls_behaviours[i].beh;
}

/* ---- generated certificates (sans, chain) ---- */

static void gen_free(struct gen_cert *g)
{
    unsigned i;

    tcerts_free(&g->leaf);
    for (i = 0; g->ints && i < g->n; i++)
        tcerts_free(&g->ints[i]);
    free(g->ints);
    sk_X509_free(g->chain);     /* borrowed pointers */
    memset(g, 0, sizeof(*g));
}

/* A leaf for sans.test and sans-N.test (and their wildcards) plus
 * `extra` filler names, signed by `issuer`. */
static int gen_leaf(struct tcert *out, const struct tcert *issuer,
                    const char *base, unsigned n, unsigned extra)
{
    const char **dns = calloc(extra + 4, sizeof(*dns));
    char (*store)[32] = calloc(extra + 4, sizeof(*store));
    unsigned i;
    int rc = -1;

    if (dns && store) {
        snprintf(store[0], sizeof(store[0]), "%s.test", base);
        snprintf(store[1], sizeof(store[1]), "*.%s.test", base);
        snprintf(store[2], sizeof(store[2]), "%s-%u.test", base, n);
        snprintf(store[3], sizeof(store[3]), "*.%s-%u.test", base, n);
        for (i = 0; i < extra; i++)
            snprintf(store[i + 4], sizeof(store[i + 4]),
                     "f%06u.filler.example", i);
        for (i = 0; i < extra + 4; i++)
            dns[i] = store[i];
        rc = tcerts_leaf(out, issuer, store[2], dns, (int)extra + 4, NULL,
                         0, -1, 90);
    }
    free(dns);
    free(store);
    return rc;
}

static int gen_sans(struct tsrv_tls *s, struct gen_cert *g, unsigned n)
{
    if (gen_leaf(&g->leaf, &s->ca, "sans", n, n) != 0)
        return -1;
    g->n = n;
    return 0;
}

/* Intermediates of ~2.5 KB each (a bulk comment), so that a chain passes
 * 100 KB with few of them: each costs about a millisecond to make, and
 * fifty times that under valgrind. */
static int gen_chain(struct tsrv_tls *s, struct gen_cert *g, unsigned n)
{
    char cn[48];
    unsigned i;

    g->ints = calloc(n ? n : 1, sizeof(*g->ints));
    g->chain = sk_X509_new_null();
    if (!g->ints || !g->chain)
        return -1;
    for (g->n = 0; g->n < n; g->n++) {
        snprintf(cn, sizeof(cn), "hscan test intermediate %u", g->n + 1);
        if (tcerts_sub_ca(&g->ints[g->n], g->n ? &g->ints[g->n - 1]
                                               : &s->ca, cn, INT_BULK) != 0)
            return -1;
    }
    for (i = n; i > 0; i--)
        if (sk_X509_push(g->chain, g->ints[i - 1].cert) <= 0)
            return -1;
    return gen_leaf(&g->leaf, n ? &g->ints[n - 1] : &s->ca, "chain", n, 0);
}

/* The generated certificate for `beh` and `n`: kept, or made in the
 * next slot (round robin). NULL on failure. */
static struct gen_cert *gen_get(struct tsrv_tls *s, int beh, unsigned n)
{
    struct gen_cert *g;
    unsigned i;
    int rc;

    for (i = 0; i < N_GEN; i++)
        if (s->gen[i].beh == beh && s->gen[i].n == n)
            return &s->gen[i];
    g = &s->gen[s->gen_next++ % N_GEN];
    gen_free(g);
    rc = beh == T_SANS ? gen_sans(s, g, n) : gen_chain(s, g, n);
    if (rc != 0) {
        gen_free(g);
        return NULL;
    }
    g->beh = beh;
    return g;
}

/* sans, chain: generate (or reuse) and install the certificate. */
static int apply_generated(struct tconn *c)
{
    unsigned max = c->beh == T_SANS ? MAX_SANS : MAX_CHAIN;
    struct gen_cert *g = gen_get(c->srv, c->beh,
                                 c->arg < max ? c->arg : max);

    return g && SSL_use_cert_and_key(c->ssl, g->leaf.cert, g->leaf.key,
                                     g->chain, 1) == 1 ? 0 : -1;
}

/* Install the behaviour's certificate, version limit and client
 * certificate request on the SSL. */
static int apply_behaviour(struct tconn *c)
{
    const struct tcert *t;
    int id = tls_behaviours[c->beh].cert;

    if (((tls_behaviours[c->beh].flags & F_TLS12) ||
         (c->beh == T_CLIENTCERT && c->arg == 12)) &&
        SSL_set_max_proto_version(c->ssl, TLS1_2_VERSION) != 1)
        return -1;
    if (c->beh == T_CLIENTCERT)
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER |
                                   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else if (c->beh == T_CERTREQ)
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    /* Not the x25519 share OpenSSL clients send first: the server
     * must ask again (HelloRetryRequest, RFC 8446 4.1.4). */
    if (c->beh == T_HRR && SSL_set1_groups_list(c->ssl, "P-384") != 1)
        return -1;
    if (c->beh == T_SANS || c->beh == T_CHAIN)
        return apply_generated(c);
    if (id < 0 || id == C_VALID)    /* the SSL_CTX's own */
        return 0;
    t = &c->srv->certs[id];
    return SSL_use_cert_and_key(c->ssl, t->cert, t->key, NULL, 1) == 1
               ? 0 : -1;
}

static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    struct tconn *c = SSL_get_app_data(ssl);
    unsigned a;

    (void)arg;
    c->beh = (unsigned char)sni_behaviour(ssl, &a);
    c->arg = a;
    if (tls_behaviours[c->beh].flags & F_HOLD)
        return SSL_CLIENT_HELLO_RETRY;  /* never resumed */
    if (apply_behaviour(c) != 0) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static int on_alpn(SSL *ssl, const unsigned char **out,
                   unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    struct tconn *c = SSL_get_app_data(ssl);
    unsigned char *sel = NULL;

    (void)arg;
    if (c->beh == T_ALPN_NONE ||
        SSL_select_next_proto(&sel, outlen, alpn_http11,
                              sizeof(alpn_http11), in, inlen) !=
            OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

void tls_free_pki(struct tsrv_tls *s)
{
    int i;

    SSL_CTX_free(s->ctx);
    s->ctx = NULL;
    for (i = 0; i < N_GEN; i++)
        gen_free(&s->gen[i]);
    tcerts_free(&s->ca);
    for (i = 0; i < C_COUNT; i++)
        tcerts_free(&s->certs[i]);
}

/* ---- setup ---- */

/* The valid leaf: NAME.test and *.NAME.test for each valid name. */
static int make_valid(struct tsrv_tls *s)
{
    static const char *const ips[] = { "127.0.0.1", "::1" };
    char store[2 * N_VALID_NAMES + 1][48];
    const char *dns[2 * N_VALID_NAMES + 1];
    size_t i, n = 0;

    for (i = 0; i < N_VALID_NAMES; i++) {
        snprintf(store[n], sizeof(store[n]), "%s.test", valid_names[i]);
        dns[n] = store[n];
        n++;
        snprintf(store[n], sizeof(store[n]), "*.%s.test", valid_names[i]);
        dns[n] = store[n];
        n++;
    }
    dns[n++] = "localhost";
    return tcerts_leaf(&s->certs[C_VALID], &s->ca, "valid.test", dns,
                       (int)n, ips, 2, -1, 90);
}

static int make_pki(struct tsrv_tls *s)
{
    static const char *const expired[] = { "expired.test",
                                           "*.expired.test" };
    static const char *const other[] = { "other.example" };
    static const char *const self[] = { "selfsigned.test",
                                        "*.selfsigned.test" };

    if (tcerts_ca(&s->ca) != 0 || make_valid(s) != 0 ||
        tcerts_leaf(&s->certs[C_EXPIRED], &s->ca, "expired.test", expired,
                    2, NULL, 0, -30, -1) != 0 ||
        tcerts_leaf(&s->certs[C_WRONGNAME], &s->ca, "other.example",
                    other, 1, NULL, 0, -1, 90) != 0 ||
        tcerts_leaf(&s->certs[C_SELFSIGNED], NULL, "selfsigned.test",
                    self, 2, NULL, 0, -1, 90) != 0)
        return -1;
    return 0;
}

static int make_ctx(struct tsrv_tls *s)
{
    const struct tcert *v = &s->certs[C_VALID];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx)
        return -1;
    s->ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
    return SSL_CTX_use_cert_and_key(ctx, v->cert, v->key, NULL, 1) == 1
               ? 0 : -1;
}

/* Certificates, the CA PEM and the SSL_CTX; 0 or UV_EIO. */
int tls_make_pki(struct tsrv_tls *s, const char *ca_pem_path)
{
    int rc = 0;

    ERR_clear_error();
    if (make_pki(s) != 0 ||
        (ca_pem_path && tcerts_write_pem(&s->ca, ca_pem_path) != 0) ||
        make_ctx(s) != 0)
        rc = UV_EIO;
    ERR_clear_error();
    return rc;
}

int tsrv_tls_fingerprints(const struct tsrv_tls *s, const char *name,
                          char sha256[96], char spki_sha256[96])
{
    int i = find_behaviour(name, strlen(name));
    const X509 *x;

    if (strcmp(name, "ca") == 0)
        x = s->ca.cert;
    else if (i >= 0 && tls_behaviours[i].cert >= 0)
        x = s->certs[tls_behaviours[i].cert].cert;
    else
        return UV_EINVAL;
    tcerts_fingerprints(x, sha256, spki_sha256);
    return 0;
}
