/* Hostile resolvers (issue 6; reliability.md section 2, items 29-32):
 * truncated, oversized, spoofed and malformed replies, odd addresses,
 * and a resolver that goes away mid-scan or answers slowly.  The plain
 * DNS errors (SERVFAIL, REFUSED, NXDOMAIN, silence, a short CNAME chain,
 * retry on another resolver) are in test-scan-dns.c.
 *
 * Every case checks the documented error name (docs/results.md), that
 * the probe ended by its deadline, and (scan-env.c) that each record is
 * valid JSON and that each target got exactly one.  The resolver's
 * labels are listed in server-dns.h; 127.0.0.66 in a record would mean
 * a decoy reply was taken.  Every target asks for /b/fast, so the HTTP
 * server does not read a behaviour into the DNS label.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

/* Scheduling slack on top of a deadline: generous for valgrind. */
#define SLACK_MS 1000
#define MAX_LINES 128

/* The resolver under test: a server of our own (the env's stays
 * unused), so that its counters can be read before it stops. */
struct res {
    struct tsrv_dns *srv;
    unsigned long udp, tcp;
    uv_check_t check;           /* outage tests: when to go away */
    uv_timer_t t_up;            /* and when to come back */
    int handles, close_it;
    unsigned long q_down, q_up; /* queries received by then */
};

static void res_stop(void *arg)
{
    struct res *r = arg;

    r->udp = tsrv_dns_queries(r->srv);
    r->tcp = tsrv_dns_tcp_queries(r->srv);
    tsrv_dns_stop(r->srv);
    if (r->handles) {
        uv_close((uv_handle_t *)&r->check, NULL);
        uv_close((uv_handle_t *)&r->t_up, NULL);
    }
}

/* A resolver port below the kernel's ephemeral range, or 0 (any).  The
 * port of a resolver that closes for a while is then never handed to a
 * socket of the scanner's own, which would be connected to itself and
 * get its queries back (see dns_malformed_replies). */
static int low_port(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 0, hi = 0;

    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 0;
        fclose(f);
    }
    if (lo <= 2048)
        return 0;
    return 1024 + (int)(uv_hrtime() / 1000 % (unsigned)(lo - 1024));
}

/* env_init() with `r` as the only resolver and short DNS timeouts; with
 * `low`, on a port outside the ephemeral range when one is free. */
static void res_init_at(struct env *e, struct res *r, int low)
{
    int i, port, rc = -1;

    memset(r, 0, sizeof(*r));
    env_init(e);
    for (i = 0; low && rc != 0 && i < 20; i++)
        if ((port = low_port()) > 0)
            rc = tsrv_dns_start(&e->loop, "127.0.0.1", port, &r->srv);
    if (rc != 0)
        CHECK(tsrv_dns_start(&e->loop, "127.0.0.1", 0, &r->srv) == 0);
    snprintf(e->resolvers, sizeof(e->resolvers), "127.0.0.1:%d",
             tsrv_dns_port(r->srv));
    e->on_stop = res_stop;
    e->stop_arg = r;
    e->cfg.dns_timeout_ms = 600;
}

static void res_init(struct env *e, struct res *r)
{
    res_init_at(e, r, 0);
}

/* Lines "<label>.test:<port>/b/fast". */
struct lines {
    char buf[MAX_LINES][80];
    const char *v[MAX_LINES];
    size_t n;
};

static void add_line(struct lines *l, const char *label, int port)
{
    CHECK(l->n < MAX_LINES);
    snprintf(l->buf[l->n], sizeof(l->buf[l->n]), "%s.test:%d/b/fast",
             label, port);
    l->v[l->n] = l->buf[l->n];
    l->n++;
}

/* Valgrind runs the servers and the scanner ~20 times slower: longer
 * DNS timeouts where replies are large, fewer of them. */
static unsigned slow(void)
{
    return getenv("HSCAN_UNDER_VALGRIND") ? 4 : 1;
}

static double ms_since(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e6;
}

/* The probe kept its deadlines (the whole one; the DNS one for a DNS
 * failure, unless lookups wait for --dns-rate first), and the record
 * stays small whatever the resolver sent. */
