/* One target's state machine (probe.h lists the states): RESOLVE ->
 * [GATE] -> CONNECT -> the legs (leg.h) -> READ -> [BODY], repeated per
 * redirect hop.
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
 * callback (probe-tcp.c).  Pending connect and write requests are
 * cancelled by uv_close() and call back with UV_ECANCELED before the
 * close callback; the state check at the top of each callback turns
 * those into no-ops.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "proxy.h"

static void connect_next(struct probe *p);

#define B(s) (1u << (s))
#define CONNECTING (B(PROBE_GATE) | B(PROBE_BACKOFF) | B(PROBE_UNSOCK) | \
                    B(PROBE_CONNECT))
/* The moves each state may make (besides staying).  Every state may
 * finish; a new hop leaves READ, TLS or a connect failure for RESOLVE
 * or the connecting states; a transient failure before the server
 * answered waits in RETRY (probe-retry.c), then connects again. */
static const unsigned moves[PROBE_N_STATES] = {
    [PROBE_NEW] = B(PROBE_RESOLVE) | CONNECTING | B(PROBE_CLOSING),
    [PROBE_RESOLVE] = CONNECTING | B(PROBE_CLOSING),
    [PROBE_GATE] = CONNECTING | B(PROBE_RETRY) | B(PROBE_CLOSING),
    [PROBE_BACKOFF] = CONNECTING | B(PROBE_RETRY) | B(PROBE_CLOSING),
    [PROBE_RETRY] = CONNECTING | B(PROBE_CLOSING),
    [PROBE_UNSOCK] = CONNECTING | B(PROBE_RETRY) | B(PROBE_CLOSING),
    [PROBE_CONNECT] = CONNECTING | B(PROBE_RETRY) | B(PROBE_PROXY) |
                      B(PROBE_TLS) | B(PROBE_WRITE) | B(PROBE_READ) |
                      B(PROBE_CLOSING),
    [PROBE_PROXY] = B(PROBE_RESOLVE) | CONNECTING | B(PROBE_TLS) |
                    B(PROBE_WRITE) | B(PROBE_READ) | B(PROBE_CLOSING),
    [PROBE_TLS] = CONNECTING | B(PROBE_RETRY) | B(PROBE_WRITE) |
                  B(PROBE_READ) | B(PROBE_CLOSING),
    [PROBE_WRITE] = B(PROBE_RETRY) | B(PROBE_READ) | B(PROBE_CLOSING),
    [PROBE_READ] = B(PROBE_RESOLVE) | CONNECTING | B(PROBE_RETRY) |
                   B(PROBE_BODY) | B(PROBE_CLOSING),
    [PROBE_BODY] = B(PROBE_RESOLVE) | CONNECTING |     /* the icon */
                   B(PROBE_WRITE) | B(PROBE_READ) | B(PROBE_CLOSING),
    [PROBE_CLOSING] = 0,
};

static const char *const names[PROBE_N_STATES] = {
    "NEW", "RESOLVE", "GATE", "BACKOFF", "RETRY", "UNSOCK", "CONNECT",
    "PROXY", "TLS", "WRITE", "READ", "BODY", "CLOSING"
};

const char *hscan__probe_state_name(int s)
{
    return s >= 0 && s < PROBE_N_STATES ? names[s] : "?";
}

/* The one place a state changes (curl's mstate()): a move the table
 * does not allow is a bug, caught here in builds with assertions. */
void hscan__p_set_state(struct probe *p, enum probe_state s)
{
    enum probe_state from = p->state;

    if (from == s)
        return;
    assert(moves[from] & B(s));
    if (from == PROBE_CLOSING)
        return;
    p->state = s;
    if (p->env->trace)
        p->env->trace(p->env->arg, p, (int)from, (int)s);
}

int hscan__p_reading(const struct probe *p)
{
    return p->state == PROBE_WRITE || p->state == PROBE_READ ||
           p->state == PROBE_BODY;
}

uint64_t hscan__probe_id(const struct probe *p) { return p->id; }
struct hscan__queue *hscan__probe_node(struct probe *p) { return &p->node; }

struct probe *hscan__probe_of(struct hscan__queue *node)
{
    return hscan__queue_data(node, struct probe, node);
}

static void on_timer(uv_timer_t *t);

