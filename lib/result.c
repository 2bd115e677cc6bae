/* Error names and the JSON Lines record.
 *
 * The record must be valid JSON whatever bytes a server sent.  Strings are
 * written as UTF-8 where the input is well-formed UTF-8 (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF); every byte that is not
 * part of a well-formed sequence is written as \u00XX, one escape per byte.
 * A consumer can therefore recover the original bytes exactly: code points
 * U+0080..U+00FF that appear as \u00XX escapes were raw bytes, while real
 * U+0080..U+00FF characters appear as literal UTF-8.  Control characters
 * (U+0000..U+001F, U+007F) are always escaped.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "result.h"
#include "util.h"
#include "utf8.h"

const char *hscan_err_name(int code)
{
    if (code == 0)
        return "ok";
    switch (code) {
#define XX(c, id, name, msg) case c: return name;
        HSCAN_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown_error";
}

const char *hscan_strerror(int code)
{
    if (code == 0)
        return "success";
    switch (code) {
#define XX(c, id, name, msg) case c: return msg;
        HSCAN_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *hscan_version(void)
{
    return HSCAN_VERSION_STRING;
}

static const char *const code_names[] = {
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR",
    "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"
};

const char *hscan__h2_code_name(unsigned long code)
{
    return code < sizeof(code_names) / sizeof(code_names[0])
               ? code_names[code] : NULL;
}

#ifdef HSCAN_HAVE_NGHTTP2
#define FEATURE_HTTP2 " http2"
#else
#define FEATURE_HTTP2 ""
#endif
#ifdef HSCAN_HAVE_ZLIB
#define FEATURE_ZLIB " zlib"
#else
#define FEATURE_ZLIB ""
#endif
#ifdef HSCAN_HAVE_BROTLI
#define FEATURE_BROTLI " brotli"
#else
#define FEATURE_BROTLI ""
#endif
#ifdef HSCAN_HAVE_PCRE2
#define FEATURE_PCRE2 " pcre2"
#else
#define FEATURE_PCRE2 ""
#endif

const char *hscan_features(void)
{
    /* each name with a space before it; the first space goes */
    static const char f[] = " " FEATURE_HTTP2 FEATURE_ZLIB FEATURE_BROTLI
                            FEATURE_PCRE2;

    return f[1] ? f + 2 : "";
}

#define jput hscan__sb_put

static void jlit(struct hscan__sb *j, const char *s)
{
    jput(j, s, strlen(s));
}

static void jesc_byte(struct hscan__sb *j, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    jput(j, e, 6);
}

/* Bytes copied as they are: printable ASCII except '"' and '\\'.  One
 * bit per byte, four words of 64. */
static int plain_byte(unsigned char c)
{
    static const uint64_t map[4] = {
        0xfffffffb00000000ULL,  /* 0x20..0x3f without '"' (0x22) */
        0x7fffffffefffffffULL,  /* 0x40..0x7e without '\\' (0x5c) */
        0, 0
    };
    return (int)((map[c >> 6] >> (c & 63)) & 1);
}

void hscan__json_str(struct hscan__sb *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;

    jput(j, "\"", 1);
    while (i < n) {
        unsigned char c = s[i];
        size_t k;

        if (plain_byte(c)) {
            run++;
            i++;
            continue;
        }
        jput(j, str + i - run, run);
        run = 0;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            jput(j, e, 2);
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            char e[2] = { '\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't' };
            jput(j, e, 2);
            i++;
        } else if (c >= 0x80 &&
                   (k = hscan__utf8_seq(s + i, n - i, NULL)) > 0) {
            jput(j, str + i, k);
            i += k;
        } else {
            jesc_byte(j, c);
            i++;
        }
    }
    jput(j, str + i - run, run);
    jput(j, "\"", 1);
}

static void jstr_or_null(struct hscan__sb *j, const char *s)
{
    if (s)
        hscan__json_str(j, s, strlen(s));
    else
        jlit(j, "null");
}

/* ,"key": -- `key` must be a string literal. */
#define jkey(j, key) jput((j), ",\"" key "\":", sizeof(",\"" key "\":") - 1)

