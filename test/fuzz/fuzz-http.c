/* The response path of a probe (lib/http.c): bytes as the socket
 * delivers them, split where the first input bytes say, fed through
 * hscan__resp_feed() exactly as probe.c does (stop at the first non-zero
 * answer; EOF when the bytes run out), under the default header limits or
 * small ones.
 *
 * Input: [mode] [limit hi] [limit lo] [count] [k | ...] [k chunk sizes]
 * then the response bytes.  Checked after every call: the arena never
 * holds more than the byte cap, the header count stays under its cap,
 * every offset points inside the arena, a header block ends with a final
 * status, errors are the documented ones.  The same bytes in one piece
 * must give the same outcome and facts, anomalies included (limit
 * errors may come earlier when split: the cap counts whole reads).  A
 * response, complete or cut short (partial facts), shown as report.c
 * shows it, serialises to valid JSON whose strings are the bytes
 * received. */
#include <string.h>

#include "http.h"
#include "fuzz.h"
#include "json-check.h"

struct outcome {
    int rc;
    char detail[HSCAN__DETAIL_SIZE];
};

/* The caps and the spans hold always: after an error report.c shows
 * the facts read so far. */
static void check_state(const struct hscan__resp *r)
{
    unsigned i;

    FUZZ_CHECK(r->len <= r->limit && r->len <= r->cap);
    FUZZ_CHECK(r->cap <= r->limit);
    FUZZ_CHECK(r->head_bytes <= r->limit);
    FUZZ_CHECK(r->n_hdrs <= r->max_hdrs && r->hdr_cap <= r->max_hdrs);
    FUZZ_CHECK(r->n_hdrs <= r->hdr_cap);
    FUZZ_CHECK(r->n_interim <= HSCAN__MAX_INTERIM);
    FUZZ_CHECK(r->anomalies < (1u << HSCAN__A_COUNT));
    FUZZ_CHECK(r->status == 0 || (r->status >= 100 && r->status <= 999));
    FUZZ_CHECK((uint64_t)r->reason_off + r->reason_len <= r->len);
    for (i = 0; i < r->n_hdrs; i++) {
        const struct hscan__hdr *h = &r->hdrs[i];
        FUZZ_CHECK((uint64_t)h->name_off + h->name_len <= r->len);
        FUZZ_CHECK((uint64_t)h->value_off + h->value_len <= r->len);
    }
}

static void check_rc(struct hscan__resp *r, const struct outcome *o)
{
    if (o->rc >= 0) {
        FUZZ_CHECK(o->rc <= 1);
        FUZZ_CHECK(r->head_bytes <= r->limit);
    } else {
        FUZZ_CHECK(o->rc == HSCAN_EHTTP_PARSE ||
                   o->rc == HSCAN_EHEADER_TOO_LARGE ||
                   o->rc == HSCAN_ETOO_MANY_HEADERS ||
                   o->rc == HSCAN_ERESOURCE_EXHAUSTED ||
                   o->rc == HSCAN_EREAD_CLOSED);
        FUZZ_CHECK(memchr(o->detail, '\0', sizeof(o->detail)) != NULL);
        FUZZ_CHECK(o->detail[0] != '\0');
    }
    if (o->rc == 1) {
        FUZZ_CHECK(r->done);
        FUZZ_CHECK(r->status >= 100 && r->status <= 999);
        /* a 1xx is final only as 101, or when the close cut its head */
        FUZZ_CHECK(r->status >= 200 || r->status == 101 || !r->complete);
        FUZZ_CHECK(r->major <= 9);
        FUZZ_CHECK(r->minor <= 9);
    }
}

/* Body capture (bmax > 0): after the head, as probe.c does: the rest
 * of the piece, then each next piece, until done; then the close. */
static struct hscan__md fz_md;      /* as a scanner's, kept to the end */