/* Arm the one timer for the nearer of the phase and absolute deadlines. */
void hscan__p_arm(struct probe *p, uint64_t phase_ms)
{
    uint64_t now = uv_now(p->env->loop);
    uint64_t due;

    p->phase_deadline = now + phase_ms;
    due = p->phase_deadline < p->deadline ? p->phase_deadline : p->deadline;
    if (p->cancel_detail)           /* a new phase must not delay it */
        due = now;
    uv_timer_start(&p->timer, on_timer, due > now ? due - now : 0, 0);
}

int hscan__p_local_shortage(int uverr)
{
    return uverr == UV_EMFILE || uverr == UV_ENFILE ||
           uverr == UV_EADDRNOTAVAIL || uverr == UV_ENOBUFS ||
           uverr == UV_ENOMEM || uverr == UV_EAGAIN;
}

static int map_connect_err(int uverr)
{
    if (hscan__p_local_shortage(uverr))
        return HSCAN_ERESOURCE_EXHAUSTED;
    if (HSCAN__P_SOURCE_ERR(uverr))
        return HSCAN_ESOURCE_UNUSABLE;
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

/* The phase the probe is in, for a record the absolute deadline ends:
 * its timeout name, what it was doing and its own limit.  0 when the
 * probe is outside every phase (NEW, GATE: no timer runs there; a DNS
 * query still waiting for the pacing window or --dns-rate). */
static int deadline_phase(const struct probe *p, const char **doing,
                          uint64_t *limit)
{
    const struct hscan__limits *lim = &p->env->lim;

    switch (p->state) {
    case PROBE_RESOLVE:
        if (p->dnsq && hscan__dns_sent_ms(p->dnsq) == 0)
            return 0;
        *doing = "while resolving";
        *limit = lim->dns_timeout_ms;
        return HSCAN_EDNS_TIMEOUT;
    case PROBE_UNSOCK:              /* between two connect attempts */
    case PROBE_CONNECT:
        *doing = "while connecting";
        *limit = lim->connect_timeout_ms;
        return HSCAN_ECONNECT_TIMEOUT;
    case PROBE_PROXY:
        *doing = "during the proxy's handshake";
        *limit = lim->proxy_timeout_ms;
        return HSCAN_EPROXY_TIMEOUT;
    case PROBE_TLS:
        *doing = "during the TLS handshake";
        *limit = lim->tls_timeout_ms;
        return HSCAN_ETLS_TIMEOUT;
    case PROBE_WRITE:               /* the peer is not taking the request */
        *doing = "while sending the request";
        *limit = lim->read_timeout_ms;
        return HSCAN_EREAD_TIMEOUT;
    case PROBE_READ:
        *doing = "while reading the response";
        *limit = lim->read_timeout_ms;
        return HSCAN_EREAD_TIMEOUT;
    default:
        return 0;
    }
}

/* The absolute deadline passed.  The record names the phase it cut
 * short (schema 2): a scan that counts slow resolvers, dead addresses,
 * stalled handshakes and slow servers must not find them all under one
 * name because the overall budget, not the phase's own limit, fired
 * first.  The detail says which limit it was.  No https-first fallback
 * is tried from here: there is no time left for it. */
static void deadline_passed(struct probe *p)
{
    unsigned long long budget = (unsigned long long)p->req->timeout_ms;
    const char *doing = NULL;
    uint64_t limit = 0;
    char d[HSCAN__DETAIL_SIZE];
    int err;

    if (hscan__p_body_cut(p))
        return;
    if (p->state == PROBE_BACKOFF) {    /* never got to try: local */
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED,
                        hscan__p_why(p, d, sizeof(d)));
        return;
    }
    err = deadline_phase(p, &doing, &limit);
    if (err == 0) {
        snprintf(d, sizeof(d), "overall budget of %llu ms ran out %s",
                 budget, p->state == PROBE_RESOLVE
                             ? "before the DNS query was sent"
                             : "outside any phase");
        hscan__p_finish(p, HSCAN_ETIMEOUT, d);
        return;
    }
    if (err == HSCAN_EDNS_TIMEOUT)
        p->t_dns = uv_hrtime();      /* the lookup lasted until now */
    snprintf(d, sizeof(d), "overall budget of %llu ms ran out %s "
             "(phase limit %llu ms)", budget, doing,
             (unsigned long long)limit);
    hscan__p_finish(p, err, d);
}

