/* hscan-exporter: what its files share.  One loop carries the HTTP
 * server (exp-server.c), one hscan scanner per module of the current
 * configuration (exp-module.c) and the batch rounds. */
#ifndef EXPORTER_H
#define EXPORTER_H

#include <stdint.h>
#include <uv.h>
#include <hscan.h>

#include "exp-config.h"
#include "exp-facts.h"
#include "exp-req.h"

#define EXP_HIST_BUCKETS 12

/* Counters of one module name, kept across reloads. */
struct exp_modstat {
    char *name;
    uint64_t success, failure;
    uint64_t hist[EXP_HIST_BUCKETS]; /* probe durations, cumulative */
    double sum;
};

struct exp_gen;
struct exp_conn;

struct exp {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sighup, sigterm, sigint;
    int stopping;
    const char *config_path;
    const char *listen;
    struct exp_gen *gen;           /* the current configuration */
    unsigned max_probes, in_flight; /* scrapes' probes */
    unsigned batch_in_flight;
    unsigned max_conns, n_conns;
    uint64_t idle_ms;
    double timeout_offset;
    char **allow;                  /* --allow-targets patterns */
    size_t n_allow;
    double start_time;
    /* own metrics */
    struct exp_modstat *stats;
    size_t n_stats;
    double reload_ok_time;
    int reload_ok;
    uint64_t reloads_failed, module_unknown, refused_busy, refused_conns,
             requests, bad_requests, forbidden;
    struct exp_conn *conns;        /* open connections, for shutdown */
};

/* ---- exp-server.c: connections ---- */
int exp_server_start(struct exp *e, char *err, size_t size);
void exp_server_stop(struct exp *e);
/* Answer the request of `c` (keep-alive permitting). */
void exp_reply(struct exp_conn *c, int status, const char *ctype,
               const char *body, size_t len);
/* The same with a malloc'd body, freed by the server once written. */
void exp_reply_owned(struct exp_conn *c, int status, const char *ctype,
                     char *body, size_t len);
/* The request being answered. */
const struct exp_req *exp_conn_req(const struct exp_conn *c);

/* ---- exporter.c: routes ---- */
void exp_route(struct exp *e, struct exp_conn *c);
/* Connection gone while its scrape runs: drop it. */
void exp_scrape_abandon(struct exp *e, void *scrape);
void exp_conn_set_scrape(struct exp_conn *c, void *scrape);

/* ---- exp-module.c: configurations and their scanners ---- */
struct exp_rmod;
struct exp_gen *exp_gen_new(struct exp *e, struct exp_config *cfg,
                            char *err, size_t size);
void exp_gen_ref(struct exp_gen *g);
void exp_gen_unref(struct exp_gen *g);
void exp_gen_retire(struct exp_gen *g);
struct exp_rmod *exp_gen_module(struct exp_gen *g, const char *name);
const struct exp_module *exp_rmod_config(const struct exp_rmod *rm);
/* Probe `target` for a scrape; `done(arg, facts)` runs with the result.
 * Returns 0, or -1 when the scanner refused it. */
typedef void (*exp_done_cb)(void *arg, const struct exp_facts *f);
int exp_probe(struct exp_rmod *rm, const char *target, uint64_t timeout_ms,
              exp_done_cb done, void *arg, uint64_t *id);
void exp_probe_cancel(struct exp_rmod *rm, uint64_t id);
/* Batch results of a module as metrics (empty before the first round
 * ends); -1 when the module has no targets. */
int exp_batch_render(struct exp_rmod *rm, struct exp_buf *b);
void exp_gen_stats(struct exp_gen *g, struct exp_buf *b);
struct exp_modstat *exp_modstat(struct exp *e, const char *name);
double exp_now(void);
/* Upper bounds of the probe duration histogram's buckets. */
const double *exp_hist_bounds(void);

#endif
