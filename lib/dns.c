/* c-ares on the scanner's uv loop.
 *
 * c-ares owns its sockets; we only watch them.  sock_state_cb starts,
 * changes or stops a uv_poll_t per socket and never processes inside the
 * callback (curl docs/examples/multi-uv.c).  One uv_timer_t is re-armed
 * from ares_timeout() after every ares_process_fd(), so c-ares timeouts
 * fire without any thread.  A poll handle is closed as soon as c-ares says
 * it no longer wants the fd, before c-ares close()s it, so a reused fd
 * number can never meet a stale watcher (libuv#1148).
 *
 * Queries are plain ares_query() calls for A and AAAA (no search list, no
 * hosts file: a scanner asks the network, and reading /etc/hosts per
 * lookup would be blocking file I/O on the scan path).  "localhost" is
 * answered locally (RFC 6761 6.3).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct dns_sock {
    uv_poll_t poll;
    ares_socket_t fd;
    struct dns_sock *next;
    struct hscan__dns *d;
};

struct hscan__dns {
    uv_loop_t *loop;
    ares_channel channel;
    uv_timer_t timer;
    struct dns_sock *socks;
    unsigned handles;           /* open uv handles: timer + polls */
    int closing;
    int sock_errno;             /* last local failure to open a socket */
    struct hscan__dnsq *wait_head, *wait_tail; /* lookups not yet sent */
    unsigned inflight;          /* lookups sent, not yet answered */
    int draining;
    void (*done)(void *);
    void *done_arg;
};

struct hscan__dnsq {
    hscan__dns_cb cb;           /* NULL once detached */
    void *ctx;
    struct hscan__dns *d;
    int pending;                /* outstanding ares callbacks + 1 while
                                   hscan__dns_resolve runs */
    int status_a, status_aaaa;  /* ARES_* of each query, -1 if not sent */
    struct hscan__dns_answer ans;
    struct hscan__addr v6[HSCAN__MAX_ADDRS];
    unsigned n_v6;
    size_t cname_len;
    struct hscan__dnsq *wait_next;
    int family;
    int sent;
    char name[];
};

/* Lookups sent at once.  Thousands of slots opening together would
 * otherwise fire thousands of queries in one burst: answers overflow the
 * receive buffers (ours and the resolver's) and come back as false
 * dns_timeout records, and a real resolver sees a flood.  The rest wait
 * in FIFO order; their DNS deadline already runs. */
#define MAX_LOOKUPS 1000

static void arm_timer(struct hscan__dns *d);

static void on_handle_closed(uv_handle_t *h)
{
    struct hscan__dns *d = h->data;

    if (h->type == UV_POLL)
        free(container_of((uv_poll_t *)h, struct dns_sock, poll));
    if (--d->handles == 0 && d->closing) {
        void (*done)(void *) = d->done;
        void *arg = d->done_arg;
        free(d);
        if (done)
            done(arg);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct dns_sock *s = container_of(h, struct dns_sock, poll);
    struct hscan__dns *d = s->d;
    ares_socket_t r = ARES_SOCKET_BAD, w = ARES_SOCKET_BAD;

    /* On a poll error let c-ares read and write: it sees the real errno
     * and closes or retries the socket itself. */
    if (status < 0 || (events & UV_READABLE))
        r = s->fd;
    if (status < 0 || (events & UV_WRITABLE))
        w = s->fd;
    ares_process_fd(d->channel, r, w);
    arm_timer(d);
}

static void on_timer(uv_timer_t *t)
{
    struct hscan__dns *d = container_of(t, struct hscan__dns, timer);

    ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    arm_timer(d);
}

static void arm_timer(struct hscan__dns *d)
{
    struct timeval tv, *tvp;
    uint64_t ms;

    if (d->closing)
        return;
    tvp = ares_timeout(d->channel, NULL, &tv);
    if (!tvp) {
        uv_timer_stop(&d->timer);
        return;
    }
    ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)(tvp->tv_usec + 999) / 1000;
    uv_timer_start(&d->timer, on_timer, ms, 0);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable,
                          int writable)
{
    struct hscan__dns *d = data;
    struct dns_sock **pp, *s;
    int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

    for (pp = &d->socks; *pp && (*pp)->fd != fd; pp = &(*pp)->next)
        ;
    s = *pp;
    if (events == 0) {
        if (s) {
            *pp = s->next;
            uv_close((uv_handle_t *)&s->poll, on_handle_closed);
        }
        return;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return;     /* the query times out; nothing leaks */
        if (uv_poll_init_socket(d->loop, &s->poll, fd) != 0) {
            free(s);
            return;
        }
        s->fd = fd;
        s->d = d;
        s->poll.data = d;
        s->next = d->socks;
        d->socks = s;
        d->handles++;
    }
    uv_poll_start(&s->poll, events, on_poll);
}

