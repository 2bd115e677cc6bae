/* hscan-exporter: hscan result -> probe facts -> blackbox_exporter's
 * metric families (names, HELP, types and labels of its 0.23 http
 * prober), plus hscan_probe_* families of what blackbox lacks. */
#include "exp-facts.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void exp_buf_add(struct exp_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (!(p = realloc(b->p, cap))) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void exp_buf_printf(struct exp_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        exp_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n :
                    sizeof tmp - 1);
}

void exp_buf_num(struct exp_buf *b, double v)
{
    char tmp[64];
    int prec, exp;

    if (isnan(v) || isinf(v) || v == 0) {
        const char *s = isnan(v) ? "NaN" : v == 0 ? "0" : v > 0 ? "+Inf" :
                        "-Inf";
        exp_buf_add(b, s, strlen(s));
        return;
    }
    /* The shortest digits that read back as v, then Go's choice of
     * form: exponent below -4 or from 6 on (shortest) is %e. */
    for (prec = 1; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    exp = atoi(strchr(tmp, 'e') + 1);
    if (exp >= -4 && exp < 6)
        snprintf(tmp, sizeof tmp, "%.*f",
                 prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
    exp_buf_add(b, tmp, strlen(tmp));
}

void exp_buf_label(struct exp_buf *b, const char *s, size_t n)
{
    size_t i, start = 0;

    for (i = 0; i < n; i++) {
        const char *rep = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" :
                          s[i] == '\n' ? "\\n" : NULL;
        if (!rep)
            continue;
        exp_buf_add(b, s + start, i - start);
        exp_buf_add(b, rep, 2);
        start = i + 1;
    }
    exp_buf_add(b, s + start, n - start);
}

/* ---- facts ---- */

static double rfc3339(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NAN;
    return (double)timegm(&tm);
}

/* Go's http.ParseTime: RFC 1123 (GMT), RFC 850, ANSI C asctime. */
static int http_date(const char *s, size_t n, double *out)
{
    static const char *const fmts[] = { "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y" };
    char tmp[64];
    size_t i;

    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    for (i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        struct tm tm;
        const char *end;
        memset(&tm, 0, sizeof tm);
        if ((end = strptime(tmp, fmts[i], &tm)) && !*end) {
            *out = (double)timegm(&tm);
            return 0;
        }
    }
    return -1;
}

static double fnv32a(const unsigned char *p, size_t n)
{
    unsigned long h = 2166136261UL;
    size_t i;

    for (i = 0; i < n; i++)
        h = ((h ^ p[i]) * 16777619UL) & 0xffffffffUL;
    return (double)h;
}

static void ip_facts(struct exp_facts *f, const char *ip)
{
    unsigned char a[16];

    if (!ip)
        return;
    if (inet_pton(AF_INET, ip, a) == 1) {
        f->ip_proto = 4;
        f->ip_hash = fnv32a(a, 4);
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        f->ip_proto = 6;
        f->ip_hash = fnv32a(a, 16);
    }
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The leaf's DNS names (blackbox: cert.DNSNames), comma-joined: the
 * SAN entries that are not address literals. */
static char *dns_names(const hscan_tls_t *t)
{
    struct exp_buf b = { NULL, 0, 0, 0 };
    unsigned char a[16];
    size_t i;

    for (i = 0; i < t->n_san; i++) {
        if (inet_pton(AF_INET, t->san[i], a) == 1 ||
            inet_pton(AF_INET6, t->san[i], a) == 1)
            continue;
        if (b.len)
            exp_buf_add(&b, ",", 1);
        exp_buf_add(&b, t->san[i], t->san_len ? t->san_len[i] :
                    strlen(t->san[i]));
    }
    if (!b.p)
        return strdup("");
    return b.p;
}

static void tls_facts(struct exp_facts *f, const hscan_tls_t *t,
                      const struct exp_module *m)
{
    size_t i;

    if (!t || !t->subject)
        return;
    f->has_tls = 1;
    f->verified = t->verified;
    f->days_left = t->days_left;
    /* blackbox: the soonest not_after of the certificates sent ... */
    f->earliest_expiry = rfc3339(t->not_after);
    for (i = 0; i < t->n_chain; i++) {
        double e = rfc3339(t->chain[i].not_after);
        if (e < f->earliest_expiry || isnan(f->earliest_expiry))
            f->earliest_expiry = e;
    }
    /* ... and over the verified chain, root included (hscan's
     * earliest_not_after when verified).  Go builds no verified chain
     * with insecure_skip_verify: blackbox then reports the zero time. */
    if (t->verified && !m->insecure)
        f->last_chain_expiry = rfc3339(t->earliest_not_after);
    else
        f->last_chain_expiry = -62135596800.0;
    if (t->version && !strncmp(t->version, "TLSv1", 5)) {
        static const char *const v[] = { "TLS 1.0", "TLS 1.1", "TLS 1.2",
                                         "TLS 1.3" };
        int minor = !strcmp(t->version, "TLSv1") ? 0 :
                    t->version[5] == '.' ? t->version[6] - '0' : -1;
        f->tls_version = minor >= 0 && minor <= 3 ? v[minor] : NULL;
    }
    f->leaf_sha256 = dup_or_null(t->sha256);
    f->leaf_subject = dup_or_null(t->subject);
    f->leaf_issuer = dup_or_null(t->issuer);
    f->leaf_dns_names = dns_names(t);
}

static void header_facts(struct exp_facts *f, const hscan_result_t *r)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++) {
        const hscan_header_t *h = &r->headers[i];
        if (h->name_len == 13 && !strncasecmp(h->name, "last-modified", 13) &&
            http_date(h->value, h->value_len, &f->last_modified) == 0) {
            f->has_last_modified = 1;
            break;
        }
    }
}

static int has_header(const hscan_result_t *r, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == n &&
            !strncasecmp(r->headers[i].name, name, n))
            return 1;
    return 0;
}

