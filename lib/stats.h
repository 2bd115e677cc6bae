/* stats.c: counters and latency histograms behind hscan_stats(). */
#ifndef HSCAN_STATS_H
#define HSCAN_STATS_H

#include <stdint.h>
#include "hscan.h"

#define HSCAN__HIST_MAX_LOG2 40     /* microseconds: 12 days */
#define HSCAN__HIST_BUCKETS (32 + (HSCAN__HIST_MAX_LOG2 - 5) * 32)
#define HSCAN__ERR_SLOTS 128        /* -code; the table stays above -128 */

struct hscan__hist {
    uint64_t count;
    double sum, min, max;
    uint64_t b[HSCAN__HIST_BUCKETS];
};

struct hscan__counts {
    uint64_t by_err[HSCAN__ERR_SLOTS];
    struct hscan__hist total, dns, connect, tls, ttfb;
};

/* Add one duration (negative: the phase did not happen, ignored). */
void hscan__hist_add(struct hscan__hist *h, double ms);
void hscan__hist_summary(const struct hscan__hist *h, hscan_latency_t *out);
/* Count a delivered result; `probed`: it reached a probe (its phase
 * durations are real). */
void hscan__counts_add(struct hscan__counts *c, const hscan_result_t *r,
                       int probed);
/* by_error, n_errors and the latency summaries of `st`. */
void hscan__counts_fill(const struct hscan__counts *c, hscan_stats_t *st);

#endif /* HSCAN_STATS_H */
