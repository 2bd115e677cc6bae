/* server-h2.c: the HTTP/2 test server's transport (see server-h2.h).
 *
 * As server-tls.c: each connection owns an SSL over memory BIOs; what
 * uv_read brings goes into the rbio, the handshake or SSL_read runs,
 * and whatever OpenSSL left in the wbio goes out with uv_write. h2c
 * skips the SSL. Plaintext goes to server-h2-proto.c; its replies come
 * back through h2_send(). Each connection holds two handles (the socket
 * and its lifetime timer) and is freed when both have closed. */
#include "server-h2.h"
#include "tsrv-net.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "server-h2-int.h"

static const unsigned char alpn_h2[] = { 2, 'h', '2' };
static const unsigned char alpn_h11[] = { 8, 'h', 't', 't', 'p', '/', '1',
                                          '.', '1' };

struct h2wreq {
    uv_write_t req;
    char data[];
};

/* ---- connections ---- */

static void free_server(struct tsrv_h2 *s)
{
    SSL_CTX_free(s->ctx);
    tcerts_free(&s->leaf);
    tcerts_free(&s->ca);
    free(s);
}

static void maybe_free_server(struct tsrv_h2 *s)
{
    if (s->stopping && !s->listening && !s->conns)
        free_server(s);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct h2conn *c = h->data;
    struct tsrv_h2 *s = c->srv;

    if (--c->handles > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    SSL_free(c->ssl);
    nghttp2_session_del(c->ng);
    tsrv_head_free(&c->head);
    free(c);
    maybe_free_server(s);
}

void h2_close(struct h2conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->life, on_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct h2conn *c = req->handle->data;

    free(req);
    c->inflight--;
    if (status < 0)
        h2_close(c);
    else if (!c->closing && !c->finishing && c->state == S_RAW &&
             c->inflight == 0)
        h2_flood_next(c);
}

static int write_raw(struct h2conn *c, const char *p, size_t n)
{
    struct h2wreq *w;
    uv_buf_t buf;

    if (c->closing)
        return -1;
    w = malloc(sizeof(*w) + n);
    if (!w) {
        h2_close(c);
        return -1;
    }
    memcpy(w->data, p, n);
    buf = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) !=
        0) {
        free(w);
        h2_close(c);
        return -1;
    }
    c->inflight++;
    return 0;
}

/* Send whatever OpenSSL left in wbio. 0 or -1. */
static int flush_tls(struct h2conn *c)
{
    char buf[H2_CHUNK + 1024];
    int got;

    while (!c->closing && BIO_ctrl_pending(c->wbio) > 0) {
        got = BIO_read(c->wbio, buf, sizeof(buf));
        if (got <= 0 || write_raw(c, buf, (size_t)got) != 0) {
            h2_close(c);
            return -1;
        }
    }
    return c->closing ? -1 : 0;
}

int h2_send(struct h2conn *c, const void *p, size_t n)
{
    if (c->closing || c->finishing)
        return -1;
    if (!c->ssl)
        return write_raw(c, p, n);
    ERR_clear_error();
    if (n > 0 && SSL_write(c->ssl, p, (int)n) != (int)n) {
        ERR_clear_error();
        h2_close(c);
        return -1;
    }
    return flush_tls(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    h2_close(req->handle->data);
}

void h2_finish(struct h2conn *c)
{
    if (c->closing || c->finishing)
        return;
    if (c->ssl) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
        if (flush_tls(c) != 0)
            return;
    }
    c->finishing = 1;
    c->state = S_DONE;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        h2_close(c);
}

/* ---- input ---- */

/* The handshake is done: h2 or HTTP/1.1, as ALPN and the mode say. */
static void after_handshake(struct h2conn *c)
{
    const unsigned char *p;
    unsigned n;

    SSL_get0_alpn_selected(c->ssl, &p, &n);
    if (n != 2 || memcmp(p, "h2", 2) != 0)
        c->state = S_H1;
    else if (c->srv->mode == TSRV_H2_TLS_H1TALK)
        c->state = S_H1TALK;
    else if (h2_session_start(c) != 0)
        h2_close(c);
}

static void tls_input(struct h2conn *c)
{
    char buf[H2_SSL_READ];
    int r;

    ERR_clear_error();
    if (c->state == S_HANDSHAKE) {
        r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            r = SSL_get_error(c->ssl, r);
            ERR_clear_error();
            if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
                h2_finish(c);   /* the alert goes out first */
            else
                flush_tls(c);
            return;
        }
        after_handshake(c);
    }
    while (!c->closing && !c->finishing &&
           (r = SSL_read(c->ssl, buf, sizeof(buf))) > 0)
        h2_input(c, buf, (size_t)r);
    if (c->closing || c->finishing)
        return;
    r = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    if (r != SSL_ERROR_WANT_READ)
        h2_close(c);            /* close_notify or a fatal error */
    else
        flush_tls(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct h2conn *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct h2conn *c = st->data;

    if (n == UV_EOF && c->finishing) {
        uv_read_stop(st);   /* let what is in flight finish */
        return;
    }
    if (n < 0) {
        h2_close(c);
        return;
    }
    if (n == 0 || c->closing || c->finishing)
        return;
    if (!c->ssl) {
        h2_input(c, buf->base, (size_t)n);
        return;
    }
    if (BIO_write(c->rbio, buf->base, (int)n) != (int)n) {
        h2_close(c);
        return;
    }
    tls_input(c);
}

