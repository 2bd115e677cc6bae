/* The bottom leg of a probe (leg.h): its TCP socket.  Reads land in the
 * scanner's shared buffer and go straight up; writes go out at once
 * when the socket takes them (nearly always: a request is a few hundred
 * bytes into an empty socket buffer), else what is left is copied into
 * a write request.  The socket's close callback is also where a probe's
 * memory is freed, once its last handle has closed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

struct tcp_write {
    uv_write_t req;
    struct probe *p;
    char data[];
};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct probe *p = h->data;

    (void)hint;
    buf->base = p->env->rbuf;
    buf->len = p->env->rbuf_size;
}

/* An EOF that was an RST.  When bytes and the peer's RST arrive in one
 * poll, libuv reports EOF after the partial read without reading again
 * (POLLHUP, uv__stream_io), so the reset is still pending in SO_ERROR:
 * without this look it would be read_closed, depending on timing. */
static int eof_was_reset(struct probe *p)
{
    uv_os_fd_t fd;
    int err = 0;
    socklen_t len = sizeof(err);

    if (uv_fileno((uv_handle_t *)&p->tcp, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return 0;
    return err == ECONNRESET;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct probe *p = st->data;
    struct hscan__leg *up = p->tcp_leg.above;
    char d[HSCAN__DETAIL_SIZE];

    /* Reading starts with the connect (see hscan__p_tcp_connect), so
     * bytes may come while a request is still being written: they are
     * the response all the same. */
    if ((p->state != PROBE_TLS && p->state != PROBE_PROXY &&
         !hscan__p_reading(p)) || nread == 0)
        return;                  /* 0 is EAGAIN, not EOF */
    if (nread < 0) {
        if (nread == UV_EOF && eof_was_reset(p))
            nread = UV_ECONNRESET;
        if (nread == UV_EOF)
            up->ops->eof(up, 0, NULL);
        else if (nread == UV_ECONNRESET)
            up->ops->eof(up, HSCAN_EREAD_RESET, "connection reset by peer");
        else {
            snprintf(d, sizeof(d), "read: %s", uv_strerror((int)nread));
            up->ops->eof(up, HSCAN_EREAD_RESET, d);
        }
        return;
    }
    p->last_read = uv_now(p->env->loop);
    p->heard = 1;
    p->env->bytes_rx += (uint64_t)nread;
    up->ops->recv(up, buf->base, (size_t)nread);
}

/* The connect request lives only while the connect does (96 bytes a
 * probe would otherwise carry while it waits for the reply).  libuv
 * calls this once for every request it took, with UV_ECANCELED when the
 * handle is closed first, before the close callback. */
static void on_connect(uv_connect_t *req, int status)
{
    struct probe *p = req->data;

    free(req);
    hscan__p_connected(p, status);
}

int hscan__p_tcp_connect(struct probe *p, const struct sockaddr *sa)
{
    uv_connect_t *req = malloc(sizeof(*req));
    int rc;

    if (!req)
        return UV_ENOMEM;
    uv_tcp_init(p->env->loop, &p->tcp);
    p->tcp.data = p;
    p->tcp_live = 1;
    p->handles++;
    req->data = p;
    p->heard = 0;
    rc = hscan__p_bind_source(p, &p->tcp, sa);
    if (rc == 0)
        rc = uv_tcp_connect(req, &p->tcp, sa, on_connect);
    if (rc != 0) {
        free(req);
        hscan__p_close_tcp(p);
        return rc;
    }
    /* Read from the start: libuv then registers the socket once for
     * both directions and only modifies it when the connect is done,
     * one epoll_ctl less per host than starting to read afterwards.
     * Nothing is read before the connect completes (libuv handles the
     * connect first). */
    uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    return 0;
}

int hscan__p_read_start(struct probe *p)
{
    int rc;

    if (uv_is_active((uv_handle_t *)&p->tcp))
        return 0;
    rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    return rc == UV_EALREADY ? 0 : rc;
}

void hscan__p_closed(uv_handle_t *h)
{
    struct probe *p = h->data;

    p->handles--;
    if (h == (uv_handle_t *)&p->tcp) {
        p->tcp_closing = 0;
        hscan__p_unsocked(p);
        if (p->state != PROBE_CLOSING)
            return;
    }
    if (p->handles > 0)
        return;
    p->env->on_freed(p->env->arg, p);
    free(p);
}

/* Close the socket.  After a complete exchange an abortive close (RST)
 * leaves no TIME_WAIT behind, which matters when thousands of probes a
 * second go to the same few addresses; the server has already sent all it
 * meant to.  Over TLS no close_notify is sent or awaited: a peer that
 * never answers one costs nothing. */
void hscan__p_close_tcp(struct probe *p)
{
    if (!p->tcp_live)
        return;
    p->tcp_live = 0;
    p->tcp_closing = 1;
    if (p->connected && uv_tcp_close_reset(&p->tcp, hscan__p_closed) == 0)
        return;
    uv_close((uv_handle_t *)&p->tcp, hscan__p_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct tcp_write *w = container_of(req, struct tcp_write, req);
    struct probe *p = w->p;

    free(w);
    hscan__p_written(p, status);
}

/* What the socket does not take at once is copied: the caller's bytes
 * are its own again when this returns (leg.h). */
static int tcp_send(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)n);
    struct tcp_write *w;
    int done, rc;

    done = uv_try_write((uv_stream_t *)&p->tcp, &b, 1);
    if (done == (int)n) {
        p->env->bytes_tx += n;
        return 1;
    }
    if (done < 0)
        done = 0;
    p->env->bytes_tx += (uint64_t)done;
    if (!(w = malloc(sizeof(*w) + n - (size_t)done))) {
        return hscan__p_set_why(p, WHY_WRITE_NOMEM, 0,
                                HSCAN_ERESOURCE_EXHAUSTED);
    }
    w->p = p;
    memcpy(w->data, buf + done, n - (size_t)done);
    b = uv_buf_init(w->data, (unsigned)(n - (size_t)done));
    rc = uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_written);
    if (rc != 0) {
        free(w);
        return hscan__p_set_why(p, WHY_WRITE, rc,
                                hscan__p_local_shortage(rc)
                                    ? HSCAN_ERESOURCE_EXHAUSTED
                                    : HSCAN_EWRITE_FAILED);
    }
    p->env->bytes_tx += b.len;
    return 0;
}

