/* Checking settings: hscan_config_check() for a scanner's, which
 * hscan_new() runs, and hscan_target_opts_check() for one target's,
 * which hscan_submit_ex() runs.  One set of rules, so what a caller is
 * told before hscan_new() is what hscan_new() then enforces, and a
 * front end (hscan-cli) need not repeat them to name the culprit.
 *
 * The report is the member's name as spelled in the public struct and
 * a detail that starts with the value as the library saw it (strings
 * quoted, unprintable bytes escaped, cut at QUOTE_MAX bytes: a bad
 * value may hold CR, LF or be 8 KiB long) and ends with the rule.
 * Members are checked in declaration order and the first at fault is
 * reported, so the answer is the same on every call.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe-api.h"
#include "proxy.h"
#include "hscan.h"
#include "body.h"
#include "body-decode.h"
#include "match.h"
#include "netset.h"
#include "tls.h"

#define QUOTE_MAX 64            /* bytes of a refused string shown */
#define QUOTE_SIZE (QUOTE_MAX * 4 + 8)
#define MAX_CONCURRENCY 1000000
#define MAX_FOLLOW 100
#define MIN_HEADER_BYTES 64

/* Where the verdict goes: the caller's out-params, each may be NULL. */
struct report {
    const char **field;
    char *detail;
    size_t size;
};

