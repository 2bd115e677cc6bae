/* server-http.c: HTTP/1.1 test server with named misbehaviours (see
 * server-http.h). One request per connection. */
#include "server-http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_MAX 16384
#define HEAD_MIN 1024
#define RBUF_SIZE 65536
#define BACKLOG 4096
#define MANY_MAX 100000
#define HUGE_FIELDS 3000
#define HUGE_LINE 100

#define FAST_BODY "<html><title>fast</title></html>"
#define SERVER "Server: hscan-test\r\n"
#define S(str) { str, sizeof(str) - 1 }

enum beh {
    B_FAST, B_DELAY, B_R301, B_R302, B_NOTFOUND, B_ERROR, B_HTTP10,
    B_CHUNKED, B_MANY, B_HUGE, B_TRICKLE, B_HANG, B_CLOSE, B_RESET,
    B_GARBAGE, B_BADSTATUS, B_CTL, B_LF, B_STATUS, B_EARLY
};

static const struct {
    const char *name;
    enum beh beh;
    long def;               /* argument when none is given */
} behaviours[] = {
    { "fast", B_FAST, 0 }, { "delay", B_DELAY, 200 },
    { "r301", B_R301, 0 }, { "r302", B_R302, 0 },
    { "notfound", B_NOTFOUND, 0 }, { "error", B_ERROR, 0 },
    { "http10", B_HTTP10, 0 }, { "chunked", B_CHUNKED, 0 },
    { "many", B_MANY, 100 }, { "huge", B_HUGE, 0 },
    { "trickle", B_TRICKLE, 50 }, { "hang", B_HANG, 0 },
    { "close", B_CLOSE, 0 }, { "reset", B_RESET, 0 },
    { "garbage", B_GARBAGE, 0 }, { "badstatus", B_BADSTATUS, 0 },
    { "ctl", B_CTL, 0 }, { "lf", B_LF, 0 }, { "status", B_STATUS, 200 },
    { "early", B_EARLY, 0 },
};

