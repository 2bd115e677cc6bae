/* cli-input.c: input lines into targets: CIDR ranges and --ports.
 *
 * A layer between reading lines and handing them to the library.  A
 * line is loaded with xin_start() and its targets are taken one at a
 * time with xin_next(), from the pull callback, so a range is an
 * iterator: a /8 (16,777,216 targets) costs this struct and nothing
 * more.  The rules are in docs/cli.md "Input".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hscan.h>

#include "../lib/ascii.h"
#include "cli.h"

enum { XIN_DONE, XIN_ONE, XIN_PORTS, XIN_CIDR, XIN_BAD };

/* A refused range goes to the library as "[" + the line: no target
 * starting with "[" and holding a '/' before its ']' is valid, so the
 * library refuses it (invalid_target) and the record is made, counted
 * and sharded like any other; xin_result() then shows the line as
 * given and the reason. */
#define BAD_MARK '['

static int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* ---- --ports ---- */

static long port_num(const char **p)
{
    long v = 0;
    int digits = 0;

    while (hscan__is_digit(**p)) {
        if (++digits > 5)
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    return digits && v >= 1 && v <= 65535 ? v : -1;
}

static int overlaps(const struct xin *x, long lo, long hi)
{
    unsigned i;

    for (i = 0; i < x->n_ports; i++)
        if (lo <= x->ports[i].hi && hi >= x->ports[i].lo)
            return 1;
    return 0;
}

void xin_ports(struct xin *x, const char *v)
{
    const char *p = v;
    long lo, hi;

    if (x->n_ports)
        cli_bad_value("--ports", v, "given twice (list every port in "
                      "one --ports)");
    for (;;) {
        lo = hi = port_num(&p);
        if (lo > 0 && *p == '-') {
            p++;
            hi = port_num(&p);
        }
        if (lo < 0 || hi < lo || (*p && *p != ','))
            cli_bad_value("--ports", v, "not a list of ports and ranges "
                          "from 1 to 65535 (e.g. 80,443,8000-8010)");
        if (overlaps(x, lo, hi))
            cli_bad_value("--ports", v, "a port is listed twice");
        if (x->n_ports == XIN_PORT_ITEMS)
            cli_bad_value("--ports", v, "more than 1024 items (use "
                          "ranges)");
        x->ports[x->n_ports].lo = (uint16_t)lo;
        x->ports[x->n_ports].hi = (uint16_t)hi;
        x->n_ports++;
        x->n_port_values += (uint32_t)(hi - lo + 1);
        if (!*p++)
            return;
    }
}

/* The k-th port of the list (k < n_port_values). */
static unsigned port_at(const struct xin *x, uint64_t k)
{
    unsigned i;

    for (i = 0; k > (uint64_t)(x->ports[i].hi - x->ports[i].lo); i++)
        k -= (uint64_t)(x->ports[i].hi - x->ports[i].lo) + 1;
    return x->ports[i].lo + (unsigned)k;
}

/* ---- reading a line ---- */

/* Where ":PORT" goes in s[0..n): the end of the authority, after an
 * optional "scheme://".  0 when the line names a port already (or has
 * credentials or no host): such a line is taken as it is, once. */
static size_t port_slot(const char *s, size_t n)
{
    const char *a = s, *end = s + n, *p, *close;

    for (p = s; p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
         *p <= 'Z') || hscan__is_digit(*p) || *p == '+' || *p == '-' ||
         *p == '.'); p++)
        ;
    if (p > s && end - p >= 3 && memcmp(p, "://", 3) == 0)
        a = p + 3;
    for (p = a; p < end && *p != '/' && *p != '?' && *p != '#'; p++)
        ;
    if (p == a || memchr(a, '@', (size_t)(p - a)))
        return 0;
    if (*a == '[') {
        close = memchr(a, ']', (size_t)(p - a));
        return close && close + 1 == p ? (size_t)(p - s) : 0;
    }
    return memchr(a, ':', (size_t)(p - a)) ? 0 : (size_t)(p - s);
}

