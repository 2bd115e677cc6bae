/* Request descriptions (request.h): the scanner's defaults, a target's
 * overrides merged in once at submit time, and the request bytes each
 * hop sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body-decode.h"
#include "request.h"
#include "tls.h"
#include "util.h"

static int header_named(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static int user_overrides(const char *const *lines, size_t n,
                          const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (header_named(lines[i], name))
            return 1;
    return 0;
}

/* The body's bytes, shared by a scanner's description and the merged
 * ones that keep it: a 16 MiB body is copied once per target that
 * brings its own, not once per override. */
struct hscan__req_body {
    unsigned refs;
    size_t len;
    char bytes[];
};

/* "Basic " and the base64 (RFC 4648 4, padded) of `userpass` (RFC 7617
 * 2), malloc'd; NULL when out of memory. */
static char *basic_value(const char *userpass)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *in = (const unsigned char *)userpass;
    size_t n = strlen(userpass), i, o = 6;
    char *v = malloc(6 + (n + 2) / 3 * 4 + 1);

    if (!v)
        return NULL;
    memcpy(v, "Basic ", 6);
    for (i = 0; i + 2 < n; i += 3) {
        unsigned long w = (unsigned long)in[i] << 16 | in[i + 1] << 8 |
                          in[i + 2];
        v[o++] = b64[w >> 18 & 63];
        v[o++] = b64[w >> 12 & 63];
        v[o++] = b64[w >> 6 & 63];
        v[o++] = b64[w & 63];
    }
    if (i < n) {
        unsigned long w = (unsigned long)in[i] << 16 |
                          (i + 1 < n ? in[i + 1] << 8 : 0);
        v[o++] = b64[w >> 18 & 63];
        v[o++] = b64[w >> 12 & 63];
        v[o++] = i + 1 < n ? b64[w >> 6 & 63] : '=';
        v[o++] = '=';
    }
    v[o] = '\0';
    return v;
}

/* The values of the default header lines; NULL: not sent. */
struct defaults {
    const char *auth;           /* "Basic ..." */
    const char *ua;
    const char *body;           /* only whether there is one */
    size_t body_len;
    int compressed;             /* Accept-Encoding (cfg.compressed) */
};

static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap : 256) * 2 + n;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return 0;
}

/* An "Name:" line with nothing after the colon removes that header, as in
 * curl -H; otherwise user lines replace defaults of the same name. */
static int user_line_empty(const char *line)
{
    const char *c = strchr(line, ':');
    if (!c)
        return 1;
    for (c++; *c == ' ' || *c == '\t'; c++)
        ;
    return *c == '\0';
}

/* The default lines a user line does not name, in curl's order
 * (Authorization, User-Agent, Accept, Accept-Encoding, then the
 * body's), then the user's lines and the blank line. */
static char *build_tail(const char *const *lines, size_t n,
                        const struct defaults *d, size_t *len_out)
{
    static const char *names[] = { "Authorization", "User-Agent", "Accept",
                                   "Accept-Encoding", "Connection",
                                   "Content-Length", "Content-Type" };
    const char *vals[7];
    char *buf = NULL, clen[24];
    size_t len = 0, cap = 0, i;
    int bad = 0;

    snprintf(clen, sizeof(clen), "%zu", d->body_len);
    vals[0] = d->auth;
    vals[1] = d->ua;
    vals[2] = "*/*";
    vals[3] = d->compressed ? hscan__dec_offer() : NULL;
    vals[4] = "close";
    vals[5] = d->body ? clen : NULL;
    vals[6] = d->body ? "application/x-www-form-urlencoded" : NULL;
    for (i = 0; i < 7; i++) {
        if (!vals[i] || user_overrides(lines, n, names[i]))
            continue;
        bad |= append(&buf, &len, &cap, names[i]);
        bad |= append(&buf, &len, &cap, ": ");
        bad |= append(&buf, &len, &cap, vals[i]);
        bad |= append(&buf, &len, &cap, "\r\n");
    }
    for (i = 0; i < n; i++) {
        if (user_line_empty(lines[i]))
            continue;
        bad |= append(&buf, &len, &cap, lines[i]);
        bad |= append(&buf, &len, &cap, "\r\n");
    }
    bad |= append(&buf, &len, &cap, "\r\n");
    if (bad) {
        free(buf);
        return NULL;
    }
    *len_out = len;
    return buf;
}