/* blackbox's fail_if_header_* then fail_if_body_*, checked once the
 * status is valid: NULL when they pass, else why.  The library's
 * matchers did the matching (r->filtered); what it does not know is
 * blackbox's rule for a missing header: one is a failure unless the
 * spec allows it.  The header match that allows it comes last in
 * m->matchers, so when the library stopped there for a header that is
 * missing, every other one passed.  A response without a body read
 * (HEAD, 204, 304) has, for Go, an empty body: the library runs no
 * pattern there, so each body regex is decided by whether it matches
 * an empty body (EXP_RE_MATCHES_EMPTY, found when it was loaded). */
static const char *regex_reason(const struct exp_module *m,
                                const hscan_result_t *r)
{
    const hscan_matcher_t *x;
    int no_body = !r->body_sha256, body_failed = 0;
    size_t i;

    for (i = 0; i < m->n_matchers; i++) {
        x = &m->matchers[i];
        if (x->kind == HSCAN_MATCH_HEADER &&
            !(m->re_flags[i] & EXP_RE_ALLOW_MISSING) &&
            !has_header(r, x->header))
            return "header_missing";
        if (x->kind == HSCAN_MATCH_REGEX && no_body &&
            x->filter == !!(m->re_flags[i] & EXP_RE_MATCHES_EMPTY))
            body_failed = 1;
    }
    if (r->filtered && r->filtered_by >= 0 &&
        (size_t)r->filtered_by < m->n_matchers) {
        i = (size_t)r->filtered_by;
        x = &m->matchers[i];
        if (x->kind == HSCAN_MATCH_HEADER) {
            if (!(m->re_flags[i] & EXP_RE_ALLOW_MISSING) ||
                has_header(r, x->header))
                return "header_regex";
        } else if (!no_body) {
            return "body_regex";
        }
    }
    return body_failed ? "body_regex" : NULL;
}

static int status_ok(const struct exp_module *m, int status)
{
    size_t i;

    if (!m->n_valid_status)
        return status >= 200 && status < 300;
    for (i = 0; i < m->n_valid_status; i++)
        if (m->valid_status[i] == status)
            return 1;
    return 0;
}

