/* server-tls.c: HTTPS test server over memory BIOs (see server-tls.h).
 *
 * Each connection owns an SSL whose rbio receives what uv_read brought
 * and whose wbio is drained into uv_write after every SSL call. The
 * client hello callback picks the behaviour from the SNI label: it
 * installs the behaviour's certificate and protocol limit on the SSL,
 * or pauses the handshake for good (hang, reset, and the raw replies of
 * eof, alert, fakehello). One SSL_CTX serves all behaviours; its session
 * cache is off so memory stays flat. The hostile behaviours act at four
 * points: the ClientHello callback (certificates, limits), hold() (raw
 * bytes instead of a handshake), answer() (renegotiation, tickets, an
 * unclean end) and flush() (one-byte records or writes). */
#include "server-tls.h"
#include "tsrv-net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "server-http.h"

#define RBUF_SIZE 65536
#define SSL_READ_SIZE 4096
#define MAX_SANS 100000
#define MAX_CHAIN 200
#define INT_BULK 2000       /* comment bytes in each chain intermediate */
#define N_GEN 4             /* generated certificates kept */
#define MAX_RENEG 100000
#define GARBAGE_LEN 64
/* The kernel caps it at net.core.somaxconn; a benchmark opening 20,000
 * connections in a burst raises that, and then needs the room. */
#define BACKLOG 65535
#define SERVER_NAME "hscan-test-tls"
#define N_VALID_NAMES (sizeof(valid_names) / sizeof(valid_names[0]))

enum cert_id { C_VALID, C_EXPIRED, C_WRONGNAME, C_SELFSIGNED, C_COUNT };

enum tbeh {
    T_VALID, T_EXPIRED, T_WRONGNAME, T_SELFSIGNED, T_HANG, T_RESET,
    T_ALPN_NONE, T_TLS12, T_EOF, T_ALERT, T_FAKEHELLO, T_SHGARBAGE, T_SHSTALL,
    T_SANS, T_CHAIN, T_RENEG, T_RENEG_WAIT, T_RENEG_LOOP, T_CLIENTCERT,
    T_CERTREQ, T_NOCLOSE, T_PARTIAL, T_TICKETS, T_REC1, T_SEG1
};

#define F_HOLD 1            /* paused at the ClientHello: hold() acts */
#define F_TLS12 2           /* TLS 1.2 at most */

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
};

#define N_BEHAVIOURS (sizeof(tls_behaviours) / sizeof(tls_behaviours[0]))

/* The valid leaf covers NAME.test and *.NAME.test for each of these. */
static const char *const valid_names[] = {
    "valid", "alpn-none", "tls12", "redir", "fast", "delay", "r301",
    "r302", "notfound", "error", "http10", "chunked", "many", "huge",
    "trickle", "close", "garbage", "badstatus", "ctl", "lf", "status",
    "early", "shgarbage", "shstall", "reneg", "reneg-wait", "reneg-loop",
    "clientcert", "certreq", "noclose", "partial", "tickets", "rec1",
    "seg1",
};

static const unsigned char alpn_http11[] = { 8, 'h', 't', 't', 'p', '/',
                                             '1', '.', '1' };

enum state {
    S_HANDSHAKE,            /* feeding the handshake */
    S_HELD,                 /* hang: paused at the ClientHello */
    S_REQUEST,              /* reading the request head */
    S_RENEG,                /* reneg-wait, reneg-loop: renegotiating */
    S_DONE                  /* answered; input is ignored */
};

/* A generated certificate (sans, chain), kept for the next connection
 * that asks for the same behaviour and N. */
struct gen_cert {
    struct tcert leaf;
    struct tcert *ints;     /* chain: intermediates 1..n, 1 under the CA */
    STACK_OF(X509) *chain;  /* what is sent after the leaf */
    unsigned n;
    int beh;                /* T_SANS, T_CHAIN; 0: empty slot */
};

struct tsrv_tls {
    uv_tcp_t listener;
    uv_loop_t *loop;
    SSL_CTX *ctx;
    struct tcert ca, certs[C_COUNT];
    struct gen_cert gen[N_GEN];
    unsigned gen_next;      /* the slot to reuse next */
    struct tconn *conns;    /* every connection not yet freed */
    struct tsrv_tls_counts counts;
    int port;
    int stopping;
    int listening;          /* listener close callback not yet run */
    int wildcard;           /* bound to 0.0.0.0 or ::: loopback only */
    char rbuf[RBUF_SIZE];   /* shared: reads are consumed at once */
};