/* Fixed replies, sent and followed by a close. */
static const struct {
    const char *data;
    size_t len;
} canned[] = {
    [B_R301] = S("HTTP/1.1 301 Moved Permanently\r\n" SERVER
                 "Location: http://fast.test/\r\n"
                 "Content-Length: 0\r\n\r\n"),
    [B_R302] = S("HTTP/1.1 302 Found\r\n" SERVER
                 "Location: /next\r\nContent-Length: 0\r\n\r\n"),
    [B_NOTFOUND] = S("HTTP/1.1 404 Not Found\r\n" SERVER
                     "Content-Type: text/plain\r\n"
                     "Content-Length: 10\r\n\r\nnot found\n"),
    [B_ERROR] = S("HTTP/1.1 500 Internal Server Error\r\n" SERVER
                  "Content-Type: text/plain\r\n"
                  "Content-Length: 6\r\n\r\nerror\n"),
    [B_HTTP10] = S("HTTP/1.0 200 OK\r\n" SERVER "\r\n"
                   "<html><title>http10</title></html>\n"),
    [B_CHUNKED] = S("HTTP/1.1 200 OK\r\n" SERVER
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"),
    [B_GARBAGE] = S("\x00\x01\x02" "SSH-2.0-OpenSSH_9.0\r\n"
                    "\xff\xfe\r\n\r\n"),
    [B_BADSTATUS] = S("HTTP/1.1 2x0 OK\r\n\r\n"),
    [B_CTL] = S("HTTP/1.1 200 OK \xff\r\n" SERVER
                "X-Bin: a\tb\x7f" "c\xff\xfe" "d\xc3\xa9" "e\r\n"
                "Content-Length: 0\r\n\r\n"),
    [B_LF] = S("HTTP/1.1 200 OK\nServer: lf\nContent-Length: 0\n\n"),
};

static const char trickle_bytes[] = "X-T: t\r\n";

struct tsrv_http {
    uv_tcp_t listener;
    uv_loop_t *loop;
    struct conn *conns;     /* every connection not yet freed */
    unsigned long requests;
    int port;
    int stopping;
    int listening;          /* listener close callback not yet run */
    char rbuf[RBUF_SIZE];   /* shared: reads are consumed at once */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;       /* initialised only if has_timer */
    uv_shutdown_t shut;
    struct tsrv_http *srv;
    struct conn *prev, *next;
    char *head;             /* request head until it is complete */
    unsigned head_len, head_cap;
    long arg;
    unsigned char beh, trickle_pos, pending;
    unsigned char has_timer, closing, answered, open_ended;
};

struct wreq {
    uv_write_t req;
    char data[];
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
    free(c->head);
    free(c);
    maybe_free_server(s);
}

/* Close the connection, its timer, and free it; `reset` sends an RST. */
static void conn_close_how(struct conn *c, int reset)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->pending = 1 + c->has_timer;
    if (c->has_timer)
        uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    if (!reset || uv_tcp_close_reset(&c->tcp, on_conn_closed) != 0)
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void conn_close(struct conn *c)
{
    conn_close_how(c, 0);
}

static void on_written(uv_write_t *req, int status)
{
    struct conn *c = req->handle->data;

    free(req);
    if (status < 0)
        conn_close(c);
}

static struct wreq *wreq_new(size_t cap)
{
    return malloc(sizeof(struct wreq) + cap);
}

/* Queue w->data[0..len); takes ownership of w. 0 or a uv error. */
static int wreq_send(struct conn *c, struct wreq *w, size_t len)
{
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    int rc;

    rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
    if (rc != 0) {
        free(w);
        conn_close(c);
    }
    return rc;
}

static int conn_send(struct conn *c, const char *data, size_t len)
{
    struct wreq *w;

    if (c->closing)
        return UV_ECANCELED;
    w = wreq_new(len);
    if (!w) {
        conn_close(c);
        return UV_ENOMEM;
    }
    memcpy(w->data, data, len);
    return wreq_send(c, w, len);
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

static size_t fast_response(char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "HTTP/1.1 200 OK\r\n" SERVER
                     "Content-Type: text/html\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(FAST_BODY), FAST_BODY);

    return n < 0 ? 0 : (size_t)n;
}

/* The fast reply, optionally after a 103 interim response. */
static void send_fast(struct conn *c, int early)
{
    static const char hints[] = "HTTP/1.1 103 Early Hints\r\n"
                                "Link: </a.css>; rel=preload\r\n\r\n";
    char buf[512];
    size_t n = 0;

    if (early) {
        memcpy(buf, hints, sizeof(hints) - 1);
        n = sizeof(hints) - 1;
    }
    n += fast_response(buf + n, sizeof(buf) - n);
    if (conn_send(c, buf, n) == 0)
        conn_finish(c);
}

static void send_many(struct conn *c, long count)
{
    size_t cap = 128 + (size_t)count * 32, n;
    struct wreq *w = wreq_new(cap);
    long i;

    if (!w) {
        conn_close(c);
        return;
    }
    n = (size_t)sprintf(w->data, "HTTP/1.1 200 OK\r\n" SERVER);
    for (i = 0; i < count; i++)
        n += (size_t)sprintf(w->data + n, "X-H-%ld: v%ld\r\n", i, i);
    n += (size_t)sprintf(w->data + n, "Content-Length: 0\r\n\r\n");
    if (wreq_send(c, w, n) == 0)
        conn_finish(c);
}

/* ~300 KB of header fields and no end of head; the peer closes. */
static void send_huge(struct conn *c)
{
    size_t n, pad = HUGE_LINE - 15;
    struct wreq *w = wreq_new(64 + (size_t)HUGE_FIELDS * HUGE_LINE);
    int i;

    if (!w) {
        conn_close(c);
        return;
    }
    n = (size_t)sprintf(w->data, "HTTP/1.1 200 OK\r\n" SERVER);
    for (i = 0; i < HUGE_FIELDS; i++) {
        n += (size_t)sprintf(w->data + n, "X-Huge-%04d: ", i);
        memset(w->data + n, 'a', pad);
        n += pad;
        memcpy(w->data + n, "\r\n", 2);
        n += 2;
    }
    wreq_send(c, w, n);
}

static void send_status(struct conn *c, long code)
{
    char buf[128];
    int n;

    if (code < 0 || code > 999)
        code = 200;
    n = snprintf(buf, sizeof(buf),
                 "HTTP/1.1 %03ld Status\r\nContent-Length: 0\r\n\r\n", code);
    if (conn_send(c, buf, (size_t)n) == 0)
        conn_finish(c);
}

static void on_delay(uv_timer_t *t)
{
    send_fast(t->data, 0);
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

static void start_trickle(struct conn *c, long ms)
{
    static const char line[] = "HTTP/1.1 200 OK\r\n";

    if (ms < 1)
        ms = 1;
    c->open_ended = 1;
    if (conn_send(c, line, sizeof(line) - 1) == 0)
        start_timer(c, on_trickle, ms, ms);
}

/* Act on the chosen behaviour once the request head is in. */
static void respond(struct conn *c)
{
    switch (c->beh) {
    case B_FAST:
    case B_EARLY:
        send_fast(c, c->beh == B_EARLY);
        break;
    case B_DELAY:
        start_timer(c, on_delay, c->arg, 0);
        break;
    case B_MANY:
        send_many(c, c->arg > MANY_MAX ? MANY_MAX : c->arg);
        break;
    case B_HUGE:
        c->open_ended = 1;
        send_huge(c);
        break;
    case B_TRICKLE:
        start_trickle(c, c->arg);
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
    case B_STATUS:
        send_status(c, c->arg);
        break;
    default:
        if (conn_send(c, canned[c->beh].data, canned[c->beh].len) == 0)
            conn_finish(c);
        break;
    }
}

static int lookup_name(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(behaviours) / sizeof(behaviours[0]); i++)
        if (strlen(behaviours[i].name) == n &&
            strncasecmp(behaviours[i].name, p, n) == 0)
            return (int)i;
    return -1;
}

/* Value of p[0..n) if it is 1 to 9 decimal digits, else -1. */
static long parse_arg(const char *p, size_t n)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 9)
        return -1;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Set c->beh and c->arg from a label such as `delay-1500`. */
static void choose(struct conn *c, const char *p, size_t n)
{
    const char *dash = n ? memrchr(p, '-', n) : NULL;
    long arg = -1;
    int i = -1;

    if (dash)
        arg = parse_arg(dash + 1, n - (size_t)(dash - p) - 1);
    if (arg >= 0)
        i = lookup_name(p, (size_t)(dash - p));
    if (i < 0) {
        arg = -1;
        i = lookup_name(p, n);
    }
    if (i < 0)
        i = 0;
    c->beh = (unsigned char)behaviours[i].beh;
    c->arg = arg >= 0 ? arg : behaviours[i].def;
}

/* NAME from a request target `/b/NAME...`; 1 if found. */
static int path_label(const char *h, size_t len, const char **p,
                      size_t *n)
{
    const char *eol = memchr(h, '\n', len);
    const char *sp = memchr(h, ' ', eol ? (size_t)(eol - h) : len);
    const char *t, *end;

    if (!sp || !eol)
        return 0;
    t = sp + 1;
    if (eol - t < 3 || memcmp(t, "/b/", 3) != 0)
        return 0;
    t += 3;
    for (end = t; end < eol && !strchr("/?# \r", *end); end++)
        ;
    *p = t;
    *n = (size_t)(end - t);
    return *n > 0;
}

/* The label before a final `.test` in a host value; 1 if found. */
static int host_to_label(const char *v, size_t len, const char **p,
                         size_t *n)
{
    const char *colon, *dot;

    if (len == 0 || v[0] == '[')
        return 0;
    colon = memrchr(v, ':', len);
    if (colon)
        len = (size_t)(colon - v);
    if (len > 0 && v[len - 1] == '.')
        len--;
    if (len <= 5 || strncasecmp(v + len - 5, ".test", 5) != 0)
        return 0;
    len -= 5;
    dot = memrchr(v, '.', len);
    *p = dot ? dot + 1 : v;
    *n = len - (size_t)(*p - v);
    return *n > 0;
}

/* Behaviour label from the Host header; 1 if found. */
static int host_label(const char *h, size_t len, const char **p,
                      size_t *n)
{
    const char *line = memchr(h, '\n', len), *end = h + len;

    while (line && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *v = line + 5, *ve = eol ? eol : end;

        if (ve - line >= 5 && strncasecmp(line, "host:", 5) == 0) {
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && strchr(" \t\r", ve[-1]))
                ve--;
            return host_to_label(v, (size_t)(ve - v), p, n);
        }
        line = eol;
    }
    return 0;
}

