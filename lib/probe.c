/* One target's state machine: RESOLVE -> CONNECT -> WRITE -> READ.
 *
 * One uv_timer_t per probe carries both the phase deadline and the
 * absolute one (it is armed for whichever comes first), so a server that
 * trickles a byte at a time still meets the absolute deadline.  The read
 * idle deadline is checked lazily: reads only stamp the time, and the
 * timer re-arms itself when it fires early, which keeps timer-heap work
 * off the per-read path.
 *
 * Every exit goes through probe_finish(), which emits exactly one result,
 * closes the handles and frees the probe from the last close callback.
 * Pending connect and write requests are cancelled by uv_close() and call
 * back with UV_ECANCELED before the close callback; the state check at the
 * top of each callback turns those into no-ops.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum probe_state {
    PROBE_RESOLVE,
    PROBE_CONNECT,
    PROBE_WRITE,
    PROBE_READ,
    PROBE_CLOSING
};

struct probe {
    struct probe *next, *prev;      /* scanner's in-flight list */
    hscan_t *scan;
    enum probe_state state;
    int handles;                    /* open uv handles */
    int tcp_live;                   /* tcp initialised and not closing */
    int connected;
    uv_timer_t timer;
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct hscan__dnsq *dnsq;
    struct hscan__resp resp;

    struct hscan__dns_answer dns;
    int dns_done;
    unsigned next_addr;
    int cur_addr;                   /* index connected to, or -1 */
    int last_err;
    char detail[HSCAN__DETAIL_SIZE];

    uint64_t deadline;              /* uv_now() ms */
    uint64_t phase_deadline;
    uint64_t last_read;
    uint64_t t_start, t_dns, t_conn0, t_conn, t_sent, t_first; /* ns */

    void *udata;
    char *req;
    size_t req_len;
    char *host;                     /* NUL-terminated */
    size_t host_len;
    char *path;
    size_t path_len;
    int port;
    int family;                     /* literal: 4 or 6; name: 0 */
    size_t input_len;
    char input[];                   /* then host, path */
};

static void probe_finish(struct probe *p, int err, const char *detail);
static void connect_next(struct probe *p);

struct probe **hscan__probe_next(struct probe *p) { return &p->next; }
struct probe **hscan__probe_prev(struct probe *p) { return &p->prev; }

static void probe_set_state(struct probe *p, enum probe_state s)
{
    /* Forward only; CONNECT may repeat for the next address. */
    if (s < p->state && s != PROBE_CLOSING)
        return;
    p->state = s;
}

static double ms_between(uint64_t a, uint64_t b)
{
    return (a && b >= a) ? (double)(b - a) / 1e6 : -1;
}

static void on_timer(uv_timer_t *t);

/* Arm the one timer for the nearer of the phase and absolute deadlines. */
static void arm(struct probe *p, uint64_t phase_ms)
{
    uint64_t now = uv_now(hscan__loop(p->scan));
    uint64_t due;

    p->phase_deadline = now + phase_ms;
    due = p->phase_deadline < p->deadline ? p->phase_deadline : p->deadline;
    uv_timer_start(&p->timer, on_timer, due > now ? due - now : 0, 0);
}

static int is_local_shortage(int uverr)
{
    return uverr == UV_EMFILE || uverr == UV_ENFILE ||
           uverr == UV_EADDRNOTAVAIL || uverr == UV_ENOBUFS ||
           uverr == UV_ENOMEM || uverr == UV_EAGAIN;
}

static int map_connect_err(int uverr)
{
    if (is_local_shortage(uverr))
        return HSCAN_ERESOURCE_EXHAUSTED;
    switch (uverr) {
    case UV_ECONNREFUSED: return HSCAN_ECONNECT_REFUSED;
    case UV_ETIMEDOUT: return HSCAN_ECONNECT_TIMEOUT;
    case UV_ECONNRESET: return HSCAN_ECONNECT_RESET;
    }
    return HSCAN_ECONNECT_UNREACHABLE;
}

static void addr_str(const struct hscan__addr *a, char *out, size_t size)
{
    inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, out,
              (socklen_t)size);
}

