/* A compiled set of names, addresses and CIDRs (netset.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "hscan.h"
#include "netset.h"

#define NAME_MAX_LEN 253        /* RFC 1035 2.3.4, without the dot */

/* [lo, hi] of one family (IPv4 in the first 4 bytes), and the entry
 * that made it. */
struct range {
    uint8_t lo[16], hi[16];
    const char *rule;
};

struct hscan__netset {
    int all;                    /* "*" (lenient only) */
    struct range *r4, *r6;      /* sorted by lo, disjoint */
    size_t n4, n6;
    const char **names;         /* sorted, lower case, into text[] */
    size_t n_names;
    char **text;                /* every entry as compiled, owned */
    size_t n_text;
};

enum { E_SKIP, E_ALL, E_NAME, E_ADDR };

struct entry {
    int kind;
    int family;                 /* E_ADDR: 4 or 6 */
    int bits;
    uint8_t addr[16];
    const char *name;           /* E_NAME: into the entry, no dots */
    size_t name_len;
};

static int why_not(char *why, size_t wsize, const char *msg)
{
    if (why && wsize)
        snprintf(why, wsize, "%s", msg);
    return -1;
}

/* "a.b.c.d" or an IPv6 address in `s` (`n` bytes) into `e`. */
static int parse_addr(const char *s, size_t n, struct entry *e)
{
    char tmp[64];

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, e->addr) == 1)
        e->family = 4;
    else if (inet_pton(AF_INET6, tmp, e->addr) == 1)
        e->family = 6;
    else
        return -1;
    e->bits = e->family == 4 ? 32 : 128;
    e->kind = E_ADDR;
    return 0;
}

/* Host name syntax: labels of letters, digits, '-' and '_' (SRV-style
 * names exist), none empty, the last not all digits (that is a
 * mistyped address, never a name), at most 253 bytes. */
static int check_name(const char *s, size_t n, char *why, size_t wsize)
{
    size_t i, label = 0;
    int digits = 1;

    if (n == 0)
        return why_not(why, wsize, "an empty name");
    if (n > NAME_MAX_LEN)
        return why_not(why, wsize, "a name over 253 bytes");
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return why_not(why, wsize, "an empty label");
            label = 0;
            digits = 1;
            continue;
        }
        if (!hscan__is_alpha(c) && !hscan__is_digit(c) && c != '-' &&
            c != '_')
            return why_not(why, wsize, "not an address, CIDR or host "
                           "name (a name holds letters, digits, '-', '_' "
                           "and dots)");
        digits &= hscan__is_digit(c);
        label++;
    }
    if (label == 0)
        return why_not(why, wsize, "an empty label");
    if (digits)
        return why_not(why, wsize, "not an IPv4 address (and a name's "
                       "last label is never all digits)");
    return 0;
}

static int parse_entry(const char *s, int lenient, struct entry *e,
                       char *why, size_t wsize)
{
    const char *slash = strchr(s, '/');
    size_t n = strlen(s);

    memset(e, 0, sizeof(*e));
    if (strcmp(s, "*") == 0) {
        if (lenient) {
            e->kind = E_ALL;
            return 0;
        }
        return why_not(why, wsize, "'*' would exclude every target");
    }
    if (slash) {
        const char *b = slash + 1;
        size_t nb = strlen(b);
        if (parse_addr(s, (size_t)(slash - s), e) == 0 && nb >= 1 &&
            nb <= 3 && strspn(b, "0123456789") == nb &&
            atoi(b) <= e->bits) {
            e->bits = atoi(b);
            return 0;
        }
        if (!lenient)
            return why_not(why, wsize, "not a CIDR (ADDRESS/BITS, bits "
                           "0 to 32 for IPv4, 128 for IPv6)");
    } else if (parse_addr(s, n, e) == 0) {
        return 0;
    }
    /* a name: one dot at each end is dropped (".example.com" is how
     * NO_PROXY often writes "and its subdomains") */
    if (n && s[0] == '.')
        s++, n--;
    if (n && s[n - 1] == '.')
        n--;
    memset(e, 0, sizeof(*e));
    e->kind = E_NAME;
    e->name = s;
    e->name_len = n;
    if (lenient)
        e->kind = n ? E_NAME : E_SKIP;
    else if (check_name(s, n, why, wsize) != 0)
        return -1;
    return 0;
}

