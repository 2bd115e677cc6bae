/* Integration tests: one scan against the loopback test servers per
 * HTTP behaviour, every record checked field by field; connect timeouts
 * and descriptor exhaustion.  The environment (servers, scanner, record
 * copies, JSON check) is scan-env.c; DNS and address literals are in
 * test-scan-dns.c, the request bytes in test-request.c.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

/* ---- behaviours over HTTP ---- */

TEST_T(scan_fast, 20)
{
    struct env e;
    char line[64], url[64], want[64];
    const char *lines[1];
    const char *addrs[] = { "127.0.0.1" };
    struct rec *r;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "fast.test:%d", e.hport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK(r->detail == NULL);
    CHECK_STR(r->input, line);
    CHECK_STR(r->url, fmt(url, sizeof(url), "http://fast.test:%d/", e.hport));
    CHECK_STR(r->scheme, "http");
    CHECK_STR(r->host, "fast.test");
    CHECK_STR(r->ip, "127.0.0.1");
    CHECK_INT(r->port, e.hport);
    CHECK_STR(r->reason, "OK");
    CHECK_INT(r->reason_len, 2);
    CHECK_INT(r->major, 1);
    CHECK_INT(r->minor, 1);
    check_fast_headers(r);
    check_list(r->addrs, r->n_addrs, addrs, 1);
    CHECK_INT(r->n_cnames, 0);
    CHECK(r->dns_ms >= 0);
    CHECK(r->connect_ms >= 0);
    CHECK(r->ttfb_ms >= 0);
    CHECK(r->total_ms >= r->ttfb_ms);
    CHECK(r->total_ms >= r->dns_ms);
    CHECK(strstr(r->json, "\"status\":200,") != NULL);
    CHECK(strstr(r->json, "\"ip\":\"127.0.0.1\"") != NULL);
    CHECK(strstr(r->json, "\"error\":null") != NULL);
    CHECK(strstr(r->json, "\"http_version\":\"HTTP/1.1\"") != NULL);
    CHECK(strstr(r->json, "[\"X-Dup\",\"1\"],[\"X-Dup\",\"2\"]") != NULL);
    CHECK(strstr(r->json, "\"addresses\":[\"127.0.0.1\"]") != NULL);
    CHECK(strstr(r->json, fmt(want, sizeof(want), "\"port\":%d,",
                              e.hport)) != NULL);
    CHECK(e.dns_queries >= 1);
    env_done(&e);
}

TEST_T(scan_delay, 20)
{
    struct env e;
    char line[64];
    const char *lines[1];

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "delay-300.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_STATUS(&e.recs[0], 200);
    CHECK(e.recs[0].ttfb_ms >= 250);
    CHECK(e.recs[0].total_ms >= e.recs[0].ttfb_ms);
    check_fast_headers(&e.recs[0]);
    env_done(&e);
}

enum {
    S_301, S_302, S_404, S_500, S_HTTP10, S_CHUNKED, S_418, S_EARLY, S_LF,
    S_PATH, S_N
};

