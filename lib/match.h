/* match.c: cfg.matchers and cfg.extract, compiled once per scanner
 * (PCRE2, JIT when it can) and run on each record as it is built. */
#ifndef HSCAN_MATCH_H
#define HSCAN_MATCH_H

#include <stddef.h>
#include "hscan.h"

/* Bounds on one pattern run (pcre2_set_match_limit, depth and heap
 * limits): a run that reaches them is "no match", and the record says
 * "match_limit" in r->anomalies. */
#define HSCAN__MATCH_LIMIT 200000
#define HSCAN__DEPTH_LIMIT 5000
#define HSCAN__HEAP_LIMIT_KIB 4096

struct hscan__match;

/* Whether the matchers or extractors read body bytes (so the probe
 * keeps them). */
int hscan__match_needs_body(const hscan_config_t *c);
/* ... or its words or lines (so body_bytes must be above 0). */
int hscan__match_reads_body(const hscan_config_t *c);
/* Check cfg.matchers and cfg.extract: 0, or HSCAN_EINVAL with the
 * member's name in *field and why in detail (a pattern that does not
 * compile, a bad range, PCRE2 not built in). */
int hscan__match_check(const hscan_config_t *c, const char **field,
                       char *detail, size_t size);
/* The compiled set into *out (NULL when there is nothing to run): 0,
 * HSCAN_EINVAL (as hscan__match_check) or HSCAN_ENOMEM. */
int hscan__match_new(struct hscan__match **out, const hscan_config_t *c);
void hscan__match_free(struct hscan__match *m);
/* Fill r->filtered, r->filtered_by and r->extracts (held by `m` until
 * the next call) from `r` and the body bytes body[0..len) (NULL when
 * none were read).  Returns 1 when a pattern run reached the limits,
 * else 0. */
int hscan__match_eval(struct hscan__match *m, hscan_result_t *r,
                      const char *body, size_t len);

#endif /* HSCAN_MATCH_H */