/* Time spent waiting for the pacing window or --dns-rate is ours, not
 * the resolver's: the DNS deadline runs from the lookup's (last) send. */
static void dns_timer(struct probe *p, uint64_t now)
{
    const struct hscan__limits *lim = &p->env->lim;
    char d[HSCAN__DETAIL_SIZE];

    if (p->dnsq) {
        uint64_t sent = hscan__dns_sent_ms(p->dnsq);
        if (sent == 0 || now < sent + lim->dns_timeout_ms) {
            hscan__p_arm(p, sent ? sent + lim->dns_timeout_ms - now
                                 : lim->dns_timeout_ms);
            return;
        }
    }
    p->t_dns = uv_hrtime();          /* the lookup lasted until now */
    snprintf(d, sizeof(d), "no DNS answer within %llu ms",
             (unsigned long long)lim->dns_timeout_ms);
    hscan__p_finish(p, HSCAN_EDNS_TIMEOUT, d);
}

static void read_timer(struct probe *p, uint64_t now)
{
    uint64_t idle = p->env->lim.read_timeout_ms;
    char d[HSCAN__DETAIL_SIZE];

    if (now < p->last_read + idle) {
        hscan__p_arm(p, p->last_read + idle - now);
        return;
    }
    if (hscan__p_body_cut(p))
        return;
    snprintf(d, sizeof(d), "no data for %llu ms", (unsigned long long)idle);
    hscan__p_finish(p, HSCAN_EREAD_TIMEOUT, d);
}

static void on_timer(uv_timer_t *t)
{
    struct probe *p = container_of(t, struct probe, timer);
    const struct hscan__limits *lim = &p->env->lim;
    uint64_t now = uv_now(p->env->loop);
    char d[HSCAN__DETAIL_SIZE];

    if (p->cancel_detail) {
        hscan__p_finish(p, HSCAN_ECANCELED, p->cancel_detail);
        return;
    }
    if (now >= p->deadline) {
        deadline_passed(p);
        return;
    }
    switch (p->state) {
    case PROBE_RESOLVE:
        dns_timer(p, now);
        break;
    case PROBE_BACKOFF:             /* back-off over: same address again */
        p->next_addr--;
        connect_next(p);
        break;
    case PROBE_RETRY:
        hscan__p_start_connect(p);
        break;
    case PROBE_PROXY:
        snprintf(d, sizeof(d), "%s: no complete reply within %llu ms",
                 p->env->proxy->display,
                 (unsigned long long)lim->proxy_timeout_ms);
        hscan__p_finish(p, HSCAN_EPROXY_TIMEOUT, d);
        break;
    case PROBE_CONNECT:
        if (p->dns.stagger) {
            hscan__p_race_stagger(p);
            break;
        }
        p->last_err = hscan__p_set_why(p, WHY_CONNECT_TIMEOUT, 0,
                                       HSCAN_ECONNECT_TIMEOUT);
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
    case PROBE_BODY:
        read_timer(p, now);
        break;
    default:                /* NEW, GATE, UNSOCK: no timer; CLOSING */
        break;
    }
}

static void free_addrs(struct probe *p)
{
    if (p->dns.addrs != &p->dns.one)
        free(p->dns.addrs);
    free(p->dns.cnames);
    memset(&p->dns, 0, sizeof(p->dns));
    p->dns.addrs = &p->dns.one;
}

const char *hscan__p_why(const struct probe *p, char *buf, size_t size)
{
    switch (p->why) {
    case WHY_CONNECT:
        if (hscan__p_source_why(p, p->why_code, buf, size))
            break;
        snprintf(buf, size, "connect: %s", uv_strerror(p->why_code));
        break;
    case WHY_CONNECT_TIMEOUT:
        snprintf(buf, size, "no answer within %llu ms",
                 (unsigned long long)p->env->lim.connect_timeout_ms);
        break;
    case WHY_WRITE:
        snprintf(buf, size, "write: %s", uv_strerror(p->why_code));
        break;
    case WHY_WRITE_NOMEM:
        snprintf(buf, size, "write: out of memory");
        break;
    case WHY_SEND_TLS:
        snprintf(buf, size, "cannot send the request");
        break;
    default:
        snprintf(buf, size, "no address to connect to");
        break;
    }
    return buf;
}

int hscan__p_set_why(struct probe *p, enum probe_why why, int code, int err)
{
    p->why = (unsigned char)why;
    p->why_code = code;
    return err;
}