/* ADDR/LEN or ADDR/LEN:PORT, the whole line, with ADDR an IPv4 address
 * or an IPv6 one (bare or in brackets).  Returns 0 when the line is not
 * of that form, 1 for a range (filled in `r`), -1 for a range refused
 * (r->why says why). */
static int parse_cidr(const char *s, size_t n, struct xin_range *r)
{
    const char *slash = memchr(s, '/', n), *p, *end = s + n;
    char a[INET6_ADDRSTRLEN + 1];
    size_t al;
    unsigned long len = 0;
    unsigned bits, i;

    if (!slash)
        return 0;
    al = (size_t)(slash - s);
    if (al >= 2 && s[0] == '[' && s[al - 1] == ']') {
        s++;
        al -= 2;
        r->family = 6;
    } else {
        r->family = memchr(s, ':', al) ? 6 : 4;
    }
    if (al == 0 || al >= sizeof(a))
        return 0;
    memcpy(a, s, al);
    a[al] = '\0';
    if (inet_pton(r->family == 4 ? AF_INET : AF_INET6, a, r->addr) != 1)
        return 0;
    for (p = slash + 1; p < end && hscan__is_digit(*p); p++)
        len = len < 1000 ? len * 10 + (unsigned long)(*p - '0') : len;
    if (p == slash + 1 || (p < end && *p != ':'))
        return 0;               /* a path: "192.0.2.1/status" */
    bits = r->family == 4 ? 32 : 128;
    r->why = NULL;
    r->port = 0;
    if (len > bits)
        r->why = r->family == 4 ? "CIDR prefix length above 32"
                                : "CIDR prefix length above 128";
    else if (bits - len > XIN_HOST_BITS)
        r->why = "CIDR range larger than 2^24 addresses (/8 for IPv4, "
                 "/104 for IPv6)";
    else if (p < end && (p++, (r->port = (int)port_num(&p)) < 0 || p != end))
        r->why = "port is not a number from 1 to 65535";
    if (r->why)
        return -1;
    for (i = (unsigned)len; i < bits; i++)       /* host bits are ignored */
        r->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    r->n = (uint64_t)1 << (bits - len);
    return 1;
}

/* The index-th address of range `r` as a target host into buf. */
static size_t format_addr(const struct xin_range *r, uint64_t index,
                          char *buf, size_t size)
{
    unsigned char a[16];
    char txt[INET6_ADDRSTRLEN];
    int i, n = r->family == 4 ? 4 : 16;

    memcpy(a, r->addr, sizeof(a));
    for (i = n - 1; i >= 0 && index; i--) {     /* a += index */
        index += a[i];
        a[i] = (unsigned char)index;
        index >>= 8;
    }
    if (n == 4)
        return (size_t)snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2],
                                a[3]);
    inet_ntop(AF_INET6, a, txt, sizeof(txt));
    return (size_t)snprintf(buf, size, "[%s]", txt);
}

