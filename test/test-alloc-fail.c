/* Allocation-failure sweep (reliability checklist item 15; curl's
 * torture runs, c-ares's SetAllocFail): one small scan is run again and
 * again, each time in a fresh child process in which the Nth allocation
 * fails, for N over the whole scan.  Every scan must end without a crash
 * or a hang, give every target exactly one record with valid JSON,
 * close its loop (uv_loop_close() == 0) and free everything.
 *
 * Every allocation of the scan goes through a counter here:
 * - libhscan's own malloc/calloc/realloc/strdup/free: this program links
 *   the static internal library with -Wl,--wrap for those symbols, so
 *   only calls from objects of this link (the library's) reach __wrap_*;
 * - libuv through uv_replace_allocator(), c-ares through
 *   ares_library_init_mem(), OpenSSL through CRYPTO_set_mem_functions()
 *   (first thing in main: it is refused after OpenSSL's first
 *   allocation).
 * The servers (hscan-testd) run in another process, so every allocation
 * counted is the scanner's.
 *
 * A parent process runs the scan twice without failures (the first
 * warms OpenSSL's lazily built global tables, which a fresh child would
 * otherwise count as leaks), takes the allocation count M of the second,
 * then forks one child per N.  N = 1..PREFIX, then an even spread over
 * the rest, ALLOC_BUDGET children in all; HSCAN_ALLOC_FULL=1 runs every
 * N up to M, HSCAN_ALLOC_N=k only k (printing its records and where
 * each block it left was made), HSCAN_ALLOC_N=k-l that range, and
 * HSCAN_ALLOC_FROM=1 makes every allocation from the Nth on fail
 * (cleanup paths then get no memory either; by default a tenth of the
 * budget is run that way after the main sweep).
 *
 * Leaks: a table of the live blocks of each allocator; after each scan
 * the blocks of libhscan, libuv and c-ares must all be gone.  OpenSSL
 * fills global caches lazily (method stores, the per-thread error
 * queue), also on error paths the warm-up never took, so its count is
 * taken after OPENSSL_cleanup() at the end of each child and must equal
 * that of a child that scanned without failures.  In a build with
 * LeakSanitizer the child also runs a leak check.
 *
 * One exclusion, narrow: libuv 1.44 grows its fd-indexed watcher array
 * with uv__reallocf() and abort()s when that fails (src/unix/core.c,
 * maybe_resize(), called from uv__io_start()).  Each child grows the
 * array once before the counter is armed, by watching a descriptor
 * numbered far above what the scan uses, so that abort() is never
 * reached; libuv's other allocations stay in the sweep.  And one
 * allowance: OpenSSL 3.0 does not report every allocation that fails
 * inside it as such (see openssl_says_otherwise()).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "alloc-count.h"
#include "hscan.h"
#include "scan-env.h"            /* json_valid() */
#include "testd-proc.h"
#include "tls.h"                /* hscan__trust_flush() */

#define PREFIX 300              /* every N up to this */
#define ALLOC_BUDGET 700        /* children in the default sweep */
#define SANITIZER_BUDGET 300    /* about 0.3 s each under ASan */
#define VALGRIND_BUDGET 25
#define CHILD_SECONDS 30
#define WATCH_FD 512            /* presized libuv watcher array */

/* scan-env.c's CHECKs report here (only json_valid() is used). */
void test_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
    exit(1);
}

/* ---- the servers: hscan-testd in its own process ---- */

static struct testd_proc srv;

/* ---- the small scan ---- */

/* What each line gives without failures.  Together they take every
 * allocating path: DNS (shared and cached lookups, a CNAME chain,
 * NXDOMAIN), plain HTTP, TLS with a verified name and a verified
 * address, a certificate that fails, the https-first fallback,
 * redirects, a refused connect and an invalid line. */
enum { P_NONE, P_HTTP, P_HTTPS };
#define TLS_FIRST 3             /* the line without a scheme: TLS first */

