/* test-faults.c: faults around the scanner rather than in the servers.
 *
 * - hscan_close() with 10,000 targets in flight gives exactly 10,000
 *   canceled records, then uv_loop_close() returns 0.  The servers run
 *   in a separate process (hscan-testd, path in $HSCAN_TESTD): 10,000
 *   held connections need 10,000 descriptors on each side.
 * - Re-entrancy: hscan_submit() and hscan_feed() from inside the result
 *   callback (the calls the header allows there; hscan_close() from
 *   there is test-api-close.c's api_close_inside_result).
 * - A result callback that blocks: nothing queues up behind it, memory
 *   stays flat, every target still gets exactly one record.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "api-env.h"
#include "hscan.h"
#include "test-runner.h"
#include "testd-proc.h"

/* ---- hscan-testd in a child process ---- */

static void testd_start(struct testd_proc *d)
{
    static const char *const args[] = { "--lifetime", "120", NULL };
    const char *path = getenv("HSCAN_TESTD");

    CHECK(path != NULL);
    CHECK(testd_proc_start(d, path, args) == 0);
}

static void raise_nofile(void)
{
    struct rlimit rl;

    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = rl.rlim_max;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
}

/* ---- close with 10,000 in flight ---- */

enum { BIG = 10000 };

struct big {
    uv_loop_t loop;
    uv_timer_t t;
    hscan_t *scan;
    unsigned char seen[BIG];
    unsigned results, canceled, other, closed, in_flight_at_close;
    unsigned next;
    char line[64];
    int port;
    uint64_t t_close;
    double close_ms;
};

static int big_next(hscan_t *scan, void *arg, const char **line,
                    size_t *len, void **udata)
{
    struct big *b = arg;
    int n;

    (void)scan;
    if (b->next == BIG)
        return HSCAN_NEXT_END;
    n = snprintf(b->line, sizeof(b->line), "h%u.hang.test:%d", b->next,
                 b->port);
    *line = b->line;
    *len = (size_t)n;
    *udata = (void *)(uintptr_t)(b->next + 1);
    b->next++;
    return HSCAN_NEXT_TARGET;
}

static void big_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct big *b = arg;
    uintptr_t i = (uintptr_t)r->udata;

    (void)scan;
    CHECK(i >= 1 && i <= BIG);
    b->seen[i - 1]++;
    b->results++;
    if (r->error == HSCAN_ECANCELED)
        b->canceled++;
    else
        b->other++;
}

static void big_closed(hscan_t *scan, void *arg)
{
    struct big *b = arg;

    (void)scan;
    b->closed++;
    b->close_ms = (double)(uv_hrtime() - b->t_close) / 1e6;
}

static void big_tick(uv_timer_t *t)
{
    struct big *b = t->data;
    hscan_stats_t st;

    CHECK(hscan_stats(b->scan, &st) == 0);
    if (st.in_flight < BIG)
        return;
    b->in_flight_at_close = st.in_flight;
    b->t_close = uv_hrtime();
    CHECK(hscan_close(b->scan, big_closed) == 0);
    uv_close((uv_handle_t *)t, NULL);
}

static void walk_count(uv_handle_t *h, void *arg)
{
    (void)h;
    (*(unsigned *)arg)++;
}

TEST_T(faults_close_10000_in_flight, 120)
{
    static struct big b;
    hscan_config_t cfg;
    struct testd_proc d;
    unsigned i, handles = 0;

    raise_nofile();
    testd_start(&d);
    memset(&b, 0, sizeof(b));
    b.port = atoi(d.http_port);
    CHECK(uv_loop_init(&b.loop) == 0);
    hscan_config_init(&cfg);
    cfg.concurrency = BIG;
    cfg.scheme = HSCAN_SCHEME_HTTP;
    cfg.resolvers = d.dns;
    cfg.timeout_ms = cfg.read_timeout_ms = 60000;
    cfg.next_target = big_next;
    cfg.on_result = big_result;
    cfg.arg = &b;
    CHECK(hscan_new(&b.scan, &b.loop, &cfg) == 0);
    CHECK(uv_timer_init(&b.loop, &b.t) == 0);
    b.t.data = &b;
    CHECK(uv_timer_start(&b.t, big_tick, 50, 20) == 0);
    CHECK(uv_run(&b.loop, UV_RUN_DEFAULT) == 0);
    CHECK_INT(b.closed, 1);
    CHECK_INT(b.in_flight_at_close, BIG);
    CHECK_INT(b.results, BIG);
    CHECK_INT(b.canceled, BIG);
    CHECK_INT(b.other, 0);
    for (i = 0; i < BIG; i++)
        CHECK_INT(b.seen[i], 1);
    uv_walk(&b.loop, walk_count, &handles);
    CHECK_INT(handles, 0);
    CHECK_INT(uv_loop_close(&b.loop), 0);
    fprintf(stderr, "  10000 canceled, close took %.1f ms\n", b.close_ms);
    testd_proc_stop(&d);
}

