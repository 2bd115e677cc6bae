/* hscan-exporter's scrape-request reader (tools/exporter/exp-req.c:
 * llhttp in request mode, the bounds, the query string) on any bytes.
 *
 * Input: the first byte picks where to split the rest into two reads
 * (as the network may); the bytes are fed as the server feeds them,
 * request after request on one connection (keep-alive, pipelining)
 * until one is refused or the bytes run out.  Invariants: a read never
 * uses more than it was given; a refused request has one of the
 * documented statuses and a reason; a whole one has a target within
 * EXP_URL_MAX, a head within EXP_HEAD_MAX and at most EXP_HEADERS_MAX
 * fields; the query values read from it are NUL-terminated, as long as
 * said and hold no NUL. */
#include "fuzz.h"
#include "../../tools/exporter/exp-req.h"

static void check_query(const struct exp_req *r)
{
    static const char *const keys[] = { "target", "module", "debug" };
    const char *q = memchr(r->url, '?', r->url_len);
    char out[512];
    size_t i;

    if (!q)
        return;
    q++;
    for (i = 0; i < 3; i++) {
        long n = exp_query_get(q, r->url_len - (size_t)(q - r->url), keys[i],
                               out, sizeof out);
        FUZZ_CHECK(n >= -2);
        if (n >= 0)
            FUZZ_CHECK((size_t)n < sizeof out && strlen(out) == (size_t)n);
    }
}

static void check_done(const struct exp_req *r)
{
    if (r->status) {
        FUZZ_CHECK(r->status == 400 || r->status == 413 ||
                   r->status == 414 || r->status == 431);
        FUZZ_CHECK(r->why != NULL);
        return;
    }
    FUZZ_CHECK(r->url_len <= EXP_URL_MAX && strlen(r->url) <= r->url_len);
    FUZZ_CHECK(r->head_bytes <= EXP_HEAD_MAX);
    FUZZ_CHECK(r->n_headers <= EXP_HEADERS_MAX);
    FUZZ_CHECK(r->timeout_len < sizeof r->timeout);
    check_query(r);
}

/* Feed one read; returns 0 when the connection would close. */
static int feed(struct exp_req *r, const char *p, size_t n)
{
    while (n) {
        size_t used = exp_req_feed(r, p, n);
        FUZZ_CHECK(used <= n);
        if (r->status) {
            check_done(r);
            return 0;
        }
        if (!r->complete)
            return 1;
        check_done(r);
        exp_req_next(r);
        p += used;
        n -= used;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct exp_req r;
    size_t cut;

    if (size < 1)
        return 0;
    cut = (size_t)data[0] * (size - 1) / 255;
    exp_req_init(&r);
    if (feed(&r, (const char *)data + 1, cut))
        feed(&r, (const char *)data + 1 + cut, size - 1 - cut);
    return 0;
}
