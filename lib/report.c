/* Assembling a finished probe's result view.  Everything formatted goes
 * into the scanner's scratch space, reused from one result to the next:
 * a result costs no allocation in the steady state. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "body.h"
#include "body-decode.h"
#include "match.h"
#include "probe.h"

static double ms_between(uint64_t a, uint64_t b)
{
    return (a && b >= a) ? (double)(b - a) / 1e6 : -1;
}

static const char *put(struct hscan__scratch *s, char **w, const char *str)
{
    char *at = *w;
    size_t n = strlen(str) + 1;

    memcpy(at, str, n);
    *w += n;
    (void)s;
    return at;
}

static void fill_dns(struct probe *p, hscan_result_t *r,
                     struct hscan__scratch *s, char **w)
{
    size_t i;
    const char *c;
    char a[48];

    r->addresses = s->sv;
    for (i = 0; i < p->dns.n_addrs && p->family == 0; i++) {
        hscan__p_addr_str(&p->dns.addrs[i], a, sizeof(a));
        s->sv[r->n_addresses++] = put(s, w, a);
    }
    r->cnames = p->dns.n_cnames ? s->sv + r->n_addresses : NULL;
    for (i = 0, c = p->dns.cnames; i < p->dns.n_cnames; i++) {
        s->sv[r->n_addresses + i] = c;
        c += strlen(c) + 1;
    }
    r->n_cnames = p->dns.n_cnames;
}

/* What the final response's head said.  A head cut short (a limit, a
 * close or reset inside it, a timeout, a --strict refusal) still gives
 * everything read before the cut, with the error set; only a chain
 * ended by too_many_redirects reports none (its last redirect is in
 * `redirects`). */
static void fill_response(struct probe *p, hscan_result_t *r,
                          struct hscan__scratch *s)
{
    struct hscan__resp *rs = &p->resp;
    const char *base;
    uint32_t bits = rs->anomalies;
    size_t i;

    for (i = 0; bits; i++, bits >>= 1)
        if (bits & 1)
            s->anomalies[r->n_anomalies++] = hscan__anomaly_name(i);
    r->anomalies = s->anomalies;
    r->interim = rs->interim;
    r->n_interim = rs->n_interim;
    /* An interim head cut short is not a response. */
    if (!rs->status || (rs->status < 200 && rs->status != 101) ||
        r->error == HSCAN_ETOO_MANY_REDIRECTS)
        return;
    /* Nothing stored (no reason, every field ": "): no arena at all, and
     * every offset is 0. */
    base = rs->buf ? rs->buf : "";
    r->status = rs->status;
    r->reason = rs->h2 ? NULL : base + rs->reason_off;  /* none in h2 */
    r->reason_len = rs->h2 ? 0 : rs->reason_len;
    r->http_major = rs->major;
    r->http_minor = rs->minor;
    r->headers_complete = rs->complete;
    for (i = 0; i < rs->n_hdrs; i++) {
        const struct hscan__hdr *h = &rs->hdrs[i];
        s->hv[i].name = base + h->name_off;
        s->hv[i].name_len = h->name_len;
        s->hv[i].value = base + h->value_off;
        s->hv[i].value_len = h->value_len;
    }
    r->headers = s->hv;
    r->n_headers = rs->n_hdrs;
}

static int named(const hscan_header_t *h, const char *name)
{
    return h->name_len == strlen(name) &&
           strncasecmp(h->name, name, h->name_len) == 0;
}

/* Content-Type and Content-Length of the final response, and what was
 * read of its body: title and SHA-256 written at `*w`. */
static void fill_body(struct probe *p, hscan_result_t *r, char **w)
{
    struct hscan__resp *rs = &p->resp;
    size_t i;
    long t;

    r->content_length = -1;
    r->body_words = r->body_lines = -1;
    for (i = r->n_headers; i-- > 0;) {      /* the first one wins */
        const hscan_header_t *h = &r->headers[i];
        if (named(h, "Content-Type")) {
            r->content_type = h->value;
            r->content_type_len = h->value_len;
        } else if (named(h, "Content-Length")) {
            r->content_length = hscan__content_length(h->value,
                                                      h->value_len);
        }
    }
    if (!r->status || !rs->body_on)
        return;
    hscan__resp_body_end(rs);      /* when the body was cut short */
    r->body = rs->body_len && rs->bf.keep && !p->env->lim.body_hide
                  ? rs->bf.buf : NULL;
    r->body_len = rs->body_len;
    r->body_words = hscan__wcount_words(&rs->bf.wc);
    r->body_lines = hscan__wcount_lines(&rs->bf.wc);
    r->body_truncated = rs->body_truncated;
    if (hscan__bodyf_hex(&rs->bf, *w) == 0) {
        r->body_sha256 = *w;
        *w += 65;
    }
    if (rs->body_len &&
        (t = hscan__title_text(&rs->bf.title, *w,
                               rs->bf.title.len)) >= 0) {
        r->title = *w;
        r->title_len = (size_t)t;
        (*w)[t] = '\0';
        *w += t + 1;
    }
}

/* --compressed: body.encoding, the Content-Encoding list as decoded
 * (body-decode.c), at `*w`; at most twice the values' bytes. */
static void fill_encoding(hscan_result_t *r, char **w)
{
    char *o = *w;
    const char *tok;
    size_t i, pos, n, k;

    for (i = 0; i < r->n_headers; i++) {
        const hscan_header_t *h = &r->headers[i];
        if (!named(h, "Content-Encoding"))
            continue;
        for (pos = 0; hscan__ce_next(h->value, h->value_len, &pos, &tok,
                                     &n);) {
            if (hscan__ce_is_identity(tok, n))
                continue;
            if (o > *w) {
                memcpy(o, ", ", 2);
                o += 2;
            }
            for (k = 0; k < n; k++) {
                int c = hscan__lower((unsigned char)tok[k]);
                *o++ = hscan__is_tchar(c) ? (char)c : '?';
            }
        }
    }
    if (o == *w)
        return;
    *o = '\0';
    r->body_encoding = *w;
    *w = o + 1;
}

