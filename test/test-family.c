/* Integration tests of cfg.prefer_family (RFC 8305 order and racing
 * attempts): both.test resolves to A 127.0.0.1 and AAAA ::1, and each
 * test puts something of its own on one port of each address: a
 * server, a refused port, a listener that counts accepts, or a
 * blackhole (a listener whose accept queue is full: Linux drops further
 * SYNs, so a connect neither completes nor fails, without root or
 * firewall rules).  Environment: scan-env.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "server-capture.h"
#include "test-runner.h"
#include "tsrv-net.h"

#define MAX_FDS 16

struct fam {
    struct tsrv_http *http[2];
    struct tsrv_tls *tls;
    struct capture *cap;            /* NULL, or stopped with the rest */
    uv_tcp_t refused, counter;
    int has_refused, has_counter;
    unsigned accepts;               /* by `counter` */
    unsigned long reqs[2];          /* by http[i], when it stopped */
    int fds[MAX_FDS];               /* blackholes and what fills them */
    int n_fds;
    int hole[2][2];                 /* fds[lo] listens, lo+1..hi-1 fill */
    int n_holes;
    uv_timer_t drain;               /* see family_first_wins_late */
    int has_drain;
};

static void fam_stop(void *arg)
{
    struct fam *f = arg;
    int i;

    for (i = 0; i < 2; i++)
        if (f->http[i]) {
            f->reqs[i] = tsrv_http_requests(f->http[i]);
            tsrv_http_stop(f->http[i]);
        }
    if (f->tls)
        tsrv_tls_stop(f->tls);
    if (f->cap)
        cap_stop(f->cap);
    if (f->has_refused)
        uv_close((uv_handle_t *)&f->refused, NULL);
    if (f->has_counter)
        uv_close((uv_handle_t *)&f->counter, NULL);
    if (f->has_drain)
        uv_close((uv_handle_t *)&f->drain, NULL);
}

/* env_init(), and `f` stopped with the servers. */
static void fam_init(struct env *e, struct fam *f)
{
    env_init(e);
    memset(f, 0, sizeof(*f));
    e->on_stop = fam_stop;
    e->stop_arg = f;
}

static void fam_done(struct env *e, struct fam *f)
{
    int i;

    for (i = 0; i < f->n_fds; i++)
        if (f->fds[i] >= 0)
            close(f->fds[i]);
    env_done(e);
}

static void keep_fd(struct fam *f, int fd)
{
    CHECK(fd >= 0 && f->n_fds < MAX_FDS);
    f->fds[f->n_fds++] = fd;
}

/* A connect from here to `ss` completes within 200 ms: 1, else 0. */
static int connects(struct fam *f, const struct sockaddr_storage *ss,
                    socklen_t len)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
    struct pollfd pfd;
    socklen_t elen = sizeof(err);

    keep_fd(f, fd);
    if (connect(fd, (const struct sockaddr *)ss, len) == 0)
        return 1;
    CHECK(errno == EINPROGRESS);
    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, 200) != 1)
        return 0;
    CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0);
    CHECK(err == 0);
    return 1;
}

/* A listener on ip:port (0: pick) that accepts nothing, its queue
 * filled until a connect hangs.  Returns the port, or a negative uv
 * error (taken). */
static int blackhole(struct fam *f, const char *ip, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, i, err, one = 1;

    CHECK(tsrv_addr(ip, port, &ss) == 0 && f->n_holes < 2);
    len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                   : sizeof(struct sockaddr_in);
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        err = errno;
        close(fd);
        return -err;
    }
    f->hole[f->n_holes][0] = f->n_fds;
    keep_fd(f, fd);
    CHECK(listen(fd, 0) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
    for (i = 0; i < 8 && connects(f, &ss, len); i++)
        ;
    CHECK(i < 8);                   /* the queue did fill */
    f->hole[f->n_holes++][1] = f->n_fds;
    return ntohs(ss.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *)&ss)->sin6_port
                     : ((struct sockaddr_in *)&ss)->sin_port);
}

