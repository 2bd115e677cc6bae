/* The response head: a streaming, bounded parser of our own.
 *
 * Observe, don't enforce (DESIGN.md): read what curl and browsers read
 * and name each deviation from RFC 9112 in `anomalies` rather than
 * failing the target.  llhttp 8.1 (Debian 12) could be made lenient in
 * four ways only and could not say what it had tolerated, so it no
 * longer reads responses.
 *
 * Each line is appended to a per-probe arena as it arrives (capped at
 * the head byte limit, curl's dynbuf discipline: a hostile server makes
 * a probe hold at most that many bytes), then parsed in place once its
 * LF is in.  A field keeps offsets into the arena; the arena is cut back
 * to the end of its value, so that an obs-fold line that follows lands
 * right after it and is joined there (RFC 9112 5.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "http.h"

#define ARENA_START 1024
#define HDRS_START 16

#define A(x) (1u << HSCAN__A_##x)

/* What llhttp's strict mode refused: --strict makes these errors. */
#define STRICT_MASK                                                     \
    (A(CL_AND_TE) | A(DUPLICATE_CL) | A(CONFLICTING_CL) | A(INVALID_CL) | \
     A(BARE_CR) | A(SPACE_BEFORE_COLON) | A(NO_COLON_LINE) |            \
     A(INVALID_NAME) | A(HEAD_CUT_BY_CLOSE) | A(VERSION_UNUSUAL) |      \
     A(STATUS_LINE_SPACES))

static const char *const anomaly_names[HSCAN__A_COUNT] = {
    "cl_and_te", "duplicate_cl", "conflicting_cl", "invalid_cl",
    "unknown_te", "repeated_te", "obs_fold", "bare_cr", "bare_lf",
    "space_before_colon", "leading_space", "no_colon_line",
    "invalid_name", "head_cut_by_close", "version_unusual",
    "status_line_spaces", "invalid_chunk",
};

const char *hscan__anomaly_name(unsigned a)
{
    return a < HSCAN__A_COUNT ? anomaly_names[a] : "unknown";
}

void hscan__resp_flag(struct hscan__resp *r, unsigned a)
{
    r->anomalies |= 1u << a;
}

/* Append to the arena, growing by doubling up to the limit (the caller
 * checked the limit). */
static int arena_put(struct hscan__resp *r, const char *at, size_t n)
{
    if (n == 0)             /* an empty HTTP/2 name or value: maybe no
                               arena yet, and no bytes to copy */
        return 0;
    if (r->len + n > r->cap) {
        uint32_t cap = r->cap ? r->cap : ARENA_START;
        char *b;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > r->limit)
            cap = r->limit;
        b = realloc(r->buf, cap);
        if (!b)
            return -1;
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, at, n);
    r->len += (uint32_t)n;
    return 0;
}

static int fail(int err, char *detail, size_t dsize, const char *fmt,
                unsigned long long v)
{
    snprintf(detail, dsize, fmt, v);
    return err;
}

#define PARSE(...) fail(HSCAN_EHTTP_PARSE, detail, dsize, __VA_ARGS__)

/* The first bytes of a reply either can still become "HTTP/" or the
 * reply is not HTTP (TLS, SSH, HTTP/0.9): say so at once, not at a LF
 * that may never come.  The name is case-insensitive here, as curl
 * reads it; RFC 9112 2.3 makes it case-sensitive (version_unusual). */
static int http_prefix(const char *s, size_t n)
{
    static const char want[] = "http/";
    size_t i;

    for (i = 0; i < n && i < 5; i++)
        if (hscan__lower((unsigned char)s[i]) != want[i])
            return 0;
    return 1;
}

