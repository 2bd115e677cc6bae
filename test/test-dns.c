/* The resolver (lib/dns.c) driven directly on a uv loop against the
 * in-suite DNS server: no callback runs inside hscan__dns_resolve().  A
 * cache hit, a lookup shared with one on its way, one shared with a
 * lookup whose callers are being told, "localhost" and a local failure
 * all return a query whose callback has not run yet, and runs exactly
 * once on a later loop turn; a query detached while its answer waits is
 * never told; closing the channel with answers waiting frees them
 * without a call (ASan, valgrind).
 *
 * Each loop turn here is one uv_run(UV_RUN_ONCE), so "a later turn" is
 * counted, not guessed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "dns.h"
#include "hscan.h"
#include "server-dns.h"
#include "test-runner.h"

struct fx {
    uv_loop_t loop;
    struct tsrv_dns *srv;
    struct hscan__dns *d;
    uv_timer_t deadline;        /* wakes a blocked turn to fail it */
    int expired, closed;
    unsigned long turns;        /* loop turns begun (uv_run() calls) */
};

/* What one query's callback saw. */
struct got {
    struct fx *fx;
    int calls;
    int err;
    unsigned n_addrs;
    struct hscan__addr a0;
    unsigned long turn;         /* fx->turns when it ran */
    void (*then)(struct got *g);    /* runs inside the callback */
    struct got *other;          /* for `then` */
    struct hscan__dnsq *other_q;
};

static unsigned slow(void)
{
    return getenv("HSCAN_UNDER_VALGRIND") ? 10 : 1;
}

static void on_deadline(uv_timer_t *t)
{
    struct fx *fx = t->data;

    fx->expired = 1;
}

static void fx_init(struct fx *fx, unsigned cache_max)
{
    struct hscan__dns_opts o;
    char res[64], detail[128];

    memset(fx, 0, sizeof(*fx));
    CHECK(uv_loop_init(&fx->loop) == 0);
    CHECK(tsrv_dns_start(&fx->loop, "127.0.0.1", 0, &fx->srv) == 0);
    snprintf(res, sizeof(res), "127.0.0.1:%d", tsrv_dns_port(fx->srv));
    memset(&o, 0, sizeof(o));
    o.resolvers = res;
    o.timeout_ms = 3000 * slow();
    o.cache_max = cache_max;
    CHECK(hscan__dns_new(&fx->d, &fx->loop, &o, detail,
                         sizeof(detail)) == 0);
    uv_timer_init(&fx->loop, &fx->deadline);
    fx->deadline.data = fx;
    uv_timer_start(&fx->deadline, on_deadline, 10000 * slow(), 0);
}

static void turn(struct fx *fx)
{
    CHECK(!fx->expired);
    fx->turns++;
    uv_run(&fx->loop, UV_RUN_ONCE);
}

/* Loop turns until `*flag` reaches `n`. */
static void run_until(struct fx *fx, const int *flag, int n)
{
    while (*flag < n)
        turn(fx);
}

static void on_dns_closed(void *arg)
{
    struct fx *fx = arg;

    fx->closed = 1;
}

static void fx_done(struct fx *fx)
{
    if (fx->d) {
        hscan__dns_close(fx->d, on_dns_closed, fx);
        fx->d = NULL;
        run_until(fx, &fx->closed, 1);
    }
    tsrv_dns_stop(fx->srv);
    uv_close((uv_handle_t *)&fx->deadline, NULL);
    CHECK(uv_run(&fx->loop, UV_RUN_DEFAULT) == 0);
    CHECK_INT(uv_loop_close(&fx->loop), 0);
}

static void on_answer(void *ctx, int err, const char *detail,
                      struct hscan__dns_answer *ans)
{
    struct got *g = ctx;

    CHECK(err == 0 ? detail == NULL : detail != NULL);
    g->calls++;
    g->err = err;
    g->n_addrs = ans->n_addrs;
    if (ans->n_addrs)
        g->a0 = ans->addrs[0];
    g->turn = g->fx->turns;
    free(ans->cnames);
    if (g->then)
        g->then(g);
}

