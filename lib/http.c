/* Request bytes, and response parsing with llhttp under byte and count
 * limits.
 *
 * llhttp enforces no header limits and delivers every span in pieces that
 * may split anywhere, so names and values are appended to a per-probe
 * arena whose cap is the header byte limit (curl's dynbuf discipline):
 * a hostile server can make a probe hold at most that many bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "util.h"

#define ARENA_START 1024
#define HDRS_START 16

static struct hscan__resp *resp_of(llhttp_t *p)
{
    return container_of(p, struct hscan__resp, parser);
}

/* Append to the arena, growing by doubling up to the limit. */
static int arena_put(struct hscan__resp *r, const char *at, size_t n)
{
    if (n == 0)         /* an empty name (": v"): buf may still be NULL */
        return 0;
    if (n > r->limit - r->len) {
        r->err = HSCAN_EHEADER_TOO_LARGE;
        return -1;
    }
    if (r->len + n > r->cap) {
        uint32_t cap = r->cap ? r->cap : ARENA_START;
        char *b;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > r->limit)
            cap = r->limit;
        b = realloc(r->buf, cap);
        if (!b) {
            r->err = HSCAN_ERESOURCE_EXHAUSTED;
            return -1;
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, at, n);
    r->len += (uint32_t)n;
    return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t n)
{
    struct hscan__resp *r = resp_of(p);

    if (r->reason_len == 0)
        r->reason_off = r->len;
    r->reason_len += (uint32_t)n;
    return arena_put(r, at, n);
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct hscan__resp *r = resp_of(p);
    struct hscan__hdr *h;

    /* A chunked body's trailer fields (read with cfg.body_bytes) are
     * not response headers: the record holds the header block only. */
    if (r->done)
        return 0;

    if (r->in_value || r->n_hdrs == 0) {
        if (r->n_hdrs == r->max_hdrs) {
            r->err = HSCAN_ETOO_MANY_HEADERS;
            return -1;
        }
        if (r->n_hdrs == r->hdr_cap) {
            unsigned cap = r->hdr_cap ? r->hdr_cap * 2 : HDRS_START;
            struct hscan__hdr *v;
            if (cap > r->max_hdrs)
                cap = r->max_hdrs;
            v = realloc(r->hdrs, cap * sizeof(*v));
            if (!v) {
                r->err = HSCAN_ERESOURCE_EXHAUSTED;
                return -1;
            }
            r->hdrs = v;
            r->hdr_cap = cap;
        }
        h = &r->hdrs[r->n_hdrs++];
        h->name_off = r->len;
        h->name_len = 0;
        h->value_off = 0;
        h->value_len = 0;
        r->in_value = 0;
    }
    h = &r->hdrs[r->n_hdrs - 1];
    h->name_len += (uint32_t)n;
    return arena_put(r, at, n);
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct hscan__resp *r = resp_of(p);
    struct hscan__hdr *h;

    if (r->done)                /* a trailer field */
        return 0;
    h = &r->hdrs[r->n_hdrs - 1];

    if (!r->in_value) {
        r->in_value = 1;
        h->value_off = r->len;
    }
    h->value_len += (uint32_t)n;
    return arena_put(r, at, n);
}

static int on_header_value_complete(llhttp_t *p)
{
    /* A field with an empty value gets no on_header_value call; mark it so
     * the next name starts a new entry. */
    struct hscan__resp *r = resp_of(p);
    if (r->done)                /* a trailer field */
        return 0;
    if (r->n_hdrs > 0 && !r->in_value) {
        r->in_value = 1;
        r->hdrs[r->n_hdrs - 1].value_off = r->len;
    }
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct hscan__resp *r = resp_of(p);
    int status = llhttp_get_status_code(p);

    /* 1xx interim responses (100 Continue, 103 Early Hints) precede the
     * real one (RFC 9110 15.2); keep only the final response.  101 ends
     * HTTP on this connection, so it is final. */
    if (status >= 100 && status < 200 && status != 101) {
        r->len = 0;
        r->n_hdrs = 0;
        r->reason_off = r->reason_len = 0;  /* a final status line without
                                               a reason sets neither */
        r->in_value = 0;
        return 0;
    }
    r->status = status;
    r->done = 1;
    return HPE_PAUSED;
}

/* Body bytes arrive only after hscan__resp_body_start() resumed the
 * parser.  Kept up to body_max; a byte past that means the body goes
 * on: the parser pauses there, which is where reading stops. */
static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct hscan__resp *r = resp_of(p);
    size_t room = r->body_max - r->body_len;

    if (!r->body_on || r->body_done)
        return 0;
    if (n > room) {
        n = room;
        r->body_truncated = 1;
        r->body_done = 1;
    }
    if (r->body_len + n > r->body_cap) {
        uint32_t cap = r->body_cap ? r->body_cap : 4096;
        char *b;
        while (cap < r->body_len + n)
            cap *= 2;
        if (cap > r->body_max)
            cap = r->body_max;
        if (!(b = realloc(r->body, cap))) {
            r->body_truncated = 1;      /* keep what we have */
            r->body_done = 1;
            return HPE_PAUSED;
        }
        r->body = b;
        r->body_cap = cap;
    }
    if (n)
        memcpy(r->body + r->body_len, at, n);
    r->body_len += (uint32_t)n;
    return r->body_done ? HPE_PAUSED : 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct hscan__resp *r = resp_of(p);

    if (r->body_on) {
        r->body_done = 1;
        return HPE_PAUSED;
    }
    return 0;
}

