/* hscan-exporter: the facts of one probe, taken from an hscan result,
 * and their rendering as blackbox_exporter's metrics (Prometheus text
 * format 0.0.4).  Batch mode keeps these per target. */
#ifndef EXP_FACTS_H
#define EXP_FACTS_H

#include <stddef.h>

#include <hscan.h>

#include "exp-config.h"

/* A growing output buffer; `failed` once an allocation failed. */
struct exp_buf {
    char *p;
    size_t len, cap;
    int failed;
};

void exp_buf_add(struct exp_buf *b, const char *s, size_t n);
void exp_buf_printf(struct exp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A number as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it. */
void exp_buf_num(struct exp_buf *b, double v);
/* A label value with \\, \" and \n escaped. */
void exp_buf_label(struct exp_buf *b, const char *s, size_t n);

enum { EXP_PHASE_RESOLVE, EXP_PHASE_CONNECT, EXP_PHASE_TLS,
       EXP_PHASE_PROCESSING, EXP_PHASE_TRANSFER, EXP_PHASES };

struct exp_facts {
    double duration;           /* seconds, the whole probe */
    int success;
    int error;                 /* hscan code; 0 */
    int status;
    double http_version;       /* 1.1, 2; 0 without a response */
    long long content_length;  /* -1 unknown, as Go's ContentLength */
    long long body_len;
    int redirects;
    int ssl;                   /* the final response came over TLS */
    double phase[EXP_PHASES];
    double dns_time;
    int ip_proto;              /* 4, 6; 0 when no address was used */
    double ip_hash;
    int failed_regex;          /* reason is one of the regex checks' */
    int has_last_modified;
    double last_modified;
    int has_tls;               /* a certificate arrived */
    double earliest_expiry;
    double last_chain_expiry;
    const char *tls_version;   /* "TLS 1.3" (static), NULL */
    char *leaf_sha256, *leaf_subject, *leaf_issuer, *leaf_dns_names;
    char *anomalies;           /* comma-joined, NULL when none */
    int audit_passed, audit_checks; /* -1: no audit */
    const char *reason;        /* why it failed, a stable name (an hscan
                                  error name, or invalid_status,
                                  header_missing, header_regex,
                                  body_regex, invalid_http_version, ssl,
                                  not_ssl); NULL on success */
    int verified;              /* -1: no certificate */
    long days_left;
};

/* Fill `f` from `r` probed with module `m`; `duration` in seconds. */
void exp_facts_from(struct exp_facts *f, const hscan_result_t *r,
                    const struct exp_module *m, double duration);
void exp_facts_free(struct exp_facts *f);

/* Append the metrics of `n` probes: families in name order, each sample
 * labelled with target="targets[i]" when `targets` is not NULL (batch
 * mode), and `extra` (hscan_* facts blackbox does not have) when set. */
void exp_facts_render(struct exp_buf *b, const struct exp_facts *const *f,
                      const char *const *targets, size_t n);

#endif