static void check_deadline(const struct env *e, const struct rec *r)
{
    CHECK(r->total_ms >= 0);
    CHECK(r->total_ms <= (double)e->cfg.timeout_ms + SLACK_MS);
    if (r->error <= HSCAN_EDNS_NXDOMAIN && r->error >= HSCAN_EDNS_FAILED &&
        e->cfg.dns_rate == 0)
        CHECK(r->dns_ms <= (double)e->cfg.dns_timeout_ms + SLACK_MS);
    CHECK(strlen(r->json) < 2048);
}

static void check_all_deadlines(const struct env *e)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        check_deadline(e, &e->recs[i]);
}

static void expect_fast(const struct rec *r, const char *ip)
{
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->ip, ip);
    check_fast_headers(r);
}

static void expect_dns_err(const struct rec *r, int code, const char *detail)
{
    EXPECT_ERR(r, code);
    check_no_response(r);
    CHECK(r->ip == NULL);
    CHECK_INT(r->n_addrs, 0);
    if (detail)
        CHECK_STR(r->detail, detail);
}

static const char *const lo1[] = { "127.0.0.1" };

/* dns_timeout: the probe's DNS deadline and c-ares giving up after its
 * last try fall on the same millisecond; either may say so. */
static void expect_dns_timeout(const struct rec *r, unsigned ms)
{
    char want[64];

    expect_dns_err(r, HSCAN_EDNS_TIMEOUT, NULL);
    snprintf(want, sizeof(want), "no DNS answer within %u ms", ms);
    if (strcmp(r->detail, "no answer") != 0)
        CHECK_STR(r->detail, want);
    CHECK(r->dns_ms >= ms / 2);         /* timed out, not failed */
}

/* ---- truncation ---- */

/* TC=1: c-ares asks again over TCP and the TCP answer is used (the UDP
 * one carried the decoy), A and AAAA both.  (c-ares 1.18 never asks
 * twice on one TCP connection: with one resolver a lookup that went to
 * TCP has a single try of dns_timeout / 3.)  A datagram cut inside a
 * record without TC: the complete records before the cut are kept; with
 * none complete the reply is malformed: dns_failed. */
TEST_T(dns_truncated, 20)
{
    struct lines l = { .n = 0 };
    struct env e;
    struct res r;

    res_init(&e, &r);
    e.cfg.dns_timeout_ms = 3000 * slow();    /* TCP: one try of 1/3 */
    add_line(&l, "tc", e.hport);
    add_line(&l, "cut", e.hport);
    add_line(&l, "cut2", e.hport);
    env_scan(&e, l.v, l.n);
    expect_fast(&e.recs[0], "127.0.0.1");
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, lo1, 1);
    CHECK_INT(r.tcp, 2);
    expect_dns_err(&e.recs[1], HSCAN_EDNS_FAILED, "Misformatted DNS reply");
    expect_fast(&e.recs[2], "127.0.0.1");
    check_list(e.recs[2].addrs, e.recs[2].n_addrs, lo1, 1);
    check_all_deadlines(&e);
    env_done(&e);
}

/* TC=1, then the TCP connection closes without an answer: c-ares tries
 * again (over TCP), then gives up as if the resolver were unreachable.
 * Alone in its scan: c-ares resets every query in flight to a resolver
 * whose connection fails, so each costs the others a try. */
TEST_T(dns_truncated_tcp_closed, 20)
{
    struct lines l = { .n = 0 };
    struct env e;
    struct res r;

    res_init(&e, &r);
    add_line(&l, "tcclose", e.hport);
    env_scan(&e, l.v, l.n);
    expect_dns_err(&e.recs[0], HSCAN_EDNS_FAILED,
                   "no resolver reachable (port closed or socket failed)");
    CHECK(r.tcp >= 1);
    CHECK(e.recs[0].dns_ms < 600);      /* failed, not timed out */
    check_all_deadlines(&e);
    env_done(&e);
}

/* ---- oversized answers ---- */

