/* Result fields as text: hscan_result_field(), the CSV writer and
 * hscan_field_valid().
 *
 * One field's value is produced by one function (emit) that pushes its
 * bytes through a small writer.  The writer either copies them
 * (hscan_result_field), or only looks at them, or copies them with
 * quotes doubled: a CSV value is emitted twice, first to learn whether it
 * needs quoting (RFC 4180 2.6: the opening quote must come before the
 * first byte), then for real.  Emitting twice costs less than a scratch
 * copy would, and keeps both calls free of allocation and of any limit
 * on a value's length (a Location header may be megabytes long).
 *
 * Values are the bytes as received; nothing is escaped for a terminal or
 * a spreadsheet.  The meanings follow the JSON record (docs/results.md):
 * a key that is null there is the empty string here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "hscan.h"
#include "util.h"

enum field {
    FLD_ADDRESSES, FLD_ANOMALIES, FLD_AUDIT_MISSING, FLD_AUDIT_PASSED, FLD_BODY_SHA256,
    FLD_CNAMES, FLD_CONNECT_MS, FLD_CONTENT_LENGTH, FLD_CONTENT_TYPE,
    FLD_DNS_MS, FLD_ERROR, FLD_ERROR_DETAIL, FLD_FALLBACK_ERROR, FLD_FINAL_URL,
    FLD_HOST, FLD_HTTP_VERSION, FLD_ID, FLD_INPUT, FLD_IP, FLD_LOCATION,
    FLD_PATH, FLD_PORT, FLD_REASON, FLD_REDIRECTS, FLD_SCHEME, FLD_SERVER,
    FLD_STATUS,
    FLD_TITLE, FLD_TLS_CIPHER, FLD_TLS_DAYS_LEFT, FLD_TLS_ISSUER, FLD_TLS_MS,
    FLD_TLS_NOT_AFTER, FLD_TLS_SAN, FLD_TLS_SHA256, FLD_TLS_SUBJECT,
    FLD_TLS_VERIFIED, FLD_TLS_VERSION, FLD_TOTAL_MS, FLD_TTFB_MS, FLD_URL,
    FLD_HEADER          /* "header:NAME" */
};

/* Sorted by name for bsearch(); test-fields checks that every name in
 * HSCAN_FIELDS is found, which an unsorted table would break. */
static const struct field_name {
    const char *name;
    enum field id;
} names[] = {
    { "addresses", FLD_ADDRESSES }, { "anomalies", FLD_ANOMALIES },
    { "audit_missing", FLD_AUDIT_MISSING },
    { "audit_passed", FLD_AUDIT_PASSED }, { "body_sha256", FLD_BODY_SHA256 },
    { "cnames", FLD_CNAMES }, { "connect_ms", FLD_CONNECT_MS },
    { "content_length", FLD_CONTENT_LENGTH },
    { "content_type", FLD_CONTENT_TYPE }, { "dns_ms", FLD_DNS_MS },
    { "error", FLD_ERROR }, { "error_detail", FLD_ERROR_DETAIL },
    { "fallback_error", FLD_FALLBACK_ERROR }, { "final_url", FLD_FINAL_URL },
    { "host", FLD_HOST }, { "http_version", FLD_HTTP_VERSION },
    { "id", FLD_ID }, { "input", FLD_INPUT }, { "ip", FLD_IP },
    { "location", FLD_LOCATION }, { "path", FLD_PATH },
    { "port", FLD_PORT },
    { "reason", FLD_REASON }, { "redirects", FLD_REDIRECTS },
    { "scheme", FLD_SCHEME }, { "server", FLD_SERVER },
    { "status", FLD_STATUS }, { "title", FLD_TITLE },
    { "tls_cipher", FLD_TLS_CIPHER }, { "tls_days_left", FLD_TLS_DAYS_LEFT },
    { "tls_issuer", FLD_TLS_ISSUER }, { "tls_ms", FLD_TLS_MS },
    { "tls_not_after", FLD_TLS_NOT_AFTER }, { "tls_san", FLD_TLS_SAN },
    { "tls_sha256", FLD_TLS_SHA256 }, { "tls_subject", FLD_TLS_SUBJECT },
    { "tls_verified", FLD_TLS_VERIFIED }, { "tls_version", FLD_TLS_VERSION },
    { "total_ms", FLD_TOTAL_MS }, { "ttfb_ms", FLD_TTFB_MS },
    { "url", FLD_URL },
};