/* Free what only the result needed: the response, the TLS engine, the
 * hops, the certificate facts, names.  The handles close afterwards and
 * touch none of it (a write completing after the close sees CLOSING). */
static void release(struct probe *p)
{
    p->proxy_leg.ops->close(&p->proxy_leg);
    p->tls_leg.ops->close(&p->tls_leg);
    p->http_leg.ops->close(&p->http_leg);
    hscan__p_free_hops(p);
    free(p->facts);
    p->facts = NULL;
    free(p->h2f);
    p->h2f = NULL;
    free_addrs(p);
    free(p->fallback_detail);
    p->fallback_detail = NULL;
    free(p->hop_mem);
    p->hop_mem = NULL;
    p->host = p->path = NULL;       /* they may have been in hop_mem */
    hscan__req_unref(p->req);
    p->req = NULL;
    hscan__p_fav_free(p);
}

void hscan__p_finish(struct probe *p, int err, const char *detail)
{
    hscan_result_t r;

    if (p->state == PROBE_CLOSING || hscan__p_retry(p, err))
        return;
    if (p->fav && hscan__p_fav_finish(p, &err, &detail))
        return;                     /* the icon's hop (favicon.c) */
    /* Canceled is what hscan_cancel() or hscan_close() promised,
     * whatever else happened in this loop iteration before. */
    if (p->cancel_detail) {
        err = HSCAN_ECANCELED;
        detail = p->cancel_detail;
    }
    /* A handshake cut short (its timeout, the deadline, a cancel) still
     * reports what was agreed and seen so far. */
    if (p->state == PROBE_TLS && !p->facts && p->tls)
        p->facts = hscan__tls_facts(p->tls);
    hscan__p_set_state(p, PROBE_CLOSING);
    uv_timer_stop(&p->timer);
    if (p->dnsq) {
        hscan__dns_detach(p->dnsq);
        p->dnsq = NULL;
    }
    if (p->env->gate)
        hscan__gate_cancel(p->env->gate, &p->gate);
    if (p->skip) {
        p->env->on_result(p->env->arg, p, NULL);
    } else {
        hscan__p_build_result(p, &r, err, detail);
        p->env->on_result(p->env->arg, p, &r);
    }
    /* Nothing of `r` is used after this point; the view dies with it,
     * and so does everything the probe held for it: a wave of replies
     * read in one loop turn holds none of it until the handles close. */
    hscan__p_close_tcp(p);
    hscan__p_race_end(p);
    uv_close((uv_handle_t *)&p->timer, hscan__p_closed);
    release(p);
}

void hscan__probe_cancel(struct probe *p, const char *detail)
{
    hscan__p_finish(p, HSCAN_ECANCELED, detail);
}

/* The timer is the probe's one way in from the loop, so finishing from
 * it keeps the result out of the call that asked. */
int hscan__probe_cancel_soon(struct probe *p, const char *detail)
{
    if (p->cancel_detail || p->state == PROBE_CLOSING)
        return 0;
    p->cancel_detail = detail;
    uv_timer_start(&p->timer, on_timer, 0, 0);
    return 1;
}

/* The socket connected, or failed to. */
void hscan__p_connected(struct probe *p, int status)
{
    if (p->state != PROBE_CONNECT || status == UV_ECANCELED)
        return;
    if (status < 0) {
        p->last_err = hscan__p_set_why(p, WHY_CONNECT, status,
                                       map_connect_err(status));
        connect_next(p);
        return;
    }
    p->connected = 1;
    p->t_conn = uv_hrtime();
    hscan__p_race_end(p);           /* the other attempt lost */
    p->tcp_leg.above->ops->start(p->tcp_leg.above);
}

/* Bytes a leg queued in the socket went out (status 0) or failed. */
void hscan__p_written(struct probe *p, int status)
{
    char d[HSCAN__DETAIL_SIZE];

    if (status == UV_ECANCELED || p->state == PROBE_CLOSING)
        return;
    if (status < 0) {
        snprintf(d, sizeof(d), "write: %s", uv_strerror(status));
        if (p->state == PROBE_TLS)
            hscan__p_finish(p, HSCAN_ETLS_HANDSHAKE, d);
        else if (p->state == PROBE_PROXY)
            hscan__p_finish(p, HSCAN_EPROXY_UNREACHABLE, d);
        else if (hscan__p_reading(p))
            hscan__p_finish(p, hscan__p_local_shortage(status)
                                   ? HSCAN_ERESOURCE_EXHAUSTED
                                   : HSCAN_EWRITE_FAILED, d);
        return;
    }
    if (p->state == PROBE_WRITE) {
        p->t_sent = uv_hrtime();
        hscan__p_start_read(p);
    }
}

