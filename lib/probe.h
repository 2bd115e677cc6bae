/* The probe: one target's state, shared by the files that drive it
 * (probe.c: states, deadlines, DNS, connecting, finishing; probe-tcp.c,
 * probe-tls.c, probe-http.c: the legs of its byte stream, see leg.h;
 * redirect.c: redirects and the https-first fallback; report.c: the
 * result view).  docs/internals.md draws the whole picture. */
#ifndef HSCAN_PROBE_H
#define HSCAN_PROBE_H

#include "dns.h"
#include "gate.h"
#include "h2.h"
#include "http.h"
#include "leg.h"
#include "probe-api.h"
#include "proxy.h"
#include "tls.h"
#include "util.h"

/* Every state a probe can be in; hscan__p_set_state() checks each move
 * against the table in probe.c.  A hop (redirect, fallback) goes back
 * to RESOLVE or CONNECT; nothing leaves CLOSING. */
enum probe_state {
    PROBE_NEW,          /* made, not yet run */
    PROBE_RESOLVE,      /* waiting for DNS */
    PROBE_GATE,         /* queued for a --max-per-ip place, no timer */
    PROBE_BACKOFF,      /* no descriptor or port: retrying soon */
    PROBE_RETRY,        /* a transient failure: waiting to try again */
    PROBE_UNSOCK,       /* the previous socket closing, then connect */
    PROBE_CONNECT,      /* TCP connect under way */
    PROBE_PROXY,        /* the proxy's handshake (the proxy leg) */
    PROBE_TLS,          /* TLS handshake (the TLS leg) */
    PROBE_WRITE,        /* the request partly queued in the socket */
    PROBE_READ,         /* the response's header block */
    PROBE_BODY,         /* the response's body (cfg.body_bytes) */
    PROBE_CLOSING,      /* the result is out; handles closing */
    PROBE_N_STATES
};

/* Why the last connect attempt or the request's send failed: a code,
 * rendered as text only for the record (hscan__p_why()). */
enum probe_why {
    WHY_NO_ADDRESS,     /* "no address to connect to" */
    WHY_CONNECT,        /* "connect: <uv error why_code>" */
    WHY_CONNECT_TIMEOUT,/* "no answer within <connect timeout> ms" */
    WHY_WRITE,          /* "write: <uv error why_code>" */
    WHY_WRITE_NOMEM,    /* "write: out of memory" */
    WHY_SEND_TLS        /* "cannot send the request" */
};

/* The addresses being tried: one inline (a literal, most names), more
 * in a block of their own. */
struct probe_addrs {
    struct hscan__addr *addrs;      /* &one, or allocated */
    struct hscan__addr one;
    unsigned char n_addrs;
    unsigned char stagger;          /* CONNECT: the timer is the attempt
                                       delay, not the connect timeout
                                       (probe-race.c; here, where it
                                       fills a hole, not a new word) */
    unsigned n_cnames;
    char *cnames;                   /* as in struct hscan__dns_answer */
};

struct hop {
    char *url;
    char *location;
    size_t location_len;
    int status;
    char ip[48];
    double ms;
};

/* Through a proxy (cfg.proxy), per hop: the target resolved here and
 * its address sent (socks5://), or its name sent and no lookup made
 * (http://, socks5h://). */
enum { HSCAN__PX_LOCAL = 1, HSCAN__PX_REMOTE = 2 };

struct hscan__race;                 /* probe-race.c */

/* The proxy leg's (probe-proxy.c), allocated only for a proxied hop. */
#define HSCAN__PROXY_REPLY_MAX 16384    /* an HTTP CONNECT reply head */
struct hscan__pxs {
    int step;
    int status;                     /* the proxy's reply code, 0: none */
    uint64_t t_proxy0, t_proxy;     /* ns: its handshake */
    size_t len;
    char buf[HSCAN__PROXY_REPLY_MAX + 1];
};

