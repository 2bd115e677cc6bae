/* Internals shared between lib/ files.  Nothing here is public API. */
#ifndef HSCAN_INTERNAL_H
#define HSCAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <ares.h>
#include <llhttp.h>
#include <openssl/ssl.h>

#include "hscan.h"

#define container_of(ptr, type, member)                                     \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define HSCAN__MAX_ADDRS 16     /* addresses kept per lookup */
#define HSCAN__MAX_CNAMES 16    /* CNAME hops kept per lookup */
#define HSCAN__MAX_LINE 8192    /* longest input line accepted */
#define HSCAN__DETAIL_SIZE 192
#define HSCAN__MAX_BODY (16u << 20) /* cfg.body_bytes at most */
#define HSCAN__AUDIT_STRBUF 600     /* see audit.c below */

/* ---- result.c: small formatting by hand, for the per-host path ---- */

/* Decimal digits of `v` into `out` (room for 20), no NUL; returns the
 * count. */
size_t hscan__utoa(char *out, unsigned long long v);

/* Milliseconds `ms` with three decimals, as "%.3f" would print them
 * ("%.17g" from 1e12 on, where "%.3f" would run to 300 digits), into
 * `out` (room for HSCAN__MS_SIZE), no NUL; returns the count, 0 for a
 * NaN, an infinity or a negative value (JSON null, an empty field). */
#define HSCAN__MS_SIZE 48
size_t hscan__ms3(char *out, double ms);

/* snprintf-style appending: writes what fits in `size` (leaving room for
 * a NUL), counts everything in `len`. */
struct hscan__sb {
    char *buf;
    size_t size, len;
};
void hscan__sb_put(struct hscan__sb *b, const char *s, size_t n);
void hscan__sb_str(struct hscan__sb *b, const char *s);
void hscan__sb_uint(struct hscan__sb *b, unsigned long long v);
/* NUL-terminate (when size > 0) and return the full length. */
size_t hscan__sb_end(struct hscan__sb *b);

/* ---- target.c: one input line ---- */

enum { HSCAN__HTTP = 1, HSCAN__HTTPS = 2 };

struct hscan__target {
    int scheme;         /* HSCAN__HTTP/HTTPS, or 0 when the line has none */
    const char *host;   /* points into the line, brackets stripped */
    size_t host_len;
    const char *path;   /* points into the line; len 0 = none given */
    size_t path_len;
    int port;           /* 0 when the line gives none */
    int family;         /* 0 for a name, 4 or 6 for an address literal */
};

/* Trim ASCII white space at both ends in place.  Returns 1 when the
 * trimmed line is blank or a '#' comment (skip it without a record). */
int hscan__target_skip(const char **line, size_t *len);

/* Parse a trimmed, non-blank line.  Returns 0, or HSCAN_EINVALID_TARGET
 * with `*why` set to a static sentence.  Writes `*t` only on success. */
int hscan__target_parse(const char *line, size_t len,
                        struct hscan__target *t, const char **why);

/* Resolve a Location value `ref` against the absolute URL `base`
 * ("scheme://authority/path?query", as the result's url) per RFC 3986
 * 5.2, writing an absolute URL to `out`.  Returns 0, or -1 when it does
 * not fit or `base` is not absolute. */
int hscan__url_resolve(const char *base, const char *ref, size_t ref_len,
                       char *out, size_t size);

/* ---- dns.c: c-ares on the uv loop ---- */

struct hscan__addr {
    uint8_t family;     /* 4 or 6 */
    uint8_t bytes[16];
};

struct hscan__dns_answer {
    struct hscan__addr addrs[HSCAN__MAX_ADDRS];
    unsigned n_addrs;
    char *cnames;       /* n_cnames NUL-terminated names back to back;
                           owned by the receiver (free()) */
    unsigned n_cnames;
};

struct hscan__dns;
struct hscan__dnsq;

/* `err` 0 means `ans` holds at least one address.  `ans` is the
 * receiver's to keep (including ans->cnames) in every case. */
typedef void (*hscan__dns_cb)(void *ctx, int err, const char *detail,
                              struct hscan__dns_answer *ans);

struct hscan__dns_opts {
    const char *resolvers;      /* "ip[:port],..." or NULL: resolv.conf */
    uint64_t timeout_ms;        /* one lookup, both tries */
    unsigned rate;              /* queries per second per resolver; 0 */
    unsigned cache_max;         /* answers kept; 0: none (still shared) */
};