static void check_body(const struct hscan__resp *r)
{
    FUZZ_CHECK(r->body_len <= r->body_max && r->bf.len == r->body_len);
    FUZZ_CHECK(r->bf.cap <= r->body_max);
    FUZZ_CHECK(r->bf.keep ? r->body_len == 0 || r->bf.buf != NULL
                          : r->bf.buf == NULL);
    FUZZ_CHECK(r->bf.title.len <= r->body_len);
    FUZZ_CHECK(!r->body_done || (r->bf.ended && !r->bf.ctx));
}

static void body_run(struct hscan__resp *r, size_t bmax, const char *rest,
                     size_t rest_n, const uint8_t *body, size_t n,
                     size_t off, const uint8_t *sizes, size_t k, size_t i)
{
    int done;

    /* the whole stream keeps its bytes, the split one does not */
    hscan__resp_body_start(r, bmax, &fz_md, k == 0);
    done = hscan__resp_body_feed(r, rest, rest_n);
    check_body(r);
    while (!done && off < n) {
        size_t c = k ? (size_t)sizes[i++ % k] + 1 : n;
        char *piece;
        if (c > n - off)
            c = n - off;
        piece = fz_dup(body + off, c);
        done = hscan__resp_body_feed(r, piece, c);
        free(piece);
        off += c;
        check_body(r);
    }
    if (!done)
        hscan__resp_body_cut(r, 1);
    FUZZ_CHECK(r->body_done);
    check_body(r);
}

/* Feed `body` in chunks of the sizes given (cycled; none: one piece),
 * each an exactly sized copy so an over-read is an ASan report. */
static struct outcome run(struct hscan__resp *r, size_t max_bytes,
                          unsigned max_hdrs, const uint8_t *body, size_t n,
                          const uint8_t *sizes, size_t k, size_t bmax)
{
    struct outcome o;
    size_t off = 0, i = 0;

    memset(&o, 0, sizeof(o));
    hscan__resp_init(r, max_bytes, max_hdrs);
    while (off < n && o.rc == 0) {
        size_t c = k ? (size_t)sizes[i++ % k] + 1 : n;
        char *piece;
        if (c > n - off)
            c = n - off;
        piece = fz_dup(body + off, c);
        o.rc = hscan__resp_feed(r, piece, c, o.detail, sizeof(o.detail));
        off += c;
        check_state(r);
        check_rc(r, &o);
        if (o.rc == 1 && bmax) {
            FUZZ_CHECK(r->rest <= c);
            body_run(r, bmax, piece + r->rest, c - r->rest, body, n, off,
                     sizes, k, i);
        }
        free(piece);
    }
    if (o.rc == 0) {
        o.rc = hscan__resp_eof(r, o.detail, sizeof(o.detail));
        FUZZ_CHECK(o.rc == HSCAN_EREAD_CLOSED || o.rc == 1);
        FUZZ_CHECK(o.rc != 1 || r->anomalies &
                   (1u << HSCAN__A_HEAD_CUT_BY_CLOSE));
        check_state(r);
        check_rc(r, &o);
        if (o.rc == 1 && bmax) {
            hscan__resp_body_start(r, bmax, &fz_md, k == 0);
            hscan__resp_body_cut(r, 1);
            FUZZ_CHECK(r->body_len == 0);
        }
    }
    return o;
}

static int is_limit(int rc)
{
    return rc == HSCAN_EHEADER_TOO_LARGE || rc == HSCAN_ETOO_MANY_HEADERS;
}

static int same_span(const struct hscan__resp *a, uint32_t aoff,
                     uint32_t alen, const struct hscan__resp *b,
                     uint32_t boff, uint32_t blen)
{
    return alen == blen &&
           (alen == 0 || memcmp(a->buf + aoff, b->buf + boff, alen) == 0);
}

static void compare(struct hscan__resp *a, const struct outcome *oa,
                    struct hscan__resp *b, const struct outcome *ob)
{
    unsigned i;

