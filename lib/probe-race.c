/* Address family preference and racing attempts (cfg.prefer_family),
 * after RFC 8305 ("Happy Eyeballs Version 2").
 *
 * Order (section 4): a name's addresses stay in p->dns.addrs as the
 * answer gave them (the record's dns.addresses is a fact about DNS);
 * hscan__p_addr_at() maps attempt k to an address: the preferred
 * family's first, then the families alternating, the rest of the
 * larger family last.  Without a preference attempt k is address k.
 *
 * Racing (section 5): the attempt on the probe's own socket (`tcp`,
 * driven by probe.c as without a preference) runs alone for the
 * attempt delay; if it has not connected by then, the next address is
 * tried beside it on a second socket, allocated for that attempt only
 * (struct hscan__race: the socket, its connect timer and its
 * --max-per-ip place).  At most two attempts run at once, which bounds
 * a probe's sockets and memory; a failure on either side starts the
 * next address at once, as the RFC says.  The first to connect wins and
 * the other is closed.
 *
 * The probe's socket is embedded and every leg uses it, and a libuv
 * handle cannot move, so a racing attempt that wins hands its
 * connection over: once `tcp` has closed (UNSOCK), its descriptor is
 * duplicated into `tcp` (uv_tcp_open) and the racing socket closed.
 * libuv removes a descriptor from epoll explicitly before closing it,
 * so the duplicate's registration is its own.  The hand-over costs one
 * loop turn, after the connect time is taken.
 *
 * Never behind a proxy (every socket goes to the proxy; socks5:// still
 * gets the order), and never without a preference, so the default scan
 * opens exactly one socket per target at a time, as before.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

struct hscan__race {
    uv_tcp_t tcp;
    uv_timer_t timer;               /* its connect timeout */
    struct hscan__gate_waiter gate; /* its --max-per-ip place */
    struct probe *p;
    uint64_t t_conn0;               /* ns: its connect began */
    int addr;                       /* index in p->dns.addrs */
    int open;                       /* handles not yet closed */
    int won;
};

/* The index of the `j`-th address of family `fam`, or -1. */
static int nth_of(const struct probe *p, int fam, unsigned j)
{
    unsigned i;

    for (i = 0; i < p->dns.n_addrs; i++)
        if (p->dns.addrs[i].family == fam && j-- == 0)
            return (int)i;
    return -1;
}

int hscan__p_addr_at(const struct probe *p, unsigned k)
{
    int pref = p->env->lim.prefer_family, other = pref == 4 ? 6 : 4;
    unsigned np = 0, no, m, i;

    if (!pref || p->proxy_mode == HSCAN__PX_REMOTE)
        return (int)k;
    for (i = 0; i < p->dns.n_addrs; i++)
        np += p->dns.addrs[i].family == pref;
    no = p->dns.n_addrs - np;
    m = np < no ? np : no;
    if (k < 2 * m)
        return nth_of(p, k % 2 ? other : pref, k / 2);
    return nth_of(p, np > no ? pref : other, k - m);
}

int hscan__p_next_addr(struct probe *p)
{
    if (p->pin >= 0) {              /* --all-ips: its one address */
        if (p->next_addr > (unsigned)p->pin ||
            hscan__p_addr_excluded(p, (unsigned)p->pin))
            return -1;
        p->next_addr = (unsigned)p->pin;
        return p->pin;
    }
    for (; p->next_addr < p->dns.n_addrs; p->next_addr++) {
        int a = hscan__p_addr_at(p, p->next_addr);
        if (!hscan__p_addr_excluded(p, (unsigned)a))
            return a;
    }
    return -1;
}

uint64_t hscan__p_attempt_ms(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;

    p->dns.stagger = lim->prefer_family && !p->proxy_mode && !p->race &&
                     p->pin < 0 && p->next_addr < p->dns.n_addrs &&
                     lim->attempt_delay_ms < lim->connect_timeout_ms;
    return p->dns.stagger ? lim->attempt_delay_ms : lim->connect_timeout_ms;
}

/* Each closed handle of `r`: the probe counts it among its own (so it
 * outlives `r`), `r` goes with its last. */