static void on_timer(uv_timer_t *t)
{
    struct probe *p = container_of(t, struct probe, timer);
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    uint64_t now = uv_now(hscan__loop(p->scan));
    char d[HSCAN__DETAIL_SIZE];

    if (now >= p->deadline) {
        snprintf(d, sizeof(d), "no result within %llu ms",
                 (unsigned long long)lim->timeout_ms);
        probe_finish(p, HSCAN_ETIMEOUT, d);
        return;
    }
    switch (p->state) {
    case PROBE_RESOLVE:
        p->t_dns = uv_hrtime();      /* the lookup lasted until now */
        snprintf(d, sizeof(d), "no DNS answer within %llu ms",
                 (unsigned long long)lim->dns_timeout_ms);
        probe_finish(p, HSCAN_EDNS_TIMEOUT, d);
        break;
    case PROBE_CONNECT:
        p->last_err = HSCAN_ECONNECT_TIMEOUT;
        snprintf(p->detail, sizeof(p->detail), "no answer within %llu ms",
                 (unsigned long long)lim->connect_timeout_ms);
        connect_next(p);
        break;
    case PROBE_WRITE:
        probe_finish(p, HSCAN_EWRITE_FAILED, "request not accepted in time");
        break;
    case PROBE_READ:
        if (now < p->last_read + lim->read_timeout_ms) {
            arm(p, p->last_read + lim->read_timeout_ms - now);
            break;
        }
        snprintf(d, sizeof(d), "no data for %llu ms",
                 (unsigned long long)lim->read_timeout_ms);
        probe_finish(p, HSCAN_EREAD_TIMEOUT, d);
        break;
    case PROBE_CLOSING:
        break;
    }
}

static void on_closed(uv_handle_t *h)
{
    struct probe *p = h->data;

    p->handles--;
    if (h == (uv_handle_t *)&p->tcp && p->state == PROBE_CONNECT) {
        connect_next(p);          /* the old socket is gone: next address */
        return;
    }
    if (p->handles > 0)
        return;
    hscan__resp_free(&p->resp);
    free(p->dns.cnames);
    free(p->req);
    hscan__scan_probe_freed(p->scan, p);
    free(p);
}

/* Close the socket.  After a complete exchange an abortive close (RST)
 * leaves no TIME_WAIT behind, which matters when thousands of probes a
 * second go to the same few addresses; the server has already sent all it
 * meant to. */
static void close_tcp(struct probe *p)
{
    if (!p->tcp_live)
        return;
    p->tcp_live = 0;
    if (p->connected && uv_tcp_close_reset(&p->tcp, on_closed) == 0)
        return;
    uv_close((uv_handle_t *)&p->tcp, on_closed);
}