static void on_counted(uv_stream_t *s, int status)
{
    struct fam *f = s->data;
    uv_tcp_t *t;

    if (status != 0)
        return;
    f->accepts++;
    t = malloc(sizeof(*t));
    CHECK(t != NULL);
    uv_tcp_init(s->loop, t);
    CHECK(uv_accept(s, (uv_stream_t *)t) == 0);
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

/* A listener on ip:port that counts the connections it accepts. */
static int counter(struct env *e, struct fam *f, const char *ip, int port)
{
    struct sockaddr_storage ss;

    CHECK(tsrv_addr(ip, port, &ss) == 0);
    CHECK(uv_tcp_init(&e->loop, &f->counter) == 0);
    f->has_counter = 1;
    f->counter.data = f;
    return tsrv_tcp_listen(&f->counter, (struct sockaddr *)&ss, 16,
                           on_counted, NULL);
}

/* `ip` port `port` was taken (`rc`): end the test without a scan. */
static void skip(struct env *e, struct fam *f, const char *ip, int port,
                 int rc)
{
    fprintf(stderr, "  %s port %d is taken (%s); skipped\n", ip, port,
            uv_strerror(rc));
    env_scan(e, NULL, 0);
    fam_done(e, f);
}

/* The HTTP server number `i` on ip:port; 0, or 1 when the port is
 * taken there (the test has been skipped). */
static int serve(struct env *e, struct fam *f, int i, const char *ip,
                 int port)
{
    int rc = tsrv_http_start(&e->loop, ip, port, &f->http[i]);

    if (rc != 0) {
        f->http[i] = NULL;
        skip(e, f, ip, port, rc);
        return 1;
    }
    return 0;
}

/* Descriptors open in this process, once libuv's own for the process
 * (its signal pipe, made by the first loop) are. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    uv_loop_t loop;
    int n = 0;

    CHECK(uv_loop_init(&loop) == 0);
    CHECK(uv_loop_close(&loop) == 0);
    CHECK(d != NULL);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static const char *const both_addrs[] = { "127.0.0.1", "::1" };

/* One both.test:port scan with a preference and an attempt delay. */
static struct rec *scan_both(struct env *e, int port, int prefer,
                             uint64_t delay_ms)
{
    static char line[64];
    const char *lines[1];

    e->cfg.prefer_family = prefer;
    e->cfg.attempt_delay_ms = delay_ms;
    lines[0] = fmt(line, sizeof(line), "both.test:%d", port);
    env_scan(e, lines, 1);
    /* the answer's order is a DNS fact: no preference changes it */
    check_list(e->recs[0].addrs, e->recs[0].n_addrs, both_addrs, 2);
    return &e->recs[0];
}

/* ::1 refuses: IPv4 answers at once, not after the attempt delay. */
TEST_T(family_prefer6_refused, 20)
{
    struct env e;
    struct fam f;
    struct rec *r;
    int port;

    fam_init(&e, &f);
    port = bind_refused(&e.loop, &f.refused, "::1", 0);
    f.has_refused = 1;
    CHECK(port > 0);
    if (serve(&e, &f, 0, "127.0.0.1", port))
        return;
    e.cfg.connect_timeout_ms = 4000 * slow_factor();
    e.cfg.timeout_ms = 8000 * slow_factor();
    r = scan_both(&e, port, 6, 2000);
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK(r->total_ms < 1000.0 * slow_factor());
    fam_done(&e, &f);
}

/* Both families served: the preferred one answers. */
TEST_T(family_prefer6_first, 20)
{
    struct env e;
    struct fam f;
    struct rec *r;
    int port;

    fam_init(&e, &f);
    CHECK(serve(&e, &f, 0, "::1", 0) == 0);
    port = tsrv_http_port(f.http[0]);
    if (serve(&e, &f, 1, "127.0.0.1", port))
        return;
    r = scan_both(&e, port, 6, 250);
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->ip, "::1");
    CHECK_INT(f.reqs[0], 1);
    CHECK_INT(f.reqs[1], 0);
    fam_done(&e, &f);
}

/* 127.0.0.1 served, ::1 counting accepts; `prefer`, and `ex` (one
 * entry) excluded unless NULL: IPv4 answers, ::1 sees no connection. */
static void v6_untouched(int prefer, const char *const *ex)
{
    struct env e;
    struct fam f;
    struct rec *r;
    int port;

    fam_init(&e, &f);
    port = counter(&e, &f, "::1", 0);
    CHECK(port > 0);
    if (serve(&e, &f, 0, "127.0.0.1", port))
        return;
    e.cfg.exclude = ex;
    e.cfg.n_exclude = ex ? 1 : 0;
    r = scan_both(&e, port, prefer, 100);
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK_INT(f.accepts, 0);
    fam_done(&e, &f);
}

/* IPv4 preferred and answering: ::1 is never contacted. */
TEST_T(family_prefer4_v6_untouched, 20)
{
    v6_untouched(4, NULL);
}