    if (is_limit(oa->rc) || is_limit(ob->rc))
        return;
    FUZZ_CHECK(oa->rc == ob->rc);
    /* a parse error may come at the first bytes or at their line end */
    if (oa->rc != 1 && oa->rc != HSCAN_EREAD_CLOSED)
        return;
    FUZZ_CHECK(a->anomalies == b->anomalies);
    FUZZ_CHECK(a->n_interim == b->n_interim);
    FUZZ_CHECK(a->status == b->status);
    FUZZ_CHECK(a->major == b->major && a->minor == b->minor);
    FUZZ_CHECK(same_span(a, a->reason_off, a->reason_len,
                         b, b->reason_off, b->reason_len));
    FUZZ_CHECK(a->n_hdrs == b->n_hdrs);
    for (i = 0; i < a->n_hdrs; i++) {
        const struct hscan__hdr *x = &a->hdrs[i], *y = &b->hdrs[i];
        FUZZ_CHECK(same_span(a, x->name_off, x->name_len,
                             b, y->name_off, y->name_len));
        FUZZ_CHECK(same_span(a, x->value_off, x->value_len,
                             b, y->value_off, y->value_len));
    }
}

static int same_bytes(const struct jdoc *d, size_t i, const char *s,
                      size_t n)
{
    return i < d->n_vals && d->vals[i].len == n &&
           (n == 0 || memcmp(d->dec + d->vals[i].off, s, n) == 0);
}

/* The response part of a record, filled as report.c fill_response()
 * does, through hscan_result_to_json() and back. */
static void check_record(struct hscan__resp *r)
{
    hscan_result_t res;
    hscan_header_t *hv = malloc((r->n_hdrs + 1) * sizeof(*hv));
    const char *base = r->buf ? r->buf : "";
    const char *anom[HSCAN__A_COUNT];
    struct jdoc d;
    char *json;
    size_t n, i;

    FUZZ_CHECK(hv != NULL);
    if (r->status == 0) {           /* report.c shows no response */
        free(hv);
        return;
    }
    memset(&res, 0, sizeof(res));
    res.input = "x";
    res.input_len = 1;
    res.status = r->status;
    res.reason = base + r->reason_off;     /* as report.c does */
    res.reason_len = r->reason_len;
    res.http_major = r->status ? r->major : -1;
    res.http_minor = r->minor;
    for (i = 0; i < r->n_hdrs; i++) {
        hv[i].name = base + r->hdrs[i].name_off;
        hv[i].name_len = r->hdrs[i].name_len;
        hv[i].value = base + r->hdrs[i].value_off;
        hv[i].value_len = r->hdrs[i].value_len;
    }
    res.headers = hv;
    res.n_headers = r->n_hdrs;
    for (i = 0; i < HSCAN__A_COUNT; i++)
        if (r->anomalies & (1u << i))
            anom[res.n_anomalies++] = hscan__anomaly_name((unsigned)i);
    res.anomalies = anom;
    res.interim = r->interim;
    res.n_interim = r->n_interim;
    res.headers_complete = r->complete;
    res.dns_ms = res.connect_ms = res.tls_ms = res.ttfb_ms = -1;
    res.total_ms = 1;
    n = hscan_result_to_json(&res, NULL, 0);
    json = malloc(n + 1);
    FUZZ_CHECK(json != NULL);
    FUZZ_CHECK(hscan_result_to_json(&res, json, n + 1) == n);
    FUZZ_CHECK(json_check(json, n, &d));
    /* "x", the reason, "HTTP/M.m", each name and value, each anomaly */
    FUZZ_CHECK(d.n_vals == 3 + 2 * (size_t)r->n_hdrs + res.n_anomalies);
    FUZZ_CHECK(same_bytes(&d, 1, res.reason, res.reason_len));
    for (i = 0; i < r->n_hdrs; i++) {
        FUZZ_CHECK(same_bytes(&d, 3 + 2 * i, hv[i].name, hv[i].name_len));
        FUZZ_CHECK(same_bytes(&d, 4 + 2 * i, hv[i].value,
                              hv[i].value_len));
    }
    jdoc_free(&d);
    free(json);
    free(hv);
}