static int refuse(const struct report *r, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(const struct report *r, const char *field,
                  const char *fmt, ...)
{
    va_list ap;

    if (r->field)
        *r->field = field;
    if (r->detail && r->size > 0) {
        va_start(ap, fmt);
        vsnprintf(r->detail, r->size, fmt, ap);
        va_end(ap);
    }
    return HSCAN_EINVAL;
}

/* `s` between single quotes for a detail: CR, LF and tab as \r \n \t,
 * other bytes outside printable ASCII (and the backslash) as \xHH, at
 * most QUOTE_MAX bytes of it then "...".  `out` has QUOTE_SIZE bytes. */
static const char *quote(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, n = 0;

    out[n++] = '\'';
    for (i = 0; s[i] && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '\r' ? "\\r" : c == '\n' ? "\\n"
                        : c == '\t' ? "\\t" : NULL;
        if (esc) {
            memcpy(out + n, esc, 2);
            n += 2;
        } else if (c < 0x20 || c >= 0x7f || c == '\\') {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '\'';
    if (s[i]) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* An HTTP token (RFC 9110 5.6.2): one or more tchars. */
static int is_token(const char *m)
{
    if (!*m)
        return 0;
    for (; *m; m++)
        if (*m <= 0x20 || *m >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *m))
            return 0;
    return 1;
}

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* method, path and headers: the same rules for a scanner and for one
 * target's overrides.  NULL method or path: the default. */
static int check_request(const struct report *r, const char *method,
                         const char *path, const char *const *headers,
                         size_t n_headers)
{
    char q[QUOTE_SIZE];
    size_t i;

    if (method && !is_token(method))
        return refuse(r, "method", "%s: not an HTTP token (letters, "
                      "digits and !#$%%&'*+-.^_`|~)", quote(q, method));
    if (path && (path[0] != '/' || strpbrk(path, " \t\r\n")))
        return refuse(r, "path", "%s: must start with '/' and hold no "
                      "white space", quote(q, path));
    if (n_headers && !headers)
        return refuse(r, "headers", "NULL: n_headers is %zu", n_headers);
    for (i = 0; i < n_headers; i++) {
        const char *h = headers[i];
        if (!h)
            return refuse(r, "headers", "NULL: line %zu of %zu", i,
                          n_headers);
        if (has_crlf(h))
            return refuse(r, "headers", "%s: holds CR or LF",
                          quote(q, h));
        if (!strchr(h, ':') || h[0] == ':')
            return refuse(r, "headers", "%s: not 'Name: value'",
                          quote(q, h));
    }
    return 0;
}

static int check_timeouts(const struct report *r, const hscan_config_t *c)
{
    static const char why[] = "0: must be above 0 (milliseconds)";

    if (!c->timeout_ms)
        return refuse(r, "timeout_ms", "%s", why);
    if (!c->dns_timeout_ms)
        return refuse(r, "dns_timeout_ms", "%s", why);
    if (!c->connect_timeout_ms)
        return refuse(r, "connect_timeout_ms", "%s", why);
    if (!c->read_timeout_ms)
        return refuse(r, "read_timeout_ms", "%s", why);
    return 0;
}

/* The members after `headers`, in their order. */
static int check_limits(const struct report *r, const hscan_config_t *c)
{
    if (c->family != 0 && c->family != 4 && c->family != 6)
        return refuse(r, "family", "%d: must be 0 (both), 4 or 6",
                      c->family);
    if (c->max_header_bytes < MIN_HEADER_BYTES)
        return refuse(r, "max_header_bytes", "%zu: must be at least %d",
                      c->max_header_bytes, MIN_HEADER_BYTES);
    if (c->max_headers == 0)
        return refuse(r, "max_headers", "0: must be at least 1");
    if (c->scheme < HSCAN_SCHEME_HTTPS_FIRST ||
        c->scheme > HSCAN_SCHEME_BOTH)
        return refuse(r, "scheme", "%d: not an enum hscan_scheme value "
                      "(%d to %d)", c->scheme, HSCAN_SCHEME_HTTPS_FIRST,
                      HSCAN_SCHEME_BOTH);
    if (c->follow > MAX_FOLLOW)
        return refuse(r, "follow", "%u: must be at most %d", c->follow,
                      MAX_FOLLOW);
    if (!c->tls_timeout_ms)
        return refuse(r, "tls_timeout_ms",
                      "0: must be above 0 (milliseconds)");
    if (c->body_bytes > HSCAN__MAX_BODY)
        return refuse(r, "body_bytes", "%zu: must be at most %u (16 MiB)",
                      c->body_bytes, HSCAN__MAX_BODY);
    if (c->body_keep != 0 && c->body_keep != 1)
        return refuse(r, "body_keep", "%d: must be 0 or 1", c->body_keep);
    if (c->shard_count > 1 && c->shard_index >= c->shard_count)
        return refuse(r, "shard_index", "%u: must be below shard_count "
                      "(%u)", c->shard_index, c->shard_count);
    return 0;
}

static int check_http_version(const struct report *r, int v)
{
    if (v < HSCAN_HTTP_DEFAULT || v > HSCAN_HTTP_2)
        return refuse(r, "http_version", "%d: not an enum "
                      "hscan_http_version value (%d to %d)", v,
                      HSCAN_HTTP_DEFAULT, HSCAN_HTTP_2);
#ifndef HSCAN_HAVE_NGHTTP2
    if (v == HSCAN_HTTP_2)
        return refuse(r, "http_version", "%d: HTTP/2 is not built in "
                      "(nghttp2)", v);
#endif
    return 0;
}

/* ---- credentials and request body ---- */

/* basic_auth, body and body_len, for a scanner or one target: the
 * credentials are never quoted (a detail may reach a log). */
static int check_auth_body(const struct report *r, const char *auth,
                           const void *body, size_t body_len)
{
    if (auth && !strchr(auth, ':'))
        return refuse(r, "basic_auth", "(not shown): must be 'user:pass' "
                      "(no ':' found)");
    if (!body && body_len)
        return refuse(r, "body", "NULL: body_len is %zu", body_len);
    if (body && body_len > HSCAN_REQUEST_BODY_MAX)
        return refuse(r, "body", "%zu bytes: must be at most %u (16 MiB)",
                      body_len, HSCAN_REQUEST_BODY_MAX);
    return 0;
}

/* ---- content decoding ---- */

/* cfg.compressed (0 or 1), or a target's (-1 too: "not for this
 * one"); offering needs a coding built in. */
static int check_compressed(const struct report *r, int v, int target)
{
    if (v != 0 && v != 1 && !(target && v == -1))
        return refuse(r, "compressed", "%d: must be %s", v,
                      target ? "-1, 0 or 1" : "0 or 1");
    if (v == 1 && !hscan__dec_offer())
        return refuse(r, "compressed", "1: no content coding is built "
                      "in (zlib, brotli)");
    return 0;
}

/* ---- exclusions ---- */

/* Every entry, so a blocklist file's bad line is named, not the first
 * connect it would have let through. */
static int check_exclude(const struct report *r, const char *const *v,
                         size_t n)
{
    char q[QUOTE_SIZE], why[160];
    size_t i;

    if (n && !v)
        return refuse(r, "exclude", "NULL: n_exclude is %zu", n);
    for (i = 0; i < n; i++) {
        if (!v[i])
            return refuse(r, "exclude", "NULL: entry %zu of %zu", i, n);
        if (hscan__netset_check(v[i], why, sizeof(why)) != 0)
            return refuse(r, "exclude", "%s: %s", quote(q, v[i]), why);
    }
    return 0;
}

/* cfg.source_ips: address literals, IPv4 or IPv6, as many as allowed. */
static int check_sources(const struct report *r, const char *const *ips,
                         size_t n)
{
    struct sockaddr_storage ss;
    char q[QUOTE_SIZE];
    size_t i;

    if (n > HSCAN_SOURCE_IPS_MAX)
        return refuse(r, "source_ips", "%zu addresses: at most %d", n,
                      HSCAN_SOURCE_IPS_MAX);
    if (n && !ips)
        return refuse(r, "source_ips", "NULL: n_source_ips is %zu", n);
    for (i = 0; i < n; i++)
        if (!ips[i] || hscan__src_parse(ips[i], &ss) != 0)
            return refuse(r, "source_ips", "%s: not an IPv4 or IPv6 "
                          "address", ips[i] ? quote(q, ips[i]) : "NULL");
    return 0;
}

/* ---- many paths and every address ---- */

static int check_expand(const struct report *r, const hscan_config_t *cfg)
{
    size_t i;
    int rc;

    if (cfg->n_paths && !cfg->paths)
        return refuse(r, "paths", "NULL: n_paths is %zu", cfg->n_paths);
    if (cfg->n_paths > HSCAN_PATHS_MAX)
        return refuse(r, "n_paths", "%zu: must be at most %d",
                      cfg->n_paths, HSCAN_PATHS_MAX);
    for (i = 0; i < cfg->n_paths; i++) {
        if (!cfg->paths[i])
            return refuse(r, "paths", "NULL: path %zu of %zu", i,
                          cfg->n_paths);
        if ((rc = check_request(r, NULL, cfg->paths[i], NULL, 0)) != 0) {
            if (r->field)
                *r->field = "paths";
            return rc;
        }
    }
    if (cfg->all_ips != 0 && cfg->all_ips != 1)
        return refuse(r, "all_ips", "%d: must be 0 or 1", cfg->all_ips);
    /* behind a proxy that resolves there is no address to enumerate */
    if (cfg->all_ips && cfg->proxy &&
        strncasecmp(cfg->proxy, "socks5://", 9) != 0)
        return refuse(r, "all_ips", "1: the proxy resolves the names "
                      "(only a socks5:// proxy leaves them to us)");
    return 0;
}

/* ---- address family preference ---- */

/* prefer_family and attempt_delay_ms.  A preference for the family
 * that `family` excludes asks for the impossible and is refused; the
 * same family is allowed (nothing to fall back to). */
static int check_prefer(const struct report *r, const hscan_config_t *c)
{
    if (c->prefer_family != 0 && c->prefer_family != 4 &&
        c->prefer_family != 6)
        return refuse(r, "prefer_family", "%d: must be 0 (none), 4 or 6",
                      c->prefer_family);
    if (c->prefer_family && c->family && c->prefer_family != c->family)
        return refuse(r, "prefer_family", "%d: family %d excludes "
                      "IPv%d", c->prefer_family, c->family,
                      c->prefer_family);
    if (c->attempt_delay_ms < 10 || c->attempt_delay_ms > 2000)
        return refuse(r, "attempt_delay_ms", "%llu: must be from 10 to "
                      "2000 (milliseconds, RFC 8305 5)",
                      (unsigned long long)c->attempt_delay_ms);
    return 0;
}

/* ---- client TLS options ---- */

/* cfg.sni / opts.sni: a DNS name (RFC 6066 3: "HostName" is a DNS name,
 * never an address literal; IDNs in their A-label form), not with
 * no_sni. */
static int check_sni(const struct report *r, const char *sni, int no_sni)
{
    char q[QUOTE_SIZE];
    unsigned char a[16];
    size_t i, n;

    if (no_sni != 0 && no_sni != 1)
        return refuse(r, "no_sni", "%d: must be 0 or 1", no_sni);
    if (!sni)
        return 0;
    n = strlen(sni);
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)sni[i]) && !strchr("-._", sni[i]))
            break;
    if (n == 0 || n > 253 || i < n)
        return refuse(r, "sni", "%s: must be a DNS name of 1 to 253 "
                      "letters, digits, '-', '_' and '.'", quote(q, sni));
    if (inet_pton(AF_INET, sni, a) == 1)
        return refuse(r, "sni", "%s: an address is not a server name "
                      "(RFC 6066 3)", quote(q, sni));
    if (no_sni)
        return refuse(r, "no_sni", "1: not with sni (%s)", quote(q, sni));
    return 0;
}

