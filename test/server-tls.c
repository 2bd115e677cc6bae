/* server-tls.c: HTTPS test server over memory BIOs (see server-tls.h).
 *
 * Each connection owns an SSL whose rbio receives what uv_read brought
 * and whose wbio is drained into uv_write after every SSL call. The
 * client hello callback picks the behaviour from the SNI label: it
 * installs the behaviour's certificate and protocol limit on the SSL,
 * or pauses the handshake for good (hang, reset). One SSL_CTX serves
 * all behaviours; its session cache is off so memory stays flat. */
#include "server-tls.h"
#include "tsrv-net.h"

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
/* The kernel caps it at net.core.somaxconn; a benchmark opening 20,000
 * connections in a burst raises that, and then needs the room. */
#define BACKLOG 65535
#define SERVER_NAME "hscan-test-tls"
#define N_VALID_NAMES (sizeof(valid_names) / sizeof(valid_names[0]))

enum cert_id { C_VALID, C_EXPIRED, C_WRONGNAME, C_SELFSIGNED, C_COUNT };

enum tbeh {
    T_VALID, T_EXPIRED, T_WRONGNAME, T_SELFSIGNED, T_HANG, T_RESET,
    T_ALPN_NONE, T_TLS12
};

/* Indexed by enum tbeh. */
static const struct {
    const char *name;
    enum tbeh beh;
    int cert;               /* enum cert_id, or -1: none of its own */
} tls_behaviours[] = {
    { "valid", T_VALID, C_VALID }, { "expired", T_EXPIRED, C_EXPIRED },
    { "wrongname", T_WRONGNAME, C_WRONGNAME },
    { "selfsigned", T_SELFSIGNED, C_SELFSIGNED },
    { "hang", T_HANG, -1 }, { "reset", T_RESET, -1 },
    { "alpn-none", T_ALPN_NONE, C_VALID }, { "tls12", T_TLS12, C_VALID },
};

/* The valid leaf covers NAME.test and *.NAME.test for each of these. */
static const char *const valid_names[] = {
    "valid", "alpn-none", "tls12", "redir", "fast", "delay", "r301",
    "r302", "notfound", "error", "http10", "chunked", "many", "huge",
    "trickle", "close", "garbage", "badstatus", "ctl", "lf", "status",
    "early",
};

static const unsigned char alpn_http11[] = { 8, 'h', 't', 't', 'p', '/',
                                             '1', '.', '1' };

enum state {
    S_HANDSHAKE,            /* feeding the handshake */
    S_HELD,                 /* hang: paused at the ClientHello */
    S_REQUEST,              /* reading the request head */
    S_DONE                  /* answered; input is ignored */
};

struct tsrv_tls {
    uv_tcp_t listener;
    uv_loop_t *loop;
    SSL_CTX *ctx;
    struct tcert ca, certs[C_COUNT];
    struct tconn *conns;    /* every connection not yet freed */
    unsigned long handshakes;
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

    for (i = 0; i < sizeof(tls_behaviours) / sizeof(tls_behaviours[0]);
         i++)
        if (strlen(tls_behaviours[i].name) == n &&
            strncasecmp(tls_behaviours[i].name, p, n) == 0)
            return (int)i;
    return -1;
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

static enum tbeh sni_behaviour(SSL *ssl)
{
    const unsigned char *ext;
    const char *host, *label;
    size_t len, n, ln;
    int i;

    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext,
                                   &len) ||
        !sni_host(ext, len, &host, &n) ||
        !tsrv_http_host_label(host, n, &label, &ln))
        return T_VALID;
    i = find_behaviour(label, ln);
    return i < 0 ? T_VALID : tls_behaviours[i].beh;
}

/* Install the behaviour's certificate and version limit on the SSL. */
static int apply_behaviour(struct tconn *c)
{
    const struct tcert *t;
    int id = tls_behaviours[c->beh].cert;

    if (c->beh == T_TLS12 &&
        SSL_set_max_proto_version(c->ssl, TLS1_2_VERSION) != 1)
        return -1;
    if (id < 0 || id == C_VALID)    /* the SSL_CTX's own */
        return 0;
    t = &c->srv->certs[id];
    return SSL_use_cert_and_key(c->ssl, t->cert, t->key, NULL, 1) == 1
               ? 0 : -1;
}

static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    struct tconn *c = SSL_get_app_data(ssl);

    (void)arg;
    c->beh = (unsigned char)sni_behaviour(ssl);
    if (c->beh == T_HANG || c->beh == T_RESET)
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

/* Send whatever OpenSSL left in wbio. */
static void flush(struct tconn *c)
{
    size_t n;

    while (!c->closing && !c->finishing &&
           (n = BIO_ctrl_pending(c->wbio)) > 0) {
        struct wreq *w = malloc(sizeof(*w) + n);
        uv_buf_t buf;
        int got;

        if (!w) {
            conn_close(c);
            return;
        }
        got = BIO_read(c->wbio, w->data, (int)n);
        buf = uv_buf_init(w->data, got > 0 ? (unsigned)got : 0);
        if (got <= 0 || uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1,
                                 on_written) != 0) {
            free(w);
            conn_close(c);
        }
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->handle->data);
}

/* Flush, send FIN after the queued writes, then close. */
static void conn_finish(struct tconn *c)
{
    flush(c);
    if (c->closing || c->finishing)
        return;
    c->finishing = 1;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        conn_close(c);
}

/* close_notify (once, not waiting for the peer's), then FIN. */
static void conn_end_tls(struct tconn *c)
{
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    ERR_clear_error();
    conn_finish(c);
}

/* The handshake stopped at the ClientHello callback: hang or reset. */
static void hold(struct tconn *c)
{
    if (c->beh == T_RESET)
        conn_close_how(c, 1);
    else
        c->state = S_HELD;
}

/* Advance the handshake; 1 once it is complete. */
static int handshake(struct tconn *c)
{
    int r, err;

    ERR_clear_error();
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->srv->handshakes++;
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

/* Answer the complete (or full) request head. */
static void answer(struct tconn *c)
{
    char *out = NULL;
    size_t len = 0;
    int act, ok = 1;

    act = tsrv_http_response(c->head.buf, c->head.len, SERVER_NAME, &out,
                             &len);
    tsrv_head_free(&c->head);
    c->state = S_DONE;
    ERR_clear_error();
    if (act >= 0 && len > 0)
        ok = SSL_write(c->ssl, out, (int)len) == (int)len;
    free(out);
    if (act < 0 || !ok) {
        conn_close(c);
        return;
    }
    if (act == TSRV_HTTP_SEND || act == TSRV_HTTP_CLOSE)
        conn_end_tls(c);
    else if (act == TSRV_HTTP_RESET)
        conn_close_how(c, 1);
    else
        c->open_ended = 1;      /* huge, hang: until the peer closes */
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
        flush(c);
        return;
    }
    if (c->state == S_REQUEST)
        read_request(c);
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
    return s->handshakes;
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
