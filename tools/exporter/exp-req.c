/* hscan-exporter: scrape requests (llhttp in request mode) and their
 * query strings.  Bounded: the head is at most EXP_HEAD_MAX bytes and
 * EXP_HEADERS_MAX fields, the target EXP_URL_MAX; no body is taken. */
#include "exp-req.h"

#include <string.h>
#include <strings.h>

#define TIMEOUT_HDR "x-prometheus-scrape-timeout-seconds"

static struct exp_req *req_of(llhttp_t *p)
{
    return p->data;
}

static int refuse(struct exp_req *r, int status, const char *why)
{
    if (!r->status) {
        r->status = status;
        r->why = why;
    }
    return HPE_USER;
}

static int count_head(struct exp_req *r, size_t n)
{
    r->head_bytes += n;
    if (r->head_bytes > EXP_HEAD_MAX)
        return refuse(r, 431, "request head too large");
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    struct exp_req *r = req_of(p);

    if (r->url_len + n > EXP_URL_MAX)
        return refuse(r, 414, "request target too long");
    memcpy(r->url + r->url_len, at, n);
    r->url_len += n;
    r->url[r->url_len] = 0;
    return count_head(r, n);
}

static int on_field(llhttp_t *p, const char *at, size_t n)
{
    struct exp_req *r = req_of(p);
    size_t k = n < sizeof r->name - 1 - r->name_len ?
               n : sizeof r->name - 1 - r->name_len;

    memcpy(r->name + r->name_len, at, k);
    r->name_len += k;
    r->name[r->name_len] = 0;
    return count_head(r, n);
}

static int on_field_complete(llhttp_t *p)
{
    struct exp_req *r = req_of(p);

    if (++r->n_headers > EXP_HEADERS_MAX)
        return refuse(r, 431, "too many header fields");
    r->in_timeout = !strcasecmp(r->name, TIMEOUT_HDR);
    if (r->in_timeout) {
        r->has_timeout = 1;
        r->timeout_len = 0;
        r->timeout[0] = 0;
    }
    r->name_len = 0;
    r->name[0] = 0;
    return 0;
}

static int on_value(llhttp_t *p, const char *at, size_t n)
{
    struct exp_req *r = req_of(p);

    if (r->in_timeout) {
        if (r->timeout_len + n >= sizeof r->timeout)
            return refuse(r, 400, "bad X-Prometheus-Scrape-Timeout-Seconds");
        memcpy(r->timeout + r->timeout_len, at, n);
        r->timeout_len += n;
        r->timeout[r->timeout_len] = 0;
    }
    return count_head(r, n);
}

static int on_headers_complete(llhttp_t *p)
{
    struct exp_req *r = req_of(p);

    r->method_get = p->method == HTTP_GET || p->method == HTTP_HEAD;
    r->head = p->method == HTTP_HEAD;
    if (p->content_length > 0 || (p->flags & F_CHUNKED))
        return refuse(r, 413, "a scrape request has no body");
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct exp_req *r = req_of(p);

    r->complete = 1;
    r->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

void exp_req_init(struct exp_req *r)
{
    memset(r, 0, sizeof *r);
    llhttp_settings_init(&r->settings);
    r->settings.on_url = on_url;
    r->settings.on_header_field = on_field;
    r->settings.on_header_field_complete = on_field_complete;
    r->settings.on_header_value = on_value;
    r->settings.on_headers_complete = on_headers_complete;
    r->settings.on_message_complete = on_message_complete;
    llhttp_init(&r->parser, HTTP_REQUEST, &r->settings);
    r->parser.data = r;
}

void exp_req_next(struct exp_req *r)
{
    r->url_len = 0;
    r->url[0] = 0;
    r->head_bytes = 0;
    r->n_headers = 0;
    r->in_timeout = 0;
    r->name_len = 0;
    r->timeout_len = 0;
    r->has_timeout = 0;
    r->complete = 0;
    r->method_get = 0;
    r->head = 0;
    r->keep_alive = 0;
    if (llhttp_get_errno(&r->parser) == HPE_PAUSED)
        llhttp_resume(&r->parser);
}

size_t exp_req_feed(struct exp_req *r, const char *data, size_t len)
{
    llhttp_errno_t e;

    if (r->status || r->complete)
        return 0;
    e = llhttp_execute(&r->parser, data, len);
    if (e == HPE_OK)
        return len;
    if (e == HPE_PAUSED)
        return (size_t)(llhttp_get_error_pos(&r->parser) - data);
    refuse(r, 400, "malformed request");
    return len;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode [s, s+n) into out; -2 when malformed or too long. */
static long decode(const char *s, size_t n, char *out, size_t size)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
                (lo = hexval(s[i + 2])) < 0)
                return -2;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || o + 1 >= size)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return (long)o;
}

long exp_query_get(const char *q, size_t n, const char *key, char *out,
                   size_t size)
{
    size_t kl = strlen(key), i = 0;

    while (i < n) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - q) : n;
        const char *eq = memchr(q + i, '=', end - i);
        size_t name_end = eq ? (size_t)(eq - q) : end;
        char name[64];

        if (decode(q + i, name_end - i, name, sizeof name) == (long)kl &&
            !memcmp(name, key, kl))
            return eq ? decode(eq + 1, end - name_end - 1, out, size) :
                   (out[0] = 0, 0);
        i = end + 1;
    }
    return -1;
}
