/* Parsing one input line into host, port and path.
 *
 * Accepted: `name`, `name:port`, `http://name[:port][/path?query]`, IPv4
 * literals, `[IPv6]` with an optional port.  Every refusal names its
 * reason, because an operator fixing a list of a million lines needs to
 * know which rule a line broke.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "hscan.h"
#include "target.h"
#include "util.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

int hscan__target_skip(const char **line, size_t *len)
{
    const char *s = *line;
    size_t n = *len;

    while (n > 0 && is_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    *line = s;
    *len = n;
    return n == 0 || s[0] == '#';
}

static int prefix_ci(const char *s, size_t n, const char *p)
{
    size_t i, pn = strlen(p);

    if (n < pn)
        return 0;
    for (i = 0; i < pn; i++)
        if (hscan__lower((unsigned char)s[i]) != p[i])
            return 0;
    return 1;
}

/* RFC 1123 host names, plus '_' which real DNS data is full of. */
static const char *check_name(const char *h, size_t n)
{
    size_t i, label = 0;
    int all_num = 1;

    if (n > 0 && h[n - 1] == '.')
        n--;                              /* absolute form "example.com." */
    if (n == 0)
        return "empty host";
    if (n > 253)
        return "host name longer than 253 characters";
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '.') {
            if (label == 0)
                return "empty label in host name";
            label = 0;
            continue;
        }
        if (++label > 63)
            return "host name label longer than 63 characters";
        if (c >= 0x80)
            return "non-ASCII host name (use its xn-- form)";
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return "invalid character in host name";
        if (c < '0' || c > '9')
            all_num = 0;
    }
    if (label == 0)
        return "empty label in host name";
    if (all_num)
        return "malformed IPv4 address";
    return NULL;
}

static int parse_port(const char *s, size_t n, int *port)
{
    size_t i;
    long v = 0;

    if (n == 0 || n > 5)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

static const char *parse_host(const char *a, size_t n,
                              struct hscan__target *t)
{
    const char *colon = NULL;
    char tmp[64];

    if (n > 0 && a[0] == '[') {
        const char *end = memchr(a, ']', n);
        size_t hl;
        if (!end)
            return "unterminated '[' in IPv6 address";
        hl = (size_t)(end - a - 1);
        if (hl == 0 || hl >= sizeof(tmp))
            return "malformed IPv6 address";
        memcpy(tmp, a + 1, hl);
        tmp[hl] = '\0';
        if (memchr(tmp, '%', hl))
            return "IPv6 zone identifiers are not supported";
        if (inet_pton(AF_INET6, tmp, tmp + 32) != 1)
            return "malformed IPv6 address";
        t->host = a + 1;
        t->host_len = hl;
        t->family = 6;
        if (end + 1 < a + n) {
            if (end[1] != ':')
                return "unexpected text after IPv6 address";
            colon = end + 1;
        }
    } else {
        const char *why;
        colon = memchr(a, ':', n);
        t->host = a;
        t->host_len = colon ? (size_t)(colon - a) : n;
        if (t->host_len > 0 && t->host_len < 16) {
            memcpy(tmp, a, t->host_len);
            tmp[t->host_len] = '\0';
            if (inet_pton(AF_INET, tmp, tmp + 32) == 1)
                t->family = 4;
        }
        if (t->family == 0 && (why = check_name(t->host, t->host_len)))
            return why;
    }
    if (colon && parse_port(colon + 1, (size_t)(a + n - colon - 1),
                            &t->port) != 0)
        return "port is not a number from 1 to 65535";
    return NULL;
}

static const char *check_path(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f)
            return "space or control character in path";
        if (c >= 0x80)
            return "non-ASCII byte in path (percent-encode it)";
    }
    return NULL;
}

int hscan__target_parse(const char *line, size_t len,
                        struct hscan__target *out, const char **why)
{
    struct hscan__target t;
    const char *a = line, *end = line + len, *auth_end, *frag;