TEST_T(scan_statuses, 20)
{
    static const char *const fmts[S_N] = {
        "r301.test:%d", "http://r302.test:%d/", "notfound.test:%d",
        "error.test:%d", "http10.test:%d", "chunked.test:%d",
        "status-418.test:%d", "early.test:%d", "lf.test:%d",
        "http://fast.test:%d/b/notfound?x=1",
    };
    char buf[S_N][80], want[80];
    const char *lines[S_N];
    struct env e;
    struct rec *r;
    long i;

    env_init(&e);
    for (i = 0; i < S_N; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.hport);
    env_scan(&e, lines, S_N);

    r = &e.recs[S_301];             /* reported, not followed */
    EXPECT_STATUS(r, 301);
    CHECK_STR(r->reason, "Moved Permanently");
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", "http://fast.test/");
    r = &e.recs[S_302];
    EXPECT_STATUS(r, 302);
    i = find_hdr(r, "Location");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Location", "/next");
    CHECK_STR(r->url, fmt(want, sizeof(want), "http://r302.test:%d/",
                          e.hport));
    EXPECT_STATUS(&e.recs[S_404], 404);
    CHECK_STR(e.recs[S_404].reason, "Not Found");
    EXPECT_STATUS(&e.recs[S_500], 500);
    CHECK_STR(e.recs[S_500].reason, "Internal Server Error");

    r = &e.recs[S_HTTP10];
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->major, 1);
    CHECK_INT(r->minor, 0);
    CHECK(strstr(r->json, "\"http_version\":\"HTTP/1.0\"") != NULL);

    r = &e.recs[S_CHUNKED];
    EXPECT_STATUS(r, 200);
    i = find_hdr(r, "Transfer-Encoding");
    CHECK(i >= 0);
    check_hdr(r, (size_t)i, "Transfer-Encoding", "chunked");

    r = &e.recs[S_418];
    EXPECT_STATUS(r, 418);
    CHECK_STR(r->reason, "Status");
    CHECK_INT(r->n_hdrs, 1);
    check_hdr(r, 0, "Content-Length", "0");

    r = &e.recs[S_EARLY];           /* the 103 and its Link are skipped */
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->reason, "OK");
    check_fast_headers(r);
    CHECK(find_hdr(r, "Link") < 0);

    r = &e.recs[S_LF];
    EXPECT_STATUS(r, 200);
    CHECK_STR(r->reason, "OK");
    CHECK_INT(r->n_hdrs, 2);
    check_hdr(r, 0, "Server", "lf");
    check_hdr(r, 1, "Content-Length", "0");

    r = &e.recs[S_PATH];            /* the path picks the behaviour */
    EXPECT_STATUS(r, 404);
    CHECK_STR(r->url, fmt(want, sizeof(want),
                          "http://fast.test:%d/b/notfound?x=1", e.hport));
    env_done(&e);
}

TEST_T(scan_many_headers, 20)
{
    char l0[64], l1[64], l2[64], name[32], value[32];
    const char *lines[3];
    struct env e;
    struct rec *r;
    size_t i;

    env_init(&e);
    lines[0] = fmt(l0, sizeof(l0), "many.test:%d", e.hport);
    /* 254 + Server + Content-Length = 256 fields, the default limit */
    lines[1] = fmt(l1, sizeof(l1), "many-254.test:%d", e.hport);
    lines[2] = fmt(l2, sizeof(l2), "many-255.test:%d", e.hport);
    env_scan(&e, lines, 3);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->n_hdrs, 102);
    check_hdr(r, 0, "Server", "hscan-test");
    for (i = 0; i < 100 && i + 1 < r->n_hdrs; i++) {
        snprintf(name, sizeof(name), "X-H-%zu", i);
        snprintf(value, sizeof(value), "v%zu", i);
        check_hdr(r, i + 1, name, value);
    }
    check_hdr(r, 101, "Content-Length", "0");
    EXPECT_STATUS(&e.recs[1], 200);
    CHECK_INT(e.recs[1].n_hdrs, 256);
    EXPECT_ERR(&e.recs[2], HSCAN_ETOO_MANY_HEADERS);
    env_done(&e);
}

TEST_T(scan_too_many_headers, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "many-300.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_ETOO_MANY_HEADERS);
    CHECK(e.recs[0].detail != NULL);
    CHECK_STR(e.recs[0].ip, "127.0.0.1");
    CHECK(strstr(e.recs[0].json, "\"error\":\"too_many_headers\""));
    env_done(&e);
}

