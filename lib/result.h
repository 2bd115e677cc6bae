/* result.c: the JSON record and the scratch space results are built in. */
#ifndef HSCAN_RESULT_H
#define HSCAN_RESULT_H

#include <stddef.h>
#include <openssl/evp.h>
#include "audit.h"
#include "body.h"
#include "hscan.h"
#include "util.h"

/* An HTTP/2 error code's RFC 9113 name ("NO_ERROR"...), or NULL when
 * it has none. */
const char *hscan__h2_code_name(unsigned long code);

/* A JSON string for `n` bytes of `s` (result.c's encoding). */
void hscan__json_str(struct hscan__sb *j, const char *s, size_t n);

/* Fill the parts of a result that need formatting (url, addresses...)
 * into scanner scratch space; returns 0 or HSCAN_ENOMEM. */
struct hscan__scratch {
    char *buf;
    size_t len, cap;
    hscan_header_t *hv;
    size_t hv_cap;
    const char **sv;
    size_t sv_cap;
    hscan_hop_t *hops;
    size_t hops_cap;
    hscan_audit_t audit;        /* cfg.audit: r->audit */
    struct hscan__md sha256;    /* body_sha256: for every probe */
    char audit_str[HSCAN__AUDIT_STRBUF]; /* its strings */
    const char *anomalies[32];  /* r->anomalies */
};
int hscan__scratch_reserve(struct hscan__scratch *s, size_t bytes,
                           size_t headers, size_t strings, size_t hops);
void hscan__scratch_free(struct hscan__scratch *s);
struct hscan__scratch *hscan__scan_scratch(hscan_t *scan);

#endif /* HSCAN_RESULT_H */