static int version_ok(const struct exp_module *m, const hscan_result_t *r)
{
    char v[32];
    size_t i;

    if (!m->n_valid_versions)
        return 1;
    snprintf(v, sizeof v, "HTTP/%d.%d", r->http_major, r->http_minor);
    for (i = 0; i < m->n_valid_versions; i++)
        if (!strcmp(m->valid_versions[i], v))
            return 1;
    return 0;
}

/* Milliseconds to seconds, to the nanosecond (as Go's durations). */
static double ms(double v)
{
    return v > 0 ? round(v * 1e6) / 1e9 : 0;
}

static void time_facts(struct exp_facts *f, const hscan_result_t *r)
{
    double spent;

    f->dns_time = ms(r->dns_ms);
    f->phase[EXP_PHASE_RESOLVE] = ms(r->dns_ms);
    f->phase[EXP_PHASE_CONNECT] = ms(r->connect_ms);
    f->phase[EXP_PHASE_TLS] = ms(r->tls_ms);
    if (!r->status)
        return;
    f->phase[EXP_PHASE_PROCESSING] = ms(r->ttfb_ms);
    /* What is left of the final hop once its other phases are counted:
     * the body's transfer (hops before it took their own total). */
    spent = ms(r->dns_ms) + ms(r->connect_ms) + ms(r->tls_ms) +
            ms(r->ttfb_ms);
    if (r->n_redirects)
        spent += ms(r->redirects[r->n_redirects - 1].total_ms);
    f->phase[EXP_PHASE_TRANSFER] = ms(r->total_ms) > spent ?
        round((ms(r->total_ms) - spent) * 1e9) / 1e9 : 0;
}

static char *join_anomalies(const hscan_result_t *r)
{
    struct exp_buf b = { NULL, 0, 0, 0 };
    size_t i;

    for (i = 0; i < r->n_anomalies; i++) {
        if (i)
            exp_buf_add(&b, ",", 1);
        exp_buf_add(&b, r->anomalies[i], strlen(r->anomalies[i]));
    }
    return b.p;
}

void exp_facts_from(struct exp_facts *f, const hscan_result_t *r,
                    const struct exp_module *m, double duration)
{
    memset(f, 0, sizeof *f);
    f->duration = round(duration * 1e9) / 1e9;
    f->error = r->error;
    f->audit_passed = f->audit_checks = -1;
    f->verified = -1;
    ip_facts(f, r->ip);
    time_facts(f, r);
    tls_facts(f, r->tls, m);
    f->anomalies = join_anomalies(r);
    if (r->status > 0 && r->error == 0) {
        f->status = r->status;
        f->http_version = r->http_major + r->http_minor / 10.0;
        f->content_length = r->content_length;
        f->body_len = (long long)r->body_len;
        f->ssl = r->scheme && !strcmp(r->scheme, "https");
        f->redirects = (int)r->n_redirects;
        header_facts(f, r);
        /* Go asks CheckRedirect, which blackbox counts, before it stops
         * at a redirect it is told not to follow. */
        if (m->no_follow && has_header(r, "location") &&
            (r->status == 301 || r->status == 302 || r->status == 303 ||
             r->status == 307 || r->status == 308))
            f->redirects = 1;
        if (r->audit) {
            f->audit_passed = r->audit->passed;
            f->audit_checks = r->audit->checks;
        }
    }
    if (r->error)
        f->reason = hscan_err_name(r->error);
    else if (!r->status || !status_ok(m, r->status))
        f->reason = "invalid_status";
    else if ((f->reason = regex_reason(m, r)) != NULL)
        f->failed_regex = 1;
    else if (!version_ok(m, r))
        f->reason = "invalid_http_version";
    else if (m->fail_if_ssl && f->ssl)
        f->reason = "ssl";
    else if (m->fail_if_not_ssl && !f->ssl)
        f->reason = "not_ssl";
    f->success = !f->reason;
}

void exp_facts_free(struct exp_facts *f)
{
    free(f->leaf_sha256);
    free(f->leaf_subject);
    free(f->leaf_issuer);
    free(f->leaf_dns_names);
    free(f->anomalies);
}
