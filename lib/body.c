/* Facts from the start of a response body (cfg.body_bytes): the HTML
 * title and the body's SHA-256; and from the final headers, the content
 * type and length.  Computed on the stream, as bytes arrive in any
 * split, so a target in flight keeps no body bytes unless asked
 * (cfg.body_keep): the digest is streamed, and the title tokenizer
 * keeps only the raw text of the title.  A page may hold any byte, so
 * nothing here assumes NUL termination or valid UTF-8, and each pass is
 * linear in the bytes read.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ascii.h"
#include "body.h"
#include "favicon.h"
#include "hscan.h"
#include "util.h"

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
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

/* Today's decoding of the raw title text p[0..n) into out[0..size). */
static long decode(const char *p, size_t n, char *out, size_t size)
{
    const char *end = p + n;
    size_t w = 0;
    int space = 0;

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

/* ---- the streaming title tokenizer ---- */

enum tstate {
    T_SEEK,     /* for "<title" (match: bytes of it seen) */
    T_TAG,      /* in the start tag, up to its '>' */
    T_TEXT,     /* raw text, up to "</title" (match: bytes of it) */
    T_DONE,     /* "</title" seen */
    T_FAIL      /* out of memory: no title */
};

#define TITLE_START 128     /* raw text bytes at first */

void hscan__title_init(struct hscan__title *t, size_t max)
{
    memset(t, 0, sizeof(*t));
    t->max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
}

void hscan__title_free(struct hscan__title *t)
{
    free(t->raw);
    t->raw = NULL;
    t->len = t->cap = 0;
}

/* Add raw text; past t->max it is dropped (only fed bytes come here,
 * and the caller feeds at most max). */
static int add_text(struct hscan__title *t, const char *p, size_t n)
{
    if (n > t->max - t->len)
        n = t->max - t->len;
    if (t->len + n > t->cap) {
        uint32_t cap = t->cap ? t->cap : TITLE_START;
        char *b;
        while (cap < t->len + n)
            cap *= 2;
        if (cap > t->max)
            cap = t->max;
        if (!(b = realloc(t->raw, cap)))
            return -1;
        t->raw = b;
        t->cap = cap;
    }
    if (n)
        memcpy(t->raw + t->len, p, n);
    t->len += (uint32_t)n;
    return 0;
}

/* "<title" then a byte that ends the name, or the end of the bytes
 * (not "<titles").  '<' begins the pattern only, so a mismatch starts
 * over at 1 when the byte is '<', else at 0.  Returns where the start
 * tag's name ended, or NULL when the bytes ran out first. */
static const char *seek_open(struct hscan__title *t, const char *p,
                             const char *end)
{
    while (p < end) {
        int c;
        if (t->match == 0) {
            const char *lt = memchr(p, '<', (size_t)(end - p));
            if (!lt)
                return NULL;
            p = lt + 1;
            t->match = 1;
            continue;
        }
        c = hscan__lower((unsigned char)*p);
        if (t->match == 6) {
            if (c == '>' || c == '/' || is_space(c))
                return p;
            t->match = c == '<';
        } else if (c == "<title"[t->match]) {
            t->match++;
        } else {
            t->match = c == '<';
        }
        p++;
    }
    return NULL;
}

/* Raw text up to "</title", matched as seek_open() matches; every byte
 * is added, and the 7 of "</title" taken off again once all came. */
static int take_text(struct hscan__title *t, const char *p,
                     const char *end)
{
    while (p < end) {
        int c;
        if (t->match == 0) {
            const char *lt = memchr(p, '<', (size_t)(end - p));
            size_t span = lt ? (size_t)(lt - p) + 1 : (size_t)(end - p);
            if (add_text(t, p, span) != 0)
                return -1;
            if (!lt)
                return 0;
            p = lt + 1;
            t->match = 1;
            continue;
        }
        c = hscan__lower((unsigned char)*p);
        if (add_text(t, p++, 1) != 0)
            return -1;
        if (c == "</title"[t->match]) {
            if (++t->match == 7) {
                t->len -= 7;
                t->state = T_DONE;
                return 0;
            }
        } else {
            t->match = c == '<';
        }
    }
    return 0;
}

int hscan__title_feed(struct hscan__title *t, const char *data, size_t n)
{
    const char *p, *end;

    if (n == 0)             /* data may be NULL then */
        return 0;
    p = data;
    end = data + n;
    if (t->state == T_SEEK) {
        if (!(p = seek_open(t, p, end)))
            return 0;
        t->state = T_TAG;
        t->match = 0;
    }
    if (t->state == T_TAG) {
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            return 0;
        p = gt + 1;
        t->state = T_TEXT;
    }
    if (t->state == T_TEXT && take_text(t, p, end) != 0) {
        hscan__title_free(t);
        t->state = T_FAIL;
        return -1;
    }
    return 0;
}

long hscan__title_text(const struct hscan__title *t, char *out,
                       size_t size)
{
    switch (t->state) {
    case T_SEEK:            /* "<title" at the very end counts */
        return t->match == 6 ? 0 : -1;
    case T_TAG:
        return 0;
    case T_TEXT:
    case T_DONE:
        return t->len ? decode(t->raw, t->len, out, size) : 0;
    }
    return -1;
}

long hscan__html_title(const char *html, size_t n, char *out, size_t size)
{
    struct hscan__title t;
    long len = -1;

    hscan__title_init(&t, n);
    if (hscan__title_feed(&t, html, n) == 0)
        len = hscan__title_text(&t, out, size);
    hscan__title_free(&t);
    return len;
}

/* ---- body facts ---- */

#define KEEP_START 4096     /* kept body bytes at first */

const EVP_MD *hscan__md_get(struct hscan__md *m)
{
    if (!m->md)
        m->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    return m->md;
}

void hscan__md_free(struct hscan__md *m)
{
    EVP_MD_CTX_free(m->spare);
    EVP_MD_free(m->md);
    m->spare = NULL;
    m->md = NULL;
}

void hscan__bodyf_start(struct hscan__bodyf *bf, struct hscan__md *md,
                        int keep, size_t max)
{
    struct hscan__bodyx *x = bf->x;

    hscan__bodyf_free(bf);
    memset(bf, 0, sizeof(*bf));
    bf->md = md && hscan__md_get(md) ? md : NULL;
    bf->keep = keep != 0;
    bf->max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
    hscan__title_init(&bf->title, bf->max);
    bf->x = x;                      /* favicon, --hash */
    if (x)
        hscan__bodyx_start(bf);
}

/* The digest context, from the scanner's spare when it has one. */
static int digest_begin(struct hscan__bodyf *bf)
{
    EVP_MD_CTX *c = bf->md->spare;

    if (c)
        bf->md->spare = NULL;
    else if (!(c = EVP_MD_CTX_new()))
        return -1;
    if (!EVP_DigestInit_ex2(c, bf->md->md, NULL)) {
        EVP_MD_CTX_free(c);
        return -1;
    }
    bf->ctx = c;
    return 0;
}

/* Room for n more kept bytes. */
static int keep_room(struct hscan__bodyf *bf, size_t n)
{
    uint32_t cap = bf->cap ? bf->cap : KEEP_START;
    char *b;

    if (bf->len + n <= bf->cap)
        return 0;
    while (cap < bf->len + n)
        cap *= 2;
    if (cap > bf->max)
        cap = bf->max;
    if (!(b = realloc(bf->buf, cap)))
        return -1;
    bf->buf = b;
    bf->cap = cap;
    return 0;
}

int hscan__bodyf_feed(struct hscan__bodyf *bf, const char *data, size_t n)
{
    if (n == 0 || bf->ended)
        return 0;
    if (n > bf->max - bf->len)
        n = bf->max - bf->len;
    if ((bf->md && !bf->ctx && digest_begin(bf) != 0) ||
        (bf->keep && keep_room(bf, n) != 0) ||
        hscan__title_feed(&bf->title, data, n) != 0) {
        hscan__bodyf_end(bf);       /* the bytes before stand */
        return -1;
    }
    if (bf->ctx && !EVP_DigestUpdate(bf->ctx, data, n))
        bf->failed = 1;
    if (bf->keep)
        memcpy(bf->buf + bf->len, data, n);
    if (bf->x)                      /* favicon, --hash */
        hscan__bodyx_feed(bf->x, data, n);
    hscan__wcount_feed(&bf->wc, data, n);      /* words, lines */
    bf->len += (uint32_t)n;
    return 0;
}

/* SHA-256 of no bytes: an empty body needs no context. */
static const unsigned char empty_sha256[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
    0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
    0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

void hscan__bodyf_end(struct hscan__bodyf *bf)
{
    unsigned int len = 0;

    if (bf->ended)
        return;
    bf->ended = 1;
    if (bf->x)                      /* favicon, --hash */
        hscan__bodyx_end(bf->x);
    if (bf->ctx) {
        bf->has_digest = !bf->failed &&
            EVP_DigestFinal_ex(bf->ctx, bf->digest, &len) && len == 32;
        /* the algorithm's state goes now; the context waits for the
         * next body, or is freed when one already waits */
        EVP_MD_CTX_reset(bf->ctx);
        if (!bf->md->spare)
            bf->md->spare = bf->ctx;
        else
            EVP_MD_CTX_free(bf->ctx);
        bf->ctx = NULL;
    } else if (bf->md && bf->len == 0 && !bf->failed) {
        memcpy(bf->digest, empty_sha256, 32);
        bf->has_digest = 1;
    }
}

int hscan__bodyf_hex(const struct hscan__bodyf *bf, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned i;

    if (!bf->has_digest)
        return -1;
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[bf->digest[i] >> 4];
        out[2 * i + 1] = hex[bf->digest[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

void hscan__bodyf_free(struct hscan__bodyf *bf)
{
    EVP_MD_CTX_free(bf->ctx);   /* ended or not: never back to md */
    free(bf->buf);
    hscan__title_free(&bf->title);
    bf->ctx = NULL;
    bf->buf = NULL;
    bf->len = bf->cap = 0;
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