/* The preferred family `pref` is a blackhole: the other starts after
 * the attempt delay and wins, long before the connect timeout.  With
 * `tls`, over HTTPS: the TLS leg starts on the connection handed over. */
static void blackholed(int pref, unsigned max_per_ip, int tls)
{
    const char *hole = pref == 6 ? "::1" : "127.0.0.1";
    const char *live = pref == 6 ? "127.0.0.1" : "::1";
    struct env e;
    struct fam f;
    struct rec *r;
    int port, fds = open_fds();

    fam_init(&e, &f);
    port = blackhole(&f, hole, 0);
    CHECK(port > 0);
    if (tls) {
        CHECK(tsrv_tls_start(&e.loop, live, port, NULL, &f.tls) == 0);
        e.allow_tls = 1;
        e.cfg.insecure = 1;
        e.cfg.scheme = HSCAN_SCHEME_HTTPS;
        e.cfg.tls_timeout_ms = 4000 * slow_factor();
    } else if (serve(&e, &f, 0, live, port)) {
        return;
    }
    e.cfg.connect_timeout_ms = 4000 * slow_factor();
    e.cfg.timeout_ms = 8000 * slow_factor();
    e.cfg.max_per_ip = max_per_ip;
    r = scan_both(&e, port, pref, 200);
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->ip, live);
    CHECK(r->total_ms >= 190.0);
    CHECK(r->total_ms < 2000.0 * slow_factor());
    /* the winner's handshake alone */
    CHECK(r->connect_ms >= 0 && r->connect_ms < 150.0 * slow_factor());
    CHECK_INT(f.reqs[0], !tls);
    CHECK((r->tls != NULL) == tls);
    fam_done(&e, &f);
    /* the losing socket and the one handed over are all closed */
    CHECK_INT(open_fds(), fds);
}

TEST_T(family_blackhole_v6, 20)
{
    blackholed(6, 0, 0);
}

TEST_T(family_blackhole_v4, 20)
{
    blackholed(4, 0, 0);
}

/* The racing connection moves with its --max-per-ip place. */
TEST_T(family_blackhole_max_per_ip, 20)
{
    blackholed(6, 1, 0);
}

TEST_T(family_blackhole_https, 20)
{
    blackholed(6, 0, 1);
}

/* A blackhole on ::1 and, on the same port of 127.0.0.1, another or
 * (`refused`) a refused port.  Returns the port, or 0 when 127.0.0.1's
 * was taken (the test has been skipped). */
static int v6_hole_and(struct env *e, struct fam *f, int refused)
{
    int port = blackhole(f, "::1", 0), p4;

    CHECK(port > 0);
    if (refused) {
        p4 = bind_refused(&e->loop, &f->refused, "127.0.0.1", port);
        f->has_refused = 1;
    } else {
        p4 = blackhole(f, "127.0.0.1", port);
    }
    if (p4 < 0) {
        skip(e, f, "127.0.0.1", port, p4);
        return 0;
    }
    return port;
}

/* ::1 preferred and a blackhole; 127.0.0.1 refused (`refused`) or a
 * blackhole too.  Every attempt fails: connect_timeout, with its
 * connect timeout of `ms` (the attempt delay 100), over `ip`, the
 * attempt that ended last, within `max_ms` of the start. */
static void all_fail(int refused, uint64_t ms, const char *ip,
                     double max_ms)
{
    char want[64];
    struct env e;
    struct fam f;
    struct rec *r;
    int port;

    fam_init(&e, &f);
    if (!(port = v6_hole_and(&e, &f, refused)))
        return;
    e.cfg.connect_timeout_ms = ms;
    e.cfg.timeout_ms = 5000 * slow_factor();
    r = scan_both(&e, port, 6, 100);
    EXPECT_ERR(r, HSCAN_ECONNECT_TIMEOUT);
    CHECK_STR(r->ip, ip);
    snprintf(want, sizeof(want), "within %llu ms", (unsigned long long)ms);
    CHECK(strstr(r->detail, want) != NULL);     /* its own timeout */
    CHECK(r->total_ms >= (double)ms - 10.0);
    CHECK(r->total_ms < max_ms * slow_factor());
    fam_done(&e, &f);
}

/* Both blackholed: each attempt has its own connect timeout; the
 * record names the racing one, begun after the attempt delay, which
 * ended last (at 700 ms; one after the other would be 1,200 ms). */
TEST_T(family_all_blackholed, 20)
{
    all_fail(0, 600, "127.0.0.1", 1100.0);
}

