/* hscan-exporter: blackbox_exporter's YAML for the http prober, read
 * with libyaml's document API.  Strict like blackbox (which unmarshals
 * strictly): an unknown key is an error; so is a key blackbox knows but
 * hscan-exporter does not implement, named as "not supported yet".  The
 * regular expressions become libhscan matchers (PCRE2), compiled here
 * once to refuse a bad one with its line. */
#include "exp-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include <hscan.h>
#ifdef HSCAN_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

struct ctx {
    yaml_document_t *doc;
    char *err;
    size_t size;
    /* the header match spec being read (hdr_key) */
    const char *spec_header, *spec_regexp;
    int spec_allow;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *key,
                const char *fmt, ...)
{
    char why[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->size, "line %lu: %s%s%s%s", n ?
             (unsigned long)n->start_mark.line + 1 : 0UL,
             key ? "key '" : "", key ? key : "", key ? "': " : "", why);
    return -1;
}

static yaml_node_t *node(struct ctx *c, int i)
{
    return yaml_document_get_node(c->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ?
           (const char *)n->data.scalar.value : NULL;
}

static int want_scalar(struct ctx *c, const yaml_node_t *n, const char *key,
                       const char **out)
{
    if (!(*out = scalar(n)))
        return fail(c, n, key, "must be a single value");
    return 0;
}

static int get_str(struct ctx *c, const yaml_node_t *n, const char *key,
                   char **out)
{
    const char *s;

    if (want_scalar(c, n, key, &s) < 0)
        return -1;
    free(*out);
    if (!(*out = strdup(s)))
        return fail(c, n, key, "out of memory");
    return 0;
}

static int get_bool(struct ctx *c, const yaml_node_t *n, const char *key,
                    int *out)
{
    const char *s;

    if (want_scalar(c, n, key, &s) < 0)
        return -1;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "False") ||
             !strcmp(s, "FALSE"))
        *out = 0;
    else
        return fail(c, n, key, "'%s': not true or false", s);
    return 0;
}

int exp_parse_duration(const char *s, uint64_t *ms)
{
    static const struct { const char *u; uint64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        { "d", 86400000 }, { "w", 604800000 }, { "y", 31536000000ULL },
    };
    uint64_t total = 0;
    size_t i;

    if (!*s)
        return -1;
    if (!strcmp(s, "0"))
        return *ms = 0, 0;
    while (*s) {
        uint64_t v = 0;
        const char *d = s;

        while (*s >= '0' && *s <= '9' && v < 1000000000ULL)
            v = v * 10 + (uint64_t)(*s++ - '0');
        if (s == d || (*s >= '0' && *s <= '9'))
            return -1;
        for (i = 0; i < sizeof units / sizeof *units; i++) {
            size_t ul = strlen(units[i].u);
            if (!strncmp(s, units[i].u, ul) &&
                !(ul == 1 && units[i].u[0] == 'm' && s[1] == 's'))
                break;
        }
        if (i == sizeof units / sizeof *units)
            return -1;
        total += v * units[i].ms;
        s += strlen(units[i].u);
    }
    *ms = total;
    return 0;
}

static int get_duration(struct ctx *c, const yaml_node_t *n,
                        const char *key, uint64_t *out)
{
    const char *s;

    if (want_scalar(c, n, key, &s) < 0)
        return -1;
    if (exp_parse_duration(s, out) < 0)
        return fail(c, n, key, "'%s': not a duration like 5s or 1m30s", s);
    return 0;
}

/* A sequence of scalars, each given to `each`. */
static int get_list(struct ctx *c, const yaml_node_t *n, const char *key,
                    char ***out, size_t *n_out)
{
    yaml_node_item_t *it;
    size_t k = 0;
    char **v;

    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, key, "must be a list");
    v = calloc((size_t)(n->data.sequence.items.top -
                        n->data.sequence.items.start) + 1, sizeof *v);
    if (!v)
        return fail(c, n, key, "out of memory");
    for (it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++) {
        const char *s;
        if (want_scalar(c, node(c, *it), key, &s) < 0 ||
            !(v[k] = strdup(s))) {
            while (k)
                free(v[--k]);
            free(v);
            return -1;
        }
        k++;
    }
    *out = v;
    *n_out = k;
    return 0;
}