#define HEADER_PREFIX "header:"
#define HEADER_PREFIX_LEN 7

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, ((const struct field_name *)elem)->name);
}

/* The field `name` stands for; -1 when it is none. */
static int lookup(const char *name)
{
    const struct field_name *f;
    const char *t;

    if (!name)
        return -1;
    if (strncmp(name, HEADER_PREFIX, HEADER_PREFIX_LEN) == 0) {
        t = name + HEADER_PREFIX_LEN;
        if (!*t)
            return -1;
        for (; *t; t++)
            if (!hscan__is_tchar((unsigned char)*t))
                return -1;
        return FLD_HEADER;
    }
    f = bsearch(name, names, sizeof(names) / sizeof(names[0]),
                sizeof(names[0]), cmp_name);
    return f ? (int)f->id : -1;
}

int hscan_field_valid(const char *name)
{
    return lookup(name) >= 0;
}

/* ---- the writer ---- */

enum wmode {
    W_COPY,     /* bytes as they are */
    W_SCAN,     /* nothing written: note whether CSV quoting is needed */
    W_QUOTED    /* '"' doubled (inside a quoted CSV value) */
};

struct w {
    struct hscan__sb sb;
    enum wmode mode;
    int quote;              /* W_SCAN: the value needs quotes */
    size_t seen;            /* W_SCAN: bytes of the value so far */
    unsigned char last;     /* W_SCAN: its last byte */
};

static int csv_special(unsigned char c)
{
    return c == ',' || c == '"' || c == '\r' || c == '\n';
}

static void put(struct w *w, const char *s, size_t n)
{
    size_t i, run;

    if (n == 0)
        return;
    switch (w->mode) {
    case W_COPY:
        hscan__sb_put(&w->sb, s, n);
        break;
    case W_SCAN:
        /* A leading or trailing blank is quoted too: RFC 4180 keeps it,
         * but spreadsheet imports and some parsers trim unquoted ones. */
        if (w->seen == 0 && (s[0] == ' ' || s[0] == '\t'))
            w->quote = 1;
        for (i = 0; i < n && !w->quote; i++)
            if (csv_special((unsigned char)s[i]))
                w->quote = 1;
        w->seen += n;
        w->last = (unsigned char)s[n - 1];
        break;
    case W_QUOTED:
        for (i = 0, run = 0; i < n; i++) {
            if (s[i] != '"')
                continue;
            hscan__sb_put(&w->sb, s + run, i + 1 - run);
            hscan__sb_put(&w->sb, "\"", 1);     /* RFC 4180 2.7 */
            run = i + 1;
        }
        hscan__sb_put(&w->sb, s + run, n - run);
        break;
    }
}

static void put_str(struct w *w, const char *s)
{
    if (s)
        put(w, s, strlen(s));
}

static void put_uint(struct w *w, unsigned long long v)
{
    char t[20];
    put(w, t, hscan__utoa(t, v));
}

static void put_int(struct w *w, long long v)
{
    if (v < 0) {
        put(w, "-", 1);
        put_uint(w, 0ULL - (unsigned long long)v);
    } else {
        put_uint(w, (unsigned long long)v);
    }
}

/* As the JSON record's timing_ms: "%.3f", empty where it writes null. */
static void put_ms(struct w *w, double ms)
{
    char t[HSCAN__MS_SIZE];

    put(w, t, hscan__ms3(t, ms));
}

static void put_list(struct w *w, const char *const *v, const size_t *lens,
                     size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i)
            put(w, ",", 1);
        put(w, v[i], lens ? lens[i] : strlen(v[i]));
    }
}