/* The string member `f` names, for quoting it in a detail. */
static const char *tls_value(const struct hscan__tls_opts *o, const char *f)
{
    return strcmp(f, "ciphers") == 0        ? o->ciphers
           : strcmp(f, "ciphersuites") == 0 ? o->ciphersuites
           : strcmp(f, "curves") == 0       ? o->curves
           : strcmp(f, "cert_file") == 0    ? o->cert_file
                                            : o->key_file;
}

/* Versions by the rules here; the lists and the files by OpenSSL, on a
 * scratch context (so only when one is set: the default costs
 * nothing).  The config's and a target's options alike. */
static int check_tls_opts(const struct report *r,
                          const struct hscan__tls_opts *o, int deep)
{
    static const char *const vname[] = { "tls_min", "tls_max" };
    const int v[2] = { o->tls_min, o->tls_max };
    const char *f = NULL;
    char why[160], q[QUOTE_SIZE];
    SSL_CTX *ctx;
    int i, rc;

    for (i = 0; i < 2; i++)
        if (v[i] != HSCAN_TLS_ANY && (v[i] < HSCAN_TLS_1_0 ||
                                      v[i] > HSCAN_TLS_1_3))
            return refuse(r, vname[i], "%d: not an enum hscan_tls_version "
                          "value (0, or %d to %d)", v[i], HSCAN_TLS_1_0,
                          HSCAN_TLS_1_3);
    if (v[0] && v[1] && v[0] > v[1])
        return refuse(r, "tls_max", "%d (TLS 1.%d): below tls_min, %d "
                      "(TLS 1.%d)", v[1], v[1] - HSCAN_TLS_1_0, v[0],
                      v[0] - HSCAN_TLS_1_0);
    if (o->key_file && !o->cert_file)
        return refuse(r, "key_file", "%s: without cert_file",
                      quote(q, o->key_file));
    if (!deep || (!o->ciphers && !o->ciphersuites && !o->curves &&
                  !o->cert_file))
        return 0;
    if (!(ctx = SSL_CTX_new(TLS_client_method())))
        return refuse(r, NULL, "SSL_CTX_new failed (out of memory?)");
    rc = hscan__tls_ctx_opts(ctx, o, &f, why, sizeof(why));
    SSL_CTX_free(ctx);
    if (rc == HSCAN_EINVAL)
        return refuse(r, f, "%s: %s", quote(q, tls_value(o, f)), why);
    return rc ? refuse(r, NULL, "%s", why) : 0;
}