void hscan__p_sockaddr(const struct hscan__addr *a, int port,
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
    char d[HSCAN__DETAIL_SIZE];

    hscan__p_why(p, d, sizeof(d));
    /* Behind a proxy the socket goes to the proxy: its failure is not
     * the target's (a local shortage stays what it is). */
    if (p->proxy_mode && p->last_err != HSCAN_ERESOURCE_EXHAUSTED &&
        p->why != WHY_NO_ADDRESS) {
        char e[HSCAN__DETAIL_SIZE];
        snprintf(e, sizeof(e), "%s: %.120s", p->env->proxy->display, d);
        hscan__p_finish(p, HSCAN_EPROXY_UNREACHABLE, e);
        return;
    }
    if (!hscan__p_fall_back(p, p->last_err, d))
        hscan__p_finish(p, p->last_err, d);
}

/* No descriptor, buffer or ephemeral port right now: that says nothing
 * about the target.  Wait and try the same address again while the
 * deadline allows (20 ms, doubling to 500 ms); others finishing free
 * what we lack.  Only a target that never got to try is recorded as
 * resource_exhausted. */
static void back_off(struct probe *p)
{
    hscan__p_set_state(p, PROBE_BACKOFF);
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : 20;
    if (p->backoff_ms > 500)
        p->backoff_ms = 500;
    hscan__p_arm(p, p->backoff_ms);
}

/* Queue at the --max-per-ip gate for the current address: 1 when
 * queued (no timer runs meanwhile, see gate_open(); but a cancel
 * request's does), 0 when a place is held. */
static int gate_queue(struct probe *p)
{
    struct hscan__gate *gate = p->env->gate;

    if (!gate || p->gate.state == HSCAN__GATE_HELD ||
        hscan__gate_enter(gate, &p->gate, &p->dns.addrs[p->cur_addr]))
        return 0;
    hscan__p_set_state(p, PROBE_GATE);
    if (!p->cancel_detail)
        uv_timer_stop(&p->timer);
    p->gate_t0 = uv_now(p->env->loop);
    return 1;
}

/* Try the next address; with none left, finish with the last failure.
 * A socket from an earlier attempt (or hop) is closed first and this runs
 * again from its close callback (UNSOCK), because the uv_tcp_t is
 * embedded and reused. */
static void connect_next(struct probe *p)
{
    struct sockaddr_storage ss;
    int rc;

    if (p->tcp_live) {
        uv_timer_stop(&p->timer);
        hscan__p_close_tcp(p);
    }
    if (p->tcp_closing) {
        hscan__p_set_state(p, PROBE_UNSOCK);
        return;                  /* the close callback calls again */
    }
    if (p->proxy_mode == HSCAN__PX_REMOTE) {
        /* one attempt, to the proxy; the target's address is its
         * business (and --max-per-ip, on addresses, cannot apply) */
        if (p->next_addr >= 1) {
            connect_failed(p);
            return;
        }
        p->next_addr++;
        p->cur_addr = -1;
    } else {
        /* excluded ones never contacted; --all-ips: a unit tries its
         * one address */
        int a = hscan__p_next_addr(p);
        if (a < 0) {
            if (!hscan__p_race_wait(p))
                connect_failed(p);
            return;
        }
        p->cur_addr = a;
        p->next_addr++;
    }
    p->connected = 0;
    if (p->proxy_mode != HSCAN__PX_REMOTE && gate_queue(p))
        return;
    hscan__p_set_state(p, PROBE_CONNECT);
    hscan__p_stack(p);
    if (p->proxy_mode)
        memcpy(&ss, &p->env->proxy->addr, sizeof(ss));
    else
        hscan__p_sockaddr(&p->dns.addrs[p->cur_addr], p->port, &ss);
    p->t_conn0 = uv_hrtime();
    p->t_conn = 0;
    rc = hscan__p_tcp_connect(p, (struct sockaddr *)&ss);
    if (rc != 0) {
        /* Synchronous failures (EMFILE, EADDRNOTAVAIL...) never call
         * back: classify them here, local shortage included. */
        p->last_err = hscan__p_set_why(p, WHY_CONNECT, rc,
                                       map_connect_err(rc));
        if (p->last_err == HSCAN_ERESOURCE_EXHAUSTED)
            back_off(p);
        else
            hscan__p_set_state(p, PROBE_UNSOCK);
        return;
    }
    hscan__p_arm(p, hscan__p_attempt_ms(p));
}

