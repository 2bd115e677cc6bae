/* api-env.c: the shared context of the API contract tests (api-env.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "api-env.h"
#include "test-runner.h"

void ctx_init(struct ctx *c, unsigned n)
{
    memset(c, 0, sizeof(*c));
    CHECK(uv_loop_init(&c->loop) == 0);
    CHECK(tsrv_dns_start(&c->loop, "127.0.0.1", 0, &c->dns) == 0);
    CHECK(tsrv_http_start(&c->loop, "127.0.0.1", 0, &c->http) == 0);
    c->dport = tsrv_dns_port(c->dns);
    c->hport = tsrv_http_port(c->http);
    snprintf(c->resolvers, sizeof(c->resolvers), "127.0.0.1:%d", c->dport);
    hscan_config_init(&c->cfg);
    c->cfg.scheme = HSCAN_SCHEME_HTTP;  /* plain-HTTP servers */
    c->cfg.resolvers = c->resolvers;
    c->cfg.timeout_ms = 8000;
    c->cfg.dns_timeout_ms = 3000;
    c->cfg.connect_timeout_ms = 3000;
    c->cfg.read_timeout_ms = 3000;
    c->cfg.arg = c;
    c->n = n;
    c->seen = calloc(n + 1, 1);
    c->err = calloc(n + 1, sizeof(int));
    c->status = calloc(n + 1, sizeof(int));
    CHECK(c->seen && c->err && c->status);
}

void ctx_stop_servers(struct ctx *c)
{
    if (c->servers_stopped)
        return;
    c->servers_stopped = 1;
    tsrv_dns_stop(c->dns);
    tsrv_http_stop(c->http);
    if (c->ticking) {
        c->ticking = 0;
        uv_close((uv_handle_t *)&c->tick, NULL);
    }
}

/* Run the loop to the end and check it is empty. */
void ctx_run(struct ctx *c)
{
    uv_run(&c->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&c->loop) == 0);
}

void ctx_free(struct ctx *c)
{
    free(c->seen);
    free(c->err);
    free(c->status);
}

/* Check each target got exactly one result. */
void check_once(const struct ctx *c)
{
    unsigned i, bad = 0;

    for (i = 0; i < c->n; i++)
        if (c->seen[i] != 1 && bad++ < 5)
            fprintf(stderr, "  target %u: %u results\n", i, c->seen[i]);
    CHECK_INT(bad, 0);
    CHECK_INT(c->results, c->n);
}

/* Record one result for udata = index + 1. */
unsigned note(struct ctx *c, const hscan_result_t *r)
{
    uintptr_t u = (uintptr_t)r->udata;
    unsigned i = (unsigned)(u - 1);

    if (c->in_call)
        c->nested++;
    CHECK(u >= 1 && u <= c->n);
    c->seen[i]++;
    c->err[i] = r->error;
    c->status[i] = r->status;
    c->results++;
    return i;
}

void on_closed(hscan_t *scan, void *arg)
{
    struct ctx *c = arg;

    (void)scan;
    if (c->in_call)
        c->nested++;
    c->closed++;
    ctx_stop_servers(c);
}

/* Close the scanner, marking the call. */
int close_scan(struct ctx *c)
{
    int rc;

    c->in_call = 1;
    rc = hscan_close(c->scan, on_closed);
    c->in_call = 0;
    return rc;
}

void drained_close(hscan_t *scan, void *arg)
{
    struct ctx *c = arg;

    CHECK(scan == c->scan);
    if (c->in_call)
        c->nested++;
    c->drained++;
    c->results_at_drain = c->results;
    CHECK(close_scan(c) == 0);
}

int new_scan(struct ctx *c)
{
    int rc;

    c->in_call = 1;
    rc = hscan_new(&c->scan, &c->loop, &c->cfg);
    c->in_call = 0;
    return rc;
}

int submit(struct ctx *c, const char *line, unsigned index)
{
    int rc;

    c->in_call = 1;
    rc = hscan_submit(c->scan, line, strlen(line),
                      (void *)(uintptr_t)(index + 1));
    c->in_call = 0;
    return rc;
}