static int check_tls(const struct report *r, const hscan_config_t *c)
{
    struct hscan__tls_opts o;
    int rc;

    if ((rc = check_sni(r, c->sni, c->no_sni)) != 0)
        return rc;
    hscan__tls_opts_of(&o, c);
    return check_tls_opts(r, &o, 1);
}

/* A target's TLS options alone (hscan_submit_ex() checks the merged
 * set when it makes the context); with `deep` its lists and files by
 * OpenSSL, the ca_file loaded as the scanner's would be. */
static int check_target_tls(const struct report *r,
                            const hscan_target_opts_t *t, int deep)
{
    struct hscan__tls_opts o = { 0 };
    X509_STORE *store;
    char why[HSCAN__DETAIL_SIZE], q[QUOTE_SIZE];
    int rc;

    if ((rc = check_sni(r, t->sni, t->no_sni)) != 0)
        return rc;
    if (t->key_file && !t->cert_file)   /* never the scanner's cert */
        return refuse(r, "key_file", "%s: without cert_file",
                      quote(q, t->key_file));
    hscan__tls_merge(&o, &o, t);
    if ((rc = check_tls_opts(r, &o, deep)) != 0)
        return rc;
    if (deep && t->ca_file) {
        rc = hscan__trust_store(&store, t->ca_file, why, sizeof(why));
        if (rc == HSCAN_EINVAL)
            return refuse(r, "ca_file", "%s: %s", quote(q, t->ca_file),
                          why);
        if (rc != 0)
            return refuse(r, NULL, "%s", why);
        X509_STORE_free(store);
    }
    if (t->insecure != 0 && t->insecure != 1)
        return refuse(r, "insecure", "%d: must be 0 or 1", t->insecure);
    return 0;
}