struct probe {
    struct hscan__queue node;       /* the scanner's in-flight list */
    struct hscan__probe_env *env;
    enum probe_state state;
    int handles;                    /* open uv handles */
    int tcp_live;                   /* tcp initialised and not closing */
    int tcp_closing;                /* close requested, callback pending */
    int connected;
    unsigned backoff_ms;
    struct hscan__gate_waiter gate; /* --max-per-ip place or queue spot */
    uint64_t gate_t0;               /* uv_now() the wait began */
    uv_timer_t timer;
    uv_tcp_t tcp;
    struct hscan__leg tcp_leg, proxy_leg, tls_leg, http_leg;
    struct hscan__pxs *pxs;         /* the proxy leg's state and timing,
                                       from its start to the result */
    struct hscan__race *race;       /* an attempt racing the one on
                                       `tcp` (cfg.prefer_family), or NULL */
    struct hscan__dnsq *dnsq;
    struct hscan__resp resp;
    struct hscan__tls *tls;         /* NULL unless an HTTPS hop */
    struct hscan__tls_facts *facts;
    struct hscan__h2 *h2;           /* the HTTP/2 leg's session, or NULL */
    struct hscan__h2_facts *h2f;    /* its facts, kept for the result */

    struct probe_addrs dns;
    unsigned next_addr;
    int cur_addr;                   /* index connected to, or -1 */
    int last_err;
    int why_code;                   /* a libuv error for WHY_CONNECT... */
    unsigned char why;              /* enum probe_why */
    unsigned char proxy_mode;       /* 0 direct, HSCAN__PX_LOCAL/REMOTE */
    unsigned char heard;            /* a byte came on this connection */
    unsigned char retried;          /* retries of this hop (cfg.retries) */
    /* --all-ips (probe-expand.c): expand the first answer into units;
     * pinned: no lookup for the first hop; skip: no record */
    unsigned char expand, pinned, skip;
    const char *unit_path;          /* the listed path (r->path), NULL */

    int scheme;                     /* HSCAN__HTTP / HSCAN__HTTPS */
    int port_given;                 /* the port came from the input */
    int may_fall_back;              /* https-first, not yet used */
    int fallback_err;
    unsigned n_hops;
    int pin;                        /* the one address index to try for
                                       the first host, or -1: all */
    char *fallback_detail;          /* with fallback_err; may be NULL */
    struct hop *hops;

    uint64_t deadline;              /* uv_now() ms */
    uint64_t phase_deadline;
    uint64_t last_read;
    uint64_t t_start, t_hop;        /* ns: target, current hop */
    uint64_t t_dns0, t_dns, t_conn0, t_conn, t_tls0, t_tls, t_sent, t_first;

    void *udata;
    uint64_t id;                    /* the target's, see hscan_result_t */
    struct hscan__req *req;         /* what to send (a reference) */
    const char *cancel_detail;      /* set: finish canceled, with this */
    char *host;                     /* NUL-terminated */
    size_t host_len;
    char *path;
    size_t path_len;
    char *hop_mem;                  /* host and path after a redirect */
    struct hscan__fav *fav;         /* cfg.favicon, cfg.hash: favicon.c;
                                       NULL with the defaults */
    int port;
    int family;                     /* literal: 4 or 6; name: 0 */
    size_t input_len;
    char input[];                   /* then host, path */
};

/* probe.c */
void hscan__p_set_state(struct probe *p, enum probe_state s);
/* p->why as text, in `buf`. */
const char *hscan__p_why(const struct probe *p, char *buf, size_t size);
/* Set p->why (and why_code); returns `err`, for one-line returns. */
int hscan__p_set_why(struct probe *p, enum probe_why why, int code,
                     int err);
void hscan__p_arm(struct probe *p, uint64_t phase_ms);
void hscan__p_finish(struct probe *p, int err, const char *detail);
void hscan__p_start_resolve(struct probe *p);
void hscan__p_start_connect(struct probe *p);
void hscan__p_addr_str(const struct hscan__addr *a, char *out, size_t size);
/* `a` and `port` as a socket address. */
void hscan__p_sockaddr(const struct hscan__addr *a, int port,
                       struct sockaddr_storage *ss);