static int get_status_codes(struct ctx *c, const yaml_node_t *n,
                            struct exp_module *m)
{
    char **v = NULL;
    size_t k, nv = 0;
    int rc = 0;

    if (get_list(c, n, "valid_status_codes", &v, &nv) < 0)
        return -1;
    m->valid_status = calloc(nv + 1, sizeof *m->valid_status);
    for (k = 0; k < nv; k++) {
        char *end;
        long s = strtol(v[k], &end, 10);
        if (rc == 0 && (*end || s < 100 || s > 999))
            rc = fail(c, n, "valid_status_codes", "'%s': not a status code",
                      v[k]);
        if (m->valid_status)
            m->valid_status[k] = (int)s;
        free(v[k]);
    }
    free(v);
    m->n_valid_status = nv;
    if (!m->valid_status && rc == 0)
        rc = fail(c, n, "valid_status_codes", "out of memory");
    return rc;
}

static int get_versions(struct ctx *c, const yaml_node_t *n,
                        struct exp_module *m)
{
    size_t k;

    if (get_list(c, n, "valid_http_versions", &m->valid_versions,
                 &m->n_valid_versions) < 0)
        return -1;
    for (k = 0; k < m->n_valid_versions; k++)
        if (strcmp(m->valid_versions[k], "HTTP/1.0") &&
            strcmp(m->valid_versions[k], "HTTP/1.1") &&
            strcmp(m->valid_versions[k], "HTTP/2.0"))
            return fail(c, n, "valid_http_versions", "'%s': not HTTP/1.0, "
                        "HTTP/1.1 or HTTP/2.0", m->valid_versions[k]);
    return 0;
}

static int get_headers(struct ctx *c, const yaml_node_t *n,
                       struct exp_module *m)
{
    yaml_node_pair_t *p;
    size_t cap;

    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, "headers", "must be a map of name: value");
    cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (!(m->headers = calloc(cap + 1, sizeof *m->headers)))
        return fail(c, n, "headers", "out of memory");
    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const char *k, *v;
        size_t len;
        if (want_scalar(c, node(c, p->key), "headers", &k) < 0 ||
            want_scalar(c, node(c, p->value), k, &v) < 0)
            return -1;
        if (!*k || strpbrk(k, ": \t\r\n") || strpbrk(v, "\r\n"))
            return fail(c, node(c, p->key), "headers",
                        "'%s': not a header name and value", k);
        len = strlen(k) + strlen(v) + 3;
        if (!(m->headers[m->n_headers] = malloc(len)))
            return fail(c, n, "headers", "out of memory");
        snprintf(m->headers[m->n_headers++], len, "%s: %s", k, v);
    }
    return 0;
}

typedef int (*section_fn)(struct ctx *, const char *key,
                          const yaml_node_t *v, struct exp_module *m);

/* Every pair of mapping `n` to `fn`; `what` names the section. */
static int each_pair(struct ctx *c, const yaml_node_t *n, const char *what,
                     section_fn fn, struct exp_module *m)
{
    yaml_node_pair_t *p;

    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, what, "must be a map");
    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const char *k;
        yaml_node_pair_t *q;
        if (want_scalar(c, node(c, p->key), what, &k) < 0)
            return -1;
        for (q = n->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(k, scalar(node(c, q->key))))
                return fail(c, node(c, p->key), k, "given twice");
        if (fn(c, k, node(c, p->value), m) < 0)
            return -1;
    }
    return 0;
}

