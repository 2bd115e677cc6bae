/* Facts from the start of a response body (cfg.body_bytes): the HTML
 * title and the body's SHA-256; and from the final headers, the content
 * type and length.  Pure functions over bytes as received: a page may
 * hold any byte, so nothing here assumes NUL termination or valid
 * UTF-8, and each pass is linear in the bytes kept.
 */
#include <string.h>

#include <openssl/evp.h>

#include "ascii.h"
#include "body.h"
#include "hscan.h"
#include "util.h"

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Case-insensitive search for the ASCII `pat` in h[0..n). */
static const char *find_ci(const char *h, size_t n, const char *pat)
{
    size_t m = strlen(pat), i, j;

    for (i = 0; i + m <= n; i++) {
        for (j = 0;
             j < m && hscan__lower((unsigned char)h[i + j]) == pat[j]; j++)
            ;
        if (j == m)
            return h + i;
    }
    return NULL;
}

/* The start of the first "<title" start tag (not "<titles", say). */
static const char *title_tag(const char *html, size_t n)
{
    const char *p = html, *end = html + n;

    while ((p = find_ci(p, (size_t)(end - p), "<title")) != NULL) {
        const char *after = p + 6;
        if (after == end || *after == '>' || *after == '/' ||
            is_space((unsigned char)*after))
            return p;
        p = after;
    }
    return NULL;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        cp = 0xfffd;                /* as HTML parsers do */
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A numeric character reference "&#123;" or "&#x1F600;" at s[0..n):
 * its length (with the ';'), the code point in *cp; 0 if none. */
static size_t numeric_ref(const char *s, size_t n, unsigned long *cp)
{
    size_t i = 2;
    int hex = n > 2 && (s[2] == 'x' || s[2] == 'X');
    unsigned long v = 0;
    size_t digits = 0;

    if (hex)
        i++;
    for (; i < n && i < 16; i++, digits++) {
        int c = hscan__lower((unsigned char)s[i]), d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            break;
        v = v * (hex ? 16 : 10) + (unsigned long)d;
        if (v > 0x10ffff)
            v = 0x110000;           /* too big: stays out of range */
    }
    if (digits == 0 || i >= n || s[i] != ';')
        return 0;
    *cp = v;
    return i + 1;
}

/* The named references a title carries in practice. */
static const struct { const char *name; unsigned long cp; } refs[] = {
    { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
    { "apos;", '\'' }, { "#39;", '\'' }, { "nbsp;", ' ' },
    { "ndash;", 0x2013 }, { "mdash;", 0x2014 }, { "hellip;", 0x2026 },
    { "copy;", 0xa9 }, { "reg;", 0xae }, { "trade;", 0x2122 },
    { "laquo;", 0xab }, { "raquo;", 0xbb }, { "middot;", 0xb7 },
    { "bull;", 0x2022 }, { "rsquo;", 0x2019 }, { "lsquo;", 0x2018 },
    { "rdquo;", 0x201d }, { "ldquo;", 0x201c }, { "euro;", 0x20ac },
};

/* A character reference at s[0..n) (s[0] == '&'): its length, the code
 * point in *cp; 0 when it is not one we decode (kept as text). */
static size_t char_ref(const char *s, size_t n, unsigned long *cp)
{
    size_t i;

    if (n > 1 && s[1] == '#') {
        size_t len = numeric_ref(s, n, cp);
        if (len)
            return len;
    }
    for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        size_t m = strlen(refs[i].name);
        if (m < n && memcmp(s + 1, refs[i].name, m) == 0) {
            *cp = refs[i].cp;
            return m + 1;
        }
    }
    return 0;
}

long hscan__html_title(const char *html, size_t n, char *out, size_t size)
{
    const char *p = title_tag(html, n), *end = html + n, *close;
    size_t w = 0;
    int space = 0;

    if (!p)
        return -1;
    /* skip the rest of the start tag */
    while (p < end && *p != '>')
        p++;
    if (p < end)
        p++;
    /* the text runs to "</title" or to the end of what was read */
    close = find_ci(p, (size_t)(end - p), "</title");
    if (close)
        end = close;
    while (p < end) {
        char buf[4];
        size_t len = 1, k;
        unsigned long cp;
        int c = (unsigned char)*p;

        if (is_space(c)) {
            space = w > 0;
            p++;
            continue;
        }
        if (c == '&' && (len = char_ref(p, (size_t)(end - p), &cp)) > 0) {
            if (cp == ' ') {        /* &nbsp; collapses like a space */
                space = w > 0;
                p += len;
                continue;
            }
            k = put_utf8(buf, cp);
        } else {
            len = 1;
            buf[0] = (char)c;
            k = 1;
        }
        /* a reference never decodes to more bytes than it had, so the
         * title fits in as many bytes as the page gave it */
        if (w + space + k > size)
            break;
        if (space)
            out[w++] = ' ';
        space = 0;
        memcpy(out + w, buf, k);
        w += k;
        p += len;
    }
    return (long)w;
}

int hscan__sha256_hex(EVP_MD **md, EVP_MD_CTX **ctx, const char *data,
                      size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;

    if (!*md && !(*md = EVP_MD_fetch(NULL, "SHA256", NULL)))
        return -1;
    if (!*ctx && !(*ctx = EVP_MD_CTX_new()))
        return -1;
    if (!EVP_DigestInit_ex2(*ctx, *md, NULL) ||
        !EVP_DigestUpdate(*ctx, data, n) ||
        !EVP_DigestFinal_ex(*ctx, dg, &len) || len != 32)
        return -1;
    for (i = 0; i < len; i++) {
        out[2 * i] = hex[dg[i] >> 4];
        out[2 * i + 1] = hex[dg[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

/* Content-Length as a number: digits with optional white space around;
 * -1 for anything else or a value past 2^62. */
long long hscan__content_length(const char *v, size_t n)
{
    long long x = 0;
    size_t i = 0, digits = 0;

    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
        if (x > ((long long)1 << 62) / 10)
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return digits && i == n ? x : -1;
}
