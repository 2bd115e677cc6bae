/* One target's state machine: RESOLVE -> CONNECT -> [TLS] -> WRITE ->
 * READ, repeated per redirect hop.
 *
 * One uv_timer_t per probe carries both the phase deadline and the
 * absolute one (it is armed for whichever comes first), so a server that
 * trickles a byte at a time still meets the absolute deadline.  The read
 * idle deadline is checked lazily: reads only stamp the time, and the
 * timer re-arms itself when it fires early, which keeps timer-heap work
 * off the per-read path.
 *
 * Every exit goes through hscan__p_finish(), which emits exactly one
 * result, closes the handles and frees the probe from the last close
 * callback.  Pending connect and write requests are cancelled by
 * uv_close() and call back with UV_ECANCELED before the close callback;
 * the state check at the top of each callback turns those into no-ops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

static void connect_next(struct probe *p);

struct probe **hscan__probe_next(struct probe *p) { return &p->next; }
struct probe **hscan__probe_prev(struct probe *p) { return &p->prev; }

void hscan__p_set_state(struct probe *p, enum probe_state s)
{
    /* Forward only within a hop; a new hop or the next address may go
     * back to RESOLVE/CONNECT, but nothing leaves CLOSING. */
    if (p->state == PROBE_CLOSING)
        return;
    p->state = s;
}

static void on_timer(uv_timer_t *t);

/* Arm the one timer for the nearer of the phase and absolute deadlines. */
void hscan__p_arm(struct probe *p, uint64_t phase_ms)
{
    uint64_t now = uv_now(hscan__loop(p->scan));
    uint64_t due;

    p->phase_deadline = now + phase_ms;
    due = p->phase_deadline < p->deadline ? p->phase_deadline : p->deadline;
    if (p->cancel_req)              /* a new phase must not delay it */
        due = now;
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

void hscan__p_addr_str(const struct hscan__addr *a, char *out, size_t size)
{
    char t[16];
    size_t n = 0;
    int i;

    if (a->family == 6 || size < sizeof(t)) {
        inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, out,
                  (socklen_t)size);
        return;
    }
    /* IPv4 by hand: glibc's inet_ntop goes through sprintf. */
    for (i = 0; i < 4; i++) {
        if (i)
            t[n++] = '.';
        n += hscan__utoa(t + n, a->bytes[i]);
    }
    memcpy(out, t, n);
    out[n] = '\0';
}

static void on_timer(uv_timer_t *t)
{
    struct probe *p = container_of(t, struct probe, timer);
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    uint64_t now = uv_now(hscan__loop(p->scan));
    char d[HSCAN__DETAIL_SIZE];

    if (p->cancel_req) {
        hscan__p_finish(p, HSCAN_ECANCELED, "target canceled");
        return;
    }
    if (now >= p->deadline) {
        if (hscan__p_body_cut(p))
            return;
        if (p->fd_wait) {           /* never got to try: a local cause */
            hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, p->detail);
            return;
        }
        snprintf(d, sizeof(d), "no result within %llu ms",
                 (unsigned long long)p->timeout_ms);
        hscan__p_finish(p, HSCAN_ETIMEOUT, d);
        return;
    }
    switch (p->state) {
    case PROBE_RESOLVE:
        /* Time spent waiting for the pacing window or --dns-rate is
         * ours, not the resolver's: the DNS deadline runs from the
         * lookup's (last) send. */
        if (p->dnsq) {
            uint64_t sent = hscan__dns_sent_ms(p->dnsq);
            if (sent == 0 || now < sent + lim->dns_timeout_ms) {
                hscan__p_arm(p, sent ? sent + lim->dns_timeout_ms - now
                                     : lim->dns_timeout_ms);
                break;
            }
        }
        p->t_dns = uv_hrtime();      /* the lookup lasted until now */
        snprintf(d, sizeof(d), "no DNS answer within %llu ms",
                 (unsigned long long)lim->dns_timeout_ms);
        hscan__p_finish(p, HSCAN_EDNS_TIMEOUT, d);
        break;
    case PROBE_CONNECT:
        if (p->fd_wait) {           /* back-off over: same address again */
            p->fd_wait = 0;
            p->next_addr = (unsigned)p->cur_addr;
            connect_next(p);
            break;
        }
        p->last_err = HSCAN_ECONNECT_TIMEOUT;
        snprintf(p->detail, sizeof(p->detail), "no answer within %llu ms",
                 (unsigned long long)lim->connect_timeout_ms);
        connect_next(p);
        break;
    case PROBE_TLS:
        snprintf(d, sizeof(d), "handshake not done within %llu ms",
                 (unsigned long long)lim->tls_timeout_ms);
        if (!hscan__p_fall_back(p, HSCAN_ETLS_TIMEOUT, d))
            hscan__p_finish(p, HSCAN_ETLS_TIMEOUT, d);
        break;
    case PROBE_WRITE:
        hscan__p_finish(p, HSCAN_EWRITE_FAILED,
                        "request not accepted in time");
        break;
    case PROBE_READ:
        if (now < p->last_read + lim->read_timeout_ms) {
            hscan__p_arm(p, p->last_read + lim->read_timeout_ms - now);
            break;
        }
        if (hscan__p_body_cut(p))
            break;
        snprintf(d, sizeof(d), "no data for %llu ms",
                 (unsigned long long)lim->read_timeout_ms);
        hscan__p_finish(p, HSCAN_EREAD_TIMEOUT, d);
        break;
    case PROBE_CLOSING:
        break;
    }
}