/* "http://host[:port]/path" of the current hop into `out`. */
size_t hscan__p_url(const struct probe *p, char *out, size_t size);
/* The current hop as a target (host, path, port, scheme, family). */
void hscan__p_target(const struct probe *p, struct hscan__target *t);
/* Reading the response (or still writing the request): bytes from the
 * peer are the response's. */
int hscan__p_reading(const struct probe *p);

/* probe-retry.c */
/* `err` ends the attempt: when it is transient, cfg.retries allows
 * another and the back-off fits before the deadline, leave the
 * connection behind, wait (RETRY) and return 1; else 0. */
int hscan__p_retry(struct probe *p, int err);
/* Connect attempts of the current hop so far. */
unsigned hscan__p_attempts(const struct probe *p);

/* probe-tcp.c: the socket, the bottom leg */
/* hscan__p_tcp_connect()'s own failures, outside libuv's codes: no
 * source address of the destination's family (HSCAN__P_ENOSOURCE), or
 * source address k is not this host's (bind: EADDRNOTAVAIL;
 * HSCAN__P_ESOURCE_BIND - k, so that p->why_code says which). */
#define HSCAN__P_ENOSOURCE (-6001)
#define HSCAN__P_ESOURCE_BIND (-6100)
#define HSCAN__P_SOURCE_ERR(c)                                            \
    ((c) == HSCAN__P_ENOSOURCE ||                                         \
     ((c) <= HSCAN__P_ESOURCE_BIND &&                                     \
      (c) > HSCAN__P_ESOURCE_BIND - HSCAN_SOURCE_IPS_MAX))
/* probe-src.c */
/* With cfg.source_ips: open the socket of `t` (p->tcp, or a racing
 * attempt's) bound to the next source address of `dst`'s family.  0
 * (also without source addresses), a libuv error or one of the codes
 * above. */
int hscan__p_bind_source(struct probe *p, uv_tcp_t *t,
                         const struct sockaddr *dst);
/* What a source failure's code means, in `buf`; NULL when `code` is
 * not one of them. */
const char *hscan__p_source_why(const struct probe *p, int code, char *buf,
                                size_t size);
/* Open a socket and connect to `ss`; 0 or a libuv error (the socket is
 * then closing). */
int hscan__p_tcp_connect(struct probe *p, const struct sockaddr *sa);
void hscan__p_close_tcp(struct probe *p);
/* Read the socket (it normally reads since the connect); 0 or a libuv
 * error. */
int hscan__p_read_start(struct probe *p);
/* The socket's close callback saw the last handle go: free. */
void hscan__p_closed(uv_handle_t *h);
/* Stack the legs for the current scheme on the TCP leg. */
void hscan__p_stack(struct probe *p);
/* Whether a libuv error means a local shortage (descriptors, ports,
 * memory) rather than anything about the target. */
int hscan__p_local_shortage(int uverr);

/* Try the next address (probe-race.c, once a racing attempt failed). */
void hscan__p_connect_next(struct probe *p);
/* Note libuv error `uverr` of a connect attempt as the last failure. */
void hscan__p_connect_err(struct probe *p, int uverr);

/* probe-race.c: the order of a name's addresses and racing attempts
 * (RFC 8305), with cfg.prefer_family */
/* The index in p->dns.addrs of attempt `k` (0, 1, ...). */
int hscan__p_addr_at(const struct probe *p, unsigned k);
/* The address of attempt p->next_addr, past those cfg.exclude names
 * (p->next_addr moves over them): its index, or -1 when none is left. */
int hscan__p_next_addr(struct probe *p);
/* The timer for an attempt just begun on `tcp`: the attempt delay when
 * the next address is to race it (p->stagger set), else the connect
 * timeout. */
uint64_t hscan__p_attempt_ms(struct probe *p);
/* The attempt delay ran out with the attempt on `tcp` still going:
 * start the next address beside it. */
void hscan__p_race_stagger(struct probe *p);
/* No address is left for `tcp`: while a racing attempt goes on, wait
 * for it (CONNECT, no socket) and return 1; else 0. */