struct tconn {
    uv_tcp_t tcp;
    uv_shutdown_t shut;
    struct tsrv_tls *srv;
    struct tconn *prev, *next;
    SSL *ssl;               /* owns both BIOs */
    BIO *rbio, *wbio;
    struct tsrv_head head;
    unsigned arg;           /* NAME-N, or the behaviour's default */
    unsigned long renegs;   /* completed on this connection */
    char *reply;            /* held until a renegotiation completes */
    size_t reply_len;
    int reply_act;
    /* seg1: bytes not yet written, one per write */
    char *pq;
    size_t pq_len, pq_off;
    uv_write_t pw;
    char pbyte;
    unsigned char pq_busy, fin_wanted, ccs_seen;
    unsigned char beh, state, closing, finishing, open_ended;
};

struct wreq {
    uv_write_t req;
    char data[];
};

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

/* ---- connections ---- */

static void free_pki(struct tsrv_tls *s)
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

static void maybe_free_server(struct tsrv_tls *s)
{
    if (s->stopping && !s->listening && !s->conns) {
        free_pki(s);
        free(s);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    struct tconn *c = h->data;
    struct tsrv_tls *s = c->srv;

    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    SSL_free(c->ssl);
    tsrv_head_free(&c->head);
    free(c->reply);
    free(c->pq);
    free(c);
    maybe_free_server(s);
}

/* Close and free the connection; `reset` sends an RST. */
static void conn_close_how(struct tconn *c, int reset)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (!reset || uv_tcp_close_reset(&c->tcp, on_conn_closed) != 0)
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void conn_close(struct tconn *c)
{
    conn_close_how(c, 0);
}

static void on_written(uv_write_t *req, int status)
{
    struct tconn *c = req->handle->data;

    free(req);
    if (status < 0)
        conn_close(c);
}

static int send_bytes(struct tconn *c, const char *data, size_t n)
{
    struct wreq *w = malloc(sizeof(*w) + n);
    uv_buf_t buf;

    if (!w)
        return -1;
    memcpy(w->data, data, n);
    buf = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) !=
        0) {
        free(w);
        return -1;
    }
    return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->handle->data);
}

static void start_shutdown(struct tconn *c)
{
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        conn_close(c);
}

/* seg1: one byte per write, the next one from the previous one's
 * callback, which libuv runs on the next loop iteration: the client's
 * reads see one byte at a time. */
static void pace_next(struct tconn *c);

static void on_paced(uv_write_t *req, int status)
{
    struct tconn *c = req->handle->data;

    c->pq_busy = 0;
    if (status < 0)
        conn_close(c);
    else
        pace_next(c);
}

static void pace_next(struct tconn *c)
{
    uv_buf_t b;

    if (c->pq_busy || c->closing)
        return;
    if (c->pq_off == c->pq_len) {
        free(c->pq);
        c->pq = NULL;
        c->pq_len = c->pq_off = 0;
        if (c->fin_wanted) {
            c->fin_wanted = 0;
            start_shutdown(c);
        }
        return;
    }
    c->pbyte = c->pq[c->pq_off++];
    b = uv_buf_init(&c->pbyte, 1);
    if (uv_write(&c->pw, (uv_stream_t *)&c->tcp, &b, 1, on_paced) != 0) {
        conn_close(c);
        return;
    }
    c->pq_busy = 1;
    c->srv->counts.paced_writes++;
}

static int pace_add(struct tconn *c, const char *data, size_t n)
{
    char *q = realloc(c->pq, c->pq_len + n);

    if (!q)
        return -1;
    memcpy(q + c->pq_len, data, n);
    c->pq = q;
    c->pq_len += n;
    pace_next(c);
    return 0;
}

/* rec1: each plaintext handshake record (those before the server's
 * ChangeCipherSpec) becomes records of one byte each; other records and
 * anything that does not parse pass unchanged. `out` has room for
 * 6 * n bytes. Returns the bytes written to `out`. */
static size_t split_records(struct tconn *c, const unsigned char *in,
                            size_t n, unsigned char *out)
{
    size_t i = 0, o = 0, len, k;

    while (i + 5 <= n && i + 5 + (len = (size_t)in[i + 3] << 8 |
                                        in[i + 4]) <= n) {
        if (in[i] == 0x16 && !c->ccs_seen) {
            for (k = 0; k < len; k++, o += 6) {
                memcpy(out + o, in + i, 3);
                out[o + 3] = 0;
                out[o + 4] = 1;
                out[o + 5] = in[i + 5 + k];
            }
            c->srv->counts.records_split += len;
        } else {
            c->ccs_seen |= in[i] == 0x14;
            memcpy(out + o, in + i, 5 + len);
            o += 5 + len;
        }
        i += 5 + len;
    }
    memcpy(out + o, in + i, n - i);
    return o + n - i;
}