struct hscan__dns_stats {
    uint64_t lookups;           /* lookups sent (retries included) */
    uint64_t cache_hits;        /* answered from the cache */
    uint64_t coalesced;         /* joined a lookup already on its way */
    uint64_t retries;           /* SERVFAIL/REFUSED asked again */
};

int hscan__dns_new(struct hscan__dns **out, uv_loop_t *loop,
                   const struct hscan__dns_opts *opt,
                   char *detail, size_t dsize);
void hscan__dns_stats(const struct hscan__dns *d,
                      struct hscan__dns_stats *out);
/* Start a lookup; `family` 0, 4 or 6.  The callback may run before this
 * returns (a local failure).  Returns the query, or NULL with the
 * callback already called. */
struct hscan__dnsq *hscan__dns_resolve(struct hscan__dns *d, const char *name,
                                       int family, hscan__dns_cb cb,
                                       void *ctx);
/* Lookups of one name (and family) share one query while it is on its
 * way, and a finished answer is reused while its TTL lasts (see
 * dns.c).  The callback of `q` will never run; `q` is freed. */
void hscan__dns_detach(struct hscan__dnsq *q);
/* uv_now() when the lookup behind `q` was last sent, or 0 while it waits
 * for the pacing window or the --dns-rate cap. */
uint64_t hscan__dns_sent_ms(const struct hscan__dnsq *q);
/* Destroy the channel and close every handle; `done(arg)` runs from the
 * last close callback. */
void hscan__dns_close(struct hscan__dns *d, void (*done)(void *), void *arg);
/* Walk the answer section of one A (or, `v6`, AAAA) reply of `alen`
 * bytes: follow the CNAME chain from the question name, calling
 * `on_cname` (unless NULL) with each target in presentation form, and
 * append the addresses owned by the end of the chain to `addrs` (`*n`
 * used, at most HSCAN__MAX_ADDRS kept), lowering `*ttl_min` to the
 * smallest TTL used.  Returns 1 when an address was found, 0 when none,
 * -1 when the header, the question or the answer records up to the first
 * one used (a CNAME of the chain or an address) cannot be read. */
int hscan__dns_walk(const unsigned char *abuf, int alen, int v6,
                    struct hscan__addr *addrs, unsigned *n, uint32_t *ttl_min,
                    void (*on_cname)(void *arg, const char *name), void *arg);

/* ---- http.c: request bytes and response parsing ---- */

struct hscan__hdr {
    uint32_t name_off, name_len, value_off, value_len;
};

struct hscan__resp {
    llhttp_t parser;
    char *buf;            /* arena: reason and header bytes */
    uint32_t len, cap, limit;
    struct hscan__hdr *hdrs;
    unsigned n_hdrs, hdr_cap, max_hdrs;
    uint32_t reason_off, reason_len;
    uint64_t head_bytes;  /* bytes consumed before the header end */
    int status;
    int in_value;
    int done;             /* the final header block is complete */
    int err;              /* HSCAN_E* set by a callback */
    size_t rest;          /* where in the buffer last fed the head ended */
    /* The start of the body (cfg.body_bytes), decoded from chunked */
    char *body;
    uint32_t body_len, body_cap, body_max;
    int body_on;          /* reading the body */
    int body_done;        /* the message ended (or body_max was reached) */
    int body_truncated;   /* more body than kept, or its end not seen */
};

void hscan__resp_init(struct hscan__resp *r, size_t max_bytes,
                      unsigned max_headers);
void hscan__resp_free(struct hscan__resp *r);
/* Feed bytes.  Returns 0 while more are needed, 1 when the header block
 * is complete, or a negative HSCAN_E* with `detail` filled. */
int hscan__resp_feed(struct hscan__resp *r, const char *data, size_t len,
                     char *detail, size_t dsize);
/* The peer closed.  Returns a negative HSCAN_E* with `detail`, or 0
 * while reading the body (the response stands; see
 * hscan__resp_body_cut()). */
int hscan__resp_eof(struct hscan__resp *r, char *detail, size_t dsize);

/* After hscan__resp_feed() returned 1: read up to `max` body bytes from
 * here on.  Feed the rest of that buffer (from r->rest) and what follows
 * with hscan__resp_body_feed(), which returns 1 once the body is done
 * (the message ended, or `max` bytes are kept), else 0.  Never fails: a
 * body that cannot be parsed ends there, truncated. */
