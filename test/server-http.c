/* server-http.c: HTTP/1.1 test server with named misbehaviours (see
 * server-http.h). One request per connection.
 *
 * The first half turns a request head into a plan and the plan into
 * reply bytes, independent of the transport (server-tls.c uses it too);
 * the second half is the plain TCP server. */
#include "server-http.h"
#include "tsrv-net.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_MIN 1024
#define RBUF_SIZE 65536
/* The kernel caps it at net.core.somaxconn; a benchmark opening 20,000
 * connections in a burst raises that, and then needs the room. */
#define BACKLOG 65535
#define MANY_MAX 100000
#define HUGE_FIELDS 3000
#define HUGE_LINE 100

#define FAST_BODY "<html><title>fast</title></html>"
#define SERVER_NAME "hscan-test"
#define R(str) str, sizeof(str) - 1

enum beh {
    B_FAST, B_DELAY, B_R301, B_R302, B_NOTFOUND, B_ERROR, B_HTTP10,
    B_CHUNKED, B_MANY, B_HUGE, B_TRICKLE, B_HANG, B_CLOSE, B_RESET,
    B_GARBAGE, B_BADSTATUS, B_CTL, B_LF, B_STATUS, B_EARLY,
    B_REDIR,                /* a redirect route on the path */
    B_431,                  /* the head did not end within HEAD_MAX */
    B_400                   /* not HTTP at all (say a TLS ClientHello) */
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

/* Fixed replies: `status` (if any), a Server field, then `rest`. */
static const struct {
    const char *status;
    const char *rest;
    size_t rest_len;
} canned[] = {
    [B_R301] = { "HTTP/1.1 301 Moved Permanently\r\n",
                 R("Location: http://fast.test/\r\n"
                   "Content-Length: 0\r\n\r\n") },
    [B_R302] = { "HTTP/1.1 302 Found\r\n",
                 R("Location: /next\r\nContent-Length: 0\r\n\r\n") },
    [B_NOTFOUND] = { "HTTP/1.1 404 Not Found\r\n",
                     R("Content-Type: text/plain\r\n"
                       "Content-Length: 10\r\n\r\nnot found\n") },
    [B_ERROR] = { "HTTP/1.1 500 Internal Server Error\r\n",
                  R("Content-Type: text/plain\r\n"
                    "Content-Length: 6\r\n\r\nerror\n") },
    [B_HTTP10] = { "HTTP/1.0 200 OK\r\n",
                   R("\r\n<html><title>http10</title></html>\n") },
    [B_CHUNKED] = { "HTTP/1.1 200 OK\r\n",
                    R("Transfer-Encoding: chunked\r\n\r\n"
                      "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n") },
    [B_GARBAGE] = { NULL, R("\x00\x01\x02" "SSH-2.0-OpenSSH_9.0\r\n"
                            "\xff\xfe\r\n\r\n") },
    [B_BADSTATUS] = { NULL, R("HTTP/1.1 2x0 OK\r\n\r\n") },
    [B_CTL] = { "HTTP/1.1 200 OK \xff\r\n",
                R("X-Bin: a\tb\x7f" "c\xff\xfe" "d\xc3\xa9" "e\r\n"
                  "Content-Length: 0\r\n\r\n") },
    [B_LF] = { NULL, R("HTTP/1.1 200 OK\nServer: lf\nContent-Length: 0"
                       "\n\n") },
};

/* Redirect routes on the path (the query is ignored): the whole path,
 * or with `last`, its final segment (`/a/rel` too). */
static const struct {
    const char *path;
    int code;               /* 0: the fast reply */
    const char *location;
    int last;
} routes[] = {
    { "/loop", 302, "/loop", 0 }, { "/rel", 301, "fast-landing", 1 },
    { "/fast-landing", 0, NULL, 1 }, { "/see-other", 303, "/chain-0", 0 },
    { "/r307", 307, "/chain-0", 0 }, { "/r308", 308, "/chain-0", 0 },
};

static const char trickle_bytes[] = "X-T: t\r\n";

/* What to do for one request. */
struct plan {
    enum beh beh;
    long arg;               /* count, status or redirect code, delay */
    const char *loc;        /* B_REDIR: the Location value */
    size_t loc_len;
    char loc_buf[32];       /* storage for computed Locations */
};

/* A growable output buffer; `failed` sticks after an allocation error. */
struct obuf {
    char *p;
    size_t len, cap;
    int failed;
};

/* ---- reply bytes ---- */

static int ob_reserve(struct obuf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 512;
    char *p;

    if (b->failed)
        return -1;
    if (b->len + more <= b->cap)
        return 0;
    while (cap < b->len + more)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void ob_mem(struct obuf *b, const void *data, size_t n)
{
    if (ob_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void ob_fmt(struct obuf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && ob_reserve(b, (size_t)n + 1) == 0) {
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    va_end(ap);
}

static void ob_server(struct obuf *b, const char *server)
{
    ob_fmt(b, "Server: %s\r\n", server);
}

/* The fast reply, optionally after a 103 interim response. */
static void build_fast(struct obuf *b, const char *server, int early)
{
    if (early)
        ob_fmt(b, "HTTP/1.1 103 Early Hints\r\n"
               "Link: </a.css>; rel=preload\r\n\r\n");
    ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    ob_server(b, server);
    ob_fmt(b, "Content-Type: text/html\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
           "Content-Length: %zu\r\n\r\n%s", strlen(FAST_BODY), FAST_BODY);
}

static void build_many(struct obuf *b, const char *server, long count)
{
    long i;

    if (count > MANY_MAX)
        count = MANY_MAX;
    ob_reserve(b, 128 + (size_t)count * 32);
    ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    ob_server(b, server);
    for (i = 0; i < count; i++)
        ob_fmt(b, "X-H-%ld: v%ld\r\n", i, i);
    ob_fmt(b, "Content-Length: 0\r\n\r\n");
}

/* ~300 KB of header fields and no end of head; the peer closes. */
static void build_huge(struct obuf *b, const char *server)
{
    char pad[HUGE_LINE];
    int i;

    memset(pad, 'a', sizeof(pad));
    ob_reserve(b, 64 + (size_t)HUGE_FIELDS * HUGE_LINE);
    ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    ob_server(b, server);
    for (i = 0; i < HUGE_FIELDS; i++)
        ob_fmt(b, "X-Huge-%04d: %.*s\r\n", i, HUGE_LINE - 15, pad);
}

static void build_status(struct obuf *b, long code)
{
    if (code < 0 || code > 999)
        code = 200;
    ob_fmt(b, "HTTP/1.1 %03ld Status\r\nContent-Length: 0\r\n\r\n", code);
}

static const char *reason(long code)
{
    switch (code) {
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    default: return "Found";
    }
}

static void build_redir(struct obuf *b, const char *server,
                        const struct plan *p)
{
    ob_fmt(b, "HTTP/1.1 %ld %s\r\n", p->arg, reason(p->arg));
    ob_server(b, server);
    ob_fmt(b, "Location: %.*s\r\nContent-Length: 0\r\n\r\n",
           (int)p->loc_len, p->loc);
}

static void build_431(struct obuf *b, const char *server)
{
    ob_fmt(b, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
    ob_server(b, server);
    ob_fmt(b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

/* Like nginx, answer bytes that cannot start a request line at once,
 * instead of waiting for a blank line that will never come: this is what
 * a scanner sees when it speaks TLS to a plain HTTP port. */
static void build_400(struct obuf *b, const char *server)
{
    ob_fmt(b, "HTTP/1.1 400 Bad Request\r\n");
    ob_server(b, server);
    ob_fmt(b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

static void build_canned(struct obuf *b, const char *server, enum beh beh)
{
    if (canned[beh].status) {
        ob_fmt(b, "%s", canned[beh].status);
        ob_server(b, server);
    }
    ob_mem(b, canned[beh].rest, canned[beh].rest_len);
}

/* Reply bytes for a plan whose reply is a byte string (not delay,
 * trickle, hang, close or reset). */
static void build(struct obuf *b, const char *server, const struct plan *p)
{
    switch (p->beh) {
    case B_FAST:
    case B_EARLY:
        build_fast(b, server, p->beh == B_EARLY);
        break;
    case B_MANY:
        build_many(b, server, p->arg);
        break;
    case B_HUGE:
        build_huge(b, server);
        break;
    case B_STATUS:
        build_status(b, p->arg);
        break;
    case B_REDIR:
        build_redir(b, server, p);
        break;
    case B_431:
        build_431(b, server);
        break;
    case B_400:
        build_400(b, server);
        break;
    default:
        build_canned(b, server, p->beh);
        break;
    }
}

/* ---- request head to plan ---- */

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

/* Set p->beh and p->arg from a label such as `delay-1500`. */
static void choose(struct plan *pl, const char *p, size_t n)
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
    pl->beh = behaviours[i].beh;
    pl->arg = arg >= 0 ? arg : behaviours[i].def;
}

/* The request target of the request line; 1 if found. */
static int request_target(const char *h, size_t len, const char **t,
                          size_t *n)
{
    const char *eol = memchr(h, '\n', len);
    const char *sp, *end;

    if (!eol)
        return 0;
    sp = memchr(h, ' ', (size_t)(eol - h));
    if (!sp)
        return 0;
    *t = sp + 1;
    end = memchr(*t, ' ', (size_t)(eol - *t));
    if (!end) {
        end = eol;
        if (end > *t && end[-1] == '\r')
            end--;
    }
    *n = (size_t)(end - *t);
    return 1;
}

/* NAME from a request target `/b/NAME...`; 1 if found. */
static int path_label(const char *t, size_t tn, const char **p, size_t *n)
{
    const char *end, *stop = t + tn;

    if (tn < 3 || memcmp(t, "/b/", 3) != 0)
        return 0;
    t += 3;
    for (end = t; end < stop && !strchr("/?#", *end); end++)
        ;
    *p = t;
    *n = (size_t)(end - t);
    return *n > 0;
}

static void plan_redirect(struct plan *p, long code, const char *loc,
                          size_t loc_len)
{
    p->beh = B_REDIR;
    p->arg = code;
    p->loc = loc;
    p->loc_len = loc_len;
}

/* `/chain-N`: 302 to /chain-(N-1), or fast at 0. */
static void plan_chain(struct plan *p, long n)
{
    int len;

    if (n == 0) {
        choose(p, "fast", 4);
        return;
    }
    len = snprintf(p->loc_buf, sizeof(p->loc_buf), "/chain-%ld", n - 1);
    plan_redirect(p, 302, p->loc_buf, (size_t)len);
}

/* Whether path[0..pn) is route i. */
static int route_match(size_t i, const char *path, size_t pn)
{
    size_t rn = strlen(routes[i].path);

    if (rn > pn || (!routes[i].last && rn != pn))
        return 0;
    return memcmp(routes[i].path, path + pn - rn, rn) == 0;
}

/* Redirect routes on the request target; 1 if it is one. */
static int plan_route(struct plan *p, const char *t, size_t tn)
{
    const char *q = memchr(t, '?', tn);
    size_t pn = q ? (size_t)(q - t) : tn, i;
    long n;

    if (tn >= 6 && memcmp(t, "/r?to=", 6) == 0) {
        plan_redirect(p, 302, t + 6, tn - 6);
        return 1;
    }
    if (pn > 7 && memcmp(t, "/chain-", 7) == 0 &&
        (n = parse_arg(t + 7, pn - 7)) >= 0) {
        plan_chain(p, n);
        return 1;
    }
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!route_match(i, t, pn))
            continue;
        if (routes[i].code == 0)
            choose(p, "fast", 4);
        else
            plan_redirect(p, routes[i].code, routes[i].location,
                          strlen(routes[i].location));
        return 1;
    }
    return 0;
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
            return tsrv_http_host_label(v, (size_t)(ve - v), p, n);
        }
        line = eol;
    }
    return 0;
}

static int head_complete(const char *h, size_t len)
{
    return memmem(h, len, "\r\n\r\n", 4) || memmem(h, len, "\n\n", 2);
}

/* Routes first, then `/b/NAME`, then the Host label, then fast. A
 * plan's Location may point into `h`. */
static void plan_request(struct plan *p, const char *h, size_t len)
{
    const char *t, *lab;
    size_t tn, n;

    memset(p, 0, sizeof(*p));
    if (len > 0 && (h[0] < 'A' || h[0] > 'Z')) {
        p->beh = B_400;
        return;
    }
    if (!head_complete(h, len)) {
        p->beh = B_431;
        return;
    }
    if (request_target(h, len, &t, &tn) && plan_route(p, t, tn))
        return;
    if ((request_target(h, len, &t, &tn) && path_label(t, tn, &lab, &n)) ||
        host_label(h, len, &lab, &n))
        choose(p, lab, n);
    else
        choose(p, "fast", 4);
}

/* ---- shared interface ---- */

int tsrv_http_host_label(const char *v, size_t len, const char **p,
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

static int head_reserve(struct tsrv_head *h, size_t need)
{
    size_t cap = h->cap ? h->cap : HEAD_MIN;
    char *p;

    if (need <= h->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(h->buf, cap);
    if (!p)
        return -1;
    h->buf = p;
    h->cap = (unsigned)cap;
    return 0;
}

int tsrv_head_add(struct tsrv_head *h, const char *data, size_t n)
{
    size_t from = h->len > 3 ? h->len - 3 : 0;

    if (n > TSRV_HEAD_MAX - h->len)
        n = TSRV_HEAD_MAX - h->len;
    if (head_reserve(h, h->len + n) != 0)
        return -1;
    memcpy(h->buf + h->len, data, n);
    h->len += (unsigned)n;
    if (h->buf[0] < 'A' || h->buf[0] > 'Z')
        return 1;                 /* not a request line: answer 400 now */
    if (head_complete(h->buf + from, h->len - from))
        return 1;
    return h->len >= TSRV_HEAD_MAX;
}

void tsrv_head_free(struct tsrv_head *h)
{
    free(h->buf);
    memset(h, 0, sizeof(*h));
}

static int action_of(enum beh beh)
{
    switch (beh) {
    case B_HUGE: return TSRV_HTTP_SEND_OPEN;
    case B_HANG: return TSRV_HTTP_HANG;
    case B_CLOSE: return TSRV_HTTP_CLOSE;
    case B_RESET: return TSRV_HTTP_RESET;
    default: return TSRV_HTTP_SEND;
    }
}

int tsrv_http_response(const char *head, size_t len, const char *server,
                       char **out, size_t *out_len)
{
    struct obuf b = { NULL, 0, 0, 0 };
    struct plan p;
    int act;

    plan_request(&p, head, len);
    if (p.beh == B_DELAY || p.beh == B_TRICKLE)
        choose(&p, "fast", 4);
    act = action_of(p.beh);
    if (act == TSRV_HTTP_SEND || act == TSRV_HTTP_SEND_OPEN)
        build(&b, server, &p);
    if (b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *out_len = b.len;
    return act;
}

/* ---- the plain TCP server ---- */

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
    uv_shutdown_t shut;
    struct tsrv_http *srv;
    struct conn *prev, *next;
    struct tsrv_head head;  /* request head until it is complete */
    unsigned char trickle_pos, pending;
    unsigned char has_timer, closing, answered, open_ended;
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
    struct wreq *w = (struct wreq *)req;
    struct conn *c = req->handle->data;

    free(w->data);
    free(w);
    if (status < 0)
        conn_close(c);
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

/* Send the plan's bytes; then FIN, or stay open for an open-ended one. */
static void send_plan(struct conn *c, const struct plan *p)
{
    struct obuf b = { NULL, 0, 0, 0 };

    build(&b, SERVER_NAME, p);
    if (b.failed) {
        free(b.p);
        conn_close(c);
        return;
    }
    c->open_ended = action_of(p->beh) == TSRV_HTTP_SEND_OPEN;
    if (conn_send_owned(c, b.p, b.len) == 0 && !c->open_ended)
        conn_finish(c);
}

static void on_delay(uv_timer_t *t)
{
    struct plan p;

    memset(&p, 0, sizeof(p));
    choose(&p, "fast", 4);
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
    plan_request(&p, c->head.buf, c->head.len);
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

static void on_listener_closed(uv_handle_t *h)
{
    struct tsrv_http *s = h->data;

    s->listening = 0;
    maybe_free_server(s);
}

static int bind_and_listen(struct tsrv_http *s, const struct sockaddr *sa)
{
    int rc = tsrv_tcp_listen(&s->listener, sa, BACKLOG, on_connection);

    if (rc < 0)
        return rc;
    s->port = rc;
    s->wildcard = tsrv_tcp_is_wildcard(&s->listener);
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