/* Take what OpenSSL left in wbio (as rec1 reframes it); NULL if none. */
static char *take_out(struct tconn *c, size_t *len)
{
    size_t n = BIO_ctrl_pending(c->wbio);
    char *buf, *split;
    int got;

    if (n == 0 || !(buf = malloc(n)))
        return NULL;
    got = BIO_read(c->wbio, buf, (int)n);
    if (got <= 0) {
        free(buf);
        return NULL;
    }
    *len = (size_t)got;
    if (c->beh != T_REC1 || c->ccs_seen)
        return buf;
    split = malloc(6 * *len);
    if (split)
        *len = split_records(c, (unsigned char *)buf, *len,
                             (unsigned char *)split);
    free(buf);
    return split;
}

/* Send whatever OpenSSL left in wbio. */
static void flush(struct tconn *c)
{
    size_t n = 0;
    char *data;
    int rc;

    while (!c->closing && !c->finishing && BIO_ctrl_pending(c->wbio) > 0) {
        data = take_out(c, &n);
        if (!data) {
            conn_close(c);
            return;
        }
        rc = c->beh == T_SEG1 ? pace_add(c, data, n)
                              : send_bytes(c, data, n);
        free(data);
        if (rc != 0)
            conn_close(c);
    }
}

/* Flush, send FIN after the queued writes, then close. */
static void conn_finish(struct tconn *c)
{
    flush(c);
    if (c->closing || c->finishing)
        return;
    c->finishing = 1;
    if (c->pq_busy || c->pq_len > c->pq_off)
        c->fin_wanted = 1;      /* after the last paced byte */
    else
        start_shutdown(c);
}

/* close_notify (once, not waiting for the peer's), then FIN. */
static void conn_end_tls(struct tconn *c)
{
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    ERR_clear_error();
    conn_finish(c);
}

/* Pseudo-random bytes, the same on every run. */
static void garbage(unsigned char *p, size_t n, uint32_t seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        p[i] = (unsigned char)(seed >> 24);
    }
}

/* Raw bytes out through wbio, as if OpenSSL had written them. */
static void raw_out(struct tconn *c, const unsigned char *p, size_t n)
{
    if (BIO_write(c->wbio, p, (int)n) != (int)n)
        conn_close(c);
}

/* The handshake stopped at the ClientHello callback: hang, reset, eof,
 * or a raw reply (alert, fakehello) and then silence. */
static void hold(struct tconn *c)
{
    /* A 64-byte handshake record: ServerHello, length 60, then junk. */
    unsigned char b[5 + 64] = { 0x16, 3, 3, 0, 64, 2, 0, 0, 60 };
    unsigned char alert[7] = { 0x15, 3, 3, 0, 2, 2, 40 };

    c->state = S_HELD;
    if (c->beh == T_RESET) {
        conn_close_how(c, 1);
    } else if (c->beh == T_EOF) {
        conn_finish(c);
    } else if (c->beh == T_ALERT) {
        alert[6] = (unsigned char)c->arg;
        raw_out(c, alert, sizeof(alert));
    } else if (c->beh == T_FAKEHELLO) {
        garbage(b + 9, sizeof(b) - 9, 0x2545f491u);
        raw_out(c, b, sizeof(b));
    }
}

/* shgarbage, shstall: keep the first record OpenSSL wrote (the
 * ServerHello), replace the rest of the flight by an application-data
 * record of pseudo-random bytes (shstall: by nothing), and ignore the
 * client from then on. */
static void hello_then_garbage(struct tconn *c)
{
    unsigned char rec[5 + GARBAGE_LEN] = { 0x17, 3, 3, 0, GARBAGE_LEN };
    char *data, *first;
    long n = BIO_get_mem_data(c->wbio, &data);
    size_t len;

    if (n < 5)
        return;                 /* no ServerHello yet */
    len = 5 + ((size_t)(unsigned char)data[3] << 8 |
               (unsigned char)data[4]);
    if (len > (size_t)n)
        len = (size_t)n;
    first = malloc(len);
    if (!first) {
        conn_close(c);
        return;
    }
    memcpy(first, data, len);
    (void)BIO_reset(c->wbio);
    raw_out(c, (unsigned char *)first, len);
    free(first);
    garbage(rec + 5, GARBAGE_LEN, 0x9e3779b9u);
    if (c->beh == T_SHGARBAGE)
        raw_out(c, rec, sizeof(rec));
    c->state = S_HELD;
}