static int tls_key(struct ctx *c, const char *k, const yaml_node_t *v,
                   struct exp_module *m)
{
    static const char *const vers[] = { "TLS10", "TLS11", "TLS12", "TLS13" };
    const char *s;
    int i;

    if (!strcmp(k, "ca_file"))
        return get_str(c, v, k, &m->ca_file);
    if (!strcmp(k, "cert_file"))
        return get_str(c, v, k, &m->cert_file);
    if (!strcmp(k, "key_file"))
        return get_str(c, v, k, &m->key_file);
    if (!strcmp(k, "server_name"))
        return get_str(c, v, k, &m->server_name);
    if (!strcmp(k, "insecure_skip_verify"))
        return get_bool(c, v, k, &m->insecure);
    if (strcmp(k, "min_version"))
        return fail(c, v, k, "unknown or not supported in tls_config");
    if (want_scalar(c, v, k, &s) < 0)
        return -1;
    for (i = 0; i < 4; i++)
        if (!strcmp(s, vers[i]))
            return m->tls_min = HSCAN_TLS_1_0 + i, 0;
    return fail(c, v, k, "'%s': not TLS10, TLS11, TLS12 or TLS13", s);
}

static int auth_key(struct ctx *c, const char *k, const yaml_node_t *v,
                    struct exp_module *m)
{
    const char *s, *colon;
    size_t len;
    char *old = m->basic_auth;

    if (strcmp(k, "username") && strcmp(k, "password"))
        return fail(c, v, k, "unknown or not supported in basic_auth");
    if (want_scalar(c, v, k, &s) < 0)
        return -1;
    if (!strcmp(k, "username") && strchr(s, ':'))
        return fail(c, v, k, "a user name with ':' cannot be sent");
    /* Kept as "user:pass"; either part may come first. */
    colon = old ? strchr(old, ':') : NULL;
    len = strlen(s) + (old ? strlen(old) : 0) + 2;
    if (!(m->basic_auth = malloc(len)))
        return m->basic_auth = old, fail(c, v, k, "out of memory");
    if (!strcmp(k, "username"))
        snprintf(m->basic_auth, len, "%s:%s", s, colon ? colon + 1 : "");
    else
        snprintf(m->basic_auth, len, "%.*s:%s",
                 colon ? (int)(colon - old) : 0, old ? old : "", s);
    free(old);
    return 0;
}

static int ip_protocol(struct ctx *c, const yaml_node_t *v, int *out)
{
    const char *s;

    if (want_scalar(c, v, "preferred_ip_protocol", &s) < 0)
        return -1;
    if (!strcmp(s, "ip4") || !strcmp(s, "ipv4"))
        *out = 4;
    else if (!strcmp(s, "ip6") || !strcmp(s, "ipv6"))
        *out = 6;
    else
        return fail(c, v, "preferred_ip_protocol", "'%s': not ip4 or ip6",
                    s);
    return 0;
}

/* ---- regular expressions: the module scanner's cfg.matchers ---- */

/* The order the probe checks them in (exp-config.h): blackbox's, headers
 * before the body, and the header match that allows a missing header
 * last, so that when the library stops at it (a missing header) every
 * other one has been checked. */
static int regex_rank(const hscan_matcher_t *x, int flags)
{
    if (x->kind == HSCAN_MATCH_HEADER)
        return x->filter ? 0 : flags & EXP_RE_ALLOW_MISSING ? 4 : 1;
    return x->filter ? 2 : 3;
}

/* EXP_RE_MATCHES_EMPTY for a pattern the library accepted: libhscan
 * runs no body pattern on a response without a body read, where Go's
 * regexp sees an empty body, so the exporter decides those itself with
 * this answer (PCRE2 with the library's options, none). */
