/* server-http-tcp.c: the plain TCP HTTP test server (see
 * server-http.h): its connections, and the behaviours paced by its
 * timers and write completions (delay, trickle, drip, the streamed
 * replies, split). The reply bytes come from server-http.c. One
 * request per connection. */
#include "server-http.h"
#include "server-http-int.h"
#include "tsrv-net.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RBUF_SIZE 65536
/* The kernel caps it at net.core.somaxconn; a benchmark opening 20,000
 * connections in a burst raises that, and then needs the room. */
#define BACKLOG 65535
#define ENDLESS_VMAX 8192
#define SPLIT_MIN 17          /* "HTTP/1.1 200 " + 2 reason bytes + CRLF */
#define STREAM_CHUNK 16384    /* one streamed write; one in flight */

static const char trickle_bytes[] = "X-T: t\r\n";

struct tsrv_http {
    uv_tcp_t listener;
    uv_loop_t *loop;
    struct conn *conns;     /* every connection not yet freed */
    unsigned long requests;
    int port;
    int stopping;
    int listening;          /* listener close callback not yet run */
    int wildcard;           /* bound to 0.0.0.0 or ::: loopback only */
    char rbuf[RBUF_SIZE];   /* shared: reads are consumed at once */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;       /* initialised only if has_timer */
    uv_check_t turn;        /* split: initialised only if has_turn */
    uv_shutdown_t shut;
    struct tsrv_http *srv;
    struct conn *prev, *next;
    struct tsrv_head head;  /* request head until it is complete */
    unsigned char trickle_pos, pending;
    unsigned char has_timer, has_turn, closing, answered, open_ended;
    unsigned char streaming;    /* a streamed reply: next piece on write */
    unsigned char gen_beh, gen_started;
    long gen_arg;
    uint64_t gen_pos;           /* streamed or dripped units so far */
};

struct wreq {
    uv_write_t req;
    char *data;
};

static void maybe_free_server(struct tsrv_http *s)
{
    if (s->stopping && !s->listening && !s->conns)
        free(s);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct tsrv_http *s = c->srv;

    if (--c->pending > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    tsrv_head_free(&c->head);
    free(c);
    maybe_free_server(s);
}

/* Close the connection, its timer, and free it; `reset` sends an RST. */
static void conn_close_how(struct conn *c, int reset)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->pending = 1 + c->has_timer + c->has_turn;
    if (c->has_turn)
        uv_close((uv_handle_t *)&c->turn, on_conn_closed);
    if (c->has_timer)
        uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    if (!reset || uv_tcp_close_reset(&c->tcp, on_conn_closed) != 0)
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void conn_close(struct conn *c)
{
    conn_close_how(c, 0);
}

static void stream_next(struct conn *c);

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = req->handle->data;

    free(w->data);
    free(w);
    if (status < 0)
        conn_close(c);
    else if (c->streaming && !c->closing)
        stream_next(c);
}

/* Queue data[0..len), a malloc'd block this takes over. 0 or an error;
 * on error the connection is closing. */
static int conn_send_owned(struct conn *c, char *data, size_t len)
{
    uv_buf_t buf = uv_buf_init(data, (unsigned)len);
    struct wreq *w;
    int rc;

    if (c->closing) {
        free(data);
        return UV_ECANCELED;
    }
    w = malloc(sizeof(*w));
    if (!w) {
        free(data);
        conn_close(c);
        return UV_ENOMEM;
    }
    w->data = data;
    rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
    if (rc != 0) {
        free(data);
        free(w);
        conn_close(c);
    }
    return rc;
}

static int conn_send(struct conn *c, const char *data, size_t len)
{
    char *copy = malloc(len);

    if (!copy) {
        conn_close(c);
        return UV_ENOMEM;
    }
    memcpy(copy, data, len);
    return conn_send_owned(c, copy, len);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->handle->data);
}