/* Open blackhole 0 again: take what its queue holds and close what
 * filled it (a client still in SYN_SENT would take the place). */
static void on_drain(uv_timer_t *t)
{
    struct fam *f = t->data;
    int i, c, lo = f->hole[0][0];

    while ((c = accept4(f->fds[lo], NULL, NULL, SOCK_NONBLOCK)) >= 0)
        close(c);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    for (i = lo + 1; i < f->hole[0][1]; i++) {
        close(f->fds[i]);
        f->fds[i] = -1;
    }
}

/* Both blackholed, ::1 preferred; after the racing IPv4 attempt began,
 * ::1's queue opens, and the kernel's SYN retransmission (after 1 s)
 * connects the first attempt: it wins, the racing one is closed.
 * Nobody reads the request: read_timeout, over ::1. */
TEST_T(family_first_wins_late, 20)
{
    struct env e;
    struct fam f;
    struct rec *r;
    int port, fds = open_fds();

    fam_init(&e, &f);
    if (!(port = v6_hole_and(&e, &f, 0)))
        return;
    CHECK(fcntl(f.fds[f.hole[0][0]], F_SETFL, O_NONBLOCK) == 0);
    CHECK(uv_timer_init(&e.loop, &f.drain) == 0);
    f.has_drain = 1;
    f.drain.data = &f;
    uv_update_time(&e.loop);        /* filling the holes took a while */
    CHECK(uv_timer_start(&f.drain, on_drain, 300, 0) == 0);
    e.cfg.connect_timeout_ms = 3000 * slow_factor();
    e.cfg.read_timeout_ms = 300;
    e.cfg.timeout_ms = 8000 * slow_factor();
    r = scan_both(&e, port, 6, 100);
    EXPECT_ERR(r, HSCAN_EREAD_TIMEOUT);
    CHECK_STR(r->ip, "::1");
    /* connected by the retransmitted SYN: the first attempt's */
    if (slow_factor() == 1)
        CHECK(r->connect_ms >= 800.0);
    fam_done(&e, &f);
    CHECK_INT(open_fds(), fds);
}

/* 127.0.0.1 refused: the racing attempt fails at once and the first
 * goes on to its own connect timeout, which, as the attempt that ended
 * last, the record names.  (One after the other would end refused,
 * over 127.0.0.1.) */
TEST_T(family_race_refused, 20)
{
    all_fail(1, 800, "::1", 1100.0);
}

/* --max-per-ip 1 and two targets racing to the same two addresses:
 * each connection holds its place, the second target waits for them,
 * and both end over IPv4. */
TEST_T(family_race_gate_wait, 20)
{
    static char l0[64], l1[64];
    const char *lines[2];
    struct env e;
    struct fam f;
    int port, i, fds = open_fds();

    fam_init(&e, &f);
    port = blackhole(&f, "::1", 0);
    CHECK(port > 0);
    if (serve(&e, &f, 0, "127.0.0.1", port))
        return;
    e.cfg.connect_timeout_ms = 1000 * slow_factor();
    e.cfg.timeout_ms = 8000 * slow_factor();
    e.cfg.max_per_ip = 1;
    e.cfg.prefer_family = 6;
    e.cfg.attempt_delay_ms = 100;
    lines[0] = fmt(l0, sizeof(l0), "both.test:%d/a", port);
    lines[1] = fmt(l1, sizeof(l1), "both.test:%d/b", port);
    env_scan(&e, lines, 2);
    for (i = 0; i < 2; i++) {
        EXPECT_STATUS(&e.recs[i], 200);
        CHECK_STR(e.recs[i].ip, "127.0.0.1");
    }
    CHECK(e.stats.ip_waits >= 1);
    CHECK_INT(f.reqs[0], 2);
    fam_done(&e, &f);
    CHECK_INT(open_fds(), fds);
}

/* The overall budget runs out while both attempts are under way: one
 * record, connect_timeout naming the budget, every socket closed. */
TEST_T(family_deadline_mid_race, 20)
{
    struct env e;
    struct fam f;
    struct rec *r;
    int port, fds = open_fds();

    fam_init(&e, &f);
    if (!(port = v6_hole_and(&e, &f, 0)))
        return;
    e.cfg.connect_timeout_ms = 3000;
    e.cfg.timeout_ms = 400;
    r = scan_both(&e, port, 6, 100);
    EXPECT_ERR(r, HSCAN_ECONNECT_TIMEOUT);
    CHECK(strstr(r->detail, "overall budget") != NULL);
    CHECK(r->total_ms >= 390.0);    /* the race began at 100 ms */
    CHECK(r->total_ms < 1000.0 * slow_factor());
    fam_done(&e, &f);
    CHECK_INT(open_fds(), fds);
}