static int matches_empty(const char *pattern)
{
#ifdef HSCAN_HAVE_PCRE2
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mc = NULL;
    PCRE2_SIZE off;
    int err, rc = -1;

    if (!(code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                               0, &err, &off, NULL)))
        return 0;
    if ((md = pcre2_match_data_create_from_pattern(code, NULL)) &&
        (mc = pcre2_match_context_create(NULL))) {
        pcre2_set_match_limit(mc, 200000);
        pcre2_set_depth_limit(mc, 5000);
        rc = pcre2_match(code, (PCRE2_SPTR)"", 0, 0, 0, md, mc);
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return rc >= 0 ? EXP_RE_MATCHES_EMPTY : 0;
#else
    (void)pattern;             /* the library refused it already */
    return 0;
#endif
}

static char *keep_string(struct exp_module *m, const char *s)
{
    char **v = realloc(m->regex_strings,
                       (m->n_regex_strings + 1) * sizeof *v);

    if (!v)
        return NULL;
    m->regex_strings = v;
    if (!(v[m->n_regex_strings] = strdup(s)))
        return NULL;
    return v[m->n_regex_strings++];
}

static void no_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s, (void)r, (void)arg;
}

/* Add one matcher (pattern `re`, for HEADER of header `hdr`), its
 * pattern compiled as the library will (PCRE2) so that a bad one is
 * refused here with its key and line. */
static int add_regex(struct ctx *c, const yaml_node_t *n, const char *key,
                     struct exp_module *m, hscan_matcher_t x, int flags)
{
    hscan_matcher_t *v;
    unsigned char *a;
    hscan_config_t cfg;
    const char *field = NULL, *why;
    char detail[200];
    size_t i;

    hscan_config_init(&cfg);
    cfg.on_result = no_result;
    cfg.body_bytes = 1;
    cfg.matchers = &x;
    cfg.n_matchers = 1;
    if (hscan_config_check(&cfg, &field, detail, sizeof detail) < 0) {
        why = strncmp(detail, "[0].pattern: ", 13) ? detail : detail + 13;
        return fail(c, n, key, "'%.60s': %s", x.pattern, why);
    }
    if (m->n_matchers >= HSCAN_MATCHERS_MAX)
        return fail(c, n, key, "more than %d regular expressions in a "
                    "module", HSCAN_MATCHERS_MAX);
    if (x.kind == HSCAN_MATCH_REGEX)
        flags |= matches_empty(x.pattern);
    for (i = 0; regex_rank(&x, flags) == 4 && i < m->n_matchers; i++)
        if (regex_rank(&m->matchers[i], m->re_flags[i]) == 4)
            return fail(c, n, key, "a second entry with allow_missing: "
                        "true is not supported (docs/exporter.md)");
    if (!(x.pattern = keep_string(m, x.pattern)) ||
        (x.header && !(x.header = keep_string(m, x.header))))
        return fail(c, n, key, "out of memory");
    if (!(v = realloc(m->matchers, (m->n_matchers + 1) * sizeof *v)))
        return fail(c, n, key, "out of memory");
    m->matchers = v;
    if (!(a = realloc(m->re_flags, m->n_matchers + 1)))
        return fail(c, n, key, "out of memory");
    m->re_flags = a;
    /* kept in rank order, each rank in the order given */
    for (i = m->n_matchers; i > 0 &&
         regex_rank(&v[i - 1], a[i - 1]) > regex_rank(&x, flags); i--) {
        v[i] = v[i - 1];
        a[i] = a[i - 1];
    }
    v[i] = x;
    a[i] = (unsigned char)flags;
    m->n_matchers++;
    return 0;
}

/* fail_if_body_matches_regexp (filter) and ..._not_matches_regexp. */
static int body_regexes(struct ctx *c, const yaml_node_t *n,
                        const char *key, struct exp_module *m, int filter)
{
    yaml_node_item_t *it;
    const char *s;

    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, key, "must be a list");
    for (it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++) {
        hscan_matcher_t x = { HSCAN_MATCH_REGEX, filter, NULL, NULL, 0, 0 };
        if (want_scalar(c, node(c, *it), key, &s) < 0)
            return -1;
        x.pattern = s;
        if (add_regex(c, node(c, *it), key, m, x, 0) < 0)
            return -1;
    }
    return 0;
}

