/* scan-env.h: what the integration tests share.
 *
 * One scan on its own loop against the loopback test servers: a DNS
 * server the scanner resolves through, an HTTP server and, with
 * env_init_tls(), a TLS server whose CA the scanner trusts (cfg.ca_file).
 * Targets are submitted with their line index as udata; on_result copies
 * the whole view (it dies with the callback) into a struct rec, the JSON
 * line included, which is checked to be valid JSON for every record.
 * The drained callback closes the scanner and the servers; env_scan()
 * then checks the counts and uv_loop_close(), and the test checks the
 * records.
 */
#ifndef HSCAN_TEST_SCAN_ENV_H
#define HSCAN_TEST_SCAN_ENV_H

#include <stddef.h>

#include <uv.h>

#include "hscan.h"
#include "server-dns.h"
#include "server-http.h"
#include "server-tls.h"

/* env_scan() fails a scan still running after this long (times
 * slow_factor()). */
#define DEADLINE_MS 20000

/* 1 when `s` is exactly one valid JSON object (RFC 8259, UTF-8
 * checked). */
int json_valid(const char *s);

/* ---- copies of result views ---- */

struct hdr {
    char *name, *value;
    size_t name_len, value_len;
};

/* hscan_cert_t, copied. */
struct cert_rec {
    char *subject, *issuer, *serial, *not_before, *not_after, *sha256;
    char *spki_sha256, *key_type, *sig_alg;
    int key_bits, is_ca;
};

/* hscan_tls_t, every string copied (NULL stays NULL). */
struct tls_rec {
    char *version, *cipher, *alpn;
    int verified;
    long verify_code;
    char *verify_error, *subject, *issuer;
    char **san;
    size_t n_san;
    char *serial, *not_before, *not_after;
    long days_left;
    char *sha256, *spki_sha256;
    int chain_len;
    size_t n_san_total;
    int san_truncated;
    char *alert;
    int alert_code;
    /* ---- handshake parameters and server fingerprints ---- */
    char *group, *sigalg;
    int ticket, hello_retry;
    unsigned short extensions[32];
    size_t n_extensions;
    char *ja3s, *ja4s;
    /* the whole chain (cfg.tls_chain) */
    char *earliest_not_after;
    long earliest_days_left;
    struct cert_rec *chain;         /* NULL when the view's was */
    size_t n_chain;
    char **verified_chain;          /* NULL when the view's was */
    size_t n_verified_chain;
    int chain_truncated;
};

/* hscan_hop_t, copied. */
struct hop_rec {
    char *url;
    int status;
    char *location;
    size_t location_len;
    char *ip;
    double total_ms;
};

struct rec {
    int got;                /* results stored in this record */
    int error;
    char *detail;
    char *input, *url, *scheme, *host, *ip;
    char *path;             /* r->path (cfg.paths), NULL when none */
    int port, status, major, minor;
    char *reason;
    size_t reason_len;
    struct hdr *hdrs;
    size_t n_hdrs;
    char **addrs, **cnames;
    size_t n_addrs, n_cnames;
    int addrs_null, cnames_null;
    double dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms;
    struct tls_rec *tls;    /* NULL when the view's tls was */
    struct hop_rec *hops;
    size_t n_hops;
    int fallback_error;
    char *fallback_detail;
    unsigned attempts;
    char *json;
    /* content and body facts (cfg.body_bytes), audit (cfg.audit) */
    char *ctype;            /* NULL when absent */
    long long clen;
    char *body;             /* body_len bytes + NUL; NULL when none */
    size_t body_len;
    int body_truncated;
    char *body_sha256, *title;
    size_t title_len;
    int has_audit;
    hscan_audit_t audit;    /* its strings: */
    char *audit_missing, *audit_weak;
    uint64_t id;
    /* ---- content decoding (cfg.compressed) ---- */
    int body_decoding;
    size_t body_wire_len;
    char *body_encoding, *body_decode;  /* NULL when the view's were */
    /* ---- matchers (cfg.matchers): r->filtered, filtered_by ---- */
    int filtered, filtered_by;
};

/* The SHA-256 of data[0..n) in lowercase hex into out[65]. */
void sha256_hex(const void *data, size_t n, char out[65]);

char *dup_mem(const char *p, size_t n);
char *dup_str(const char *s);

/* Copy `r` into `d` (whatever `d` held is freed first; `got` is kept)
 * and check the view's own consistency and its JSON line. */
void rec_copy(struct rec *d, const hscan_result_t *r);

/* Free what `r` holds; `r` itself is the caller's. */
void rec_free(struct rec *r);

