/* Between the scanner and the probe: the probe depends only downward.
 *
 * The scanner fills one struct hscan__probe_env when it is made and
 * hands its address to every probe: everything a probe needs from
 * outside itself (the loop, the limits, the resolver, the gate, the
 * shared buffers, the byte counters, a TLS context) is there, and it
 * reports through the env's two callbacks.  A probe never calls into
 * the scanner, so a probe can be driven alone through a fake env
 * (test/test-probe.c).
 */
#ifndef HSCAN_PROBE_API_H
#define HSCAN_PROBE_API_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "hscan.h"
#include "queue.h"
#include "request.h"
#include "result.h"
#include "target.h"
#include "dns.h"

struct probe;
struct hscan__dns;
struct hscan__gate;
struct hscan__netset;

struct hscan__limits {
    uint64_t dns_timeout_ms, connect_timeout_ms, read_timeout_ms;
    uint64_t tls_timeout_ms;
    unsigned follow;
    int insecure;
    size_t max_header_bytes;
    unsigned max_headers;
    int family;
    size_t body_bytes;        /* cfg.body_bytes */
    int body_keep;            /* cfg.body_keep */
    int audit;                /* cfg.audit */
    int strict;               /* cfg.strict */
    int h2c;                  /* cfg.h2c */
    uint64_t proxy_timeout_ms;  /* cfg.proxy_timeout_ms */
    unsigned retries;           /* cfg.retries */
    int all_ips;              /* cfg.all_ips */
    int prefer_family;          /* cfg.prefer_family */
    uint64_t attempt_delay_ms;  /* cfg.attempt_delay_ms */
    int tls_chain;              /* cfg.tls_chain */
    /* ---- body hashes and favicon ---- */
    unsigned hash;              /* cfg.hash, 0: sha256 */
    int favicon;                /* cfg.favicon */
    size_t favicon_bytes;       /* cfg.favicon_bytes, 0 made 1 MiB */
    int body_hide;              /* bytes kept for the matchers only:
                                   r->body stays NULL */
};

/* --all-ips: what a probe's siblings need, handed to env->siblings
 * after its lookup (each sibling a probe pinned to one address, made
 * with hscan__probe_new() from `t`, then hscan__probe_pin()).  Valid
 * during the call only. */
struct hscan__sibs {
    const char *input;
    size_t input_len;
    struct hscan__target t;         /* the first hop (port 0: not given) */
    int scheme, fall_back;
    int listed;                     /* t.path is a cfg.paths entry */
    void *udata;
    uint64_t id;
    struct hscan__req *req;
    const struct hscan__addr *addrs;    /* the whole answer */
    unsigned n_addrs;
    const char *cnames;             /* n_cnames names back to back */
    unsigned n_cnames;
    size_t cnames_size;
    uint64_t t_dns0, t_dns;         /* the lookup (hrtime ns) */
    const unsigned char *pick;      /* the addresses to probe, indices */
    unsigned n_pick;
};

/* cfg.source_ips as socket addresses (port 0), and where the round
 * robin of each family stands (probe-tcp.c). */
struct hscan__srcs {
    unsigned n, next4, next6;
    struct sockaddr_storage ss[];
};

/* An IPv4 or IPv6 literal into `ss` (port 0); 0 or -1 (probe-src.c). */
int hscan__src_parse(const char *s, struct sockaddr_storage *ss);
/* `n` literals (all valid: hscan_config_check()) into `*out` (NULL
 * when n is 0; free() it).  0, HSCAN_EINVAL or HSCAN_ENOMEM. */
int hscan__srcs_new(struct hscan__srcs **out, const char *const *ips,
                    size_t n);