/* One member of an http_header_match_spec, into c->spec_*. */
static int hdr_key(struct ctx *c, const char *k, const yaml_node_t *v,
                   struct exp_module *m)
{
    (void)m;
    if (!strcmp(k, "header"))
        return want_scalar(c, v, k, &c->spec_header);
    if (!strcmp(k, "regexp"))
        return want_scalar(c, v, k, &c->spec_regexp);
    if (!strcmp(k, "allow_missing"))
        return get_bool(c, v, k, &c->spec_allow);
    return fail(c, v, k, "unknown key in a header match (header, regexp, "
                "allow_missing)");
}

/* fail_if_header_matches (filter) and fail_if_header_not_matches: a
 * list of {header, regexp, allow_missing}; blackbox wants both of the
 * first two, not empty. */
static int header_regexes(struct ctx *c, const yaml_node_t *n,
                          const char *key, struct exp_module *m, int filter)
{
    yaml_node_item_t *it;

    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, key, "must be a list");
    for (it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++) {
        hscan_matcher_t x = { HSCAN_MATCH_HEADER, filter, NULL, NULL, 0, 0 };
        const yaml_node_t *e = node(c, *it);
        c->spec_header = c->spec_regexp = NULL;
        c->spec_allow = 0;
        if (each_pair(c, e, key, hdr_key, m) < 0)
            return -1;
        if (!c->spec_header || !*c->spec_header)
            return fail(c, e, key, "header name must be set");
        if (!c->spec_regexp || !*c->spec_regexp)
            return fail(c, e, key, "regexp must be set");
        x.header = c->spec_header;
        x.pattern = c->spec_regexp;
        if (add_regex(c, e, key, m, x,
                      c->spec_allow ? EXP_RE_ALLOW_MISSING : 0) < 0)
            return -1;
    }
    return 0;
}

/* Keys blackbox's http prober knows that hscan-exporter does not do
 * (yet): refused by name rather than ignored. */
static const char *const http_unsupported[] = {
    "compression", "body_size_limit", "body_file", "bearer_token",
    "bearer_token_file", "authorization", "oauth2", "follow_redirects",
    "enable_http2", "proxy_connect_header", "no_proxy",
    "proxy_from_environment", "skip_resolve_phase_with_proxy",
    "http_headers", NULL
};

static int http_key(struct ctx *c, const char *k, const yaml_node_t *v,
                    struct exp_module *m)
{
    size_t i;

    if (!strcmp(k, "valid_status_codes"))
        return get_status_codes(c, v, m);
    if (!strcmp(k, "valid_http_versions"))
        return get_versions(c, v, m);
    if (!strcmp(k, "method"))
        return get_str(c, v, k, &m->method);
    if (!strcmp(k, "headers"))
        return get_headers(c, v, m);
    if (!strcmp(k, "body")) {
        if (get_str(c, v, k, &m->body) < 0)
            return -1;
        m->body_len = strlen(m->body);
        return 0;
    }
    if (!strcmp(k, "no_follow_redirects"))
        return get_bool(c, v, k, &m->no_follow);
    if (!strcmp(k, "fail_if_ssl"))
        return get_bool(c, v, k, &m->fail_if_ssl);
    if (!strcmp(k, "fail_if_not_ssl"))
        return get_bool(c, v, k, &m->fail_if_not_ssl);
    if (!strcmp(k, "tls_config"))
        return each_pair(c, v, k, tls_key, m);
    if (!strcmp(k, "basic_auth"))
        return each_pair(c, v, k, auth_key, m);
    if (!strcmp(k, "proxy_url"))
        return get_str(c, v, k, &m->proxy_url);
    if (!strcmp(k, "preferred_ip_protocol"))
        return ip_protocol(c, v, &m->prefer_family);
    if (!strcmp(k, "ip_protocol_fallback"))
        return get_bool(c, v, k, &m->fallback);
    if (!strcmp(k, "fail_if_body_matches_regexp"))
        return body_regexes(c, v, k, m, 1);
    if (!strcmp(k, "fail_if_body_not_matches_regexp"))
        return body_regexes(c, v, k, m, 0);
    if (!strcmp(k, "fail_if_header_matches"))
        return header_regexes(c, v, k, m, 1);
    if (!strcmp(k, "fail_if_header_not_matches"))
        return header_regexes(c, v, k, m, 0);
    for (i = 0; http_unsupported[i]; i++)
        if (!strcmp(k, http_unsupported[i]))
            return fail(c, v, k, "not supported yet by hscan-exporter "
                        "(docs/exporter.md)");
    return fail(c, v, k, "unknown key in http");
}