static void race_closed(struct hscan__race *r, uv_handle_t *h)
{
    int last = --r->open == 0;

    hscan__p_closed(h);
    if (last)
        free(r);
}

static void tcp_closed(uv_handle_t *h)
{
    struct hscan__race *r = container_of(h, struct hscan__race, tcp);

    if (r->p->env->gate)
        hscan__gate_leave(r->p->env->gate, &r->gate);
    race_closed(r, h);
}

static void timer_closed(uv_handle_t *h)
{
    race_closed(container_of(h, struct hscan__race, timer), h);
}

void hscan__p_race_end(struct probe *p)
{
    struct hscan__race *r = p->race;

    if (!r)
        return;
    p->race = NULL;
    uv_close((uv_handle_t *)&r->timer, timer_closed);
    uv_close((uv_handle_t *)&r->tcp, tcp_closed);
}

static int race_start(struct probe *p);

/* The racing attempt failed (its error is noted).  While `tcp` still
 * tries, the next address races it at once; with `tcp` idle and none
 * racing, probe.c goes on (the next address, or the result).  Between
 * two attempts of `tcp` (UNSOCK, GATE, BACKOFF) it goes on by itself:
 * starting one here then could make both take the same address. */
static void race_failed(struct probe *p, struct hscan__race *r)
{
    int addr = r->addr;

    hscan__p_race_end(p);
    if (p->state != PROBE_CONNECT || race_start(p) || p->tcp_live)
        return;
    p->cur_addr = addr;             /* the last failure's, for `ip` */
    hscan__p_connect_next(p);
}

int hscan__p_race_adopt(struct probe *p)
{
    struct hscan__race *r = p->race;
    uv_os_fd_t fd;
    int nfd = -1, rc;

    if (!r || !r->won)
        return 0;
    if (uv_fileno((uv_handle_t *)&r->tcp, &fd) == 0)
        nfd = dup(fd);
    if (nfd < 0) {                  /* no descriptor: a local shortage */
        hscan__p_connect_err(p, UV_EMFILE);
        hscan__p_race_end(p);
        return 0;                   /* probe.c goes on */
    }
    if (p->env->gate) {
        hscan__gate_leave(p->env->gate, &p->gate);
        hscan__gate_move(&p->gate, &r->gate);
    }
    hscan__p_race_end(p);
    hscan__p_set_state(p, PROBE_CONNECT);
    hscan__p_stack(p);
    uv_tcp_init(p->env->loop, &p->tcp);
    p->tcp.data = p;
    p->tcp_live = 1;
    p->handles++;
    if ((rc = uv_tcp_open(&p->tcp, nfd)) != 0)
        close(nfd);                 /* not the handle's */
    else
        rc = hscan__p_read_start(p);
    if (rc != 0) {
        hscan__p_connect_err(p, rc);
        hscan__p_close_tcp(p);
        hscan__p_set_state(p, PROBE_UNSOCK);   /* then the next */
        return 1;
    }
    p->connected = 1;
    p->heard = 0;                   /* a new connection (cfg.retries) */
    p->tcp_leg.above->ops->start(p->tcp_leg.above);
    return 1;
}

/* The racing attempt connected first: it is the probe's connection
 * from here, and the attempt on `tcp` lost. */
static void race_won(struct probe *p, struct hscan__race *r)
{
    uint64_t now = uv_now(p->env->loop);

    r->won = 1;
    p->dns.stagger = 0;
    p->cur_addr = r->addr;
    p->t_conn0 = r->t_conn0;
    p->t_conn = uv_hrtime();
    if (p->env->gate)
        hscan__gate_cancel(p->env->gate, &p->gate);
    hscan__p_arm(p, p->deadline > now ? p->deadline - now : 0);
    if (p->tcp_live)
        hscan__p_close_tcp(p);
    if (p->tcp_closing)
        hscan__p_set_state(p, PROBE_UNSOCK);   /* adopted once closed */
    else if (!hscan__p_race_adopt(p))
        hscan__p_connect_next(p);   /* no descriptor to take it over */
}