/* ---- one scan on its own loop ---- */

struct env {
    uv_loop_t loop;
    struct tsrv_http *http;
    struct tsrv_dns *dns;
    struct tsrv_tls *tls;       /* NULL unless env_init_tls() */
    int allow_tls;              /* records may have TLS facts */
    int hport, dport, tport;
    char resolvers[32];
    char ca_path[64];           /* the TLS server's CA as PEM, or "" */
    hscan_config_t cfg;
    const char *const *lines;
    const size_t *lens;         /* line lengths, or NULL: strlen */
    const hscan_target_opts_t *const *opts; /* per line for
                                   hscan_submit_ex(), or NULL */
    unsigned per_line;          /* results per line (scheme both: 2) */
    struct rec *recs;           /* n * per_line, by arrival per line */
    size_t n;
    unsigned results, drained, closed, late;
    unsigned long dns_queries, tls_handshakes;
    hscan_stats_t stats;        /* the scanner's, when drained */
    uv_timer_t deadline;
    void (*on_stop)(void *);    /* extra handles to close, or NULL */
    void *stop_arg;
};

/* How many times slower than a plain build everything runs: 10 under
 * valgrind (`meson test --setup valgrind` sets HSCAN_UNDER_VALGRIND),
 * 3 in an ASan build (on a loaded 2-core machine a 1.5 s limit that
 * must not fire did), else 1.  Tests multiply by it the limits that must not fire (a
 * handshake, a reply they wait for) and the wall-time upper bounds they
 * check; a limit a test waits to fire may stay as it is, and so may
 * lower bounds and error names. */
unsigned slow_factor(void);

/* A loop with the DNS and HTTP servers, and a config for plain HTTP
 * through that DNS server with short timeouts. */
void env_init(struct env *e);

/* Multiply every timeout in e->cfg by slow_factor(). */
void env_stretch(struct env *e);

/* env_init() plus the TLS server; cfg.ca_file is its CA. */
void env_init_tls(struct env *e);

/* Scan `lines` (n of them) with e->cfg, then close everything and check
 * that each line that is not blank or a comment got e->per_line results
 * (1 when 0).  The records are in e->recs; free them with env_done(). */
void env_scan(struct env *e, const char *const *lines, size_t n);

void env_done(struct env *e);

/* Record `k` (in order of arrival) of line `i`. */
struct rec *env_rec(struct env *e, size_t i, unsigned k);

/* The record of line `i` whose scheme is `scheme`, or NULL. */
struct rec *env_rec_scheme(struct env *e, size_t i, const char *scheme);

/* 1 when `s` is blank or a comment: it gets no result. */
int line_skipped(const char *s);

/* ---- extra servers and handles, closed once the scan has drained ---- */

struct capture;

struct extra {
    struct tsrv_http *http;
    struct tsrv_tls *tls;
    uv_tcp_t refused[2];
    int n_refused;
    struct capture *caps[2];
};

void env_extra(struct env *e, struct extra *x);

/* Bind a TCP socket on ip:port without listening: connecting to it is
 * refused.  Returns the port, or a negative uv error. */
int bind_refused(uv_loop_t *loop, uv_tcp_t *t, const char *ip, int port);

/* A refused port on `ip`, its handle closed with the servers. */
int extra_refused(struct env *e, struct extra *x, const char *ip, int port);

/* ---- record checks ---- */

void show(const struct rec *r);

#define EXPECT_ERR(r, code)                                               \
    do {                                                                  \
        if ((r)->error != (code))                                         \
            show(r);                                                      \
        CHECK_INT((r)->error, (code));                                    \
    } while (0)

#define EXPECT_STATUS(r, code)                                            \
    do {                                                                  \
        if ((r)->error != 0 || (r)->status != (code))                     \
            show(r);                                                      \
        CHECK_INT((r)->error, 0);                                         \
        CHECK_INT((r)->status, (code));                                   \
    } while (0)

/* Header `i` is exactly name: value. */
void check_hdr(const struct rec *r, size_t i, const char *name,
               const char *value);

/* Index of the first header named `name` (any case), or -1. */
long find_hdr(const struct rec *r, const char *name);

void check_list(char **got, size_t n, const char *const *want,
                size_t n_want);

/* The five header fields of the HTTP server's `fast` reply. */
void check_fast_headers(const struct rec *r);

/* A record that never reached HTTP: no response fields. */
void check_no_response(const struct rec *r);

/* snprintf of `f` with one int; returns buf. */
char *fmt(char *buf, size_t size, const char *f, int port);

#endif