static struct hscan__dnsq *ask(struct fx *fx, struct got *g,
                               const char *name, int family)
{
    struct hscan__dnsq *q;

    g->fx = fx;
    q = hscan__dns_resolve(fx->d, name, family, on_answer, g);
    CHECK(q != NULL);
    CHECK_INT(g->calls, 0);     /* never from inside resolve */
    return q;
}

static void check_v4(const struct got *g, uint8_t last)
{
    static const uint8_t lo[3] = { 127, 0, 0 };

    CHECK_INT(g->err, 0);
    CHECK(g->n_addrs >= 1);
    CHECK_INT(g->a0.family, 4);
    CHECK(memcmp(g->a0.bytes, lo, 3) == 0);
    CHECK_INT(g->a0.bytes[3], last);
}

/* A few more turns, without waiting for anything, change nothing:
 * each callback ran once. */
static void settle(struct fx *fx)
{
    int i;

    for (i = 0; i < 3; i++) {
        fx->turns++;
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    }
}

static struct hscan__dns_stats stats(const struct fx *fx)
{
    struct hscan__dns_stats st;

    hscan__dns_stats(fx->d, &st);
    return st;
}

TEST(dns_cache_hit_told_on_a_later_turn)
{
    struct fx fx;
    struct got g1, g2;
    unsigned long at;

    memset(&g1, 0, sizeof(g1));
    memset(&g2, 0, sizeof(g2));
    fx_init(&fx, 16);
    ask(&fx, &g1, "h1.fast.test", 4);
    run_until(&fx, &g1.calls, 1);
    check_v4(&g1, 1);

    at = fx.turns;
    ask(&fx, &g2, "H1.fast.test.", 4);  /* same name, from the cache */
    CHECK_INT(stats(&fx).cache_hits, 1);
    turn(&fx);
    CHECK_INT(g2.calls, 1);             /* on the very next turn */
    CHECK(g2.turn > at);
    check_v4(&g2, 1);
    settle(&fx);
    CHECK_INT(g1.calls, 1);
    CHECK_INT(g2.calls, 1);
    CHECK_INT(stats(&fx).lookups, 1);
    CHECK_INT(tsrv_dns_queries(fx.srv), 1);
    fx_done(&fx);
}

TEST(dns_shared_lookup_told_once_each)
{
    struct fx fx;
    struct got g1, g2;

    memset(&g1, 0, sizeof(g1));
    memset(&g2, 0, sizeof(g2));
    fx_init(&fx, 16);
    ask(&fx, &g1, "ip-127-0-0-7.fast.test", 4);
    ask(&fx, &g2, "ip-127-0-0-7.fast.test", 4);
    CHECK_INT(stats(&fx).coalesced, 1);
    run_until(&fx, &g2.calls, 1);
    CHECK_INT(g1.calls, 1);
    check_v4(&g1, 7);
    check_v4(&g2, 7);
    settle(&fx);
    CHECK_INT(g1.calls, 1);
    CHECK_INT(g2.calls, 1);
    CHECK_INT(tsrv_dns_queries(fx.srv), 1);
    fx_done(&fx);
}

/* From inside the first callback: ask for the same name again, whose
 * lookup is finished but still telling its callers. */
static void ask_again(struct got *g)
{
    ask(g->fx, g->other, "again.nx.test", 0);
}

/* cache_max 0: a failure that is never kept, so the answer asked for
 * from inside the callback outlives its lookup's entry (`gone`). */
TEST(dns_finished_lookup_shared_from_its_callback)
{
    struct fx fx;
    struct got g1, g2;
    unsigned long at;

    memset(&g1, 0, sizeof(g1));
    memset(&g2, 0, sizeof(g2));
    fx_init(&fx, 0);
    g1.then = ask_again;
    g1.other = &g2;
    ask(&fx, &g1, "again.nx.test", 0);
    run_until(&fx, &g1.calls, 1);
    at = fx.turns;
    CHECK_INT(g1.err, HSCAN_EDNS_NXDOMAIN);
    CHECK_INT(g2.calls, 0);
    turn(&fx);
    CHECK_INT(g2.calls, 1);
    CHECK(g2.turn > at);
    CHECK_INT(g2.err, HSCAN_EDNS_NXDOMAIN);
    CHECK_INT(stats(&fx).cache_hits, 1);
    settle(&fx);
    CHECK_INT(g1.calls, 1);
    CHECK_INT(g2.calls, 1);
    CHECK_INT(stats(&fx).lookups, 1);
    fx_done(&fx);
}