/* The bottom: nothing below to start it, to feed it or to end it. */
static void tcp_start(struct hscan__leg *l) { (void)l; }
static void tcp_recv(struct hscan__leg *l, const char *buf, size_t n)
{
    (void)l; (void)buf; (void)n;
}
static void tcp_eof(struct hscan__leg *l, int err, const char *detail)
{
    (void)l; (void)err; (void)detail;
}
static void tcp_close(struct hscan__leg *l) { hscan__p_close_tcp(l->p); }

const struct hscan__leg_ops hscan__tcp_leg = {
    "tcp", tcp_start, tcp_recv, tcp_send, tcp_eof, tcp_close
};

static void link_legs(struct hscan__leg *below, struct hscan__leg *above)
{
    below->above = above;
    above->below = below;
}

void hscan__p_stack(struct probe *p)
{
    struct hscan__leg *bottom = &p->tcp_leg;

    p->tcp_leg.ops = &hscan__tcp_leg;
    p->proxy_leg.ops = &hscan__proxy_leg;
    p->tls_leg.ops = &hscan__tls_leg;
    p->http_leg.ops = &hscan__http1_leg;
    p->tcp_leg.p = p->proxy_leg.p = p->tls_leg.p = p->http_leg.p = p;
    if (p->proxy_mode) {
        link_legs(&p->tcp_leg, &p->proxy_leg);
        bottom = &p->proxy_leg;
    }
    if (p->scheme == HSCAN__HTTPS) {
        link_legs(bottom, &p->tls_leg);
        link_legs(&p->tls_leg, &p->http_leg);
    } else {
#ifdef HSCAN_HAVE_NGHTTP2
        if (p->env->lim.h2c)
            p->http_leg.ops = &hscan__h2_leg;
#endif
        link_legs(bottom, &p->http_leg);
    }
}