/* --compressed: the facts of decoding (body-decode.h). */
static void fill_decoding(struct probe *p, hscan_result_t *r, char **w)
{
    const struct hscan__bdec *b = &p->resp.dec;

    if (!b->on || (!r->body_sha256 && !r->body_md5 && !r->has_body_mmh3))
        return;
    r->body_decoding = 1;
    r->body_wire_len = b->ce.n ? (size_t)b->wire : r->body_len;
    r->body_decode = hscan__dec_result_name(b->result);
    fill_encoding(r, w);
}

static size_t encoding_room(const struct probe *p)
{
    const struct hscan__resp *rs = &p->resp;
    size_t i, n = 1;

    for (i = 0; i < rs->n_hdrs; i++)
        if (rs->hdrs[i].name_len == 16)     /* Content-Encoding's */
            n += 2 * (size_t)rs->hdrs[i].value_len + 2;
    return n;
}

static void fill_hops(struct probe *p, hscan_result_t *r,
                      struct hscan__scratch *s)
{
    unsigned i;

    for (i = 0; i < p->n_hops; i++) {
        hscan_hop_t *h = &s->hops[i];
        h->url = p->hops[i].url;
        h->status = p->hops[i].status;
        h->location = p->hops[i].location;
        h->location_len = p->hops[i].location_len;
        h->ip = p->hops[i].ip[0] ? p->hops[i].ip : NULL;
        h->total_ms = p->hops[i].ms;
    }
    r->redirects = p->n_hops ? s->hops : NULL;
    r->n_redirects = p->n_hops;
}

void hscan__p_build_result(struct probe *p, hscan_result_t *r, int err,
                           const char *detail)
{
    struct hscan__scratch *s = p->env->scratch;
    size_t need, nstr = p->dns.n_addrs + p->dns.n_cnames;
    char *w;

    memset(r, 0, sizeof(*r));
    r->error = err;
    r->error_detail = err ? detail : NULL;
    r->udata = p->udata;
    r->id = p->id;
    r->input = p->input;
    r->input_len = p->input_len;
    r->path = p->unit_path;
    r->scheme = p->scheme == HSCAN__HTTPS ? "https" : "http";
    r->host = p->host;
    r->port = p->port;
    r->http_major = r->http_minor = -1;
    need = p->host_len + p->path_len + strlen(p->req->path) +
           64 + 48 * (p->dns.n_addrs + 1) +
           65 + p->resp.bf.title.len + 1 +   /* body_sha256, title */
           (p->resp.dec.on ? encoding_room(p) : 0);
    if (hscan__scratch_reserve(s, need, p->resp.n_hdrs, nstr,
                               p->n_hops) != 0) {
        r->error = HSCAN_ERESOURCE_EXHAUSTED;
        r->error_detail = "out of memory building the result";
        return;
    }
    w = s->buf;
    r->url = w;
    w += hscan__p_url(p, w, need) + 1;
    if (p->cur_addr >= 0) {
        char a[48];
        hscan__p_addr_str(&p->dns.addrs[p->cur_addr], a, sizeof(a));
        r->ip = put(s, &w, a);
    }
    fill_dns(p, r, s, &w);
    fill_response(p, r, s);
    fill_body(p, r, &w);
    hscan__p_fav_fill(p, r);        /* cfg.hash, cfg.favicon */
    fill_decoding(p, r, &w);        /* after: a body read has a hash */
    if (r->status && !r->error && p->env->lim.audit &&
        hscan__audit(r->headers, r->n_headers, p->scheme == HSCAN__HTTPS,
                     &s->audit, s->audit_str, sizeof(s->audit_str)) == 0)
        r->audit = &s->audit;
    fill_hops(p, r, s);
    if (p->facts && p->tls)         /* a ticket after the handshake */
        hscan__hello_facts_late(p->facts, p->tls);
    r->tls = p->facts ? &p->facts->v : NULL;
    r->h2 = p->h2f ? &p->h2f->v : NULL;
    r->proxy = p->proxy_mode ? p->env->proxy->display : NULL;
    r->proxy_ms = p->pxs ? ms_between(p->pxs->t_proxy0, p->pxs->t_proxy)
                         : -1;
    r->attempts = hscan__p_attempts(p);
    r->fallback_error = p->fallback_err;
    r->fallback_detail = p->fallback_err ? p->fallback_detail : NULL;
    r->dns_ms = p->family ? -1 : ms_between(p->t_dns0, p->t_dns);
    r->connect_ms = ms_between(p->t_conn0, p->t_conn);
    r->tls_ms = ms_between(p->t_tls0, p->t_tls);
    r->ttfb_ms = ms_between(p->t_sent, p->t_first);
    r->total_ms = ms_between(p->t_start, uv_hrtime());
    /* ---- matchers, filters, extractors (match.c) ---- */
    r->filtered_by = -1;
    if (p->env->match &&
        hscan__match_eval(p->env->match, r,
                          r->body_words >= 0 && p->resp.bf.keep
                              ? p->resp.bf.buf : NULL, r->body_len) &&
        r->n_anomalies < sizeof(s->anomalies) / sizeof(s->anomalies[0]))
        s->anomalies[r->n_anomalies++] = "match_limit";
}