TEST(dns_local_answers_told_on_a_later_turn)
{
    struct fx fx;
    struct got gl, gf;
    char name[128];

    memset(&gl, 0, sizeof(gl));
    memset(&gf, 0, sizeof(gf));
    fx_init(&fx, 16);
    /* A 64-byte label (RFC 1035 2.3.4: 63 at most): c-ares refuses the
     * query before anything is sent. */
    memset(name, 'a', 64);
    strcpy(name + 64, ".fast.test");
    ask(&fx, &gf, name, 4);
    ask(&fx, &gl, "localhost", 4);
    turn(&fx);
    CHECK_INT(gf.calls, 1);
    CHECK_INT(gf.err, HSCAN_EDNS_FAILED);
    CHECK_INT(gl.calls, 1);
    check_v4(&gl, 1);
    CHECK_INT(gl.n_addrs, 1);
    settle(&fx);
    CHECK_INT(gf.calls, 1);
    CHECK_INT(gl.calls, 1);
    CHECK_INT(tsrv_dns_queries(fx.srv), 0);
    fx_done(&fx);
}

static void detach_other(struct got *g)
{
    hscan__dns_detach(g->other_q);
}

TEST(dns_detached_ready_answer_never_told)
{
    struct fx fx;
    struct got g1, g2, g3, g4, gl;
    struct hscan__dnsq *q;

    memset(&g1, 0, sizeof(g1));
    memset(&g2, 0, sizeof(g2));
    memset(&g3, 0, sizeof(g3));
    memset(&g4, 0, sizeof(g4));
    memset(&gl, 0, sizeof(gl));
    fx_init(&fx, 16);
    ask(&fx, &g1, "h2.fast.test", 4);
    run_until(&fx, &g1.calls, 1);

    /* Detached before the turn that would tell it. */
    hscan__dns_detach(ask(&fx, &g2, "h2.fast.test", 4));
    hscan__dns_detach(ask(&fx, &gl, "localhost", 0));
    /* Detached by the callback told just before it, on that turn. */
    g3.then = detach_other;
    ask(&fx, &g3, "h2.fast.test", 4);
    q = ask(&fx, &g4, "h2.fast.test", 4);
    g3.other_q = q;
    CHECK_INT(stats(&fx).cache_hits, 3);
    turn(&fx);
    CHECK_INT(g3.calls, 1);
    settle(&fx);
    CHECK_INT(g2.calls, 0);
    CHECK_INT(gl.calls, 0);
    CHECK_INT(g4.calls, 0);
    CHECK_INT(g3.calls, 1);
    fx_done(&fx);
}

TEST(dns_close_with_answers_waiting)
{
    struct fx fx;
    struct got g1, g2, gl, gd, gq;

    memset(&g1, 0, sizeof(g1));
    memset(&g2, 0, sizeof(g2));
    memset(&gl, 0, sizeof(gl));
    memset(&gd, 0, sizeof(gd));
    memset(&gq, 0, sizeof(gq));
    fx_init(&fx, 16);
    ask(&fx, &gd, "x.drop.test", 4);    /* sent, never answered */
    ask(&fx, &g1, "h3.fast.test", 4);
    run_until(&fx, &g1.calls, 1);
    CHECK(tsrv_dns_queries(fx.srv) >= 2);

    ask(&fx, &g2, "h3.fast.test", 4);   /* answered, not told */
    ask(&fx, &gl, "localhost", 0);      /* answered, held alone */
    ask(&fx, &gq, "h4.fast.test", 4);   /* queued, not sent */
    hscan__dns_close(fx.d, on_dns_closed, &fx);
    fx.d = NULL;
    run_until(&fx, &fx.closed, 1);
    settle(&fx);
    CHECK_INT(g1.calls, 1);
    CHECK_INT(g2.calls, 0);
    CHECK_INT(gl.calls, 0);
    CHECK_INT(gd.calls, 0);
    CHECK_INT(gq.calls, 0);
    fx_done(&fx);
}
