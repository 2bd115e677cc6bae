/* dns.c, dns-io.c, dns-walk.c: c-ares on the uv loop.  A leaf: it
 * knows nothing of probes or scanners. */
#ifndef HSCAN_DNS_H
#define HSCAN_DNS_H

#include <stdint.h>
#include <uv.h>

#define HSCAN__MAX_ADDRS 16     /* addresses kept per lookup */
#define HSCAN__MAX_CNAMES 16    /* CNAME hops kept per lookup */

struct hscan__addr {
    uint8_t family;     /* 4 or 6 */
    uint8_t bytes[16];
};

struct hscan__dns_answer {
    struct hscan__addr addrs[HSCAN__MAX_ADDRS];
    unsigned n_addrs;
    char *cnames;       /* n_cnames NUL-terminated names back to back;
                           owned by the receiver (free()) */
    unsigned n_cnames;
};

struct hscan__dns;
struct hscan__dnsq;

/* `err` 0 means `ans` holds at least one address.  `ans` is the
 * receiver's to keep (including ans->cnames) in every case; `detail`
 * (NULL when `err` is 0) is valid during the call only. */
typedef void (*hscan__dns_cb)(void *ctx, int err, const char *detail,
                              struct hscan__dns_answer *ans);

struct hscan__dns_opts {
    const char *resolvers;      /* "ip[:port],..." or NULL: resolv.conf */
    uint64_t timeout_ms;        /* one lookup, both tries */
    unsigned rate;              /* queries per second per resolver; 0 */
    unsigned cache_max;         /* answers kept; 0: none (still shared) */
};

struct hscan__dns_stats {
    uint64_t lookups;           /* lookups sent (retries included) */
    uint64_t cache_hits;        /* answered from the cache */
    uint64_t coalesced;         /* joined a lookup already on its way */
    uint64_t retries;           /* SERVFAIL/REFUSED asked again */
};

int hscan__dns_new(struct hscan__dns **out, uv_loop_t *loop,
                   const struct hscan__dns_opts *opt,
                   char *detail, size_t dsize);
void hscan__dns_stats(const struct hscan__dns *d,
                      struct hscan__dns_stats *out);
/* Look up `name` (read during the call only); `family` 0 (both), 4 or
 * 6.  Lookups of one name and family share one query while it is on its
 * way, and a finished answer is reused while its TTL lasts (see dns.c).
 * `cb(ctx, ...)` runs exactly once, from the loop and never before this
 * returns: an answer from the cache, one shared with a lookup that has
 * just finished, "localhost" and a local failure (c-ares refusing the
 * query, no socket) come on a later loop turn like any network answer.
 * After hscan__dns_detach(q) or hscan__dns_close() it never runs.
 * Loop thread only; legal inside the callbacks of `d`.
 * Returns the query, valid until its callback is called, detached or the
 * channel closed; NULL when it could not be created (out of memory),
 * and then `cb` never runs. */
struct hscan__dnsq *hscan__dns_resolve(struct hscan__dns *d, const char *name,
                                       int family, hscan__dns_cb cb,
                                       void *ctx);
/* Forget `q`, whose callback has not been called: it never will be, and
 * `q` is freed, whether its lookup waits to be sent, is on its way or is
 * answered with the answer not yet told.  The lookup itself goes on for
 * other callers and the cache.  Loop thread only; legal in callbacks. */
void hscan__dns_detach(struct hscan__dnsq *q);
/* uv_now() when the lookup behind `q` was last sent; 0 while it waits
 * for the pacing window or the --dns-rate cap, and once its answer is
 * in, waiting to be told on the next loop turn. */
uint64_t hscan__dns_sent_ms(const struct hscan__dnsq *q);
/* Destroy the channel and close every handle; `done(arg)` runs from the
 * last close callback.  Queries not yet told (waiting or answered) are
 * freed and their callbacks never run.  Loop thread only; not inside a
 * callback of `d` (the scanner closes from its own handle). */
void hscan__dns_close(struct hscan__dns *d, void (*done)(void *), void *arg);
/* Walk the answer section of one A (or, `v6`, AAAA) reply of `alen`
 * bytes: follow the CNAME chain from the question name, calling
 * `on_cname` (unless NULL) with each target in presentation form, and
 * append the addresses owned by the end of the chain to `addrs` (`*n`
 * used, at most HSCAN__MAX_ADDRS kept), lowering `*ttl_min` to the
 * smallest TTL used.  Returns 1 when an address was found, 0 when none,
 * -1 when the header, the question or the answer records up to the first
 * one used (a CNAME of the chain or an address) cannot be read. */
int hscan__dns_walk(const unsigned char *abuf, int alen, int v6,
                    struct hscan__addr *addrs, unsigned *n, uint32_t *ttl_min,
                    void (*on_cname)(void *arg, const char *name), void *arg);

#endif /* HSCAN_DNS_H */
