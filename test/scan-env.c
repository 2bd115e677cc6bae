/* scan-env.c: the integration tests' shared scan environment, record
 * copies and checks (see scan-env.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "utf8-oracle.h"
#include "tsrv-net.h"
#include "server-capture.h"
#include "test-runner.h"

/* ---- a strict JSON validator (RFC 8259, UTF-8 checked) ---- */

static int json_value(const unsigned char **pp, int depth);

static void json_ws(const unsigned char **pp)
{
    while (**pp == ' ' || **pp == '\t' || **pp == '\n' || **pp == '\r')
        (*pp)++;
}

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int json_string(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    int i;

    if (*p++ != '"')
        return 0;
    for (;;) {
        unsigned char c = *p;
        size_t k;

        if (c == '"') {
            *pp = p + 1;
            return 1;
        }
        if (c < 0x20 || c == 0x7f)  /* control bytes, the NUL end too */
            return 0;
        if (c == '\\') {
            c = *++p;
            if (c == 'u') {
                for (i = 1; i <= 4; i++)
                    if (!is_hex(p[i]))
                        return 0;
                p += 5;
            } else if (c && strchr("\"\\/bfnrt", c)) {
                p++;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if ((k = oracle_utf8_len(p, 4)) == 0)
                return 0;
            p += k;
        } else {
            p++;
        }
    }
}

static int json_number(const unsigned char **pp)
{
    const unsigned char *p = *pp;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (is_digit(*p))
        while (is_digit(*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!is_digit(*++p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    *pp = p;
    return 1;
}

static int json_word(const unsigned char **pp, const char *w)
{
    size_t n = strlen(w);

    if (strncmp((const char *)*pp, w, n) != 0)
        return 0;
    *pp += n;
    return 1;
}

/* Elements of an object (close '}') or an array (close ']'). */
static int json_members(const unsigned char **pp, int depth, char close)
{
    json_ws(pp);
    if (**pp == (unsigned char)close) {
        (*pp)++;
        return 1;
    }
    for (;;) {
        json_ws(pp);
        if (close == '}') {
            if (!json_string(pp))
                return 0;
            json_ws(pp);
            if (*(*pp)++ != ':')
                return 0;
        }
        if (!json_value(pp, depth + 1))
            return 0;
        json_ws(pp);
        if (**pp == ',') {
            (*pp)++;
            continue;
        }
        if (**pp != (unsigned char)close)
            return 0;
        (*pp)++;
        return 1;
    }
}

static int json_value(const unsigned char **pp, int depth)
{
    if (depth > 32)
        return 0;
    json_ws(pp);
    switch (**pp) {
    case '{':
    case '[':
        (*pp)++;
        return json_members(pp, depth, (*pp)[-1] == '{' ? '}' : ']');
    case '"':
        return json_string(pp);
    case 't':
        return json_word(pp, "true");
    case 'f':
        return json_word(pp, "false");
    case 'n':
        return json_word(pp, "null");
    default:
        return json_number(pp);
    }
}

/* 1 when `s` is exactly one valid JSON object. */
int json_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    json_ws(&p);
    if (*p != '{' || !json_value(&p, 0))
        return 0;
    json_ws(&p);
    return *p == '\0';
}

/* ---- copies of result views ---- */

void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0, i;

    CHECK(EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) == 1);
    for (i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

char *dup_mem(const char *p, size_t n)
{
    char *d = malloc(n + 1);

    CHECK(d != NULL);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

char *dup_str(const char *s)
{
    return s ? dup_mem(s, strlen(s)) : NULL;
}

static char **dup_list(const char *const *v, size_t n)
{
    char **d = calloc(n + 1, sizeof(*d));
    size_t i;

    CHECK(d != NULL);
    for (i = 0; i < n; i++) {
        CHECK(v[i] != NULL);
        d[i] = dup_str(v[i]);
    }
    return d;
}

static void free_list(char **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void tls_free(struct tls_rec *t)
{
    size_t i;

    if (!t)
        return;
    free(t->version);
    free(t->cipher);
    free(t->alpn);
    free(t->verify_error);
    free(t->subject);
    free(t->issuer);
    free_list(t->san, t->n_san);
    free(t->serial);
    free(t->not_before);
    free(t->not_after);
    free(t->sha256);
    free(t->spki_sha256);
    free(t->alert);
    free(t->group);
    free(t->sigalg);
    free(t->ja3s);
    free(t->ja4s);
    free(t->earliest_not_after);
    for (i = 0; t->chain && i < t->n_chain; i++) {
        struct cert_rec *c = &t->chain[i];
        free(c->subject);
        free(c->issuer);
        free(c->serial);
        free(c->not_before);
        free(c->not_after);
        free(c->sha256);
        free(c->spki_sha256);
        free(c->key_type);
        free(c->sig_alg);
    }
    free(t->chain);
    if (t->verified_chain)
        free_list(t->verified_chain, t->n_verified_chain);
    free(t);
}

static void hops_free(struct hop_rec *h, size_t n)
{
    size_t i;

    for (i = 0; h && i < n; i++) {
        free(h[i].url);
        free(h[i].location);
        free(h[i].ip);
    }
    free(h);
}

void rec_free(struct rec *r)
{
    size_t i;

    free(r->detail);
    free(r->input);
    free(r->url);
    free(r->scheme);
    free(r->host);
    free(r->ip);
    free(r->path);
    free(r->reason);
    for (i = 0; i < r->n_hdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free_list(r->addrs, r->n_addrs);
    free_list(r->cnames, r->n_cnames);
    tls_free(r->tls);
    hops_free(r->hops, r->n_hops);
    free(r->fallback_detail);
    free(r->json);
    free(r->ctype);
    free(r->body);
    free(r->body_sha256);
    free(r->title);
    free(r->audit_missing);
    free(r->audit_weak);
    free(r->body_encoding);
    free(r->body_decode);
    r->body_encoding = r->body_decode = NULL;
    r->ctype = r->body = r->body_sha256 = r->title = NULL;
    r->audit_missing = r->audit_weak = NULL;
    r->tls = NULL;
    r->hops = NULL;
    r->n_hops = 0;
    r->fallback_detail = NULL;
}

/* The whole chain, and hscan.h's promises about it: no certificate,
 * no earliest expiry; a verified path only when verified, with the
 * chain; a truncated chain holds HSCAN_TLS_CHAIN_MAX. */
static void chain_copy(struct tls_rec *d, const hscan_tls_t *t)
{
    size_t i;

    d->earliest_not_after = dup_str(t->earliest_not_after);
    d->earliest_days_left = t->earliest_days_left;
    d->chain_truncated = t->chain_truncated;
    if (!t->subject)
        CHECK(!t->earliest_not_after && t->n_chain == 0 &&
              !t->verified_chain);
    if (!t->earliest_not_after)
        CHECK(t->earliest_days_left == 0);
    CHECK(!t->verified_chain || (t->verified && t->chain));
    CHECK(t->n_chain <= HSCAN_TLS_CHAIN_MAX &&
          t->n_verified_chain <= HSCAN_TLS_CHAIN_MAX);
    if (t->chain) {
        CHECK(t->n_chain == (size_t)t->chain_len ||
              (t->chain_truncated && t->n_chain == HSCAN_TLS_CHAIN_MAX));
        d->chain = calloc(t->n_chain + 1, sizeof(*d->chain));
        CHECK(d->chain != NULL);
    }
    for (i = 0; t->chain && i < t->n_chain; i++) {
        const hscan_cert_t *c = &t->chain[i];
        struct cert_rec *r = &d->chain[i];
        r->subject = dup_str(c->subject);
        r->issuer = dup_str(c->issuer);
        r->serial = dup_str(c->serial);
        r->not_before = dup_str(c->not_before);
        r->not_after = dup_str(c->not_after);
        r->sha256 = dup_str(c->sha256);
        r->spki_sha256 = dup_str(c->spki_sha256);
        r->key_type = dup_str(c->key_type);
        r->sig_alg = dup_str(c->sig_alg);
        r->key_bits = c->key_bits;
        r->is_ca = c->is_ca;
    }
    d->n_chain = t->chain ? t->n_chain : 0;
    if (t->verified_chain) {
        d->verified_chain = dup_list(t->verified_chain, t->n_verified_chain);
        d->n_verified_chain = t->n_verified_chain;
    }
}

static struct tls_rec *tls_copy(const hscan_tls_t *t)
{
    struct tls_rec *d;

    if (!t)
        return NULL;
    d = calloc(1, sizeof(*d));
    CHECK(d != NULL);
    d->version = dup_str(t->version);
    d->cipher = dup_str(t->cipher);
    d->alpn = dup_str(t->alpn);
    d->verified = t->verified;
    d->verify_code = t->verify_code;
    d->verify_error = dup_str(t->verify_error);
    d->subject = dup_str(t->subject);
    d->issuer = dup_str(t->issuer);
    CHECK(t->n_san == 0 || t->san != NULL);
    d->san = dup_list(t->san, t->n_san);
    d->n_san = t->n_san;
    d->serial = dup_str(t->serial);
    d->not_before = dup_str(t->not_before);
    d->not_after = dup_str(t->not_after);
    d->days_left = t->days_left;
    d->sha256 = dup_str(t->sha256);
    d->spki_sha256 = dup_str(t->spki_sha256);
    d->chain_len = t->chain_len;
    d->n_san_total = t->n_san_total;
    d->san_truncated = t->san_truncated;
    d->alert = dup_str(t->alert);
    d->alert_code = t->alert_code;
    d->group = dup_str(t->group);
    d->sigalg = dup_str(t->sigalg);
    d->ticket = t->ticket;
    d->hello_retry = t->hello_retry;
    CHECK(t->n_extensions <= 32);
    CHECK(t->n_extensions == 0 || t->extensions != NULL);
    if (t->n_extensions)
        memcpy(d->extensions, t->extensions,
               t->n_extensions * sizeof(t->extensions[0]));
    d->n_extensions = t->n_extensions;
    d->ja3s = dup_str(t->ja3s);
    d->ja4s = dup_str(t->ja4s);
    /* The header's promises: a verified certificate has code 0 and no
     * text, a failed one the other way round, no certificate (no
     * subject) code -1, no text and no other certificate fact; a
     * version comes with a cipher; the SANs kept are the first of those
     * counted; an alert has a name and a number. */
    CHECK((t->verified != 0) == (t->verify_code == 0));
    CHECK((t->verified != 0 || t->subject == NULL) ==
          (t->verify_error == NULL));
    CHECK((t->subject == NULL) == (t->verify_code == -1));
    if (!t->subject)
        CHECK(!t->verified && !t->issuer && !t->sha256 && !t->spki_sha256 &&
              !t->serial && !t->not_after && t->n_san_total == 0 &&
              t->chain_len == 0 && t->days_left == 0);
    CHECK((t->version == NULL) == (t->cipher == NULL));
    CHECK(t->n_san <= t->n_san_total);
    CHECK((t->san_truncated != 0) == (t->n_san < t->n_san_total));
    CHECK((t->alert == NULL) == (t->alert_code < 0));
    /* Fingerprints come from a parsed hello, both or neither; JA4S
     * counts what the list holds (at most 32 kept). */
    CHECK((t->ja3s == NULL) == (t->ja4s == NULL));
    if (t->ja3s) {
        char n[3];
        snprintf(n, sizeof(n), "%02zu", t->n_extensions);
        CHECK(strlen(t->ja3s) == 32 && strlen(t->ja4s) == 25);
        CHECK(t->ja4s[0] == 't' && memcmp(t->ja4s + 3, n, 2) == 0);
    }
    /* Something came back in TLS: a hello, or at least an alert. */
    CHECK(t->version != NULL || t->alert != NULL);
    chain_copy(d, t);
    return d;
}

static struct hop_rec *hops_copy(const hscan_hop_t *h, size_t n)
{
    struct hop_rec *d = calloc(n + 1, sizeof(*d));
    size_t i;

    CHECK(d != NULL);
    CHECK(n == 0 || h != NULL);
    for (i = 0; i < n; i++) {
        d[i].url = dup_str(h[i].url);
        d[i].status = h[i].status;
        CHECK(h[i].location_len == 0 || h[i].location != NULL);
        d[i].location = dup_mem(h[i].location ? h[i].location : "",
                                h[i].location_len);
        d[i].location_len = h[i].location_len;
        d[i].ip = dup_str(h[i].ip);
        d[i].total_ms = h[i].total_ms;
    }
    return d;
}

/* The JSON line: snprintf semantics, and valid JSON whatever bytes the
 * server sent. */
static void json_copy(struct rec *d, const hscan_result_t *r)
{
    size_t n = hscan_result_to_json(r, NULL, 0);

    d->json = malloc(n + 1);
    CHECK(d->json != NULL);
    CHECK_INT(hscan_result_to_json(r, d->json, n + 1), n);
    CHECK_INT(strlen(d->json), n);
    if (!json_valid(d->json)) {
        fprintf(stderr, "  invalid JSON: %s\n", d->json);
        CHECK(!"JSON record is valid");
    }
    if (n > 8) {
        char small[8];
        CHECK_INT(hscan_result_to_json(r, small, sizeof(small)), n);
        CHECK(small[7] == '\0' && memcmp(small, d->json, 7) == 0);
    }
    /* (",\"tls\":null," alone also matches the timing object's key) */
    CHECK((strstr(d->json, ",\"tls\":null,\"timing_ms\"") != NULL) ==
          (r->tls == NULL));
    if (r->tls) {
        char want[96];
        snprintf(want, sizeof(want), "\"san_count\":%zu,"
                 "\"san_truncated\":%s,\"alert\":", r->tls->n_san_total,
                 r->tls->san_truncated ? "true" : "false");
        CHECK(strstr(d->json, want) != NULL);
        snprintf(want, sizeof(want), "\"ticket\":%s,\"hello_retry\":%s,"
                 "\"extensions\":[", r->tls->ticket ? "true" : "false",
                 r->tls->hello_retry ? "true" : "false");
        CHECK(strstr(d->json, want) != NULL);
        CHECK(strstr(d->json, ",\"earliest_not_after\":") != NULL);
        CHECK((strstr(d->json, ",\"chain\":[") != NULL) ==
              (r->tls->chain != NULL));
        CHECK((strstr(d->json, ",\"ocsp\":null,\"scts\":[") != NULL) ==
              !r->tls->ocsp.stapled);
        snprintf(want, sizeof(want), ",\"sct_count\":%zu}",
                 r->tls->n_scts_total);
        CHECK(strstr(d->json, want) != NULL);
        CHECK(r->tls->n_scts <= r->tls->n_scts_total);
    }
    CHECK((strstr(d->json, ",\"fallback\":null,") != NULL) ==
          (r->fallback_error == 0));
    CHECK((strstr(d->json, ",\"h2\":null,") != NULL) == (r->h2 == NULL));
    CHECK((strstr(d->json, ",\"proxy\":null,") != NULL) ==
          (r->proxy == NULL));
    {
        char want[40];
        snprintf(want, sizeof(want), ",\"attempts\":%u%s", r->attempts,
                 r->path ? ",\"path\":" : "}");
        CHECK(strstr(d->json, want) != NULL);
    }
    /* "favicon" right after "body", and only with cfg.favicon */
    CHECK((strstr(d->json, ",\"favicon\":{\"url\":") != NULL) ==
          (r->favicon != NULL));
    CHECK((strstr(d->json, ",\"md5\":\"") != NULL) ==
          (r->body_md5 != NULL || (r->favicon && r->favicon->md5)));
    /* cfg.compressed: decode's keys right after the body's sha256 */
    CHECK((strstr(d->json, ",\"wire_bytes\":") != NULL) ==
          (r->body_decoding != 0));
    /* the record's last key, and only with a path list */
    CHECK((strstr(d->json, ",\"path\":\"/") != NULL) == (r->path != NULL));
    CHECK((strstr(d->json, ",\"redirects\":[],") != NULL) ==
          (r->n_redirects == 0));
    if (getenv("HSCAN_TEST_SHOW"))  /* every record, for debugging */
        fprintf(stderr, "  %s\n", d->json);
}

/* Content and body facts, and the audit, with their documented
 * invariants. */
static void body_copy(struct rec *d, const hscan_result_t *r)
{
    d->id = r->id;
    d->ctype = r->content_type ? dup_mem(r->content_type,
                                         r->content_type_len) : NULL;
    d->clen = r->content_length;
    CHECK(r->content_length >= -1);
    /* body_len counts the bytes read, kept (cfg.body_keep) or not */
    CHECK(r->body == NULL || r->body_len > 0);
    d->body = r->body ? dup_mem(r->body, r->body_len) : NULL;
    d->body_len = r->body_len;
    d->body_truncated = r->body_truncated;
    d->body_sha256 = dup_str(r->body_sha256);
    CHECK(r->body_sha256 == NULL || strlen(r->body_sha256) == 64);
    CHECK(r->body_sha256 != NULL || (r->body == NULL && r->body_len == 0));
    /* ---- words, lines (match): counted when a body was read ---- */
    CHECK(r->body_words >= -1 && r->body_lines >= -1 &&
          r->body_words <= (long long)r->body_len + 1 &&
          r->body_lines <= (long long)r->body_len + 1);
    CHECK((r->body_words < 0) == (r->body_lines < 0));
    CHECK(r->body_sha256 == NULL || r->body_words >= 0);
    CHECK(r->filtered == (r->filtered_by >= 0));
    d->filtered = r->filtered;
    d->filtered_by = r->filtered_by;
    CHECK(r->title == NULL || r->body_len > 0);
    CHECK(r->title == NULL || r->title_len <= r->body_len);
    d->title = r->title ? dup_mem(r->title, r->title_len) : NULL;
    d->title_len = r->title_len;
    /* cfg.compressed: only with a body read; wire bytes bounded */
    CHECK(!r->body_decoding || r->body_sha256 != NULL);
    CHECK(r->body_decoding || (!r->body_wire_len && !r->body_encoding &&
                               !r->body_decode));
    CHECK(!r->body_decoding || r->body_decode != NULL ||
          r->body_wire_len == r->body_len);
    d->body_decoding = r->body_decoding;
    d->body_wire_len = r->body_wire_len;
    d->body_encoding = dup_str(r->body_encoding);
    d->body_decode = dup_str(r->body_decode);
    d->has_audit = r->audit != NULL;
    if (r->audit) {
        d->audit = *r->audit;
        d->audit_missing = dup_str(r->audit->missing);
        d->audit_weak = dup_str(r->audit->weak_cookies);
        d->audit.missing = d->audit.weak_cookies = NULL;
    }
}

void rec_copy(struct rec *d, const hscan_result_t *r)
{
    size_t i;

    rec_free(d);
    d->error = r->error;
    d->detail = dup_str(r->error_detail);
    d->input = r->input ? dup_mem(r->input, r->input_len) : NULL;
    d->url = dup_str(r->url);
    d->scheme = dup_str(r->scheme);
    d->host = dup_str(r->host);
    d->ip = dup_str(r->ip);
    d->path = dup_str(r->path);
    d->port = r->port;
    d->status = r->status;
    d->reason = r->reason ? dup_mem(r->reason, r->reason_len) : NULL;
    d->reason_len = r->reason_len;
    d->major = r->http_major;
    d->minor = r->http_minor;
    d->n_hdrs = r->n_headers;
    d->hdrs = calloc(r->n_headers + 1, sizeof(*d->hdrs));
    CHECK(d->hdrs != NULL);
    CHECK(r->n_headers == 0 || r->headers != NULL);
    for (i = 0; i < r->n_headers; i++) {
        d->hdrs[i].name = dup_mem(r->headers[i].name, r->headers[i].name_len);
        d->hdrs[i].name_len = r->headers[i].name_len;
        d->hdrs[i].value = dup_mem(r->headers[i].value,
                                   r->headers[i].value_len);
        d->hdrs[i].value_len = r->headers[i].value_len;
    }
    CHECK(r->n_addresses == 0 || r->addresses != NULL);
    CHECK(r->n_cnames == 0 || r->cnames != NULL);
    d->n_addrs = r->n_addresses;
    d->addrs = dup_list(r->addresses, r->n_addresses);
    d->n_cnames = r->n_cnames;
    d->cnames = dup_list(r->cnames, r->n_cnames);
    d->dns_ms = r->dns_ms;
    d->connect_ms = r->connect_ms;
    d->tls_ms = r->tls_ms;
    d->ttfb_ms = r->ttfb_ms;
    d->total_ms = r->total_ms;
    d->tls = tls_copy(r->tls);
    d->n_hops = r->n_redirects;
    d->hops = hops_copy(r->redirects, r->n_redirects);
    d->fallback_error = r->fallback_error;
    d->attempts = r->attempts;
    d->fallback_detail = dup_str(r->fallback_detail);
    /* "0 and NULL when there was no fallback", and only https falls
     * back. */
    CHECK((r->fallback_error == 0) == (r->fallback_detail == NULL));
    CHECK(r->fallback_error <= 0);
    CHECK(r->fallback_error == 0 || r->n_redirects > 0 ||
          (r->scheme && strcmp(r->scheme, "http") == 0));
    body_copy(d, r);
    json_copy(d, r);
}

/* ---- one scan on its own loop ---- */

void env_init(struct env *e)
{
    memset(e, 0, sizeof(*e));
    CHECK(uv_loop_init(&e->loop) == 0);
    CHECK(tsrv_dns_start(&e->loop, "127.0.0.1", 0, &e->dns) == 0);
    CHECK(tsrv_http_start(&e->loop, "127.0.0.1", 0, &e->http) == 0);
    e->dport = tsrv_dns_port(e->dns);
    e->hport = tsrv_http_port(e->http);
    CHECK(e->dport > 0 && e->hport > 0);
    snprintf(e->resolvers, sizeof(e->resolvers), "127.0.0.1:%d", e->dport);
    hscan_config_init(&e->cfg);
    e->cfg.scheme = HSCAN_SCHEME_HTTP;  /* plain-HTTP servers */
    e->cfg.resolvers = e->resolvers;
    e->cfg.timeout_ms = 3000;
    e->cfg.dns_timeout_ms = 1500;
    e->cfg.connect_timeout_ms = 1500;
    e->cfg.read_timeout_ms = 1000;
}

unsigned slow_factor(void)
{
#if defined(__SANITIZE_ADDRESS__)
    const unsigned sanitized = 3;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    const unsigned sanitized = 3;
#else
    const unsigned sanitized = 1;
#endif
#else
    const unsigned sanitized = 1;
#endif

    return getenv("HSCAN_UNDER_VALGRIND") ? 10 : sanitized;
}

void env_stretch(struct env *e)
{
    unsigned f = slow_factor();

    e->cfg.timeout_ms *= f;
    e->cfg.dns_timeout_ms *= f;
    e->cfg.connect_timeout_ms *= f;
    e->cfg.tls_timeout_ms *= f;
    e->cfg.read_timeout_ms *= f;
}

void env_init_tls(struct env *e)
{
    int fd;

    env_init(e);
    snprintf(e->ca_path, sizeof(e->ca_path), "/tmp/hscan-test-ca-XXXXXX");
    fd = mkstemp(e->ca_path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(tsrv_tls_start(&e->loop, "127.0.0.1", 0, e->ca_path,
                         &e->tls) == 0);
    e->tport = tsrv_tls_port(e->tls);
    CHECK(e->tport > 0);
    e->cfg.ca_file = e->ca_path;
    e->cfg.tls_timeout_ms = 1500;
    e->allow_tls = 1;
}

int line_skipped(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0' || *s == '#';
}

static unsigned per_line(const struct env *e)
{
    return e->per_line ? e->per_line : 1;
}

struct rec *env_rec(struct env *e, size_t i, unsigned k)
{
    CHECK(i < e->n && k < per_line(e));
    return &e->recs[i * per_line(e) + k];
}

struct rec *env_rec_scheme(struct env *e, size_t i, const char *scheme)
{
    unsigned k;

    for (k = 0; k < per_line(e); k++) {
        struct rec *r = env_rec(e, i, k);
        if (r->got && r->scheme && strcmp(r->scheme, scheme) == 0)
            return r;
    }
    return NULL;
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    struct env *e = arg;
    uintptr_t i = (uintptr_t)r->udata;
    unsigned k = 0;
    struct rec *d;

    (void)scan;
    e->results++;
    if (e->drained)
        e->late++;
    CHECK(i < e->n);
    CHECK(r->error <= 0);
    CHECK(strcmp(hscan_err_name(r->error), "unknown_error") != 0);
    CHECK(r->total_ms >= 0);
    /* Plain HTTP never has TLS facts or time (after a fallback or a
     * redirect to http neither: they describe the last connection). */
    if (!e->allow_tls || !r->scheme || strcmp(r->scheme, "http") == 0) {
        CHECK(r->tls_ms == -1);
        CHECK(r->tls == NULL);
    }
    while (k + 1 < per_line(e) && env_rec(e, i, k)->got)
        k++;
    d = env_rec(e, i, k);
    d->got++;
    rec_copy(d, r);
}

static void on_closed(hscan_t *scan, void *arg)
{
    struct env *e = arg;

    (void)scan;
    e->closed++;
}

static void on_drained(hscan_t *scan, void *arg)
{
    struct env *e = arg;

    e->drained++;
    hscan_stats(scan, &e->stats);
    CHECK(hscan_close(scan, on_closed) == 0);
    e->dns_queries = tsrv_dns_queries(e->dns);
    tsrv_dns_stop(e->dns);
    tsrv_http_stop(e->http);
    if (e->tls) {
        e->tls_handshakes = tsrv_tls_handshakes(e->tls);
        tsrv_tls_stop(e->tls);
    }
    if (e->on_stop)
        e->on_stop(e->stop_arg);
}

static unsigned line_results(struct env *e, size_t i)
{
    unsigned k, n = 0;

    for (k = 0; k < per_line(e); k++)
        n += (unsigned)env_rec(e, i, k)->got;
    return n;
}

static void on_deadline(uv_timer_t *t)
{
    struct env *e = t->data;
    size_t i;

    fprintf(stderr, "  deadline: %u results, drained %u\n", e->results,
            e->drained);
    for (i = 0; i < e->n; i++)
        if (line_results(e, i) < per_line(e) && !line_skipped(e->lines[i]))
            fprintf(stderr, "  %u results for \"%s\"\n",
                    line_results(e, i), e->lines[i]);
    if (e->ca_path[0])
        unlink(e->ca_path);
    CHECK(!"scan finished before the deadline");
}

static void check_counts(struct env *e)
{
    size_t i;
    unsigned k, want;

    CHECK_INT(e->drained, 1);
    CHECK_INT(e->closed, 1);
    CHECK_INT(e->late, 0);
    for (i = 0; i < e->n; i++) {
        want = line_skipped(e->lines[i]) ? 0 : per_line(e);
        if (line_results(e, i) != want)
            fprintf(stderr, "  \"%s\": %u results\n", e->lines[i],
                    line_results(e, i));
        CHECK_INT(line_results(e, i), want);
        for (k = 0; k < want; k++)
            CHECK_INT(env_rec(e, i, k)->got, 1);
    }
}

void env_scan(struct env *e, const char *const *lines, size_t n)
{
    hscan_t *scan = NULL;
    size_t i;

    e->lines = lines;
    e->n = n;
    e->recs = calloc(n * per_line(e) + 1, sizeof(*e->recs));
    CHECK(e->recs != NULL);
    e->cfg.on_result = on_result;
    e->cfg.on_drained = on_drained;
    e->cfg.arg = e;
    CHECK(hscan_new(&scan, &e->loop, &e->cfg) == 0);
    for (i = 0; i < n; i++)
        CHECK(hscan_submit_ex(scan, lines[i],
                              e->lens ? e->lens[i] : strlen(lines[i]),
                              (void *)(uintptr_t)i,
                              e->opts ? e->opts[i] : NULL, NULL) == 0);
    CHECK(hscan_end_input(scan) == 0);
    CHECK(e->results == 0);

    CHECK(uv_timer_init(&e->loop, &e->deadline) == 0);
    e->deadline.data = e;
    /* (under valgrind the runner's alarm is the guard that remains) */
    CHECK(uv_timer_start(&e->deadline, on_deadline,
                         (uint64_t)DEADLINE_MS * slow_factor(), 0) == 0);
    uv_unref((uv_handle_t *)&e->deadline);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&e->deadline, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&e->loop) == 0);
    if (e->ca_path[0])
        unlink(e->ca_path);
    check_counts(e);
}

void env_done(struct env *e)
{
    size_t i;

    for (i = 0; i < e->n * per_line(e); i++)
        rec_free(&e->recs[i]);
    free(e->recs);
    e->recs = NULL;
}

/* ---- extra servers and handles ---- */

static void extra_stop(void *arg)
{
    struct extra *x = arg;
    int i;

    if (x->http)
        tsrv_http_stop(x->http);
    if (x->tls)
        tsrv_tls_stop(x->tls);
    for (i = 0; i < x->n_refused; i++)
        uv_close((uv_handle_t *)&x->refused[i], NULL);
    for (i = 0; i < 2; i++)
        if (x->caps[i])
            cap_stop(x->caps[i]);
}

void env_extra(struct env *e, struct extra *x)
{
    memset(x, 0, sizeof(*x));
    e->on_stop = extra_stop;
    e->stop_arg = x;
}

int bind_refused(uv_loop_t *loop, uv_tcp_t *t, const char *ip, int port)
{
    CHECK(uv_tcp_init(loop, t) == 0);
    return tsrv_tcp_bind(t, ip, port);
}

int extra_refused(struct env *e, struct extra *x, const char *ip, int port)
{
    return bind_refused(&e->loop, &x->refused[x->n_refused++], ip, port);
}

/* ---- record checks ---- */

void show(const struct rec *r)
{
    fprintf(stderr, "  record: %s\n", r->json ? r->json : "(none)");
}

void check_hdr(const struct rec *r, size_t i, const char *name,
               const char *value)
{
    int ok = i < r->n_hdrs && r->hdrs[i].name_len == strlen(name) &&
             memcmp(r->hdrs[i].name, name, strlen(name)) == 0 &&
             r->hdrs[i].value_len == strlen(value) &&
             memcmp(r->hdrs[i].value, value, strlen(value)) == 0;

    if (!ok) {
        fprintf(stderr, "  header %zu: expected [%s: %s]\n", i, name,
                value);
        show(r);
    }
    CHECK(ok);
}

long find_hdr(const struct rec *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_hdrs; i++)
        if (r->hdrs[i].name_len == strlen(name) &&
            strncasecmp(r->hdrs[i].name, name, strlen(name)) == 0)
            return (long)i;
    return -1;
}

void check_list(char **got, size_t n, const char *const *want,
                size_t n_want)
{
    size_t i;

    CHECK_INT(n, n_want);
    for (i = 0; i < n_want; i++)
        CHECK_STR(got[i], want[i]);
}

void check_fast_headers(const struct rec *r)
{
    CHECK_INT(r->n_hdrs, 5);
    check_hdr(r, 0, "Server", "hscan-test");
    check_hdr(r, 1, "Content-Type", "text/html");
    check_hdr(r, 2, "X-Dup", "1");
    check_hdr(r, 3, "X-Dup", "2");
    check_hdr(r, 4, "Content-Length", "32");
}

void check_no_response(const struct rec *r)
{
    CHECK_INT(r->status, 0);
    CHECK(r->reason == NULL);
    CHECK_INT(r->major, -1);
    CHECK_INT(r->n_hdrs, 0);
    CHECK(r->ttfb_ms == -1);
}

char *fmt(char *buf, size_t size, const char *f, int port)
{
    snprintf(buf, size, f, port);
    return buf;
}