/* Advance the handshake; 1 once it is complete. */
static int handshake(struct tconn *c)
{
    int r, err;

    ERR_clear_error();
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->srv->counts.handshakes++;
        c->state = S_REQUEST;
        return 1;
    }
    err = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_CLIENT_HELLO_CB)
        hold(c);
    else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
        conn_finish(c);         /* the alert goes out first */
    return 0;
}

static int write_all(struct tconn *c, const char *p, size_t n)
{
    ERR_clear_error();
    return n == 0 || SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
}

/* A HelloRequest (TLS 1.2); the renegotiation itself happens when the
 * client's ClientHello arrives. */
static int hello_request(struct tconn *c)
{
    int ok;

    ERR_clear_error();
    ok = SSL_renegotiate(c->ssl) == 1 && SSL_do_handshake(c->ssl) == 1;
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* The reply bytes as the behaviour sends them; 0 or -1. */
static int write_reply(struct tconn *c, const char *out, size_t len)
{
    const char *eol = len ? memchr(out, '\n', len) : NULL;
    size_t k = eol ? (size_t)(eol - out) + 1 : len;
    unsigned i;

    switch (c->beh) {
    case T_RENEG:               /* status line, HelloRequest, the rest */
        return write_all(c, out, k) == 0 && hello_request(c) == 0 &&
                       write_all(c, out + k, len - k) == 0
                   ? 0 : -1;
    case T_PARTIAL:
        return write_all(c, out, len < c->arg ? len : c->arg);
    case T_TICKETS:             /* they go out with the next write */
        for (i = 0; i < c->arg; i++) {
            if (SSL_new_session_ticket(c->ssl) != 1)
                return -1;
            c->srv->counts.tickets++;
        }
        return write_all(c, out, len);
    default:
        return write_all(c, out, len);
    }
}

/* Send the reply and end the connection as `act` says. */
static void send_reply(struct tconn *c, const char *out, size_t len,
                       int act)
{
    c->state = S_DONE;
    if (act < 0 || write_reply(c, out, len) != 0) {
        conn_close(c);
        return;
    }
    if (act == TSRV_HTTP_SEND || act == TSRV_HTTP_CLOSE) {
        if (c->beh == T_NOCLOSE || c->beh == T_PARTIAL)
            conn_finish(c);     /* FIN without close_notify */
        else
            conn_end_tls(c);
    } else if (act == TSRV_HTTP_RESET) {
        conn_close_how(c, 1);
    } else {
        c->open_ended = 1;      /* huge, hang: until the peer closes */
    }
}

/* Answer the complete (or full) request head. */
static void answer(struct tconn *c)
{
    char *out = NULL;
    size_t len = 0;
    int act;

    act = tsrv_http_response(c->head.buf, c->head.len, SERVER_NAME, &out,
                             &len);
    tsrv_head_free(&c->head);
    if (act >= 0 &&
        (c->beh == T_RENEG_WAIT || c->beh == T_RENEG_LOOP)) {
        c->reply = out;         /* sent once the client renegotiated */
        c->reply_len = len;
        c->reply_act = act;
        c->state = S_RENEG;
        if (hello_request(c) != 0)
            conn_close(c);
        return;
    }
    send_reply(c, out, len, act);
    free(out);
}

/* reneg-wait, reneg-loop: SSL_read drives the renegotiation the
 * client's ClientHello started (application data is dropped). */
static void renegotiate(struct tconn *c)
{
    char buf[SSL_READ_SIZE];
    int r, err;

    do {
        ERR_clear_error();
        r = SSL_read(c->ssl, buf, sizeof(buf));
    } while (r > 0);
    err = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    if (err != SSL_ERROR_WANT_READ) {
        conn_finish(c);         /* the alert goes out first */
        return;
    }
    if (SSL_renegotiate_pending(c->ssl))
        return;
    c->srv->counts.renegotiations++;
    if (c->beh == T_RENEG_LOOP && ++c->renegs < MAX_RENEG) {
        if (hello_request(c) != 0)
            conn_close(c);
        return;
    }
    send_reply(c, c->reply, c->reply_len, c->reply_act);
    free(c->reply);
    c->reply = NULL;
}

/* Decrypt what has arrived into the request head. */
static void read_request(struct tconn *c)
{
    char buf[SSL_READ_SIZE];
    int r, rc;

    for (;;) {
        ERR_clear_error();
        r = SSL_read(c->ssl, buf, sizeof(buf));
        if (r <= 0)
            break;
        rc = tsrv_head_add(&c->head, buf, (size_t)r);
        if (rc < 0) {
            conn_close(c);
            return;
        }
        if (rc > 0) {
            answer(c);
            return;
        }
    }
    if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ)
        conn_close(c);          /* close_notify or a fatal error */
    ERR_clear_error();
}