static long maxrss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 1,000 A records in one 16 KB datagram (no TC; more than 512 bytes, so
 * c-ares takes it as truncated and asks over TCP), and a 65,535-byte TCP
 * reply of ~4,090 records: the record keeps the first 16 addresses in
 * answer order (docs/results.md: at most 16) and stays small.  Twenty
 * of each (5 under valgrind): peak memory grows by far less than what
 * went through.  Over TCP a lookup has one try of dns_timeout / 3: 1 s
 * here (4 s under valgrind), for 1.6 MB of replies on one connection. */
TEST_T(dns_oversized, 60)
{
    unsigned each = slow() > 1 ? 5 : 20;
    static const char *const big[] = {
        "127.0.0.1", "127.1.0.1", "127.1.0.2", "127.1.0.3", "127.1.0.4",
        "127.1.0.5", "127.1.0.6", "127.1.0.7", "127.1.0.8", "127.1.0.9",
        "127.1.0.10", "127.1.0.11", "127.1.0.12", "127.1.0.13",
        "127.1.0.14", "127.1.0.15",
    };
    static const char *const huge[] = {
        "127.0.0.1", "127.2.0.0", "127.2.0.1", "127.2.0.2", "127.2.0.3",
        "127.2.0.4", "127.2.0.5", "127.2.0.6", "127.2.0.7", "127.2.0.8",
        "127.2.0.9", "127.2.0.10", "127.2.0.11", "127.2.0.12",
        "127.2.0.13", "127.2.0.14",
    };
    struct lines l = { .n = 0 };
    char label[32];
    struct env e;
    struct res r;
    long rss0;
    size_t i;

    rss0 = maxrss_kib();
    res_init(&e, &r);
    e.cfg.dns_timeout_ms = 3000 * slow();
    e.cfg.timeout_ms = 2 * e.cfg.dns_timeout_ms;
    for (i = 0; i < 2 * each; i++) {
        snprintf(label, sizeof(label), "n%zu.%s", i / 2,
                 i % 2 ? "huge" : "big");
        add_line(&l, label, e.hport);
    }
    env_scan(&e, l.v, l.n);
    for (i = 0; i < l.n; i++) {
        struct rec *x = &e.recs[i];
        expect_fast(x, "127.0.0.1");
        check_list(x->addrs, x->n_addrs, i % 2 ? huge : big, 16);
    }
    /* every name over TCP: the AAAA of `huge` too (TC=1) */
    CHECK(r.tcp >= 3 * each);
    check_all_deadlines(&e);
    fprintf(stderr, "  peak RSS +%ld KiB for %u KiB of replies\n",
            maxrss_kib() - rss0, each * (64 + 16));
    CHECK(maxrss_kib() - rss0 < 32 * 1024);
    env_done(&e);
}

/* ---- spoofing (item 30) ---- */

/* A reply with the wrong ID, for the wrong question name, or from
 * another port is ignored: the right reply after it is used, and with
 * none the lookup times out (dns_timeout, by its deadline). */
TEST_T(dns_spoofed_replies, 20)
{
    static const char *const labels[] = {
        "badid", "wrongname", "spoof", "badid-only", "wrongname-only",
    };
    enum { N = sizeof(labels) / sizeof(labels[0]) };
    struct lines l = { .n = 0 };
    struct env e;
    struct res r;
    size_t i;

    res_init(&e, &r);
    for (i = 0; i < N; i++)
        add_line(&l, labels[i], e.hport);
    env_scan(&e, l.v, l.n);
    for (i = 0; i < 3; i++) {
        expect_fast(&e.recs[i], "127.0.0.1");
        check_list(e.recs[i].addrs, e.recs[i].n_addrs, lo1, 1);
    }
    for (i = 3; i < N; i++)
        expect_dns_timeout(&e.recs[i], 600);
    check_all_deadlines(&e);
    env_done(&e);
}

/* ---- malformed replies ---- */

/* An owner name that is a pointer to itself, or a label followed by a
 * pointer back to it (a.a.a...): the walk stops (pointers must point
 * backwards; a name is at most 255 bytes) and the reply is malformed,
 * dns_failed, quickly.  The query sent back as it came (QR=0, no
 * answers; also what a UDP socket that the kernel connected to itself
 * receives) is no answer either: dns_failed, and not kept in the cache
 * as a name without addresses (asked twice, sent twice). */