static const struct target {
    const char *fmt;            /* "%s" is the port */
    int port;
    int err;
    int status;
} targets[] = {
    { "http://fast.test:%s/", P_HTTP, 0, 200 },
    { "https://valid.test:%s/", P_HTTPS, 0, 200 },
    { "https://wrongname.test:%s/", P_HTTPS, HSCAN_ETLS_CERT_INVALID, 0 },
    { "127.0.0.1:%s", P_HTTP, 0, 200 },   /* https-first: plain text */
    { "http://x1.fast.test:%s/chain-2", P_HTTP, 0, 200 },
    { "http://cname.test:%s/", P_HTTP, 0, 200 },
    { "http://nx.test:%s/", P_HTTP, HSCAN_EDNS_NXDOMAIN, 0 },
    { "http://[::1", P_NONE, HSCAN_EINVALID_TARGET, 0 },
    { "http://127.0.0.1:1/", P_NONE, HSCAN_ECONNECT_REFUSED, 0 },
    { "https://127.0.0.1:%s/b/many-40", P_HTTPS, 0, 200 },
    { "https://127.0.0.2:%s/", P_HTTPS, HSCAN_ETLS_CERT_INVALID, 0 },
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

static char lines[N_TARGETS][128];

/* One child's findings, sent whole through a pipe to the parent. */
struct outcome {
    long n;                     /* failing request, 0: none */
    int fired;                  /* hook of the failure, -1: not reached */
    long total;                 /* requests the scan made */
    int new_rc;
    int count[N_TARGETS];
    int err[N_TARGETS];
    int status[N_TARGETS];
    char detail[N_TARGETS][48];
    long leaked[N_HOOKS];       /* blocks left, by allocator */
    int lsan;                   /* LeakSanitizer found leaks */
    double ms;
    char problem[200];          /* "" when all checks passed */
};

static struct {
    uv_loop_t loop;
    hscan_t *scan;
    unsigned next;
    int closed;
    int verbose;
    struct outcome *o;
    char json[65536];
    int have_base;              /* base[] holds the baseline records */
    char base[N_TARGETS][16384];
} run;

/* `json` with every number outside strings replaced by 0: what must
 * not change from one scan to the next (timings do). */
static void canonical(const char *json, char *out, size_t size)
{
    size_t n = 0;
    int in_str = 0;

    for (; *json && n + 2 < size; json++) {
        if (in_str) {
            out[n++] = *json;
            if (*json == '\\' && json[1])
                out[n++] = *++json;
            else if (*json == '"')
                in_str = 0;
        } else if (strchr("-0123456789", *json)) {
            out[n++] = '0';
            while (json[1] && strchr("-+.0123456789eE", json[1]))
                json++;
        } else {
            in_str = *json == '"';
            out[n++] = *json;
        }
    }
    out[n] = '\0';
}

static int next_line(hscan_t *scan, void *arg, const char **line,
                     size_t *len, void **udata)
{
    unsigned i = run.next;

    (void)scan;
    (void)arg;
    if (i >= N_TARGETS)
        return HSCAN_NEXT_END;
    run.next++;
    *line = lines[i];
    *len = strlen(lines[i]);
    *udata = (void *)(uintptr_t)(i + 1);
    return HSCAN_NEXT_TARGET;
}

static void problem(struct outcome *o, const char *what, long i)
{
    if (!o->problem[0])
        snprintf(o->problem, sizeof(o->problem), "%s (target %ld: %s)", what,
                 i, i >= 0 && i < (long)N_TARGETS ? lines[i] : "-");
}

static int uses_tls(size_t i)
{
    return targets[i].port == P_HTTPS || i == TLS_FIRST;
}

/* OpenSSL 3.0 does not report every allocation that fails inside it as
 * such: a handshake ends with an internal error or an alert, a chain
 * check names a verify error ("EE certificate key too weak" when a key
 * size could not be computed), a trust anchor whose key could not be
 * decoded while the store was loaded stays in it without one ("unable
 * to get local issuer certificate" for the scanner's life), and
 * SSL_CTX_new() drops a signature algorithm it could not set up (every
 * handshake then fails).  So after a failure inside OpenSSL the records
 * of TLS targets may carry any TLS-phase error, and their details and
 * facts may differ; everything else stays checked. */
static int openssl_says_otherwise(size_t i)
{
    return acount.fired == H_SSL && uses_tls(i);
}

/* A record that says what the baseline said must say all of it: memory
 * that ran out must not leave a silent hole (a CNAME, a TLS fact, a
 * redirect hop missing). */
static void same_as_base(struct outcome *o, size_t i)
{
    static char c[sizeof(run.base[0])];

    if (o->err[i] != targets[i].err || o->status[i] != targets[i].status ||
        (run.have_base && openssl_says_otherwise(i)))
        return;
    canonical(run.json, c, sizeof(c));
    if (!run.have_base)
        memcpy(run.base[i], c, sizeof(c));
    else if (strcmp(c, run.base[i]) != 0) {
        problem(o, "record differs from the baseline", (long)i);
        if (run.verbose)
            printf("  baseline %s\n  now      %s\n", run.base[i], c);
    }
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    size_t i = (size_t)(uintptr_t)r->udata - 1, n;
    struct outcome *o = run.o;

    (void)scan;
    (void)arg;
    if (i >= N_TARGETS) {
        problem(o, "record with an unknown udata", -1);
        return;
    }
    o->count[i]++;
    o->err[i] = r->error;
    o->status[i] = r->status;
    snprintf(o->detail[i], sizeof(o->detail[i]), "%s",
             r->error_detail ? r->error_detail : "");
    n = hscan_result_to_json(r, run.json, sizeof(run.json));
    if (n >= sizeof(run.json) || !json_valid(run.json))
        problem(o, "invalid JSON record", (long)i);
    if (run.verbose)
        printf("  %s\n", run.json);
    same_as_base(o, i);
}

static void on_closed(hscan_t *scan, void *arg)
{
    (void)scan;
    (void)arg;
    run.closed = 1;
}

static void on_drained(hscan_t *scan, void *arg)
{
    (void)arg;
    hscan_close(scan, on_closed);
}

/* Timeouts and the child's alarm are stretched this much under
 * valgrind. */
static unsigned slow(void)
{
    return getenv("HSCAN_UNDER_VALGRIND") ? 10 : 1;
}

static void config(hscan_config_t *cfg, char *resolvers)
{
    /* matching none of the targets: the sweep reaches the exclusion
     * list's allocations in hscan_new() and its checks on every hop */
    static const char *const exclude[] = { "192.0.2.0/24", "fd00::/8",
                                           "::ffff:198.51.100.0/120",
                                           "never.invalid" };

    hscan_config_init(cfg);
    cfg->exclude = exclude;
    cfg->n_exclude = 4;
    cfg->concurrency = 4;
    cfg->timeout_ms = 6000 * slow();
    cfg->dns_timeout_ms = 2000 * slow();
    cfg->connect_timeout_ms = 2000 * slow();
    cfg->read_timeout_ms = 2000 * slow();
    cfg->tls_timeout_ms = 2000 * slow();
    cfg->follow = 3;
    cfg->resolvers = resolvers;
    cfg->ca_file = srv.ca;
    cfg->next_target = next_line;
    cfg->on_result = on_result;
    cfg->on_drained = on_drained;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)status;
    (void)events;
}