static void on_closed(uv_handle_t *h)
{
    struct probe *p = h->data;

    p->handles--;
    if (h == (uv_handle_t *)&p->tcp) {
        p->tcp_closing = 0;
        if (p->gate_held)
            hscan__gate_leave(hscan__scan_gate(p->scan), p);
        if (p->state == PROBE_CONNECT && !p->fd_wait) {
            connect_next(p);      /* the old socket is gone: next address */
            return;
        }
    }
    if (p->handles > 0)
        return;
    hscan__resp_free(&p->resp);
    hscan__tls_free(&p->tls);
    hscan__p_free_hops(p);
    free(p->facts);
    free(p->dns.cnames);
    free(p->req);
    free(p->hop_mem);
    hscan__over_unref(p->over);
    hscan__scan_probe_freed(p->scan, p);
    free(p);
}

/* Close the socket.  After a complete exchange an abortive close (RST)
 * leaves no TIME_WAIT behind, which matters when thousands of probes a
 * second go to the same few addresses; the server has already sent all it
 * meant to.  Over TLS no close_notify is sent or awaited: a peer that
 * never answers one costs nothing. */
void hscan__p_close_tcp(struct probe *p)
{
    if (!p->tcp_live)
        return;
    p->tcp_live = 0;
    p->tcp_closing = 1;
    if (p->connected && uv_tcp_close_reset(&p->tcp, on_closed) == 0)
        return;
    uv_close((uv_handle_t *)&p->tcp, on_closed);
}

void hscan__p_finish(struct probe *p, int err, const char *detail)
{
    hscan_result_t r;

    if (p->state == PROBE_CLOSING)
        return;
    /* Canceled is what hscan_cancel() promised, whatever else happened
     * in this loop iteration before its timer ran. */
    if (p->cancel_req) {
        err = HSCAN_ECANCELED;
        detail = "target canceled";
    }
    hscan__p_set_state(p, PROBE_CLOSING);
    uv_timer_stop(&p->timer);
    if (p->dnsq) {
        hscan__dns_detach(p->dnsq);
        p->dnsq = NULL;
    }
    if (p->gate_wait)
        hscan__gate_cancel(hscan__scan_gate(p->scan), p);
    hscan__p_build_result(p, &r, err, detail);
    hscan__scan_emit(p->scan, p, &r);
    /* Nothing of `r` is used after this point; the view dies with it. */
    hscan__p_close_tcp(p);
    uv_close((uv_handle_t *)&p->timer, on_closed);
}