int hscan__p_race_wait(struct probe *p);
/* End the racing attempt, if any (it lost, or the probe finishes). */
void hscan__p_race_end(struct probe *p);
/* `tcp` has closed in UNSOCK: when the racing attempt won, make its
 * connection the probe's and return 1; else 0. */
int hscan__p_race_adopt(struct probe *p);

/* probe.c, from the legs */
/* The connect completed (`status` a libuv code). */
void hscan__p_connected(struct probe *p, int status);
/* Bytes queued by a leg's send have gone out, or failed. */
void hscan__p_written(struct probe *p, int status);
/* The old socket has closed (the gate place it held is given back). */
void hscan__p_unsocked(struct probe *p);

/* probe-http.c */
/* The request is out: wait for the response (READ). */
void hscan__p_start_read(struct probe *p);
/* The leg below took the request: `rc` as its send returned (1 all of
 * it, 0 some queued: WRITE, or a negative HSCAN_E*: finish). */
void hscan__p_request_sent(struct probe *p, int rc);
/* While reading the body: end it here, keep the response (finish with
 * no error) and return 1; else 0. */
int hscan__p_body_cut(struct probe *p);

/* redirect.c */
/* The final header block is in: follow it if it is a redirect we should
 * follow.  Returns 1 when the probe moved on to the next hop (or
 * finished with too_many_redirects), 0 when the response is final. */
int hscan__p_redirect(struct probe *p);
/* An HTTPS attempt failed with `err`: if https-first allows, switch to
 * plain HTTP and return 1. */
int hscan__p_fall_back(struct probe *p, int err, const char *detail);
void hscan__p_free_hops(struct probe *p);
/* Leave the current connection and response behind for a new hop. */
void hscan__p_reset_exchange(struct probe *p);

/* probe-exclude.c: cfg.exclude.  Each finishes the probe with
 * HSCAN_EEXCLUDED (the detail names the rule and what it matched) and
 * returns 1, or returns 0 when the probe may go on. */
/* The current hop's host, before DNS. */
int hscan__p_excluded_host(struct probe *p);
/* The answer just kept in p->dns: any CNAME, or every address. */
int hscan__p_excluded_answer(struct probe *p);
/* The rule that excludes p->dns.addrs[i], or NULL. */
const char *hscan__p_addr_excluded(const struct probe *p, unsigned i);

/* probe-expand.c */
/* After the first lookup (or for a literal) with --all-ips: pin this
 * probe to the first address not done, queue siblings for the others.
 * Returns 1 when the probe finished (every address done: no record). */
int hscan__p_expand(struct probe *p);

/* favicon.c: cfg.favicon and cfg.hash */
/* At the probe's making: its extras when the options ask (p->fav, else
 * NULL).  0 or -1 (out of memory). */
int hscan__p_fav_new(struct probe *p);
void hscan__p_fav_free(struct probe *p);
/* After hscan__resp_init(&p->resp): hang the extras on its body. */
void hscan__p_fav_hang(struct probe *p);
/* How much of the current hop's body to read (`*max`: cfg.body_bytes,
 * or the icon's limit on its hop) and whether to keep it; returns
 * whether to read it at all (not for HEAD). */
int hscan__p_fav_body(const struct probe *p, size_t *max, int *keep);
/* The current hop fetches the icon. */
int hscan__p_fav_icon(const struct probe *p);
/* From hscan__p_finish() with p->fav: after the final response, start
 * the icon's hop and return 1 (the probe goes on); when the icon's hop
 * ends, put the final response back, make `*err` and `*detail` the
 * target's again and return 0. */
int hscan__p_fav_finish(struct probe *p, int *err, const char **detail);
/* The record's hashes and favicon (views into p->fav). */
void hscan__p_fav_fill(struct probe *p, hscan_result_t *r);

/* report.c */
void hscan__p_build_result(struct probe *p, hscan_result_t *r, int err,
                           const char *detail);

#endif