static int module_key(struct ctx *c, const char *k, const yaml_node_t *v,
                      struct exp_module *m)
{
    const char *s;

    if (!strcmp(k, "prober")) {
        if (want_scalar(c, v, k, &s) < 0)
            return -1;
        if (strcmp(s, "http"))
            return fail(c, v, k, "'%s': only the http prober is supported",
                        s);
        return 0;
    }
    if (!strcmp(k, "timeout"))
        return get_duration(c, v, k, &m->timeout_ms);
    if (!strcmp(k, "http"))
        return each_pair(c, v, k, http_key, m);
    if (!strcmp(k, "targets"))
        return get_list(c, v, k, &m->targets, &m->n_targets);
    if (!strcmp(k, "interval")) {
        if (get_duration(c, v, k, &m->interval_ms) < 0)
            return -1;
        if (m->interval_ms < 1000)
            return fail(c, v, k, "must be at least 1s");
        return 0;
    }
    if (!strcmp(k, "tcp") || !strcmp(k, "icmp") || !strcmp(k, "dns") ||
        !strcmp(k, "grpc"))
        return fail(c, v, k, "only the http prober is supported");
    return fail(c, v, k, "unknown key in a module");
}

static void module_free(struct exp_module *m)
{
    size_t i;

    free(m->name);
    free(m->valid_status);
    for (i = 0; i < m->n_valid_versions; i++)
        free(m->valid_versions[i]);
    free(m->valid_versions);
    free(m->method);
    for (i = 0; i < m->n_headers; i++)
        free(m->headers[i]);
    free(m->headers);
    free(m->body);
    free(m->ca_file);
    free(m->cert_file);
    free(m->key_file);
    free(m->server_name);
    free(m->basic_auth);
    free(m->proxy_url);
    for (i = 0; i < m->n_targets; i++)
        free(m->targets[i]);
    free(m->targets);
    for (i = 0; i < m->n_regex_strings; i++)
        free(m->regex_strings[i]);
    free(m->regex_strings);
    free(m->matchers);
    free(m->re_flags);
}

static int module_parse(struct ctx *c, const yaml_node_t *kn,
                        const yaml_node_t *vn, struct exp_module *m)
{
    const char *name;

    m->prefer_family = 6;
    m->fallback = 1;
    if (want_scalar(c, kn, "modules", &name) < 0)
        return -1;
    m->line = (unsigned)kn->start_mark.line + 1;
    if (!*name || strpbrk(name, "\"\\\n"))
        return fail(c, kn, name, "a module name holds no quote, backslash "
                    "or newline");
    if (!(m->name = strdup(name)) || !(m->method = strdup("GET")))
        return fail(c, kn, name, "out of memory");
    if (vn->type == YAML_SCALAR_NODE && !*scalar(vn))
        return fail(c, vn, name, "module has no prober");
    if (each_pair(c, vn, name, module_key, m) < 0)
        return -1;
    if (m->n_targets && !m->interval_ms)
        return fail(c, vn, "targets", "needs an interval");
    if (m->interval_ms && !m->n_targets)
        return fail(c, vn, "interval", "without targets");
    if (m->fail_if_ssl && m->fail_if_not_ssl)
        return fail(c, vn, "fail_if_ssl", "and fail_if_not_ssl together "
                    "fail every probe");
    return 0;
}

