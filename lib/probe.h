/* The probe: one target's state, shared by the files that drive it
 * (probe.c: lifecycle, DNS, TCP; probe-tls.c: the TLS leg; redirect.c:
 * redirects and the https-first fallback; report.c: the result view). */
#ifndef HSCAN_PROBE_H
#define HSCAN_PROBE_H

#include "dns.h"
#include "http.h"
#include "probe-api.h"
#include "tls.h"
#include "util.h"

enum probe_state {
    PROBE_RESOLVE,
    PROBE_CONNECT,
    PROBE_TLS,
    PROBE_WRITE,
    PROBE_READ,
    PROBE_CLOSING
};

struct hop {
    char *url;
    char *location;
    size_t location_len;
    int status;
    char ip[48];
    double ms;
};

struct probe {
    struct probe *next, *prev;      /* scanner's in-flight list */
    hscan_t *scan;
    enum probe_state state;
    int handles;                    /* open uv handles */
    int tcp_live;                   /* tcp initialised and not closing */
    int tcp_closing;                /* close requested, callback pending */
    int connected;
    int fd_wait;                    /* backing off after a local shortage */
    int gate_wait;                  /* queued for --max-per-ip */
    int gate_held;                  /* holds a --max-per-ip place */
    struct probe *gate_next;        /* gate.c's queue */
    struct hscan__addr gate_addr;   /* the address held or waited for */
    uint64_t gate_t0;               /* uv_now() the wait began */
    unsigned backoff_ms;
    uv_timer_t timer;
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct hscan__dnsq *dnsq;
    struct hscan__resp resp;
    struct hscan__tls tls;          /* tls.ssl NULL unless HTTPS */
    struct hscan__tls_facts *facts;

    struct hscan__dns_answer dns;
    unsigned next_addr;
    int cur_addr;                   /* index connected to, or -1 */
    int last_err;
    char detail[HSCAN__DETAIL_SIZE];

    int scheme;                     /* HSCAN__HTTP / HSCAN__HTTPS */
    int port_given;                 /* the port came from the input */
    int may_fall_back;              /* https-first, not yet used */
    int fallback_err;
    char fallback_detail[HSCAN__DETAIL_SIZE];
    struct hop *hops;
    unsigned n_hops;

    uint64_t deadline;              /* uv_now() ms */
    uint64_t phase_deadline;
    uint64_t last_read;
    uint64_t t_start, t_hop;        /* ns: target, current hop */
    uint64_t t_dns0, t_dns, t_conn0, t_conn, t_tls0, t_tls, t_sent, t_first;

    void *udata;
    uint64_t id;                    /* the target's, see hscan_result_t */
    struct hscan__over *over;       /* hscan_submit_ex() settings, or NULL */
    uint64_t timeout_ms;            /* total for the target */
    int cancel_req;                 /* hscan_cancel(): finish canceled */
    char *req;
    size_t req_len;
    char *host;                     /* NUL-terminated */
    size_t host_len;
    char *path;
    size_t path_len;
    char *hop_mem;                  /* host and path after a redirect */
    int port;
    int family;                     /* literal: 4 or 6; name: 0 */
    size_t input_len;
    char input[];                   /* then host, path */
};

/* probe.c */
void hscan__p_set_state(struct probe *p, enum probe_state s);
void hscan__p_arm(struct probe *p, uint64_t phase_ms);
void hscan__p_finish(struct probe *p, int err, const char *detail);
void hscan__p_close_tcp(struct probe *p);
void hscan__p_start_resolve(struct probe *p);
void hscan__p_start_connect(struct probe *p);
void hscan__p_start_read(struct probe *p);
/* Feed response bytes (plain text) to the parser; finishes or redirects
 * the probe when the header block is complete. */
void hscan__p_got_bytes(struct probe *p, const char *buf, size_t n);
/* While reading the body: end it here, keep the response (finish with
 * no error) and return 1; else 0. */
int hscan__p_body_cut(struct probe *p);
int hscan__p_build_request(struct probe *p);
/* Start reading the socket (the TLS leg reads before any request). */
int hscan__p_read_start(struct probe *p);
void hscan__p_addr_str(const struct hscan__addr *a, char *out, size_t size);
/* The method, and the path used when the input names none: the
 * target's overrides or the scanner's. */
const char *hscan__p_method(const struct probe *p);
const char *hscan__p_default_path(const struct probe *p);
/* "http://host[:port]/path" of the current hop into `out`. */
size_t hscan__p_url(const struct probe *p, char *out, size_t size);

/* The --max-per-ip gate let `p` through: connect now. */
void hscan__p_gate_open(struct probe *p);

/* gate.c: --max-per-ip */
struct hscan__gate;
int hscan__gate_new(struct hscan__gate **out, unsigned max);
void hscan__gate_free(struct hscan__gate *g);
/* Take a place for a connection to `a`: 1 when `p` may connect now
 * (p->gate_held), 0 when it was queued (p->gate_wait); then
 * hscan__p_gate_open(p) runs once a place is free. */
int hscan__gate_enter(struct hscan__gate *g, struct probe *p,
                      const struct hscan__addr *a);
/* Give back the place `p` holds (if any), letting the next waiter in. */
void hscan__gate_leave(struct hscan__gate *g, struct probe *p);
/* Take `p` out of the queue (if queued). */
void hscan__gate_cancel(struct hscan__gate *g, struct probe *p);
uint64_t hscan__gate_waits(const struct hscan__gate *g);

/* probe-tls.c */
void hscan__p_start_tls(struct probe *p);
/* Ciphertext arrived while in PROBE_TLS or PROBE_READ over TLS. */
void hscan__p_tls_bytes(struct probe *p, const char *buf, size_t n);
/* The peer closed or reset during the handshake. */
void hscan__p_tls_eof(struct probe *p, int reset);

/* redirect.c */
/* The final header block is in: follow it if it is a redirect we should
 * follow.  Returns 1 when the probe moved on to the next hop (or
 * finished with too_many_redirects), 0 when the response is final. */
int hscan__p_redirect(struct probe *p);
/* An HTTPS attempt failed with `err`: if https-first allows, switch to
 * plain HTTP and return 1. */
int hscan__p_fall_back(struct probe *p, int err, const char *detail);
void hscan__p_free_hops(struct probe *p);

/* report.c */
void hscan__p_build_result(struct probe *p, hscan_result_t *r, int err,
                           const char *detail);

#endif
