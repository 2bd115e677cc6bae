/* Latency histograms and per-error counts for hscan_stats().
 *
 * A histogram is log-linear over microseconds: exact below 32 us, then
 * 32 buckets per power of two, so a bucket is at most 1/32 of its value
 * wide and its midpoint is within 1.6% of anything in it.  Adding is a
 * few instructions on the per-result path; percentiles walk the buckets
 * only when asked.
 */
#include <string.h>

#include "stats.h"

#define SUB_BITS 5
#define SUB (1u << SUB_BITS)

static unsigned bucket_of(uint64_t us)
{
    unsigned e;

    if (us < SUB)
        return (unsigned)us;
    if (us >= (uint64_t)1 << HSCAN__HIST_MAX_LOG2)
        return HSCAN__HIST_BUCKETS - 1;
    e = 63u - (unsigned)__builtin_clzll(us);          /* e >= SUB_BITS */
    return SUB + (e - SUB_BITS) * SUB +
           (unsigned)((us >> (e - SUB_BITS)) & (SUB - 1));
}

/* Midpoint of bucket `i`, in microseconds. */
static double bucket_mid(unsigned i)
{
    unsigned e, sub;
    double low, width;

    if (i < SUB)
        return i;
    e = SUB_BITS + (i - SUB) / SUB;
    sub = (i - SUB) % SUB;
    width = (double)((uint64_t)1 << (e - SUB_BITS));
    low = (double)(SUB + sub) * width;
    return low + width / 2;
}

void hscan__hist_add(struct hscan__hist *h, double ms)
{
    uint64_t us;

    if (!(ms >= 0))                     /* -1 (did not happen), NaN */
        return;
    us = ms > 1e15 ? (uint64_t)1e18 : (uint64_t)(ms * 1000.0);
    h->b[bucket_of(us)]++;
    if (h->count == 0 || ms < h->min)
        h->min = ms;
    if (h->count == 0 || ms > h->max)
        h->max = ms;
    h->count++;
    h->sum += ms;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The value at rank ceil(q * count), 1-based. */
static double quantile(const struct hscan__hist *h, double q)
{
    double want = q * (double)h->count;
    uint64_t rank = (uint64_t)want, seen = 0;   /* then rounded up: */
    unsigned i;                                 /* no libm needed */

    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    for (i = 0; i < HSCAN__HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank)
            return clamp(bucket_mid(i) / 1000.0, h->min, h->max);
    }
    return h->max;
}

void hscan__hist_summary(const struct hscan__hist *h, hscan_latency_t *out)
{
    memset(out, 0, sizeof(*out));
    if (h->count == 0)
        return;
    out->count = h->count;
    out->min_ms = h->min;
    out->max_ms = h->max;
    out->mean_ms = h->sum / (double)h->count;
    out->p50_ms = quantile(h, 0.50);
    out->p90_ms = quantile(h, 0.90);
    out->p99_ms = quantile(h, 0.99);
}

void hscan__counts_add(struct hscan__counts *c, const hscan_result_t *r,
                       int probed)
{
    if (r->error < 0 && r->error > -HSCAN__ERR_SLOTS)
        c->by_err[-r->error]++;
    else if (r->error != 0)
        c->by_err[0]++;                 /* not in the table: cannot be */
    if (!probed)
        return;
    hscan__hist_add(&c->total, r->total_ms);
    hscan__hist_add(&c->dns, r->dns_ms);
    hscan__hist_add(&c->connect, r->connect_ms);
    hscan__hist_add(&c->tls, r->tls_ms);
    hscan__hist_add(&c->ttfb, r->ttfb_ms);
}

void hscan__counts_fill(const struct hscan__counts *c, hscan_stats_t *st)
{
    static const int codes[] = {
#define HSCAN_XX_(code, id, name, msg) code,
        HSCAN_ERRNO_MAP(HSCAN_XX_)
#undef HSCAN_XX_
    };
    size_t i;

    st->n_errors = 0;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        uint64_t n = c->by_err[-codes[i]];
        if (n && st->n_errors < HSCAN_STATS_MAX_ERRORS) {
            st->by_error[st->n_errors].code = codes[i];
            st->by_error[st->n_errors].count = n;
            st->n_errors++;
        }
    }
    hscan__hist_summary(&c->total, &st->total);
    hscan__hist_summary(&c->dns, &st->dns);
    hscan__hist_summary(&c->connect, &st->connect);
    hscan__hist_summary(&c->tls, &st->tls);
    hscan__hist_summary(&c->ttfb, &st->ttfb);
}
