/* netset.c: a set of names, addresses and CIDRs, compiled once and
 * asked many times: cfg.exclude (probe-exclude.c) and cfg.no_proxy
 * (proxy.c) share it.  A leaf: no I/O, no loop.
 *
 * An entry is an IPv4 or IPv6 address ("10.1.2.3", "::1"), a CIDR
 * ("10.0.0.0/8", "2001:db8::/32"; host bits past the prefix ignored),
 * or a host name, which matches itself and its subdomains
 * ("example.com" matches "www.EXAMPLE.com." but not
 * "badexample.com"); a leading or trailing dot is dropped.  An IPv6
 * query in ::ffff:0:0/96 (an IPv4-mapped address, which a dual-stack
 * socket connects to as the IPv4 one) is also asked as that IPv4
 * address, and a rule inside ::ffff:0:0/96 also holds for it.
 *
 * Cost: names in a sorted array, a query asks each of its label
 * suffixes (a binary search each: labels x log2 n); addresses as
 * sorted disjoint ranges per family (CIDRs nest or are apart, so a
 * range inside another is dropped): one binary search, log2 n steps
 * (14 for 10,000 CIDRs). */
#ifndef HSCAN_NETSET_H
#define HSCAN_NETSET_H

#include <stddef.h>
#include <stdint.h>

struct hscan__netset;

enum {
    /* no_proxy's reading: "*" matches everything, and an entry that is
     * neither an address nor a CIDR nor a host name is kept as a name
     * (it then matches nothing), as curl reads NO_PROXY */
    HSCAN__NETSET_LENIENT = 1
};

/* Whether `e` is an entry the strict reading accepts: 0, or -1 with
 * the reason in `why` ("/33: a prefix of 0 to 32"). */
int hscan__netset_check(const char *e, char *why, size_t wsize);

/* Compile the `n` entries of `v` (each read during the call only).
 * `flags`: HSCAN__NETSET_LENIENT or 0 (then a bad entry is refused).
 * Returns 0 with `*out` set, HSCAN_EINVAL with the reason and the
 * entry in `detail`, or HSCAN_ENOMEM. */
int hscan__netset_new(struct hscan__netset **out, const char *const *v,
                      size_t n, int flags, char *detail, size_t dsize);
void hscan__netset_free(struct hscan__netset *s);

/* The entry (as compiled: lower case, no dots at the ends) that host
 * name `host` (`len` bytes; case and a trailing dot ignored) falls
 * under, or NULL. */
const char *hscan__netset_name(const struct hscan__netset *s,
                               const char *host, size_t len);
/* The entry that the address of `family` (4 or 6) in `bytes` falls
 * under, or NULL. */
const char *hscan__netset_addr(const struct hscan__netset *s, int family,
                               const uint8_t *bytes);
/* Entries compiled (after dropping nested ranges and repeats). */
size_t hscan__netset_size(const struct hscan__netset *s);

#endif /* HSCAN_NETSET_H */
