/* test-servers-selftest: start the DNS and HTTP test servers on one loop
 * and check a few replies with raw uv sockets; a second HTTP server on
 * 0.0.0.0 must answer on 127.5.6.7 and drop a connection that arrives
 * on a non-loopback address (when the machine has one). Bounded by a 5 s
 * loop timer and alarm(10). Exit status 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "server-dns.h"
#include "server-http.h"

#define CHECK(cond) check((cond), #cond, __LINE__)

struct http_case {
    const char *request;
    const char *expect;         /* substring of the reply; NULL: reset;
                                 * "": closed without a byte */
    const char *ip;             /* NULL: 127.0.0.1 */
    int wild;                   /* to the server on 0.0.0.0 */
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    char buf[8192];
    size_t len;
};

static struct http_case cases[] = {
    { .request = "GET /b/many-3 HTTP/1.1\r\nHost: x\r\n\r\n",
      .expect = "X-H-2: v2\r\n" },
    { .request = "GET / HTTP/1.1\r\nHost: a.status-418.test:80\r\n\r\n",
      .expect = "HTTP/1.1 418 Status\r\n" },
    { .request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      .expect = "<html><title>fast</title></html>" },
    { .request = "GET / HTTP/1.1\r\nHost: reset.test\r\n\r\n",
      .expect = NULL },
    { .request = "GET / HTTP/1.1\r\nHost: ip-127-5-6-7.notfound.test\r\n"
                 "\r\n",
      .expect = "HTTP/1.1 404 ", .ip = "127.5.6.7", .wild = 1 },
    /* Last: its address is filled in, or it is skipped. */
    { .request = "GET / HTTP/1.1\r\nHost: fast.test\r\n\r\n",
      .expect = "", .wild = 1 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Queries: ID, name, expected rcode, answer count, last A address. */
static const struct {
    unsigned id;
    const char *qname;          /* wire format */
    int rcode, ancount;
    const char *last;           /* the last answer's RDATA; NULL: any */
} queries[] = {
    { 0x0101, "\x05multi\x04test", 0, 2, "\x7f\0\0\x01" },
    { 0x0202, "\x02nx\x04test", 3, 0, NULL },
    { 0x0303, "\x05" "cname\x04test", 0, 3, "\x7f\0\0\x01" },
    { 0x0404, "\x0dip-127-1-0-17\x04" "fast\x04test", 0, 1,
      "\x7f\x01\0\x11" },
    { 0x0505, "\x0eip-127-9-3-200\x05" "delay\x04test", 0, 1,
      "\x7f\x09\x03\xc8" },
    { 0x0606, "\x0eip-127-9-3-200\x05multi\x04test", 0, 2,
      "\x7f\x09\x03\xc8" },
    { 0x0707, "\x0dip-127-1-0-17\x02nx\x04test", 3, 0, NULL },
    { 0x0808, "\x0eip-127-1-0-256\x04" "fast\x04test", 0, 1,
      "\x7f\0\0\x01" },
    { 0x0909, "\x0cip-10-1-0-17\x04" "fast\x04test", 0, 1,
      "\x7f\0\0\x01" },
    { 0x0a0a, "\x0eip-127-01-0-17\x04" "fast\x04test", 0, 1,
      "\x7f\0\0\x01" },
    { 0x0b0b, "\x0bip-127-1-0-\x04" "fast\x04test", 0, 1,
      "\x7f\0\0\x01" },
};

#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

static uv_loop_t loop;
static struct tsrv_dns *dns;
static struct tsrv_http *http, *wild;
static char outside_ip[64];     /* a non-loopback IPv4 address, or "" */
static uv_udp_t udp;
static uv_timer_t deadline;
static char dns_buf[2048];
static unsigned ncases = NCASES;
static unsigned pending = NCASES + NQUERIES;
static unsigned long dns_count, http_count;
static int failures, closes;

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

static void finish(void)
{
    dns_count = tsrv_dns_queries(dns);
    http_count = tsrv_http_requests(http) + tsrv_http_requests(wild);
    tsrv_dns_stop(dns);
    tsrv_http_stop(http);
    tsrv_http_stop(wild);
    uv_close((uv_handle_t *)&udp, on_closed);
    uv_close((uv_handle_t *)&deadline, on_closed);
}

static void done_one(void)
{
    if (--pending == 0)
        finish();
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "FAIL: deadline, %u checks pending\n", pending);
    failures++;
    exit(1);
}

static void http_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct http_case *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - 1 -
                                                   c->len));
}

static void http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct http_case *c = s->data;

    (void)buf;
    if (n >= 0) {
        c->len += (size_t)n;
        return;
    }
    c->buf[c->len] = 0;
    if (c->expect && !*c->expect) {
        CHECK(n == UV_EOF || n == UV_ECONNRESET);
        CHECK(c->len == 0);
    } else if (c->expect) {
        CHECK(n == UV_EOF);
        CHECK(strstr(c->buf, c->expect) != NULL);
    } else {
        CHECK(n == UV_ECONNRESET && c->len == 0);
    }
    uv_close((uv_handle_t *)s, on_closed);
    done_one();
}

static void http_written(uv_write_t *req, int status)
{
    struct http_case *c = req->handle->data;

    /* The wildcard server may have closed an outside connection before
     * the request went out. */
    CHECK(status == 0 || (c->expect && !*c->expect));
    CHECK(uv_read_start(req->handle, http_alloc, http_read) == 0);
}

