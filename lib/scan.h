/* The scanner's state, shared by scan.c (lifecycle, the pump, feeding)
 * and scan-ctl.c (submitting, cancelling, pausing, statistics,
 * sharding).  Nothing here is public API. */
#ifndef HSCAN_SCAN_H
#define HSCAN_SCAN_H

#include "dns.h"
#include "probe-api.h"
#include "queue.h"
#include "request.h"
#include "stats.h"
#include "tls.h"
#include "util.h"

#define RBUF_SIZE 65536
#define PBUF_SIZE 16384     /* one TLS record of plain text */

/* A submitted line waiting for a slot (or for its canceled record). */
struct subq {
    struct hscan__queue node;
    void *udata;
    uint64_t id;
    struct hscan__req *req;         /* what to send: a reference */
    size_t len;
    char line[];
};

/* The units of one target still to start (cfg.paths: the paths after
 * the first; cfg.all_ips: a probe's sibling addresses).  They go before
 * submitted and pulled targets, so a name's units finish together. */
struct unitq {
    struct hscan__queue node;
    int sibs;                       /* 1: sb.pick addresses, 0: paths */
    unsigned next, end;             /* the next path or pick, and the end */
    struct hscan__sibs sb;          /* input, udata, id, req (a reference)
                                       for both; the rest for siblings,
                                       pointing into mem */
    char mem[];
};

struct hscan {
    uv_loop_t *loop;
    struct hscan__probe_env env;    /* what every probe is given */
    struct hscan__req *req;         /* the config's request description */
    struct hscan__proxy *proxy;     /* cfg.proxy, or NULL */
    struct hscan__netset *exclude;  /* cfg.exclude, or NULL */
    unsigned concurrency;
    unsigned shard_index, shard_count;
    hscan_next_cb next;
    hscan_result_cb on_result;
    hscan_drained_cb on_drained;
    void *arg;
    struct hscan__dns *dns;
    struct hscan__gate *gate;       /* --max-per-ip, or NULL */
    SSL_CTX *ssl_ctx;               /* NULL until needed, see below */
    struct hscan__tls_ctxs tls_ctxs; /* targets' own TLS options */
    char *ca_file;
    int mode;                       /* enum hscan_scheme */

    uv_timer_t pump;
    int pump_armed;
    unsigned rate, burst;           /* token bucket; rate 0: none */
    double tokens;
    uint64_t t_tokens;
    struct hscan__queue active;     /* in-flight probes */
    unsigned n_active;
    unsigned n_alloc;               /* probes not yet freed */
    struct hscan__queue subq;       /* submitted, not yet started */
    struct hscan__queue canceled;   /* canceled before they started */
    struct hscan__queue units;      /* struct unitq, before subq */
    struct hscan__queue ucanceled;  /* units canceled before they
                                       started */
    char **paths;                   /* cfg.paths (one block), or NULL */
    size_t n_paths;
    int all_ips;
    int (*unit_done)(hscan_t *, void *, const char *, size_t,
                     const char *, const char *);
    uint64_t n_queued;
    uint64_t next_id;
    int paused;
    int input_end, want_feed, drained_fired;
    int closing;                    /* hscan_close() was called */
    int closed;                     /* everything canceled, handles
                                       closing: freed when all are */
    int handles;
    hscan_closed_cb closed_cb;
    hscan_stats_t st;
    struct hscan__dns_stats dns_base; /* at the last hscan_stats_reset() */
    uint64_t waits_base;
    struct hscan__counts counts;
    struct hscan__scratch scratch;
    char rbuf[RBUF_SIZE];
    char pbuf[PBUF_SIZE];
};

/* What a probe (or a record made without one) is started with. */
struct launch {
    void *udata;
    uint64_t id;
    struct hscan__req *req;
    const char *path;               /* the listed path (r->path), or NULL */
    const char *ip;                 /* a sibling's address, for a record
                                       made without its probe */
};

/* scan.c, for scan-units.c */
/* A record for a unit that never became a probe. */
void hscan__scan_emit(hscan_t *s, const char *line, size_t len,
                      const struct launch *l, int err, const char *detail);
/* Count `p` in flight and run it. */
void hscan__scan_run(hscan_t *s, struct probe *p);
/* Start path `i` of cfg.paths for the valid target `t` of `line`. */
void hscan__scan_start_path(hscan_t *s, const char *line, size_t len,
                            struct hscan__target *t, struct launch *l,
                            size_t i);

/* scan-units.c */
/* cfg.paths into s->paths (one block); 0 or -1 (out of memory). */
int hscan__units_copy_paths(hscan_t *s, const hscan_config_t *c);
/* Queue paths 1.. of a target just started at path 0. */
void hscan__units_paths(hscan_t *s, const char *line, size_t len,
                        const struct launch *l);
/* env.siblings: queue a probe's other addresses. */
void hscan__units_siblings(void *arg, const struct hscan__sibs *sb);
/* Start the next queued unit (s->units not empty). */
void hscan__units_take(hscan_t *s);
/* One canceled record per unit left in `list`, which is emptied. */
void hscan__units_emit_canceled(hscan_t *s, struct hscan__queue *list,
                                const char *detail);
/* Move the queued units of target `id` to ucanceled; 1 when any. */
int hscan__units_cancel(hscan_t *s, uint64_t id);

/* Run the pump on the next loop iteration (if not armed already). */
void hscan__scan_schedule(hscan_t *s);
/* The DNS counters since the last hscan_stats_reset() into `st`. */
void hscan__scan_dns_stats(const hscan_t *s, hscan_stats_t *st);
/* 64-bit FNV-1a of the lowercase host without a trailing dot, or of the
 * whole line when `t` is NULL (not a valid target): hscan_shard_of(). */
uint64_t hscan__shard_hash(const char *line, size_t len,
                           const struct hscan__target *t);

#endif /* HSCAN_SCAN_H */
