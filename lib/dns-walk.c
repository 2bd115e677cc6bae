/* What a lookup's replies say: the answer walker, which follows the
 * CNAME chain of a reply and picks out the addresses it ends at, and the
 * error a lookup without an address reports.  No lookup state in here,
 * so test/fuzz/fuzz-dns.c can feed the walker any bytes. */
#include <arpa/nameser.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns-int.h"

/* Walk the answer section ourselves (RFC 1035 4.1): follow the CNAME
 * chain from the query name in order, and keep only addresses owned by
 * the end of that chain.  Bounded by the packet length, the record count
 * and HSCAN__MAX_CNAMES, so a looping chain cannot spin. */
struct walk {
    const unsigned char *abuf;
    int alen;
    const unsigned char *p;
    char owner[256];          /* current end of the chain */
};

static int rd16(const unsigned char *p)
{
    return (p[0] << 8) | p[1];
}

static uint32_t rd32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

/* Read the (possibly compressed, RFC 1035 4.1.4) name at w->p into
 * `out` in presentation form, the way ares_expand_name() writes it ('.'
 * and '\\' in a label escaped with '\\', other bytes outside 0x21..0x7e
 * as \\DDD), and step w->p over it.  Our own because the c-ares one
 * allocates and is a measurable share of the per-host cost.  Pointers
 * must point backwards, so a loop cannot spin; a name that does not fit
 * `size` fails.  Returns 0 or -1. */
static int skip_name(struct walk *w, char *out, size_t size)
{
    const unsigned char *p = w->p, *end = w->abuf + w->alen;
    const unsigned char *next = NULL;
    size_t n = 0;

    for (;;) {
        unsigned len;

        if (p >= end)
            return -1;
        len = *p;
        if ((len & 0xc0) == 0xc0) {
            unsigned off;
            if (p + 1 >= end)
                return -1;
            off = ((len & 0x3f) << 8) | p[1];
            if (!next)
                next = p + 2;
            if (w->abuf + off >= p)     /* forward or self: a loop */
                return -1;
            p = w->abuf + off;
            continue;
        }
        if (len & 0xc0)
            return -1;                  /* reserved label types */
        p++;
        if (len == 0)
            break;
        if (p + len > end)
            return -1;
        if (n && n + 1 < size)
            out[n] = '.';
        n += n ? 1 : 0;
        while (len--) {
            unsigned char c = *p++;
            char esc[4];
            size_t k = 0;
            if (c == '.' || c == '\\') {
                esc[k++] = '\\';
                esc[k++] = (char)c;
            } else if (c < 0x21 || c > 0x7e) {
                esc[0] = '\\';
                esc[1] = (char)('0' + c / 100);
                esc[2] = (char)('0' + c / 10 % 10);
                esc[3] = (char)('0' + c % 10);
                k = 4;
            } else {
                esc[k++] = (char)c;
            }
            if (n + k >= size)
                return -1;
            memcpy(out + n, esc, k);
            n += k;
        }
    }
    if (n >= size)
        return -1;
    out[n] = '\0';
    w->p = next ? next : p;
    return 0;
}

static void add_addr(struct hscan__addr *addrs, unsigned *n, int v6,
                     const unsigned char *rd)
{
    struct hscan__addr *ad;

    if (*n >= HSCAN__MAX_ADDRS)
        return;
    ad = &addrs[(*n)++];
    ad->family = v6 ? 6 : 4;
    memcpy(ad->bytes, rd, v6 ? 16 : 4);
}