/* Send FIN after the queued writes, then close. */
static void conn_finish(struct conn *c)
{
    if (c->closing)
        return;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        conn_close(c);
}

/* Send the plan's bytes; then FIN, or stay open for an open-ended one
 * (or one the caller resets later). */
static void send_plan(struct conn *c, const struct plan *p)
{
    struct obuf b = { NULL, 0, 0, 0 };
    int act = tsrv__http_action(p->beh);

    tsrv__http_build(&b, SERVER_NAME, p);
    if (b.failed) {
        free(b.p);
        conn_close(c);
        return;
    }
    c->open_ended = act != TSRV_HTTP_SEND;
    if (conn_send_owned(c, b.p, b.len) == 0 && !c->open_ended)
        conn_finish(c);
}

/* ---- streamed replies: endless, longline, tiny, endbody; split ----
 *
 * One write in flight at a time; its completion makes the next piece.
 * A reply that never ends then costs the server one piece of memory,
 * and stops when the peer goes away (the write fails).  split instead
 * writes one byte per loop turn (below). */

/* Fields "X-E-<i>: vvv" (gen_arg bytes of value) forever. */
static int piece_endless(struct conn *c, struct obuf *b)
{
    static char pad[ENDLESS_VMAX];
    long v = c->gen_arg > ENDLESS_VMAX ? ENDLESS_VMAX : c->gen_arg;

    if (pad[0] != 'v')
        memset(pad, 'v', sizeof(pad));
    while (b->len < STREAM_CHUNK && !b->failed)
        tsrv__ob_fmt(b, "X-E-%llu: %.*s\r\n",
                     (unsigned long long)c->gen_pos++, (int)v, pad);
    return 1;
}

/* gen_arg bytes of 'a' in the value of X-Long, no CRLF; then silence. */
static int piece_longline(struct conn *c, struct obuf *b)
{
    uint64_t left = (uint64_t)c->gen_arg - c->gen_pos;
    size_t n = left < STREAM_CHUNK ? (size_t)left : STREAM_CHUNK;

    if (n > 0 && tsrv__ob_reserve(b, n) == 0) {
        memset(b->p + b->len, 'a', n);
        b->len += n;
    }
    c->gen_pos += n;
    return c->gen_pos < (uint64_t)c->gen_arg;
}

/* gen_arg fields "a:b", then the end of the head. */
static int piece_tiny(struct conn *c, struct obuf *b)
{
    uint64_t left = (uint64_t)c->gen_arg - c->gen_pos;
    size_t n = left < STREAM_CHUNK / 5 ? (size_t)left : STREAM_CHUNK / 5;
    size_t i;

    if (tsrv__ob_reserve(b, n * 5 + 2) != 0)
        return 0;
    for (i = 0; i < n; i++)
        tsrv__ob_mem(b, "a:b\r\n", 5);
    c->gen_pos += n;
    if (c->gen_pos < (uint64_t)c->gen_arg)
        return 1;
    tsrv__ob_mem(b, "\r\n", 2);
    return 0;
}

/* A status line of gen_arg bytes (a long reason phrase), one byte per
 * piece; then the rest of the head. */
static int piece_split(struct conn *c, struct obuf *b)
{
    static const char head[] = "HTTP/1.1 200 ";
    uint64_t len = c->gen_arg < SPLIT_MIN ? SPLIT_MIN
                                          : (uint64_t)c->gen_arg;
    uint64_t i = c->gen_pos++;
    char ch;

    if (i == len) {
        tsrv__ob_server(b, SERVER_NAME);
        tsrv__ob_fmt(b, "Content-Length: 0\r\n\r\n");
        return 0;
    }
    if (i < sizeof(head) - 1)
        ch = head[i];
    else if (i < len - 2)
        ch = 'r';
    else
        ch = i == len - 2 ? '\r' : '\n';
    tsrv__ob_mem(b, &ch, 1);
    return 1;
}