static void on_request(struct conn *c)
{
    const char *p;
    size_t n;

    c->answered = 1;
    c->srv->requests++;
    if (path_label(c->head, c->head_len, &p, &n) ||
        host_label(c->head, c->head_len, &p, &n))
        choose(c, p, n);
    else
        choose(c, "fast", 4);
    free(c->head);
    c->head = NULL;
    c->head_len = c->head_cap = 0;
    respond(c);
}

static void send_431(struct conn *c)
{
    static const char msg[] = "HTTP/1.1 431 Request Header Fields Too "
                              "Large\r\n" SERVER "Content-Length: 0\r\n"
                              "Connection: close\r\n\r\n";

    c->answered = 1;
    c->srv->requests++;
    if (conn_send(c, msg, sizeof(msg) - 1) == 0)
        conn_finish(c);
}

static int head_reserve(struct conn *c, size_t need)
{
    size_t cap = c->head_cap ? c->head_cap : HEAD_MIN;
    char *p;

    if (need <= c->head_cap)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(c->head, cap);
    if (!p)
        return -1;
    c->head = p;
    c->head_cap = (unsigned)cap;
    return 0;
}

/* Append bytes to the request head; act when it is complete. */
static void head_append(struct conn *c, const char *data, size_t n)
{
    size_t from = c->head_len > 3 ? c->head_len - 3 : 0, win;

    if (n > HEAD_MAX - c->head_len)
        n = HEAD_MAX - c->head_len;
    if (head_reserve(c, c->head_len + n) != 0) {
        conn_close(c);
        return;
    }
    memcpy(c->head + c->head_len, data, n);
    c->head_len += (unsigned)n;
    win = c->head_len - from;
    if (memmem(c->head + from, win, "\r\n\r\n", 4) ||
        memmem(c->head + from, win, "\n\n", 2))
        on_request(c);
    else if (c->head_len >= HEAD_MAX)
        send_431(c);
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

    if (n == UV_EOF && c->answered && !c->open_ended) {
        uv_read_stop(st);   /* let the reply in progress finish */
        return;
    }
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n > 0 && !c->answered && !c->closing)
        head_append(c, buf->base, (size_t)n);
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

    if (status < 0 || s->stopping)
        return;
    c = conn_new(s);
    if (!c)
        return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct tsrv_http *s = h->data;

    s->listening = 0;
    maybe_free_server(s);
}

static int parse_addr(const char *ip, int port, struct sockaddr_storage *ss)
{
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
}

static int bind_and_listen(struct tsrv_http *s, const struct sockaddr *sa)
{
    struct sockaddr_storage got;
    int len = sizeof(got);
    int rc;

    rc = uv_tcp_bind(&s->listener, sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, BACKLOG,
                       on_connection);
    if (rc == 0)
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got,
                                &len);
    if (rc != 0)
        return rc;
    if (got.ss_family == AF_INET6)
        s->port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    else
        s->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    return 0;
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
    rc = parse_addr(ip, port, &ss);
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
    rc = bind_and_listen(s, (const struct sockaddr *)&ss);
    if (rc != 0) {
        s->stopping = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return rc;
    }
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