/* Body hashes and favicon (cfg.hash, cfg.favicon, cfg.favicon_bytes). */
static int check_favicon(const struct report *r, const hscan_config_t *c)
{
    if (c->hash & ~(HSCAN_HASH_SHA256 | HSCAN_HASH_MD5 | HSCAN_HASH_MMH3))
        return refuse(r, "hash", "%#x: only HSCAN_HASH_SHA256, _MD5 and "
                      "_MMH3", c->hash);
    if (c->favicon != 0 && c->favicon != 1)
        return refuse(r, "favicon", "%d: must be 0 or 1", c->favicon);
    if (c->favicon_bytes > HSCAN__MAX_BODY)
        return refuse(r, "favicon_bytes", "%zu: must be at most %u "
                      "(16 MiB)", c->favicon_bytes, HSCAN__MAX_BODY);
    return 0;
}

/* ---- matchers, filters, extractors (match.c) ---- */
static int check_match(const struct report *r, const hscan_config_t *c)
{
    int rc = hscan__match_check(c, r->field, r->detail, r->size);

    if (rc == 0 && !c->body_bytes && hscan__match_reads_body(c))
        return refuse(r, c->n_extract ? "extract" : "matchers", "a body "
                      "pattern, word or line count with body_bytes 0: no "
                      "body is read");
    return rc;
}

