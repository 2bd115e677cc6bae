/* The favicon request (cfg.favicon) and the probe's body extras
 * (cfg.hash): docs/api.md "Body hashes and the favicon".
 *
 * The icon is one more hop of the same probe, after the final response
 * and within the target's deadline.  On the same connection when
 * HTTP/1.1 keep-alive allows (RFC 9112 9.3: a 1.1 response without
 * "Connection: close" whose body was read to its delimited end), the
 * request going out as the next one on it; else, and when that
 * connection turns out closed before the icon's answer (a server may
 * close an idle connection at any time, 9.6), the way a redirect to the
 * same host goes (redirect.c): a new connection to the same addresses.
 * HTTP/2 targets take the new connection too (FIXME(favicon): a second
 * stream).  While the icon comes, the final response's
 * facts (its head and body facts, TLS and HTTP/2 facts, timings, URL
 * and request) wait here; hscan__p_fav_finish() puts them back when the
 * icon's hop ends, however it ends, so the record is the target's with
 * a "favicon" object beside: exactly one record, and the icon's failure
 * is the icon's, never the target's.
 *
 * Only an icon of the same origin (scheme, host, port) is fetched: its
 * addresses are the ones cfg.exclude already allowed, and a page
 * cannot make the scanner reach a host nobody listed.  A link
 * elsewhere falls back to /favicon.ico of the final URL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "favicon.h"
#include "probe.h"

#define URL_MAX (HSCAN__MAX_LINE + 512)

enum { F_MAIN, F_ICON, F_DONE };

struct hscan__fav {
    struct hscan__bodyx bx;         /* the target's body: cfg.hash, link */
    struct hscan__link link;
    struct hscan__bodyx ibx;        /* the icon's: every hash */
    int phase;
    int reused;                     /* the icon asked on the same
                                       connection */
    /* the final response and its hop, set aside while the icon comes */
    struct hscan__resp resp;
    struct hscan__tls_facts *facts;
    struct hscan__h2_facts *h2f;
    struct hscan__pxs *pxs;
    struct hscan__req *req;
    char *hop_mem, *host, *path;
    size_t host_len, path_len;
    int cur_addr, may_fall_back, retried;
    uint64_t t_hop, t_dns0, t_dns, t_conn0, t_conn, t_tls0, t_tls;
    uint64_t t_sent, t_first;
    char *icon_mem;                 /* the icon's host and path */
    uint64_t t0;
    hscan_favicon_t v;
    char *url;                      /* v.url, allocated */
    char md5[33], sha256[65], detail[HSCAN__DETAIL_SIZE];
};

int hscan__p_fav_new(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;
    struct hscan__fav *f;

    if (!lim->favicon && (lim->hash == 0 || lim->hash == HSCAN_HASH_SHA256))
        return 0;                   /* the default: nothing */
    if (!(f = calloc(1, sizeof(*f))))
        return -1;
    f->bx.hashes = lim->hash ? lim->hash : HSCAN_HASH_SHA256;
    f->bx.link = lim->favicon ? &f->link : NULL;
    f->ibx.hashes = HSCAN_HASH_SHA256 | HSCAN_HASH_MD5 | HSCAN_HASH_MMH3;
    p->fav = f;
    return 0;
}

void hscan__p_fav_free(struct probe *p)
{
    struct hscan__fav *f = p->fav;

    if (!f)
        return;
    hscan__bodyx_free(&f->bx);
    hscan__bodyx_free(&f->ibx);
    free(f->icon_mem);
    free(f->url);
    free(f);
    p->fav = NULL;
}

void hscan__p_fav_hang(struct probe *p)
{
    if (p->fav)
        p->resp.bf.x = p->fav->phase == F_ICON ? &p->fav->ibx : &p->fav->bx;
}

int hscan__p_fav_body(const struct probe *p, size_t *max, int *keep)
{
    *max = p->env->lim.body_bytes;
    *keep = p->env->lim.body_keep;
    if (p->fav && p->fav->phase == F_ICON) {
        *max = p->env->lim.favicon_bytes;
        *keep = 0;                  /* hashed as it comes, never kept */
    }
    return *max > 0 && strcmp(p->req->method, "HEAD") != 0;
}