static const llhttp_settings_t settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void hscan__resp_init(struct hscan__resp *r, size_t max_bytes,
                      unsigned max_headers)
{
    memset(r, 0, sizeof(*r));
    llhttp_init(&r->parser, HTTP_RESPONSE, &settings);
    /* Observe, don't enforce: read header values the way browsers and curl
     * do (control bytes inside values are kept and escaped in JSON).  On
     * llhttp 9, also accept bare LF line endings as 8.x does. */
    llhttp_set_lenient_headers(&r->parser, 1);
#if LLHTTP_VERSION_MAJOR >= 9
    llhttp_set_lenient_optional_cr_before_lf(&r->parser, 1);
    llhttp_set_lenient_optional_lf_after_cr(&r->parser, 1);
#endif
    r->limit = max_bytes > UINT32_MAX / 2 ? UINT32_MAX / 2
                                          : (uint32_t)max_bytes;
    r->max_hdrs = max_headers;
}

void hscan__resp_free(struct hscan__resp *r)
{
    free(r->buf);
    free(r->hdrs);
    free(r->body);
    r->buf = NULL;
    r->hdrs = NULL;
    r->body = NULL;
}

static void parse_detail(struct hscan__resp *r, llhttp_errno_t e,
                         char *detail, size_t dsize)
{
    const char *why = llhttp_get_error_reason(&r->parser);
    snprintf(detail, dsize, "%s: %s", llhttp_errno_name(e),
             why ? why : "parse error");
}

static int limit_detail(struct hscan__resp *r, int err, char *detail,
                        size_t dsize)
{
    if (err == HSCAN_ETOO_MANY_HEADERS)
        snprintf(detail, dsize, "more than %u header fields", r->max_hdrs);
    else if (err == HSCAN_EHEADER_TOO_LARGE)
        snprintf(detail, dsize, "header block over %u bytes", r->limit);
    else
        snprintf(detail, dsize, "out of memory for the header block");
    return err;
}

int hscan__resp_feed(struct hscan__resp *r, const char *data, size_t len,
                     char *detail, size_t dsize)
{
    llhttp_errno_t e = llhttp_execute(&r->parser, data, len);

    if (e == HPE_PAUSED && r->done) {
        r->rest = (size_t)(llhttp_get_error_pos(&r->parser) - data);
        r->head_bytes += (uint64_t)r->rest;
        if (r->head_bytes > r->limit)
            return limit_detail(r, HSCAN_EHEADER_TOO_LARGE, detail, dsize);
        /* llhttp 8 takes one or two digits ("HTTP/1.1 0 OK") as a status
         * code; RFC 9110 (15) wants three.  A record without an error
         * always has a status (docs/results.md). */
        if (r->status < 100) {
            snprintf(detail, dsize, "HPE_INVALID_STATUS: status code %d "
                     "is below 100", r->status);
            return HSCAN_EHTTP_PARSE;
        }
        return 1;
    }
    if (e == HPE_OK) {
        /* Bytes that never reach the arena (white space, obs-fold) still
         * count: the limit is on the header block as received. */
        r->head_bytes += len;
        if (r->head_bytes > r->limit)
            return limit_detail(r, HSCAN_EHEADER_TOO_LARGE, detail, dsize);
        return 0;
    }
    if (r->err)
        return limit_detail(r, r->err, detail, dsize);
    if (e == HPE_PAUSED_UPGRADE) {
        r->status = llhttp_get_status_code(&r->parser);
        r->done = 1;
        r->rest = len;          /* no body on a 101 */
        return 1;
    }
    parse_detail(r, e, detail, dsize);
    return HSCAN_EHTTP_PARSE;
}

void hscan__resp_body_start(struct hscan__resp *r, size_t max)
{
    r->body_on = 1;
    r->body_max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
    /* no body on a 1xx (101), 204 or 304 (RFC 9110 6.4.1) */
    if (r->status < 200 || r->status == 204 || r->status == 304 ||
        r->body_max == 0) {
        r->body_done = 1;
        return;
    }
    llhttp_resume(&r->parser);
}

int hscan__resp_body_feed(struct hscan__resp *r, const char *data,
                          size_t len)
{
    llhttp_errno_t e;

    if (r->body_done)
        return 1;
    if (len == 0)
        return 0;
    e = llhttp_execute(&r->parser, data, len);
    if (e == HPE_OK && r->body_len < r->body_max)
        return 0;
    /* Paused at the end of the message or past body_max; or full with
     * the end not seen yet (it may never come: stop); or a body that
     * cannot be parsed (it ends here). */
    if (e != HPE_PAUSED || !r->body_done)
        r->body_truncated = 1;
    r->body_done = 1;
    return 1;
}

void hscan__resp_body_cut(struct hscan__resp *r, int closed)
{
    if (r->body_done)
        return;
    /* A body without length or chunking ends with the connection:
     * llhttp_finish() then calls on_message_complete (which pauses). */
    if (closed && llhttp_message_needs_eof(&r->parser)) {
        llhttp_errno_t e = llhttp_finish(&r->parser);
        if (r->body_done && (e == HPE_OK || e == HPE_PAUSED))
            return;
    }
    r->body_done = 1;
    r->body_truncated = 1;
}

int hscan__resp_eof(struct hscan__resp *r, char *detail, size_t dsize)
{
    if (r->done && r->body_on) {
        hscan__resp_body_cut(r, 1);
        return 0;
    }
    if (r->head_bytes == 0) {
        snprintf(detail, dsize, "closed before any response byte");
    } else {
        snprintf(detail, dsize,
                 "closed after %llu bytes, inside the header block",
                 (unsigned long long)r->head_bytes);
    }
    return HSCAN_EREAD_CLOSED;
}
