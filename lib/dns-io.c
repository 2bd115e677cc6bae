/* c-ares on the scanner's uv loop: the channel, its sockets, its timer.
 *
 * c-ares owns its sockets; we only watch them.  sock_state_cb starts,
 * changes or stops a uv_poll_t per socket and never processes inside the
 * callback (curl docs/examples/multi-uv.c).  One uv_timer_t is re-armed
 * from ares_timeout() after every ares_process_fd(), so c-ares timeouts
 * fire without any thread.  A poll handle is closed as soon as c-ares says
 * it no longer wants the fd, before c-ares close()s it, so a reused fd
 * number can never meet a stale watcher (libuv#1148).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns-int.h"

static void on_handle_closed(uv_handle_t *h)
{
    struct hscan__dns *d = h->data;

    if (h->type == UV_POLL)
        free(container_of((uv_poll_t *)h, struct dns_sock, poll));
    if (--d->handles == 0 && d->closing) {
        void (*done)(void *) = d->done;
        void *arg = d->done_arg;
        free(d);
        ares_library_cleanup();
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
    /* ares_timeout() walks every query in flight: call it only when the
     * timer is idle.  A timer armed for a query answered since then just
     * fires early and re-arms (on_timer), which is cheaper than keeping
     * it exact after each of thousands of answers. */
    if (!uv_is_active((uv_handle_t *)&d->timer))
        hscan__dnsio_arm(d);
}

static void on_timer(uv_timer_t *t)
{
    struct hscan__dns *d = container_of(t, struct hscan__dns, timer);

    ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    hscan__dnsio_arm(d);
}

void hscan__dnsio_arm(struct hscan__dns *d)
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

/* The watcher of `fd` on list `h`, or NULL.  A handful of sockets: one
 * per resolver (plus TCP ones for truncated answers). */
static struct dns_sock *find_sock(struct hscan__queue *h, ares_socket_t fd)
{
    struct hscan__queue *n;

    hscan__queue_foreach(n, h) {
        struct dns_sock *s = hscan__queue_data(n, struct dns_sock, node);
        if (s->fd == fd)
            return s;
    }
    return NULL;
}

/* The watcher made for `fd` when it was opened, taken off the spare
 * list; NULL if there is none. */
static struct dns_sock *take_spare(struct hscan__dns *d, ares_socket_t fd)
{
    struct dns_sock *s = find_sock(&d->spare, fd);

    if (s)
        hscan__queue_remove(&s->node);
    return s;
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable,
                          int writable)
{
    struct hscan__dns *d = data;
    struct dns_sock *s = find_sock(&d->socks, fd);
    int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

    if (events == 0) {
        if (s) {
            hscan__queue_remove(&s->node);
            uv_close((uv_handle_t *)&s->poll, on_handle_closed);
        }
        return;
    }
    if (!s) {
        if (!(s = take_spare(d, fd)) && !(s = calloc(1, sizeof(*s))))
            return;     /* the query times out; nothing leaks */
        if (uv_poll_init_socket(d->loop, &s->poll, fd) != 0) {
            free(s);
            return;
        }
        s->fd = fd;
        s->d = d;
        s->poll.data = d;
        hscan__queue_insert_head(&d->socks, &s->node);
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
    struct dns_sock *s;

    d->sock_errno = fd < 0 ? errno : 0;
    if (fd < 0)
        return ARES_SOCKET_BAD;
    /* Its watcher now: a socket c-ares uses but nobody watches would
     * leave every query on it to time out as dns_timeout.  Without the
     * memory, the socket is not opened at all: resource_exhausted. */
    if (!(s = calloc(1, sizeof(*s)))) {
        close(fd);
        d->sock_errno = ENOMEM;
        return ARES_SOCKET_BAD;
    }
    s->fd = fd;
    s->d = d;
    hscan__queue_insert_head(&d->spare, &s->node);
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
    free(take_spare(arg, fd));  /* closed before it was ever watched */
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

static unsigned count_servers(ares_channel ch)
{
    struct ares_addr_port_node *list = NULL, *n;
    unsigned k = 0;

    if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
        return 1;
    for (n = list; n; n = n->next)
        k++;
    ares_free_data(list);
    return k ? k : 1;
}

int hscan__dnsio_open(struct hscan__dns *d, uv_loop_t *loop,
                      const struct hscan__dns_opts *opt,
                      char *detail, size_t dsize)
{
    struct ares_options o;
    int rc, mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
                   ARES_OPT_TRIES | ARES_OPT_FLAGS;
    const char *resolvers = opt->resolvers;

    /* Reference-counted by c-ares; undone when the channel's last
     * handle has closed (on_handle_closed) or below on failure. */
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
        return HSCAN_EINIT;
    hscan__queue_init(&d->socks);
    hscan__queue_init(&d->spare);
    memset(&o, 0, sizeof(o));
    o.sock_state_cb = sock_state_cb;
    o.sock_state_cb_data = d;
    /* Two tries: the second waits twice as long (c-ares doubles per round),
     * so the lookup fits the DNS deadline the probe enforces itself. */
    o.timeout = (int)(opt->timeout_ms / 3 > 0 ? opt->timeout_ms / 3 : 1);
    o.tries = 2;
    /* NOCHECKRESP: hand SERVFAIL and REFUSED to us instead of turning them
     * into a generic "connection refused" after trying every server, so
     * the record says what the resolver said (dns.c retries on another
     * resolver itself, see finish_lookup()). */
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
    /* Several resolvers given: spread the queries over them rather than
     * sending everything to the first and the rest only on failure. */
    if (resolvers && strchr(resolvers, ','))
        mask |= ARES_OPT_ROTATE;
    rc = ares_init_options(&d->channel, &o, mask);
    if (rc == ARES_SUCCESS && resolvers && *resolvers)
        rc = ares_set_servers_ports_csv(d->channel, resolvers);
    if (rc != ARES_SUCCESS) {
        snprintf(detail, dsize, "c-ares: %s", ares_strerror(rc));
        if (d->channel)
            ares_destroy(d->channel);
        ares_library_cleanup();
        return rc == ARES_ENOMEM ? HSCAN_ENOMEM : HSCAN_EINVAL;
    }
    ares_set_socket_functions(d->channel, &sock_funcs, d);
    d->nservers = count_servers(d->channel);
    d->loop = loop;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    uv_timer_init(loop, &d->pace);
    d->pace.data = d;
    uv_idle_init(loop, &d->kick);
    d->kick.data = d;
    d->handles = 3;
    return 0;
}

/* After ares_destroy(), which closed c-ares' sockets (sock_close). */
void hscan__dnsio_close(struct hscan__dns *d)
{
    struct hscan__queue *n;
    struct dns_sock *s;

    while ((n = hscan__queue_head(&d->spare)) != &d->spare) {
        hscan__queue_remove(n);
        free(hscan__queue_data(n, struct dns_sock, node));
    }
    while ((n = hscan__queue_head(&d->socks)) != &d->socks) {
        s = hscan__queue_data(n, struct dns_sock, node);
        hscan__queue_remove(n);
        uv_close((uv_handle_t *)&s->poll, on_handle_closed);
    }
    uv_close((uv_handle_t *)&d->timer, on_handle_closed);
    uv_close((uv_handle_t *)&d->pace, on_handle_closed);
    uv_close((uv_handle_t *)&d->kick, on_handle_closed);
}