/* c-ares sends every query through one UDP socket per server.  With
 * thousands of lookups in flight, answers arrive in bursts far larger than
 * the default receive buffer (each small datagram costs about a kilobyte
 * of it) and the kernel drops the rest: lost answers become false
 * dns_timeout records.  Unprivileged, the kernel caps this at
 * net.core.rmem_max (often 208 KiB; raise it for very wide scans).
 * FIXME(core): spread queries over several sockets instead, once c-ares
 * 1.20's ARES_OPT_UDP_MAX_QUERIES can be relied on. */
#define RCVBUF_SIZE (4 << 20)

/* c-ares reports a resolver it could not open a socket to as
 * ARES_ECONNREFUSED, the same as a closed port.  These wrappers are the
 * plain syscalls, except that a local shortage is remembered so the
 * record can say resource_exhausted rather than blame the resolver. */
static ares_socket_t sock_open(int af, int type, int proto, void *arg)
{
    struct hscan__dns *d = arg;
    int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    int one = 1, rcvbuf = RCVBUF_SIZE;

    d->sock_errno = fd < 0 ? errno : 0;
    if (fd < 0)
        return ARES_SOCKET_BAD;
    /* c-ares configures no option on sockets it did not open itself, so
     * non-blocking mode (above) and these are ours to set. */
    /* FORCE passes rmem_max when privileged (CAP_NET_ADMIN). */
    if (type == SOCK_DGRAM &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                   sizeof(rcvbuf)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    else
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int sock_close(ares_socket_t fd, void *arg)
{
    (void)arg;
    return close(fd);
}

static int sock_connect(ares_socket_t fd, const struct sockaddr *sa,
                        ares_socklen_t len, void *arg)
{
    (void)arg;
    return connect(fd, sa, len);
}

static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t n,
                                  int flags, struct sockaddr *from,
                                  ares_socklen_t *fromlen, void *arg)
{
    (void)arg;
    return recvfrom(fd, buf, n, flags, from, fromlen);
}

static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *v,
                               int n, void *arg)
{
    (void)arg;
    return writev(fd, v, n);
}

static const struct ares_socket_functions sock_funcs = {
    sock_open, sock_close, sock_connect, sock_recvfrom, sock_sendv
};

int hscan__dns_new(struct hscan__dns **out, uv_loop_t *loop,
                   const char *resolvers, uint64_t timeout_ms,
                   char *detail, size_t dsize)
{
    struct hscan__dns *d = calloc(1, sizeof(*d));
    struct ares_options o;
    int rc, mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
                   ARES_OPT_TRIES | ARES_OPT_FLAGS;

    if (!d)
        return HSCAN_ENOMEM;
    memset(&o, 0, sizeof(o));
    o.sock_state_cb = sock_state_cb;
    o.sock_state_cb_data = d;
    /* Two tries: the second waits twice as long (c-ares doubles per round),
     * so the lookup fits the DNS deadline the probe enforces itself. */
    o.timeout = (int)(timeout_ms / 3 > 0 ? timeout_ms / 3 : 1);
    o.tries = 2;

    /* NOCHECKRESP: hand SERVFAIL and REFUSED to us instead of turning them
     * into a generic "connection refused" after trying every server, so
     * the record says what the resolver said. */
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
    /* Several resolvers given: spread the queries over them rather than
     * sending everything to the first and the rest only on failure. */
    if (resolvers && strchr(resolvers, ','))
        mask |= ARES_OPT_ROTATE;
    rc = ares_init_options(&d->channel, &o, mask);
    if (rc == ARES_SUCCESS && resolvers && *resolvers)
        rc = ares_set_servers_ports_csv(d->channel, resolvers);
    if (rc == ARES_SUCCESS)
        ares_set_socket_functions(d->channel, &sock_funcs, d);
    if (rc != ARES_SUCCESS) {
        snprintf(detail, dsize, "c-ares: %s", ares_strerror(rc));
        if (d->channel)
            ares_destroy(d->channel);
        free(d);
        return rc == ARES_ENOMEM ? HSCAN_ENOMEM : HSCAN_EINVAL;
    }
    d->loop = loop;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    d->handles = 1;
    *out = d;
    return 0;
}

