/* See json-check.h.  Recursive descent over a length-bounded buffer;
 * nesting is capped so hostile text cannot exhaust the stack. */
#include <stdlib.h>
#include <string.h>

#include "json-check.h"
#include "../utf8-oracle.h"

#define MAX_DEPTH 64

struct jp {
    const unsigned char *p, *end;
    struct jdoc *doc;
};

static int value(struct jp *j, int depth);

static void ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
                             *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int eat(struct jp *j, char c)
{
    if (j->p < j->end && *j->p == (unsigned char)c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int push_span(struct jspan **v, size_t *n, size_t *cap,
                     struct jspan s)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct jspan *b = realloc(*v, c * sizeof(*b));
        if (!b)
            return 0;
        *v = b;
        *cap = c;
    }
    (*v)[(*n)++] = s;
    return 1;
}

static int hex4(struct jp *j, unsigned *out)
{
    unsigned v = 0;
    int i;

    if (j->end - j->p < 4)
        return 0;
    for (i = 0; i < 4; i++) {
        unsigned char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return 0;
    }
    *out = v;
    return 1;
}

static void put_cp(struct jdoc *d, unsigned cp)
{
    char *o = d->dec + d->dec_len;

    if (cp <= 0xff) {               /* a byte, per the lossless rule */
        o[0] = (char)cp;
        d->dec_len += 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        d->dec_len += 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        d->dec_len += 3;
    } else {
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        d->dec_len += 4;
    }
}

static int escape(struct jp *j)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e;
    unsigned cp, lo;

    if (j->p >= j->end)
        return 0;
    if (*j->p != 'u') {
        if (!(e = memchr(from, *j->p, sizeof(from) - 1)))
            return 0;
        j->p++;
        j->doc->dec[j->doc->dec_len++] = to[e - from];
        return 1;
    }
    j->p++;
    if (!hex4(j, &cp) || (cp >= 0xdc00 && cp <= 0xdfff))
        return 0;                   /* lone low surrogate */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (!eat(j, '\\') || !eat(j, 'u') || !hex4(j, &lo) ||
            lo < 0xdc00 || lo > 0xdfff)
            return 0;               /* high surrogate without its pair */
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    put_cp(j->doc, cp);
    return 1;
}

static int string(struct jp *j, struct jspan *out)
{
    struct jdoc *d = j->doc;

    if (!eat(j, '"'))
        return 0;
    out->off = d->dec_len;
    for (;;) {
        size_t k;
        if (j->p >= j->end || *j->p < 0x20)
            return 0;               /* unterminated, or a raw control */
        if (*j->p == '"')
            break;
        if (*j->p == '\\') {
            j->p++;
            if (!escape(j))
                return 0;
            continue;
        }
        if (!(k = oracle_utf8_len(j->p, (size_t)(j->end - j->p))))
            return 0;
        memcpy(d->dec + d->dec_len, j->p, k);
        d->dec_len += k;
        j->p += k;
    }
    j->p++;
    out->len = d->dec_len - out->off;
    return 1;
}

static int digits(struct jp *j)
{
    const unsigned char *s = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

static int number(struct jp *j)
{
    eat(j, '-');
    if (eat(j, '0')) {
        /* no leading zeros */
    } else if (j->p < j->end && *j->p >= '1' && *j->p <= '9') {
        digits(j);
    } else {
        return 0;
    }
    if (eat(j, '.') && !digits(j))
        return 0;
    if (eat(j, 'e') || eat(j, 'E')) {
        if (!eat(j, '+'))
            eat(j, '-');
        if (!digits(j))
            return 0;
    }
    return 1;
}

static int literal(struct jp *j, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static int same(const struct jdoc *d, struct jspan a, struct jspan b)
{
    return a.len == b.len && memcmp(d->dec + a.off, d->dec + b.off,
                                    a.len) == 0;
}

static int object(struct jp *j, int depth)
{
    struct jdoc *d = j->doc;
    size_t base = d->n_keys, i;

    j->p++;
    ws(j);
    if (eat(j, '}'))
        goto done;
    for (;;) {
        struct jspan k;
        ws(j);
        if (!string(j, &k))
            return 0;
        for (i = base; i < d->n_keys; i++)
            if (same(d, d->keys[i], k))
                return 0;           /* duplicate key */
        if (!push_span(&d->keys, &d->n_keys, &d->keys_cap, k))
            return 0;
        ws(j);
        if (!eat(j, ':') || !value(j, depth + 1))
            return 0;
        ws(j);
        if (eat(j, '}'))
            break;
        if (!eat(j, ','))
            return 0;
    }
done:
    if (depth == 0) {
        size_t n = d->n_keys - base;
        d->top_keys = malloc((n ? n : 1) * sizeof(*d->top_keys));
        if (!d->top_keys)
            return 0;
        memcpy(d->top_keys, d->keys + base, n * sizeof(*d->top_keys));
        d->n_top_keys = n;
    }
    d->n_keys = base;
    return 1;
}

static int array(struct jp *j, int depth)
{
    j->p++;
    ws(j);
    if (eat(j, ']'))
        return 1;
    for (;;) {
        if (!value(j, depth + 1))
            return 0;
        ws(j);
        if (eat(j, ']'))
            return 1;
        if (!eat(j, ','))
            return 0;
    }
}

static int value(struct jp *j, int depth)
{
    struct jspan s;

    if (depth > MAX_DEPTH)
        return 0;
    ws(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{':
        return object(j, depth);
    case '[':
        return array(j, depth);
    case '"':
        return string(j, &s) &&
               push_span(&j->doc->vals, &j->doc->n_vals,
                         &j->doc->vals_cap, s);
    case 't':
        return literal(j, "true");
    case 'f':
        return literal(j, "false");
    case 'n':
        return literal(j, "null");
    }
    return number(j);
}

int json_check(const char *text, size_t len, struct jdoc *doc)
{
    struct jp j;

    memset(doc, 0, sizeof(*doc));
    /* decoded strings are never longer than their text */
    if (!(doc->dec = malloc(len ? len : 1)))
        return 0;
    j.p = (const unsigned char *)text;
    j.end = j.p + len;
    j.doc = doc;
    ws(&j);
    if (j.p >= j.end || *j.p != '{' || !value(&j, 0)) {
        jdoc_free(doc);
        return 0;
    }
    ws(&j);
    if (j.p != j.end) {
        jdoc_free(doc);
        return 0;
    }
    return 1;
}

void jdoc_free(struct jdoc *doc)
{
    free(doc->dec);
    free(doc->vals);
    free(doc->top_keys);
    free(doc->keys);
    memset(doc, 0, sizeof(*doc));
}
