/* Request descriptions (request.h): the scanner's defaults, a target's
 * overrides merged in once at submit time, and the request bytes each
 * hop sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"
#include "util.h"

static int header_named(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static int user_overrides(const hscan_config_t *cfg, const char *name)
{
    size_t i;
    for (i = 0; i < cfg->n_headers; i++)
        if (header_named(cfg->headers[i], name))
            return 1;
    return 0;
}

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

char *hscan__request_tail(const hscan_config_t *cfg, const char *ua,
                          size_t *len_out)
{
    static const char *names[] = { "User-Agent", "Accept", "Connection" };
    const char *vals[3] = { ua, "*/*", "close" };
    char *buf = NULL, line[512];
    size_t len = 0, cap = 0, i;
    int bad = 0;

    for (i = 0; i < 3; i++) {
        if (user_overrides(cfg, names[i]))
            continue;
        snprintf(line, sizeof(line), "%s: %s\r\n", names[i], vals[i]);
        bad |= append(&buf, &len, &cap, line);
    }
    for (i = 0; i < cfg->n_headers; i++) {
        if (user_line_empty(cfg->headers[i]))
            continue;
        bad |= append(&buf, &len, &cap, cfg->headers[i]);
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

/* The tail and user_host of `r` for the header lines of `c`. */
static int set_tail(struct hscan__req *r, const hscan_config_t *c)
{
    r->user_host = user_overrides(c, "Host");
    r->tail = hscan__request_tail(c, r->ua, &r->tail_len);
    return r->tail ? 0 : HSCAN_ENOMEM;
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
    snprintf(ua, sizeof(ua), "hscan/%s", HSCAN_VERSION_STRING);
    r->method = strdup(cfg->method ? cfg->method : "GET");
    r->path = strdup(cfg->path ? cfg->path : "/");
    r->ua = strdup(cfg->user_agent ? cfg->user_agent : ua);
    rc = r->method && r->path && r->ua ? 0 : HSCAN_ENOMEM;
    if (rc == 0)
        rc = copy_lines(r, (const char *const *)cfg->headers,
                        cfg->n_headers);
    if (rc == 0)
        rc = set_tail(r, cfg);
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
    hscan_config_t tgt, merged;
    const char **lines;
    size_t i, n = 0;
    char name[256];
    int rc;

    lines = malloc((base->n_hdrs + o->n_headers + 1) * sizeof(*lines));
    if (!lines)
        return HSCAN_ENOMEM;
    memset(&tgt, 0, sizeof(tgt));
    tgt.headers = o->headers;
    tgt.n_headers = o->n_headers;
    for (i = 0; i < base->n_hdrs; i++) {
        header_name(base->hdrs[i], name, sizeof(name));
        if (!user_overrides(&tgt, name))
            lines[n++] = base->hdrs[i];
    }
    for (i = 0; i < o->n_headers; i++)
        lines[n++] = o->headers[i];
    memset(&merged, 0, sizeof(merged));
    merged.headers = lines;
    merged.n_headers = n;
    rc = set_tail(r, &merged);
    free(lines);
    return rc;
}

/* A copy of `base`'s strings with `o`'s method, path and timeout. */
static int merge_fields(struct hscan__req *r, const struct hscan__req *base,
                        const hscan_target_opts_t *o)
{
    r->timeout_ms = o->timeout_ms ? o->timeout_ms : base->timeout_ms;
    r->http_version = o->http_version ? o->http_version
                                      : base->http_version;
    r->method = strdup(o->method ? o->method : base->method);
    r->path = strdup(o->path ? o->path : base->path);
    r->ua = strdup(base->ua);
    return r->method && r->path && r->ua ? 0 : HSCAN_ENOMEM;
}

int hscan__req_merge(struct hscan__req **out, struct hscan__req *base,
                     const hscan_target_opts_t *o)
{
    struct hscan__req *r;
    int rc;

    if (!o || (!o->method && !o->path && !o->n_headers && !o->timeout_ms &&
               !o->http_version)) {
        *out = hscan__req_ref(base);
        return 0;
    }
    if (!(r = calloc(1, sizeof(*r))))
        return HSCAN_ENOMEM;
    r->refs = 1;
    rc = merge_fields(r, base, o);
    if (rc == 0 && o->n_headers) {
        rc = merge_tail(r, base, o);
    } else if (rc == 0) {
        r->user_host = base->user_host;
        r->tail_len = base->tail_len;
        if (!(r->tail = malloc(base->tail_len + 1)))
            rc = HSCAN_ENOMEM;
        else
            memcpy(r->tail, base->tail, base->tail_len + 1);
    }
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
    size_t n = strlen(r->method) + path_len + t->host_len + r->tail_len + 64;
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
    *out = b.buf;
    *len = b.len;
    return 0;
}
