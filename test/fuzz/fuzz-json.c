/* The JSON Lines record (lib/result.c hscan_result_to_json): a result
 * view built from the input (strings of any bytes, headers, DNS lists,
 * redirect hops, TLS facts, timings, any error code), serialised.
 * Checked here, not by a later reader: the text is strict RFC 8259 JSON
 * (json-check.c), the top-level keys are the documented ones in order,
 * every string decodes back to exactly the bytes that went in, and the
 * snprintf contract holds (a short buffer gets the same length back, a
 * NUL-terminated prefix, and no byte written past its end). */
#include <string.h>

#include "fuzz.h"
#include "result.h"         /* hscan__h2_code_name */
#include "json-check.h"

#define POOL_MAX 1024
#define LIST_MAX 8

struct pool {
    void *p[POOL_MAX];
    size_t n;
};

/* The string values the record must hold, in document order. */
struct want {
    const char *s[POOL_MAX];
    size_t len[POOL_MAX];
    size_t n;
};

static void *keep(struct pool *pl, void *x)
{
    FUZZ_CHECK(pl->n < POOL_MAX);
    pl->p[pl->n++] = x;
    return x;
}

static void want(struct want *w, const char *s, size_t n)
{
    FUZZ_CHECK(w->n < POOL_MAX);
    w->s[w->n] = s;
    w->len[w->n++] = n;
}

static void want_opt(struct want *w, const char *s)
{
    if (s)
        want(w, s, strlen(s));
}

/* Any bytes, exactly sized (NUL bytes included). */
static const char *gen_bytes(struct fz *f, struct pool *pl, size_t *len)
{
    const uint8_t *p;
    size_t n = fz_take(f, fz_u8(f), &p);

    *len = n;
    return keep(pl, fz_dup(p, n));
}

/* A C string (it ends at its first NUL), or NULL when the selector's low
 * bit says so. */