TEST_T(scan_header_too_large, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.max_headers = 5000;
    lines[0] = fmt(line, sizeof(line), "huge.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_EHEADER_TOO_LARGE);
    CHECK(e.recs[0].detail != NULL);
    CHECK(e.recs[0].ttfb_ms >= 0);
    env_done(&e);
}

TEST_T(scan_max_header_bytes, 20)
{
    char l0[64], l1[64], l2[64];
    const char *lines[3];
    struct env e;

    env_init(&e);
    e.cfg.max_header_bytes = 1024;
    e.cfg.max_headers = 100000;
    lines[0] = fmt(l0, sizeof(l0), "fast.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "many.test:%d", e.hport);   /* ~1.4 KB */
    lines[2] = fmt(l2, sizeof(l2), "many-40.test:%d", e.hport); /* ~600 B */
    env_scan(&e, lines, 3);
    EXPECT_STATUS(&e.recs[0], 200);
    check_fast_headers(&e.recs[0]);
    EXPECT_ERR(&e.recs[1], HSCAN_EHEADER_TOO_LARGE);
    EXPECT_STATUS(&e.recs[2], 200);
    CHECK_INT(e.recs[2].n_hdrs, 42);
    env_done(&e);
}

/* With the default 64 KiB limit: ~4000 short fields are over it. */
TEST_T(scan_default_header_bytes, 20)
{
    char l0[64], l1[64];
    const char *lines[2];
    struct env e;

    env_init(&e);
    e.cfg.max_headers = 100000;
    lines[0] = fmt(l0, sizeof(l0), "many-2000.test:%d", e.hport);
    lines[1] = fmt(l1, sizeof(l1), "many-5000.test:%d", e.hport);
    env_scan(&e, lines, 2);
    EXPECT_STATUS(&e.recs[0], 200);
    CHECK_INT(e.recs[0].n_hdrs, 2002);
    EXPECT_ERR(&e.recs[1], HSCAN_EHEADER_TOO_LARGE);
    env_done(&e);
}

/* The overall budget names the phase it cut short (schema 2): the
 * detail says it was the budget, not the phase's own limit. */
static void check_budget(const struct rec *r, int err, const char *name,
                         const char *detail)
{
    char want[64];

    EXPECT_ERR(r, err);
    snprintf(want, sizeof(want), "\"error\":\"%s\"", name);
    CHECK(strstr(r->json, want) != NULL);
    if (!r->detail || !strstr(r->detail, detail))
        fprintf(stderr, "  detail: %s\n", r->detail ? r->detail : "(null)");
    CHECK(r->detail != NULL && strstr(r->detail, detail) != NULL);
}

/* The absolute limit also covers the DNS phase: shorter than the DNS
 * timeout, it ends the lookup as dns_timeout, the lookup's time and an
 * empty answer in the record as when the DNS timeout fires. */
TEST_T(scan_total_deadline_in_dns, 20)
{
    char l0[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.timeout_ms = 300;
    e.cfg.dns_timeout_ms = 5000;
    lines[0] = fmt(l0, sizeof(l0), "drop.test:%d", e.hport);
    env_scan(&e, lines, 1);
    check_budget(&e.recs[0], HSCAN_EDNS_TIMEOUT, "dns_timeout",
                 "overall budget of 300 ms ran out while resolving "
                 "(phase limit 5000 ms)");
    CHECK(e.recs[0].total_ms >= 250);
    CHECK(e.recs[0].total_ms < 4000);
    CHECK(e.recs[0].dns_ms >= 250);
    CHECK_INT(e.recs[0].n_addrs, 0);
    CHECK(strstr(e.recs[0].json, "\"dns\":{\"addresses\":[]") != NULL);
    env_done(&e);
}

/* A header byte every 20 ms is never idle for the read timeout: the
 * overall budget ends it, as read_timeout. */
TEST_T(scan_trickle_hits_total_deadline, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.timeout_ms = 1500;
    e.cfg.read_timeout_ms = 10000;
    lines[0] = fmt(line, sizeof(line), "trickle.test:%d", e.hport);
    env_scan(&e, lines, 1);
    check_budget(&e.recs[0], HSCAN_EREAD_TIMEOUT, "read_timeout",
                 "overall budget of 1500 ms ran out while reading the "
                 "response (phase limit 10000 ms)");
    /* the status line had come: kept, the head marked cut */
    CHECK_INT(e.recs[0].status, 200);
    CHECK(strstr(e.recs[0].json, "\"headers_complete\":false") != NULL);
    CHECK(e.recs[0].ttfb_ms >= 0);
    CHECK(e.recs[0].total_ms >= 1000);
    CHECK(e.recs[0].total_ms < 9000);
    env_done(&e);
}

TEST_T(scan_hang_read_timeout, 20)
{
    char line[64];
    const char *lines[1];
    struct env e;

    env_init(&e);
    e.cfg.read_timeout_ms = 500;
    lines[0] = fmt(line, sizeof(line), "hang.test:%d", e.hport);
    env_scan(&e, lines, 1);
    EXPECT_ERR(&e.recs[0], HSCAN_EREAD_TIMEOUT);
    check_no_response(&e.recs[0]);
    CHECK_STR(e.recs[0].ip, "127.0.0.1");
    CHECK(e.recs[0].connect_ms >= 0);
    CHECK(e.recs[0].total_ms >= 400);
    env_done(&e);
}

TEST_T(scan_broken_replies, 20)
{
    static const char *const fmts[] = {
        "close.test:%d", "reset.test:%d", "garbage.test:%d",
        "badstatus.test:%d",
    };
    static const int want[] = {
        HSCAN_EREAD_CLOSED, HSCAN_EREAD_RESET, HSCAN_EHTTP_PARSE,
        HSCAN_EHTTP_PARSE,
    };
    char buf[4][64];
    const char *lines[4];
    struct env e;
    size_t i;

    env_init(&e);
    for (i = 0; i < 4; i++)
        lines[i] = fmt(buf[i], sizeof(buf[i]), fmts[i], e.hport);
    env_scan(&e, lines, 4);
    for (i = 0; i < 4; i++) {
        EXPECT_ERR(&e.recs[i], want[i]);
        CHECK(e.recs[i].detail != NULL);
        CHECK_INT(e.recs[i].status, 0);
        CHECK_STR(e.recs[i].ip, "127.0.0.1");
        CHECK(e.recs[i].connect_ms >= 0);
    }
    env_done(&e);
}

TEST_T(scan_control_bytes, 20)
{
    static const char value[] = "a\tb\x7f" "c\xff\xfe" "d\xc3\xa9" "e";
    static const char in_json[] = "[\"X-Bin\",\"a\\tb\\u007fc\\u00ff\\u00fe"
                                   "d\xc3\xa9" "e\"]";
    char line[64];
    const char *lines[1];
    struct env e;
    struct rec *r;
    long i;

    env_init(&e);
    lines[0] = fmt(line, sizeof(line), "ctl.test:%d", e.hport);
    env_scan(&e, lines, 1);
    r = &e.recs[0];
    EXPECT_STATUS(r, 200);
    i = find_hdr(r, "X-Bin");
    CHECK(i >= 0);
    CHECK_INT(r->hdrs[i].value_len, sizeof(value) - 1);
    CHECK(memcmp(r->hdrs[i].value, value, sizeof(value) - 1) == 0);
    if (!strstr(r->json, in_json))
        show(r);
    CHECK(strstr(r->json, in_json) != NULL);
    CHECK(strstr(r->json, "\\u00ff") != NULL);
    env_done(&e);
}

/* ---- connect timeout: a listener whose accept queue is full ---- */

TEST_T(scan_connect_timeout, 20)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char l[4][64];
    const char *lines[4];
    struct env e;
    int fd, port, i, timeouts = 0;

    env_init(&e);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(uv_ip4_addr("127.0.0.1", 0, &sa) == 0);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(listen(fd, 0) == 0);     /* never accepted: SYNs get dropped */
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    port = ntohs(sa.sin_port);
    e.cfg.connect_timeout_ms = 500;
    e.cfg.read_timeout_ms = 500;
    for (i = 0; i < 4; i++)
        lines[i] = fmt(l[i], sizeof(l[i]), "127.0.0.1:%d", port);
    env_scan(&e, lines, 4);
    close(fd);
    for (i = 0; i < 4; i++) {
        struct rec *r = &e.recs[i];
        if (r->error != HSCAN_ECONNECT_TIMEOUT &&
            r->error != HSCAN_EREAD_TIMEOUT)
            show(r);
        CHECK(r->error == HSCAN_ECONNECT_TIMEOUT ||
              r->error == HSCAN_EREAD_TIMEOUT);
        if (r->error == HSCAN_ECONNECT_TIMEOUT) {
            timeouts++;
            CHECK(r->connect_ms == -1);
            CHECK(r->total_ms >= 400);
        }
    }
    CHECK(timeouts >= 1);
    env_done(&e);
}

/* The overall budget, shorter than the connect timeout, ends a connect
 * that gets no answer as connect_timeout.  The listener's queue (one
 * place with a backlog of 0) is filled first, so the scanner's SYNs are
 * dropped. */
TEST_T(scan_total_deadline_in_connect, 20)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char l[2][64];
    const char *lines[2];
    struct env e;
    int fd, filler, port, i;

    env_init(&e);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(uv_ip4_addr("127.0.0.1", 0, &sa) == 0);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(listen(fd, 0) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    port = ntohs(sa.sin_port);
    filler = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(filler >= 0);
    CHECK(connect(filler, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    e.cfg.timeout_ms = 400;
    e.cfg.connect_timeout_ms = 5000;
    e.cfg.read_timeout_ms = 5000;
    for (i = 0; i < 2; i++)
        lines[i] = fmt(l[i], sizeof(l[i]), "127.0.0.1:%d", port);
    env_scan(&e, lines, 2);
    close(filler);
    close(fd);
    for (i = 0; i < 2; i++) {
        struct rec *r = &e.recs[i];

        check_budget(r, HSCAN_ECONNECT_TIMEOUT, "connect_timeout",
                     "overall budget of 400 ms ran out while connecting "
                     "(phase limit 5000 ms)");
        CHECK(r->connect_ms == -1);
        CHECK_STR(r->ip, "127.0.0.1");
        CHECK(r->total_ms >= 350);
        CHECK(r->total_ms < 4000);
    }
    env_done(&e);
}

/* ---- descriptor exhaustion ---- */

static uint64_t starved_timeout_ms = 3000;

/* Run the DNS and HTTP servers in a child process, so that the
 * descriptor limit set here does not starve them.  Returns its pid. */
static pid_t spawn_servers(int *hport, int *dport)
{
    int fds[2], ports[2] = { 0, 0 };
    pid_t pid;

    CHECK(pipe(fds) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct tsrv_http *http;
        struct tsrv_dns *dns;
        uv_loop_t loop;

        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(60);
        if (uv_loop_init(&loop) != 0 ||
            tsrv_dns_start(&loop, "127.0.0.1", 0, &dns) != 0 ||
            tsrv_http_start(&loop, "127.0.0.1", 0, &http) != 0)
            _exit(1);
        ports[0] = tsrv_http_port(http);
        ports[1] = tsrv_dns_port(dns);
        if (write(fds[1], ports, sizeof(ports)) != sizeof(ports))
            _exit(1);
        close(fds[1]);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(0);
    }
    close(fds[1]);
    CHECK(read(fds[0], ports, sizeof(ports)) == sizeof(ports));
    close(fds[0]);
    *hport = ports[0];
    *dport = ports[1];
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* The descriptor limit that leaves exactly `spare` free descriptor
 * numbers (the kernel hands out the lowest free one below the limit;
 * descriptors above it stay open but new ones cannot go there). */
static rlim_t limit_for(int spare)
{
    static char open_fd[4096];
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int fd, free_n = 0;

    CHECK(d != NULL);
    memset(open_fd, 0, sizeof(open_fd));
    while ((de = readdir(d)) != NULL) {
        fd = atoi(de->d_name);
        if (de->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 &&
            fd < (int)sizeof(open_fd))
            open_fd[fd] = 1;
    }
    closedir(d);
    for (fd = 0; fd < (int)sizeof(open_fd); fd++) {
        if (open_fd[fd])
            continue;
        if (free_n == spare)
            break;
        free_n++;
    }
    return (rlim_t)fd;
}

struct bare {
    struct rec *recs;
    size_t n;
    unsigned results, drained, closed;
};

static void bare_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct bare *b = arg;
    uintptr_t i = (uintptr_t)r->udata;

    (void)scan;
    b->results++;
    CHECK(i < b->n);
    b->recs[i].got++;
    rec_copy(&b->recs[i], r);
}

static void bare_closed(hscan_t *scan, void *arg)
{
    struct bare *b = arg;

    (void)scan;
    b->closed++;
}

static void bare_drained(hscan_t *scan, void *arg)
{
    struct bare *b = arg;

    b->drained++;
    CHECK(hscan_close(scan, bare_closed) == 0);
}

/* Scan n copies of `line` with `spare` free descriptors; servers in a
 * child process.  Records in b->recs. */
static void scan_starved(struct bare *b, const char *fmt_line, size_t n,
                         int spare)
{
    char line[64], resolvers[32];
    hscan_config_t cfg;
    struct rlimit rl;
    hscan_t *scan;
    uv_loop_t loop;
    int hport, dport;
    pid_t pid;
    size_t i;

    pid = spawn_servers(&hport, &dport);
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->recs = calloc(n, sizeof(*b->recs));
    CHECK(b->recs != NULL);
    snprintf(line, sizeof(line), fmt_line, hport);
    snprintf(resolvers, sizeof(resolvers), "127.0.0.1:%d", dport);
    CHECK(uv_loop_init(&loop) == 0);
    hscan_config_init(&cfg);
    cfg.scheme = HSCAN_SCHEME_HTTP;  /* plain-HTTP servers */
    cfg.resolvers = resolvers;
    cfg.concurrency = 50;
    cfg.timeout_ms = starved_timeout_ms;
    cfg.read_timeout_ms = 300;      /* how long a hang target holds on */
    cfg.dns_timeout_ms = 1000 * slow_factor();
    cfg.connect_timeout_ms = 1000 * slow_factor();
    cfg.on_result = bare_result;
    cfg.on_drained = bare_drained;
    cfg.arg = b;
    CHECK(hscan_new(&scan, &loop, &cfg) == 0);
    for (i = 0; i < n; i++)
        CHECK(hscan_submit(scan, line, strlen(line),
                           (void *)(uintptr_t)i) == 0);
    CHECK(hscan_end_input(scan) == 0);
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = limit_for(spare);
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    reap(pid);
    CHECK_INT(b->results, n);
    CHECK_INT(b->drained, 1);
    CHECK_INT(b->closed, 1);
    for (i = 0; i < n; i++)
        CHECK_INT(b->recs[i].got, 1);
}

static void bare_free(struct bare *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        rec_free(&b->recs[i]);
    free(b->recs);
}

/* With 8 spare descriptors and hang targets that give theirs back after
 * the 300 ms read timeout, a 3 s deadline lets most targets through by
 * backing off and retrying; a 500 ms one does not. */
static unsigned check_starved(struct bare *b, unsigned *exhausted_out)
{
    unsigned exhausted = 0, timed_out = 0;
    size_t i;

    for (i = 0; i < b->n; i++) {
        struct rec *r = &b->recs[i];
        if (r->error == HSCAN_ERESOURCE_EXHAUSTED) {
            exhausted++;
            CHECK(r->detail != NULL);
            check_no_response(r);
        } else if (r->error == HSCAN_EREAD_TIMEOUT &&
                   r->connect_ms >= 0) {
            /* connected (late, after backing off); a short deadline may
             * then end the read (read_timeout, its detail naming the
             * overall budget) */
            timed_out++;
        } else {
            show(r);
            CHECK(!"resource_exhausted or read_timeout");
        }
    }
    printf("  %u read_timeout, %u resource_exhausted\n", timed_out,
           exhausted);
    *exhausted_out = exhausted;
    return timed_out;
}

TEST_T(scan_fd_exhaustion_literal, 20)
{
    struct bare b;
    unsigned exhausted;

    starved_timeout_ms = 3000 * slow_factor();
    scan_starved(&b, "127.0.0.1:%d/b/hang", 50, 8);
    /* more targets got through than there were descriptors: retried */
    CHECK(check_starved(&b, &exhausted) > 16);
    bare_free(&b);
}

TEST_T(scan_fd_exhaustion_name, 20)
{
    struct bare b;
    unsigned exhausted;

    starved_timeout_ms = 3000 * slow_factor();
    scan_starved(&b, "hang.test:%d", 50, 8);
    CHECK(check_starved(&b, &exhausted) > 16);
    bare_free(&b);
}

/* A deadline too short for the back-off to succeed: the targets that
 * never got a descriptor are resource_exhausted, not timeout. */
TEST_T(scan_fd_exhaustion_deadline, 20)
{
    struct bare b;
    unsigned exhausted, timed_out;

    starved_timeout_ms = 500;
    scan_starved(&b, "127.0.0.1:%d/b/hang", 50, 8);
    timed_out = check_starved(&b, &exhausted);
    CHECK(timed_out >= 1);
    CHECK(exhausted >= 20);
    bare_free(&b);
}

/* No descriptor at all: even the DNS socket cannot be opened.  That is a
 * local shortage, not a DNS timeout. */
TEST_T(scan_fd_exhaustion_dns, 20)
{
    struct bare b;
    size_t i;

    scan_starved(&b, "fast.test:%d", 3, 0);
    for (i = 0; i < b.n; i++) {
        if (b.recs[i].error != HSCAN_ERESOURCE_EXHAUSTED)
            show(&b.recs[i]);
        CHECK_INT(b.recs[i].error, HSCAN_ERESOURCE_EXHAUSTED);
    }
    bare_free(&b);
}

/* --max-per-ip: 12 targets on one address answering after 200 ms, 3 at
 * a time, take four rounds; the wait is not charged to the 500 ms
 * timeout, so every one answers.  (Under valgrind every time here is
 * ten times longer, so that the rounds still outlast the timeout.) */
TEST_T(scan_max_per_ip, 20)
{
    enum { N = 12 };
    static char bufs[N][64];
    const char *lines[N];
    unsigned f = slow_factor();
    struct env e;
    uint64_t t0;
    double secs;
    size_t i;

    env_init(&e);
    env_stretch(&e);
    e.cfg.max_per_ip = 3;
    e.cfg.timeout_ms = 500 * f;
    for (i = 0; i < N; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "d%zu.delay-%u.test:%d", i,
                 200 * f, e.hport);
        lines[i] = bufs[i];
    }
    t0 = uv_hrtime();
    env_scan(&e, lines, N);
    secs = (double)(uv_hrtime() - t0) / 1e9;
    for (i = 0; i < N; i++) {
        EXPECT_STATUS(&e.recs[i], 200);
        CHECK(e.recs[i].total_ms >= 190.0 * f);
    }
    CHECK_INT(e.stats.ip_waits, N - 3);
    if (secs < 0.78 * f)
        fprintf(stderr, "  took %.3f s\n", secs);
    CHECK(secs >= 0.78 * f);    /* four rounds of 200 ms */
    env_done(&e);
}
