/* server-dns.c: the DNS test server's answers (see server-dns.h): a
 * query is parsed and classified by its behaviour label, and the reply
 * is built, independent of the transport; server-dns-net.c does the
 * sockets. */
#include "server-dns-int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TTL 60

#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define T_PRIVATE 65280         /* RFC 6895 private use: filler */

#define RC_NOERROR 0
#define RC_SERVFAIL 2
#define RC_NXDOMAIN 3
#define RC_REFUSED 5

#define BIG_COUNT 1000          /* A records of `big` */
#define CHAIN_HOPS 20           /* CNAMEs of `deep` */
#define LOOP_ROUNDS 10          /* pairs of CNAMEs of `cloop` */

static const struct {
    const char *name;
    enum behaviour b;
} behaviours[] = {
    { "nx", B_NX }, { "servfail", B_SERVFAIL }, { "refused", B_REFUSED },
    { "drop", B_DROP }, { "nodata", B_NODATA }, { "cname", B_CNAME },
    { "multi", B_MULTI }, { "v6", B_V6 }, { "both", B_BOTH },
    { "tc", B_TC }, { "tcclose", B_TCCLOSE }, { "big", B_BIG },
    { "huge", B_HUGE }, { "cut", B_CUT }, { "cut2", B_CUT2 },
    { "badid", B_BADID }, { "badid-only", B_BADID_ONLY },
    { "wrongname", B_WRONGNAME }, { "wrongname-only", B_WRONGNAME_ONLY },
    { "spoof", B_SPOOF }, { "ptrloop", B_PTRLOOP },
    { "ptrloop2", B_PTRLOOP2 }, { "empty", B_EMPTY },
    { "empty-only", B_EMPTY_ONLY }, { "deep", B_DEEP },
    { "cloop", B_CLOOP }, { "zero", B_ZERO }, { "meta", B_META },
    { "mapped", B_MAPPED }, { "echo", B_ECHO }, { "five", B_FIVE },
};

static const unsigned char ip4_lo[4] = { 127, 0, 0, 1 };
static const unsigned char ip4_2[4] = { 127, 0, 0, 2 };
static const unsigned char ip4_3[4] = { 127, 0, 0, 3 };
static const unsigned char ip4_fake[4] = { 127, 0, 0, 66 };
static const unsigned char ip4_zero[4] = { 0, 0, 0, 0 };
static const unsigned char ip4_meta[4] = { 169, 254, 169, 254 };
static const unsigned char ip6_lo[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};
static const unsigned char ip6_mapped[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1
};
static const unsigned char ip6_mapped2[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2
};

/* Parse header + exactly one uncompressed question. 0 or -1. */
int tsrv__dns_parse_query(const unsigned char *pkt, size_t len,
                          struct query *q)
{
    size_t off = 12;

    if (len < 12 || (pkt[2] & 0x80) || ((pkt[2] >> 3) & 0x0f) != 0)
        return -1;
    if (pkt[4] != 0 || pkt[5] != 1)
        return -1;
    q->pkt = pkt;
    q->nlabels = 0;
    for (;;) {
        unsigned l;

        if (off >= len)
            return -1;
        l = pkt[off];
        if (l == 0)
            break;
        if ((l & 0xc0) || off + 1 + l > len || q->nlabels == MAX_LABELS)
            return -1;
        q->loff[q->nlabels] = off + 1;
        q->llen[q->nlabels++] = (unsigned char)l;
        off += 1 + l;
        if (off - 12 > 254)
            return -1;
    }
    off++;
    if (off + 4 > len)
        return -1;
    q->qtype = (unsigned)pkt[off] << 8 | pkt[off + 1];
    q->qend = off + 4;
    return 0;
}

static int label_is(const struct query *q, int i, const char *s)
{
    size_t n = strlen(s);

    return q->llen[i] == n &&
           strncasecmp((const char *)q->pkt + q->loff[i], s, n) == 0;
}

/* One decimal octet, 0..255 without leading zeros, at p[0..n). Returns
 * the number of bytes used, or 0. */