static size_t skip_ows(const char *s, size_t i, size_t n, int *odd)
{
    size_t i0 = i;

    while (i < n && hscan__is_ows((unsigned char)s[i])) {
        if (s[i] == '\t')
            *odd = 1;
        i++;
    }
    if (i - i0 > 1)
        *odd = 1;
    return i;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * (RFC 9112 4), read as curl does: the version "HTTP/D.D" or "HTTP/D"
 * in any case, any run of SP or HTAB between the parts, no SP at all
 * before an empty reason.  The status code is three digits from 100 on
 * (RFC 9110 15); anything else is not a status line. */
static int status_line(struct hscan__resp *r, const char *s, size_t n,
                       char *detail, size_t dsize)
{
    size_t i = 5;
    int odd = 0, unusual;

    if (n < 5 || !http_prefix(s, 5))
        return PARSE("not HTTP: the reply does not start with HTTP/", 0);
    unusual = memcmp(s, "HTTP/", 5) != 0;
    if (i >= n || !hscan__is_digit((unsigned char)s[i]))
        return PARSE("status line: no version number", 0);
    r->major = s[i++] - '0';
    r->minor = 0;
    if (i < n && s[i] == '.') {
        if (++i >= n || !hscan__is_digit((unsigned char)s[i]))
            return PARSE("status line: no minor version number", 0);
        r->minor = s[i++] - '0';
    } else {
        unusual = 1;
    }
    if (r->major != 1 || r->minor > 1)
        unusual = 1;
    if (i >= n || !hscan__is_ows((unsigned char)s[i]))
        return PARSE("status line: no space after the version", 0);
    i = skip_ows(s, i, n, &odd);
    if (n - i < 3 || !hscan__is_digit((unsigned char)s[i]) ||
        !hscan__is_digit((unsigned char)s[i + 1]) ||
        !hscan__is_digit((unsigned char)s[i + 2]) ||
        (n - i > 3 && hscan__is_digit((unsigned char)s[i + 3])))
        return PARSE("status line: the status code is not 3 digits", 0);
    /* "200OK": the reason glued to the code, read as curl reads it (a
     * spacing anomaly: RFC 9112 4 wants one SP between them). */
    if (n - i > 3 && !hscan__is_ows((unsigned char)s[i + 3]))
        odd = 1;
    r->status = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + s[i + 2] - '0';
    if (r->status < 100) {
        unsigned long long code = (unsigned long long)r->status;
        r->status = 0;
        return PARSE("status line: status code %llu is below 100", code);
    }
    i = skip_ows(s, i + 3, n, &odd);
    if (unusual)
        hscan__resp_flag(r, HSCAN__A_VERSION_UNUSUAL);
    if (odd)
        hscan__resp_flag(r, HSCAN__A_STATUS_LINE_SPACES);
    r->reason_off = r->line_off + (uint32_t)i;
    r->reason_len = (uint32_t)(n - i);
    r->len = r->reason_off + r->reason_len;
    r->in_fields = 1;
    return 0;
}

static struct hscan__hdr *new_field(struct hscan__resp *r, char *detail,
                                    size_t dsize, int *err)
{
    if (r->n_hdrs == r->max_hdrs) {
        *err = fail(HSCAN_ETOO_MANY_HEADERS, detail, dsize,
                    "more than %llu header fields", r->max_hdrs);
        return NULL;
    }
    if (r->n_hdrs == r->hdr_cap) {
        unsigned cap = r->hdr_cap ? r->hdr_cap * 2 : HDRS_START;
        struct hscan__hdr *v;
        if (cap > r->max_hdrs)
            cap = r->max_hdrs;
        v = realloc(r->hdrs, cap * sizeof(*v));
        if (!v) {
            *err = fail(HSCAN_ERESOURCE_EXHAUSTED, detail, dsize,
                        "out of memory for the header block", 0);
            return NULL;
        }
        r->hdrs = v;
        r->hdr_cap = cap;
    }
    return &r->hdrs[r->n_hdrs++];
}

static int is_token(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!hscan__is_tchar((unsigned char)s[i]))
            return 0;
    return n > 0;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 5).  The
 * name is every byte before the first colon (curl's rule), less
 * whitespace before the colon (5.1: a proxy removes it); the value
 * loses its OWS at both ends.  A line without a colon is dropped, as
 * browsers do (curl 7.88 fails the transfer). */
static int field_line(struct hscan__resp *r, const char *s, size_t n,
                      char *detail, size_t dsize)
{
    const char *c = memchr(s, ':', n), *v, *e = s + n;
    struct hscan__hdr *h;
    size_t name_len;
    int err = 0;

    if (!c) {
        hscan__resp_flag(r, HSCAN__A_NO_COLON_LINE);
        r->len = r->line_off;
        r->open = 0;
        r->skip = 1;
        return 0;
    }
    name_len = (size_t)(c - s);
    if (name_len && hscan__is_ows((unsigned char)s[name_len - 1])) {
        hscan__resp_flag(r, HSCAN__A_SPACE_BEFORE_COLON);
        while (name_len && hscan__is_ows((unsigned char)s[name_len - 1]))
            name_len--;
    }
    if (!is_token(s, name_len))
        hscan__resp_flag(r, HSCAN__A_INVALID_NAME);
    if (!(h = new_field(r, detail, dsize, &err)))
        return err;
    for (v = c + 1; v < e && hscan__is_ows((unsigned char)*v); v++)
        ;
    while (e > v && hscan__is_ows((unsigned char)e[-1]))
        e--;
    h->name_off = r->line_off;
    h->name_len = (uint32_t)name_len;
    h->value_off = (uint32_t)(v - r->buf);
    h->value_len = (uint32_t)(e - v);
    r->len = h->value_off + h->value_len;
    r->open = 1;
    r->skip = 0;
    return 0;
}

/* A line that starts with SP or HTAB.  After a field it is obs-fold:
 * replaced with one SP (RFC 9112 5.2).  Before the first field (2.2) or
 * after a dropped line it is consumed without further processing. */
static void fold_line(struct hscan__resp *r, const char *s, size_t n)
{
    struct hscan__hdr *h;
    const char *e = s + n;
    char *dst;

    if (!r->open) {
        if (r->n_hdrs == 0 && !r->skip)
            hscan__resp_flag(r, HSCAN__A_LEADING_SPACE);
        r->len = r->line_off;
        r->skip = 1;
        return;
    }
    hscan__resp_flag(r, HSCAN__A_OBS_FOLD);
    while (s < e && hscan__is_ows((unsigned char)*s))
        s++;
    while (e > s && hscan__is_ows((unsigned char)e[-1]))
        e--;
    h = &r->hdrs[r->n_hdrs - 1];
    dst = r->buf + r->line_off;     /* == the end of h's value */
    if (s < e) {
        if (h->value_len)
            *dst++ = ' ';           /* s is past the fold's white space */
        memmove(dst, s, (size_t)(e - s));
        dst += e - s;
        h->value_len = (uint32_t)(dst - (r->buf + h->value_off));
    }
    r->len = h->value_off + h->value_len;
}

/* ---- framing facts, from the whole header block (RFC 9112 6.3) ---- */

/* Content-Length = 1*DIGIT (RFC 9110 8.6); a list of equal values
 * ("5, 5") is that value.  Returns -1 when not a number. */
static long long cl_number(const char *s, size_t n)
{
    unsigned long long v = 0;
    size_t i;

    if (n == 0 || n > 18)       /* 10^18: no body is that long */
        return -1;
    for (i = 0; i < n; i++) {
        if (!hscan__is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return (long long)v;
}

struct framing {
    long long cl;             /* -1: none yet */
    int cl_bad, te, chunked_last;
    unsigned n_codings;
    uint32_t codings[8];      /* hashes of the codings seen */
};

static void cl_field(struct hscan__resp *r, struct framing *f,
                     const char *s, size_t n)
{
    const char *e = s + n;

    do {
        const char *c = memchr(s, ',', (size_t)(e - s)), *end = c ? c : e;
        const unsigned char *a = (const unsigned char *)s;
        const unsigned char *b = (const unsigned char *)end;
        long long v;
        hscan__trim(&a, &b, 0);
        v = cl_number((const char *)a, (size_t)(b - a));
        if (v < 0) {
            hscan__resp_flag(r, HSCAN__A_INVALID_CL);
            f->cl_bad = 1;
        } else if (f->cl < 0) {
            f->cl = v;
        } else if (v == f->cl) {
            hscan__resp_flag(r, HSCAN__A_DUPLICATE_CL);
        } else {
            hscan__resp_flag(r, HSCAN__A_CONFLICTING_CL);
            f->cl_bad = 1;
        }
        s = end + 1;
    } while (s <= e && s[-1] == ',');
}

/* One transfer coding (RFC 9112 7): the registered ones, in any case;
 * "identity" was withdrawn (RFC 7230) and is unknown like any other. */
static void coding(struct hscan__resp *r, struct framing *f,
                   const unsigned char *s, size_t n)
{
    static const char *const known[] = {
        "chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress",
    };
    uint32_t h = 2166136261u;
    size_t i;
    int k = -1;

    for (i = 0; i < n; i++)
        h = (h ^ (uint32_t)hscan__lower(s[i])) * 16777619u;
    for (i = 0; i < f->n_codings; i++)
        if (f->codings[i] == h)
            hscan__resp_flag(r, HSCAN__A_REPEATED_TE);
    if (f->n_codings < 8)
        f->codings[f->n_codings++] = h;
    for (i = 0; i < sizeof(known) / sizeof(known[0]) && k < 0; i++)
        if (hscan__ieq(s, n, known[i]))
            k = (int)i;
    if (k < 0)
        hscan__resp_flag(r, HSCAN__A_UNKNOWN_TE);
    f->chunked_last = k == 0;
}

static void te_field(struct hscan__resp *r, struct framing *f,
                     const char *s, size_t n)
{
    const char *e = s + n;

    f->te = 1;
    while (s < e) {
        const char *c = memchr(s, ',', (size_t)(e - s)), *end = c ? c : e;
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const unsigned char *a = (const unsigned char *)s;
        const unsigned char *b = (const unsigned char *)(semi ? semi : end);
        hscan__trim(&a, &b, 0);
        if (b > a)              /* empty list elements are legal */
            coding(r, f, a, (size_t)(b - a));
        s = end + 1;
    }
}

/* RFC 9112 6.3: chunked as the final coding frames the body whatever
 * Content-Length says (item 3); other codings, an invalid or
 * conflicting length, or none at all: until the close (items 4-7). */
static void framing(struct hscan__resp *r)
{
    struct framing f;
    unsigned i;

    memset(&f, 0, sizeof(f));
    f.cl = -1;
    for (i = 0; i < r->n_hdrs; i++) {
        const struct hscan__hdr *h = &r->hdrs[i];
        const unsigned char *name = (unsigned char *)r->buf + h->name_off;
        if (h->name_len == 14 && hscan__ieq(name, 14, "content-length"))
            cl_field(r, &f, r->buf + h->value_off, h->value_len);
        else if (h->name_len == 17 &&
                 hscan__ieq(name, 17, "transfer-encoding"))
            te_field(r, &f, r->buf + h->value_off, h->value_len);
    }
    if (f.te && (f.cl >= 0 || f.cl_bad))
        hscan__resp_flag(r, HSCAN__A_CL_AND_TE);
    r->frame = HSCAN__F_CLOSE;
    if (f.te) {
        if (f.chunked_last)
            r->frame = HSCAN__F_CHUNKED;
    } else if (f.cl >= 0 && !f.cl_bad) {
        r->frame = HSCAN__F_LENGTH;
        r->length = (uint64_t)f.cl;
    }
}

/* The blank line.  A 1xx other than 101 is interim (RFC 9110 15.2): its
 * status is kept, its fields dropped, and the final response follows;
 * 101 ends HTTP on this connection, so it is final. */
static int head_end(struct hscan__resp *r)
{
    if (r->status < 200 && r->status != 101) {
        if (r->n_interim < HSCAN__MAX_INTERIM)
            r->interim[r->n_interim++] = r->status;
        r->len = r->line_off = 0;
        r->n_hdrs = 0;
        r->status = 0;
        r->reason_off = r->reason_len = 0;
        r->in_fields = r->open = r->skip = 0;
        return 0;
    }
    framing(r);
    r->done = r->complete = 1;
    return 1;
}

/* A whole line is in buf[line_off, len), LF included.  What is odd
 * about its line end counts only once the line was understood: a reply
 * that is not HTTP has no anomalies. */
static int line(struct hscan__resp *r, char *detail, size_t dsize)
{
    const char *s = r->buf + r->line_off;
    size_t n = r->len - r->line_off - 1, i;
    uint32_t odd = 0;
    int rc;

    if (n && s[n - 1] == '\r')
        n--;
    else
        odd = A(BARE_LF);
    /* A CR elsewhere is data, as curl keeps it (RFC 9112 2.2 lets a
     * recipient treat it as invalid or as SP); a line of CRs only is
     * the blank line, as curl reads it. */
    if (n && memchr(s, '\r', n)) {
        odd |= A(BARE_CR);
        for (i = 0; i < n && s[i] == '\r'; i++)
            ;
        if (i == n && r->in_fields)
            n = 0;
    }
    if (!r->in_fields)
        rc = status_line(r, s, n, detail, dsize);
    else if (n == 0)
        rc = head_end(r);
    else if (hscan__is_ows((unsigned char)s[0]))
        fold_line(r, s, n), rc = 0;
    else
        rc = field_line(r, s, n, detail, dsize);
    if (rc >= 0)
        r->anomalies |= odd;
    r->line_off = r->len;
    return rc;
}

static int strict_check(struct hscan__resp *r, char *detail, size_t dsize)
{
    uint32_t bad = r->anomalies & STRICT_MASK;
    unsigned a = 0;

    while (!(bad & (1u << a)))
        a++;
    snprintf(detail, dsize, "strict: %s", anomaly_names[a]);
    r->done = 0;                /* the response does not stand */
    return HSCAN_EHTTP_PARSE;
}

static int too_large(struct hscan__resp *r, char *detail, size_t dsize)
{
    return fail(HSCAN_EHEADER_TOO_LARGE, detail, dsize,
                "header block over %llu bytes", r->limit);
}

int hscan__resp_feed(struct hscan__resp *r, const char *data, size_t len,
                     char *detail, size_t dsize)
{
    size_t off = 0;
    int rc;

    while (off < len) {
        const char *lf = memchr(data + off, '\n', len - off);
        size_t n = lf ? (size_t)(lf - data) + 1 - off : len - off;

        if (n > r->limit - r->head_bytes)
            return too_large(r, detail, dsize);
        if (arena_put(r, data + off, n) != 0)
            return fail(HSCAN_ERESOURCE_EXHAUSTED, detail, dsize,
                        "out of memory for the header block", 0);
        r->head_bytes += n;
        off += n;
        if (!lf) {
            if (!r->in_fields &&
                !http_prefix(r->buf + r->line_off, r->len - r->line_off))
                return PARSE("not HTTP: the reply does not start with "
                             "HTTP/", 0);
            return 0;
        }
        rc = line(r, detail, dsize);
        if (rc >= 0 && r->strict && (r->anomalies & STRICT_MASK))
            return strict_check(r, detail, dsize);
        if (rc != 0) {
            r->rest = off;
            return rc;
        }
    }
    return 0;
}

int hscan__resp_eof(struct hscan__resp *r, char *detail, size_t dsize)
{
    if (r->done && r->body_on) {
        hscan__resp_body_cut(r, 1);
        return 0;
    }
    if (r->head_bytes == 0)
        return fail(HSCAN_EREAD_CLOSED, detail, dsize,
                    "closed before any response byte", 0);
    /* A head cut after a whole field line: curl reads it as complete,
     * and so do we, saying so (RFC 9112 2.1: the header section ends
     * with an empty line). */
    if (r->in_fields && r->line_off == r->len && !r->done &&
        (r->status >= 200 || r->status == 101)) {
        hscan__resp_flag(r, HSCAN__A_HEAD_CUT_BY_CLOSE);
        if (!r->strict) {
            framing(r);
            r->done = 1;
            r->rest = 0;
            return 1;
        }
    }
    r->len = r->line_off;           /* a line cut short says nothing */
    return fail(HSCAN_EREAD_CLOSED, detail, dsize,
                "closed after %llu bytes, inside the header block",
                r->head_bytes);
}

void hscan__resp_init(struct hscan__resp *r, size_t max_bytes,
                      unsigned max_headers)
{
    memset(r, 0, sizeof(*r));
    r->limit = max_bytes > UINT32_MAX / 2 ? UINT32_MAX / 2
                                          : (uint32_t)max_bytes;
    r->max_hdrs = max_headers;
}

void hscan__resp_free(struct hscan__resp *r)
{
    free(r->buf);
    free(r->hdrs);
    hscan__bodyf_free(&r->bf);
    hscan__bdec_free(&r->dec);
    r->buf = NULL;
    r->hdrs = NULL;
}

/* ---- HTTP/2 (probe-h2.c): a head from a decoded header list ---- */

void hscan__resp_h2_status(struct hscan__resp *r, int status)
{
    r->status = status;
    r->major = 2;
    r->minor = 0;
    r->h2 = 1;
    r->in_fields = 1;
}

int hscan__resp_h2_field(struct hscan__resp *r, const char *name,
                         size_t nlen, const char *value, size_t vlen,
                         char *detail, size_t dsize)
{
    struct hscan__hdr *h;
    int err = 0;
    /* Counted as the HTTP/1.1 line would be: "name: value\r\n". */
    size_t n = nlen + vlen + 4;

    if (n > r->limit - r->head_bytes)
        return too_large(r, detail, dsize);
    r->head_bytes += n;
    if (!(h = new_field(r, detail, dsize, &err)))
        return err;
    h->name_off = r->len;
    h->name_len = (uint32_t)nlen;
    if (arena_put(r, name, nlen) != 0 ||
        (h->value_off = r->len, h->value_len = (uint32_t)vlen,
         arena_put(r, value, vlen) != 0)) {
        r->n_hdrs--;
        return fail(HSCAN_ERESOURCE_EXHAUSTED, detail, dsize,
                    "out of memory for the header block", 0);
    }
    return 0;
}

/* The end of a header block: an interim one (1xx but 101) is kept as
 * its status alone; returns 1 when the block was the final head. */
int hscan__resp_h2_end(struct hscan__resp *r)
{
    if (r->status < 200 && r->status != 101) {
        if (r->n_interim < HSCAN__MAX_INTERIM)
            r->interim[r->n_interim++] = r->status;
        r->len = 0;
        r->n_hdrs = 0;
        r->status = 0;
        return 0;
    }
    r->frame = HSCAN__F_CLOSE;      /* DATA frames until END_STREAM */
    r->done = r->complete = 1;
    return 1;
}