static void build_result(struct probe *p, hscan_result_t *r, int err,
                         const char *detail)
{
    struct hscan__scratch *s = hscan__scan_scratch(p->scan);
    struct hscan__resp *rs = &p->resp;
    size_t need, i, nstr = p->dns.n_addrs + p->dns.n_cnames;
    char *w;
    const char *c;

    memset(r, 0, sizeof(*r));
    r->error = err;
    r->error_detail = err ? detail : NULL;
    r->udata = p->udata;
    r->input = p->input;
    r->input_len = p->input_len;
    r->scheme = "http";
    r->host = p->host;
    r->port = p->port;
    r->http_major = r->http_minor = -1;
    need = p->host_len + p->path_len + strlen(hscan__scan_path(p->scan)) + 64 + 48 * (p->dns.n_addrs + 1);
    if (hscan__scratch_reserve(s, need, rs->n_hdrs, nstr) != 0) {
        r->error = HSCAN_ERESOURCE_EXHAUSTED;
        r->error_detail = "out of memory building the result";
        return;
    }
    w = s->buf;
    r->url = w;
    w += sprintf(w, "http://%s%s%s", p->family == 6 ? "[" : "", p->host,
                 p->family == 6 ? "]" : "");
    if (p->port != 80)
        w += sprintf(w, ":%d", p->port);
    w += sprintf(w, "%s%s", p->path[0] == '?' ? "/" : "",
                 p->path_len ? p->path : hscan__scan_path(p->scan)) + 1;
    if (p->cur_addr >= 0) {
        r->ip = w;
        addr_str(&p->dns.addrs[p->cur_addr], w, 48);
        w += strlen(w) + 1;
    }
    r->addresses = s->sv;
    for (i = 0; i < p->dns.n_addrs && p->family == 0; i++) {
        s->sv[i] = w;
        addr_str(&p->dns.addrs[i], w, 48);
        w += strlen(w) + 1;
        r->n_addresses++;
    }
    r->cnames = nstr ? s->sv + r->n_addresses : NULL;
    for (i = 0, c = p->dns.cnames; i < p->dns.n_cnames; i++) {
        s->sv[r->n_addresses + i] = c;
        c += strlen(c) + 1;
    }
    r->n_cnames = p->dns.n_cnames;
    if (rs->done) {
        r->status = rs->status;
        r->reason = rs->buf ? rs->buf + rs->reason_off : "";
        r->reason_len = rs->reason_len;
        r->http_major = llhttp_get_http_major(&rs->parser);
        r->http_minor = llhttp_get_http_minor(&rs->parser);
        for (i = 0; i < rs->n_hdrs; i++) {
            const struct hscan__hdr *h = &rs->hdrs[i];
            s->hv[i].name = rs->buf + h->name_off;
            s->hv[i].name_len = h->name_len;
            s->hv[i].value = rs->buf + h->value_off;
            s->hv[i].value_len = h->value_len;
        }
        r->headers = s->hv;
        r->n_headers = rs->n_hdrs;
    }
    r->dns_ms = p->family ? -1 : ms_between(p->t_start, p->t_dns);
    r->connect_ms = ms_between(p->t_conn0, p->t_conn);
    r->tls_ms = -1;
    r->ttfb_ms = ms_between(p->t_sent, p->t_first);
    r->total_ms = ms_between(p->t_start, uv_hrtime());
}

static void probe_finish(struct probe *p, int err, const char *detail)
{
    hscan_result_t r;

    if (p->state == PROBE_CLOSING)
        return;
    probe_set_state(p, PROBE_CLOSING);
    uv_timer_stop(&p->timer);
    if (p->dnsq) {
        hscan__dns_detach(p->dnsq);
        p->dnsq = NULL;
    }
    build_result(p, &r, err, detail);
    hscan__scan_emit(p->scan, p, &r);
    /* Nothing of `r` is used after this point; the view dies with it. */
    close_tcp(p);
    uv_close((uv_handle_t *)&p->timer, on_closed);
}

void hscan__probe_cancel(struct probe *p)
{
    probe_finish(p, HSCAN_ECANCELED, "scan closed while in flight");
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct probe *p = h->data;
    size_t size;

    (void)hint;
    buf->base = hscan__scan_rbuf(p->scan, &size);
    buf->len = size;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct probe *p = st->data;
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    if (p->state != PROBE_READ || nread == 0)
        return;                  /* 0 is EAGAIN, not EOF */
    if (nread < 0) {
        if (nread == UV_EOF) {
            rc = hscan__resp_eof(&p->resp, d, sizeof(d));
            probe_finish(p, rc, d);
        } else if (nread == UV_ECONNRESET) {
            probe_finish(p, HSCAN_EREAD_RESET, "connection reset by peer");
        } else {
            snprintf(d, sizeof(d), "read: %s", uv_strerror((int)nread));
            probe_finish(p, HSCAN_EREAD_RESET, d);
        }
        return;
    }
    if (!p->t_first)
        p->t_first = uv_hrtime();
    p->last_read = uv_now(hscan__loop(p->scan));
    rc = hscan__resp_feed(&p->resp, buf->base, (size_t)nread, d, sizeof(d));
    if (rc != 0)
        probe_finish(p, rc < 0 ? rc : 0, d);
}

static void start_read(struct probe *p)
{
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    int rc;

    probe_set_state(p, PROBE_READ);
    p->last_read = uv_now(hscan__loop(p->scan));
    arm(p, lim->read_timeout_ms);
    rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    if (rc != 0)
        probe_finish(p, HSCAN_EREAD_RESET, uv_strerror(rc));
}

