/* server-dns-net.c: the DNS test server's sockets (see server-dns.h):
 * UDP with its hostile extras (decoys, cut replies, held-back replies),
 * TCP, suspend and resume, and the server's lifetime. The answers come
 * from server-dns.c. */
#include "server-dns.h"
#include "server-dns-int.h"
#include "tsrv-net.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef container_of
#define container_of(ptr, type, member)                                  \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

struct conn;
struct pending;

struct tsrv_dns {
    uv_loop_t *loop;
    uv_udp_t udp;
    uv_udp_t spoof;             /* another port, for `spoof` */
    uv_tcp_t tcp;               /* TCP on the UDP port (RFC 7766) */
    int udp_open, spoof_open, tcp_open;
    int stopping;
    struct sockaddr_storage addr;   /* bound address, port included */
    unsigned long queries, tcp_queries;
    unsigned delay_ms;
    int silent;
    int port;
    struct conn *conns;
    struct pending *pend;
    char rbuf[4096];
    unsigned char wbuf[2 + REPLY_MAX];  /* TCP length, then the reply */
};

struct send_req {
    uv_udp_send_t req;
    size_t len;
    char data[];
};

/* A reply held back by tsrv_dns_set_delay(). */
struct pending {
    uv_timer_t timer;
    struct tsrv_dns *s;
    struct pending *prev, *next;
    struct sockaddr_storage to;
    size_t len;
    unsigned char data[];
};

/* One TCP client: length-prefixed queries (RFC 1035 4.2.2). */
struct conn {
    uv_tcp_t tcp;
    struct tsrv_dns *s;
    struct conn *prev, *next;
    int closing;
    size_t len;
    unsigned char buf[2 + 1024];
};

struct write_req {
    uv_write_t req;
    char data[];
};

/* The reply goes to s->wbuf, after room for the TCP length. */
static void build_reply(struct tsrv_dns *s, const struct query *q,
                        enum behaviour b, int tcp, struct reply *r)
{
    tsrv__dns_build_reply(s->wbuf + 2, q, b, tcp, r);
}

/* ---- UDP ---- */

/* A handle being closed has no socket, and a send on it would bind a
 * new one (libuv's deferred bind). */
static int usable(uv_udp_t *udp, int open)
{
    return open && !uv_is_closing((uv_handle_t *)udp);
}

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    free(req);
}

static void udp_send(uv_udp_t *udp, const void *data, size_t len,
                     const struct sockaddr *addr)
{
    uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
    struct send_req *sr;
    int rc;

    rc = uv_udp_try_send(udp, &buf, 1, addr);
    if (rc != UV_EAGAIN && rc != UV_ENOSYS)
        return;
    sr = malloc(sizeof(*sr) + len);
    if (!sr)
        return;
    if (len)
        memcpy(sr->data, data, len);
    buf = uv_buf_init(sr->data, (unsigned)len);
    if (uv_udp_send(&sr->req, udp, &buf, 1, addr, on_sent) != 0)
        free(sr);
}

static void pending_closed(uv_handle_t *h);

static void on_pending(uv_timer_t *t)
{
    struct pending *p = container_of(t, struct pending, timer);
    struct tsrv_dns *s = p->s;

    if (usable(&s->udp, s->udp_open))
        udp_send(&s->udp, p->data, p->len, (struct sockaddr *)&p->to);
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

/* Send on the server's own socket, after s->delay_ms if one is set. */
static void reply_udp(struct tsrv_dns *s, const void *data, size_t len,
                      const struct sockaddr *addr)
{
    struct pending *p;

    if (!s->delay_ms) {
        if (usable(&s->udp, s->udp_open))
            udp_send(&s->udp, data, len, addr);
        return;
    }
    p = malloc(sizeof(*p) + len);
    if (!p)
        return;
    p->s = s;
    p->len = len;
    memcpy(&p->to, addr, addr->sa_family == AF_INET6
                             ? sizeof(struct sockaddr_in6)
                             : sizeof(struct sockaddr_in));
    if (len)
        memcpy(p->data, data, len);
    uv_timer_init(s->loop, &p->timer);
    uv_timer_start(&p->timer, on_pending, s->delay_ms, 0);
    p->prev = NULL;
    p->next = s->pend;
    if (s->pend)
        s->pend->prev = p;
    s->pend = p;
}

/* What a hostile server sends before (or instead of) the real reply. */
static int send_decoy(struct tsrv_dns *s, const struct query *q,
                      enum behaviour b, const struct sockaddr *addr)
{
    struct reply r;

    switch (b) {
    case B_EMPTY:
    case B_EMPTY_ONLY:
        reply_udp(s, "", 0, addr);
        return b == B_EMPTY_ONLY;
    case B_BADID:
    case B_BADID_ONLY:
        build_reply(s, q, B_FAKE, 0, &r);
        r.buf[0] ^= 0x80;
        reply_udp(s, r.buf, r.len, addr);
        return b == B_BADID_ONLY;
    case B_WRONGNAME:
    case B_WRONGNAME_ONLY:
        build_reply(s, q, B_FAKE, 0, &r);
        r.buf[13] = (unsigned char)(r.buf[13] == 'z' ? 'y' : 'z');
        reply_udp(s, r.buf, r.len, addr);
        return b == B_WRONGNAME_ONLY;
    case B_SPOOF:
        build_reply(s, q, B_FAKE, 0, &r);
        if (usable(&s->spoof, s->spoof_open))
            udp_send(&s->spoof, r.buf, r.len, addr);
        return 0;
    default:
        return 0;
    }
}

static void answer_udp(struct tsrv_dns *s, const struct query *q,
                       enum behaviour b, const struct sockaddr *addr)
{
    struct reply r;

    if (b == B_DROP || send_decoy(s, q, b, addr))
        return;
    if (b == B_ECHO) {                      /* the query, QR=0 */
        reply_udp(s, q->pkt, q->qend, addr);
        return;
    }
    build_reply(s, q, b, 0, &r);
    if (b == B_CUT && r.ancount)            /* inside the type field */
        r.len = r.an_off + 3;
    else if (b == B_CUT2 && r.ancount == 2) /* inside the 2nd address */
        r.len -= 2;
    reply_udp(s, r.buf, r.len, addr);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct tsrv_dns *s = h->data;

    (void)hint;
    *buf = uv_buf_init(s->rbuf, sizeof(s->rbuf));
}

static void on_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
    struct tsrv_dns *s = udp->data;
    struct query q;
    enum behaviour b;

    if (nread < 0 || addr == NULL)
        return;
    s->queries++;
    if (s->silent || (flags & UV_UDP_PARTIAL) ||
        tsrv__dns_parse_query((const unsigned char *)buf->base,
                              (size_t)nread, &q))
        return;
    b = tsrv__dns_classify(&q);
    tsrv__dns_parse_ip_label(&q);
    answer_udp(s, &q, b, addr);
}