static void on_connect(uv_connect_t *req, int status)
{
    struct hscan__race *r = req->data;
    struct probe *p = r->p;

    free(req);
    if (status == UV_ECANCELED || p->race != r ||
        p->state == PROBE_CLOSING)
        return;
    uv_timer_stop(&r->timer);
    if (status == 0) {
        race_won(p, r);
        return;
    }
    hscan__p_connect_err(p, status);
    race_failed(p, r);
}

static void on_timeout(uv_timer_t *t)
{
    struct hscan__race *r = container_of(t, struct hscan__race, timer);
    struct probe *p = r->p;

    if (p->race != r || p->state == PROBE_CLOSING)
        return;
    p->last_err = hscan__p_set_why(p, WHY_CONNECT_TIMEOUT, 0,
                                   HSCAN_ECONNECT_TIMEOUT);
    race_failed(p, r);
}

/* A racing attempt never queues for --max-per-ip: without a place now
 * it is not made, and `tcp` comes to that address in its turn.
 * Nor is one begun while `tcp` itself queues (GATE): targets sharing a
 * silent preferred address pass at max_per_ip per attempt delay (a
 * documented limit: docs/api.md, "Behaviour you should know"). */
static void never_opens(struct hscan__gate_waiter *w) { (void)w; }

/* Begin attempt p->next_addr on a racing socket: 1 when under way (or
 * failed at once and handed on), 0 when none was begun (no address
 * left, no --max-per-ip place, no memory, a local shortage). */
static int race_start(struct probe *p)
{
    struct sockaddr_storage ss;
    struct hscan__race *r;
    uv_connect_t *req;
    int addr, rc;

    if (p->race || p->proxy_mode || (addr = hscan__p_next_addr(p)) < 0)
        return 0;
    if (!(r = calloc(1, sizeof(*r))))
        return 0;
    hscan__gate_waiter_init(&r->gate, never_opens);
    if (p->env->gate &&
        !hscan__gate_enter(p->env->gate, &r->gate, &p->dns.addrs[addr])) {
        hscan__gate_cancel(p->env->gate, &r->gate);
        free(r);
        return 0;
    }
    if (!(req = malloc(sizeof(*req)))) {
        if (p->env->gate)
            hscan__gate_leave(p->env->gate, &r->gate);
        free(r);
        return 0;
    }
    p->next_addr++;
    r->p = p;
    r->addr = addr;
    r->open = 2;
    p->handles += 2;
    p->race = r;
    uv_timer_init(p->env->loop, &r->timer);
    uv_tcp_init(p->env->loop, &r->tcp);
    r->timer.data = r->tcp.data = p;
    req->data = r;
    hscan__p_sockaddr(&p->dns.addrs[addr], p->port, &ss);
    r->t_conn0 = uv_hrtime();
    rc = hscan__p_bind_source(p, &r->tcp, (struct sockaddr *)&ss);
    if (rc == 0)
        rc = uv_tcp_connect(req, &r->tcp, (struct sockaddr *)&ss,
                            on_connect);
    if (rc != 0) {
        free(req);
        hscan__p_connect_err(p, rc);
        if (hscan__p_local_shortage(rc)) {
            p->next_addr--;         /* `tcp` tries it in its turn */
            hscan__p_race_end(p);
            return 0;
        }
        race_failed(p, r);          /* the next, at once */
        return 1;
    }
    uv_timer_start(&r->timer, on_timeout, p->env->lim.connect_timeout_ms,
                   0);
    return 1;
}

void hscan__p_race_stagger(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;

    p->dns.stagger = 0;
    race_start(p);
    if (p->state == PROBE_CONNECT)     /* what is left of its own */
        hscan__p_arm(p, lim->connect_timeout_ms - lim->attempt_delay_ms);
}

int hscan__p_race_wait(struct probe *p)
{
    uint64_t now = uv_now(p->env->loop);

    if (!p->race)
        return 0;
    p->dns.stagger = 0;
    hscan__p_set_state(p, PROBE_CONNECT);
    /* no attempt of its own: only the absolute deadline */
    hscan__p_arm(p, p->deadline > now ? p->deadline - now : 0);
    return 1;
}