    memset(&t, 0, sizeof(t));
    if (len > HSCAN__MAX_LINE) {
        *why = "line longer than 8192 bytes";
        return HSCAN_EINVALID_TARGET;
    }
    if (prefix_ci(a, len, "http://")) {
        a += 7;
        t.scheme = HSCAN__HTTP;
    } else if (prefix_ci(a, len, "https://")) {
        a += 8;
        t.scheme = HSCAN__HTTPS;
    } else {
        const char *sep = memchr(line, ':', len);
        if (sep && sep + 2 < end && sep[1] == '/' && sep[2] == '/') {
            *why = "unsupported URL scheme";
            return HSCAN_EINVALID_TARGET;
        }
    }
    frag = memchr(a, '#', (size_t)(end - a));
    if (frag)
        end = frag;
    for (auth_end = a; auth_end < end; auth_end++)
        if (*auth_end == '/' || *auth_end == '?')
            break;
    if (memchr(a, '@', (size_t)(auth_end - a))) {
        *why = "credentials in the target are not supported";
        return HSCAN_EINVALID_TARGET;
    }
    if ((*why = parse_host(a, (size_t)(auth_end - a), &t)) != NULL)
        return HSCAN_EINVALID_TARGET;
    t.path = auth_end;
    t.path_len = (size_t)(end - auth_end);
    if ((*why = check_path(t.path, t.path_len)) != NULL)
        return HSCAN_EINVALID_TARGET;
    *out = t;
    return 0;
}

/* ---- redirects: RFC 3986 section 5.2 reference resolution ---- */

/* Remove "." and ".." segments from `p` (n bytes) in place (5.2.4);
 * returns the new length.  The path always starts with '/'. */
static size_t remove_dots(char *p, size_t n)
{
    size_t in = 0, out = 0;

    while (in < n) {
        size_t seg_end = in + 1;
        while (seg_end < n && p[seg_end] != '/')
            seg_end++;
        /* segment is p[in+1 .. seg_end) */
        if (seg_end - in == 2 && p[in + 1] == '.') {
            if (seg_end == n)
                p[out++] = '/';
        } else if (seg_end - in == 3 && p[in + 1] == '.' && p[in + 2] == '.') {
            while (out > 0 && p[--out] != '/')
                ;
            if (seg_end == n)
                p[out++] = '/';
        } else {
            memmove(p + out, p + in, seg_end - in);
            out += seg_end - in;
        }
        in = seg_end;
    }
    if (out == 0)
        p[out++] = '/';
    return out;
}

static int has_scheme(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == ':')
            return i > 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
                         c == '.'))))
            return 0;
    }
    return 0;
}

int hscan__url_resolve(const char *base, const char *ref, size_t ref_len,
                       char *out, size_t size)
{
    const char *auth = strstr(base, "://"), *bpath, *q;
    size_t scheme_len, n, plen;

    if (!auth || ref_len == 0 || ref_len >= size / 2)
        return -1;
    scheme_len = (size_t)(auth - base);
    auth += 3;
    bpath = auth + strcspn(auth, "/?#");
    if (has_scheme(ref, ref_len)) {
        memcpy(out, ref, ref_len);
        out[ref_len] = '\0';
        return 0;
    }
    if (ref_len >= 2 && ref[0] == '/' && ref[1] == '/') {   /* //host/p */
        n = (size_t)snprintf(out, size, "%.*s:%.*s", (int)scheme_len, base,
                             (int)ref_len, ref);
        return n < size ? 0 : -1;
    }
    n = (size_t)snprintf(out, size, "%.*s", (int)(bpath - base), base);
    if (n >= size)
        return -1;
    plen = strcspn(bpath, "?#");
    if (ref[0] == '/') {
        if (n + ref_len + 1 > size)
            return -1;
        memcpy(out + n, ref, ref_len);
    } else if (ref[0] == '?') {
        if (n + plen + ref_len + 2 > size)
            return -1;
        out[n] = '/';
        memcpy(out + n, plen ? bpath : "/", plen ? plen : 1);
        n += plen ? plen : 1;
        memcpy(out + n, ref, ref_len);
    } else {
        /* merge: the base path up to its last '/', then the reference */
        size_t dir = plen;
        while (dir > 0 && bpath[dir - 1] != '/')
            dir--;
        if (n + dir + ref_len + 2 > size)
            return -1;
        if (dir == 0) {
            out[n++] = '/';
        } else {
            memcpy(out + n, bpath, dir);
            n += dir;
        }
        memcpy(out + n, ref, ref_len);
    }
    n += ref_len;
    out[n] = '\0';
    /* dots are removed from the path part only, never the query or a
     * fragment ("./.#x" is the directory, not a segment ".#x") */
    q = strpbrk(out + (bpath - base), "?#");
    plen = q ? (size_t)(q - (out + (bpath - base)))
             : n - (size_t)(bpath - base);
    {
        char *p = out + (bpath - base);
        size_t tail = n - (size_t)(bpath - base) - plen;
        size_t newp = remove_dots(p, plen);
        memmove(p + newp, p + plen, tail + 1);
    }
    return 0;
}