static void on_lifetime(uv_timer_t *t)
{
    struct h2conn *c = t->data;

    c->srv->counts.lifetimes++;
    h2_close(c);
}

/* ---- accepting ---- */

static int conn_tls_init(struct h2conn *c)
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

static struct h2conn *conn_new(struct tsrv_h2 *s)
{
    struct h2conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->srv = s;
    if ((s->ctx && conn_tls_init(c) != 0) ||
        uv_tcp_init(s->loop, &c->tcp) != 0) {
        SSL_free(c->ssl);
        free(c);
        return NULL;
    }
    uv_timer_init(s->loop, &c->life);   /* cannot fail */
    c->tcp.data = c->life.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return c;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tsrv_h2 *s = server->data;
    struct h2conn *c;

    if (status < 0 || s->stopping || !(c = conn_new(s)))
        return;
    s->counts.connections++;
    uv_timer_start(&c->life, on_lifetime, TSRV_H2_LIFE_MS, 0);
    if (tsrv_tcp_accept(server, &c->tcp, s->wildcard, on_alloc, on_read) !=
        0)
        h2_close(c);
    else if (!c->ssl && h2_session_start(c) != 0)
        h2_close(c);
}

/* ---- certificates, ALPN ---- */

static int on_alpn(SSL *ssl, const unsigned char **out,
                   unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    const struct tsrv_h2 *s = arg;
    unsigned char *sel = NULL;

    (void)ssl;
    if (s->mode != TSRV_H2_TLS_H1ONLY &&
        SSL_select_next_proto(&sel, outlen, alpn_h2, sizeof(alpn_h2), in,
                              inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    if (SSL_select_next_proto(&sel, outlen, alpn_h11, sizeof(alpn_h11), in,
                              inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static int make_pki(struct tsrv_h2 *s, const struct tcert *ca,
                    const char *ca_pem_path)
{
    static const char *const dns[] = { "fast.test", "*.fast.test",
                                       "h2.test", "*.h2.test",
                                       "localhost" };
    static const char *const ips[] = { "127.0.0.1", "::1" };

    if (!ca) {
        if (tcerts_ca(&s->ca) != 0 ||
            (ca_pem_path && tcerts_write_pem(&s->ca, ca_pem_path) != 0))
            return -1;
        ca = &s->ca;
    }
    if (tcerts_leaf(&s->leaf, ca, "h2.test", dns, 5, ips, 2, -1, 90) != 0)
        return -1;
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (!s->ctx)
        return -1;
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(s->ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_alpn_select_cb(s->ctx, on_alpn, s);
    return SSL_CTX_use_cert_and_key(s->ctx, s->leaf.cert, s->leaf.key, NULL,
                                    1) == 1
               ? 0 : -1;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct tsrv_h2 *s = h->data;

    s->listening = 0;
    maybe_free_server(s);
}

int tsrv_h2_start(uv_loop_t *loop, const char *ip, int port, int mode,
                  const struct tcert *ca, const char *ca_pem_path,
                  struct tsrv_h2 **out)
{
    struct sockaddr_storage ss;
    struct tsrv_h2 *s;
    int rc;

    if (port < 0 || port > 65535 || mode < TSRV_H2_TLS ||
        mode > TSRV_H2_CLEAR)
        return UV_EINVAL;
    memset(&ss, 0, sizeof(ss));
    rc = tsrv_addr(ip, port, &ss);
    if (rc != 0)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return UV_ENOMEM;
    s->loop = loop;
    s->mode = mode;
    h2_fill_big(s);
    ERR_clear_error();
    rc = mode != TSRV_H2_CLEAR && make_pki(s, ca, ca_pem_path) != 0
             ? UV_EIO : 0;
    ERR_clear_error();
    if (rc == 0)
        rc = uv_tcp_init(loop, &s->listener);
    if (rc != 0) {
        free_server(s);
        return rc;
    }
    s->listener.data = s;
    s->listening = 1;
    rc = tsrv_tcp_listen(&s->listener, (const struct sockaddr *)&ss,
                         H2_BACKLOG, on_connection, &s->wildcard);
    if (rc < 0) {
        s->stopping = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return rc;
    }
    s->port = rc;
    *out = s;
    return 0;
}

int tsrv_h2_port(const struct tsrv_h2 *s)
{
    return s->port;
}

void tsrv_h2_counts(const struct tsrv_h2 *s, struct tsrv_h2_counts *out)
{
    *out = s->counts;
}

void tsrv_h2_stop(struct tsrv_h2 *s)
{
    struct h2conn *c;

    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (c = s->conns; c; c = c->next)
        h2_close(c);
}