static int name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;

    if (an != bn)
        return 0;
    for (i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

/* Values of header `name` (any case): every one joined by ", ", or with
 * `first` only the first, as a client that takes one value does. */
static void put_header(struct w *w, const hscan_result_t *r,
                       const char *name, size_t name_len, int first)
{
    size_t i, found = 0;

    for (i = 0; i < r->n_headers; i++) {
        const hscan_header_t *h = &r->headers[i];
        if (!name_eq(h->name, h->name_len, name, name_len))
            continue;
        if (found++)
            put(w, ", ", 2);
        put(w, h->value, h->value_len);
        if (first)
            return;
    }
}

static void emit_tls(struct w *w, const hscan_tls_t *t, int f)
{
    if (!t)
        return;
    switch (f) {
    case FLD_TLS_VERSION: put_str(w, t->version); break;
    case FLD_TLS_CIPHER: put_str(w, t->cipher); break;
    case FLD_TLS_VERIFIED: put_str(w, t->verified ? "true" : "false"); break;
    case FLD_TLS_SUBJECT: put_str(w, t->subject); break;
    case FLD_TLS_ISSUER: put_str(w, t->issuer); break;
    case FLD_TLS_SAN: put_list(w, t->san, t->san_len, t->n_san); break;
    case FLD_TLS_NOT_AFTER: put_str(w, t->not_after); break;
    case FLD_TLS_DAYS_LEFT:
        if (t->subject)             /* no certificate: no value */
            put_int(w, t->days_left);
        break;
    case FLD_TLS_SHA256: put_str(w, t->sha256); break;
    }
}

static void emit_response(struct w *w, const hscan_result_t *r, int f)
{
    switch (f) {
    case FLD_STATUS:
        if (r->status > 0)
            put_uint(w, (unsigned)r->status);
        break;
    case FLD_REASON:
        if (r->reason)
            put(w, r->reason, r->reason_len);
        break;
    case FLD_HTTP_VERSION:
        if (r->http_major >= 0) {
            put(w, "HTTP/", 5);
            put_uint(w, (unsigned)r->http_major);
            put(w, ".", 1);
            put_uint(w, (unsigned)(r->http_minor > 0 ? r->http_minor : 0));
        }
        break;
    case FLD_CONTENT_TYPE:
        if (r->content_type)
            put(w, r->content_type, r->content_type_len);
        break;
    case FLD_CONTENT_LENGTH:
        if (r->content_length >= 0)
            put_int(w, r->content_length);
        break;
    case FLD_TITLE:
        if (r->title)
            put(w, r->title, r->title_len);
        break;
    case FLD_BODY_SHA256: put_str(w, r->body_sha256); break;
    case FLD_SERVER: put_header(w, r, "server", 6, 1); break;
    case FLD_LOCATION: put_header(w, r, "location", 8, 1); break;
    case FLD_AUDIT_PASSED:
        if (r->audit) {
            put_int(w, r->audit->passed);
            put(w, "/", 1);
            put_int(w, r->audit->checks);
        }
        break;
    case FLD_AUDIT_MISSING:
        if (r->audit)
            put_str(w, r->audit->missing);
        break;
    }
}

/* The value of field `f`, named `name`, through `w`. */
static void emit(struct w *w, const hscan_result_t *r, int f,
                 const char *name)
{
    switch (f) {
    case FLD_ID:
        if (r->id)
            put_uint(w, r->id);
        break;
    case FLD_INPUT:
        if (r->input)
            put(w, r->input, r->input_len);
        break;
    /* The top-level url is already the final response's (the first one
     * requested is redirects[0].url): final_url is the same value, under
     * the name httpx users look for. */
    case FLD_URL:
    case FLD_FINAL_URL: put_str(w, r->url); break;
    case FLD_SCHEME: put_str(w, r->scheme); break;
    case FLD_HOST: put_str(w, r->host); break;
    case FLD_IP: put_str(w, r->ip); break;
    case FLD_PATH: put_str(w, r->path); break;
    case FLD_PORT:
        if (r->port > 0)
            put_uint(w, (unsigned)r->port);
        break;
    case FLD_REDIRECTS: put_uint(w, r->n_redirects); break;
    case FLD_ADDRESSES: put_list(w, r->addresses, NULL, r->n_addresses); break;
    case FLD_ANOMALIES: put_list(w, r->anomalies, NULL, r->n_anomalies); break;
    case FLD_CNAMES: put_list(w, r->cnames, NULL, r->n_cnames); break;
    case FLD_DNS_MS: put_ms(w, r->dns_ms); break;
    case FLD_CONNECT_MS: put_ms(w, r->connect_ms); break;
    case FLD_TLS_MS: put_ms(w, r->tls_ms); break;
    case FLD_TTFB_MS: put_ms(w, r->ttfb_ms); break;
    case FLD_TOTAL_MS: put_ms(w, r->total_ms); break;
    case FLD_ERROR:
        if (r->error)
            put_str(w, hscan_err_name(r->error));
        break;
    case FLD_ERROR_DETAIL:
        if (r->error)
            put_str(w, r->error_detail);
        break;
    case FLD_FALLBACK_ERROR:
        if (r->fallback_error)
            put_str(w, hscan_err_name(r->fallback_error));
        break;
    case FLD_HEADER:
        name += HEADER_PREFIX_LEN;
        put_header(w, r, name, strlen(name), 0);
        break;
    case FLD_TLS_VERSION: case FLD_TLS_CIPHER: case FLD_TLS_VERIFIED:
    case FLD_TLS_SUBJECT: case FLD_TLS_ISSUER: case FLD_TLS_SAN:
    case FLD_TLS_NOT_AFTER: case FLD_TLS_DAYS_LEFT: case FLD_TLS_SHA256:
        emit_tls(w, r->tls, f);
        break;
    default:
        emit_response(w, r, f);
    }
}

int hscan_result_field(const hscan_result_t *r, const char *name, char *buf,
                       size_t size, size_t *len)
{
    struct w w;
    int f = lookup(name);

    if (f < 0 || !r || (!buf && size))
        return HSCAN_EINVAL;
    memset(&w, 0, sizeof(w));
    w.sb.buf = buf;
    w.sb.size = size;
    w.mode = W_COPY;
    emit(&w, r, f, name);
    if (len)
        *len = hscan__sb_end(&w.sb);
    else
        hscan__sb_end(&w.sb);
    return 0;
}

/* One CSV value: the field's, or with `r` NULL the name itself. */
static void csv_value(struct w *w, const hscan_result_t *r, int f,
                      const char *name)
{
    w->mode = W_SCAN;
    w->quote = 0;
    w->seen = 0;
    if (r)
        emit(w, r, f, name);
    else
        put_str(w, name);
    if (w->seen && (w->last == ' ' || w->last == '\t'))
        w->quote = 1;
    w->mode = w->quote ? W_QUOTED : W_COPY;
    if (w->quote)
        hscan__sb_put(&w->sb, "\"", 1);
    if (r)
        emit(w, r, f, name);
    else
        put_str(w, name);
    if (w->quote)
        hscan__sb_put(&w->sb, "\"", 1);
}

size_t hscan_result_to_csv(const hscan_result_t *r,
                           const char *const *fields, size_t n, char *buf,
                           size_t size)
{
    struct w w;
    int f;
    size_t i;

    if ((!fields && n) || (!buf && size))
        return 0;
    for (i = 0; i < n; i++)
        if (lookup(fields[i]) < 0)
            return 0;
    memset(&w, 0, sizeof(w));
    w.sb.buf = buf;
    w.sb.size = size;
    for (i = 0; i < n; i++) {
        f = lookup(fields[i]);
        if (i)
            hscan__sb_put(&w.sb, ",", 1);
        csv_value(&w, r, f, fields[i]);
    }
    hscan__sb_put(&w.sb, "\r\n", 2);    /* RFC 4180 2.1 */
    return hscan__sb_end(&w.sb);
}