TEST_T(dns_malformed_replies, 20)
{
    struct lines l = { .n = 0 };
    struct env e;
    struct res r;
    size_t i;

    res_init(&e, &r);
    e.cfg.concurrency = 1;
    add_line(&l, "ptrloop", e.hport);
    add_line(&l, "ptrloop2", e.hport);
    add_line(&l, "echo", e.hport);
    add_line(&l, "echo", e.hport);
    env_scan(&e, l.v, l.n);
    for (i = 0; i < l.n; i++) {
        expect_dns_err(&e.recs[i], HSCAN_EDNS_FAILED,
                       "Misformatted DNS reply");
        CHECK(e.recs[i].dns_ms < 500);
    }
    CHECK_INT(e.stats.dns_cache_hits, 0);
    CHECK_INT(r.udp, 2 * l.n);
    check_all_deadlines(&e);
    env_done(&e);
}

/* A 0-byte datagram (CVE-2023-32067: c-ares before 1.19.1 took it for a
 * closed socket and dropped every query in flight on it) is ignored:
 * the reply after it is used, the other names in flight are not
 * disturbed, and with nothing after it the lookup times out. */
TEST_T(dns_empty_datagram, 20)
{
    struct lines l = { .n = 0 };
    char label[32];
    struct env e;
    struct res r;
    size_t i;

    res_init(&e, &r);
    add_line(&l, "empty", e.hport);
    add_line(&l, "empty-only", e.hport);
    for (i = 0; i < 10; i++) {
        snprintf(label, sizeof(label), "n%zu.fast", i);
        add_line(&l, label, e.hport);
    }
    env_scan(&e, l.v, l.n);
    expect_fast(&e.recs[0], "127.0.0.1");
    expect_dns_timeout(&e.recs[1], 600);
    for (i = 2; i < l.n; i++)
        expect_fast(&e.recs[i], "127.0.0.1");
    CHECK_INT(r.udp, 2 * l.n + 2);  /* the silent one asked twice each */
    check_all_deadlines(&e);
    env_done(&e);
}

/* ---- CNAME chains ---- */

/* 20 hops then an address: followed to the end, the first 16 hops kept
 * (docs/results.md: at most 16).  A loop (20 CNAMEs going round): no
 * address, dns_no_address, the first 16 hops recorded as seen. */
TEST_T(dns_cname_deep_and_loop, 20)
{
    static const char *const deep[] = {
        "h1.test", "h2.test", "h3.test", "h4.test", "h5.test", "h6.test",
        "h7.test", "h8.test", "h9.test", "h10.test", "h11.test",
        "h12.test", "h13.test", "h14.test", "h15.test", "h16.test",
    };
    const char *loop[16];
    struct lines l = { .n = 0 };
    struct env e;
    struct res r;
    size_t i;

    for (i = 0; i < 16; i++)
        loop[i] = i % 2 ? "cloop.test" : "l1.test";
    res_init(&e, &r);
    add_line(&l, "deep", e.hport);
    add_line(&l, "cloop", e.hport);
    env_scan(&e, l.v, l.n);
    expect_fast(&e.recs[0], "127.0.0.1");
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, lo1, 1);
    check_list(e.recs[0].cnames, e.recs[0].n_cnames, deep, 16);
    expect_dns_err(&e.recs[1], HSCAN_EDNS_NO_ADDRESS, "no A/AAAA record");
    check_list(e.recs[1].cnames, e.recs[1].n_cnames, loop, 16);
    CHECK(e.recs[1].dns_ms < 500);
    CHECK_INT(r.tcp, 0);                /* compressed: fits UDP */
    check_all_deadlines(&e);
    env_done(&e);
}

/* ---- odd addresses (item 32) ---- */

/* A network namespace of our own with only loopback up, so that a
 * connect to 169.254.169.254 fails here instead of leaving the machine.
 * The test runs in a forked child: the namespace dies with it.  Returns
 * 0, or -1 when namespaces are not allowed (then nothing changed). */