/* ---- TCP ---- */

static void on_conn_closed(uv_handle_t *h);

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(container_of(req, struct write_req, req));
}

static void answer_tcp(struct conn *c, const unsigned char *msg, size_t len)
{
    struct tsrv_dns *s = c->s;
    struct write_req *w;
    struct query q;
    struct reply r;
    enum behaviour b;
    uv_buf_t buf;

    s->tcp_queries++;
    if (s->silent || tsrv__dns_parse_query(msg, len, &q))
        return;
    b = tsrv__dns_classify(&q);
    tsrv__dns_parse_ip_label(&q);
    if (b == B_DROP)
        return;
    if (b == B_TCCLOSE) {
        conn_close(c);
        return;
    }
    build_reply(s, &q, b, 1, &r);
    w = malloc(sizeof(*w) + r.len + 2);
    if (!w)
        return;
    w->data[0] = (char)(r.len >> 8);
    w->data[1] = (char)r.len;
    memcpy(w->data + 2, r.buf, r.len);
    buf = uv_buf_init(w->data, (unsigned)(r.len + 2));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
        free(w);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct conn *c = h->data;

    (void)hint;
    *buf = uv_buf_init((char *)c->buf + c->len,
                       (unsigned)(sizeof(c->buf) - c->len));
}

static void conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = st->data;
    size_t mlen;

    (void)buf;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    while (!c->closing && c->len >= 2) {
        mlen = (size_t)c->buf[0] << 8 | c->buf[1];
        if (2 + mlen > sizeof(c->buf)) {
            conn_close(c);
            return;
        }
        if (c->len < 2 + mlen)
            return;
        answer_tcp(c, c->buf + 2, mlen);
        c->len -= 2 + mlen;
        memmove(c->buf, c->buf + 2 + mlen, c->len);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tsrv_dns *s = server->data;
    struct conn *c;

    if (status < 0 || !(c = calloc(1, sizeof(*c))))
        return;
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    c->s = s;
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (tsrv_tcp_accept(server, &c->tcp, 0, conn_alloc, conn_read) != 0)
        conn_close(c);
}

/* ---- lifetime ---- */

static void maybe_free(struct tsrv_dns *s)
{
    if (s->stopping && !s->udp_open && !s->spoof_open && !s->tcp_open &&
        !s->conns && !s->pend)
        free(s);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct tsrv_dns *s = c->s;

    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    maybe_free(s);
}

static void pending_closed(uv_handle_t *h)
{
    struct pending *p = container_of((uv_timer_t *)h, struct pending, timer);
    struct tsrv_dns *s = p->s;

    if (p->prev)
        p->prev->next = p->next;
    else
        s->pend = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
    maybe_free(s);
}

static void on_closed(uv_handle_t *h)
{
    struct tsrv_dns *s = h->data;

    if (h == (uv_handle_t *)&s->udp)
        s->udp_open = 0;
    else if (h == (uv_handle_t *)&s->spoof)
        s->spoof_open = 0;
    else
        s->tcp_open = 0;
    maybe_free(s);
}