char *hscan__request_tail(const hscan_config_t *cfg, const char *ua,
                          size_t *len_out)
{
    struct defaults d;
    char *auth = NULL, *t;

    if (cfg->basic_auth && !(auth = basic_value(cfg->basic_auth)))
        return NULL;
    d.auth = auth;
    d.ua = ua;
    d.body = cfg->body;
    d.body_len = cfg->body_len;
    d.compressed = cfg->compressed;
    t = build_tail(cfg->headers, cfg->n_headers, &d, len_out);
    free(auth);
    return t;
}

static int copy_lines(struct hscan__req *r, const char *const *lines,
                      size_t n)
{
    if (n == 0)
        return 0;
    if (!(r->hdrs = calloc(n, sizeof(*r->hdrs))))
        return HSCAN_ENOMEM;
    for (r->n_hdrs = 0; r->n_hdrs < n; r->n_hdrs++)
        if (!(r->hdrs[r->n_hdrs] = strdup(lines[r->n_hdrs])))
            return HSCAN_ENOMEM;
    return 0;
}

/* The tail and user_host of `r` for the header lines `lines`, with
 * r's defaults. */
static int set_tail(struct hscan__req *r, const char *const *lines,
                    size_t n)
{
    struct defaults d;

    d.auth = r->auth;
    d.ua = r->ua;
    d.body = r->body;
    d.body_len = r->body_len;
    d.compressed = r->compressed;
    r->user_host = user_overrides(lines, n, "Host");
    r->tail = build_tail(lines, n, &d, &r->tail_len);
    return r->tail ? 0 : HSCAN_ENOMEM;
}

/* A copy of `body` (`len` bytes) as r's body. */
static int set_body(struct hscan__req *r, const void *body, size_t len)
{
    struct hscan__req_body *b = malloc(sizeof(*b) + len);

    if (!b)
        return HSCAN_ENOMEM;
    b->refs = 1;
    b->len = len;
    if (len)
        memcpy(b->bytes, body, len);
    r->body_mem = b;
    r->body = b->bytes;
    r->body_len = len;
    return 0;
}

/* r's credentials and body. */
static int set_extras(struct hscan__req *r, const char *auth,
                      const void *body, size_t body_len)
{
    if (auth && !(r->auth = basic_value(auth)))
        return HSCAN_ENOMEM;
    if (body && set_body(r, body, body_len) != 0)
        return HSCAN_ENOMEM;
    return 0;
}

