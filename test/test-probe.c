/* One probe alone, through a fake environment (probe-api.h): no
 * scanner, only a loop, the test HTTP server and what the env gives.
 * Checks the records, the order of the states each probe went through
 * (env->trace), and that the --max-per-ip gate queues a second probe to
 * the same address until the first lets go. */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "gate.h"
#include "probe-api.h"
#include "request.h"
#include "result.h"
#include "server-http.h"
#include "target.h"
#include "test-runner.h"

#define MAXP 4

struct fake {
    uv_loop_t loop;
    struct hscan__probe_env env;
    struct hscan__scratch scratch;
    struct hscan__req *req;
    struct tsrv_http *srv;
    char rbuf[65536], pbuf[16384];
    int results, freed, expect;
    int status[MAXP], err[MAXP];
    char trace[MAXP][256];          /* "NEW>CONNECT>..." per probe id */
    unsigned order[MAXP], n_order;  /* ids in the order results came */
};

static void on_result(void *arg, struct probe *p, hscan_result_t *r)
{
    struct fake *f = arg;
    uint64_t id = hscan__probe_id(p);

    CHECK(id < MAXP && r->id == id);
    f->status[id] = r->status;
    f->err[id] = r->error;
    f->order[f->n_order++] = (unsigned)id;
    f->results++;
}

static void on_freed(void *arg, struct probe *p)
{
    struct fake *f = arg;

    (void)p;
    if (++f->freed == f->expect)
        tsrv_http_stop(f->srv);
}

static void on_trace(void *arg, const struct probe *p, int from, int to)
{
    struct fake *f = arg;
    char *t = f->trace[hscan__probe_id(p)];
    size_t n = strlen(t);

    if (n == 0)
        n = (size_t)snprintf(t, 256, "%s", hscan__probe_state_name(from));
    snprintf(t + n, 256 - n, ">%s", hscan__probe_state_name(to));
}

static SSL_CTX *no_tls(void *arg)
{
    (void)arg;
    return NULL;
}

static void fake_init(struct fake *f)
{
    hscan_config_t cfg;

    memset(f, 0, sizeof(*f));
    CHECK(uv_loop_init(&f->loop) == 0);
    CHECK(tsrv_http_start(&f->loop, "127.0.0.1", 0, &f->srv) == 0);
    hscan_config_init(&cfg);
    cfg.timeout_ms = 5000;
    CHECK(hscan__req_new(&f->req, &cfg) == 0);
    f->env.loop = &f->loop;
    f->env.lim.dns_timeout_ms = 1000;
    f->env.lim.connect_timeout_ms = 1000;
    f->env.lim.read_timeout_ms = 1000;
    f->env.lim.tls_timeout_ms = 1000;
    f->env.lim.max_header_bytes = 65536;
    f->env.lim.max_headers = 256;
    f->env.lim.body_bytes = 1024;
    f->env.rbuf = f->rbuf;
    f->env.rbuf_size = sizeof(f->rbuf);
    f->env.pbuf = f->pbuf;
    f->env.pbuf_size = sizeof(f->pbuf);
    f->env.scratch = &f->scratch;
    f->env.tls_ctx = no_tls;
    f->env.on_result = on_result;
    f->env.on_freed = on_freed;
    f->env.trace = on_trace;
    f->env.arg = f;
}

static void start(struct fake *f, uint64_t id, const char *url)
{
    struct hscan__target t;
    const char *why;
    struct probe *p;

    CHECK(hscan__target_parse(url, strlen(url), &t, &why) == 0);
    p = hscan__probe_new(&f->env, url, strlen(url), &t, HSCAN__HTTP, 0,
                         NULL, id, f->req);
    CHECK(p != NULL);
    f->expect++;
    hscan__probe_run(p);
}

static void fake_done(struct fake *f)
{
    CHECK(uv_run(&f->loop, UV_RUN_DEFAULT) == 0);
    CHECK_INT(f->results, f->expect);
    CHECK_INT(f->freed, f->expect);
    CHECK(uv_loop_close(&f->loop) == 0);
    hscan__req_unref(f->req);
    hscan__scratch_free(&f->scratch);
}

TEST(probe_alone_fast)
{
    static struct fake f;
    char url[64];

    fake_init(&f);
    snprintf(url, sizeof(url), "127.0.0.1:%d/b/fast",
             tsrv_http_port(f.srv));
    start(&f, 0, url);
    fake_done(&f);
    CHECK_INT(f.err[0], 0);
    CHECK_INT(f.status[0], 200);
    CHECK_STR(f.trace[0], "NEW>CONNECT>READ>BODY>CLOSING");
}

TEST(probe_alone_refused)
{
    static struct fake f;
    uv_tcp_t t;
    struct sockaddr_in sa;
    int len = sizeof(sa);
    char url[64];

    fake_init(&f);
    /* A port nobody listens on: bind one and never listen. */
    CHECK(uv_tcp_init(&f.loop, &t) == 0);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    CHECK(uv_tcp_bind(&t, (struct sockaddr *)&sa, 0) == 0);
    CHECK(uv_tcp_getsockname(&t, (struct sockaddr *)&sa, &len) == 0);
    snprintf(url, sizeof(url), "127.0.0.1:%d/", ntohs(sa.sin_port));
    start(&f, 0, url);
    uv_close((uv_handle_t *)&t, NULL);
    fake_done(&f);
    CHECK_INT(f.err[0], HSCAN_ECONNECT_REFUSED);
    /* the refused socket closes before the probe knows there is no
     * other address */
    CHECK_STR(f.trace[0], "NEW>CONNECT>UNSOCK>CLOSING");
}

TEST(probe_gate_queues)
{
    static struct fake f;
    struct hscan__gate *g;
    char slow[64], fast[64];

    fake_init(&f);
    CHECK(hscan__gate_new(&g, 1) == 0);
    f.env.gate = g;
    snprintf(slow, sizeof(slow), "127.0.0.1:%d/b/delay-100",
             tsrv_http_port(f.srv));
    snprintf(fast, sizeof(fast), "127.0.0.1:%d/b/fast",
             tsrv_http_port(f.srv));
    start(&f, 0, slow);
    start(&f, 1, fast);
    fake_done(&f);
    CHECK_INT(f.status[0], 200);
    CHECK_INT(f.status[1], 200);
    /* the fast one waited for the slow one's place */
    CHECK_INT(f.order[0], 0);
    CHECK_INT(f.order[1], 1);
    CHECK_STR(f.trace[1], "NEW>GATE>CONNECT>READ>BODY>CLOSING");
    CHECK_INT(hscan__gate_waits(g), 1);
    CHECK_INT(hscan__gate_size(g), 0);
    hscan__gate_free(g);
}