struct hscan__probe_env {
    uv_loop_t *loop;
    struct hscan__limits lim;
    struct hscan__dns *dns;
    struct hscan__gate *gate;       /* --max-per-ip, or NULL */
    const struct hscan__proxy *proxy;   /* cfg.proxy, or NULL */
    const struct hscan__netset *exclude;    /* cfg.exclude, or NULL */
    struct hscan__srcs *srcs;       /* cfg.source_ips, or NULL */
    uint64_t rng;                   /* retry jitter (probe-retry.c) */
    /* One thread: a read's bytes are used up before the next read, so
     * every probe reads into the same buffer, and TLS decrypts into the
     * second. */
    char *rbuf, *pbuf;
    size_t rbuf_size, pbuf_size;
    struct hscan__scratch *scratch; /* where result views are built */
    struct hscan__match *match;     /* cfg.matchers, extract, or NULL */
    uint64_t bytes_rx, bytes_tx;    /* counted by the probes */
    /* The TLS client context, made on first use; NULL when it cannot
     * be made (the probe records why). */
    SSL_CTX *(*tls_ctx)(void *arg);
    /* The one result of `p`; `r` is valid during the call only, and
     * NULL when the unit was skipped (unit_done said it is done).  The
     * probe is CLOSING and may not be touched again except through
     * on_freed. */
    void (*on_result)(void *arg, struct probe *p, hscan_result_t *r);
    /* `p`'s memory is gone: its handles have closed. */
    void (*on_freed)(void *arg, struct probe *p);
    /* cfg.unit_done, for --all-ips: 1 when the unit (input, listed
     * path or NULL, address as r->ip shows it) has its record; NULL:
     * never. */
    int (*unit_done)(void *arg, const char *input, size_t input_len,
                     const char *path, const char *ip);
    /* --all-ips: queue the siblings of a probe (NULL: none are made). */
    void (*siblings)(void *arg, const struct hscan__sibs *sb);
    /* Each state change (probe.c's state names), or NULL. */
    void (*trace)(void *arg, const struct probe *p, int from, int to);
    void *arg;
};

/* A probe for a parsed target over `scheme` (HSCAN__HTTP/HTTPS;
 * `fall_back`: https-first may retry over HTTP), sending what `req`
 * describes (the probe takes a reference).  The probe copies what it
 * needs of `input` and `t`.  Nothing runs until hscan__probe_run().
 * Returns NULL when out of memory. */
struct probe *hscan__probe_new(struct hscan__probe_env *env,
                               const char *input, size_t input_len,
                               const struct hscan__target *t, int scheme,
                               int fall_back, void *udata, uint64_t id,
                               struct hscan__req *req);
/* Mark `p` a unit of cfg.paths: its path (from `t`) is the listed
 * one, shown as r->path.  Before hscan__probe_run(). */
void hscan__probe_listed(struct probe *p);
/* --all-ips: `p` probes each address of its name as a unit of its own
 * (the target's first probe; siblings are pinned instead).  Before
 * hscan__probe_run(). */
void hscan__probe_expand(struct probe *p);
/* Pin `p` to address `pick` of the answer in `sb`: no lookup, that
 * address only, the answer's facts kept (out of memory: that address
 * alone).  Before hscan__probe_run(). */
void hscan__probe_pin(struct probe *p, const struct hscan__sibs *sb,
                      unsigned pick);
/* Begin the work.  The result may be delivered from inside this call
 * (an address literal excluded by -4/-6): the scanner runs it from its
 * own timer, never inside a user's call. */
void hscan__probe_run(struct probe *p);
/* Finish now with HSCAN_ECANCELED and `detail`. */
void hscan__probe_cancel(struct probe *p, const char *detail);
/* Ask `p` to finish canceled on a later loop iteration, with `detail`
 * (a static string), whatever else happens to it meanwhile.  Returns 1
 * when this asked, 0 when it was asked already or is finishing. */
int hscan__probe_cancel_soon(struct probe *p, const char *detail);
/* The target id given to hscan__probe_new(). */
uint64_t hscan__probe_id(const struct probe *p);
/* The node the scanner keeps `p` on (its in-flight list), and back. */
struct hscan__queue *hscan__probe_node(struct probe *p);
struct probe *hscan__probe_of(struct hscan__queue *node);
/* The name of a state number given to env->trace. */
const char *hscan__probe_state_name(int state);

#endif /* HSCAN_PROBE_API_H */