static int modules_parse(struct ctx *c, const yaml_node_t *n,
                         struct exp_config *cfg)
{
    yaml_node_pair_t *p;
    size_t cap, i;

    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, "modules", "must be a map of module names");
    cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (!(cfg->mods = calloc(cap + 1, sizeof *cfg->mods)))
        return fail(c, n, "modules", "out of memory");
    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        struct exp_module *m = &cfg->mods[cfg->n_mods++];
        if (module_parse(c, node(c, p->key), node(c, p->value), m) < 0)
            return -1;
        for (i = 0; i + 1 < cfg->n_mods; i++)
            if (!strcmp(cfg->mods[i].name, m->name))
                return fail(c, node(c, p->key), m->name,
                            "module defined twice");
    }
    return 0;
}

static int root_parse(struct ctx *c, struct exp_config *cfg)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    yaml_node_pair_t *p;
    int seen = 0;

    if (!root)
        return fail(c, NULL, NULL, "empty configuration");
    if (root->type != YAML_MAPPING_NODE)
        return fail(c, root, NULL, "the configuration must be a map");
    for (p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        const char *k;
        if (want_scalar(c, node(c, p->key), "top level", &k) < 0)
            return -1;
        if (strcmp(k, "modules"))
            return fail(c, node(c, p->key), k, "unknown top-level key");
        if (seen++)
            return fail(c, node(c, p->key), k, "given twice");
        if (modules_parse(c, node(c, p->value), cfg) < 0)
            return -1;
    }
    if (!seen)
        return fail(c, root, "modules", "missing");
    return 0;
}

int exp_config_parse(const char *text, size_t len, struct exp_config *out,
                     char *err, size_t size)
{
    struct exp_config cfg = { NULL, 0 };
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ctx c = { &doc, err, size, NULL, NULL, 0 };
    int rc;

    if (!yaml_parser_initialize(&parser))
        return snprintf(err, size, "out of memory"), -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, size, "line %lu: %s%s%s",
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML error",
                 parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    rc = root_parse(&c, &cfg);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0) {
        exp_config_free(&cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int exp_config_load(const char *path, struct exp_config *out, char *err,
                    size_t size)
{
    char buf[1 << 12], *text = NULL, *nt;
    size_t len = 0, n;
    FILE *f = fopen(path, "rb");
    int rc;

    if (!f)
        return snprintf(err, size, "%s: %s", path, strerror(errno)), -1;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n > (64u << 20) || !(nt = realloc(text, len + n))) {
            free(text);
            fclose(f);
            return snprintf(err, size, "%s: too big or out of memory",
                            path), -1;
        }
        text = nt;
        memcpy(text + len, buf, n);
        len += n;
    }
    fclose(f);
    rc = exp_config_parse(text ? text : "", len, out, buf, sizeof buf);
    free(text);
    if (rc < 0)
        snprintf(err, size, "%s: %s", path, buf);
    return rc;
}

void exp_config_free(struct exp_config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->n_mods; i++)
        module_free(&cfg->mods[i]);
    free(cfg->mods);
    cfg->mods = NULL;
    cfg->n_mods = 0;
}

const struct exp_module *exp_config_module(const struct exp_config *cfg,
                                           const char *name)
{
    size_t i;

    for (i = 0; i < cfg->n_mods; i++)
        if (!strcmp(cfg->mods[i].name, name))
            return &cfg->mods[i];
    return NULL;
}
