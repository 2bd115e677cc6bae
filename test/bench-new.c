/* What hscan_new() costs the loop for an HTTPS scanner: the first of
 * the process, a second while the first is open, a third after both
 * have closed (a reused process), and a plain-HTTP one for the part
 * that is not TLS.  Each round runs in a fresh child process, so
 * "first" is really the first; the table gives the median and the
 * range over the rounds.
 *
 * Usage: bench-new [ROUNDS]    (default 10; meson test --benchmark)
 * The trust store is the system's (SSL_CERT_FILE if set).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "hscan.h"

enum { FIRST, SECOND, REUSED, PLAIN, N_TIMES };
static const char *const names[N_TIMES] = {
    "first HTTPS scanner", "second, first still open",
    "third, after both closed", "plain HTTP scanner"
};

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)r;
    (void)arg;
}

/* hscan_new() of `scheme` on `loop`, timed in ms; exits on failure. */
static double timed_new(uv_loop_t *loop, int scheme, hscan_t **out)
{
    hscan_config_t cfg;
    uint64_t t0;
    int rc;

    hscan_config_init(&cfg);
    cfg.resolvers = "127.0.0.1:53";
    cfg.scheme = scheme;
    cfg.on_result = on_result;
    t0 = uv_hrtime();
    rc = hscan_new(out, loop, &cfg);
    if (rc != 0) {
        fprintf(stderr, "bench-new: hscan_new: %s\n", hscan_strerror(rc));
        exit(1);
    }
    return (double)(uv_hrtime() - t0) / 1e6;
}

static void round_once(double *t)
{
    uv_loop_t loop;
    hscan_t *a, *b;

    uv_loop_init(&loop);
    t[FIRST] = timed_new(&loop, HSCAN_SCHEME_HTTPS, &a);
    t[SECOND] = timed_new(&loop, HSCAN_SCHEME_HTTPS, &b);
    hscan_close(a, NULL);
    hscan_close(b, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    t[REUSED] = timed_new(&loop, HSCAN_SCHEME_HTTPS, &a);
    t[PLAIN] = timed_new(&loop, HSCAN_SCHEME_HTTP, &b);
    hscan_close(a, NULL);
    hscan_close(b, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10, r, k;
    double (*t)[N_TIMES];

    if (rounds < 1 || !(t = calloc((size_t)rounds, sizeof(*t))))
        return 2;
    for (r = 0; r < rounds; r++) {
        int fd[2], status;
        pid_t pid;

        if (pipe(fd) != 0 || (pid = fork()) < 0)
            return 2;
        if (pid == 0) {
            double one[N_TIMES];
            round_once(one);
            _exit(write(fd[1], one, sizeof(one)) == sizeof(one) ? 0 : 1);
        }
        close(fd[1]);
        if (read(fd[0], t[r], sizeof(t[r])) != sizeof(t[r]) ||
            waitpid(pid, &status, 0) != pid || status != 0)
            return 1;
        close(fd[0]);
    }
    printf("hscan_new(), ms over %d processes: median (min-max)\n", rounds);
    for (k = 0; k < N_TIMES; k++) {
        double v[256];
        int n = rounds < 256 ? rounds : 256;
        for (r = 0; r < n; r++)
            v[r] = t[r][k];
        qsort(v, (size_t)n, sizeof(v[0]), cmp);
        printf("  %-26s %7.2f  (%.2f-%.2f)\n", names[k], v[n / 2], v[0],
               v[n - 1]);
    }
    free(t);
    return 0;
}