/* Grow libuv's watcher array past every descriptor the scan will use,
 * before the counter is armed (see the top of this file). */
static void presize_watchers(uv_loop_t *loop)
{
    uv_poll_t poll;
    int fds[2], hi;

    if (pipe(fds) != 0 || (hi = fcntl(fds[0], F_DUPFD, WATCH_FD)) < 0) {
        perror("alloc-fail: presize");
        exit(1);
    }
    uv_poll_init(loop, &poll, hi);
    uv_poll_start(&poll, UV_READABLE, on_poll);
    uv_close((uv_handle_t *)&poll, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    close(hi);
    close(fds[0]);
    close(fds[1]);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One scan with request `n` failing (0: none); fills `o`. */
static void scan_once(struct outcome *o, long n, int from_on)
{
    char resolvers[64];
    hscan_config_t cfg;
    long live0[N_HOOKS];
    double t0 = now_ms();
    int h, loop_rc;

    memset(o, 0, sizeof(*o));
    o->n = n;
    run.o = o;
    run.next = 0;
    run.closed = 0;
    snprintf(resolvers, sizeof(resolvers), "%s", srv.dns);
    config(&cfg, resolvers);
    /* The trust store is loaded once per process and kept (trust.c):
     * dropped before and after each scan, every scan loads it, under
     * the sweep, and leaves nothing of it behind. */
    hscan__trust_flush();
    memcpy(live0, acount.live, sizeof(live0));
    uv_loop_init(&run.loop);
    presize_watchers(&run.loop);
    acount.total = 0;
    memset(acount.calls, 0, sizeof(acount.calls));
    acount.fail_at = n;
    acount.from_on = from_on;
    acount.fired = -1;
    acount.armed = 1;
    o->new_rc = hscan_new(&run.scan, &run.loop, &cfg);
    if (o->new_rc == 0)
        uv_run(&run.loop, UV_RUN_DEFAULT);
    loop_rc = uv_loop_close(&run.loop);
    acount.armed = 0;
    hscan__trust_flush();
    o->fired = acount.fired;
    o->total = acount.total;
    o->ms = now_ms() - t0;
    for (h = 0; h < N_HOOKS; h++)
        o->leaked[h] = acount.live[h] - live0[h];
    if (loop_rc != 0)
        problem(o, "uv_loop_close() did not return 0", -1);
    if (o->new_rc == 0 && !run.closed)
        problem(o, "the loop ended before the scanner closed", -1);
}

/* ---- checks ---- */

static int is_affected(const struct outcome *o, size_t i)
{
    return o->err[i] != targets[i].err || o->status[i] != targets[i].status;
}

/* OpenSSL blocks left after OPENSSL_cleanup() by a child that scanned
 * without failures (-1 until measured). */
static long ssl_floor = -1;

static void check_outcome(struct outcome *o)
{
    size_t i;
    int h;

    /* OpenSSL does not always say that memory ran out: SSL_CTX_new()
     * can fail with an empty error queue (init_failed), loading the CA
     * file with just "PEM lib" (invalid_argument, as for a bad file). */
    if (o->new_rc != 0 && o->new_rc != HSCAN_ENOMEM &&
        !((o->new_rc == HSCAN_EINIT || o->new_rc == HSCAN_EINVAL) &&
          o->fired == H_SSL))
        problem(o, hscan_err_name(o->new_rc), -1);
    for (i = 0; i < N_TARGETS; i++) {
        if (o->count[i] != (o->new_rc == 0 ? 1 : 0))
            problem(o, o->count[i] ? "duplicate record" : "lost record",
                    (long)i);
        /* A certificate that fails must never pass because memory ran
         * out during its check. */
        if (o->count[i] && targets[i].err == HSCAN_ETLS_CERT_INVALID &&
            o->err[i] == 0)
            problem(o, "invalid certificate accepted", (long)i);
        /* Local shortage is resource_exhausted (docs/results.md).  Not
         * asked when memory stays short: c-ares then cannot take its
         * answers in and lookups end as dns_timeout. */
        if (o->count[i] && is_affected(o, i) && !acount.from_on &&
            o->err[i] != HSCAN_ERESOURCE_EXHAUSTED &&
            !(o->fired == H_SSL && uses_tls(i) && o->err[i] != 0))
            problem(o, "affected record is not resource_exhausted",
                    (long)i);
    }
    for (h = 0; h < N_HOOKS; h++)
        if (o->leaked[h] != 0 && (h != H_SSL || ssl_floor >= 0)) {
            char what[64];
            snprintf(what, sizeof(what), "%ld %s block(s) not freed",
                     o->leaked[h], hook_name[h]);
            problem(o, what, -1);
        }
    if (acount.table_full)
        problem(o, "live-block table full", -1);
}

/* LeakSanitizer's check, where the build has one. */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* The child: one scan, checks, the outcome to `fd`. */
static void child(long n, int from_on, int fd)
{
    struct outcome o;
    unsigned long seq0 = acount.seq;

    alarm(CHILD_SECONDS * slow());
    scan_once(&o, n, from_on);
    /* Frees OpenSSL's caches: what is left was lost (see the top). */
    OPENSSL_cleanup();
    o.leaked[H_SSL] = acount.live[H_SSL] - (ssl_floor >= 0 ? ssl_floor : 0);
    check_outcome(&o);
    if (tracing)
        print_leaks(seq0);
    if (__lsan_do_recoverable_leak_check &&
        __lsan_do_recoverable_leak_check() != 0) {
        o.lsan = 1;
        problem(&o, "LeakSanitizer found leaks", -1);
    }
    if (o.problem[0] || tracing)
        print_backtrace();
    if (write(fd, &o, sizeof(o)) != (ssize_t)sizeof(o))
        _exit(3);
    _exit(o.problem[0] ? 1 : 0);
}

/* Run request `n` in a child; its outcome in `o`.  0 when the child
 * reported and passed every check. */
static int run_child(struct outcome *o, long n, int from_on)
{
    int fds[2], st;
    pid_t pid;
    ssize_t got;

    fflush(stdout);
    fire->n = 0;
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        perror("alloc-fail: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fds[0]);
        child(n, from_on, fds[1]);
    }
    close(fds[1]);
    got = read(fds[0], o, sizeof(*o));
    close(fds[0]);
    waitpid(pid, &st, 0);
    if (got != (ssize_t)sizeof(*o)) {
        memset(o, 0, sizeof(*o));
        o->n = n;
        o->fired = -1;
        o->fired = fire->n > 0 ? fire->hook : -1;
        snprintf(o->problem, sizeof(o->problem), "child %s %d, no outcome",
                 WIFSIGNALED(st) ? "killed by signal" : "exit status",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        print_backtrace();
        return -1;
    }
    if (!o->problem[0] && (!WIFEXITED(st) || WEXITSTATUS(st)))
        snprintf(o->problem, sizeof(o->problem), "child exit status %d%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                 WIFEXITED(st) && WEXITSTATUS(st) == 99 ? " (valgrind)"
                                                        : "");
    return o->problem[0] ? -1 : 0;
}

/* ---- the sweep ---- */

#define MAX_KINDS 12

/* Affected records of one target, by error: how many, the first N and
 * its detail (to reproduce with HSCAN_ALLOC_N). */
struct kind {
    int err;
    long count, first_n;
    char detail[48];
};

struct tally {
    long ran, reached, new_failed, failed;
    long by_hook[N_HOOKS];
    struct kind kinds[N_TARGETS][MAX_KINDS];
    double max_ms;
    long max_ms_n;
};

static void tally_errors(struct tally *t, const struct outcome *o)
{
    size_t i, k;

    for (i = 0; i < N_TARGETS; i++) {
        if (!o->count[i] || !is_affected(o, i))
            continue;
        for (k = 0; k < MAX_KINDS; k++) {
            struct kind *kd = &t->kinds[i][k];
            if (kd->count == 0) {
                kd->err = o->err[i];
                kd->first_n = o->n;
                memcpy(kd->detail, o->detail[i], sizeof(kd->detail));
            }
            if (kd->err == o->err[i]) {
                kd->count++;
                break;
            }
        }
    }
}

static int sweep_one(struct tally *t, long n, int from_on)
{
    struct outcome o;
    int rc = run_child(&o, n, from_on);

    t->ran++;
    if (o.fired >= 0) {
        t->reached++;
        t->by_hook[o.fired]++;
    }
    if (o.new_rc != 0)
        t->new_failed++;
    if (o.ms > t->max_ms) {
        t->max_ms = o.ms;
        t->max_ms_n = n;
    }
    tally_errors(t, &o);
    if (rc != 0) {
        printf("FAIL N=%ld (%s): %s\n", n,
               o.fired >= 0 ? hook_name[o.fired] : "not reached",
               o.problem[0] ? o.problem : "child failed");
        t->failed++;
    }
    return rc;
}

static void report(const struct tally *t, long m, const char *mode)
{
    size_t i, k;
    int h;

    printf("alloc-fail (%s): %ld runs of %ld allocations, failure reached "
           "in %ld (", mode, t->ran, m, t->reached);
    for (h = 0; h < N_HOOKS; h++)
        printf("%s%s %ld", h ? ", " : "", hook_name[h], t->by_hook[h]);
    printf("), hscan_new failed in %ld, %ld failed checks; slowest "
           "%.0f ms (N=%ld)\n", t->new_failed, t->failed, t->max_ms,
           t->max_ms_n);
    printf("  records that differ from the baseline, by error "
           "(count, first N, its detail):\n");
    for (i = 0; i < N_TARGETS; i++) {
        for (k = 0; k < MAX_KINDS && t->kinds[i][k].count; k++) {
            const struct kind *kd = &t->kinds[i][k];
            printf("  %-34s %-20s %5ld  N=%-6ld %s\n", k ? "" : lines[i],
                   kd->err ? hscan_err_name(kd->err) : "ok", kd->count,
                   kd->first_n, kd->detail);
        }
    }
}

/* The baseline: every target as expected, the records kept, the
 * allocation count and OpenSSL's floor. */
static long baseline(void)
{
    struct outcome o;
    size_t i;
    int h, bad = 0;

    scan_once(&o, 0, 0);        /* warms OpenSSL's global tables */
    scan_once(&o, 0, 0);
    run.have_base = 1;
    check_outcome(&o);
    for (i = 0; i < N_TARGETS; i++)
        if (is_affected(&o, i)) {
            printf("baseline: %s gave %s (%s), status %d\n", lines[i],
                   hscan_err_name(o.err[i]), o.detail[i], o.status[i]);
            bad = 1;
        }
    if (!bad && !o.problem[0]) {
        struct outcome c;
        if (run_child(&c, 0, 0) == 0)
            ssl_floor = c.leaked[H_SSL];
        else
            snprintf(o.problem, sizeof(o.problem), "clean child: %.150s",
                     c.problem);
    }
    if (bad || o.problem[0]) {
        printf("FAIL baseline: %s\n", o.problem[0] ? o.problem : "records");
        testd_proc_stop(&srv);
        exit(1);
    }
    printf("alloc-fail: baseline scan of %zu targets: %ld allocations (",
           N_TARGETS, o.total);
    for (h = 0; h < N_HOOKS; h++)
        printf("%s%s %ld", h ? ", " : "", hook_name[h], acount.calls[h]);
    printf("), %.0f ms; %ld OpenSSL blocks outlive OPENSSL_cleanup()\n",
           o.ms, ssl_floor);
    return o.total;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);

    return v && *v ? strtol(v, NULL, 10) : dflt;
}

/* "K" or "K-L" in `name`: 1 with the bounds set. */
static int env_range(const char *name, long *first, long *last)
{
    const char *v = getenv(name);
    char *end;

    if (!v || !*v)
        return 0;
    *first = *last = strtol(v, &end, 10);
    if (*end == '-')
        *last = strtol(end + 1, NULL, 10);
    return *first > 0 && *last >= *first;
}

/* The kth of `budget` values of N in 1..m: every N up to PREFIX (or
 * half the budget), then an even spread over the rest. */
static long nth(long k, long m, long budget)
{
    long prefix = budget > 2 * PREFIX ? PREFIX : budget / 2;

    if (m <= budget || k < prefix)
        return k + 1;
    return prefix + 1 + (k - prefix) * (m - prefix) / (budget - prefix);
}

static long sweep_budget(long m)
{
    long budget = env_long("HSCAN_ALLOC_BUDGET", ALLOC_BUDGET);

    if (__lsan_do_recoverable_leak_check && budget > SANITIZER_BUDGET)
        budget = SANITIZER_BUDGET;
    if (getenv("HSCAN_UNDER_VALGRIND"))
        budget = VALGRIND_BUDGET;
    if (env_long("HSCAN_ALLOC_FULL", 0))
        budget = m;
    return budget > 1 ? budget : 1;
}

static int sweep(long m, int from_on, long budget)
{
    struct tally t;
    long k;

    memset(&t, 0, sizeof(t));
    for (k = 0; k < budget && nth(k, m, budget) <= m; k++)
        sweep_one(&t, nth(k, m, budget), from_on);
    report(&t, m, from_on ? "every allocation from the Nth on fails"
                          : "the Nth allocation fails");
    return t.failed == 0 && t.ran > 0 ? 0 : 1;
}

static void format_lines(void)
{
    size_t i;

    for (i = 0; i < N_TARGETS; i++)
        snprintf(lines[i], sizeof(lines[i]), targets[i].fmt,
                 targets[i].port == P_HTTPS ? srv.https_port
                                            : srv.http_port);
}

int main(int argc, char **argv)
{
    static const char *const testd_args[] = { "--lifetime", "900",
                                              "--any-loopback", NULL };
    long m, first, last;
    int rc, from_on;

    install_hooks();            /* before OpenSSL allocates anything */
    fire = mmap(NULL, sizeof(*fire), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (fire == MAP_FAILED) {
        perror("alloc-fail: mmap");
        return 1;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test-alloc-fail PATH-TO-hscan-testd\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* 0.0.0.0: 127.0.0.2 reaches the HTTPS server too, at an address
     * its certificate does not name. */
    if (testd_proc_start(&srv, argv[1], testd_args) != 0)
        exit(1);
    /* The system trust store is thousands of allocations per scanner;
     * the test CA alone is enough here. */
    setenv("SSL_CERT_FILE", srv.ca, 1);
    format_lines();
    m = baseline();
    from_on = (int)env_long("HSCAN_ALLOC_FROM", 0);
    if (env_range("HSCAN_ALLOC_N", &first, &last)) {
        static struct tally t;
        long n;

        run.verbose = tracing = first == last;  /* one N: say everything */
        for (n = first; n <= last; n++)
            sweep_one(&t, n, from_on);
        report(&t, m, "chosen N");
        rc = t.failed ? 1 : 0;
    } else if (from_on) {
        rc = sweep(m, 1, sweep_budget(m));
    } else {
        /* Then fewer runs where memory stays short: cleanup paths and
         * the records of everything still in flight get none either. */
        long budget = sweep_budget(m);
        rc = sweep(m, 0, budget);
        rc |= sweep(m, 1, budget / 10 > 1 ? budget / 10 : 1);
    }
    if (testd_proc_gone(&srv)) {
        printf("FAIL: hscan-testd ended during the sweep\n");
        rc = 1;
    }
    testd_proc_stop(&srv);
    printf("%s alloc_fail\n", rc == 0 ? "ok  " : "FAIL");
    return rc;
}
