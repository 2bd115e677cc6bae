/* The icon link finder (favicon.h): a small tokenizer over the body
 * bytes as they arrive, like body.c's title tokenizer.  It looks only
 * for "<link" start tags, reads each one (quotes respected, so a '>'
 * inside a value does not end it) into a buffer of at most
 * HSCAN__LINK_TAG_MAX bytes, and picks rel and href from its
 * attributes.  Linear in the bytes fed; at most one tag buffer and one
 * href live at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "favicon.h"

enum lstate {
    L_SEEK,     /* for "<link" (match: bytes of it seen) */
    L_TAG,      /* in a link tag, up to its '>' */
    L_SKIP,     /* in a tag too long to read: to its '>' */
    L_DONE      /* a rel="icon" was found: nothing more to look for */
};

#define ieq(s, n, lit) hscan__ieq((const unsigned char *)(s), n, lit)

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

void hscan__link_free(struct hscan__link *l)
{
    free(l->tag);
    free(l->href);
    l->tag = l->href = NULL;
    l->len = 0;
}

const char *hscan__link_href(const struct hscan__link *l)
{
    return l->rank ? l->href : NULL;
}

/* 1 when the rel value v[0..n) has the token "icon", 2 when it has
 * "apple-touch-icon" or "apple-touch-icon-precomposed", else 0. */
static int rel_rank(const char *v, size_t n)
{
    size_t i = 0;
    int rank = 0;

    while (i < n) {
        size_t s;
        while (i < n && is_space((unsigned char)v[i]))
            i++;
        for (s = i; i < n && !is_space((unsigned char)v[i]); i++)
            ;
        if (ieq(v + s, i - s, "icon"))
            return 1;
        if (ieq(v + s, i - s, "apple-touch-icon") ||
            ieq(v + s, i - s, "apple-touch-icon-precomposed"))
            rank = 2;
    }
    return rank;
}

/* Keep href v[0..n) (NUL bytes dropped, "&amp;" decoded, trimmed) for
 * `rank`; an href of nothing else is no href. */
static void take_href(struct hscan__link *l, const char *v, size_t n,
                      int rank)
{
    char *h;
    size_t i, s = 0, w = 0;

    if (n == 0 || !(h = malloc(n + 1)))
        return;                     /* no memory: as if no link */
    for (i = 0; i < n; i++) {
        if (v[i] == '\0')
            continue;               /* a URL holds none: the C string
                                       would end there */
        h[w++] = v[i];
        if (v[i] == '&' && n - i >= 5 && memcmp(v + i, "&amp;", 5) == 0)
            i += 4;
    }
    while (s < w && is_space((unsigned char)h[s]))
        s++;
    while (w > s && is_space((unsigned char)h[w - 1]))
        w--;
    if (w == s) {
        free(h);
        return;
    }
    memmove(h, h + s, w - s);
    h[w - s] = '\0';
    free(l->href);
    l->href = h;
    l->rank = (unsigned char)rank;
}

/* The attributes of a whole tag t[0..n) (after "<link", before '>'). */
static void tag_done(struct hscan__link *l, const char *t, size_t n)
{
    const char *href = NULL;
    size_t i = 0, href_len = 0;
    int rank = 0;

    while (i < n) {
        size_t ns, ne, vs = 0, ve = 0;
        while (i < n && (is_space((unsigned char)t[i]) || t[i] == '/'))
            i++;
        for (ns = i; i < n && !is_space((unsigned char)t[i]) &&
                     t[i] != '/' && t[i] != '='; i++)
            ;
        ne = i;
        while (i < n && is_space((unsigned char)t[i]))
            i++;
        if (i < n && t[i] == '=') {
            i++;
            while (i < n && is_space((unsigned char)t[i]))
                i++;
            if (i < n && (t[i] == '"' || t[i] == '\'')) {
                char q = t[i++];
                for (vs = i; i < n && t[i] != q; i++)
                    ;
                ve = i;
                if (i < n)
                    i++;
            } else {
                for (vs = i; i < n && !is_space((unsigned char)t[i]); i++)
                    ;
                ve = i;
            }
        }
        if (ieq(t + ns, ne - ns, "rel") && !rank)
            rank = rel_rank(t + vs, ve - vs);
        else if (ieq(t + ns, ne - ns, "href") && !href) {
            href = t + vs;
            href_len = ve - vs;
        }
    }
    if (!rank || !href || (l->rank && l->rank <= rank))
        return;
    take_href(l, href, href_len, rank);
    if (l->rank == 1)
        l->state = L_DONE;
}

/* "<link" then a byte that ends the name (not "<linked"). */
static const char *seek(struct hscan__link *l, const char *p,
                        const char *end)
{
    while (p < end) {
        int c;
        if (l->match == 0) {
            const char *lt = memchr(p, '<', (size_t)(end - p));
            if (!lt)
                return NULL;
            p = lt + 1;
            l->match = 1;
            continue;
        }
        c = hscan__lower((unsigned char)*p);
        if (l->match == 5) {
            if (c == '>' || c == '/' || is_space(c))
                return p;
            l->match = c == '<';
        } else if (c == "<link"[l->match]) {
            l->match++;
        } else {
            l->match = c == '<';
        }
        p++;
    }
    return NULL;
}

/* Tag bytes up to the '>' outside quotes; returns past it, or NULL
 * when the bytes ran out first. */
static const char *tag_bytes(struct hscan__link *l, const char *p,
                             const char *end)
{
    const char *s = p;

    for (; p < end; p++) {
        if (l->quote) {
            if (*p == (char)l->quote)
                l->quote = 0;
        } else if (*p == '"' || *p == '\'') {
            l->quote = (unsigned char)*p;
        } else if (*p == '>') {
            break;
        }
    }
    if (l->state == L_TAG) {
        size_t n = (size_t)(p - s);
        if (n > HSCAN__LINK_TAG_MAX - l->len) {
            l->state = L_SKIP;      /* too long to be read: skipped */
        } else {
            if (!l->tag && !(l->tag = malloc(HSCAN__LINK_TAG_MAX))) {
                l->state = L_SKIP;
            } else {
                memcpy(l->tag + l->len, s, n);
                l->len += (uint32_t)n;
            }
        }
    }
    return p < end ? p + 1 : NULL;
}

void hscan__link_feed(struct hscan__link *l, const char *data, size_t n)
{
    const char *p = data, *end = data + n;

    while (n && p < end && l->state != L_DONE) {
        if (l->state == L_SEEK) {
            if (!(p = seek(l, p, end)))
                return;
            l->state = L_TAG;
            l->match = 0;
            l->quote = 0;
            l->len = 0;
        }
        if (!(p = tag_bytes(l, p, end)))
            return;
        if (l->state == L_TAG)
            tag_done(l, l->tag ? l->tag : "", l->len);
        if (l->state != L_DONE)
            l->state = L_SEEK;
    }
}