static const char *gen_cstr(struct fz *f, struct pool *pl)
{
    const uint8_t *p;
    size_t n;
    char *s;

    if (fz_u8(f) & 1)
        return NULL;
    n = fz_take(f, fz_u8(f), &p);
    s = keep(pl, malloc(n + 1));
    FUZZ_CHECK(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static const char *gen_text(struct fz *f, struct pool *pl)
{
    const char *s = gen_cstr(f, pl);
    return s ? s : "";
}

/* Any double: -1 (phase skipped), a plausible duration, or raw bits
 * (huge, tiny, negative, infinite, NaN). */
static double gen_ms(struct fz *f)
{
    uint64_t bits;
    double d;

    switch (fz_u8(f) & 3) {
    case 0:
        return -1;
    case 1:
        return fz_u32(f) / 1000.0;
    case 2:
        return (double)fz_u32(f) * 1e6;
    }
    bits = (uint64_t)fz_u32(f) << 32 | fz_u32(f);
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static int gen_int(struct fz *f)
{
    return (int)fz_u32(f);
}

static int gen_error(struct fz *f)
{
    static const int known[] = {
#define XX(c, id, name, msg) c,
        HSCAN_ERRNO_MAP(XX)
#undef XX
    };
    unsigned sel = fz_u8(f);

    if (sel < 64)
        return 0;
    if (sel < 192)
        return known[sel % (sizeof(known) / sizeof(known[0]))];
    return gen_int(f);
}

static const char *const *gen_list(struct fz *f, struct pool *pl,
                                   size_t *n)
{
    const char **v;
    size_t i;

    *n = fz_u8(f) % (LIST_MAX + 1);
    v = keep(pl, malloc((*n ? *n : 1) * sizeof(*v)));
    FUZZ_CHECK(v != NULL);
    for (i = 0; i < *n; i++)
        v[i] = gen_text(f, pl);
    return v;
}

/* HTTP/2 facts: settings ids and values, codes known and not. */
static hscan_h2_t *gen_h2(struct fz *f, struct pool *pl)
{
    hscan_h2_t *h;
    hscan_h2_setting_t *st;
    size_t i;

    if (fz_u8(f) & 1)
        return NULL;
    h = keep(pl, calloc(1, sizeof(*h)));
    FUZZ_CHECK(h != NULL);
    h->n_settings = fz_u8(f) % 65;
    st = keep(pl, malloc((h->n_settings + 1) * sizeof(*st)));
    FUZZ_CHECK(st != NULL);
    for (i = 0; i < h->n_settings; i++) {
        st[i].id = fz_u8(f) % 2 ? fz_u8(f) : (fz_u32(f) & 0xffff);
        st[i].value = fz_u32(f);
    }
    h->settings = st;
    h->window_update = (fz_u8(f) & 1) ? -1 : (long long)(fz_u32(f) >> 1);
    h->goaway = fz_u8(f) & 1;
    h->goaway_code = fz_u8(f) % 2 ? fz_u8(f) % 16 : fz_u32(f);
    h->goaway_last_stream = fz_u32(f) >> 1;
    h->rst_stream = fz_u8(f) & 1;
    h->rst_code = fz_u8(f) % 2 ? fz_u8(f) % 16 : fz_u32(f);
    return h;
}

/* The whole chain (cfg.tls_chain): absent, or certificates and a path
 * (NULL or not). */
static void gen_chain(struct fz *f, struct pool *pl, hscan_tls_t *t)
{
    hscan_cert_t *c;
    size_t i;

    t->earliest_not_after = gen_cstr(f, pl);
    t->earliest_days_left = (long)(int32_t)fz_u32(f) * 4099L;
    if (fz_u8(f) & 1)
        return;
    t->n_chain = fz_u8(f) % (LIST_MAX + 1);
    c = keep(pl, calloc(t->n_chain + 1, sizeof(*c)));
    FUZZ_CHECK(c != NULL);
    for (i = 0; i < t->n_chain; i++) {
        c[i].subject = gen_cstr(f, pl);
        c[i].issuer = gen_cstr(f, pl);
        c[i].serial = gen_cstr(f, pl);
        c[i].not_before = gen_cstr(f, pl);
        c[i].not_after = gen_cstr(f, pl);
        c[i].sha256 = gen_cstr(f, pl);
        c[i].spki_sha256 = gen_cstr(f, pl);
        c[i].key_type = gen_cstr(f, pl);
        c[i].key_bits = gen_int(f);
        c[i].sig_alg = gen_cstr(f, pl);
        c[i].is_ca = fz_u8(f) & 1;
    }
    t->chain = c;
    t->chain_truncated = fz_u8(f) & 1;
    if (fz_u8(f) & 1)
        t->verified_chain = gen_list(f, pl, &t->n_verified_chain);
}

/* ---- words, lines, extracts (match) ---- */
static void gen_match(struct fz *f, struct pool *pl, hscan_result_t *r)
{
    static const char *const keys[] = { "a", "extract_1", "b" };
    hscan_extract_t *x;
    size_t i;

    r->body_words = (long long)(int32_t)fz_u32(f);
    r->body_lines = (long long)(int32_t)fz_u32(f);
    if (fz_u8(f) & 1)
        return;                     /* no extractors: no key */
    r->n_extracts = fz_u8(f) % (LIST_MAX + 1);
    x = keep(pl, malloc((r->n_extracts + 1) * sizeof(*x)));
    FUZZ_CHECK(x != NULL);
    for (i = 0; i < r->n_extracts; i++) {
        x[i].key = keys[fz_u8(f) % 3];
        x[i].value = gen_bytes(f, pl, &x[i].value_len);
    }
    r->extracts = x;
    r->extracts_truncated = fz_u8(f) & 1;
}

/* ---- stapled OCSP and SCTs ---- */
static void gen_tls_ocsp(struct fz *f, struct pool *pl, hscan_tls_t *t)
{
    hscan_tls_sct_t *scts;
    size_t i;

    t->ocsp.stapled = fz_u8(f) & 1;
    t->ocsp.status = gen_cstr(f, pl);
    t->ocsp.revoked_at = gen_cstr(f, pl);
    t->ocsp.reason = gen_cstr(f, pl);
    t->ocsp.this_update = gen_cstr(f, pl);
    t->ocsp.next_update = gen_cstr(f, pl);
    t->ocsp.verified = fz_u8(f) & 1;
    t->ocsp.error = gen_cstr(f, pl);
    t->n_scts = fz_u8(f) % (LIST_MAX + 1);
    t->n_scts_total = t->n_scts + fz_u8(f);
    scts = keep(pl, calloc(t->n_scts + 1, sizeof(*scts)));
    FUZZ_CHECK(scts != NULL);
    for (i = 0; i < t->n_scts; i++) {
        scts[i].source = gen_cstr(f, pl);
        scts[i].log_id = gen_cstr(f, pl);
        scts[i].timestamp = gen_cstr(f, pl);
    }
    t->scts = scts;
}

static hscan_tls_t *gen_tls(struct fz *f, struct pool *pl)
{
    hscan_tls_t *t;
    size_t i, *lens;
    const char **san;
    unsigned short *ext;

    if (fz_u8(f) & 1)
        return NULL;
    t = keep(pl, calloc(1, sizeof(*t)));
    FUZZ_CHECK(t != NULL);
    t->version = gen_cstr(f, pl);
    t->cipher = gen_cstr(f, pl);
    t->alpn = gen_cstr(f, pl);
    t->verified = fz_u8(f) & 1;
    t->verify_code = (long)(int32_t)fz_u32(f) * 65537L;
    t->verify_error = gen_cstr(f, pl);
    t->subject = gen_cstr(f, pl);
    t->issuer = gen_cstr(f, pl);
    t->n_san = fz_u8(f) % (LIST_MAX + 1);
    san = keep(pl, malloc((t->n_san + 1) * sizeof(*san)));
    lens = keep(pl, malloc((t->n_san + 1) * sizeof(*lens)));
    FUZZ_CHECK(san != NULL && lens != NULL);
    for (i = 0; i < t->n_san; i++)
        san[i] = gen_bytes(f, pl, &lens[i]);
    t->san = san;
    t->san_len = (fz_u8(f) & 1) ? NULL : lens;
    if (!t->san_len)                /* then they are C strings */
        for (i = 0; i < t->n_san; i++)
            san[i] = gen_text(f, pl);
    t->serial = gen_cstr(f, pl);
    t->not_before = gen_cstr(f, pl);
    t->not_after = gen_cstr(f, pl);
    t->days_left = (long)(int32_t)fz_u32(f) * 4099L;
    t->sha256 = gen_cstr(f, pl);
    t->spki_sha256 = gen_cstr(f, pl);
    t->chain_len = gen_int(f);
    t->group = gen_cstr(f, pl);
    t->sigalg = gen_cstr(f, pl);
    t->ticket = fz_u8(f) & 1;
    t->hello_retry = fz_u8(f) & 1;
    t->n_extensions = fz_u8(f) % 33;
    ext = keep(pl, malloc((t->n_extensions + 1) * sizeof(*ext)));
    FUZZ_CHECK(ext != NULL);
    for (i = 0; i < t->n_extensions; i++)
        ext[i] = (unsigned short)fz_u32(f);
    t->extensions = ext;
    t->ja3s = gen_cstr(f, pl);
    t->ja4s = gen_cstr(f, pl);
    gen_chain(f, pl, t);
    gen_tls_ocsp(f, pl, t);
    return t;
}

static const hscan_favicon_t *gen_favicon(struct fz *f, struct pool *pl)
{
    static hscan_favicon_t v;

    if (!(fz_u8(f) & 1))
        return NULL;
    memset(&v, 0, sizeof(v));
    v.url = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    v.status = (int)(fz_u32(f) % 1000);
    v.bytes = fz_u32(f);
    v.truncated = fz_u8(f) & 1;
    v.has_mmh3 = fz_u8(f) & 1;
    v.mmh3 = (int32_t)fz_u32(f);
    v.md5 = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    v.sha256 = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    v.ms = gen_ms(f);
    v.error = gen_error(f);
    v.error_detail = gen_cstr(f, pl);
    return &v;
}

static void gen_result(struct fz *f, struct pool *pl, hscan_result_t *r)
{
    hscan_header_t *h;
    hscan_hop_t *hops;
    size_t i;

    memset(r, 0, sizeof(*r));
    r->input = gen_bytes(f, pl, &r->input_len);
    r->url = gen_cstr(f, pl);
    r->scheme = gen_cstr(f, pl);
    r->host = gen_cstr(f, pl);
    r->ip = gen_cstr(f, pl);
    r->port = gen_int(f);
    r->status = gen_int(f);
    r->reason = (fz_u8(f) & 1) ? NULL : gen_bytes(f, pl, &r->reason_len);
    r->http_major = gen_int(f);
    r->http_minor = gen_int(f);
    r->n_headers = fz_u8(f) % (LIST_MAX * 2 + 1);
    h = keep(pl, malloc((r->n_headers + 1) * sizeof(*h)));
    FUZZ_CHECK(h != NULL);
    for (i = 0; i < r->n_headers; i++) {
        h[i].name = gen_bytes(f, pl, &h[i].name_len);
        h[i].value = gen_bytes(f, pl, &h[i].value_len);
    }
    r->headers = h;
    r->addresses = gen_list(f, pl, &r->n_addresses);
    r->cnames = gen_list(f, pl, &r->n_cnames);
    r->dns_ms = gen_ms(f);
    r->connect_ms = gen_ms(f);
    r->tls_ms = gen_ms(f);
    r->ttfb_ms = gen_ms(f);
    r->total_ms = gen_ms(f);
    r->tls = gen_tls(f, pl);
    r->n_redirects = fz_u8(f) % (LIST_MAX + 1);
    hops = keep(pl, malloc((r->n_redirects + 1) * sizeof(*hops)));
    FUZZ_CHECK(hops != NULL);
    for (i = 0; i < r->n_redirects; i++) {
        hops[i].url = gen_cstr(f, pl);
        hops[i].status = gen_int(f);
        hops[i].location = gen_bytes(f, pl, &hops[i].location_len);
        hops[i].ip = gen_cstr(f, pl);
        hops[i].total_ms = gen_ms(f);
    }
    r->redirects = hops;
    r->error = gen_error(f);
    r->error_detail = gen_cstr(f, pl);
    r->fallback_error = gen_error(f);
    r->fallback_detail = gen_cstr(f, pl);
    r->content_type = (fz_u8(f) & 1) ? NULL
                      : gen_bytes(f, pl, &r->content_type_len);
    r->content_length = (long long)(int32_t)fz_u32(f) * 1000003LL;
    r->title = (fz_u8(f) & 1) ? NULL : gen_bytes(f, pl, &r->title_len);
    r->body_sha256 = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    r->body_len = fz_u32(f);
    r->body_truncated = fz_u8(f) & 1;
    r->body_decoding = (fz_u8(f) & 1) && r->body_sha256;
    r->body_wire_len = fz_u32(f);
    r->body_encoding = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    r->body_decode = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    r->h2 = gen_h2(f, pl);
    r->proxy = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    r->proxy_ms = gen_ms(f);
    r->attempts = fz_u8(f) % 12;
    r->path = (fz_u8(f) & 1) ? NULL : gen_cstr(f, pl);
    /* cfg.hash, cfg.favicon: absent unless a byte says so (the seeds
     * from before them still read as they did) */
    r->body_md5 = (fz_u8(f) & 1) ? gen_cstr(f, pl) : NULL;
    r->has_body_mmh3 = fz_u8(f) & 1;
    r->body_mmh3 = (int32_t)fz_u32(f);
    r->favicon = gen_favicon(f, pl);
    gen_match(f, pl, r);
}

/* The extracts' values as the record groups them: under each key (a
 * member name, not a value) at its first value, all its values. */
static void expect_extracts(const hscan_result_t *r, struct want *w)
{
    size_t i, k;

    for (i = 0; r->extracts && i < r->n_extracts; i++) {
        for (k = 0; k < i && strcmp(r->extracts[k].key,
                                    r->extracts[i].key) != 0; k++)
            ;
        if (k < i)
            continue;
        for (k = i; k < r->n_extracts; k++)
            if (strcmp(r->extracts[k].key, r->extracts[i].key) == 0)
                want(w, r->extracts[k].value, r->extracts[k].value_len);
    }
}

/* Every string value of the record, in the order the schema puts them
 * (docs/results.md). */
static void expect(const hscan_result_t *r, struct want *w, char *ver,
                   size_t vsize)
{
    const hscan_tls_t *t = r->tls;
    size_t i;

    want(w, r->input, r->input_len);
    want_opt(w, r->url);
    want_opt(w, r->scheme);
    want_opt(w, r->host);
    want_opt(w, r->ip);
    if (r->reason)
        want(w, r->reason, r->reason_len);
    if (r->http_major >= 0) {
        if (r->h2)          /* HTTP/2 has no minor version */
            snprintf(ver, vsize, "HTTP/%u", (unsigned)r->http_major);
        else
            snprintf(ver, vsize, "HTTP/%u.%u", (unsigned)r->http_major,
                     r->http_minor > 0 ? (unsigned)r->http_minor : 0u);
        want_opt(w, ver);
    }
    for (i = 0; i < r->n_headers; i++) {
        want(w, r->headers[i].name, r->headers[i].name_len);
        want(w, r->headers[i].value, r->headers[i].value_len);
    }
    if (r->dns_ms >= 0) {
        for (i = 0; i < r->n_addresses; i++)
            want_opt(w, r->addresses[i]);
        for (i = 0; i < r->n_cnames; i++)
            want_opt(w, r->cnames[i]);
    }
    if (r->content_type)
        want(w, r->content_type, r->content_type_len);
    if (r->title)
        want(w, r->title, r->title_len);
    want_opt(w, r->body_sha256);
    if (r->body_decoding) {         /* right after sha256 */
        want_opt(w, r->body_encoding);
        want_opt(w, r->body_decode);
    }
    want_opt(w, r->body_md5);       /* the body object is there then */
    expect_extracts(r, w);
    if (r->favicon) {
        const hscan_favicon_t *v = r->favicon;
        want_opt(w, v->url);
        want_opt(w, v->sha256);
        want_opt(w, v->md5);
        if (v->error) {
            want_opt(w, hscan_err_name(v->error));
            want_opt(w, v->error_detail);
        }
    }
    for (i = 0; i < r->n_redirects; i++) {
        want_opt(w, r->redirects[i].url);
        want(w, r->redirects[i].location, r->redirects[i].location_len);
        want_opt(w, r->redirects[i].ip);
    }
    if (t) {
        want_opt(w, t->version);
        want_opt(w, t->cipher);
        want_opt(w, t->alpn);
        if (!t->verified && t->subject)   /* no certificate: null */
            want_opt(w, t->verify_error);
        want_opt(w, t->subject);
        want_opt(w, t->issuer);
        for (i = 0; i < t->n_san; i++)
            want(w, t->san[i], t->san_len ? t->san_len[i]
                                          : strlen(t->san[i]));
        want_opt(w, t->serial);
        want_opt(w, t->not_before);
        want_opt(w, t->not_after);
        want_opt(w, t->sha256);
        want_opt(w, t->spki_sha256);
        want_opt(w, t->group);
        want_opt(w, t->sigalg);
        want_opt(w, t->ja3s);
        want_opt(w, t->ja4s);
        want_opt(w, t->earliest_not_after);
        for (i = 0; t->chain && i < t->n_chain; i++) {
            const hscan_cert_t *c = &t->chain[i];
            want_opt(w, c->subject);
            want_opt(w, c->issuer);
            want_opt(w, c->serial);
            want_opt(w, c->not_before);
            want_opt(w, c->not_after);
            want_opt(w, c->sha256);
            want_opt(w, c->spki_sha256);
            want_opt(w, c->key_type);
            want_opt(w, c->sig_alg);
        }
        for (i = 0; t->chain && t->verified_chain &&
                    i < t->n_verified_chain; i++)
            want_opt(w, t->verified_chain[i]);
        if (t->ocsp.stapled) {
            want_opt(w, t->ocsp.status);
            want_opt(w, t->ocsp.revoked_at);
            want_opt(w, t->ocsp.reason);
            want_opt(w, t->ocsp.this_update);
            want_opt(w, t->ocsp.next_update);
            want_opt(w, t->ocsp.error);
        }
        for (i = 0; i < t->n_scts; i++) {
            want_opt(w, t->scts[i].source);
            want_opt(w, t->scts[i].log_id);
            want_opt(w, t->scts[i].timestamp);
        }
    }
    if (r->error) {
        want_opt(w, hscan_err_name(r->error));
        want_opt(w, r->error_detail);
    }
    if (r->fallback_error) {
        want_opt(w, "https");
        want_opt(w, hscan_err_name(r->fallback_error));
        want_opt(w, r->fallback_detail);
    }
    if (r->h2) {
        if (r->h2->goaway)
            want_opt(w, hscan__h2_code_name(r->h2->goaway_code));
        if (r->h2->rst_stream)
            want_opt(w, hscan__h2_code_name(r->h2->rst_code));
    }
    want_opt(w, r->proxy);
    want_opt(w, r->path);
}

/* "extracts" after "body" only with extractors (r->extracts),
 * "favicon" after it only with cfg.favicon; "path" only in records of
 * a path list (cfg.paths), last. */
static void check_keys(const struct jdoc *d, int has_ex, int has_favicon,
                       int has_path)
{
    static const char *const keys[] = {
        "schema", "input", "url", "scheme", "host", "ip", "port", "status",
        "reason", "http_version", "headers", "anomalies", "interim",
        "headers_complete", "dns", "content_type",
        "content_length", "title", "body", "extracts", "favicon", "audit",
        "redirects", "tls", "timing_ms", "error", "error_detail",
        "fallback", "h2", "proxy", "attempts", "path"
    };
    size_t i, k = 0, n = sizeof(keys) / sizeof(keys[0]);

    FUZZ_CHECK(d->n_top_keys == n - !has_ex - !has_favicon - !has_path);
    for (i = 0; i < n; i++) {
        if ((!has_ex && strcmp(keys[i], "extracts") == 0) ||
            (!has_favicon && strcmp(keys[i], "favicon") == 0) ||
            (!has_path && strcmp(keys[i], "path") == 0))
            continue;
        FUZZ_CHECK(d->top_keys[k].len == strlen(keys[i]) &&
                   memcmp(d->dec + d->top_keys[k].off, keys[i],
                          strlen(keys[i])) == 0);
        k++;
    }
}

static void check_json(const hscan_result_t *r, const char *text,
                       size_t len)
{
    static struct want w;
    struct jdoc d;
    char ver[48];
    size_t i;

    if (!json_check(text, len, &d)) {
        fprintf(stderr, "invalid JSON: %.*s\n", (int)len, text);
        FUZZ_CHECK(!"the record is valid JSON");
    }
    check_keys(&d, r->extracts != NULL, r->favicon != NULL,
               r->path != NULL);
    w.n = 0;
    expect(r, &w, ver, sizeof(ver));
    FUZZ_CHECK(d.n_vals == w.n);
    for (i = 0; i < w.n; i++) {
        FUZZ_CHECK(d.vals[i].len == w.len[i]);
        FUZZ_CHECK(memcmp(d.dec + d.vals[i].off, w.s[i], w.len[i]) == 0);
    }
    jdoc_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    static struct pool pl;
    hscan_result_t r;
    size_t n, m, cut, i;
    char *full, *part;
    unsigned sel = fz_u8(&f);

    pl.n = 0;
    gen_result(&f, &pl, &r);
    n = hscan_result_to_json(&r, NULL, 0);
    full = malloc(n + 1);
    FUZZ_CHECK(full != NULL);
    m = hscan_result_to_json(&r, full, n + 1);
    FUZZ_CHECK(m == n && full[n] == '\0' && strlen(full) == n);
    check_json(&r, full, n);

    /* A buffer `cut` bytes long (1..n): same length back, a prefix, a NUL
     * in its last byte; ASan sees any write past it. */
    cut = 1 + (n ? (sel * 2654435761u) % n : 0);
    part = malloc(cut);
    FUZZ_CHECK(part != NULL);
    m = hscan_result_to_json(&r, part, cut);
    FUZZ_CHECK(m == n);
    FUZZ_CHECK(part[cut - 1] == '\0' && memcmp(part, full, cut - 1) == 0);
    free(part);

    free(full);
    for (i = 0; i < pl.n; i++)
        free(pl.p[i]);
    return 0;
}