void hscan__probe_cancel(struct probe *p)
{
    hscan__p_finish(p, HSCAN_ECANCELED, "scan closed while in flight");
}

/* The timer is the probe's one way in from the loop, so finishing from
 * it keeps the result out of the hscan_cancel() call. */
int hscan__probe_cancel_id(struct probe *p, uint64_t id)
{
    if (p->id != id || p->cancel_req || p->state == PROBE_CLOSING)
        return 0;
    p->cancel_req = 1;
    uv_timer_start(&p->timer, on_timer, 0, 0);
    return 1;
}

const char *hscan__p_method(const struct probe *p)
{
    if (p->over && p->over->method)
        return p->over->method;
    return hscan__scan_method(p->scan);
}

const char *hscan__p_default_path(const struct probe *p)
{
    if (p->over && p->over->path)
        return p->over->path;
    return hscan__scan_path(p->scan);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct probe *p = h->data;
    size_t size;

    (void)hint;
    buf->base = hscan__scan_rbuf(p->scan, &size);
    buf->len = size;
}

/* cfg.body_bytes, and a method whose response has a body. */
static int want_body(const struct probe *p)
{
    return hscan__scan_limits(p->scan)->body_bytes > 0 &&
           strcmp(hscan__p_method(p), "HEAD") != 0;
}

void hscan__p_got_bytes(struct probe *p, const char *buf, size_t n)
{
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    if (!p->t_first)
        p->t_first = uv_hrtime();
    if (p->resp.body_on) {
        if (hscan__resp_body_feed(&p->resp, buf, n))
            hscan__p_finish(p, 0, NULL);
        return;
    }
    rc = hscan__resp_feed(&p->resp, buf, n, d, sizeof(d));
    if (rc < 0) {
        hscan__p_finish(p, rc, d);
    } else if (rc > 0 && !hscan__p_redirect(p)) {
        if (!want_body(p)) {
            hscan__p_finish(p, 0, NULL);
            return;
        }
        hscan__resp_body_start(&p->resp,
                               hscan__scan_limits(p->scan)->body_bytes);
        if (hscan__resp_body_feed(&p->resp, buf + p->resp.rest,
                                  n - p->resp.rest))
            hscan__p_finish(p, 0, NULL);
    }
}

/* The body stops coming (timeout, reset, TLS failure): the response
 * stands with what arrived.  Returns 1 when that applied. */
int hscan__p_body_cut(struct probe *p)
{
    if (!p->resp.body_on || p->state == PROBE_CLOSING)
        return 0;
    hscan__resp_body_cut(&p->resp, 0);
    hscan__p_finish(p, 0, NULL);
    return 1;
}

/* An EOF that was an RST.  When bytes and the peer's RST arrive in one
 * poll, libuv reports EOF after the partial read without reading again
 * (POLLHUP, uv__stream_io), so the reset is still pending in SO_ERROR:
 * without this look it would be read_closed, depending on timing. */