void hscan__p_connect_next(struct probe *p)
{
    connect_next(p);
}

void hscan__p_connect_err(struct probe *p, int uverr)
{
    p->last_err = hscan__p_set_why(p, WHY_CONNECT, uverr,
                                   map_connect_err(uverr));
}

/* The socket's close callback: the next attempt may use it. */
void hscan__p_unsocked(struct probe *p)
{
    if (p->env->gate)
        hscan__gate_leave(p->env->gate, &p->gate);
    if (p->state == PROBE_UNSOCK && !hscan__p_race_adopt(p))
        connect_next(p);
}

/* Waiting for --max-per-ip is the scanner's own politeness, not the
 * target's slowness: the absolute deadline moves on by the time waited
 * (the total_ms of the record still includes it). */
static void gate_open(struct hscan__gate_waiter *w)
{
    struct probe *p = container_of(w, struct probe, gate);

    p->deadline += uv_now(p->env->loop) - p->gate_t0;
    p->next_addr--;                 /* the same attempt again */
    connect_next(p);
}

void hscan__p_start_connect(struct probe *p)
{
    p->next_addr = p->pin >= 0 ? (unsigned)p->pin : 0;
    p->last_err = hscan__p_set_why(p, WHY_NO_ADDRESS, 0,
                                   HSCAN_ECONNECT_UNREACHABLE);
    connect_next(p);
}

/* Take the answer's addresses (a copy: a probe holds only as many as
 * there are) and its names (moved).  0, or -1 when memory ran out (the
 * probe then holds none). */
static int keep_answer(struct probe *p, struct hscan__dns_answer *ans)
{
    size_t n = ans->n_addrs;

    free_addrs(p);
    p->dns.cnames = ans->cnames;
    p->dns.n_cnames = ans->n_cnames;
    ans->cnames = NULL;
    if (n > 1 && !(p->dns.addrs = malloc(n * sizeof(*p->dns.addrs)))) {
        p->dns.addrs = &p->dns.one;
        return -1;
    }
    if (n)
        memcpy(p->dns.addrs, ans->addrs, n * sizeof(*p->dns.addrs));
    p->dns.n_addrs = (unsigned char)n;
    return 0;
}

static void on_resolved(void *ctx, int err, const char *detail,
                        struct hscan__dns_answer *ans)
{
    struct probe *p = ctx;

    p->dnsq = NULL;
    p->t_dns = uv_hrtime();
    if (keep_answer(p, ans) != 0 && !err) {
        err = HSCAN_ERESOURCE_EXHAUSTED;
        detail = "out of memory";
    }
    if (err) {
        hscan__p_finish(p, err, detail);
        return;
    }
    if (hscan__p_excluded_answer(p))
        return;
    if (p->expand && hscan__p_expand(p))
        return;
    hscan__p_start_connect(p);
}

static void use_literal(struct probe *p)
{
    struct hscan__addr *a = &p->dns.one;

    free_addrs(p);
    a->family = (uint8_t)p->family;
    inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->host, a->bytes);
    p->dns.n_addrs = 1;
}