static void advance(struct tconn *c)
{
    if (c->state == S_HANDSHAKE && !handshake(c)) {
        if ((c->beh == T_SHGARBAGE || c->beh == T_SHSTALL) &&
            c->state == S_HANDSHAKE)
            hello_then_garbage(c);
        flush(c);
        return;
    }
    if (c->state == S_REQUEST)
        read_request(c);
    else if (c->state == S_RENEG)
        renegotiate(c);
    flush(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct tconn *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct tconn *c = st->data;

    if (n == UV_EOF && c->finishing) {
        uv_read_stop(st);   /* let the reply or alert in flight finish */
        return;
    }
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->closing || c->finishing || c->state == S_HELD ||
        c->state == S_DONE)
        return;
    if (BIO_write(c->rbio, buf->base, (int)n) != (int)n) {
        conn_close(c);
        return;
    }
    advance(c);
}

static int conn_tls_init(struct tconn *c)
{
    c->ssl = SSL_new(c->srv->ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        SSL_free(c->ssl);
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->ssl = NULL;
        ERR_clear_error();
        return -1;
    }
    BIO_set_mem_eof_return(c->rbio, -1);    /* empty: "no data yet" */
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_app_data(c->ssl, c);
    SSL_set_accept_state(c->ssl);
    return 0;
}

static struct tconn *conn_new(struct tsrv_tls *s)
{
    struct tconn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->srv = s;
    if (conn_tls_init(c) != 0 || uv_tcp_init(s->loop, &c->tcp) != 0) {
        SSL_free(c->ssl);
        free(c);
        return NULL;
    }
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return c;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tsrv_tls *s = server->data;
    struct tconn *c;

    if (status < 0 || s->stopping)
        return;
    c = conn_new(s);
    if (!c)
        return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        (s->wildcard && !tsrv_tcp_local_is_loopback(&c->tcp))) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c);
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
static int make_tls(struct tsrv_tls *s, const char *ca_pem_path)
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

static void on_listener_closed(uv_handle_t *h)
{
    struct tsrv_tls *s = h->data;

    s->listening = 0;
    maybe_free_server(s);
}

static int bind_and_listen(struct tsrv_tls *s, const struct sockaddr *sa)
{
    int rc = tsrv_tcp_listen(&s->listener, sa, BACKLOG, on_connection);

    if (rc < 0)
        return rc;
    s->port = rc;
    s->wildcard = tsrv_tcp_is_wildcard(&s->listener);
    return 0;
}

int tsrv_tls_start(uv_loop_t *loop, const char *ip, int port,
                   const char *ca_pem_path, struct tsrv_tls **out)
{
    struct sockaddr_storage ss;
    struct tsrv_tls *s;
    int rc;

    if (port < 0 || port > 65535)
        return UV_EINVAL;
    memset(&ss, 0, sizeof(ss));
    rc = tsrv_addr(ip, port, &ss);
    if (rc != 0)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return UV_ENOMEM;
    s->loop = loop;
    rc = make_tls(s, ca_pem_path);
    if (rc == 0)
        rc = uv_tcp_init(loop, &s->listener);
    if (rc != 0) {
        free_pki(s);
        free(s);
        return rc;
    }
    s->listener.data = s;
    s->listening = 1;
    rc = bind_and_listen(s, (const struct sockaddr *)&ss);
    if (rc != 0) {
        s->stopping = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return rc;
    }
    *out = s;
    return 0;
}

int tsrv_tls_port(const struct tsrv_tls *s)
{
    return s->port;
}

unsigned long tsrv_tls_handshakes(const struct tsrv_tls *s)
{
    return s->counts.handshakes;
}

void tsrv_tls_counts(const struct tsrv_tls *s, struct tsrv_tls_counts *out)
{
    *out = s->counts;
}

void tsrv_tls_stop(struct tsrv_tls *s)
{
    struct tconn *c;

    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (c = s->conns; c; c = c->next)
        conn_close(c);
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