size_t hscan__utoa(char *out, unsigned long long v)
{
    char t[20];
    size_t n = 0, i;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

void hscan__sb_put(struct hscan__sb *b, const char *s, size_t n)
{
    if (b->len + 1 < b->size) {
        size_t room = b->size - 1 - b->len;
        memcpy(b->buf + b->len, s, n < room ? n : room);
    }
    b->len += n;
}

void hscan__sb_str(struct hscan__sb *b, const char *s)
{
    hscan__sb_put(b, s, strlen(s));
}

void hscan__sb_uint(struct hscan__sb *b, unsigned long long v)
{
    char t[20];
    hscan__sb_put(b, t, hscan__utoa(t, v));
}

size_t hscan__sb_end(struct hscan__sb *b)
{
    if (b->size)
        b->buf[b->len < b->size ? b->len : b->size - 1] = '\0';
    return b->len;
}

static void jnum(struct hscan__sb *j, long long v)
{
    char t[21];
    size_t n = 0;

    if (v < 0) {
        t[n++] = '-';
        n += hscan__utoa(t + 1, 0ULL - (unsigned long long)v);
    } else {
        n = hscan__utoa(t, (unsigned long long)v);
    }
    jput(j, t, n);
}

size_t hscan__ms3(char *out, double ms)
{
    unsigned long long us;
    size_t n;

    if (!(ms >= 0) || ms > DBL_MAX)     /* NaN and infinity: no JSON form */
        return 0;
    if (ms >= 1e12)             /* not a real duration; never the hot path */
        return (size_t)snprintf(out, HSCAN__MS_SIZE, "%.17g", ms);
    us = (unsigned long long)(ms * 1000.0 + 0.5);
    n = hscan__utoa(out, us / 1000);
    out[n++] = '.';
    out[n++] = (char)('0' + us / 100 % 10);
    out[n++] = (char)('0' + us / 10 % 10);
    out[n++] = (char)('0' + us % 10);
    return n;
}

static void jms(struct hscan__sb *j, const char *key, double ms)
{
    char t[HSCAN__MS_SIZE];
    size_t n = hscan__ms3(t, ms);

    jlit(j, key);
    if (n == 0)
        jlit(j, "null");
    else
        jput(j, t, n);
}

static void jstr_list(struct hscan__sb *j, const char *const *v, size_t n)
{
    size_t i;

    jlit(j, "[");
    for (i = 0; i < n; i++) {
        if (i)
            jlit(j, ",");
        hscan__json_str(j, v[i], strlen(v[i]));
    }
    jlit(j, "]");
}

static void json_response(struct hscan__sb *j, const hscan_result_t *r)
{
    size_t i;
    char ver[32];

    jkey(j, "status");
    if (r->status > 0)
        jnum(j, r->status);
    else
        jlit(j, "null");
    jkey(j, "reason");
    if (r->reason)
        hscan__json_str(j, r->reason, r->reason_len);
    else
        jlit(j, "null");
    jkey(j, "http_version");
    if (r->http_major >= 0) {
        struct hscan__sb b = { ver, sizeof(ver), 0 };
        hscan__sb_put(&b, "HTTP/", 5);
        hscan__sb_uint(&b, (unsigned)r->http_major);
        /* HTTP/2 has no minor version; an HTTP/1 status line saying
         * "HTTP/2.0" (version_unusual) keeps its own. */
        if (!r->h2) {
            hscan__sb_put(&b, ".", 1);
            hscan__sb_uint(&b, (unsigned)(r->http_minor > 0 ? r->http_minor
                                                            : 0));
        }
        hscan__sb_end(&b);
        jstr_or_null(j, ver);
    } else {
        jlit(j, "null");
    }
    jkey(j, "headers");
    jlit(j, "[");
    for (i = 0; i < r->n_headers; i++) {
        const hscan_header_t *h = &r->headers[i];
        jlit(j, i ? ",[" : "[");
        hscan__json_str(j, h->name, h->name_len);
        jlit(j, ",");
        hscan__json_str(j, h->value, h->value_len);
        jlit(j, "]");
    }
    jlit(j, "]");
    jkey(j, "anomalies");
    jstr_list(j, r->anomalies, r->n_anomalies);
    jkey(j, "interim");
    jlit(j, "[");
    for (i = 0; i < r->n_interim; i++) {
        if (i)
            jlit(j, ",");
        jnum(j, r->interim[i]);
    }
    jlit(j, "]");
    jkey(j, "headers_complete");
    jlit(j, r->status <= 0 ? "null"
          : r->headers_complete ? "true" : "false");
}

static void json_h2_code(struct hscan__sb *j, unsigned long code)
{
    const char *n = hscan__h2_code_name(code);

    jlit(j, "{\"code\":");
    jnum(j, (long long)code);
    jkey(j, "error");
    jstr_or_null(j, n);
}

/* "h2": the server's HTTP/2 facts (docs/results.md). */
static void json_h2(struct hscan__sb *j, const hscan_h2_t *h)
{
    size_t i;

    if (!h) {
        jlit(j, "null");
        return;
    }
    jlit(j, "{\"settings\":[");
    for (i = 0; i < h->n_settings; i++) {
        jlit(j, i ? ",[" : "[");
        jnum(j, (long long)h->settings[i].id);
        jlit(j, ",");
        jnum(j, (long long)h->settings[i].value);
        jlit(j, "]");
    }
    jlit(j, "]");
    jkey(j, "window_update");
    if (h->window_update >= 0)
        jnum(j, h->window_update);
    else
        jlit(j, "null");
    jkey(j, "goaway");
    if (h->goaway) {
        json_h2_code(j, h->goaway_code);
        jkey(j, "last_stream_id");
        jnum(j, (long long)h->goaway_last_stream);
        jlit(j, "}");
    } else {
        jlit(j, "null");
    }
    jkey(j, "rst_stream");
    if (h->rst_stream) {
        json_h2_code(j, h->rst_code);
        jlit(j, "}");
    } else {
        jlit(j, "null");
    }
    jlit(j, "}");
}

/* The handshake's parameters and the server's fingerprints. */
static void json_tls_hello(struct hscan__sb *j, const hscan_tls_t *t)
{
    size_t i;

    jkey(j, "group");
    jstr_or_null(j, t->group);
    jkey(j, "sigalg");
    jstr_or_null(j, t->sigalg);
    jkey(j, "ticket");
    jlit(j, t->ticket ? "true" : "false");
    jkey(j, "hello_retry");
    jlit(j, t->hello_retry ? "true" : "false");
    jkey(j, "extensions");
    jlit(j, "[");
    for (i = 0; i < t->n_extensions; i++) {
        if (i)
            jlit(j, ",");
        jnum(j, t->extensions[i]);
    }
    jlit(j, "]");
    jkey(j, "ja3s");
    jstr_or_null(j, t->ja3s);
    jkey(j, "ja4s");
    jstr_or_null(j, t->ja4s);
}

/* The whole chain (cfg.tls_chain): its keys only when it was asked
 * for, so other records keep their size. */
static void json_chain(struct hscan__sb *j, const hscan_tls_t *t)
{
    size_t i;

    jkey(j, "earliest_not_after");
    jstr_or_null(j, t->earliest_not_after);
    jkey(j, "earliest_days_left");
    if (t->earliest_not_after)
        jnum(j, t->earliest_days_left);
    else
        jlit(j, "null");
    if (!t->chain)
        return;
    jkey(j, "chain");
    jlit(j, "[");
    for (i = 0; i < t->n_chain; i++) {
        const hscan_cert_t *c = &t->chain[i];
        jlit(j, i ? ",{\"subject\":" : "{\"subject\":");
        jstr_or_null(j, c->subject);
        jkey(j, "issuer");
        jstr_or_null(j, c->issuer);
        jkey(j, "serial");
        jstr_or_null(j, c->serial);
        jkey(j, "not_before");
        jstr_or_null(j, c->not_before);
        jkey(j, "not_after");
        jstr_or_null(j, c->not_after);
        jkey(j, "sha256");
        jstr_or_null(j, c->sha256);
        jkey(j, "spki_sha256");
        jstr_or_null(j, c->spki_sha256);
        jkey(j, "key_type");
        jstr_or_null(j, c->key_type);
        jkey(j, "key_bits");
        jnum(j, c->key_bits);
        jkey(j, "sig_alg");
        jstr_or_null(j, c->sig_alg);
        jkey(j, "is_ca");
        jlit(j, c->is_ca ? "true}" : "false}");
    }
    jlit(j, "]");
    jkey(j, "chain_truncated");
    jlit(j, t->chain_truncated ? "true" : "false");
    jkey(j, "verified_chain");
    if (!t->verified_chain) {
        jlit(j, "null");
        return;
    }
    jlit(j, "[");
    for (i = 0; i < t->n_verified_chain; i++) {
        if (i)
            jlit(j, ",");
        jstr_or_null(j, t->verified_chain[i]);
    }
    jlit(j, "]");
}

/* ---- stapled OCSP and SCTs: "ocsp", "scts", "sct_count" ---- */
static void json_tls_ocsp(struct hscan__sb *j, const hscan_tls_t *t)
{
    const hscan_tls_ocsp_t *o = &t->ocsp;
    size_t i;

    jkey(j, "ocsp");
    if (!o->stapled) {
        jlit(j, "null");
    } else {
        jlit(j, "{\"status\":");
        jstr_or_null(j, o->status);
        jkey(j, "revoked_at");
        jstr_or_null(j, o->revoked_at);
        jkey(j, "reason");
        jstr_or_null(j, o->reason);
        jkey(j, "this_update");
        jstr_or_null(j, o->this_update);
        jkey(j, "next_update");
        jstr_or_null(j, o->next_update);
        jkey(j, "verified");
        jlit(j, o->verified ? "true" : "false");
        jkey(j, "error");
        jstr_or_null(j, o->error);
        jlit(j, "}");
    }
    jkey(j, "scts");
    jlit(j, "[");
    for (i = 0; i < t->n_scts; i++) {
        jlit(j, i ? ",{\"source\":" : "{\"source\":");
        jstr_or_null(j, t->scts[i].source);
        jkey(j, "log_id");
        jstr_or_null(j, t->scts[i].log_id);
        jkey(j, "timestamp");
        jstr_or_null(j, t->scts[i].timestamp);
        jlit(j, "}");
    }
    jlit(j, "]");
    jkey(j, "sct_count");
    jnum(j, (long long)t->n_scts_total);
}

static void json_tls(struct hscan__sb *j, const hscan_tls_t *t)
{
    size_t i;

    if (!t) {
        jlit(j, "null");
        return;
    }
    jlit(j, "{\"version\":");
    jstr_or_null(j, t->version);
    jkey(j, "cipher");
    jstr_or_null(j, t->cipher);
    jkey(j, "alpn");
    jstr_or_null(j, t->alpn);
    jkey(j, "verified");
    jlit(j, t->verified ? "true" : "false");
    jkey(j, "verify_error");
    if (t->verified || !t->subject) {
        jlit(j, "null");
    } else {
        jlit(j, "{\"code\":");
        jnum(j, t->verify_code);
        jlit(j, ",\"text\":");
        jstr_or_null(j, t->verify_error);
        jlit(j, "}");
    }
    jkey(j, "subject");
    jstr_or_null(j, t->subject);
    jkey(j, "issuer");
    jstr_or_null(j, t->issuer);
    jkey(j, "san");
    jlit(j, "[");
    for (i = 0; i < t->n_san; i++) {
        if (i)
            jlit(j, ",");
        hscan__json_str(j, t->san[i],
                        t->san_len ? t->san_len[i] : strlen(t->san[i]));
    }
    jlit(j, "]");
    jkey(j, "serial");
    jstr_or_null(j, t->serial);
    jkey(j, "not_before");
    jstr_or_null(j, t->not_before);
    jkey(j, "not_after");
    jstr_or_null(j, t->not_after);
    jkey(j, "days_left");
    if (t->subject)
        jnum(j, t->days_left);
    else
        jlit(j, "null");            /* no certificate */
    jkey(j, "sha256");
    jstr_or_null(j, t->sha256);
    jkey(j, "spki_sha256");
    jstr_or_null(j, t->spki_sha256);
    jkey(j, "chain_len");
    jnum(j, t->chain_len);
    jkey(j, "san_count");
    jnum(j, (long long)t->n_san_total);
    jkey(j, "san_truncated");
    jlit(j, t->san_truncated ? "true" : "false");
    jkey(j, "alert");
    jstr_or_null(j, t->alert);
    json_tls_hello(j, t);
    json_chain(j, t);
    json_tls_ocsp(j, t);
    jlit(j, "}");
}

static void json_hops(struct hscan__sb *j, const hscan_result_t *r)
{
    size_t i;

    jlit(j, "[");
    for (i = 0; i < r->n_redirects; i++) {
        const hscan_hop_t *h = &r->redirects[i];
        jlit(j, i ? ",{\"url\":" : "{\"url\":");
        jstr_or_null(j, h->url);
        jkey(j, "status");
        jnum(j, h->status);
        jkey(j, "location");
        hscan__json_str(j, h->location, h->location_len);
        jkey(j, "ip");
        jstr_or_null(j, h->ip);
        jms(j, ",\"total_ms\":", h->total_ms);
        jlit(j, "}");
    }
    jlit(j, "]");
}

/* "body": what was read of it (cfg.body_bytes), or null. */
/* ---- the audit (lib/audit.c fills it) ---- */

/* A count or an age; -1, "unknown", is the only negative one: null. */
static void jcount(struct hscan__sb *j, long long v)
{
    if (v < 0)
        jlit(j, "null");
    else
        jnum(j, v);
}

static void jstate(struct hscan__sb *j, const char *key, int state)
{
    jlit(j, key);
    jlit(j, state == HSCAN_AUDIT_OK ? "\"ok\""
          : state == HSCAN_AUDIT_MISSING ? "\"missing\"" : "\"invalid\"");
}

static void jbool(struct hscan__sb *j, const char *key, int v)
{
    jlit(j, key);
    jlit(j, v ? "true" : "false");
}

/* A comma-separated list as a JSON array of strings. */
static void jlist(struct hscan__sb *j, const char *s)
{
    size_t n;

    jlit(j, "[");
    while (s && *s) {
        n = strcspn(s, ",");
        hscan__json_str(j, s, n);
        s += n;
        if (*s == ',') {
            jlit(j, ",");
            s++;
        }
    }
    jlit(j, "]");
}

void hscan__audit_json(struct hscan__sb *j, const hscan_audit_t *a)
{
    if (!a) {
        jlit(j, "null");
        return;
    }
    jlit(j, "{\"passed\":");
    jcount(j, a->passed);
    jlit(j, ",\"checks\":");
    jcount(j, a->checks);
    jlit(j, ",\"missing\":");
    jlist(j, a->missing);
    jstate(j, ",\"hsts\":", a->hsts);
    jlit(j, ",\"hsts_max_age\":");
    jcount(j, a->hsts_max_age);
    jbool(j, ",\"hsts_include_subdomains\":", a->hsts_include_subdomains);
    jbool(j, ",\"hsts_preload\":", a->hsts_preload);
    jstate(j, ",\"csp\":", a->csp);
    jbool(j, ",\"csp_frame_ancestors\":", a->csp_frame_ancestors);
    jstate(j, ",\"x_content_type_options\":", a->x_content_type_options);
    jstate(j, ",\"x_frame_options\":", a->x_frame_options);
    jstate(j, ",\"framing\":", a->framing);
    jstate(j, ",\"referrer_policy\":", a->referrer_policy);
    jstate(j, ",\"permissions_policy\":", a->permissions_policy);
    jlit(j, ",\"cookies\":{\"count\":");
    jcount(j, a->cookies);
    jlit(j, ",\"secure\":");
    jcount(j, a->cookies_secure);
    jlit(j, ",\"httponly\":");
    jcount(j, a->cookies_httponly);
    jlit(j, ",\"samesite\":");
    jcount(j, a->cookies_samesite);
    jlit(j, ",\"weak\":");
    jlist(j, a->weak_cookies);
    jlit(j, "}}");
}

/* cfg.hash beyond sha256: "md5" and "mmh3", each only when chosen. */
static void json_hashes(struct hscan__sb *j, const char *md5, int has_mmh3,
                        int32_t mmh3)
{
    if (md5) {
        jlit(j, ",\"md5\":");
        hscan__json_str(j, md5, strlen(md5));
    }
    if (has_mmh3) {
        jlit(j, ",\"mmh3\":");
        jnum(j, mmh3);
    }
}

static void json_body(struct hscan__sb *j, const hscan_result_t *r)
{
    jkey(j, "title");
    if (r->title)
        hscan__json_str(j, r->title, r->title_len);
    else
        jlit(j, "null");
    jkey(j, "body");
    if (!r->body_sha256 && !r->body_md5 && !r->has_body_mmh3) {
        jlit(j, "null");
        return;
    }
    jlit(j, "{\"bytes\":");
    jnum(j, (long long)r->body_len);
    jlit(j, r->body_truncated ? ",\"truncated\":true"
                              : ",\"truncated\":false");
    jlit(j, ",\"sha256\":");
    jstr_or_null(j, r->body_sha256);    /* null: not in cfg.hash */
    /* cfg.compressed: what came and how decoding went */
    if (r->body_decoding) {
        jlit(j, ",\"wire_bytes\":");
        jnum(j, (long long)r->body_wire_len);
        jkey(j, "encoding");
        jstr_or_null(j, r->body_encoding);
        jkey(j, "decode");
        jstr_or_null(j, r->body_decode);
    }
    /* ---- words and lines (match) ---- */
    jlit(j, ",\"words\":");
    jnum(j, r->body_words);
    jlit(j, ",\"lines\":");
    jnum(j, r->body_lines);
    json_hashes(j, r->body_md5, r->has_body_mmh3, r->body_mmh3);
    jlit(j, "}");
}

/* "favicon": the icon (cfg.favicon), only in records that have one. */
static void json_favicon(struct hscan__sb *j, const hscan_favicon_t *f)
{
    if (!f)
        return;
    jkey(j, "favicon");
    jlit(j, "{\"url\":");
    jstr_or_null(j, f->url);
    jlit(j, ",\"status\":");
    if (f->status)
        jnum(j, f->status);
    else
        jlit(j, "null");
    jlit(j, ",\"bytes\":");
    jnum(j, (long long)f->bytes);
    jlit(j, f->truncated ? ",\"truncated\":true" : ",\"truncated\":false");
    jlit(j, ",\"sha256\":");
    jstr_or_null(j, f->sha256);
    jlit(j, ",\"md5\":");
    jstr_or_null(j, f->md5);
    jlit(j, ",\"mmh3\":");
    if (f->has_mmh3)
        jnum(j, f->mmh3);
    else
        jlit(j, "null");
    jms(j, ",\"ms\":", f->ms);
    jlit(j, ",\"error\":");
    jstr_or_null(j, f->error ? hscan_err_name(f->error) : NULL);
    jlit(j, ",\"error_detail\":");
    jstr_or_null(j, f->error ? f->error_detail : NULL);
    jlit(j, "}");
}

/* "extracts": each key once, in the order keys first came, with its
 * values in order; absent without extractors (r->extracts NULL). */
static void json_extracts(struct hscan__sb *j, const hscan_result_t *r)
{
    size_t i, k;

    if (!r->extracts)
        return;
    jlit(j, ",\"extracts\":{\"values\":{");
    for (i = 0; i < r->n_extracts; i++) {
        const char *key = r->extracts[i].key;
        for (k = 0; k < i && strcmp(r->extracts[k].key, key) != 0; k++)
            ;
        if (k < i)
            continue;               /* written with its first */
        if (i)
            jlit(j, ",");
        hscan__json_str(j, key, strlen(key));
        jlit(j, ":[");
        for (k = i; k < r->n_extracts; k++) {
            if (strcmp(r->extracts[k].key, key) != 0)
                continue;
            if (k > i)
                jlit(j, ",");
            hscan__json_str(j, r->extracts[k].value,
                            r->extracts[k].value_len);
        }
        jlit(j, "]");
    }
    jlit(j, r->extracts_truncated ? "},\"truncated\":true}"
                                  : "},\"truncated\":false}");
}

size_t hscan_result_to_json(const hscan_result_t *r, char *buf, size_t size)
{
    struct hscan__sb j = { buf, size, 0 };

    if (!r || (!buf && size))
        return 0;
    jlit(&j, "{\"schema\":");
    jnum(&j, HSCAN_SCHEMA_VERSION);
    jkey(&j, "input");
    hscan__json_str(&j, r->input ? r->input : "", r->input_len);
    jkey(&j, "url");
    jstr_or_null(&j, r->url);
    jkey(&j, "scheme");
    jstr_or_null(&j, r->scheme);
    jkey(&j, "host");
    jstr_or_null(&j, r->host);
    jkey(&j, "ip");
    jstr_or_null(&j, r->ip);
    jkey(&j, "port");
    if (r->port > 0)
        jnum(&j, r->port);
    else
        jlit(&j, "null");
    json_response(&j, r);
    jkey(&j, "dns");
    if (r->dns_ms >= 0) {
        jlit(&j, "{\"addresses\":");
        jstr_list(&j, r->addresses, r->n_addresses);
        jlit(&j, ",\"cname\":");
        jstr_list(&j, r->cnames, r->n_cnames);
        jlit(&j, "}");
    } else {
        jlit(&j, "null");
    }
    jkey(&j, "content_type");
    if (r->content_type)
        hscan__json_str(&j, r->content_type, r->content_type_len);
    else
        jlit(&j, "null");
    jkey(&j, "content_length");
    if (r->content_length >= 0)
        jnum(&j, r->content_length);
    else
        jlit(&j, "null");
    json_body(&j, r);
    json_extracts(&j, r);
    json_favicon(&j, r->favicon);
    jkey(&j, "audit");
    hscan__audit_json(&j, r->audit);
    jkey(&j, "redirects");
    json_hops(&j, r);
    jkey(&j, "tls");
    json_tls(&j, r->tls);
    jkey(&j, "timing_ms");
    jms(&j, "{\"dns\":", r->dns_ms);
    jms(&j, ",\"connect\":", r->connect_ms);
    jms(&j, ",\"tls\":", r->tls_ms);
    jms(&j, ",\"ttfb\":", r->ttfb_ms);
    jms(&j, ",\"total\":", r->total_ms);
    jms(&j, ",\"proxy\":", r->proxy_ms);
    jlit(&j, "}");
    jkey(&j, "error");
    jstr_or_null(&j, r->error ? hscan_err_name(r->error) : NULL);
    jkey(&j, "error_detail");
    jstr_or_null(&j, r->error ? r->error_detail : NULL);
    jkey(&j, "fallback");
    if (r->fallback_error) {
        jlit(&j, "{\"scheme\":\"https\",\"error\":");
        jstr_or_null(&j, hscan_err_name(r->fallback_error));
        jkey(&j, "error_detail");
        jstr_or_null(&j, r->fallback_detail);
        jlit(&j, "}");
    } else {
        jlit(&j, "null");
    }
    jkey(&j, "h2");
    json_h2(&j, r->h2);
    jkey(&j, "proxy");
    jstr_or_null(&j, r->proxy);
    jkey(&j, "attempts");
    jnum(&j, r->attempts);
    /* only in scans with a path list: other records keep their size */
    if (r->path) {
        jkey(&j, "path");
        jstr_or_null(&j, r->path);
    }
    jlit(&j, "}");
    return hscan__sb_end(&j);
}

/* Scratch space for result views: grows to the largest record seen and is
 * reused, so emitting a result allocates nothing in the steady state. */
int hscan__scratch_reserve(struct hscan__scratch *s, size_t bytes,
                           size_t headers, size_t strings, size_t hops)
{
    if (hops > s->hops_cap) {
        hscan_hop_t *h = realloc(s->hops, hops * sizeof(*h));
        if (!h)
            return HSCAN_ENOMEM;
        s->hops = h;
        s->hops_cap = hops;
    }
    s->len = 0;
    if (bytes > s->cap) {
        char *b = realloc(s->buf, bytes);
        if (!b)
            return HSCAN_ENOMEM;
        s->buf = b;
        s->cap = bytes;
    }
    if (headers > s->hv_cap) {
        hscan_header_t *h = realloc(s->hv, headers * sizeof(*h));
        if (!h)
            return HSCAN_ENOMEM;
        s->hv = h;
        s->hv_cap = headers;
    }
    if (strings > s->sv_cap) {
        const char **v = realloc(s->sv, strings * sizeof(*v));
        if (!v)
            return HSCAN_ENOMEM;
        s->sv = v;
        s->sv_cap = strings;
    }
    return 0;
}

void hscan__scratch_free(struct hscan__scratch *s)
{
    free(s->buf);
    free(s->hv);
    free(s->sv);
    free(s->hops);
    hscan__md_free(&s->sha256);
    memset(s, 0, sizeof(*s));
}