void hscan__dns_close(struct hscan__dns *d, void (*done)(void *), void *arg)
{
    struct dns_sock *s;
    struct hscan__dnsq *q;

    /* Every probe is finished by now, so waiting lookups are detached. */
    while ((q = d->wait_head) != NULL) {
        d->wait_head = q->wait_next;
        free(q);
    }
    d->wait_tail = NULL;

    d->done = done;
    d->done_arg = arg;
    /* Callbacks of queries still in flight run now with ARES_EDESTRUCTION;
     * they are all detached by then. */
    d->closing = 1;
    ares_destroy(d->channel);
    while ((s = d->socks) != NULL) {
        d->socks = s->next;
        uv_close((uv_handle_t *)&s->poll, on_handle_closed);
    }
    uv_close((uv_handle_t *)&d->timer, on_handle_closed);
}

/* Map a pair of c-ares outcomes to one error.  The more telling answer
 * wins: a definite negative beats a transient failure, which beats
 * "no record of this family". */
static int map_status(int st, const char **why)
{
    switch (st) {
    case ARES_ENOTFOUND: *why = "NXDOMAIN"; return HSCAN_EDNS_NXDOMAIN;
    case ARES_ESERVFAIL: *why = "SERVFAIL"; return HSCAN_EDNS_SERVFAIL;
    case ARES_EREFUSED: *why = "REFUSED"; return HSCAN_EDNS_REFUSED;
    case ARES_ETIMEOUT: *why = "no answer"; return HSCAN_EDNS_TIMEOUT;
    case ARES_ENODATA:
    case ARES_SUCCESS: *why = "no A/AAAA record"; return HSCAN_EDNS_NO_ADDRESS;
    case ARES_ENOMEM: *why = "out of memory"; return HSCAN_ERESOURCE_EXHAUSTED;
    case ARES_ECONNREFUSED:
        *why = "no resolver reachable (port closed or socket failed)";
        return HSCAN_EDNS_FAILED;
    }
    *why = ares_strerror(st);
    return HSCAN_EDNS_FAILED;
}

static int rank(int err)
{
    switch (err) {
    case HSCAN_EDNS_NXDOMAIN: return 6;
    case HSCAN_EDNS_SERVFAIL: return 5;
    case HSCAN_EDNS_REFUSED: return 4;
    case HSCAN_ERESOURCE_EXHAUSTED: return 3;
    case HSCAN_EDNS_FAILED: return 3;
    case HSCAN_EDNS_TIMEOUT: return 2;
    }
    return 1;
}

