/* server-dns.c: UDP DNS test server (see server-dns.h). */
#include "server-dns.h"
#include "tsrv-net.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LABELS 128
#define REPLY_MAX 1024
#define TTL 60

#define T_A 1
#define T_CNAME 5
#define T_AAAA 28

#define RC_NOERROR 0
#define RC_SERVFAIL 2
#define RC_NXDOMAIN 3
#define RC_REFUSED 5

struct tsrv_dns {
    uv_udp_t udp;
    unsigned long queries;
    int port;
    char rbuf[4096];
};

/* A parsed query: the question is pkt[12 .. qend). */
struct query {
    const unsigned char *pkt;
    size_t qend;
    unsigned qtype;
    int nlabels;
    size_t loff[MAX_LABELS];    /* offset of each label's first byte */
    unsigned char llen[MAX_LABELS];
    unsigned char a[4];         /* the A answer that stands for 127.0.0.1 */
};

enum behaviour {
    B_DEFAULT, B_LOCALHOST, B_NX, B_SERVFAIL, B_REFUSED, B_DROP, B_NODATA,
    B_CNAME, B_MULTI, B_V6, B_BOTH
};

static const struct {
    const char *name;
    enum behaviour b;
} behaviours[] = {
    { "nx", B_NX }, { "servfail", B_SERVFAIL }, { "refused", B_REFUSED },
    { "drop", B_DROP }, { "nodata", B_NODATA }, { "cname", B_CNAME },
    { "multi", B_MULTI }, { "v6", B_V6 }, { "both", B_BOTH },
};

/* Reply under construction. */
struct reply {
    unsigned char buf[REPLY_MAX];
    size_t len;
    unsigned ancount;
};

struct send_req {
    uv_udp_send_t req;
    size_t len;
    char data[];
};

static const unsigned char ip4_lo[4] = { 127, 0, 0, 1 };
static const unsigned char ip4_3[4] = { 127, 0, 0, 3 };
static const unsigned char ip6_lo[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};

/* Parse header + exactly one uncompressed question. 0 or -1. */
static int parse_query(const unsigned char *pkt, size_t len,
                       struct query *q)
{
    size_t off = 12;

    if (len < 12 || (pkt[2] & 0x80) || ((pkt[2] >> 3) & 0x0f) != 0)
        return -1;
    if (pkt[4] != 0 || pkt[5] != 1)
        return -1;
    q->pkt = pkt;
    q->nlabels = 0;
    for (;;) {
        unsigned l;

        if (off >= len)
            return -1;
        l = pkt[off];
        if (l == 0)
            break;
        if ((l & 0xc0) || off + 1 + l > len || q->nlabels == MAX_LABELS)
            return -1;
        q->loff[q->nlabels] = off + 1;
        q->llen[q->nlabels++] = (unsigned char)l;
        off += 1 + l;
        if (off - 12 > 254)
            return -1;
    }
    off++;
    if (off + 4 > len)
        return -1;
    q->qtype = (unsigned)pkt[off] << 8 | pkt[off + 1];
    q->qend = off + 4;
    return 0;
}

static int label_is(const struct query *q, int i, const char *s)
{
    size_t n = strlen(s);

    return q->llen[i] == n &&
           strncasecmp((const char *)q->pkt + q->loff[i], s, n) == 0;
}

/* One decimal octet, 0..255 without leading zeros, at p[0..n). Returns
 * the number of bytes used, or 0. */