static int skipped_line(const char *s, size_t n)
{
    return n == 0 || s[0] == '#';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

/* The number of targets per address (or per plain line): the --ports
 * count, or 1 when the line names its port or there is no --ports. */
static uint64_t per_target(const struct xin *x, int has_port)
{
    return has_port || !x->n_ports ? 1 : x->n_port_values;
}

/* A range's targets in our shard.  Each address is its own host, so
 * each has its own shard: counted one by one up to SHARD_EXACT, beyond
 * that the expected share (a progress total needs no more; hashing a
 * /8 would cost seconds). */
#define SHARD_EXACT 4096

static uint64_t range_share(const struct xin_range *r, uint64_t per,
                            unsigned index, unsigned count)
{
    char buf[64];
    uint64_t i, mine = 0;

    if (r->n * per > SHARD_EXACT)
        return (r->n * per + count - 1 - index) / count;
    for (i = 0; i < r->n; i++) {
        size_t n = format_addr(r, i, buf, sizeof(buf));
        mine += hscan_shard_of(buf, n, count) == index;
    }
    return mine * per;
}

/* A target's shard is its host's: a port added to a line keeps it. */
uint64_t xin_count(const struct xin *x, const char *line, size_t len,
                   unsigned shard_index, unsigned shard_count)
{
    struct xin_range r;
    char bad[XIN_LINE_MAX + 1];
    int kind;
    uint64_t n;

    trim(&line, &len);
    if (skipped_line(line, len))
        return 0;
    kind = len > XIN_LINE_MAX - 1 ? 0 : parse_cidr(line, len, &r);
    if (kind > 0) {
        n = per_target(x, r.port != 0);
        return shard_count > 1 ? range_share(&r, n, shard_index,
                                             shard_count) : r.n * n;
    }
    n = kind < 0 || len > XIN_LINE_MAX - 1 ? 1
        : per_target(x, port_slot(line, len) == 0);
    if (shard_count <= 1)
        return n;
    if (kind < 0) {             /* sharded as the library sees it */
        bad[0] = BAD_MARK;
        memcpy(bad + 1, line, len);
        line = bad;
        len++;
    }
    return hscan_shard_of(line, len, shard_count) == shard_index ? n : 0;
}

void xin_start(struct xin *x, const char *line, size_t len)
{
    int kind = 0;

    trim(&line, &len);
    if (len > XIN_LINE_MAX)
        len = XIN_LINE_MAX;     /* take_line never gives more */
    memcpy(x->line, line, len);
    x->len = len;
    x->k = 0;
    x->total = 1;
    x->kind = XIN_ONE;
    if (skipped_line(line, len) || len > XIN_LINE_MAX - 1)
        return;                 /* the library skips or refuses it */
    kind = parse_cidr(line, len, &x->range);
    if (kind < 0) {
        x->kind = XIN_BAD;
    } else if (kind > 0) {
        x->kind = XIN_CIDR;
        x->total = x->range.n * per_target(x, x->range.port != 0);
    } else if (x->n_ports && (x->slot = port_slot(line, len)) != 0) {
        x->kind = XIN_PORTS;
        x->total = x->n_port_values;
    }
}

/* The k-th target of the loaded line into *line, *len (and *udata). */
static void make(struct xin *x, uint64_t k, const char **line, size_t *len,
                 void **udata)
{
    uint64_t m;
    size_t n;

    *udata = NULL;
    switch (x->kind) {
    case XIN_BAD:
        x->out[0] = BAD_MARK;
        memcpy(x->out + 1, x->line, x->len);
        *line = x->out;
        *len = x->len + 1;
        *udata = (void *)x->range.why;
        return;
    case XIN_PORTS:             /* bytes as given, NULs included */
        memcpy(x->out, x->line, x->slot);
        n = x->slot + (size_t)snprintf(x->out + x->slot, 8, ":%u",
                                       port_at(x, k));
        memcpy(x->out + n, x->line + x->slot, x->len - x->slot);
        n += x->len - x->slot;
        break;
    case XIN_CIDR:
        m = per_target(x, x->range.port != 0);
        n = format_addr(&x->range, k / m, x->out, sizeof(x->out));
        if (x->range.port || x->n_ports)
            n += (size_t)snprintf(x->out + n, sizeof(x->out) - n, ":%u",
                                  x->range.port ? (unsigned)x->range.port
                                                : port_at(x, k % m));
        break;
    default:
        *line = x->line;
        *len = x->len;
        return;
    }
    *line = x->out;
    *len = n;
}

int xin_next(struct xin *x, struct done_set *done, const char **line,
             size_t *len, void **udata)
{
    while (x->kind != XIN_DONE) {
        int bad = x->kind == XIN_BAD;

        make(x, x->k, line, len, udata);
        if (++x->k == x->total)
            x->kind = XIN_DONE;
        /* --resume matches the record's input: the expanded target, or
         * a refused line as given */
        if (done && resume_take(done, *line + bad, *len - (size_t)bad,
                                bad))
            continue;
        return 1;
    }
    return 0;
}

const hscan_result_t *xin_result(const hscan_result_t *r,
                                 hscan_result_t *tmp)
{
    if (!r->udata || r->input_len == 0 || r->input[0] != BAD_MARK)
        return r;
    *tmp = *r;
    tmp->input = r->input + 1;
    tmp->input_len = r->input_len - 1;
    if (r->error == HSCAN_EINVALID_TARGET)
        tmp->error_detail = r->udata;
    return tmp;
}