static void on_written(uv_write_t *req, int status)
{
    struct probe *p = req->data;

    if (p->state != PROBE_WRITE)
        return;
    if (status < 0) {
        char d[HSCAN__DETAIL_SIZE];
        snprintf(d, sizeof(d), "write: %s", uv_strerror(status));
        probe_finish(p, is_local_shortage(status) ? HSCAN_ERESOURCE_EXHAUSTED
                                                  : HSCAN_EWRITE_FAILED, d);
        return;
    }
    p->t_sent = uv_hrtime();
    start_read(p);
}

static void send_request(struct probe *p)
{
    uv_buf_t b = uv_buf_init(p->req, (unsigned)p->req_len);
    int n, rc;

    probe_set_state(p, PROBE_WRITE);
    /* A request is a few hundred bytes into an empty socket buffer: it
     * nearly always goes out at once, without a write request. */
    n = uv_try_write((uv_stream_t *)&p->tcp, &b, 1);
    if (n == (int)p->req_len) {
        p->t_sent = uv_hrtime();
        start_read(p);
        return;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    arm(p, hscan__scan_limits(p->scan)->read_timeout_ms);
    p->wreq.data = p;
    rc = uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &b, 1, on_written);
    if (rc != 0)
        on_written(&p->wreq, rc);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct probe *p = req->data;

    if (p->state != PROBE_CONNECT || status == UV_ECANCELED)
        return;
    if (status < 0) {
        p->last_err = map_connect_err(status);
        snprintf(p->detail, sizeof(p->detail), "connect: %s",
                 uv_strerror(status));
        connect_next(p);
        return;
    }
    p->connected = 1;
    p->t_conn = uv_hrtime();
    send_request(p);
}

static void fill_sockaddr(const struct hscan__addr *a, int port,
                          struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        memcpy(&s6->sin6_addr, a->bytes, 16);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        memcpy(&s4->sin_addr, a->bytes, 4);
    }
}

/* Try the next address; with none left, finish with the last failure.
 * A socket from a failed attempt is closed first and this runs again from
 * its close callback, because the uv_tcp_t is embedded and reused. */
static void connect_next(struct probe *p)
{
    struct sockaddr_storage ss;
    uv_loop_t *loop = hscan__loop(p->scan);
    int rc;

    if (p->tcp_live) {
        uv_timer_stop(&p->timer);
        close_tcp(p);
        return;
    }
    if (p->next_addr >= p->dns.n_addrs) {
        probe_finish(p, p->last_err, p->detail);
        return;
    }
    p->cur_addr = (int)p->next_addr++;
    p->connected = 0;
    fill_sockaddr(&p->dns.addrs[p->cur_addr], p->port, &ss);
    uv_tcp_init(loop, &p->tcp);
    p->tcp.data = p;
    p->tcp_live = 1;
    p->handles++;
    p->creq.data = p;
    p->t_conn0 = uv_hrtime();
    p->t_conn = 0;
    rc = uv_tcp_connect(&p->creq, &p->tcp, (struct sockaddr *)&ss,
                        on_connect);
    if (rc != 0) {
        /* Synchronous failures (EMFILE, EADDRNOTAVAIL...) never call
         * on_connect: classify them here, local shortage included. */
        p->last_err = map_connect_err(rc);
        snprintf(p->detail, sizeof(p->detail), "connect: %s",
                 uv_strerror(rc));
        if (p->last_err == HSCAN_ERESOURCE_EXHAUSTED) {
            p->next_addr = p->dns.n_addrs;    /* no point in the others */
        }
        close_tcp(p);
        return;
    }
    arm(p, hscan__scan_limits(p->scan)->connect_timeout_ms);
}

static void start_connect(struct probe *p)
{
    probe_set_state(p, PROBE_CONNECT);
    p->last_err = HSCAN_ECONNECT_UNREACHABLE;
    snprintf(p->detail, sizeof(p->detail), "no address to connect to");
    connect_next(p);
}

static void on_resolved(void *ctx, int err, const char *detail,
                        struct hscan__dns_answer *ans)
{
    struct probe *p = ctx;

    p->dnsq = NULL;
    p->dns = *ans;
    p->dns_done = 1;
    p->t_dns = uv_hrtime();
    if (err) {
        probe_finish(p, err, detail);
        return;
    }
    start_connect(p);
}