/* A body without a length, forever. */
static int piece_body(struct obuf *b)
{
    if (tsrv__ob_reserve(b, STREAM_CHUNK) == 0) {
        memset(b->p + b->len, 'b', STREAM_CHUNK);
        b->len += STREAM_CHUNK;
    }
    return 1;
}

/* The next piece into `b`; 1 while more follow. */
static int stream_piece(struct conn *c, struct obuf *b)
{
    if (!c->gen_started) {
        c->gen_started = 1;
        tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
        tsrv__ob_server(b, SERVER_NAME);
        if (c->gen_beh == B_LONGLINE)
            tsrv__ob_fmt(b, "X-Long: ");
        else if (c->gen_beh == B_ENDBODY)
            tsrv__ob_fmt(b, "\r\n");
    }
    switch (c->gen_beh) {
    case B_ENDLESS: return piece_endless(c, b);
    case B_LONGLINE: return piece_longline(c, b);
    case B_ENDBODY: return piece_body(b);
    default: return piece_tiny(c, b);
    }
}

static void stream_next(struct conn *c)
{
    struct obuf b = { NULL, 0, 0, 0 };
    int more = stream_piece(c, &b);

    if (b.failed || b.len == 0) {
        free(b.p);
        if (b.failed)
            conn_close(c);
        c->streaming = 0;   /* nothing left to send: stays open */
        return;
    }
    c->streaming = (unsigned char)more;
    if (conn_send_owned(c, b.p, b.len) == 0 && !more && !c->open_ended)
        conn_finish(c);
}

static void start_stream(struct conn *c, const struct plan *p)
{
    c->gen_beh = (unsigned char)p->beh;
    c->gen_arg = p->arg;
    c->open_ended = p->beh != B_TINY;
    stream_next(c);
}

/* split: one piece per loop turn, after the poll phase, so that a peer
 * on the same loop reads each byte on its own before the next is
 * written (chained write callbacks would send up to 9 per turn: libuv
 * runs pending callbacks again after polling). */
static void on_split_turn(uv_check_t *h)
{
    struct conn *c = h->data;
    struct obuf b = { NULL, 0, 0, 0 };
    int more = piece_split(c, &b);

    if (b.failed) {
        free(b.p);
        conn_close(c);
        return;
    }
    if (!more)
        uv_check_stop(h);
    if (conn_send_owned(c, b.p, b.len) == 0 && !more)
        conn_finish(c);
}

static void start_split(struct conn *c, long len)
{
    if (uv_check_init(c->srv->loop, &c->turn) != 0) {
        conn_close(c);
        return;
    }
    c->has_turn = 1;
    c->turn.data = c;
    c->gen_arg = len;
    c->open_ended = 1;      /* until the last piece: then FIN */
    uv_check_start(&c->turn, on_split_turn);
}

static void on_delay(uv_timer_t *t)
{
    struct plan p;

    memset(&p, 0, sizeof(p));
    tsrv__http_choose(&p, "fast", 4);
    send_plan(t->data, &p);
}

static void on_trickle(uv_timer_t *t)
{
    struct conn *c = t->data;

    conn_send(c, &trickle_bytes[c->trickle_pos], 1);
    c->trickle_pos = (c->trickle_pos + 1) % (sizeof(trickle_bytes) - 1);
}

static void start_timer(struct conn *c, uv_timer_cb cb, long ms, long rep)
{
    if (uv_timer_init(c->srv->loop, &c->timer) != 0) {
        conn_close(c);
        return;
    }
    c->has_timer = 1;
    c->timer.data = c;
    uv_timer_start(&c->timer, cb, (uint64_t)ms, (uint64_t)rep);
}

/* One byte of the drip response every tick: the status line once, then
 * header bytes forever. */
static const char drip_bytes[] = "HTTP/1.1 200 OK\r\nX-D: d\r\n";
#define DRIP_HEAD 17

