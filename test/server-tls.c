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
 * unclean end) and flush() (one-byte records or writes).  Certificates,
 * behaviours and the SSL_CTX are server-tls-pki.c. */
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
#include "server-tls-int.h"

/* ---- connections ---- */

static void maybe_free_server(struct tsrv_tls *s)
{
    if (s->stopping && !s->listening && !s->conns) {
        tls_free_pki(s);
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

    if (status < 0 || s->stopping || !(c = conn_new(s)))
        return;
    if (tsrv_tcp_accept(server, &c->tcp, s->wildcard, on_alloc, on_read) != 0)
        conn_close(c);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct tsrv_tls *s = h->data;

    s->listening = 0;
    maybe_free_server(s);
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
    rc = tls_make_pki(s, ca_pem_path);
    if (rc == 0)
        rc = uv_tcp_init(loop, &s->listener);
    if (rc != 0) {
        tls_free_pki(s);
        free(s);
        return rc;
    }
    s->listener.data = s;
    s->listening = 1;
    rc = tsrv_tcp_listen(&s->listener, (const struct sockaddr *)&ss, BACKLOG,
                         on_connection, &s->wildcard);
    if (rc < 0) {
        s->stopping = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return rc;
    }
    s->port = rc;
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

const struct tcert *tsrv_tls_ca(const struct tsrv_tls *s)
{
    return &s->ca;
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