static void build_request(struct probe *p, int *err)
{
    const char *method = hscan__scan_method(p->scan);
    const char *path = p->path_len ? p->path : hscan__scan_path(p->scan);
    size_t tail_len, n;
    const char *tail = hscan__scan_reqtail(p->scan, &tail_len);
    int slash = path[0] != '/';

    n = strlen(method) + strlen(path) + p->host_len + tail_len + 64;
    if (!(p->req = malloc(n))) {
        *err = HSCAN_ENOMEM;
        return;
    }
    /* Host carries the port only when it is not the default (RFC 9110
     * 7.2); an IPv6 literal keeps its brackets. */
    p->req_len = (size_t)sprintf(p->req, "%s %s%s HTTP/1.1\r\n", method,
                                 slash ? "/" : "", path);
    if (!hscan__scan_user_host(p->scan)) {
        p->req_len += (size_t)sprintf(p->req + p->req_len, "Host: %s%s%s",
                                      p->family == 6 ? "[" : "", p->host,
                                      p->family == 6 ? "]" : "");
        if (p->port != 80)
            p->req_len += (size_t)sprintf(p->req + p->req_len, ":%d",
                                          p->port);
        memcpy(p->req + p->req_len, "\r\n", 2);
        p->req_len += 2;
    }
    memcpy(p->req + p->req_len, tail, tail_len);
    p->req_len += tail_len;
}

static struct probe *probe_alloc(const char *input, size_t input_len,
                                 const struct hscan__target *t)
{
    struct probe *p;
    size_t extra = input_len + 1 + t->host_len + 1 + t->path_len + 1;

    p = calloc(1, sizeof(*p) + extra);
    if (!p)
        return NULL;
    memcpy(p->input, input, input_len);
    p->input_len = input_len;
    p->host = p->input + input_len + 1;
    memcpy(p->host, t->host, t->host_len);
    p->host_len = t->host_len;
    p->path = p->host + t->host_len + 1;
    memcpy(p->path, t->path, t->path_len);
    p->path_len = t->path_len;
    p->port = t->port;
    p->family = t->family;
    p->cur_addr = -1;
    return p;
}

static void start_literal(struct probe *p)
{
    struct hscan__addr *a = &p->dns.addrs[0];
    int fam = hscan__scan_limits(p->scan)->family;

    a->family = (uint8_t)p->family;
    inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->host, a->bytes);
    p->dns.n_addrs = 1;
    if (fam && fam != p->family) {
        probe_finish(p, HSCAN_EDNS_NO_ADDRESS,
                     "address literal excluded by the -4/-6 restriction");
        return;
    }
    start_connect(p);
}

struct probe *hscan__probe_start(hscan_t *scan, const char *input,
                                 size_t input_len,
                                 const struct hscan__target *t, void *udata,
                                 int *err)
{
    const struct hscan__limits *lim = hscan__scan_limits(scan);
    uv_loop_t *loop = hscan__loop(scan);
    struct probe *p = probe_alloc(input, input_len, t);

    *err = 0;
    if (p)
        p->scan = scan;
    if (!p || (build_request(p, err), *err)) {
        if (p)
            free(p);
        *err = HSCAN_ENOMEM;
        return NULL;
    }
    p->scan = scan;
    p->udata = udata;
    p->t_start = uv_hrtime();
    p->deadline = uv_now(loop) + lim->timeout_ms;
    hscan__resp_init(&p->resp, lim->max_header_bytes, lim->max_headers);
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->handles = 1;
    return p;
}

/* Second half of starting, once the scanner has linked the probe: from
 * here on a result may be emitted. */
void hscan__probe_run(struct probe *p)
{
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    struct hscan__dnsq *q;

    if (p->family) {
        start_literal(p);
        return;
    }
    probe_set_state(p, PROBE_RESOLVE);
    arm(p, lim->dns_timeout_ms);
    q = hscan__dns_resolve(hscan__scan_dns(p->scan), p->host, lim->family,
                           on_resolved, p);
    if (q)
        p->dnsq = q;     /* NULL: answered or failed already */
}
