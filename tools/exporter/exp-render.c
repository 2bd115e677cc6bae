/* hscan-exporter: probe facts as Prometheus text, blackbox_exporter
 * 0.23's families for the http prober (same names, HELP, types,
 * labels, units and name order), after hscan_probe_* of our own. */
#include "exp-facts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum fam {
    F_AUDIT, F_ANOMALY, F_ERROR, F_VERIFIED,
    F_DNS, F_DURATION, F_REGEX, F_CLEN, F_PHASE, F_LASTMOD, F_REDIRECTS,
    F_SSL, F_STATUS, F_BODYLEN, F_VERSION, F_IPHASH, F_IPPROTO, F_EARLIEST,
    F_LASTCHAIN, F_CHAININFO, F_SUCCESS, F_TLSVERSION, F_N
};

static const struct {
    const char *name, *help;
} fams[F_N] = {
    { "hscan_probe_audit_checks_passed", "Security-header audit checks "
      "passed by the final response (of hscan_probe_audit_checks)" },
    { "hscan_probe_anomaly_info", "One series per deviation from HTTP "
      "found in the final response head (hscan's anomaly names)" },
    { "hscan_probe_error_info", "Why the probe failed: hscan's stable "
      "error name, or invalid_status, invalid_http_version, ssl, not_ssl" },
    { "hscan_probe_tls_verified", "Whether the certificate chain and "
      "name were verified (also reported when the handshake failed)" },
    { "probe_dns_lookup_time_seconds",
      "Returns the time taken for probe dns lookup in seconds" },
    { "probe_duration_seconds",
      "Returns how long the probe took to complete in seconds" },
    { "probe_failed_due_to_regex", "Indicates if probe failed due to regex" },
    { "probe_http_content_length", "Length of http content response" },
    { "probe_http_duration_seconds",
      "Duration of http request by phase, summed over all redirects" },
    { "probe_http_last_modified_timestamp_seconds",
      "Returns the Last-Modified HTTP response header in unixtime" },
    { "probe_http_redirects", "The number of redirects" },
    { "probe_http_ssl", "Indicates if SSL was used for the final redirect" },
    { "probe_http_status_code", "Response HTTP status code" },
    { "probe_http_uncompressed_body_length",
      "Length of uncompressed response body" },
    { "probe_http_version",
      "Returns the version of HTTP of the probe response" },
    { "probe_ip_addr_hash", "Specifies the hash of IP address. It's useful "
      "to detect if the IP address changes." },
    { "probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6" },
    { "probe_ssl_earliest_cert_expiry",
      "Returns last SSL chain expiry in unixtime" },
    { "probe_ssl_last_chain_expiry_timestamp_seconds",
      "Returns last SSL chain expiry in timestamp" },
    { "probe_ssl_last_chain_info", "Contains SSL leaf certificate information" },
    { "probe_success", "Displays whether or not the probe was a success" },
    { "probe_tls_version_info",
      "Returns the TLS version used or NaN when unknown" },
};

/* In the order Prometheus' client sorts them (by label value). */
static const struct {
    const char *name;
    int phase;
} phases[EXP_PHASES] = {
    { "connect", EXP_PHASE_CONNECT }, { "processing", EXP_PHASE_PROCESSING },
    { "resolve", EXP_PHASE_RESOLVE }, { "tls", EXP_PHASE_TLS },
    { "transfer", EXP_PHASE_TRANSFER },
};

/* One sample: name{target="..",labels} value.  `labels` is a
 * preformatted, already escaped list or NULL. */
static void sample(struct exp_buf *b, enum fam k, const char *target,
                   const char *labels, double v)
{
    exp_buf_add(b, fams[k].name, strlen(fams[k].name));
    if (target || labels) {
        exp_buf_add(b, "{", 1);
        if (labels)
            exp_buf_add(b, labels, strlen(labels));
        if (target) {
            exp_buf_add(b, labels ? ",target=\"" : "target=\"",
                        labels ? 9 : 8);
            exp_buf_label(b, target, strlen(target));
            exp_buf_add(b, "\"", 1);
        }
        exp_buf_add(b, "}", 1);
    }
    exp_buf_add(b, " ", 1);
    exp_buf_num(b, v);
    exp_buf_add(b, "\n", 1);
}

static void label(struct exp_buf *b, const char *name, const char *v,
                  int comma)
{
    if (comma)
        exp_buf_add(b, ",", 1);
    exp_buf_printf(b, "%s=\"", name);
    exp_buf_label(b, v ? v : "", v ? strlen(v) : 0);
    exp_buf_add(b, "\"", 1);
}