int hscan__netset_check(const char *e, char *why, size_t wsize)
{
    struct entry ent;

    return parse_entry(e, 0, &ent, why, wsize);
}

/* Bits past the prefix cleared in lo, set in hi. */
static void to_range(const uint8_t *addr, int width, int bits,
                     struct range *r)
{
    int i;

    for (i = 0; i < width; i++) {
        int keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i
                                                           : 0;
        uint8_t mask = (uint8_t)(keep ? 0xff << (8 - keep) : 0);
        r->lo[i] = addr[i] & mask;
        r->hi[i] = (uint8_t)(addr[i] | (uint8_t)~mask);
    }
}

static const uint8_t mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int is_mapped(const uint8_t *a)
{
    return memcmp(a, mapped_prefix, 12) == 0;
}

/* Lo ascending, and the widest first among equal lo. */
static int cmp4(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    int c = memcmp(x->lo, y->lo, 4);
    return c ? c : memcmp(y->hi, x->hi, 4);
}

static int cmp6(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    int c = memcmp(x->lo, y->lo, 16);
    return c ? c : memcmp(y->hi, x->hi, 16);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort, then drop each range inside the one kept before it.  Two CIDRs
 * nest or are apart; were two to overlap only in part, the kept one
 * grows to cover both, so no address of either is lost. */
static size_t compile_ranges(struct range *r, size_t n, int width)
{
    size_t i, k = 0;

    if (n == 0)
        return 0;
    qsort(r, n, sizeof(*r), width == 4 ? cmp4 : cmp6);
    for (i = 1; i < n; i++) {
        if (memcmp(r[i].lo, r[k].hi, (size_t)width) <= 0) {
            if (memcmp(r[i].hi, r[k].hi, (size_t)width) > 0)
                memcpy(r[k].hi, r[i].hi, (size_t)width);
            continue;
        }
        r[++k] = r[i];
    }
    return k + 1;
}

static size_t compile_names(const char **v, size_t n)
{
    size_t i, k = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_name);
    for (i = 1; i < n; i++)
        if (strcmp(v[i], v[k]) != 0)
            v[++k] = v[i];
    return k + 1;
}

/* Give back what the arrays, sized for every entry, do not hold (a
 * list of names has no ranges).  A failed shrink keeps the block. */
static void shrink(void **p, size_t size)
{
    void *q = realloc(*p, size ? size : 1);

    if (q)
        *p = q;
}

/* Keep entry `e` (text `s`) in `ns`, whose arrays have room. */
static int add_entry(struct hscan__netset *ns, const struct entry *e,
                     const char *s)
{
    char *t;
    size_t i;

    if (e->kind == E_SKIP || e->kind == E_ALL) {
        ns->all |= e->kind == E_ALL;
        return 0;
    }
    if (e->kind == E_NAME) {
        if (!(t = malloc(e->name_len + 1)))
            return HSCAN_ENOMEM;
        for (i = 0; i < e->name_len; i++)
            t[i] = (char)hscan__lower((unsigned char)e->name[i]);
        t[e->name_len] = '\0';
        ns->text[ns->n_text++] = t;
        ns->names[ns->n_names++] = t;
        return 0;
    }
    if (!(t = strdup(s)))
        return HSCAN_ENOMEM;
    ns->text[ns->n_text++] = t;
    if (e->family == 4) {
        to_range(e->addr, 4, e->bits, &ns->r4[ns->n4]);
        ns->r4[ns->n4++].rule = t;
        return 0;
    }
    to_range(e->addr, 16, e->bits, &ns->r6[ns->n6]);
    ns->r6[ns->n6++].rule = t;
    if (is_mapped(e->addr) && e->bits >= 96) {
        to_range(e->addr + 12, 4, e->bits - 96, &ns->r4[ns->n4]);
        ns->r4[ns->n4++].rule = t;
    }
    return 0;
}