static size_t parse_octet(const char *p, size_t n, unsigned char *out)
{
    size_t i;
    unsigned v = 0;

    for (i = 0; i < n && i < 3 && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    if (i == 0 || v > 255 || (i > 1 && p[0] == '0'))
        return 0;
    *out = (unsigned char)v;
    return i;
}

/* `ip-127-B-C-D` as the first label: q->a becomes 127.B.C.D, so one
 * server (and one wildcard listener) can stand for many hosts; any other
 * first label leaves q->a at 127.0.0.1. */
static void parse_ip_label(struct query *q)
{
    const char *p;
    size_t n, used;
    unsigned char a[4];
    int i;

    memcpy(q->a, ip4_lo, 4);
    if (q->nlabels == 0)
        return;
    p = (const char *)q->pkt + q->loff[0];
    n = q->llen[0];
    if (n < 3 || strncasecmp(p, "ip-", 3) != 0)
        return;
    p += 3;
    n -= 3;
    for (i = 0; i < 4; i++) {
        if (i > 0) {
            if (n == 0 || *p != '-')
                return;
            p++;
            n--;
        }
        used = parse_octet(p, n, &a[i]);
        if (used == 0)
            return;
        p += used;
        n -= used;
    }
    if (n == 0 && a[0] == 127)
        memcpy(q->a, a, 4);
}

static enum behaviour classify(const struct query *q)
{
    size_t i;
    int n = q->nlabels;

    if (n == 1 && label_is(q, 0, "localhost"))
        return B_LOCALHOST;
    if (n < 2 || !label_is(q, n - 1, "test"))
        return B_NX;
    for (i = 0; i < sizeof(behaviours) / sizeof(behaviours[0]); i++)
        if (label_is(q, n - 2, behaviours[i].name))
            return behaviours[i].b;
    return B_DEFAULT;
}

static void put16(struct reply *r, unsigned v)
{
    r->buf[r->len++] = (unsigned char)(v >> 8);
    r->buf[r->len++] = (unsigned char)v;
}

static void put_bytes(struct reply *r, const void *p, size_t n)
{
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

/* Write a dotted name as uncompressed labels. */
static void put_name(struct reply *r, const char *name)
{
    while (*name) {
        size_t n = strcspn(name, ".");

        r->buf[r->len++] = (unsigned char)n;
        put_bytes(r, name, n);
        name += n;
        if (*name == '.')
            name++;
    }
    r->buf[r->len++] = 0;
}

/* Owner (NULL: pointer to the question name), type, class IN, TTL. */
static void put_rr_head(struct reply *r, const char *owner, unsigned type)
{
    if (owner)
        put_name(r, owner);
    else
        put16(r, 0xc00c);
    put16(r, type);
    put16(r, 1);
    put16(r, TTL >> 16);
    put16(r, TTL & 0xffff);
    r->ancount++;
}

static void put_addr(struct reply *r, const char *owner, unsigned type,
                     const unsigned char *addr)
{
    size_t n = type == T_A ? 4 : 16;

    put_rr_head(r, owner, type);
    put16(r, (unsigned)n);
    put_bytes(r, addr, n);
}

static void put_cname(struct reply *r, const char *owner,
                      const char *target)
{
    size_t at;

    put_rr_head(r, owner, T_CNAME);
    at = r->len;
    put16(r, 0);
    put_name(r, target);
    r->buf[at] = (unsigned char)((r->len - at - 2) >> 8);
    r->buf[at + 1] = (unsigned char)(r->len - at - 2);
}

/* Answer section for a NOERROR behaviour; `a` replaces 127.0.0.1 in
 * answers for the question name itself. */
static void put_answers(struct reply *r, enum behaviour b, unsigned qtype,
                        const unsigned char *a)
{
    switch (b) {
    case B_CNAME:
        put_cname(r, NULL, "hop1.cnamed.test");
        put_cname(r, "hop1.cnamed.test", "hop2.fast.test");
        if (qtype == T_A)
            put_addr(r, "hop2.fast.test", T_A, ip4_lo);
        break;
    case B_MULTI:
        if (qtype == T_A) {
            put_addr(r, NULL, T_A, ip4_3);
            put_addr(r, NULL, T_A, a);
        }
        break;
    case B_V6:
        if (qtype == T_AAAA)
            put_addr(r, NULL, T_AAAA, ip6_lo);
        break;
    case B_BOTH:
        if (qtype == T_AAAA)
            put_addr(r, NULL, T_AAAA, ip6_lo);
        /* fall through */
    case B_DEFAULT:
    case B_LOCALHOST:
        if (qtype == T_A)
            put_addr(r, NULL, T_A, a);
        break;
    default:
        break;
    }
}

static unsigned rcode_of(enum behaviour b)
{
    switch (b) {
    case B_NX:
        return RC_NXDOMAIN;
    case B_SERVFAIL:
        return RC_SERVFAIL;
    case B_REFUSED:
        return RC_REFUSED;
    default:
        return RC_NOERROR;
    }
}

static void build_reply(const struct query *q, enum behaviour b,
                        struct reply *r)
{
    unsigned rcode = rcode_of(b);

    r->len = 0;
    r->ancount = 0;
    put_bytes(r, q->pkt, 2);                    /* ID */
    r->buf[r->len++] = (unsigned char)(0x84 | (q->pkt[2] & 0x01));
    r->buf[r->len++] = (unsigned char)(0x80 | rcode);
    put16(r, 1);
    put16(r, 0);                                /* ANCOUNT, set below */
    put16(r, 0);
    put16(r, 0);
    put_bytes(r, q->pkt + 12, q->qend - 12);
    if (rcode == RC_NOERROR)
        put_answers(r, b, q->qtype, q->a);
    r->buf[6] = (unsigned char)(r->ancount >> 8);
    r->buf[7] = (unsigned char)r->ancount;
}

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    free(req);
}

static void send_reply(struct tsrv_dns *s, const struct reply *r,
                       const struct sockaddr *addr)
{
    uv_buf_t buf = uv_buf_init((char *)r->buf, (unsigned)r->len);
    struct send_req *sr;
    int rc;

    rc = uv_udp_try_send(&s->udp, &buf, 1, addr);
    if (rc != UV_EAGAIN && rc != UV_ENOSYS)
        return;
    sr = malloc(sizeof(*sr) + r->len);
    if (!sr)
        return;
    memcpy(sr->data, r->buf, r->len);
    buf = uv_buf_init(sr->data, (unsigned)r->len);
    if (uv_udp_send(&sr->req, &s->udp, &buf, 1, addr, on_sent) != 0)
        free(sr);
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
    struct reply r;
    enum behaviour b;

    if (nread < 0 || addr == NULL)
        return;
    s->queries++;
    if ((flags & UV_UDP_PARTIAL) ||
        parse_query((const unsigned char *)buf->base, (size_t)nread, &q))
        return;
    b = classify(&q);
    parse_ip_label(&q);
    if (b == B_DROP)
        return;
    build_reply(&q, b, &r);
    send_reply(s, &r, addr);
}

static void on_close(uv_handle_t *h)
{
    free(h->data);
}

static int bind_and_read(struct tsrv_dns *s, const struct sockaddr *sa)
{
    struct sockaddr_storage got;
    int len = sizeof(got);
    int rc;

    rc = uv_udp_bind(&s->udp, sa, 0);
    if (rc == 0) {
        /* A scan at concurrency 2,000 sends ~4,000 queries in a burst;
         * the default receive buffer holds a few hundred. */
        int size = 4 << 20;
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&s->udp, &fd) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
                       sizeof(size)) != 0)
            uv_recv_buffer_size((uv_handle_t *)&s->udp, &size);
    }
    if (rc == 0)
        rc = uv_udp_getsockname(&s->udp, (struct sockaddr *)&got, &len);
    if (rc == 0)
        rc = uv_udp_recv_start(&s->udp, on_alloc, on_recv);
    if (rc != 0)
        return rc;
    if (got.ss_family == AF_INET6)
        s->port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    else
        s->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    return 0;
}

int tsrv_dns_start(uv_loop_t *loop, const char *ip, int port,
                   struct tsrv_dns **out)
{
    struct sockaddr_storage ss;
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
    rc = uv_udp_init(loop, &s->udp);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->udp.data = s;
    rc = bind_and_read(s, (const struct sockaddr *)&ss);
    if (rc != 0) {
        uv_close((uv_handle_t *)&s->udp, on_close);
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

void tsrv_dns_stop(struct tsrv_dns *s)
{
    uv_close((uv_handle_t *)&s->udp, on_close);
}