static size_t parse_octet(const char *p, size_t n, unsigned char *out)
{
    size_t i;
    unsigned v = 0;

    for (i = 0; i < n && i < 3 && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    if (i == 0 || v > 255 || (i > 1 && p[0] == '0'))
        return 0;
    *out = (unsigned char)v;
    return i;
}

/* `ip-127-B-C-D` as the first label: q->a becomes 127.B.C.D, so one
 * server (and one wildcard listener) can stand for many hosts; any other
 * first label leaves q->a at 127.0.0.1. */
void tsrv__dns_parse_ip_label(struct query *q)
{
    const char *p;
    size_t n, used;
    unsigned char a[4];
    int i;

    memcpy(q->a, ip4_lo, 4);
    if (q->nlabels == 0)
        return;
    p = (const char *)q->pkt + q->loff[0];
    n = q->llen[0];
    if (n < 3 || strncasecmp(p, "ip-", 3) != 0)
        return;
    p += 3;
    n -= 3;
    for (i = 0; i < 4; i++) {
        if (i > 0) {
            if (n == 0 || *p != '-')
                return;
            p++;
            n--;
        }
        used = parse_octet(p, n, &a[i]);
        if (used == 0)
            return;
        p += used;
        n -= used;
    }
    if (n == 0 && a[0] == 127)
        memcpy(q->a, a, 4);
}

enum behaviour tsrv__dns_classify(const struct query *q)
{
    size_t i;
    int n = q->nlabels;

    if (n == 1 && label_is(q, 0, "localhost"))
        return B_LOCALHOST;
    if (n < 2 || !label_is(q, n - 1, "test"))
        return B_NX;
    for (i = 0; i < sizeof(behaviours) / sizeof(behaviours[0]); i++)
        if (label_is(q, n - 2, behaviours[i].name))
            return behaviours[i].b;
    return B_DEFAULT;
}

/* ---- reply building ---- */

static void put_bytes(struct reply *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        r->len = r->cap;
        return;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static void put16(struct reply *r, unsigned v)
{
    unsigned char b[2];

    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
    put_bytes(r, b, 2);
}

/* Write a dotted name as uncompressed labels. */
static void put_name(struct reply *r, const char *name)
{
    unsigned char n;

    while (*name) {
        n = (unsigned char)strcspn(name, ".");
        put_bytes(r, &n, 1);
        put_bytes(r, name, n);
        name += n;
        if (*name == '.')
            name++;
    }
    n = 0;
    put_bytes(r, &n, 1);
}

/* Type, class IN and TTL after an owner name already written. */
static void put_rr_tail(struct reply *r, unsigned type)
{
    put16(r, type);
    put16(r, 1);
    put16(r, TTL >> 16);
    put16(r, TTL & 0xffff);
    r->ancount++;
}

/* Owner (NULL: pointer to the question name), type, class IN, TTL. */
static void put_rr_head(struct reply *r, const char *owner, unsigned type)
{
    if (owner)
        put_name(r, owner);
    else
        put16(r, 0xc00c);
    put_rr_tail(r, type);
}

static void put_addr(struct reply *r, const char *owner, unsigned type,
                     const unsigned char *addr)
{
    size_t n = type == T_A ? 4 : 16;

    put_rr_head(r, owner, type);
    put16(r, (unsigned)n);
    put_bytes(r, addr, n);
}

/* Fill in the RDLENGTH field at `at` for the rdata written since. */
static void set_rdlen(struct reply *r, size_t at)
{
    size_t n = r->len - at - 2;

    if (at + 2 <= r->len) {
        r->buf[at] = (unsigned char)(n >> 8);
        r->buf[at + 1] = (unsigned char)n;
    }
}

static void put_cname(struct reply *r, const char *owner,
                      const char *target)
{
    size_t at;

    put_rr_head(r, owner, T_CNAME);
    at = r->len;
    put16(r, 0);
    put_name(r, target);
    set_rdlen(r, at);
}

/* A CNAME owned by the name at `owner` (a compression pointer).  Its
 * target is `label` before the question's final `test` label, or with
 * no label the name at `ptr`.  Returns the target's offset.  Compressed
 * so that a long chain still fits a 512-byte UDP reply. */
static size_t put_cname_ptr(struct reply *r, const struct query *q,
                            size_t owner, const char *label, size_t ptr)
{
    size_t at, target;
    unsigned char n;

    put16(r, 0xc000 | (unsigned)owner);
    put_rr_tail(r, T_CNAME);
    at = r->len;
    put16(r, 0);
    target = r->len;
    if (label) {
        n = (unsigned char)strlen(label);
        put_bytes(r, &n, 1);
        put_bytes(r, label, n);
        ptr = q->loff[q->nlabels - 1] - 1;
    }
    put16(r, 0xc000 | (unsigned)ptr);
    set_rdlen(r, at);
    return label ? target : ptr;
}

/* `deep`: the question name -> h1.test -> ... -> h20.test, then A
 * 127.0.0.1 for the last; `cloop`: the question name -> l1.test -> the
 * question name, LOOP_ROUNDS times over, and no address. */
static void put_chain(struct reply *r, const struct query *q, int loop)
{
    char label[8];
    size_t owner = 12, l1 = 0;
    int i;

    if (loop) {
        for (i = 0; i < LOOP_ROUNDS; i++) {
            l1 = put_cname_ptr(r, q, 12, i ? NULL : "l1", l1);
            put_cname_ptr(r, q, l1, NULL, 12);
        }
        return;
    }
    for (i = 1; i <= CHAIN_HOPS; i++) {
        snprintf(label, sizeof(label), "h%d", i);
        owner = put_cname_ptr(r, q, owner, label, 0);
    }
    if (q->qtype == T_A) {
        put16(r, 0xc000 | (unsigned)owner);
        put_rr_tail(r, T_A);
        put16(r, 4);
        put_bytes(r, ip4_lo, 4);
    }
}

/* An A record whose owner name never ends: a pointer to itself
 * (`ptrloop`), or a label followed by a pointer back to that label
 * (`ptrloop2`, the classic "a.a.a.a..."). */
static void put_ptr_loop(struct reply *r, int with_label)
{
    size_t at = r->len;

    if (with_label)
        put_bytes(r, "\001a", 2);
    put16(r, 0xc000 | (unsigned)at);
    put_rr_tail(r, T_A);
    put16(r, 4);
    put_bytes(r, ip4_lo, 4);
}

/* `big`: BIG_COUNT A records, 127.0.0.1 first, then 127.1.x.y. */
static void put_big(struct reply *r)
{
    unsigned char a[4] = { 127, 1, 0, 0 };
    unsigned i;

    put_addr(r, NULL, T_A, ip4_lo);
    for (i = 1; i < BIG_COUNT; i++) {
        a[2] = (unsigned char)(i >> 8);
        a[3] = (unsigned char)i;
        put_addr(r, NULL, T_A, a);
    }
}

/* `huge`: A 127.0.0.1, then A 127.2.x.y records and one private-type
 * filler record, so that the reply is exactly REPLY_MAX bytes. */
static void put_huge(struct reply *r)
{
    unsigned char a[4] = { 127, 2, 0, 0 };
    size_t left, k, i;

    put_addr(r, NULL, T_A, ip4_lo);
    left = REPLY_MAX - r->len - 12;     /* 12: the filler's own head */
    k = left / 16;
    for (i = 0; i < k; i++) {
        a[2] = (unsigned char)(i >> 8);
        a[3] = (unsigned char)i;
        put_addr(r, NULL, T_A, a);
    }
    put_rr_head(r, NULL, T_PRIVATE);
    put16(r, (unsigned)(left % 16));
    while (r->len < REPLY_MAX)
        put_bytes(r, "x", 1);
}

/* Answer section for a NOERROR behaviour; `a` replaces 127.0.0.1 in
 * answers for the question name itself.  `tcp`: the reply goes over
 * TCP, where `huge` is whole. */
static void put_answers(struct reply *r, const struct query *q,
                        enum behaviour b, int tcp)
{
    unsigned qtype = q->qtype;

    switch (b) {
    case B_CNAME:
        put_cname(r, NULL, "hop1.cnamed.test");
        put_cname(r, "hop1.cnamed.test", "hop2.fast.test");
        if (qtype == T_A)
            put_addr(r, "hop2.fast.test", T_A, ip4_lo);
        break;
    case B_MULTI:
        if (qtype == T_A) {
            put_addr(r, NULL, T_A, ip4_3);
            put_addr(r, NULL, T_A, q->a);
        }
        break;
    case B_V6:
        if (qtype == T_AAAA)
            put_addr(r, NULL, T_AAAA, ip6_lo);
        break;
    case B_BOTH:
        if (qtype == T_AAAA)
            put_addr(r, NULL, T_AAAA, ip6_lo);
        if (qtype == T_A)
            put_addr(r, NULL, T_A, q->a);
        break;
    case B_DEEP:
    case B_CLOOP:
        put_chain(r, q, b == B_CLOOP);
        break;
    case B_FIVE:
        if (qtype == T_A) {
            put_addr(r, NULL, T_A, ip4_lo);
            put_addr(r, NULL, T_A, ip4_2);
            put_addr(r, NULL, T_A, ip4_3);
        }
        if (qtype == T_AAAA) {
            put_addr(r, NULL, T_AAAA, ip6_lo);
            put_addr(r, NULL, T_AAAA, ip6_mapped2);
        }
        break;
    case B_MAPPED:
        if (qtype == T_AAAA)
            put_addr(r, NULL, T_AAAA, ip6_mapped);
        break;
    case B_NODATA:
        break;
    default:
        if (qtype != T_A)
            break;
        if (b == B_BIG)
            put_big(r);
        else if (b == B_HUGE && tcp)
            put_huge(r);
        else if (b == B_HUGE)
            ;                   /* UDP: TC=1 and nothing */
        else if (b == B_PTRLOOP || b == B_PTRLOOP2)
            put_ptr_loop(r, b == B_PTRLOOP2);
        else if (b == B_FAKE || (!tcp && (b == B_TC || b == B_TCCLOSE)))
            put_addr(r, NULL, T_A, ip4_fake);
        else if (b == B_ZERO || b == B_META)
            put_addr(r, NULL, T_A, b == B_ZERO ? ip4_zero : ip4_meta);
        else if (b == B_CUT2) {
            put_addr(r, NULL, T_A, ip4_lo);
            put_addr(r, NULL, T_A, ip4_2);
        } else
            put_addr(r, NULL, T_A, q->a);
        break;
    }
}

static unsigned rcode_of(enum behaviour b)
{
    switch (b) {
    case B_NX:
        return RC_NXDOMAIN;
    case B_SERVFAIL:
        return RC_SERVFAIL;
    case B_REFUSED:
        return RC_REFUSED;
    default:
        return RC_NOERROR;
    }
}

void tsrv__dns_build_reply(unsigned char *buf, const struct query *q,
                           enum behaviour b, int tcp, struct reply *r)
{
    unsigned rcode = rcode_of(b);
    int trunc = !tcp && (b == B_TC || b == B_TCCLOSE || b == B_HUGE);

    r->buf = buf;
    r->cap = REPLY_MAX;
    r->len = 0;
    r->ancount = 0;
    put_bytes(r, q->pkt, 2);                    /* ID */
    r->buf[r->len++] = (unsigned char)(0x84 | (trunc ? 0x02 : 0) |
                                       (q->pkt[2] & 0x01));
    r->buf[r->len++] = (unsigned char)(0x80 | rcode);
    put16(r, 1);
    put16(r, 0);                                /* ANCOUNT, set below */
    put16(r, 0);
    put16(r, 0);
    put_bytes(r, q->pkt + 12, q->qend - 12);
    r->an_off = r->len;
    if (rcode == RC_NOERROR)
        put_answers(r, q, b, tcp);
    r->buf[6] = (unsigned char)(r->ancount >> 8);
    r->buf[7] = (unsigned char)r->ancount;
}