void hscan__resp_body_start(struct hscan__resp *r, size_t max);
int hscan__resp_body_feed(struct hscan__resp *r, const char *data,
                          size_t len);
/* The body stops here (timeout, reset, close): keep what arrived.  A
 * body delimited by the close is complete; others are truncated. */
void hscan__resp_body_cut(struct hscan__resp *r, int closed);

/* The text of the first HTML <title> element in `html`, character
 * references decoded, runs of white space collapsed to one space and
 * trimmed, into `out` (at most `size` bytes; a title never decodes to
 * more bytes than it had).  Returns its length, or -1 when there is no
 * <title> start tag. */
long hscan__html_title(const char *html, size_t n, char *out, size_t size);
/* Hex SHA-256 of data[0..n) into out[65], with the digest fetched once
 * per scanner and its context reused (`md`, `ctx`: NULL at first;
 * freed by hscan__scratch_free()): a fresh EVP_Digest() per result
 * costs some 8,000 instructions, mostly the algorithm fetch.  Returns 0
 * or -1. */
int hscan__sha256_hex(EVP_MD **md, EVP_MD_CTX **ctx, const char *data,
                      size_t n, char *out);
/* A Content-Length value as a number, -1 when it is not one. */
long long hscan__content_length(const char *v, size_t n);

/* Build the part of every request after the Host line, from the config:
 * default headers, user headers, the blank line.  Returns a malloc'd
 * string or NULL. */
char *hscan__request_tail(const hscan_config_t *cfg, const char *ua,
                          size_t *len_out);

/* Whether the config's user headers name `name` (case-insensitive). */
int hscan__user_overrides(const hscan_config_t *cfg, const char *name);

/* ---- tls.c: OpenSSL over memory BIOs ---- */

struct hscan__tls {
    SSL *ssl;               /* owns both BIOs */
    BIO *rbio, *wbio;
    int done;               /* handshake complete */
    unsigned char peek[64]; /* first bytes received, to spot plain text */
    size_t peek_len;
};

struct hscan__tls_facts {
    hscan_tls_t v;          /* pointers into this same allocation */
    char alpn[32];
};

int hscan__tls_ctx_new(SSL_CTX **out, const char *ca_file, char *detail,
                       size_t dsize);
void hscan__tls_ctx_free(SSL_CTX *ctx);
/* vcache.c: reuse chain verifications within one SSL_CTX (app data). */
int hscan__vcache_install(SSL_CTX *ctx);
void hscan__vcache_free(SSL_CTX *ctx);
/* Prepare a client for `host` (SNI and host check for names, IP check
 * for literals: family 4/6).  Returns 0 or HSCAN_ERESOURCE_EXHAUSTED. */
int hscan__tls_start(struct hscan__tls *t, SSL_CTX *ctx, const char *host,
                     int family);
void hscan__tls_free(struct hscan__tls *t);
/* Hand received ciphertext to OpenSSL. */
int hscan__tls_feed(struct hscan__tls *t, const char *in, size_t n);
/* Advance the handshake: 1 done, 0 wants more bytes, or a negative
 * HSCAN_ETLS_* (HSCAN_ERESOURCE_EXHAUSTED when OpenSSL ran out of
 * memory) with `detail`.  Send hscan__tls_take_out() after it. */
int hscan__tls_handshake(struct hscan__tls *t, char *detail, size_t dsize);
/* 1 (with `detail` saying what was sent) when the server's first bytes
 * were plain text rather than TLS. */
int hscan__tls_plaintext(const struct hscan__tls *t, char *detail,
                         size_t dsize);
/* 0, HSCAN_EWRITE_FAILED or HSCAN_ERESOURCE_EXHAUSTED. */
int hscan__tls_encrypt(struct hscan__tls *t, const char *buf, size_t n);
/* Decrypt into `out`: bytes (>0), 0 when more ciphertext is needed,
 * HSCAN_EREAD_CLOSED at close_notify, or another negative error. */
int hscan__tls_read(struct hscan__tls *t, char *out, size_t size,
                    char *detail, size_t dsize);
/* Ciphertext to send (malloc'd, caller frees), or NULL: nothing to send
 * when `*len` is left alone, out of memory when it was set (the bytes
 * stay in OpenSSL's buffer). */