int hscan__netset_new(struct hscan__netset **out, const char *const *v,
                      size_t n, int flags, char *detail, size_t dsize)
{
    struct hscan__netset *ns = calloc(1, sizeof(*ns));
    int lenient = (flags & HSCAN__NETSET_LENIENT) != 0;
    size_t i, cap = n ? n : 1;
    int rc = HSCAN_ENOMEM;

    if (!ns)
        return HSCAN_ENOMEM;
    /* at most one range of each family per entry (a mapped one: two) */
    ns->r4 = malloc(cap * sizeof(*ns->r4));
    ns->r6 = malloc(cap * sizeof(*ns->r6));
    ns->names = malloc(cap * sizeof(*ns->names));
    ns->text = malloc(cap * sizeof(*ns->text));
    if (!ns->r4 || !ns->r6 || !ns->names || !ns->text)
        goto fail;
    for (i = 0; i < n; i++) {
        struct entry e;
        char why[160];
        if (parse_entry(v[i], lenient, &e, why, sizeof(why)) != 0) {
            if (detail && dsize)
                snprintf(detail, dsize, "'%.64s': %s", v[i], why);
            rc = HSCAN_EINVAL;
            goto fail;
        }
        if ((rc = add_entry(ns, &e, v[i])) != 0)
            goto fail;
    }
    ns->n4 = compile_ranges(ns->r4, ns->n4, 4);
    ns->n6 = compile_ranges(ns->r6, ns->n6, 16);
    ns->n_names = compile_names(ns->names, ns->n_names);
    shrink((void **)&ns->r4, ns->n4 * sizeof(*ns->r4));
    shrink((void **)&ns->r6, ns->n6 * sizeof(*ns->r6));
    shrink((void **)&ns->names, ns->n_names * sizeof(*ns->names));
    *out = ns;
    return 0;
fail:
    hscan__netset_free(ns);
    return rc;
}

void hscan__netset_free(struct hscan__netset *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n_text; i++)
        free(s->text[i]);
    free(s->text);
    free(s->names);
    free(s->r4);
    free(s->r6);
    free(s);
}

size_t hscan__netset_size(const struct hscan__netset *s)
{
    return s->n4 + s->n6 + s->n_names + (size_t)s->all;
}

/* `q` (`m` bytes, any case) against lower-case entry `e`. */
static int name_order(const char *q, size_t m, const char *e)
{
    size_t i;

    for (i = 0; i < m && e[i]; i++) {
        int a = hscan__lower((unsigned char)q[i]), b = (unsigned char)e[i];
        if (a != b)
            return a - b;
    }
    if (i < m)
        return 1;
    return e[i] ? -1 : 0;
}

static const char *find_name(const struct hscan__netset *s, const char *q,
                             size_t m)
{
    size_t lo = 0, hi = s->n_names;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_order(q, m, s->names[mid]);
        if (c == 0)
            return s->names[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *hscan__netset_name(const struct hscan__netset *s,
                               const char *host, size_t len)
{
    size_t off = 0;

    if (s->all)
        return "*";
    if (len && host[len - 1] == '.')
        len--;
    /* the name, then each parent: "a.b.c", "b.c", "c" */
    while (off < len) {
        const char *hit = find_name(s, host + off, len - off);
        const char *dot;
        if (hit)
            return hit;
        if (!(dot = memchr(host + off, '.', len - off)))
            break;
        off = (size_t)(dot - host) + 1;
    }
    return NULL;
}

/* The last range whose lo is at most `a`, if `a` is inside it. */
static const char *find_range(const struct range *r, size_t n,
                              const uint8_t *a, size_t width)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(r[mid].lo, a, width) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || memcmp(a, r[lo - 1].hi, width) > 0)
        return NULL;
    return r[lo - 1].rule;
}

const char *hscan__netset_addr(const struct hscan__netset *s, int family,
                               const uint8_t *bytes)
{
    const char *hit;

    if (s->all)
        return "*";
    if (family == 4)
        return find_range(s->r4, s->n4, bytes, 4);
    if ((hit = find_range(s->r6, s->n6, bytes, 16)) != NULL)
        return hit;
    return is_mapped(bytes) ? find_range(s->r4, s->n4, bytes + 12, 4)
                            : NULL;
}