/* Bind a UDP and a TCP socket to the same port of `ss` (port 0: any
 * port free for both).  Plain sockets, handed to libuv afterwards, so a
 * port that turns out to be taken for TCP costs no handle close. */
static int bind_pair(struct sockaddr_storage *ss, int *ufd, int *tfd)
{
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    int fixed = ((struct sockaddr_in *)ss)->sin_port != 0;
    int tries, one = 1, err = EADDRINUSE;

    for (tries = 0; tries < 20; tries++) {
        struct sockaddr_storage got = *ss;
        socklen_t glen = sizeof(got);
        int u = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int t = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (u >= 0 && t >= 0 &&
            setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            bind(u, (struct sockaddr *)ss, len) == 0 &&
            getsockname(u, (struct sockaddr *)&got, &glen) == 0 &&
            bind(t, (struct sockaddr *)&got, len) == 0) {
            *ufd = u;
            *tfd = t;
            *ss = got;
            return 0;
        }
        err = errno;
        if (u >= 0)
            close(u);
        if (t >= 0)
            close(t);
        if (fixed)
            break;
    }
    return -err;
}

static void set_rcvbuf(int fd)
{
    /* A scan at concurrency 2,000 sends ~4,000 queries in a burst; the
     * default receive buffer holds a few hundred. */
    int size = 4 << 20;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Open the UDP and TCP sockets on s->addr (whose port may be 0). */
static int open_sockets(struct tsrv_dns *s)
{
    int u = -1, t = -1, rc;

    rc = bind_pair(&s->addr, &u, &t);
    if (rc != 0)
        return rc;
    set_rcvbuf(u);
    uv_udp_init(s->loop, &s->udp);
    uv_tcp_init(s->loop, &s->tcp);
    s->udp.data = s->tcp.data = s;
    s->udp_open = s->tcp_open = 1;
    rc = uv_udp_open(&s->udp, u);
    if (rc != 0)
        close(u);
    if (uv_tcp_open(&s->tcp, t) != 0) {
        close(t);
        rc = rc ? rc : UV_EBADF;
    }
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->tcp, 128, on_connection);
    if (rc == 0)
        rc = uv_udp_recv_start(&s->udp, on_alloc, on_recv);
    if (rc != 0) {
        uv_close((uv_handle_t *)&s->udp, on_closed);
        uv_close((uv_handle_t *)&s->tcp, on_closed);
        return rc;
    }
    s->port = ntohs(((struct sockaddr_in *)&s->addr)->sin_port);
    return 0;
}

static void close_sockets(struct tsrv_dns *s)
{
    struct conn *c;

    if (s->udp_open && !uv_is_closing((uv_handle_t *)&s->udp))
        uv_close((uv_handle_t *)&s->udp, on_closed);
    if (s->tcp_open && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, on_closed);
    for (c = s->conns; c; c = c->next)
        conn_close(c);
}

int tsrv_dns_start(uv_loop_t *loop, const char *ip, int port,
                   struct tsrv_dns **out)
{
    struct sockaddr_storage ss, sp;
    struct tsrv_dns *s;
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
    s->addr = ss;
    rc = open_sockets(s);
    if (rc == 0) {
        sp = ss;
        ((struct sockaddr_in *)&sp)->sin_port = 0;  /* same offset in v6 */
        uv_udp_init(loop, &s->spoof);
        s->spoof.data = s;
        s->spoof_open = 1;
        rc = uv_udp_bind(&s->spoof, (struct sockaddr *)&sp, 0);
        if (rc != 0)
            close_sockets(s);
    }
    if (rc != 0) {
        s->stopping = 1;
        if (s->spoof_open)
            uv_close((uv_handle_t *)&s->spoof, on_closed);
        maybe_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int tsrv_dns_port(const struct tsrv_dns *s)
{
    return s->port;
}

unsigned long tsrv_dns_queries(const struct tsrv_dns *s)
{
    return s->queries;
}

unsigned long tsrv_dns_tcp_queries(const struct tsrv_dns *s)
{
    return s->tcp_queries;
}

void tsrv_dns_set_delay(struct tsrv_dns *s, unsigned ms)
{
    s->delay_ms = ms;
}

void tsrv_dns_set_silent(struct tsrv_dns *s, int on)
{
    s->silent = on;
}

void tsrv_dns_suspend(struct tsrv_dns *s)
{
    close_sockets(s);
}

int tsrv_dns_resume(struct tsrv_dns *s)
{
    if (s->udp_open || s->tcp_open)
        return UV_EBUSY;
    return open_sockets(s);
}

void tsrv_dns_stop(struct tsrv_dns *s)
{
    struct pending *p;

    s->stopping = 1;
    close_sockets(s);
    if (s->spoof_open && !uv_is_closing((uv_handle_t *)&s->spoof))
        uv_close((uv_handle_t *)&s->spoof, on_closed);
    for (p = s->pend; p; p = p->next)
        if (!uv_is_closing((uv_handle_t *)&p->timer))
            uv_close((uv_handle_t *)&p->timer, pending_closed);
    maybe_free(s);
}