/* Resolve the current host (or take the literal) and connect. */
void hscan__p_start_resolve(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;
    const struct hscan__proxy *px = p->env->proxy;

    if (hscan__p_excluded_host(p))
        return;
    p->proxy_mode = 0;
    if (!p->pinned)
        p->pin = -1;                /* a new host: all its addresses */
    if (px) {
        uint8_t b[16] = { 0 };
        if (p->family)
            inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->host, b);
        if (!hscan__proxy_bypass(px, p->host, p->family, b))
            p->proxy_mode = px->kind == HSCAN__PROXY_SOCKS5
                                ? HSCAN__PX_LOCAL : HSCAN__PX_REMOTE;
    }
    if (p->proxy_mode == HSCAN__PX_REMOTE) {
        /* the proxy resolves: no lookup here, no dns facts */
        free_addrs(p);
        p->t_dns0 = p->t_dns = 0;
        hscan__p_start_connect(p);
        return;
    }
    if (p->pinned) {
        /* an --all-ips sibling: its lookup was its first probe's */
        p->pinned = 0;
        hscan__p_start_connect(p);
        return;
    }
    p->t_dns0 = uv_hrtime();
    p->t_dns = 0;
    if (p->family) {
        use_literal(p);
        if (lim->family && lim->family != p->family) {
            hscan__p_finish(p, HSCAN_EDNS_NO_ADDRESS, "address literal "
                            "excluded by the -4/-6 restriction");
            return;
        }
        if (p->expand && hscan__p_expand(p))
            return;
        hscan__p_start_connect(p);
        return;
    }
    hscan__p_set_state(p, PROBE_RESOLVE);
    hscan__p_arm(p, lim->dns_timeout_ms);
    /* Never answered from inside this call (dns.h); NULL only when the
     * query could not be made. */
    p->dnsq = hscan__dns_resolve(p->env->dns, p->host, lim->family,
                                 on_resolved, p);
    if (!p->dnsq)
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
}

/* Leave the current connection and response behind for a new hop. */
void hscan__p_reset_exchange(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;

    uv_timer_stop(&p->timer);
    hscan__p_close_tcp(p);
    hscan__p_race_end(p);
    p->proxy_leg.ops->close(&p->proxy_leg);
    p->tls_leg.ops->close(&p->tls_leg);
    p->http_leg.ops->close(&p->http_leg);
    free(p->facts);
    p->facts = NULL;
    free(p->h2f);
    p->h2f = NULL;
    hscan__resp_init(&p->resp, lim->max_header_bytes, lim->max_headers);
    p->resp.strict = lim->strict;
    hscan__p_fav_hang(p);
    p->cur_addr = -1;
    p->retried = 0;
    p->t_hop = uv_hrtime();
    p->t_conn0 = p->t_conn = p->t_tls0 = p->t_tls = 0;
    p->t_sent = p->t_first = 0;
}

void hscan__p_target(const struct probe *p, struct hscan__target *t)
{
    t->scheme = p->scheme;
    t->host = p->host;
    t->host_len = p->host_len;
    t->path = p->path;
    t->path_len = p->path_len;
    t->port = p->port;
    t->family = p->family;
}

size_t hscan__p_url(const struct probe *p, char *out, size_t size)
{
    int dflt = p->scheme == HSCAN__HTTPS ? 443 : 80;
    const char *path = p->path_len ? p->path : p->req->path;
    struct hscan__sb b = { out, size, 0 };

    hscan__sb_str(&b, p->scheme == HSCAN__HTTPS ? "https://" : "http://");
    if (p->family == 6)
        hscan__sb_put(&b, "[", 1);
    hscan__sb_put(&b, p->host, p->host_len);
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
    p->pin = -1;
    p->dns.addrs = &p->dns.one;
    return p;
}

struct probe *hscan__probe_new(struct hscan__probe_env *env,
                               const char *input, size_t input_len,
                               const struct hscan__target *t, int scheme,
                               int fall_back, void *udata, uint64_t id,
                               struct hscan__req *req)
{
    struct probe *p = probe_alloc(input, input_len, t);

    if (!p)
        return NULL;
    p->env = env;
    p->state = PROBE_NEW;
    hscan__queue_init(&p->node);
    hscan__gate_waiter_init(&p->gate, gate_open);
    p->udata = udata;
    p->id = id;
    p->req = hscan__req_ref(req);
    p->scheme = scheme;
    p->port_given = t->port != 0;
    p->port = t->port ? t->port : scheme == HSCAN__HTTPS ? 443 : 80;
    p->may_fall_back = fall_back;
    p->t_start = p->t_hop = uv_hrtime();
    p->deadline = uv_now(env->loop) + req->timeout_ms;
    hscan__resp_init(&p->resp, env->lim.max_header_bytes,
                     env->lim.max_headers);
    p->resp.strict = env->lim.strict;
    if (hscan__p_fav_new(p) != 0) {
        hscan__req_unref(p->req);
        free(p);
        return NULL;
    }
    hscan__p_fav_hang(p);
    hscan__p_stack(p);
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    p->handles = 1;
    return p;
}

void hscan__probe_run(struct probe *p)
{
    hscan__p_start_resolve(p);
}