static void on_drip(uv_timer_t *t)
{
    struct conn *c = t->data;
    uint64_t i = c->gen_pos++;

    if (i >= DRIP_HEAD)
        i = DRIP_HEAD + (i - DRIP_HEAD) % (sizeof(drip_bytes) - 1 - DRIP_HEAD);
    conn_send(c, &drip_bytes[i], 1);
}

static void on_reset_timer(uv_timer_t *t)
{
    conn_close_how(t->data, 1);
}

static void start_trickle(struct conn *c, long ms)
{
    static const char line[] = "HTTP/1.1 200 OK\r\n";

    if (ms < 1)
        ms = 1;
    c->open_ended = 1;
    if (conn_send(c, line, sizeof(line) - 1) == 0)
        start_timer(c, on_trickle, ms, ms);
}

/* Act on the plan once the request head is in. */
static void respond(struct conn *c, const struct plan *p)
{
    switch (p->beh) {
    case B_DELAY:
        start_timer(c, on_delay, p->arg, 0);
        break;
    case B_TRICKLE:
        start_trickle(c, p->arg);
        break;
    case B_DRIP:
        c->open_ended = 1;
        start_timer(c, on_drip, 0, p->arg < 1 ? 1 : p->arg);
        break;
    case B_ENDLESS:
    case B_LONGLINE:
    case B_TINY:
    case B_ENDBODY:
        start_stream(c, p);
        break;
    case B_SPLIT:
        start_split(c, p->arg);
        break;
    case B_RSTMID:
        /* The partial head first (written at once into an empty
         * socket), then the RST (SO_LINGER 0): after MS ms, when the
         * peer has read the head; or at once, so that both arrive
         * together. */
        send_plan(c, p);
        if (p->arg > 0)
            start_timer(c, on_reset_timer, p->arg, 0);
        else
            conn_close_how(c, 1);
        break;
    case B_HANG:
        c->open_ended = 1;
        break;
    case B_CLOSE:
        conn_finish(c);
        break;
    case B_RESET:
        conn_close_how(c, 1);
        break;
    default:
        send_plan(c, p);
        break;
    }
}

static void on_request(struct conn *c)
{
    struct plan p;

    c->answered = 1;
    c->srv->requests++;
    tsrv__http_plan(&p, c->head.buf, c->head.len);
    respond(c, &p);         /* before the head goes: p may point in it */
    tsrv_head_free(&c->head);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct conn *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct conn *c = st->data;
    int rc;

    if (n == UV_EOF && c->answered && !c->open_ended) {
        uv_read_stop(st);   /* let the reply in progress finish */
        return;
    }
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->answered || c->closing)
        return;
    rc = tsrv_head_add(&c->head, buf->base, (size_t)n);
    if (rc < 0)
        conn_close(c);
    else if (rc > 0)
        on_request(c);
}

static struct conn *conn_new(struct tsrv_http *s)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    c->srv = s;
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return c;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tsrv_http *s = server->data;
    struct conn *c;

    if (status < 0 || s->stopping || !(c = conn_new(s)))
        return;
    if (tsrv_tcp_accept(server, &c->tcp, s->wildcard, on_alloc, on_read) != 0)
        conn_close(c);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct tsrv_http *s = h->data;

    s->listening = 0;
    maybe_free_server(s);
}

int tsrv_http_start(uv_loop_t *loop, const char *ip, int port,
                    struct tsrv_http **out)
{
    struct sockaddr_storage ss;
    struct tsrv_http *s;
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
    rc = uv_tcp_init(loop, &s->listener);
    if (rc != 0) {
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

int tsrv_http_port(const struct tsrv_http *s)
{
    return s->port;
}

unsigned long tsrv_http_requests(const struct tsrv_http *s)
{
    return s->requests;
}

void tsrv_http_stop(struct tsrv_http *s)
{
    struct conn *c;

    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (c = s->conns; c; c = c->next)
        conn_close(c);
}