/* The same bytes read however the stream was split: the kept ones of
 * `whole` give, at once, the digest and title `split` streamed. */
static void same_body_facts(struct hscan__resp *whole,
                            struct hscan__resp *split)
{
    char *a, *b;
    long la, lb;

    FUZZ_CHECK(whole->body_len == split->body_len);
    FUZZ_CHECK(whole->bf.has_digest && split->bf.has_digest);
    FUZZ_CHECK(memcmp(whole->bf.digest, split->bf.digest, 32) == 0);
    a = malloc(whole->body_len + 1);
    b = malloc(whole->body_len + 1);
    FUZZ_CHECK(a && b);
    la = hscan__html_title(whole->bf.buf, whole->body_len, a,
                           whole->body_len);
    lb = hscan__title_text(&split->bf.title, b, whole->body_len);
    FUZZ_CHECK(la == lb);
    FUZZ_CHECK(la <= 0 || memcmp(a, b, (size_t)la) == 0);
    free(a);
    free(b);
}

/* The title tokenizer fed the input in two exact pieces, cut at `cut`,
 * gives the one-shot title. */
static void check_title(const uint8_t *in, size_t n, size_t cut)
{
    struct hscan__title t;
    char *p1 = fz_dup(in, cut), *p2 = fz_dup(in + cut, n - cut);
    char *a = malloc(n + 1), *b = malloc(n + 1);
    long la, lb;

    FUZZ_CHECK(a && b);
    hscan__title_init(&t, n);
    FUZZ_CHECK(hscan__title_feed(&t, p1, cut) == 0);
    FUZZ_CHECK(hscan__title_feed(&t, p2, n - cut) == 0);
    FUZZ_CHECK(t.len <= n);
    la = hscan__title_text(&t, a, n);
    lb = hscan__html_title((const char *)in, n, b, n);
    FUZZ_CHECK(la == lb && la <= (long)n);
    FUZZ_CHECK(la <= 0 || memcmp(a, b, (size_t)la) == 0);
    hscan__title_free(&t);
    free(p1);
    free(p2);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    hscan_config_t cfg;
    struct hscan__resp whole, split;
    struct outcome ow, os;
    const uint8_t *sizes, *body;
    unsigned mode, small_bytes, small_hdrs, k;
    size_t max_bytes, n, bmax;
    unsigned max_hdrs;

    hscan_config_init(&cfg);
    mode = fz_u8(&f);
    small_bytes = 1 + (fz_u8(&f) << 8 | fz_u8(&f)) % 4096;
    small_hdrs = 1 + fz_u8(&f) % 32;
    max_bytes = (mode & 1) ? small_bytes : cfg.max_header_bytes;
    max_hdrs = (mode & 2) ? small_hdrs : cfg.max_headers;
    bmax = (mode & 4) ? 1 + (small_bytes * 7) % 3000 : 0;
    k = fz_u8(&f) & 15;
    k = (unsigned)fz_take(&f, k, &sizes);
    n = fz_take(&f, f.n, &body);

    ow = run(&whole, max_bytes, max_hdrs, body, n, NULL, 0, bmax);
    os = run(&split, max_bytes, max_hdrs, body, n, sizes, k, bmax);
    compare(&whole, &ow, &split, &os);
    /* the same bytes kept however the stream was split */
    if (bmax && ow.rc == 1 && os.rc == 1)
        same_body_facts(&whole, &split);
    check_title(body, n, k ? sizes[0] * 7 % (n + 1) : n / 2);
    check_record(&split);
    hscan__resp_free(&whole);
    hscan__resp_free(&split);
    return 0;
}