int hscan_config_check(const hscan_config_t *cfg, const char **field,
                       char *detail, size_t size)
{
    const struct report r = { field, detail, size };
    char q[QUOTE_SIZE];
    int rc;

    if (!cfg)
        return refuse(&r, NULL, "no configuration (cfg is NULL)");
    if (cfg->concurrency == 0 || cfg->concurrency > MAX_CONCURRENCY)
        return refuse(&r, "concurrency", "%u: must be from 1 to %d",
                      cfg->concurrency, MAX_CONCURRENCY);
    if ((rc = check_timeouts(&r, cfg)) != 0)
        return rc;
    if ((rc = check_request(&r, cfg->method, cfg->path, NULL, 0)) != 0)
        return rc;
    if (cfg->user_agent && has_crlf(cfg->user_agent))
        return refuse(&r, "user_agent", "%s: holds CR or LF",
                      quote(q, cfg->user_agent));
    if ((rc = check_request(&r, NULL, NULL, cfg->headers,
                            cfg->n_headers)) != 0 ||
        (rc = check_limits(&r, cfg)) != 0)
        return rc;
    if (!cfg->on_result)
        return refuse(&r, "on_result", "NULL: the result callback is "
                      "required");
    if ((rc = check_http_version(&r, cfg->http_version)) != 0)
        return rc;
    if (cfg->h2c != 0 && cfg->h2c != 1)
        return refuse(&r, "h2c", "%d: must be 0 or 1", cfg->h2c);
#ifndef HSCAN_HAVE_NGHTTP2
    if (cfg->h2c)
        return refuse(&r, "h2c", "1: HTTP/2 is not built in (nghttp2)");
#endif
    if (cfg->proxy) {
        char why[128];
        if (hscan__proxy_check(cfg->proxy, why, sizeof(why)) != 0)
            /* not quoted: it may hold credentials */
            return refuse(&r, "proxy", "(not shown): %s", why);
    }
    if (!cfg->proxy_timeout_ms)
        return refuse(&r, "proxy_timeout_ms",
                      "0: must be above 0 (milliseconds)");
    if ((rc = check_auth_body(&r, cfg->basic_auth, cfg->body,
                              cfg->body_len)) != 0)
        return rc;
    if ((rc = check_exclude(&r, cfg->exclude, cfg->n_exclude)) != 0)
        return rc;
    if (cfg->retries > HSCAN_RETRIES_MAX)
        return refuse(&r, "retries", "%u: must be from 0 to %d",
                      cfg->retries, HSCAN_RETRIES_MAX);
    if ((rc = check_sources(&r, cfg->source_ips, cfg->n_source_ips)) != 0)
        return rc;
    if ((rc = check_expand(&r, cfg)) != 0)
        return rc;
    if ((rc = check_prefer(&r, cfg)) != 0)
        return rc;
    if (cfg->tls_chain != 0 && cfg->tls_chain != 1)
        return refuse(&r, "tls_chain", "%d: must be 0 or 1",
                      cfg->tls_chain);
    if ((rc = check_tls(&r, cfg)) != 0)
        return rc;
    if ((rc = check_favicon(&r, cfg)) != 0)
        return rc;
    if ((rc = check_compressed(&r, cfg->compressed, 0)) != 0)
        return rc;
    return check_match(&r, cfg);
}

/* `deep`: also what only OpenSSL can tell (lists, files), which
 * hscan_submit_ex() leaves to the making of the target's context. */
static int target_check(const hscan_target_opts_t *opts, int deep,
                        const char **field, char *detail, size_t size)
{
    const struct report r = { field, detail, size };
    int rc;

    if (!opts)
        return 0;               /* no overrides */
    rc = check_request(&r, opts->method, opts->path, opts->headers,
                       opts->n_headers);
    if (rc == 0)
        rc = check_http_version(&r, opts->http_version);
    if (rc == 0)
        rc = check_auth_body(&r, opts->basic_auth, opts->body,
                             opts->body_len);
    if (rc == 0)
        rc = check_target_tls(&r, opts, deep);
    return rc ? rc : check_compressed(&r, opts->compressed, 1);
}

int hscan_target_opts_check(const hscan_target_opts_t *opts,
                            const char **field, char *detail, size_t size)
{
    return target_check(opts, 1, field, detail, size);
}

int hscan__target_opts_check_shallow(const hscan_target_opts_t *opts)
{
    return target_check(opts, 0, NULL, NULL, 0);
}
