/* audit.c, audit-list.c: the security-header audit (docs/audit.md). */
#ifndef HSCAN_AUDIT_H
#define HSCAN_AUDIT_H

#include <stddef.h>
#include "hscan.h"
#include "util.h"

#define HSCAN__AUDIT_STRBUF 600     /* see below */

/* HSCAN__AUDIT_STRBUF:
 * the bytes of `strbuf` hscan__audit() needs, for weak_cookies (at most
 * 512 bytes, then cut with "...") and missing, each NUL-terminated;
 * audit.c asserts that they fit. */

/* Fill `*out` from the final response's `n` headers (any bytes; never
 * read past their lengths); `https`: the response came over TLS.
 * out->weak_cookies and out->missing point into `strbuf` (`size` >=
 * HSCAN__AUDIT_STRBUF), so it must live as long as `*out`.  Pure: no
 * allocation, work linear in the header bytes.  Returns 0, or
 * HSCAN_EINVAL (a NULL pointer or a short `strbuf`; `*out` untouched). */
int hscan__audit(const hscan_header_t *h, size_t n, int https,
                 hscan_audit_t *out, char *strbuf, size_t size);
/* The value of the record's "audit" key: an object, or null when `a` is
 * NULL.  Valid JSON for any bytes in the names it lists.  In result.c,
 * with the rest of the JSON record. */
void hscan__audit_json(struct hscan__sb *j, const hscan_audit_t *a);
/* audit-list.c, for both audit files: the header's name is `lower` (a
 * lowercase literal) in any case; its value as [*s, *e) without HTTP
 * white space at the ends (a NULL value reads as empty). */
int hscan__audit_field_is(const hscan_header_t *h, const char *lower);
void hscan__audit_value(const hscan_header_t *h, const unsigned char **s,
                        const unsigned char **e);
/* audit-list.c: the state (HSCAN_AUDIT_*) of X-Content-Type-Options,
 * X-Frame-Options, Referrer-Policy and Permissions-Policy, each read
 * across all lines of the field. */
int hscan__audit_xcto(const hscan_header_t *h, size_t n);
int hscan__audit_xfo(const hscan_header_t *h, size_t n);
int hscan__audit_referrer(const hscan_header_t *h, size_t n);
int hscan__audit_permissions(const hscan_header_t *h, size_t n);

#endif /* HSCAN_AUDIT_H */
