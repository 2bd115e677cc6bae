/* The start of a response body (cfg.body_bytes), framed as RFC 9112 6.3
 * says (http.c decides how at the end of the head) and decoded from
 * chunked by a small decoder of our own (7.1).  Bytes are read up to
 * body_max into the body facts (body.c: digest and title as they come,
 * the bytes themselves only when kept); nothing else grows: a chunk-size line with its extensions
 * and the trailer section are read through, never stored, and each is
 * bounded.  A body that cannot be decoded ends there, truncated, and
 * says so (invalid_chunk): the response stands.
 */
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "http.h"

#define SIZE_LINE_MAX 4096      /* chunk-size line with its extensions */
#define SIZE_DIGITS_MAX 15      /* 2^60: no chunk is that long */

enum cstate {
    C_SIZE,         /* hex digits of a chunk size */
    C_EXT,          /* after the digits: extensions, up to the LF */
    C_DATA,         /* `remain` bytes of chunk data */
    C_DATA_END,     /* the CRLF after the data */
    C_DATA_LF,      /* its LF */
    C_TRAILER,      /* trailer lines, up to an empty one */
    C_END
};

/* Read n more bytes into the facts; returns 1 when they did not all
 * fit (done, truncated). */
static int keep(struct hscan__resp *r, const char *at, size_t n)
{
    size_t room = r->body_max - r->body_len;
    int over = n > room;

    /* --compressed: coded bytes go through the decoders, which feed
     * the facts and bound both sides (body-decode.c) */
    if (r->dec.ce.n) {
        over = hscan__bdec_feed(&r->dec, &r->bf, at, n);
        r->body_len = r->bf.len;
        if (over)
            r->body_truncated = r->body_done = 1;
        return over;
    }
    if (over)
        n = room;
    if (hscan__bodyf_feed(&r->bf, at, n) != 0) {
        r->body_truncated = r->body_done = 1;  /* what came before */
        return 1;
    }
    r->body_len += (uint32_t)n;
    if (over)
        r->body_truncated = r->body_done = 1;
    return over;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The chunked body can be read no further. */
static void bad_chunk(struct hscan__resp *r)
{
    hscan__resp_flag(r, HSCAN__A_INVALID_CHUNK);
    r->body_truncated = r->body_done = 1;
}

/* One byte of a size line, data CRLF or trailer line. */
static void chunk_byte(struct hscan__resp *r, int c)
{
    int h;

    switch (r->cstate) {
    case C_SIZE:
        if ((h = hexval(c)) >= 0 && r->cline < SIZE_DIGITS_MAX) {
            r->remain = r->remain << 4 | (uint64_t)h;
            r->cline++;
            return;
        }
        if (r->cline == 0 || h >= 0)   /* no digits, or too many */
            break;
        r->cstate = C_EXT;
        /* fall through */
    case C_EXT:
        if (c != '\n') {
            if (++r->cline <= SIZE_LINE_MAX)
                return;
            break;
        }
        r->cline = 0;
        r->cstate = r->remain ? C_DATA : C_TRAILER;
        return;
    case C_DATA_END:
        r->cstate = C_DATA_LF;
        if (c == '\r')
            return;
        /* A bare LF ends the chunk too. */
        /* fall through */
    case C_DATA_LF:
        if (c != '\n')
            break;
        r->cstate = C_SIZE;
        r->cline = 0;
        return;
    case C_TRAILER:
        if (++r->trailer_bytes > r->limit)
            break;
        if (c == '\n') {
            if (r->cline == 0)
                r->cstate = C_END;
            r->cline = 0;
        } else if (c != '\r') {
            r->cline++;
        }
        return;
    }
    bad_chunk(r);
}

/* RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF,
 * then last-chunk, trailer-section, CRLF.  Trailer fields are not
 * fields of the response (the record holds the header block only). */
static void chunked(struct hscan__resp *r, const char *data, size_t len)
{
    size_t i = 0;

    while (i < len && !r->body_done) {
        if (r->cstate == C_DATA) {
            size_t n = len - i < r->remain ? len - i : (size_t)r->remain;
            if (keep(r, data + i, n))
                return;
            r->remain -= n;
            i += n;
            if (r->remain == 0)
                r->cstate = C_DATA_END;
            continue;
        }
        chunk_byte(r, (unsigned char)data[i++]);
        if (r->cstate == C_END)
            r->body_done = 1;
    }
}

/* --compressed: the codings every Content-Encoding line names. */
static void decode_start(struct hscan__resp *r)
{
    struct hscan__ce ce;
    unsigned i;

    memset(&ce, 0, sizeof(ce));
    for (i = 0; i < r->n_hdrs; i++) {
        const struct hscan__hdr *h = &r->hdrs[i];
        if (h->name_len == 16 &&
            hscan__ieq((const unsigned char *)r->buf + h->name_off, 16,
                       "content-encoding"))
            hscan__ce_add(&ce, r->buf + h->value_off, h->value_len);
    }
    hscan__bdec_start(&r->dec, &ce, r->body_max);
}

void hscan__resp_body_end(struct hscan__resp *r)
{
    if (r->dec.on)
        hscan__bdec_end(&r->dec, &r->bf);
    hscan__bodyf_end(&r->bf);
}

void hscan__resp_body_start(struct hscan__resp *r, size_t max,
                            struct hscan__md *md, int keep)
{
    r->body_on = 1;
    r->body_max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
    hscan__bodyf_start(&r->bf, md, keep, r->body_max);
    if (r->dec.on)
        decode_start(r);
    r->cstate = C_SIZE;
    r->cline = 0;
    r->remain = r->frame == HSCAN__F_LENGTH ? r->length : 0;
    /* no body on a 1xx (101), 204 or 304 (RFC 9110 6.4.1) */
    if (r->status < 200 || r->status == 204 || r->status == 304 ||
        r->body_max == 0 ||
        (r->frame == HSCAN__F_LENGTH && r->length == 0)) {
        r->body_done = 1;
        hscan__resp_body_end(r);
    }
}

int hscan__resp_body_feed(struct hscan__resp *r, const char *data,
                          size_t len)
{
    if (r->body_done)
        return 1;
    if (len == 0)
        return 0;
    if (r->frame == HSCAN__F_CHUNKED) {
        chunked(r, data, len);
    } else if (r->frame == HSCAN__F_LENGTH) {
        size_t n = len < r->remain ? len : (size_t)r->remain;
        if (!keep(r, data, n)) {
            r->remain -= n;
            r->body_done = r->remain == 0;
        }
    } else {
        keep(r, data, len);
    }
    /* Full with the end not seen yet (it may never come): stop. */
    if (!r->body_done && r->body_len >= r->body_max)
        r->body_truncated = r->body_done = 1;
    if (r->body_done)
        hscan__resp_body_end(r);
    return r->body_done;
}

void hscan__resp_body_cut(struct hscan__resp *r, int closed)
{
    if (r->body_done)
        return;
    r->body_done = 1;
    hscan__resp_body_end(r);
    /* A body without length or chunking ends with the connection. */
    if (!(closed && r->frame == HSCAN__F_CLOSE))
        r->body_truncated = 1;
}
