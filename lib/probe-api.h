/* Between the scanner and the probe. */
#ifndef HSCAN_PROBE_API_H
#define HSCAN_PROBE_API_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <uv.h>
#include "hscan.h"
#include "result.h"
#include "target.h"

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

#endif /* HSCAN_PROBE_API_H */