/* No lookup state in here: test/fuzz/fuzz-dns.c feeds it any bytes. */
int hscan__dns_walk(const unsigned char *abuf, int alen, int v6,
                    struct hscan__addr *addrs, unsigned *n, uint32_t *ttl_min,
                    void (*on_cname)(void *arg, const char *name), void *arg)
{
    struct walk wk = { abuf, alen, abuf + 12, "" };
    const unsigned char *end = abuf + alen;
    char name[256];
    int an, i, found = 0, used = 0;

    if (alen < 12 || rd16(abuf + 4) != 1)
        return -1;
    an = rd16(abuf + 6);
    if (skip_name(&wk, wk.owner, sizeof(wk.owner)) != 0 || wk.p + 4 > end)
        return -1;
    wk.p += 4;
    for (i = 0; i < an; i++) {
        int type, rdlen;
        uint32_t ttl;
        const unsigned char *rd;
        if (skip_name(&wk, name, sizeof(name)) != 0 || wk.p + 10 > end)
            break;
        type = rd16(wk.p);
        ttl = rd32(wk.p + 4);
        rdlen = rd16(wk.p + 8);
        wk.p += 10;
        if (wk.p + rdlen > end)
            break;
        rd = wk.p;
        if (strcasecmp(name, wk.owner) == 0) {
            if (type == T_CNAME && skip_name(&wk, wk.owner,
                                             sizeof(wk.owner)) == 0) {
                if (on_cname)
                    on_cname(arg, wk.owner);
                if (ttl < *ttl_min)
                    *ttl_min = ttl;
                used = 1;
            } else if ((type == T_A && !v6 && rdlen == 4) ||
                       (type == T_AAAA && v6 && rdlen == 16)) {
                add_addr(addrs, n, v6, rd);
                if (ttl < *ttl_min)
                    *ttl_min = ttl;
                found = 1;
            }
        }
        wk.p = rd + rdlen;
    }
    /* Records cut short or names that never end (a pointer loop) before
     * anything usable: the reply is malformed, which is not the same as
     * a name without addresses. */
    if (i < an && !found && !used)
        return -1;
    return found;
}

/* One c-ares outcome as an error, `*why` its detail. */
static int map_status(int st, const char **why)
{
    switch (st) {
    case ARES_ENOTFOUND: *why = "NXDOMAIN"; return HSCAN_EDNS_NXDOMAIN;
    case ARES_ESERVFAIL: *why = "SERVFAIL"; return HSCAN_EDNS_SERVFAIL;
    case ARES_EREFUSED: *why = "REFUSED"; return HSCAN_EDNS_REFUSED;
    case ARES_ETIMEOUT: *why = "no answer"; return HSCAN_EDNS_TIMEOUT;
    case ARES_ENODATA:
    case ARES_SUCCESS: *why = "no A/AAAA record"; return HSCAN_EDNS_NO_ADDRESS;
    case ARES_ENOMEM: *why = "out of memory"; return HSCAN_ERESOURCE_EXHAUSTED;
    case ARES_ECONNREFUSED:
        *why = "no resolver reachable (port closed or socket failed)";
        return HSCAN_EDNS_FAILED;
    }
    *why = ares_strerror(st);
    return HSCAN_EDNS_FAILED;
}

static int rank(int err)
{
    switch (err) {
    case HSCAN_EDNS_NXDOMAIN: return 6;
    case HSCAN_EDNS_SERVFAIL: return 5;
    case HSCAN_EDNS_REFUSED: return 4;
    case HSCAN_ERESOURCE_EXHAUSTED: return 3;
    case HSCAN_EDNS_FAILED: return 3;
    case HSCAN_EDNS_TIMEOUT: return 2;
    }
    return 1;
}

static int is_shortage(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/* Map a pair of c-ares outcomes to one error.  The more telling answer
 * wins: a definite negative beats a transient failure, which beats
 * "no record of this family". */
int hscan__dns_failure(int status_a, int status_aaaa, int sock_errno,
                       const char **fixed, char *detail, size_t dsize)
{
    const char *wa = "no query", *w6 = "no query", *why;
    int ea = status_a >= 0 ? map_status(status_a, &wa) : 0;
    int e6 = status_aaaa >= 0 ? map_status(status_aaaa, &w6) : 0;
    int err = (!e6 || (ea && rank(ea) >= rank(e6))) ? ea : e6;

    why = err == ea ? wa : w6;
    *fixed = why ? why : "failed";
    if (err == HSCAN_EDNS_FAILED && is_shortage(sock_errno)) {
        err = HSCAN_ERESOURCE_EXHAUSTED;
        *fixed = NULL;
        snprintf(detail, dsize, "DNS socket: %s", strerror(sock_errno));
    }
    return err;
}
