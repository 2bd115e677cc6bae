/* Redirect hops and the https-first fallback: both move a live probe to
 * a new URL within the target's absolute deadline, keeping one record.
 *
 * A hop is followed only for 301, 302, 303, 307 and 308 with a Location
 * (RFC 9110 15.4), and only when the user asked (--follow N).  The
 * request method is kept (a scanner's GET or HEAD stays what it is).
 * A Location already visited in this chain is a loop: too_many_redirects
 * at once rather than after N more hops.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe.h"

#define URL_MAX (HSCAN__MAX_LINE + 512)

static int is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 ||
           status == 307 || status == 308;
}

static const struct hscan__hdr *find_location(const struct hscan__resp *r)
{
    unsigned i;

    for (i = 0; i < r->n_hdrs; i++)
        if (r->hdrs[i].name_len == 8 &&
            strncasecmp(r->buf + r->hdrs[i].name_off, "location", 8) == 0)
            return &r->hdrs[i];
    return NULL;
}

void hscan__p_free_hops(struct probe *p)
{
    unsigned i;

    for (i = 0; i < p->n_hops; i++) {
        free(p->hops[i].url);
        free(p->hops[i].location);
    }
    free(p->hops);
    p->hops = NULL;
    p->n_hops = 0;
}

static int visited(const struct probe *p, const char *url)
{
    unsigned i;

    for (i = 0; i < p->n_hops; i++)
        if (strcmp(p->hops[i].url, url) == 0)
            return 1;
    return 0;
}

static int add_hop(struct probe *p, const char *url,
                   const struct hscan__hdr *loc)
{
    struct hop *h, *v = realloc(p->hops, (p->n_hops + 1) * sizeof(*v));

    if (!v)
        return -1;
    p->hops = v;
    h = &v[p->n_hops];
    memset(h, 0, sizeof(*h));
    h->url = strdup(url);
    h->location = malloc(loc->value_len + 1);
    if (!h->url || !h->location) {
        free(h->url);
        free(h->location);
        return -1;
    }
    memcpy(h->location, p->resp.buf + loc->value_off, loc->value_len);
    h->location[loc->value_len] = '\0';
    h->location_len = loc->value_len;
    h->status = p->resp.status;
    if (p->cur_addr >= 0)
        hscan__p_addr_str(&p->dns.addrs[p->cur_addr], h->ip, sizeof(h->ip));
    h->ms = (double)(uv_hrtime() - p->t_hop) / 1e6;
    p->n_hops++;
    return 0;
}

/* Point the probe at `t` (its strings copied into hop_mem). */
static int retarget(struct probe *p, const struct hscan__target *t,
                    int scheme)
{
    char *mem = malloc(t->host_len + t->path_len + 2);

    if (!mem)
        return -1;
    memcpy(mem, t->host, t->host_len);
    mem[t->host_len] = '\0';
    memcpy(mem + t->host_len + 1, t->path, t->path_len);
    mem[t->host_len + 1 + t->path_len] = '\0';
    free(p->hop_mem);
    p->hop_mem = mem;
    p->host = mem;
    p->host_len = t->host_len;
    p->path = mem + t->host_len + 1;
    p->path_len = t->path_len;
    p->family = t->family;
    p->scheme = scheme;
    p->port = t->port ? t->port : scheme == HSCAN__HTTPS ? 443 : 80;
    p->port_given = t->port != 0;
    return 0;
}

static int follow(struct probe *p, const char *next_url)
{
    struct hscan__target t;
    const char *why;
    int same_host, scheme;
    size_t len = strlen(next_url);

    if (hscan__target_parse(next_url, len, &t, &why) != 0 || !t.scheme)
        return 0;                   /* not a URL we can follow: final */
    scheme = t.scheme;
    same_host = t.family == p->family && t.host_len == p->host_len &&
                strncasecmp(t.host, p->host, t.host_len) == 0;
    {
        /* credentials stay with their origin; 303 (and 301/302 after a
         * POST) turn the request into a GET without body, as curl */
        int port = t.port ? t.port : scheme == HSCAN__HTTPS ? 443 : 80;
        struct hscan__req *next;
        if (hscan__req_redirect(&next, p->req, !same_host || scheme !=
                                p->scheme || port != p->port,
                                p->resp.status) != 0) {
            hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
            return 1;
        }
        hscan__req_unref(p->req);
        p->req = next;
    }
    hscan__p_reset_exchange(p);
    if (retarget(p, &t, scheme) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return 1;
    }
    if (same_host && p->dns.n_addrs > 0) {
        hscan__p_start_connect(p);  /* same name: same addresses */
        return 1;
    }
    hscan__p_start_resolve(p);
    return 1;
}