static int is_data(const char *href)
{
    return strncasecmp(href, "data:", 5) == 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

/* A data: URI (RFC 2397): its data hashed as the icon, not fetched;
 * ";base64" data decoded (bytes outside the alphabet skipped), other
 * data taken as it stands. */
static void data_icon(struct probe *p, struct hscan__fav *f,
                      const char *href)
{
    const char *comma = strchr(href, ',');
    size_t head = comma ? (size_t)(comma - href) + 1 : strlen(href);
    struct hscan__bodyx *x = &f->ibx;
    struct hscan__bodyf bf;

    f->v.url = f->url = strndup(href, head);   /* NULL: null */
    memset(&bf, 0, sizeof(bf));
    bf.x = x;
    hscan__bodyf_start(&bf, &p->env->scratch->sha256, 0, HSCAN__MAX_BODY);
    if (comma && head >= 8 && strncasecmp(comma - 7, ";base64", 7) == 0) {
        const char *s;
        unsigned acc = 0, bits = 0;
        for (s = comma + 1; *s; s++) {
            int v = b64val((unsigned char)*s);
            if (v < 0)
                continue;
            acc = (acc << 6 | (unsigned)v) & 0xffffff;
            if ((bits += 6) >= 8) {
                char c = (char)(acc >> (bits - 8));
                bits -= 8;
                hscan__bodyf_feed(&bf, &c, 1);
            }
        }
    } else if (comma) {
        hscan__bodyf_feed(&bf, comma + 1, strlen(comma + 1));
    }
    hscan__bodyf_end(&bf);
    f->v.bytes = bf.len;
    if (hscan__bodyf_hex(&bf, f->sha256) == 0)
        f->v.sha256 = f->sha256;
    hscan__bodyf_free(&bf);
    f->v.has_mmh3 = x->has_mmh3;
    f->v.mmh3 = x->mmh3;
    if (x->has_md5) {
        memcpy(f->md5, x->md5hex, sizeof(f->md5));
        f->v.md5 = f->md5;
    }
}

/* The icon's URL into url[URL_MAX]: the link's when it is of this
 * origin, else /favicon.ico. */
static void icon_url(struct probe *p, struct hscan__fav *f, const char *cur,
                     char *url)
{
    const char *href = hscan__link_href(&f->link);
    struct hscan__target t;
    const char *why;

    if (href && hscan__url_resolve(cur, href, strlen(href), url,
                                   URL_MAX) == 0 &&
        hscan__target_parse(url, strlen(url), &t, &why) == 0 &&
        t.scheme == p->scheme && t.family == p->family &&
        (t.port ? t.port : t.scheme == HSCAN__HTTPS ? 443 : 80) == p->port &&
        t.host_len == p->host_len &&
        strncasecmp(t.host, p->host, t.host_len) == 0)
        return;
    if (hscan__url_resolve(cur, "/favicon.ico", 12, url, URL_MAX) != 0)
        url[0] = '\0';
}

/* Whether the final response leaves its connection open for another
 * request (RFC 9112 9.3): HTTP/1.1 over the probe's own HTTP/1.1 leg,
 * no "close" in Connection, and its body read to a delimited end. */
static int keep_alive(const struct probe *p)
{
    const struct hscan__resp *rs = &p->resp;
    unsigned i;

    if (p->h2 || p->http_leg.ops != &hscan__http1_leg || !p->tcp_live ||
        p->tcp_closing || rs->major != 1 || rs->minor < 1 || !rs->complete)
        return 0;
    if (!(rs->body_on && rs->body_done && !rs->body_truncated &&
          (rs->frame != HSCAN__F_CLOSE || rs->status == 204 ||
           rs->status == 304)))
        return 0;
    for (i = 0; i < rs->n_hdrs; i++) {
        const struct hscan__hdr *h = &rs->hdrs[i];
        const char *v = rs->buf + h->value_off;
        uint32_t k;
        if (h->name_len != 10 ||
            strncasecmp(rs->buf + h->name_off, "connection", 10) != 0)
            continue;
        for (k = 0; k + 5 <= h->value_len; k++)
            if (strncasecmp(v + k, "close", 5) == 0)
                return 0;
    }
    return 1;
}

/* The icon's hop starts on the connection the final response came on:
 * a fresh response, the request sent by the HTTP/1.1 leg. */
static void reuse(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;

    uv_timer_stop(&p->timer);
    hscan__resp_init(&p->resp, lim->max_header_bytes, lim->max_headers);
    p->resp.strict = lim->strict;
    hscan__p_fav_hang(p);
    p->t_sent = p->t_first = 0;
}

/* Put the final response aside and point the probe at the icon, on the
 * same connection when `same`. */
static int stash(struct probe *p, struct hscan__fav *f,
                 const struct hscan__target *t, int same)
{
    char *mem = malloc(t->host_len + t->path_len + 2);
    struct hscan__req *next;

    if (!mem)
        return -1;
    if (hscan__req_redirect(&next, p->req, 0, 303) != 0) {
        free(mem);
        return -1;
    }
    if (p->facts && p->tls)         /* a ticket after the handshake */
        hscan__hello_facts_late(p->facts, p->tls);
    f->resp = p->resp;
    memset(&p->resp, 0, sizeof(p->resp));
    f->facts = p->facts, p->facts = NULL;
    f->h2f = p->h2f, p->h2f = NULL;
    f->pxs = p->pxs, p->pxs = NULL;
    f->req = p->req, p->req = next;
    f->hop_mem = p->hop_mem, p->hop_mem = NULL;
    f->host = p->host, f->host_len = p->host_len;
    f->path = p->path, f->path_len = p->path_len;
    f->cur_addr = p->cur_addr;
    f->may_fall_back = p->may_fall_back, p->may_fall_back = 0;
    f->retried = p->retried;
    f->t_hop = p->t_hop, f->t_dns0 = p->t_dns0, f->t_dns = p->t_dns;
    f->t_conn0 = p->t_conn0, f->t_conn = p->t_conn;
    f->t_tls0 = p->t_tls0, f->t_tls = p->t_tls;
    f->t_sent = p->t_sent, f->t_first = p->t_first;
    f->phase = F_ICON;
    f->reused = same;
    if (same)
        reuse(p);
    else
        hscan__p_reset_exchange(p); /* hangs f->ibx on the new resp */
    memcpy(mem, t->host, t->host_len);
    mem[t->host_len] = '\0';
    memcpy(mem + t->host_len + 1, t->path, t->path_len);
    mem[t->host_len + 1 + t->path_len] = '\0';
    f->icon_mem = mem;
    p->host = mem;
    p->path = mem + t->host_len + 1;
    p->path_len = t->path_len;
    return 0;
}

/* The final response's facts back in the probe; the icon's go. */
static void unstash(struct probe *p, struct hscan__fav *f)
{
    free(p->facts);
    free(p->h2f);
    free(p->pxs);
    hscan__resp_free(&p->resp);
    p->resp = f->resp;
    memset(&f->resp, 0, sizeof(f->resp));
    p->facts = f->facts;
    p->h2f = f->h2f;
    p->pxs = f->pxs;
    hscan__req_unref(p->req);
    p->req = f->req;
    p->hop_mem = f->hop_mem;
    p->host = f->host, p->host_len = f->host_len;
    p->path = f->path, p->path_len = f->path_len;
    p->cur_addr = f->cur_addr;
    p->may_fall_back = f->may_fall_back;
    p->retried = (unsigned char)f->retried;
    p->t_hop = f->t_hop, p->t_dns0 = f->t_dns0, p->t_dns = f->t_dns;
    p->t_conn0 = f->t_conn0, p->t_conn = f->t_conn;
    p->t_tls0 = f->t_tls0, p->t_tls = f->t_tls;
    p->t_sent = f->t_sent, p->t_first = f->t_first;
    f->phase = F_DONE;
}

static void connect_again(struct probe *p)
{
    if (p->dns.n_addrs > 0)
        hscan__p_start_connect(p);  /* same name: same addresses */
    else
        hscan__p_start_resolve(p);
}

/* Start the icon's hop; 1 when it is under way. */
static int icon_start(struct probe *p, struct hscan__fav *f)
{
    char cur[URL_MAX], url[URL_MAX];
    const char *href = hscan__link_href(&f->link), *why;
    struct hscan__target t;
    int same = keep_alive(p);

    f->phase = F_DONE;
    hscan__p_url(p, cur, sizeof(cur));
    if (href && is_data(href)) {
        data_icon(p, f, href);
        return 0;
    }
    icon_url(p, f, cur, url);
    if (!(f->url = strdup(url))) {
        f->v.error = HSCAN_ERESOURCE_EXHAUSTED;
        f->v.error_detail = "out of memory";
        return 0;
    }
    f->v.url = f->url;
    if (uv_now(p->env->loop) >= p->deadline) {
        f->v.error = HSCAN_ETIMEOUT;
        f->v.error_detail = "no time left for the icon";
        return 0;
    }
    if (hscan__target_parse(f->url, strlen(f->url), &t, &why) != 0) {
        f->v.error = HSCAN_EINVALID_TARGET;     /* a URL too long */
        f->v.error_detail = "no icon URL can be made from the final URL";
        return 0;
    }
    if (stash(p, f, &t, same) != 0) {
        f->v.error = HSCAN_ERESOURCE_EXHAUSTED;
        f->v.error_detail = "out of memory";
        return 0;
    }
    f->t0 = uv_hrtime();
    if (same)
        p->http_leg.ops->start(&p->http_leg);   /* sends the request */
    else
        connect_again(p);
    return 1;
}

/* What the icon's hop gave. */
static void icon_facts(struct probe *p, struct hscan__fav *f, int err,
                       const char *detail)
{
    struct hscan__resp *rs = &p->resp;
    struct hscan__bodyx *x = &f->ibx;

    f->v.ms = (double)(uv_hrtime() - f->t0) / 1e6;
    if (err) {
        f->v.error = err;
        snprintf(f->detail, sizeof(f->detail), "%s", detail ? detail : "");
        f->v.error_detail = f->detail;
    }
    if (rs->status >= 200)
        f->v.status = rs->status;
    if (!rs->body_on)
        return;
    hscan__bodyf_end(&rs->bf);
    f->v.bytes = rs->body_len;
    f->v.truncated = rs->body_truncated;
    /* hashes of a whole icon only: of an error page or a cut file they
     * would name no icon anyone else sees */
    if (err || rs->body_truncated || rs->status < 200 || rs->status > 299)
        return;
    if (hscan__bodyf_hex(&rs->bf, f->sha256) == 0)
        f->v.sha256 = f->sha256;
    if (x->has_md5) {
        memcpy(f->md5, x->md5hex, sizeof(f->md5));
        f->v.md5 = f->md5;
    }
    f->v.has_mmh3 = x->has_mmh3;
    f->v.mmh3 = x->mmh3;
}

int hscan__p_fav_finish(struct probe *p, int *err, const char **detail)
{
    struct hscan__fav *f = p->fav;

    if (f->phase == F_ICON && f->reused && !p->resp.status &&
        (*err == HSCAN_EREAD_CLOSED || *err == HSCAN_EREAD_RESET ||
         *err == HSCAN_EWRITE_FAILED) && !p->cancel_detail) {
        /* the kept-alive connection was closed under the request:
         * the icon on a new one */
        f->reused = 0;
        hscan__p_reset_exchange(p);
        connect_again(p);
        return 1;
    }
    if (f->phase == F_ICON) {
        icon_facts(p, f, *err, *detail);
        unstash(p, f);
        /* the icon's, not the target's; but canceled is what
         * hscan_close() and hscan_cancel() promise for a target in
         * flight, and the icon was part of it */
        if (*err != HSCAN_ECANCELED) {
            *err = 0;
            *detail = NULL;
        }
        return 0;
    }
    if (f->phase != F_MAIN || !p->env->lim.favicon || *err ||
        p->cancel_detail || p->skip || p->resp.status < 200)
        return 0;
    return icon_start(p, f);
}

int hscan__p_fav_icon(const struct probe *p)
{
    return p->fav && p->fav->phase == F_ICON;
}

void hscan__p_fav_fill(struct probe *p, hscan_result_t *r)
{
    struct hscan__fav *f = p->fav;

    if (!f)
        return;
    if (r->status && p->resp.body_on) {
        if (f->bx.has_md5)
            r->body_md5 = f->bx.md5hex;
        r->has_body_mmh3 = f->bx.has_mmh3;
        r->body_mmh3 = f->bx.mmh3;
    }
    if (p->env->lim.favicon && f->v.url)
        r->favicon = &f->v;
}