/* A labelled sample whose labels are built first. */
static void sample_l(struct exp_buf *b, enum fam k, const char *target,
                     struct exp_buf *l, double v)
{
    if (l->failed) {
        b->failed = 1;
        return;
    }
    sample(b, k, target, l->p, v);
    l->len = 0;
    if (l->p)
        l->p[0] = 0;
}

static void anomalies(struct exp_buf *b, const struct exp_facts *f,
                      const char *t, struct exp_buf *l)
{
    const char *s = f->anomalies, *c;

    while (s && *s) {
        c = strchr(s, ',');
        exp_buf_add(l, "anomaly=\"", 9);
        exp_buf_label(l, s, c ? (size_t)(c - s) : strlen(s));
        exp_buf_add(l, "\"", 1);
        sample_l(b, F_ANOMALY, t, l, 1);
        s = c ? c + 1 : NULL;
    }
}

/* Whether probe f has family k's samples. */
static int has(enum fam k, const struct exp_facts *f)
{
    switch (k) {
    case F_AUDIT: return f->audit_passed >= 0;
    case F_ANOMALY: return f->anomalies != NULL;
    case F_ERROR: return f->reason != NULL;
    case F_VERIFIED: return f->verified >= 0;
    case F_LASTMOD: return f->has_last_modified;
    case F_IPHASH: case F_IPPROTO: return f->ip_proto != 0;
    case F_EARLIEST: case F_LASTCHAIN: case F_CHAININFO: return f->has_tls;
    case F_TLSVERSION: return f->tls_version != NULL;
    default: return 1;
    }
}

/* The value of an unlabelled family. */
static double value(enum fam k, const struct exp_facts *f)
{
    switch (k) {
    case F_AUDIT: return f->audit_passed;
    case F_VERIFIED: return f->verified;
    case F_DNS: return f->dns_time;
    case F_DURATION: return f->duration;
    case F_REGEX: return f->failed_regex;
    case F_CLEN: return (double)f->content_length;
    case F_LASTMOD: return f->last_modified;
    case F_REDIRECTS: return f->redirects;
    case F_SSL: return f->ssl;
    case F_STATUS: return f->status;
    case F_BODYLEN: return (double)f->body_len;
    case F_VERSION: return f->http_version;
    case F_IPHASH: return f->ip_hash;
    case F_IPPROTO: return f->ip_proto;
    case F_EARLIEST: return f->earliest_expiry;
    case F_LASTCHAIN: return f->last_chain_expiry;
    default: return f->success;
    }
}

/* Family k's samples of one probe that has it. */
static void emit(struct exp_buf *b, enum fam k, const struct exp_facts *f,
                 const char *t, struct exp_buf *l)
{
    int i;

    switch (k) {
    case F_ANOMALY:
        anomalies(b, f, t, l);
        return;
    case F_ERROR:
        label(l, "error", f->reason, 0);
        sample_l(b, k, t, l, 1);
        return;
    case F_PHASE:
        for (i = 0; i < EXP_PHASES; i++) {
            label(l, "phase", phases[i].name, 0);
            sample_l(b, k, t, l, f->phase[phases[i].phase]);
        }
        return;
    case F_CHAININFO:
        label(l, "fingerprint_sha256", f->leaf_sha256, 0);
        label(l, "issuer", f->leaf_issuer, 1);
        label(l, "subject", f->leaf_subject, 1);
        label(l, "subjectalternative", f->leaf_dns_names, 1);
        sample_l(b, k, t, l, 1);
        return;
    case F_TLSVERSION:
        label(l, "version", f->tls_version, 0);
        sample_l(b, k, t, l, 1);
        return;
    default:
        sample(b, k, t, NULL, value(k, f));
    }
}

void exp_facts_render(struct exp_buf *b, const struct exp_facts *const *f,
                      const char *const *targets, size_t n)
{
    struct exp_buf l = { NULL, 0, 0, 0 };
    size_t i;
    int k;

    for (k = 0; k < F_N; k++) {
        for (i = 0; i < n && !has((enum fam)k, f[i]); i++)
            ;
        if (i == n)
            continue;
        exp_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", fams[k].name,
                       fams[k].help, fams[k].name);
        for (; i < n; i++)
            if (has((enum fam)k, f[i]))
                emit(b, (enum fam)k, f[i], targets ? targets[i] : NULL, &l);
    }
    free(l.p);
}