static int eof_was_reset(struct probe *p)
{
    uv_os_fd_t fd;
    int err = 0;
    socklen_t len = sizeof(err);

    if (uv_fileno((uv_handle_t *)&p->tcp, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return 0;
    return err == ECONNRESET;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct probe *p = st->data;
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    /* Reading starts with the connect (see connect_next), so bytes may
     * come while a request is still being written: they are the
     * response all the same. */
    if ((p->state != PROBE_READ && p->state != PROBE_TLS &&
         p->state != PROBE_WRITE) || nread == 0)
        return;                  /* 0 is EAGAIN, not EOF */
    if (nread < 0) {
        if (nread == UV_EOF && eof_was_reset(p))
            nread = UV_ECONNRESET;
        if (nread != UV_EOF && hscan__p_body_cut(p))
            return;
        if (p->state == PROBE_TLS) {
            hscan__p_tls_eof(p, nread != UV_EOF);
        } else if (nread == UV_EOF) {
            rc = hscan__resp_eof(&p->resp, d, sizeof(d));
            hscan__p_finish(p, rc, d);
        } else if (nread == UV_ECONNRESET) {
            hscan__p_finish(p, HSCAN_EREAD_RESET, "connection reset by peer");
        } else {
            snprintf(d, sizeof(d), "read: %s", uv_strerror((int)nread));
            hscan__p_finish(p, HSCAN_EREAD_RESET, d);
        }
        return;
    }
    p->last_read = uv_now(hscan__loop(p->scan));
    hscan__scan_bytes(p->scan, (uint64_t)nread, 0);
    if (p->tls.ssl)
        hscan__p_tls_bytes(p, buf->base, (size_t)nread);
    else
        hscan__p_got_bytes(p, buf->base, (size_t)nread);
}

/* Start reading (if not yet) and wait for the response. */
void hscan__p_start_read(struct probe *p)
{
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    int rc;

    hscan__p_set_state(p, PROBE_READ);
    p->last_read = uv_now(hscan__loop(p->scan));
    hscan__p_arm(p, lim->read_timeout_ms);
    if (uv_is_active((uv_handle_t *)&p->tcp))
        return;                  /* TLS reads since the handshake */
    rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    if (rc != 0)
        hscan__p_finish(p, HSCAN_EREAD_RESET, uv_strerror(rc));
}

/* Exposed for the TLS leg, which starts reading before any request.
 * Reading normally runs since the connect already: that is fine. */
int hscan__p_read_start(struct probe *p)
{
    int rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    return rc == UV_EALREADY ? 0 : rc;
}

static void on_written(uv_write_t *req, int status)
{
    struct probe *p = req->data;

    if (p->state != PROBE_WRITE)
        return;
    if (status < 0) {
        char d[HSCAN__DETAIL_SIZE];
        snprintf(d, sizeof(d), "write: %s", uv_strerror(status));
        hscan__p_finish(p, is_local_shortage(status)
                               ? HSCAN_ERESOURCE_EXHAUSTED
                               : HSCAN_EWRITE_FAILED, d);
        return;
    }
    p->t_sent = uv_hrtime();
    hscan__p_start_read(p);
}

static void send_plain(struct probe *p)
{
    uv_buf_t b = uv_buf_init(p->req, (unsigned)p->req_len);
    int n, rc;

    hscan__p_set_state(p, PROBE_WRITE);
    /* A request is a few hundred bytes into an empty socket buffer: it
     * nearly always goes out at once, without a write request. */
    n = uv_try_write((uv_stream_t *)&p->tcp, &b, 1);
    if (n > 0)
        hscan__scan_bytes(p->scan, 0, (uint64_t)n);
    if (n == (int)p->req_len) {
        p->t_sent = uv_hrtime();
        hscan__p_start_read(p);
        return;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    hscan__p_arm(p, hscan__scan_limits(p->scan)->read_timeout_ms);
    p->wreq.data = p;
    rc = uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &b, 1, on_written);
    if (rc != 0)
        on_written(&p->wreq, rc);
    else
        hscan__scan_bytes(p->scan, 0, b.len);
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
    if (p->scheme == HSCAN__HTTPS) {
        hscan__p_start_tls(p);
    } else if (hscan__p_build_request(p) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
    } else {
        send_plain(p);
    }
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

static void connect_failed(struct probe *p)
{
    if (!hscan__p_fall_back(p, p->last_err, p->detail))
        hscan__p_finish(p, p->last_err, p->detail);
}

/* No descriptor, buffer or ephemeral port right now: that says nothing
 * about the target.  Wait and try the same address again while the
 * deadline allows (20 ms, doubling to 500 ms); others finishing free
 * what we lack.  Only a target that never got to try is recorded as
 * resource_exhausted. */
static void back_off(struct probe *p)
{
    p->fd_wait = 1;
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : 20;
    if (p->backoff_ms > 500)
        p->backoff_ms = 500;
    hscan__p_arm(p, p->backoff_ms);
}

/* Try the next address; with none left, finish with the last failure.
 * A socket from an earlier attempt (or hop) is closed first and this runs
 * again from its close callback, because the uv_tcp_t is embedded and
 * reused. */
static void connect_next(struct probe *p)
{
    struct sockaddr_storage ss;
    uv_loop_t *loop = hscan__loop(p->scan);
    struct hscan__gate *gate = hscan__scan_gate(p->scan);
    int rc;

    if (p->tcp_live) {
        uv_timer_stop(&p->timer);
        hscan__p_close_tcp(p);
        return;
    }
    if (p->tcp_closing)
        return;                  /* on_closed calls again */
    if (p->next_addr >= p->dns.n_addrs) {
        connect_failed(p);
        return;
    }
    p->cur_addr = (int)p->next_addr++;
    p->connected = 0;
    if (gate && !p->gate_held &&
        !hscan__gate_enter(gate, p, &p->dns.addrs[p->cur_addr])) {
        /* Queued behind other connections to this address: no timer
         * runs meanwhile, see hscan__p_gate_open(); but a cancel
         * request's does. */
        if (!p->cancel_req)
            uv_timer_stop(&p->timer);
        p->gate_t0 = uv_now(loop);
        return;
    }
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
        hscan__p_close_tcp(p);
        if (p->last_err == HSCAN_ERESOURCE_EXHAUSTED)
            back_off(p);
        return;
    }
    /* Read from the start: libuv then registers the socket once for
     * both directions and only modifies it when the connect is done,
     * one epoll_ctl less per host than starting to read afterwards.
     * Nothing is read before the connect completes (libuv handles the
     * connect first). */
    uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    hscan__p_arm(p, hscan__scan_limits(p->scan)->connect_timeout_ms);
}

/* Waiting for --max-per-ip is the scanner's own politeness, not the
 * target's slowness: the absolute deadline moves on by the time waited
 * (the total_ms of the record still includes it). */
void hscan__p_gate_open(struct probe *p)
{
    p->deadline += uv_now(hscan__loop(p->scan)) - p->gate_t0;
    p->next_addr = (unsigned)p->cur_addr;
    connect_next(p);
}

void hscan__p_start_connect(struct probe *p)
{
    hscan__p_set_state(p, PROBE_CONNECT);
    p->next_addr = 0;
    p->last_err = HSCAN_ECONNECT_UNREACHABLE;
    snprintf(p->detail, sizeof(p->detail), "no address to connect to");
    connect_next(p);
}

static void on_resolved(void *ctx, int err, const char *detail,
                        struct hscan__dns_answer *ans)
{
    struct probe *p = ctx;

    p->dnsq = NULL;
    free(p->dns.cnames);
    p->dns = *ans;
    p->t_dns = uv_hrtime();
    if (err) {
        hscan__p_finish(p, err, detail);
        return;
    }
    hscan__p_start_connect(p);
}

static void use_literal(struct probe *p)
{
    struct hscan__addr *a = &p->dns.addrs[0];

    free(p->dns.cnames);
    memset(&p->dns, 0, sizeof(p->dns));
    a->family = (uint8_t)p->family;
    inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->host, a->bytes);
    p->dns.n_addrs = 1;
}

/* Resolve the current host (or take the literal) and connect. */
void hscan__p_start_resolve(struct probe *p)
{
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);

    p->t_dns0 = uv_hrtime();
    p->t_dns = 0;
    if (p->family) {
        use_literal(p);
        if (lim->family && lim->family != p->family) {
            hscan__p_finish(p, HSCAN_EDNS_NO_ADDRESS, "address literal "
                            "excluded by the -4/-6 restriction");
            return;
        }
        hscan__p_start_connect(p);
        return;
    }
    hscan__p_set_state(p, PROBE_RESOLVE);
    hscan__p_arm(p, lim->dns_timeout_ms);
    p->dnsq = hscan__dns_resolve(hscan__scan_dns(p->scan), p->host,
                                 lim->family, on_resolved, p);
    if (!p->dnsq)
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
}