/* ---- submit and feed from inside the result callback ---- */

struct chain {
    struct ctx c;
    unsigned submitted, inside_results, depth, max_depth;
    int pulls_later;
};

enum { CHAIN = 200 };

/* Each result submits the next target until CHAIN have gone; the new
 * target's result must come later, never from inside hscan_submit(). */
static void chain_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct chain *x = arg;

    x->depth++;
    if (x->depth > x->max_depth)
        x->max_depth = x->depth;
    note(&x->c, r);
    CHECK_INT(r->status, 200);
    if (x->submitted < CHAIN) {
        char line[64];
        snprintf(line, sizeof(line), "n%u.fast.test:%d", x->submitted,
                 x->c.hport);
        CHECK(submit(&x->c, line, x->submitted) == 0);
        x->submitted++;
        CHECK(hscan_feed(scan) == 0);
        if (x->submitted == CHAIN)
            CHECK(hscan_end_input(scan) == 0);
    }
    x->depth--;
}

TEST_T(faults_submit_inside_result, 30)
{
    struct chain x;
    char line[64];

    memset(&x, 0, sizeof(x));
    ctx_init(&x.c, CHAIN);
    x.c.cfg.arg = &x;
    x.c.cfg.on_result = chain_result;
    x.c.cfg.on_drained = drained_close;
    CHECK(new_scan(&x.c) == 0);
    snprintf(line, sizeof(line), "first.fast.test:%d", x.c.hport);
    CHECK(submit(&x.c, line, 0) == 0);
    x.submitted = 1;
    ctx_run(&x.c);
    check_once(&x.c);
    CHECK_INT(x.c.results, CHAIN);
    CHECK_INT(x.max_depth, 1);      /* no result inside another */
    CHECK_INT(x.c.nested, 0);
    CHECK_INT(x.c.drained, 1);
    ctx_free(&x.c);
}

/* ---- a result callback that blocks ---- */

struct slow {
    struct ctx c;
    long rss0, rss_max;
};

static long rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void slow_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct slow *x = arg;
    struct timespec ts = { 0, 5 * 1000000 };

    (void)scan;
    note(&x->c, r);
    nanosleep(&ts, NULL);           /* a consumer that blocks */
}

/* 2,000 targets, 500 at a time, each result blocking 5 ms (10 s of
 * blocking in all): memory stays flat because the library holds no queue
 * of results: a finished probe waits in its slot for the callback.
 * (A blocking callback stalls the whole loop, so deadlines keep running
 * while it blocks: docs/api.md says to keep callbacks short.) */
TEST_T(faults_blocking_result_callback, 60)
{
    static struct slow x;
    char line[64];
    unsigned i;

    memset(&x, 0, sizeof(x));
    ctx_init(&x.c, 2000);
    x.c.cfg.arg = &x;
    x.c.cfg.concurrency = 500;
    x.c.cfg.on_result = slow_result;
    x.c.cfg.on_drained = drained_close;
    /* the blocked loop stalls the in-process servers too: no deadline
     * may run out while it does */
    x.c.cfg.timeout_ms = x.c.cfg.read_timeout_ms = 60000;
    x.c.cfg.dns_timeout_ms = x.c.cfg.connect_timeout_ms = 60000;
    CHECK(new_scan(&x.c) == 0);
    for (i = 0; i < 2000; i++) {
        snprintf(line, sizeof(line), "s%u.fast.test:%d", i, x.c.hport);
        CHECK(submit(&x.c, line, i) == 0);
    }
    CHECK(hscan_end_input(x.c.scan) == 0);
    x.rss0 = rss_kib();
    ctx_run(&x.c);
    check_once(&x.c);
    for (i = 0; i < 2000; i++) {
        if (x.c.status[i] != 200)
            fprintf(stderr, "  target %u: %s\n", i,
                    hscan_err_name(x.c.err[i]));
        CHECK_INT(x.c.status[i], 200);
    }
    fprintf(stderr, "  peak RSS grew %ld KiB over the scan\n",
            rss_kib() - x.rss0);
    /* 500 slots of a few KiB each, and the servers' buffers */
    CHECK(rss_kib() - x.rss0 < 32 * 1024);
    ctx_free(&x.c);
}