static void http_connected(uv_connect_t *req, int status)
{
    struct http_case *c = req->data;
    uv_buf_t b = uv_buf_init((char *)c->request,
                             (unsigned)strlen(c->request));

    CHECK(status == 0);
    CHECK(uv_write(&c->write, req->handle, &b, 1, http_written) == 0);
}

static void start_http_case(struct http_case *c)
{
    int port = tsrv_http_port(c->wild ? wild : http);
    struct sockaddr_in sa;

    CHECK(uv_ip4_addr(c->ip ? c->ip : "127.0.0.1", port, &sa) == 0);
    CHECK(uv_tcp_init(&loop, &c->tcp) == 0);
    c->tcp.data = c;
    c->connect.data = c;
    CHECK(uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&sa,
                         http_connected) == 0);
}

static void dns_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    *buf = uv_buf_init(dns_buf, sizeof(dns_buf));
}

static void dns_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf,
                     const struct sockaddr *addr, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)buf->base;
    unsigned id, i;

    (void)u;
    (void)flags;
    if (n == 0 && addr == NULL)
        return;
    CHECK(n >= 12);
    if (n < 12)
        return;
    id = (unsigned)p[0] << 8 | p[1];
    for (i = 0; i < NQUERIES && queries[i].id != id; i++)
        ;
    CHECK(i < NQUERIES);
    if (i == NQUERIES)
        return;
    CHECK((p[2] & 0x80) && (p[2] & 0x04) && (p[3] & 0x80));
    CHECK((p[3] & 0x0f) == queries[i].rcode);
    CHECK(p[7] == queries[i].ancount && p[5] == 1);
    if (queries[i].last)
        CHECK(memcmp(p + n - 4, queries[i].last, 4) == 0);
    done_one();
}

static void send_query(int port, unsigned i)
{
    unsigned char q[512];
    size_t nl = strlen(queries[i].qname) + 1;
    struct sockaddr_in sa;
    uv_buf_t b;

    memset(q, 0, 12);
    q[0] = (unsigned char)(queries[i].id >> 8);
    q[1] = (unsigned char)queries[i].id;
    q[2] = 0x01;                /* RD */
    q[5] = 1;                   /* QDCOUNT */
    memcpy(q + 12, queries[i].qname, nl);
    memcpy(q + 12 + nl, "\0\1\0\1", 4);     /* A, IN */
    b = uv_buf_init((char *)q, (unsigned)(12 + nl + 4));
    uv_ip4_addr("127.0.0.1", port, &sa);
    CHECK(uv_udp_try_send(&udp, &b, 1, (struct sockaddr *)&sa) > 0);
}

static void start_clients(void)
{
    struct sockaddr_in sa;
    unsigned i;

    uv_ip4_addr("127.0.0.1", 0, &sa);
    CHECK(uv_udp_init(&loop, &udp) == 0);
    CHECK(uv_udp_bind(&udp, (struct sockaddr *)&sa, 0) == 0);
    CHECK(uv_udp_recv_start(&udp, dns_alloc, dns_recv) == 0);
    for (i = 0; i < NQUERIES; i++)
        send_query(tsrv_dns_port(dns), i);
    for (i = 0; i < ncases; i++)
        start_http_case(&cases[i]);
}

/* The first up, non-internal IPv4 address outside 127.0.0.0/8: the
 * wildcard server must turn a connection to it away. Without one the
 * last case is skipped. */
static void find_outside_ip(void)
{
    uv_interface_address_t *ifs;
    int i, n;

    if (uv_interface_addresses(&ifs, &n) == 0) {
        for (i = 0; i < n && !outside_ip[0]; i++) {
            const struct sockaddr_in *a = &ifs[i].address.address4;

            if (a->sin_family == AF_INET && !ifs[i].is_internal &&
                (ntohl(a->sin_addr.s_addr) >> 24) != 127)
                uv_ip4_name(a, outside_ip, sizeof(outside_ip));
        }
        uv_free_interface_addresses(ifs, n);
    }
    if (outside_ip[0]) {
        cases[NCASES - 1].ip = outside_ip;
    } else {
        printf("# no non-loopback IPv4 address: outside case skipped\n");
        ncases--;
        pending--;
    }
}

int main(void)
{
    alarm(10);
    CHECK(uv_loop_init(&loop) == 0);
    CHECK(tsrv_dns_start(&loop, "127.0.0.1", 0, &dns) == 0);
    CHECK(tsrv_http_start(&loop, "127.0.0.1", 0, &http) == 0);
    CHECK(tsrv_http_start(&loop, "0.0.0.0", 0, &wild) == 0);
    if (failures)
        return 1;
    CHECK(uv_timer_init(&loop, &deadline) == 0);
    CHECK(uv_timer_start(&deadline, on_deadline, 5000, 0) == 0);
    find_outside_ip();
    start_clients();
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(dns_count == NQUERIES);
    /* The outside connection is closed before its request is read. */
    CHECK(http_count == NCASES - 1);
    CHECK(closes == (int)ncases + 2);
    CHECK(uv_loop_close(&loop) == 0);
    if (failures == 0)
        printf("ok\n");
    return failures ? 1 : 0;
}
