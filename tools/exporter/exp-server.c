/* hscan-exporter: the HTTP/1.1 server on the scanner's loop.  Requests
 * are read with llhttp (exp-req.c), one at a time per connection
 * (reading stops while one is answered, so pipelined requests wait in
 * order), keep-alive, an idle timeout, bounded heads and connections. */
#include "exporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct exp_conn {
    uv_tcp_t tcp;
    uv_timer_t idle;
    struct exp *e;
    struct exp_conn *prev, *next;
    struct exp_req req;
    char *pend;                /* bytes read after a whole request */
    size_t pend_len;
    void *scrape;              /* the scrape being answered, or NULL */
    int busy;                  /* a request is being answered */
    int reading;
    int close_after;
    int closing;
    int handles;               /* open handles (tcp, idle) */
};

struct wreq {
    uv_write_t w;
    struct exp_conn *c;
    char *owned;               /* a body handed over, freed once written */
    char data[];               /* the head, and a body that was copied */
};

static char readbuf[65536];    /* one loop thread: read callbacks copy out */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = readbuf;
    buf->len = sizeof readbuf;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct exp_conn *c = h->data;

    if (--c->handles)
        return;
    free(c->pend);
    free(c);
}

static void conn_close(struct exp_conn *c)
{
    struct exp *e = c->e;

    if (c->closing)
        return;
    c->closing = 1;
    if (c->scrape)
        exp_scrape_abandon(e, c->scrape);
    c->scrape = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        e->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    e->n_conns--;
    uv_close((uv_handle_t *)&c->idle, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_idle(uv_timer_t *t)
{
    conn_close(t->data);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static void parse(struct exp_conn *c, const char *data, size_t len);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void restart_reading(struct exp_conn *c)
{
    if (!c->closing && !c->close_after && !c->reading) {
        c->reading = 1;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    }
}

static void stop_reading(struct exp_conn *c)
{
    if (c->reading) {
        c->reading = 0;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

/* Bytes that came while a request is answered: the next requests.  The
 * connection stays read (a client that goes away cancels its probe),
 * up to a bound. */
static void keep(struct exp_conn *c, const char *data, size_t len)
{
    char *p = realloc(c->pend, c->pend_len + len);

    if (!p) {
        conn_close(c);
        return;
    }
    memcpy(p + c->pend_len, data, len);
    c->pend = p;
    c->pend_len += len;
    if (c->pend_len > EXP_HEAD_MAX + 4096)
        stop_reading(c);
}


static void on_written(uv_write_t *w, int status)
{
    struct wreq *wr = (struct wreq *)w;
    struct exp_conn *c = wr->c;
    char *pend;
    size_t n;

    free(wr->owned);
    free(wr);
    if (c->closing)
        return;
    if (status < 0 || c->close_after) {
        conn_close(c);
        return;
    }
    c->busy = 0;
    exp_req_next(&c->req);
    uv_timer_start(&c->idle, on_idle, c->e->idle_ms, 0);
    pend = c->pend;
    n = c->pend_len;
    c->pend = NULL;
    c->pend_len = 0;
    if (n)
        parse(c, pend, n);
    free(pend);
    if (!c->busy)
        restart_reading(c);
}

const struct exp_req *exp_conn_req(const struct exp_conn *c)
{
    return &c->req;
}

void exp_conn_set_scrape(struct exp_conn *c, void *scrape)
{
    c->scrape = scrape;
}

/* Write the answer; `owned` (when set) is `body`, freed once written
 * (or now, on failure). */
static void reply(struct exp_conn *c, int status, const char *ctype,
                  const char *body, size_t len, char *owned)
{
    struct wreq *wr;
    char head[256];
    int hl;
    uv_buf_t buf[2];

    c->scrape = NULL;
    if (c->closing) {
        free(owned);
        return;
    }
    if (status >= 400 && status != 404 && status != 403 && status != 503)
        c->close_after = 1;
    if (!c->req.keep_alive || c->e->stopping)
        c->close_after = 1;
    hl = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                  "Content-Length: %zu\r\n%s\r\n", status, reason(status),
                  ctype, len, c->close_after ? "Connection: close\r\n" : "");
    if (c->req.head)
        len = 0;
    if (!(wr = malloc(sizeof *wr + (size_t)hl + (owned ? 0 : len)))) {
        free(owned);
        conn_close(c);
        return;
    }
    wr->c = c;
    wr->owned = owned;
    memcpy(wr->data, head, (size_t)hl);
    if (len && !owned)
        memcpy(wr->data + hl, body, len);
    buf[0] = uv_buf_init(wr->data, (unsigned)(hl + (owned ? 0 : len)));
    buf[1] = uv_buf_init(owned, (unsigned)len);
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, buf, owned && len ? 2 : 1,
                 on_written) < 0) {
        free(wr->owned);
        free(wr);
        conn_close(c);
    }
}

void exp_reply(struct exp_conn *c, int status, const char *ctype,
               const char *body, size_t len)
{
    reply(c, status, ctype, body, len, NULL);
}

void exp_reply_owned(struct exp_conn *c, int status, const char *ctype,
                     char *body, size_t len)
{
    reply(c, status, ctype, body, len, body);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct exp_conn *c = s->data;

    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n > 0 && c->busy)
        keep(c, buf->base, (size_t)n);
    else if (n > 0)
        parse(c, buf->base, (size_t)n);
}

/* Feed bytes; on a whole request stop reading, keep the rest and route
 * it. */
static void parse(struct exp_conn *c, const char *data, size_t len)
{
    size_t used = exp_req_feed(&c->req, data, len);
    char msg[128];

    if (c->req.status) {
        int n = snprintf(msg, sizeof msg, "%s\n", c->req.why);
        c->busy = 1;
        c->close_after = 1;
        stop_reading(c);
        c->e->bad_requests++;
        exp_reply(c, c->req.status, "text/plain; charset=utf-8", msg,
                  (size_t)n);
        return;
    }
    if (!c->req.complete)
        return;
    c->busy = 1;
    if (used < len)
        keep(c, data + used, len - used);
    if (c->closing)
        return;
    uv_timer_stop(&c->idle);
    c->e->requests++;
    exp_route(c->e, c);
    /* Answered at once (not a probe): go on with what was pipelined. */
}

static void on_connection(uv_stream_t *server, int status)
{
    struct exp *e = server->data;
    struct exp_conn *c;

    if (status < 0 || !(c = calloc(1, sizeof *c)))
        return;
    c->e = e;
    uv_tcp_init(e->loop, &c->tcp);
    uv_timer_init(e->loop, &c->idle);
    c->tcp.data = c->idle.data = c;
    c->handles = 2;
    exp_req_init(&c->req);
    c->next = e->conns;
    if (e->conns)
        e->conns->prev = c;
    e->conns = c;
    e->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
        e->n_conns > e->max_conns || e->stopping) {
        if (e->n_conns > e->max_conns)
            e->refused_conns++;
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->idle, on_idle, e->idle_ms, 0);
    restart_reading(c);
}