/* ---- with cfg.exclude: an excluded address is never contacted, by
 * the first attempt or a racing one ---- */

/* ::1 preferred but excluded: IPv4 answers, ::1 sees no connection. */
TEST_T(family_exclude_preferred, 20)
{
    static const char *const ex[] = { "::1" };

    v6_untouched(6, ex);
}

/* ::1 preferred and silent, 127.0.0.1 excluded: nothing races ::1, and
 * its own connect timeout ends the target. */
TEST_T(family_exclude_not_raced, 20)
{
    static const char *const ex[] = { "127.0.0.0/8" };
    struct env e;
    struct fam f;
    struct rec *r;
    int port, p6;

    fam_init(&e, &f);
    port = counter(&e, &f, "127.0.0.1", 0);
    CHECK(port > 0);
    if ((p6 = blackhole(&f, "::1", port)) < 0) {
        skip(&e, &f, "::1", port, p6);
        return;
    }
    e.cfg.exclude = ex;
    e.cfg.n_exclude = 1;
    e.cfg.connect_timeout_ms = 600;
    e.cfg.timeout_ms = 5000 * slow_factor();
    r = scan_both(&e, port, 6, 100);
    EXPECT_ERR(r, HSCAN_ECONNECT_TIMEOUT);
    CHECK_STR(r->ip, "::1");
    CHECK(r->total_ms >= 590.0);
    CHECK_INT(f.accepts, 0);
    fam_done(&e, &f);
}

/* With cfg.source_ips the racing socket is bound like the first one:
 * ::1 (preferred, from ::1) is silent, and IPv4 answers from the IPv4
 * source address, 127.0.0.2. */
TEST_T(family_race_source_ip, 20)
{
    static const char *const src[] = { "::1", "127.0.0.2" };
    struct capture cap;
    struct env e;
    struct fam f;
    struct rec *r;
    int port, rc;

    fam_init(&e, &f);
    port = blackhole(&f, "::1", 0);
    CHECK(port > 0);
    if ((rc = cap_start(&e.loop, &cap, "127.0.0.1", port)) != 0) {
        skip(&e, &f, "127.0.0.1", port, rc);
        return;
    }
    f.cap = &cap;
    e.cfg.source_ips = src;
    e.cfg.n_source_ips = 2;
    e.cfg.connect_timeout_ms = 4000 * slow_factor();
    e.cfg.timeout_ms = 8000 * slow_factor();
    r = scan_both(&e, port, 6, 100);
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK_INT(cap.n_conns, 1);
    CHECK_STR(cap.peers[0], "127.0.0.2");
    cap_free(&cap);
    fam_done(&e, &f);
}

/* cfg.all_ips: each unit tries its own address, preference or not; the
 * silent ::1 unit is not raced by IPv4 (that is the other unit's). */
TEST_T(family_all_ips_no_race, 20)
{
    static char line[64];
    const char *lines[1];
    struct env e;
    struct fam f;
    struct rec *r6, *r4;
    int port;

    fam_init(&e, &f);
    port = blackhole(&f, "::1", 0);
    CHECK(port > 0);
    if (serve(&e, &f, 0, "127.0.0.1", port))
        return;
    e.cfg.all_ips = 1;
    e.cfg.prefer_family = 6;
    e.cfg.attempt_delay_ms = 100;
    e.cfg.connect_timeout_ms = 600;
    e.cfg.timeout_ms = 5000 * slow_factor();
    e.per_line = 2;
    lines[0] = fmt(line, sizeof(line), "both.test:%d", port);
    env_scan(&e, lines, 1);
    r6 = env_rec(&e, 0, 0);
    r4 = env_rec(&e, 0, 1);
    if (r6->ip && strcmp(r6->ip, "::1") != 0) {
        r4 = r6;
        r6 = env_rec(&e, 0, 1);
    }
    EXPECT_ERR(r6, HSCAN_ECONNECT_TIMEOUT);
    CHECK_STR(r6->ip, "::1");
    CHECK(r6->total_ms >= 590.0);
    EXPECT_STATUS(r4, 200);
    CHECK_STR(r4->ip, "127.0.0.1");
    CHECK_INT(f.reqs[0], 1);
    fam_done(&e, &f);
}