char *hscan__tls_take_out(struct hscan__tls *t, size_t *len);
/* Certificate and session facts as one malloc'd block, or NULL when no
 * certificate arrived or memory ran out (SSL_get0_peer_certificate()
 * tells which). */
struct hscan__tls_facts *hscan__tls_facts(struct hscan__tls *t);

/* ---- result.c ---- */

struct hscan__jbuf {
    char *buf;
    size_t size, len;
};
void hscan__json_str(struct hscan__jbuf *j, const char *s, size_t n);

/* ---- scan.c <-> probe.c ---- */

struct probe;
struct hscan__over;

struct hscan__limits {
    uint64_t timeout_ms, dns_timeout_ms, connect_timeout_ms, read_timeout_ms;
    uint64_t tls_timeout_ms;
    unsigned follow;
    int insecure;
    size_t max_header_bytes;
    unsigned max_headers;
    int family;
    size_t body_bytes;        /* cfg.body_bytes */
    int audit;                /* cfg.audit */
};

/* Scanner services used by probes. */
uv_loop_t *hscan__loop(hscan_t *scan);
struct hscan__dns *hscan__scan_dns(hscan_t *scan);
/* The --max-per-ip gate, or NULL when there is no limit. */
struct hscan__gate *hscan__scan_gate(hscan_t *scan);
const struct hscan__limits *hscan__scan_limits(hscan_t *scan);
const char *hscan__scan_method(hscan_t *scan);
const char *hscan__scan_path(hscan_t *scan);
const char *hscan__scan_reqtail(hscan_t *scan, size_t *len);
/* The user gave a Host header (-H 'Host: x'): it replaces ours. */
int hscan__scan_user_host(hscan_t *scan);
char *hscan__scan_rbuf(hscan_t *scan, size_t *size);
/* A second buffer for plain text decrypted from the first. */
char *hscan__scan_pbuf(hscan_t *scan, size_t *size);
SSL_CTX *hscan__scan_ssl_ctx(hscan_t *scan);
/* Deliver a finished probe's result and release its slot. */
void hscan__scan_emit(hscan_t *scan, struct probe *p, hscan_result_t *r);
/* A probe's memory is gone; the scanner may finish closing. */
void hscan__scan_probe_freed(hscan_t *scan, struct probe *p);

/* Create a probe for a parsed target over `scheme` (HSCAN__HTTP/HTTPS;
 * `fall_back`: https-first may retry over HTTP).  The probe copies what
 * it needs.  Returns NULL when out of memory. */
struct probe *hscan__probe_start(hscan_t *scan, const char *input,
                                 size_t input_len,
                                 const struct hscan__target *t, int scheme,
                                 int fall_back, void *udata, uint64_t id,
                                 struct hscan__over *over);
/* Begin the work of a started, linked probe; its result may be emitted
 * from inside this call (never inside a user call: the scanner runs it
 * from its own timer). */
void hscan__probe_run(struct probe *p);
/* Finish a probe with HSCAN_ECANCELED. */
void hscan__probe_cancel(struct probe *p);
/* hscan_cancel(): if `p` is target `id` and not yet asked to stop, ask
 * it (it finishes canceled on a later loop iteration) and return 1. */
int hscan__probe_cancel_id(struct probe *p, uint64_t id);
/* Intrusive list links for the scanner's in-flight list. */
struct probe **hscan__probe_next(struct probe *p);
struct probe **hscan__probe_prev(struct probe *p);

/* Fill the parts of a result that need formatting (url, addresses...)
 * into scanner scratch space; returns 0 or HSCAN_ENOMEM. */
struct hscan__scratch {
    char *buf;
    size_t len, cap;
    hscan_header_t *hv;
    size_t hv_cap;
    const char **sv;
    size_t sv_cap;
    hscan_hop_t *hops;
    size_t hops_cap;
    hscan_audit_t audit;        /* cfg.audit: r->audit */
    EVP_MD *sha256;             /* fetched once: body_sha256 */
    EVP_MD_CTX *mdctx;
    char audit_str[HSCAN__AUDIT_STRBUF]; /* its strings */
};
int hscan__scratch_reserve(struct hscan__scratch *s, size_t bytes,
                           size_t headers, size_t strings, size_t hops);