static int is_shortage(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

static void send_waiting(struct hscan__dns *d);

static void q_release(struct hscan__dnsq *q)
{
    char detail[HSCAN__DETAIL_SIZE];
    struct hscan__dns *d;
    int err = 0;

    if (--q->pending > 0)
        return;
    if (q->sent)
        q->d->inflight--;
    if (q->cb) {
        unsigned i;
        for (i = 0; i < q->n_v6 && q->ans.n_addrs < HSCAN__MAX_ADDRS; i++)
            q->ans.addrs[q->ans.n_addrs++] = q->v6[i];
        if (q->ans.n_addrs == 0) {
            const char *wa = "no query", *w6 = "no query", *why;
            int ea = q->status_a >= 0 ? map_status(q->status_a, &wa) : 0;
            int e6 = q->status_aaaa >= 0 ? map_status(q->status_aaaa, &w6)
                                         : 0;
            err = (!e6 || (ea && rank(ea) >= rank(e6))) ? ea : e6;
            why = err == ea ? wa : w6;
            snprintf(detail, sizeof(detail), "%s", why ? why : "failed");
            if (err == HSCAN_EDNS_FAILED && is_shortage(q->d->sock_errno)) {
                err = HSCAN_ERESOURCE_EXHAUSTED;
                snprintf(detail, sizeof(detail), "DNS socket: %s",
                         strerror(q->d->sock_errno));
            }
        }
        q->cb(q->ctx, err, err ? detail : NULL, &q->ans);
    } else {
        free(q->ans.cnames);
    }
    d = q->d;
    free(q);
    send_waiting(d);
}

/* Walk the answer section ourselves (RFC 1035 4.1): follow the CNAME
 * chain from the query name in order, and keep only addresses owned by
 * the end of that chain.  Bounded by the packet length, the record count
 * and HSCAN__MAX_CNAMES, so a looping chain cannot spin. */
struct walk {
    const unsigned char *abuf;
    int alen;
    const unsigned char *p;
    char owner[256];          /* current end of the chain */
};

static int rd16(const unsigned char *p)
{
    return (p[0] << 8) | p[1];
}

static int skip_name(struct walk *w, char *out, size_t size)
{
    char *name = NULL;
    long enclen = 0;

    if (w->p >= w->abuf + w->alen ||
        ares_expand_name(w->p, w->abuf, w->alen, &name, &enclen) !=
            ARES_SUCCESS)
        return -1;
    if (out) {
        snprintf(out, size, "%s", name);
    }
    ares_free_string(name);
    w->p += enclen;
    return 0;
}

static void add_cname(struct hscan__dnsq *q, const char *name)
{
    size_t n = strlen(name) + 1;
    char *b;

    if (q->ans.n_cnames >= HSCAN__MAX_CNAMES)
        return;
    b = realloc(q->ans.cnames, q->cname_len + n);
    if (!b)
        return;
    memcpy(b + q->cname_len, name, n);
    q->ans.cnames = b;
    q->cname_len += n;
    q->ans.n_cnames++;
}

static void add_addr(struct hscan__dnsq *q, int v6, const unsigned char *rd)
{
    struct hscan__addr *ad;

    if (v6 ? q->n_v6 >= HSCAN__MAX_ADDRS : q->ans.n_addrs >= HSCAN__MAX_ADDRS)
        return;
    ad = v6 ? &q->v6[q->n_v6++] : &q->ans.addrs[q->ans.n_addrs++];
    ad->family = v6 ? 6 : 4;
    memcpy(ad->bytes, rd, v6 ? 16 : 4);
}

static void parse_reply(struct hscan__dnsq *q, int v6,
                        const unsigned char *abuf, int alen)
{
    struct walk w = { abuf, alen, abuf + 12, "" };
    const unsigned char *end = abuf + alen;
    char name[256];
    int an, i, found = 0, chain = !q->ans.cnames;

    if (alen < 12 || rd16(abuf + 4) != 1)
        return;
    an = rd16(abuf + 6);
    if (skip_name(&w, w.owner, sizeof(w.owner)) != 0 || w.p + 4 > end)
        return;
    w.p += 4;
    for (i = 0; i < an; i++) {
        int type, rdlen;
        const unsigned char *rd;
        if (skip_name(&w, name, sizeof(name)) != 0 || w.p + 10 > end)
            break;
        type = rd16(w.p);
        rdlen = rd16(w.p + 8);
        w.p += 10;
        if (w.p + rdlen > end)
            break;
        rd = w.p;
        if (strcasecmp(name, w.owner) == 0) {
            if (type == T_CNAME && skip_name(&w, w.owner,
                                             sizeof(w.owner)) == 0) {
                if (chain)          /* the A and AAAA chains are equal */
                    add_cname(q, w.owner);
            } else if ((type == T_A && !v6 && rdlen == 4) ||
                       (type == T_AAAA && v6 && rdlen == 16)) {
                add_addr(q, v6, rd);
                found = 1;
            }
        }
        w.p = rd + rdlen;
    }
    if (!found) {
        if (v6)
            q->status_aaaa = ARES_ENODATA;
        else
            q->status_a = ARES_ENODATA;
    }
}

static void on_answer(void *arg, int status, int timeouts,
                      unsigned char *abuf, int alen, int v6)
{
    struct hscan__dnsq *q = arg;

    (void)timeouts;
    if (v6)
        q->status_aaaa = status;
    else
        q->status_a = status;
    if (status == ARES_SUCCESS && q->cb)
        parse_reply(q, v6, abuf, alen);
    q_release(q);
}

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf,
                 int alen)
{
    on_answer(arg, status, timeouts, abuf, alen, 0);
}