int hscan__p_redirect(struct probe *p)
{
    const struct hscan__limits *lim = &p->env->lim;
    const struct hscan__hdr *loc;
    char cur[URL_MAX], next[URL_MAX], d[HSCAN__DETAIL_SIZE];

    /* an icon's redirect is not followed: its 3xx is the answer */
    if (lim->follow == 0 || !is_redirect(p->resp.status) ||
        hscan__p_fav_icon(p) ||
        !(loc = find_location(&p->resp)) || loc->value_len == 0)
        return 0;
    hscan__p_url(p, cur, sizeof(cur));
    if (hscan__url_resolve(cur, p->resp.buf + loc->value_off,
                           loc->value_len, next, sizeof(next)) != 0)
        return 0;
    if (add_hop(p, cur, loc) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return 1;
    }
    if (visited(p, next) || strcmp(next, cur) == 0) {
        snprintf(d, sizeof(d), "redirect loop back to %.120s", next);
        hscan__p_finish(p, HSCAN_ETOO_MANY_REDIRECTS, d);
        return 1;
    }
    if (p->n_hops > lim->follow) {
        snprintf(d, sizeof(d), "more than %u redirects", lim->follow);
        hscan__p_finish(p, HSCAN_ETOO_MANY_REDIRECTS, d);
        return 1;
    }
    if (!follow(p, next)) {
        p->n_hops--;                /* this response is the final one */
        free(p->hops[p->n_hops].url);
        free(p->hops[p->n_hops].location);
        return 0;
    }
    return 1;
}

/* https-first: HTTPS could not be reached or spoken (refused, timed out,
 * handshake failed, plain text on the TLS port).  A certificate that
 * does not verify, or a fatal alert (the server speaks TLS and said
 * no), is an answer, not a reason to fall back.  cfg.retries comes
 * first: HTTPS gets all its attempts before HTTP gets its own. */
int hscan__p_fall_back(struct probe *p, int err, const char *detail)
{
    struct hscan__target t;

    /* retries first, per scheme: HTTPS gets its attempts before HTTP */
    if (hscan__p_retry(p, err))
        return 1;
    if (!p->may_fall_back || p->scheme != HSCAN__HTTPS ||
        err == HSCAN_ERESOURCE_EXHAUSTED || err == HSCAN_ESOURCE_UNUSABLE ||
        err == HSCAN_ETLS_CERT_INVALID ||
        err == HSCAN_ETLS_ALERT || err == HSCAN_EH2_NOT_NEGOTIATED ||
        (err <= HSCAN_EPROXY_UNREACHABLE && err >= HSCAN_EPROXY_TIMEOUT &&
         err != HSCAN_EPROXY_TARGET_UNREACHABLE) ||
        uv_now(p->env->loop) >= p->deadline)
        return 0;
    p->may_fall_back = 0;
    p->fallback_err = err;
    free(p->fallback_detail);
    p->fallback_detail = strdup(detail ? detail : "");   /* NULL: none */
    memset(&t, 0, sizeof(t));
    t.host = p->host;
    t.host_len = p->host_len;
    t.path = p->path;
    t.path_len = p->path_len;
    t.family = p->family;
    t.port = p->port_given ? p->port : 0;
    hscan__p_reset_exchange(p);
    if (retarget(p, &t, HSCAN__HTTP) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return 1;
    }
    hscan__p_start_connect(p);      /* the addresses are already known */
    return 1;
}