int exp_server_start(struct exp *e, char *err, size_t size)
{
    struct sockaddr_storage ss;
    char host[256];
    const char *colon = strrchr(e->listen, ':');
    int port, rc;

    if (!colon || colon - e->listen >= (long)sizeof host ||
        (port = atoi(colon + 1)) <= 0 || port > 65535)
        return snprintf(err, size, "--web.listen-address %s: not HOST:PORT",
                        e->listen), -1;
    memcpy(host, e->listen, (size_t)(colon - e->listen));
    host[colon - e->listen] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    if (!*host)
        strcpy(host, "0.0.0.0");
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) < 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) < 0)
        return snprintf(err, size, "--web.listen-address %s: not an "
                        "address", e->listen), -1;
    uv_tcp_init(e->loop, &e->listener);
    e->listener.data = e;
    if ((rc = uv_tcp_bind(&e->listener, (struct sockaddr *)&ss, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&e->listener, 4096,
                        on_connection)) < 0) {
        uv_close((uv_handle_t *)&e->listener, NULL);
        return snprintf(err, size, "listen on %s: %s", e->listen,
                        uv_strerror(rc)), -1;
    }
    return 0;
}

void exp_server_stop(struct exp *e)
{
    if (!uv_is_closing((uv_handle_t *)&e->listener))
        uv_close((uv_handle_t *)&e->listener, NULL);
    while (e->conns) {
        struct exp_conn *c = e->conns;
        conn_close(c);
    }
}