static int private_net(void)
{
    struct ifreq ifr;
    int fd, rc;

    if (unshare(CLONE_NEWNET) != 0 &&
        unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
        return -1;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    if (rc == 0)
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    close(fd);
    CHECK(rc == 0);
    return 0;
}

/* 0.0.0.0, ::ffff:127.0.0.1 and 169.254.169.254 are recorded as
 * answered; the connect goes where the kernel sends it (0.0.0.0 and the
 * mapped address reach the local server; the link-local address has no
 * route in the private namespace). */
TEST_T(dns_odd_addresses, 20)
{
    static const char *const zero[] = { "0.0.0.0" };
    static const char *const mapped[] = { "::ffff:127.0.0.1" };
    static const char *const meta[] = { "169.254.169.254" };
    struct lines l = { .n = 0 };
    struct env e;
    struct res r;
    int netns = private_net() == 0;

    if (!netns)
        fprintf(stderr, "  no network namespace (%s): 169.254.169.254 "
                "not tried\n", strerror(errno));
    res_init(&e, &r);
    add_line(&l, "zero", e.hport);
    add_line(&l, "mapped", e.hport);
    if (netns)
        add_line(&l, "meta", e.hport);
    env_scan(&e, l.v, l.n);
    expect_fast(&e.recs[0], "0.0.0.0");
    check_list(e.recs[0].addrs, e.recs[0].n_addrs, zero, 1);
    expect_fast(&e.recs[1], "::ffff:127.0.0.1");
    check_list(e.recs[1].addrs, e.recs[1].n_addrs, mapped, 1);
    if (netns) {
        EXPECT_ERR(&e.recs[2], HSCAN_ECONNECT_UNREACHABLE);
        check_no_response(&e.recs[2]);
        CHECK_STR(e.recs[2].ip, "169.254.169.254");
        check_list(e.recs[2].addrs, e.recs[2].n_addrs, meta, 1);
        CHECK(e.recs[2].total_ms < 500);    /* no route: at once */
    }
    check_all_deadlines(&e);
    env_done(&e);
}

/* ---- the resolver goes away mid-scan (issue 6, Faults) ---- */

enum { OUT_N = 36, OUT_RATE = 60, OUT_AFTER = 16, OUT_MS = 300 };

/* The outage starts once OUT_AFTER queries (names 0-7, A and AAAA) have
 * been answered, so it falls mid-scan however slowly the scan started
 * (valgrind), and lasts OUT_MS. */
static void on_up(uv_timer_t *t)
{
    struct res *r = t->data;

    r->q_up = tsrv_dns_queries(r->srv);
    if (r->close_it)
        CHECK(tsrv_dns_resume(r->srv) == 0);
    else
        tsrv_dns_set_silent(r->srv, 0);
}

static void on_check(uv_check_t *c)
{
    struct res *r = c->data;

    if (tsrv_dns_queries(r->srv) < OUT_AFTER)
        return;
    uv_check_stop(c);
    r->q_down = tsrv_dns_queries(r->srv);
    if (r->close_it)
        tsrv_dns_suspend(r->srv);
    else
        tsrv_dns_set_silent(r->srv, 1);
    CHECK(uv_timer_start(&r->t_up, on_up, OUT_MS * slow(), 0) == 0);
}

/* OUT_N names, sent in order at OUT_RATE queries a second (A and AAAA:
 * a name every 33 ms at most, ~1.2 s in all); lookups time out after
 * 300 ms, c-ares trying twice (at +0 and +100 ms).  (All four times
 * slower under valgrind.)  While the resolver
 * is away, names fail with `want`: a silent resolver gives dns_timeout
 * by the deadline to those whose two tries both fell in the outage; a
 * closed port is refused at once, dns_failed.  Names before and well
 * after resolve, each name gets exactly one record, the scan ends. */
static void outage(int close_it, int want)
{
    struct lines l = { .n = 0 };
    char label[32], seen[OUT_N + 1];
    size_t i, first = OUT_N, last = 0, n_err = 0;
    struct env e;
    struct res r;
    uint64_t t0;

    res_init_at(&e, &r, close_it);
    r.close_it = close_it;
    e.cfg.dns_timeout_ms = 300 * slow();
    e.cfg.dns_rate = OUT_RATE / slow();
    e.cfg.timeout_ms = 5000 * slow();
    for (i = 0; i < OUT_N; i++) {
        snprintf(label, sizeof(label), "o%zu.fast", i);
        add_line(&l, label, e.hport);
    }
    CHECK(uv_check_init(&e.loop, &r.check) == 0);
    CHECK(uv_timer_init(&e.loop, &r.t_up) == 0);
    r.handles = 1;
    r.check.data = r.t_up.data = &r;
    CHECK(uv_check_start(&r.check, on_check) == 0);
    t0 = uv_hrtime();
    env_scan(&e, l.v, l.n);
    for (i = 0; i < l.n; i++) {
        struct rec *x = &e.recs[i];
        seen[i] = x->error ? 'x' : '.';
        if (x->error == 0) {
            expect_fast(x, "127.0.0.1");
            continue;
        }
        expect_dns_err(x, want, NULL);
        if (want == HSCAN_EDNS_TIMEOUT)
            expect_dns_timeout(x, 300 * slow());
        first = i < first ? i : first;
        last = i;
        n_err++;
    }
    seen[OUT_N] = '\0';
    fprintf(stderr, "  %s: %zu failed, %.0f ms\n", seen, n_err,
            ms_since(t0));
    /* one outage: the failures are one run of names, after the first
     * few (16 queries are names 0-7, or fewer with retransmissions),
     * over well before the end (300 ms is ten names at most) */
    CHECK(n_err >= 2);
    CHECK(first >= 4);
    CHECK_INT(last - first + 1, n_err);
    CHECK(last < 24);
    /* Silent: each failed name lost four queries (A and AAAA, twice);
     * more were lost, so some names sent in the outage came through on
     * c-ares's second try. */
    if (!close_it)
        CHECK(r.q_up - r.q_down > 4 * n_err);
    CHECK(ms_since(t0) < 4000.0 * slow());
    check_all_deadlines(&e);
    env_done(&e);
}

TEST_T(dns_resolver_silent_midscan, 30)
{
    outage(0, HSCAN_EDNS_TIMEOUT);
}

TEST_T(dns_resolver_closed_midscan, 30)
{
    outage(1, HSCAN_EDNS_FAILED);
}

/* ---- a slow resolver ---- */

/* Every answer 300 ms late, 120 names in flight at once: all resolve
 * (c-ares waits 500 ms before its second try, so nothing is asked
 * twice), each lookup takes the 300 ms, and the scan takes about that
 * long, not 120 times it. */
TEST_T(dns_slow_resolver, 30)
{
    enum { N = 120, DELAY = 300 };
    struct lines l = { .n = 0 };
    char label[32];
    struct env e;
    struct res r;
    uint64_t t0;
    double took;
    size_t i;

    res_init(&e, &r);
    tsrv_dns_set_delay(r.srv, DELAY);
    e.cfg.dns_timeout_ms = 1500 * slow();
    e.cfg.timeout_ms = 5000 * slow();
    for (i = 0; i < N; i++) {
        snprintf(label, sizeof(label), "s%zu.fast", i);
        add_line(&l, label, e.hport);
    }
    t0 = uv_hrtime();
    env_scan(&e, l.v, l.n);
    took = ms_since(t0);
    for (i = 0; i < l.n; i++) {
        struct rec *x = &e.recs[i];
        expect_fast(x, "127.0.0.1");
        if (x->dns_ms < DELAY - 5 ||
            x->dns_ms >= (double)e.cfg.dns_timeout_ms)
            show(x);
        CHECK(x->dns_ms >= DELAY - 5);
        CHECK(x->dns_ms < (double)e.cfg.dns_timeout_ms);
    }
    fprintf(stderr, "  %d names in %.0f ms\n", N, took);
    CHECK_INT(r.udp, 2 * N);            /* no retransmission */
    CHECK_INT(e.stats.dns_lookups, N);
    CHECK(took < N * DELAY / 4);        /* in parallel, not in turn */
    check_all_deadlines(&e);
    env_done(&e);
}
