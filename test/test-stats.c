/* Unit tests of the latency histograms behind hscan_stats(): the
 * percentiles are within the documented 1.6% of the exact value over
 * the whole range, edge values are handled, and per-error counts come
 * out in table order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "test-runner.h"

/* Exact value at rank ceil(q * n) of sorted `v`. */
static double exact(const double *v, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n);

    if ((double)rank < q * (double)n)
        rank++;
    return v[rank ? rank - 1 : 0];
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void check_close(double got, double want)
{
    double tol = want * 0.016 + 0.001;      /* 1.6%, or 1 us */

    if (got < want - tol || got > want + tol)
        fprintf(stderr, "  got %.6f want %.6f\n", got, want);
    CHECK(got >= want - tol && got <= want + tol);
}

static void sample(struct hscan__hist *h, double *v, size_t n)
{
    hscan_latency_t l;

    memset(h, 0, sizeof(*h));
    for (size_t i = 0; i < n; i++)
        hscan__hist_add(h, v[i]);
    qsort(v, n, sizeof(*v), cmp);
    hscan__hist_summary(h, &l);
    CHECK_INT(l.count, n);
    CHECK(l.min_ms == v[0]);
    CHECK(l.max_ms == v[n - 1]);
    check_close(l.p50_ms, exact(v, n, 0.50));
    check_close(l.p90_ms, exact(v, n, 0.90));
    check_close(l.p99_ms, exact(v, n, 0.99));
}

TEST(stats_percentiles)
{
    static struct hscan__hist h;
    size_t n = 20000, i;
    double *v = malloc(n * sizeof(*v));
    unsigned seed = 12345;

    CHECK(v != NULL);
    /* log-uniform from 1 us to 100 s: every octave is used */
    for (i = 0; i < n; i++) {
        double x = 0.001;
        seed = seed * 1103515245u + 12345u;
        for (unsigned k = (seed >> 8) % 27; k > 0; k--)
            x *= 2;
        v[i] = x * (1.0 + (double)((seed >> 4) % 1000) / 1000.0);
    }
    sample(&h, v, n);
    /* uniform 0..999 ms */
    for (i = 0; i < n; i++)
        v[i] = (double)(i % 1000);
    sample(&h, v, n);
    /* all equal */
    for (i = 0; i < n; i++)
        v[i] = 42.5;
    sample(&h, v, n);
    /* one value */
    v[0] = 7.25;
    sample(&h, v, 1);
    free(v);
}

TEST(stats_edges)
{
    static struct hscan__hist h;
    hscan_latency_t l;
    double nan = 0.0 / 0.0;

    memset(&h, 0, sizeof(h));
    hscan__hist_summary(&h, &l);
    CHECK_INT(l.count, 0);
    CHECK(l.p99_ms == 0 && l.max_ms == 0);
    hscan__hist_add(&h, -1);        /* the phase did not happen */
    hscan__hist_add(&h, nan);
    CHECK_INT(h.count, 0);
    hscan__hist_add(&h, 0);
    hscan__hist_add(&h, 1e12);      /* beyond the last bucket */
    hscan__hist_add(&h, 1e300);
    hscan__hist_summary(&h, &l);
    CHECK_INT(l.count, 3);
    CHECK(l.min_ms == 0);
    CHECK(l.max_ms == 1e300);
    CHECK(l.p50_ms >= 1e9 && l.p50_ms <= 1e300);
}

TEST(stats_error_order)
{
    static struct hscan__counts c;
    hscan_result_t r;
    hscan_stats_t st;
    int codes[] = { HSCAN_ECANCELED, HSCAN_EDNS_NXDOMAIN, HSCAN_ECANCELED,
                    HSCAN_EINVALID_TARGET, 0, -999 };

    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        r.error = codes[i];
        r.total_ms = 5;
        r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = -1;
        hscan__counts_add(&c, &r, i != 3);
    }
    memset(&st, 0, sizeof(st));
    hscan__counts_fill(&c, &st);
    CHECK_INT(st.n_errors, 3);      /* -999 is not in the table */
    CHECK_INT(st.by_error[0].code, HSCAN_EINVALID_TARGET);
    CHECK_INT(st.by_error[0].count, 1);
    CHECK_INT(st.by_error[1].code, HSCAN_EDNS_NXDOMAIN);
    CHECK_INT(st.by_error[2].code, HSCAN_ECANCELED);
    CHECK_INT(st.by_error[2].count, 2);
    CHECK_INT(st.total.count, 5);   /* not the unprobed one */
    CHECK_INT(st.dns.count, 0);
}