size_t hscan__p_url(const struct probe *p, char *out, size_t size)
{
    int dflt = p->scheme == HSCAN__HTTPS ? 443 : 80;
    const char *path = p->path_len ? p->path : hscan__p_default_path(p);
    struct hscan__sb b = { out, size, 0 };

    hscan__sb_str(&b, p->scheme == HSCAN__HTTPS ? "https://" : "http://");
    if (p->family == 6)
        hscan__sb_put(&b, "[", 1);
    hscan__sb_put(&b, p->host, strlen(p->host));
    if (p->family == 6)
        hscan__sb_put(&b, "]", 1);
    if (p->port != dflt) {
        hscan__sb_put(&b, ":", 1);
        hscan__sb_uint(&b, (unsigned)p->port);
    }
    if (path[0] == '?')
        hscan__sb_put(&b, "/", 1);
    hscan__sb_str(&b, path);
    return hscan__sb_end(&b);
}

int hscan__p_build_request(struct probe *p)
{
    const char *method = hscan__p_method(p);
    const char *path = p->path_len ? p->path : hscan__p_default_path(p);
    size_t tail_len, n;
    const char *tail = hscan__scan_reqtail(p->scan, &tail_len);
    int user_host = hscan__scan_user_host(p->scan);

    if (p->over && p->over->reqtail) {
        tail = p->over->reqtail;
        tail_len = p->over->reqtail_len;
        user_host = p->over->user_host;
    }
    int dflt = p->scheme == HSCAN__HTTPS ? 443 : 80;
    struct hscan__sb b;

    free(p->req);
    n = strlen(method) + strlen(path) + p->host_len + tail_len + 64;
    if (!(p->req = malloc(n)))
        return HSCAN_ENOMEM;
    b.buf = p->req;
    b.size = n;
    b.len = 0;
    hscan__sb_str(&b, method);
    hscan__sb_put(&b, " ", 1);
    if (path[0] != '/')
        hscan__sb_put(&b, "/", 1);
    hscan__sb_str(&b, path);
    hscan__sb_put(&b, " HTTP/1.1\r\n", 11);
    /* Host carries the port only when it is not the scheme's default
     * (RFC 9110 7.2); an IPv6 literal keeps its brackets. */
    if (!user_host) {
        hscan__sb_put(&b, "Host: ", 6);
        if (p->family == 6)
            hscan__sb_put(&b, "[", 1);
        hscan__sb_put(&b, p->host, strlen(p->host));
        if (p->family == 6)
            hscan__sb_put(&b, "]", 1);
        if (p->port != dflt) {
            hscan__sb_put(&b, ":", 1);
            hscan__sb_uint(&b, (unsigned)p->port);
        }
        hscan__sb_put(&b, "\r\n", 2);
    }
    hscan__sb_put(&b, tail, tail_len);
    p->req_len = b.len;
    return 0;
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
    p->family = t->family;
    p->cur_addr = -1;
    return p;
}

struct probe *hscan__probe_start(hscan_t *scan, const char *input,
                                 size_t input_len,
                                 const struct hscan__target *t, int scheme,
                                 int fall_back, void *udata, uint64_t id,
                                 struct hscan__over *over)
{
    const struct hscan__limits *lim = hscan__scan_limits(scan);
    uv_loop_t *loop = hscan__loop(scan);
    struct probe *p = probe_alloc(input, input_len, t);

    if (!p)
        return NULL;
    p->scan = scan;
    p->udata = udata;
    p->id = id;
    p->over = over ? hscan__over_ref(over) : NULL;
    p->timeout_ms = over && over->timeout_ms ? over->timeout_ms
                                              : lim->timeout_ms;
    p->scheme = scheme;
    p->port_given = t->port != 0;
    p->port = t->port ? t->port : scheme == HSCAN__HTTPS ? 443 : 80;
    p->may_fall_back = fall_back;
    p->t_start = p->t_hop = uv_hrtime();
    p->deadline = uv_now(loop) + p->timeout_ms;
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
    hscan__p_start_resolve(p);
}