int hscan__req_new(struct hscan__req **out, const hscan_config_t *cfg)
{
    struct hscan__req *r = calloc(1, sizeof(*r));
    char ua[64];
    int rc;

    if (!r)
        return HSCAN_ENOMEM;
    r->refs = 1;
    r->timeout_ms = cfg->timeout_ms;
    r->http_version = cfg->http_version;
    r->no_sni = cfg->no_sni;
    r->compressed = cfg->compressed;
    if (cfg->sni && !(r->sni = strdup(cfg->sni))) {
        free(r);
        return HSCAN_ENOMEM;
    }
    snprintf(ua, sizeof(ua), "hscan/%s", HSCAN_VERSION_STRING);
    r->method = strdup(cfg->method ? cfg->method : "GET");
    r->path = strdup(cfg->path ? cfg->path : "/");
    r->ua = strdup(cfg->user_agent ? cfg->user_agent : ua);
    rc = r->method && r->path && r->ua ? 0 : HSCAN_ENOMEM;
    if (rc == 0)
        rc = copy_lines(r, (const char *const *)cfg->headers,
                        cfg->n_headers);
    if (rc == 0)
        rc = set_extras(r, cfg->basic_auth, cfg->body, cfg->body_len);
    if (rc == 0)
        rc = set_tail(r, cfg->headers, cfg->n_headers);
    if (rc != 0) {
        hscan__req_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

struct hscan__req *hscan__req_ref(struct hscan__req *r)
{
    r->refs++;
    return r;
}

void hscan__req_unref(struct hscan__req *r)
{
    size_t i;

    if (!r || --r->refs > 0)
        return;
    for (i = 0; i < r->n_hdrs; i++)
        free(r->hdrs[i]);
    free(r->hdrs);
    free(r->method);
    free(r->path);
    free(r->ua);
    free(r->tail);
    free(r->auth);
    free(r->sni);
    if (r->body_mem && --r->body_mem->refs == 0)
        free(r->body_mem);
    free(r);
}

/* The name of header line `line` ("Name: value") into `out`. */
static void header_name(const char *line, char *out, size_t size)
{
    size_t n = strcspn(line, ":");

    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, line, n);
    out[n] = '\0';
}

/* The base's header lines the target does not name, then the
 * target's, into r->tail. */
static int merge_tail(struct hscan__req *r, const struct hscan__req *base,
                      const hscan_target_opts_t *o)
{
    const char **lines;
    size_t i, n = 0;
    char name[256];
    int rc;

    lines = malloc((base->n_hdrs + o->n_headers + 1) * sizeof(*lines));
    if (!lines)
        return HSCAN_ENOMEM;
    for (i = 0; i < base->n_hdrs; i++) {
        header_name(base->hdrs[i], name, sizeof(name));
        if (!user_overrides(o->headers, o->n_headers, name))
            lines[n++] = base->hdrs[i];
    }
    for (i = 0; i < o->n_headers; i++)
        lines[n++] = o->headers[i];
    rc = set_tail(r, lines, n);
    free(lines);
    return rc;
}

/* A copy of `base`'s strings with `o`'s method, path and timeout. */
static int merge_fields(struct hscan__req *r, const struct hscan__req *base,
                        const hscan_target_opts_t *o)
{
    const char *sni = o->sni ? o->sni : o->no_sni ? NULL : base->sni;

    r->timeout_ms = o->timeout_ms ? o->timeout_ms : base->timeout_ms;
    r->http_version = o->http_version ? o->http_version
                                      : base->http_version;
    r->no_sni = o->sni ? 0 : o->no_sni ? 1 : base->no_sni;
    r->compressed = o->compressed ? o->compressed > 0 : base->compressed;
    r->insecure = o->insecure ? 1 : base->insecure;
    r->ssl_ctx = base->ssl_ctx;     /* hscan_submit_ex() sets the target's */
    r->method = strdup(o->method ? o->method : base->method);
    r->path = strdup(o->path ? o->path : base->path);
    r->ua = strdup(base->ua);
    r->sni = sni ? strdup(sni) : NULL;
    return r->method && r->path && r->ua && (!sni || r->sni)
               ? 0 : HSCAN_ENOMEM;
}

/* `base`'s body (if any) as r's too: shared, not copied. */
static void share_body(struct hscan__req *r, const struct hscan__req *base)
{
    if (!base->body_mem)
        return;
    r->body_mem = base->body_mem;
    r->body_mem->refs++;
    r->body = base->body;
    r->body_len = base->body_len;
}

/* `o`'s credentials and body, else the base's (shared, not copied). */
static int merge_extras(struct hscan__req *r, const struct hscan__req *base,
                        const hscan_target_opts_t *o)
{
    if (!o->basic_auth && base->auth && !(r->auth = strdup(base->auth)))
        return HSCAN_ENOMEM;
    if (!o->body)
        share_body(r, base);
    if (set_extras(r, o->basic_auth, o->body, o->body_len) != 0)
        return HSCAN_ENOMEM;
    return 0;
}

int hscan__req_merge(struct hscan__req **out, struct hscan__req *base,
                     const hscan_target_opts_t *o)
{
    struct hscan__req *r;
    int rc;

    if (!o || (!o->method && !o->path && !o->n_headers && !o->timeout_ms &&
               !o->http_version && !o->basic_auth && !o->body &&
               !o->sni && !o->no_sni && !o->insecure &&
               !o->compressed && !hscan__tls_target_set(o))) {
        *out = hscan__req_ref(base);
        return 0;
    }
    if (!(r = calloc(1, sizeof(*r))))
        return HSCAN_ENOMEM;
    r->refs = 1;
    rc = merge_fields(r, base, o);
    if (rc == 0)
        rc = merge_extras(r, base, o);
    if (rc == 0)
        rc = merge_tail(r, base, o);
    if (rc != 0) {
        hscan__req_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

int hscan__req_redirect(struct hscan__req **out, struct hscan__req *base,
                        int other_origin, int status)
{
    int to_get = (status == 303 && strcmp(base->method, "HEAD") != 0) ||
                 ((status == 301 || status == 302) &&
                  strcmp(base->method, "POST") == 0);
    int drop = 0;
    const char **lines;
    struct hscan__req *r;
    size_t i, n = 0;
    int rc;

    for (i = 0; other_origin && i < base->n_hdrs; i++)
        drop |= header_named(base->hdrs[i], "Authorization") ||
                header_named(base->hdrs[i], "Cookie");
    if (!to_get && !(other_origin && (base->auth || drop || base->sni))) {
        *out = hscan__req_ref(base);
        return 0;
    }
    if (!(r = calloc(1, sizeof(*r))))
        return HSCAN_ENOMEM;
    r->refs = 1;
    r->timeout_ms = base->timeout_ms;
    r->http_version = base->http_version;
    r->compressed = base->compressed;
    r->method = strdup(to_get ? "GET" : base->method);
    r->path = strdup(base->path);
    r->ua = strdup(base->ua);
    rc = r->method && r->path && r->ua ? 0 : HSCAN_ENOMEM;
    if (rc == 0 && !other_origin && base->auth &&
        !(r->auth = strdup(base->auth)))
        rc = HSCAN_ENOMEM;
    r->no_sni = base->no_sni;
    r->ssl_ctx = base->ssl_ctx;
    r->insecure = base->insecure;
    if (rc == 0 && !other_origin && base->sni &&
        !(r->sni = strdup(base->sni)))
        rc = HSCAN_ENOMEM;
    if (rc == 0 && !to_get)
        share_body(r, base);
    lines = malloc((base->n_hdrs + 1) * sizeof(*lines));
    if (rc == 0 && !lines)
        rc = HSCAN_ENOMEM;
    for (i = 0; rc == 0 && i < base->n_hdrs; i++) {
        const char *l = base->hdrs[i];
        if ((other_origin && (header_named(l, "Authorization") ||
                              header_named(l, "Cookie"))) ||
            (to_get && (header_named(l, "Content-Type") ||
                        header_named(l, "Content-Length"))))
            continue;
        lines[n++] = l;
    }
    if (rc == 0)
        rc = copy_lines(r, lines, n);
    if (rc == 0)
        rc = set_tail(r, lines, n);
    free(lines);
    if (rc != 0) {
        hscan__req_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

static void put_authority(struct hscan__sb *b, const struct hscan__target *t)
{
    int dflt = t->scheme == HSCAN__HTTPS ? 443 : 80;

    if (t->family == 6)
        hscan__sb_put(b, "[", 1);
    hscan__sb_put(b, t->host, t->host_len);
    if (t->family == 6)
        hscan__sb_put(b, "]", 1);
    if (t->port != dflt) {
        hscan__sb_put(b, ":", 1);
        hscan__sb_uint(b, (unsigned)t->port);
    }
}

int hscan__req_build(const struct hscan__req *r, const struct hscan__target *t,
                     char **out, size_t *len)
{
    const char *path = t->path_len ? t->path : r->path;
    size_t path_len = t->path_len ? t->path_len : strlen(r->path);
    size_t n = strlen(r->method) + path_len + t->host_len + r->tail_len +
               r->body_len + 64;
    struct hscan__sb b;

    if (!(b.buf = malloc(n)))
        return HSCAN_ENOMEM;
    b.size = n;
    b.len = 0;
    hscan__sb_str(&b, r->method);
    hscan__sb_put(&b, " ", 1);
    if (path[0] != '/')
        hscan__sb_put(&b, "/", 1);
    hscan__sb_put(&b, path, path_len);
    hscan__sb_put(&b, " HTTP/1.1\r\n", 11);
    /* Host carries the port only when it is not the scheme's default
     * (RFC 9110 7.2); an IPv6 literal keeps its brackets. */
    if (!r->user_host) {
        hscan__sb_put(&b, "Host: ", 6);
        put_authority(&b, t);
        hscan__sb_put(&b, "\r\n", 2);
    }
    hscan__sb_put(&b, r->tail, r->tail_len);
    if (r->body_len)
        hscan__sb_put(&b, r->body, r->body_len);
    *out = b.buf;
    *len = b.len;
    return 0;
}
