/* api-env.h: what the API contract tests (test-api.c, test-api-close.c)
 * share.
 *
 * Each test owns a uv loop and the loopback DNS and HTTP servers; the
 * scanner resolves through that DNS server only.  A struct ctx holds
 * them, the config, the scanner and what came back per target (udata is
 * the target's index + 1).  Calls into the library made through these
 * helpers are marked, so a callback fired from inside one is counted in
 * `nested`.
 */
#ifndef HSCAN_TEST_API_ENV_H
#define HSCAN_TEST_API_ENV_H

#include <uv.h>

#include "hscan.h"
#include "server-dns.h"
#include "server-http.h"

/* Tests that extend this struct put it first, so the scanner's `arg`
 * can be read as a struct ctx by the shared callbacks. */
struct ctx {
    uv_loop_t loop;
    struct tsrv_http *http;
    struct tsrv_dns *dns;
    int hport, dport;
    char resolvers[32];
    hscan_config_t cfg;
    hscan_t *scan;
    int in_call;            /* inside a call into the library */

    /* targets and what came back */
    unsigned n;             /* targets given */
    unsigned next;          /* pull position */
    unsigned char *seen;    /* results per target */
    int *err;               /* error per target */
    int *status;            /* status per target */
    char line[128];
    unsigned results, drained, closed, nested;
    unsigned results_at_drain, results_after_close_call;
    unsigned pulls_after_end, ended;
    int servers_stopped;

    /* sampling */
    uv_timer_t tick;
    int ticking;
    unsigned max_in_flight, max_threads, ticks;
};

/* A loop with the DNS and HTTP servers, a plain-HTTP config through that
 * DNS server with `arg` = c, and room for the results of `n` targets. */
void ctx_init(struct ctx *c, unsigned n);

/* Stop the servers and the sampling timer (once). */
void ctx_stop_servers(struct ctx *c);

/* Run the loop to the end and check it is empty. */
void ctx_run(struct ctx *c);

void ctx_free(struct ctx *c);

/* Check each target got exactly one result. */
void check_once(const struct ctx *c);

/* Record one result for udata = index + 1; returns the index. */
unsigned note(struct ctx *c, const hscan_result_t *r);

/* hscan_close_cb: count the close and stop the servers. */
void on_closed(hscan_t *scan, void *arg);

/* Close the scanner, marking the call. */
int close_scan(struct ctx *c);

/* hscan_drained_cb: count the drain, then close_scan(). */
void drained_close(hscan_t *scan, void *arg);

/* hscan_new() and hscan_submit() (udata = index + 1), marking the call. */
int new_scan(struct ctx *c);
int submit(struct ctx *c, const char *line, unsigned index);

#endif