static void on_aaaa(void *arg, int status, int timeouts, unsigned char *abuf,
                    int alen)
{
    on_answer(arg, status, timeouts, abuf, alen, 1);
}

static int is_localhost(const char *name)
{
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(name, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(name + n - 10, ".localhost", 10) == 0);
}

static void answer_localhost(struct hscan__dnsq *q, int family)
{
    static const uint8_t v4[4] = { 127, 0, 0, 1 };
    static const uint8_t v6[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 1 };
    struct hscan__addr *a;

    if (family != 6) {
        a = &q->ans.addrs[q->ans.n_addrs++];
        a->family = 4;
        memcpy(a->bytes, v4, 4);
    }
    if (family != 4) {
        a = &q->v6[q->n_v6++];
        a->family = 6;
        memcpy(a->bytes, v6, 16);
    }
}

/* Send both queries of `q`.  Returns 1 when `q` completed (and was
 * freed) before this returned. */
static int q_send(struct hscan__dnsq *q)
{
    struct hscan__dns *d = q->d;

    q->sent = 1;
    d->inflight++;
    q->pending = 1;                 /* held until both are sent */
    if (q->family != 6) {
        q->pending++;
        ares_query(d->channel, q->name, C_IN, T_A, on_a, q);
    }
    if (q->family != 4) {
        q->pending++;
        ares_query(d->channel, q->name, C_IN, T_AAAA, on_aaaa, q);
    }
    arm_timer(d);
    if (q->pending == 1) {
        q_release(q);               /* failed synchronously */
        return 1;
    }
    q->pending--;
    return 0;
}

/* Send waiting lookups while the window allows.  Runs from answer
 * callbacks too; the flag keeps a synchronous failure from recursing. */
static void send_waiting(struct hscan__dns *d)
{
    struct hscan__dnsq *q;

    if (d->draining || d->closing)
        return;
    d->draining = 1;
    while (d->inflight < MAX_LOOKUPS && (q = d->wait_head) != NULL) {
        d->wait_head = q->wait_next;
        if (!d->wait_head)
            d->wait_tail = NULL;
        if (q->cb)
            q_send(q);
        else
            free(q);                /* its probe gave up while waiting */
    }
    d->draining = 0;
}

struct hscan__dnsq *hscan__dns_resolve(struct hscan__dns *d, const char *name,
                                       int family, hscan__dns_cb cb,
                                       void *ctx)
{
    size_t n = strlen(name) + 1;
    struct hscan__dnsq *q = calloc(1, sizeof(*q) + n);

    if (!q) {
        struct hscan__dns_answer none;
        memset(&none, 0, sizeof(none));
        cb(ctx, HSCAN_ERESOURCE_EXHAUSTED, "out of memory", &none);
        return NULL;
    }
    q->cb = cb;
    q->ctx = ctx;
    q->d = d;
    q->family = family;
    q->status_a = q->status_aaaa = -1;
    memcpy(q->name, name, n);
    if (is_localhost(name)) {
        answer_localhost(q, family);
        q->pending = 1;
        q_release(q);
        return NULL;
    }
    if (d->inflight < MAX_LOOKUPS && !d->wait_head)
        return q_send(q) ? NULL : q;
    if (d->wait_tail)
        d->wait_tail->wait_next = q;
    else
        d->wait_head = q;
    d->wait_tail = q;
    return q;
}

void hscan__dns_detach(struct hscan__dnsq *q)
{
    q->cb = NULL;
}
