/* server-capture.c: a raw TCP server that keeps request heads (see
 * server-capture.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <uv.h>

#include "server-capture.h"
#include "tsrv-net.h"
#include "test-runner.h"

struct cap_conn {
    uv_tcp_t tcp;
    uv_write_t wr;
    uv_shutdown_t sh;
    struct capture *cap;
    char *buf;                  /* CAP_BYTES + 1 */
    size_t len;
    size_t want;                /* head + Content-Length, once known */
    int answered, closing;
    enum cap_fail failing;      /* this connection's, or CAP_OK */
};

static const char cap_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void cap_closed(uv_handle_t *h)
{
    struct cap_conn *c = h->data;
    unsigned i;

    for (i = 0; i < c->cap->n_conns; i++)
        if (c->cap->conns[i] == c)
            c->cap->conns[i] = NULL;
    free(c->buf);
    free(c);
}

static void cap_close(struct cap_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, cap_closed);
}

static void cap_shut(uv_shutdown_t *req, int status)
{
    (void)status;
    cap_close(req->handle->data);
}

static void cap_written(uv_write_t *req, int status)
{
    struct cap_conn *c = req->handle->data;

    if (status < 0 || c->closing ||
        uv_shutdown(&c->sh, (uv_stream_t *)&c->tcp, cap_shut) != 0)
        cap_close(c);
}

/* A FIN: shut the sending side down, then close. */
static void cap_fin(struct cap_conn *c)
{
    if (uv_shutdown(&c->sh, (uv_stream_t *)&c->tcp, cap_shut) != 0)
        cap_close(c);
}

static void cap_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct cap_conn *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(CAP_BYTES - c->len));
}

/* The bytes the request takes: its head, plus the Content-Length of
 * its body when it names one (a request body, RFC 9112 6.3); 0 while
 * the head is not all in. */
static size_t cap_request_len(const char *buf)
{
    const char *end = strstr(buf, "\r\n\r\n"), *cl;
    size_t head;

    if (!end)
        return 0;
    head = (size_t)(end - buf) + 4;
    for (cl = buf; (cl = strchr(cl, '\n')) != NULL && cl < end; cl++)
        if (strncasecmp(cl + 1, "content-length:", 15) == 0)
            return head + strtoul(cl + 16, NULL, 10);
    return head;
}

static void cap_byte(struct cap_conn *c);

static void cap_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct cap_conn *c = s->data;
    uv_buf_t b = uv_buf_init((char *)cap_reply, sizeof(cap_reply) - 1);

    (void)buf;
    if (n < 0 || c->len + (size_t)n >= CAP_BYTES) {
        cap_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (!c->want)
        c->want = cap_request_len(c->buf);
    if (c->answered || !c->want || c->len < c->want)
        return;
    c->answered = 1;
    if (c->failing == CAP_READ_CLOSE) {
        cap_fin(c);
        return;
    }
    if (c->failing == CAP_BYTE_CLOSE) {
        cap_byte(c);
        return;
    }
    if (c->cap->n_reqs < CAP_MAX) {
        char *r = malloc(c->len + 1);
        CHECK(r != NULL);
        memcpy(r, c->buf, c->len + 1);
        c->cap->req_len[c->cap->n_reqs] = c->len;
        c->cap->reqs[c->cap->n_reqs++] = r;
    }
    if (uv_write(&c->wr, s, &b, 1, cap_written) != 0)
        cap_close(c);
}

static void peer_name(struct cap_conn *c, char out[48])
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    out[0] = '\0';
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out,
                  48);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, 48);
}

static void cap_byte_written(uv_write_t *req, int status)
{
    struct cap_conn *c = req->handle->data;

    if (status < 0 || c->closing)
        cap_close(c);
    else
        cap_fin(c);
}

/* One byte of a response, then a FIN. */
static void cap_byte(struct cap_conn *c)
{
    static char byte[] = "H";
    uv_buf_t b = uv_buf_init(byte, 1);

    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1,
                 cap_byte_written) != 0)
        cap_close(c);
}

/* The failures that need no request (cap_read() does the others, once
 * the request is in: no unread byte turns the FIN into an RST). */
static void cap_fail_now(struct cap_conn *c)
{
    switch (c->failing) {
    case CAP_RESET:
        c->closing = 1;
        if (uv_tcp_close_reset(&c->tcp, cap_closed) != 0)
            uv_close((uv_handle_t *)&c->tcp, cap_closed);
        break;
    case CAP_CLOSE:
        cap_fin(c);
        break;
    default:
        break;
    }
}

static void cap_connection(uv_stream_t *server, int status)
{
    struct capture *cap = server->data;
    struct cap_conn *c;

    if (status < 0 || cap->n_conns == CAP_MAX)
        return;
    c = calloc(1, sizeof(*c));
    CHECK(c != NULL);
    c->buf = malloc(CAP_BYTES + 1);
    CHECK(c->buf != NULL);
    c->cap = cap;
    CHECK(uv_tcp_init(server->loop, &c->tcp) == 0);
    c->tcp.data = c;
    cap->conns[cap->n_conns++] = c;
    if (cap->n_conns <= cap->fail_first)
        c->failing = cap->fail_mode;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        cap_close(c);
        return;
    }
    peer_name(c, cap->peers[cap->n_conns - 1]);
    cap_fail_now(c);
    if (!c->closing && c->failing != CAP_CLOSE &&
        uv_read_start((uv_stream_t *)&c->tcp, cap_alloc, cap_read) != 0)
        cap_close(c);
}

/* Bind ip:port; returns the bound port or a negative uv error. */
static int bind_listener(uv_loop_t *loop, uv_tcp_t *t, const char *ip,
                         int port)
{
    CHECK(uv_tcp_init(loop, t) == 0);
    return tsrv_tcp_bind(t, ip, port);
}

/* Listen on ip:port; returns 0 or a uv error (then nothing is open). */
int cap_start(uv_loop_t *loop, struct capture *cap, const char *ip,
                     int port)
{
    int rc;

    memset(cap, 0, sizeof(*cap));
    rc = bind_listener(loop, &cap->listener, ip, port);
    if (rc > 0) {
        cap->port = rc;
        rc = uv_listen((uv_stream_t *)&cap->listener, 64, cap_connection);
    }
    if (rc < 0) {
        uv_close((uv_handle_t *)&cap->listener, NULL);
        return rc;
    }
    cap->listener.data = cap;
    return 0;
}

void cap_stop(struct capture *cap)
{
    unsigned i;

    uv_close((uv_handle_t *)&cap->listener, NULL);
    for (i = 0; i < cap->n_conns; i++)
        if (cap->conns[i])
            cap_close(cap->conns[i]);
}

/* The captured request whose request line has `path`, or NULL. */
const char *cap_find(const struct capture *cap, const char *path)
{
    unsigned i;

    for (i = 0; i < cap->n_reqs; i++) {
        const char *sp = strchr(cap->reqs[i], ' ');
        if (sp && strncmp(sp + 1, path, strlen(path)) == 0 &&
            sp[1 + strlen(path)] == ' ')
            return cap->reqs[i];
    }
    return NULL;
}

void cap_free(struct capture *cap)
{
    unsigned i;

    for (i = 0; i < cap->n_reqs; i++)
        free(cap->reqs[i]);
}