void hscan__scratch_free(struct hscan__scratch *s);
struct hscan__scratch *hscan__scan_scratch(hscan_t *scan);

/* Count bytes handed to (`tx`) and read from (`rx`) sockets. */
void hscan__scan_bytes(hscan_t *scan, uint64_t rx, uint64_t tx);

/* Per-target overrides (hscan_submit_ex), shared by the probes of one
 * target (two under HSCAN_SCHEME_BOTH): reference-counted. */
struct hscan__over {
    unsigned refs;
    char *method;             /* NULL: the scanner's */
    char *path;               /* NULL: the scanner's */
    char *reqtail;            /* NULL: the scanner's */
    size_t reqtail_len;
    int user_host;            /* reqtail carries a Host line */
    uint64_t timeout_ms;      /* 0: the scanner's */
};
struct hscan__over *hscan__over_ref(struct hscan__over *o);
void hscan__over_unref(struct hscan__over *o);

/* ---- stats.c: counters behind hscan_stats() ---- */

#define HSCAN__HIST_MAX_LOG2 40     /* microseconds: 12 days */
#define HSCAN__HIST_BUCKETS (32 + (HSCAN__HIST_MAX_LOG2 - 5) * 32)
#define HSCAN__ERR_SLOTS 128        /* -code; the table stays above -128 */

struct hscan__hist {
    uint64_t count;
    double sum, min, max;
    uint64_t b[HSCAN__HIST_BUCKETS];
};

struct hscan__counts {
    uint64_t by_err[HSCAN__ERR_SLOTS];
    struct hscan__hist total, dns, connect, tls, ttfb;
};

/* Add one duration (negative: the phase did not happen, ignored). */
void hscan__hist_add(struct hscan__hist *h, double ms);
void hscan__hist_summary(const struct hscan__hist *h, hscan_latency_t *out);
/* Count a delivered result; `probed`: it reached a probe (its phase
 * durations are real). */
void hscan__counts_add(struct hscan__counts *c, const hscan_result_t *r,
                       int probed);
/* by_error, n_errors and the latency summaries of `st`. */
void hscan__counts_fill(const struct hscan__counts *c, hscan_stats_t *st);

/* ---- audit.c, audit-list.c: security-header audit (docs/audit.md) ---- */

/* HSCAN__AUDIT_STRBUF (defined at the top, for struct hscan__scratch):
 * the bytes of `strbuf` hscan__audit() needs, for weak_cookies (at most
 * 512 bytes, then cut with "...") and missing, each NUL-terminated;
 * audit.c asserts that they fit. */

/* Fill `*out` from the final response's `n` headers (any bytes; never
 * read past their lengths); `https`: the response came over TLS.
 * out->weak_cookies and out->missing point into `strbuf` (`size` >=
 * HSCAN__AUDIT_STRBUF), so it must live as long as `*out`.  Pure: no
 * allocation, work linear in the header bytes.  Returns 0, or
 * HSCAN_EINVAL (a NULL pointer or a short `strbuf`; `*out` untouched). */
int hscan__audit(const hscan_header_t *h, size_t n, int https,
                 hscan_audit_t *out, char *strbuf, size_t size);
/* The value of the record's "audit" key: an object, or null when `a` is
 * NULL.  Valid JSON for any bytes in the names it lists.  In result.c,
 * with the rest of the JSON record. */
void hscan__audit_json(struct hscan__jbuf *j, const hscan_audit_t *a);
/* Between audit.c and audit-list.c: the header's name is `lower` (a
 * lowercase literal) in any case; its value as [*s, *e) without HTTP
 * white space at the ends (a NULL value reads as empty). */
int hscan__audit_field_is(const hscan_header_t *h, const char *lower);
void hscan__audit_value(const hscan_header_t *h, const unsigned char **s,
                        const unsigned char **e);
/* audit-list.c: the state (HSCAN_AUDIT_*) of X-Content-Type-Options,
 * X-Frame-Options, Referrer-Policy and Permissions-Policy, each read
 * across all lines of the field. */
int hscan__audit_xcto(const hscan_header_t *h, size_t n);
int hscan__audit_xfo(const hscan_header_t *h, size_t n);
int hscan__audit_referrer(const hscan_header_t *h, size_t n);
int hscan__audit_permissions(const hscan_header_t *h, size_t n);

#endif /* HSCAN_INTERNAL_H */
