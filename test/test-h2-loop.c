/* test-h2-loop: the HTTP/2 test server (server-h2.h) in-process, on
 * the test's own loop, as a library test starts it: an h2c client reads
 * the `normal` reply, a second one reads the start of `settings-flood`
 * and then stops reading, and the servers are stopped while it is
 * still open; TLS listeners start with their own CA and with the HTTPS
 * server's (tsrv_tls_ca()). Everything must close: uv_loop_close()
 * returns 0. Bounded by a 5 s loop timer and alarm(10). Exit status 0
 * on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "server-h2.h"
#include "server-tls.h"

#define CHECK(cond) check((cond), #cond, __LINE__)
#define FLOOD_SEEN 65536

struct client {
    const char *path;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    char req[128];
    char buf[FLOOD_SEEN + 16384];
    size_t len;
    int done;
};

static uv_loop_t loop;
static struct tsrv_h2 *h2c, *own, *shared;
static struct tsrv_tls *tls;
static uv_timer_t deadline;
static struct client clients[] = { { .path = "/h2/normal" },
                                   { .path = "/h2/settings-flood" } };
static struct tsrv_h2_counts counts;
static int failures, closes, pending = 2;

static void check(int ok, const char *what, int line)
{
    if (!ok) {
        fprintf(stderr, "FAIL line %d: %s\n", line, what);
        failures++;
    }
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
    closes++;
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "FAIL: deadline, %d clients pending\n", pending);
    exit(1);
}

/* Both clients are done: stop everything while the flood's connection
 * is still open on both sides. */
static void finish(void)
{
    tsrv_h2_counts(h2c, &counts);
    tsrv_h2_stop(h2c);
    tsrv_h2_stop(own);
    tsrv_h2_stop(shared);
    tsrv_tls_stop(tls);
    uv_close((uv_handle_t *)&clients[1].tcp, on_closed);
    uv_close((uv_handle_t *)&deadline, on_closed);
}

static void client_done(struct client *c)
{
    c->done = 1;
    if (--pending == 0)
        finish();
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct client *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;

    (void)buf;
    CHECK(n >= 0);
    if (n < 0 || c->done) {
        uv_read_stop(s);
        return;
    }
    c->len += (size_t)n;
    if (c == &clients[0] &&
        memmem(c->buf, c->len, TSRV_H2_BODY, sizeof(TSRV_H2_BODY) - 1)) {
        uv_close((uv_handle_t *)s, on_closed);
        client_done(c);
    } else if (c == &clients[1] && c->len >= FLOOD_SEEN) {
        uv_read_stop(s);        /* and stay open */
        client_done(c);
    }
}

static void on_written(uv_write_t *req, int status)
{
    CHECK(status == 0);
    CHECK(uv_read_start(req->handle, on_alloc, on_read) == 0);
}

/* Preface, empty SETTINGS, HEADERS (END_STREAM | END_HEADERS) of GET
 * http://h2.test<path> in HPACK static indexes and literals. */
static size_t request(struct client *c)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                  "\0\0\0\4\0\0\0\0\0";
    size_t pl = strlen(c->path), n = sizeof(preface) - 1, k;

    memcpy(c->req, preface, n);
    k = n + 9;
    c->req[k++] = (char)0x82;           /* :method GET */
    c->req[k++] = (char)0x86;           /* :scheme http */
    c->req[k++] = 0x04;                 /* :path, literal */
    c->req[k++] = (char)pl;
    memcpy(c->req + k, c->path, pl);
    k += pl;
    memcpy(c->req + k, "\x01\x07h2.test", 9);   /* :authority */
    k += 9;
    memcpy(c->req + n, "\0\0", 2);
    c->req[n + 2] = (char)(k - n - 9);
    memcpy(c->req + n + 3, "\x01\x05\0\0\0\x01", 6);
    return k;
}

static void on_connected(uv_connect_t *req, int status)
{
    struct client *c = req->data;
    uv_buf_t b = uv_buf_init(c->req, (unsigned)request(c));

    CHECK(status == 0);
    CHECK(uv_write(&c->write, req->handle, &b, 1, on_written) == 0);
}

static void start_client(struct client *c, int port)
{
    struct sockaddr_in sa;

    CHECK(uv_ip4_addr("127.0.0.1", port, &sa) == 0);
    CHECK(uv_tcp_init(&loop, &c->tcp) == 0);
    c->tcp.data = c;
    c->connect.data = c;
    CHECK(uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&sa,
                         on_connected) == 0);
}

int main(void)
{
    alarm(10);
    CHECK(uv_loop_init(&loop) == 0);
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, TSRV_H2_CLEAR, NULL, NULL,
                        &h2c) == 0);
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, TSRV_H2_TLS, NULL, NULL,
                        &own) == 0);
    CHECK(tsrv_tls_start(&loop, "127.0.0.1", 0, NULL, &tls) == 0);
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, TSRV_H2_TLS_H1ONLY,
                        tsrv_tls_ca(tls), NULL, &shared) == 0);
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, 99, NULL, NULL, &own) ==
          UV_EINVAL);
    if (failures)
        return 1;
    CHECK(uv_timer_init(&loop, &deadline) == 0);
    CHECK(uv_timer_start(&deadline, on_deadline, 5000, 0) == 0);
    start_client(&clients[0], tsrv_h2_port(h2c));
    start_client(&clients[1], tsrv_h2_port(h2c));
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(closes == 3);
    CHECK(counts.connections == 2 && counts.sessions == 2);
    CHECK(counts.requests == 2 && counts.h1_replies == 0);
    CHECK(counts.flood_bytes >= FLOOD_SEEN);
    CHECK(counts.flood_bytes < TSRV_H2_FLOOD_BYTES);
    CHECK(uv_loop_close(&loop) == 0);
    if (failures == 0)
        printf("ok\n");
    return failures ? 1 : 0;
}
