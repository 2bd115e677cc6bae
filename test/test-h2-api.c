/* test-h2-api: HTTP/2 through the library, in-process (so the valgrind
 * suite runs the HTTP/2 leg under memcheck): the in-suite HTTP/2 server
 * (server-h2.h) on the test's loop, one scanner with the default offer,
 * targets by IP literal (the leaf has 127.0.0.1 in its SANs):
 *   - normal: HTTP/2, the fields in order, no reason, the title and the
 *     server's SETTINGS, WINDOW_UPDATE;
 *   - the same with hscan_submit_ex() http_version HSCAN_HTTP_1_1: the
 *     server answers HTTP/1.1, no h2 facts;
 *   - goaway: HSCAN_EH2_GOAWAY with the GOAWAY in r->h2;
 *   - a redirect followed over h2 (a new hop, a new session);
 *   - a PING flood: HSCAN_EH2_PROTOCOL, well before the server's 10 s;
 *   - the h1-talking server (ALPN h2, HTTP/1.1 bytes) with
 *     HSCAN_HTTP_2 per target: HSCAN_EH2_PROTOCOL;
 *   - the h1-only server with HSCAN_HTTP_2: HSCAN_EH2_NOT_NEGOTIATED.
 * Also the config and target-opts checks of the new fields.  Bounded by
 * a 20 s loop timer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hscan.h>
#include <uv.h>

#include "server-h2.h"
#include "server-tls.h"

#define CHECK(c) check((c), #c, __LINE__)

static int failures;
static uv_loop_t loop;
static uv_timer_t deadline;
static struct tsrv_h2 *h2srv, *h1only, *h1talk;
static struct tsrv_tls *tls;
static hscan_t *scan;
static int results;

enum { T_NORMAL, T_H11, T_GOAWAY, T_REDIRECT, T_PING, T_H1TALK, T_H1ONLY,
       T_POST, T_N };
#define POST_BODY "a=1&b=hello+world"
static struct tsrv_h2_counts counts_at_end;

static void check(int ok, const char *what, int line)
{
    if (!ok) {
        fprintf(stderr, "FAIL line %d: %s\n", line, what);
        failures++;
    }
}

static int has_field(const hscan_result_t *r, size_t i, const char *n,
                     const char *v)
{
    return i < r->n_headers && r->headers[i].name_len == strlen(n) &&
           memcmp(r->headers[i].name, n, strlen(n)) == 0 &&
           r->headers[i].value_len == strlen(v) &&
           memcmp(r->headers[i].value, v, strlen(v)) == 0;
}

static void on_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    int t = (int)(intptr_t)r->udata;

    (void)s;
    (void)arg;
    results++;
    switch (t) {
    case T_NORMAL:
        CHECK(r->error == 0 && r->status == 200);
        CHECK(r->http_major == 2 && r->reason == NULL);
        CHECK(has_field(r, 0, "server", "hscan-test-h2"));
        CHECK(has_field(r, 2, "x-dup", "1") && has_field(r, 3, "x-dup", "2"));
        CHECK(r->title && r->title_len == 9 &&
              memcmp(r->title, "h2 normal", 9) == 0);
        CHECK(r->h2 && r->h2->n_settings == 4 &&
              r->h2->settings[0].id == 3 && r->h2->settings[0].value == 100);
        CHECK(r->h2 && r->h2->window_update == TSRV_H2_CONN_WINDOW_INCREMENT);
        CHECK(r->h2 && !r->h2->goaway && !r->h2->rst_stream);
        CHECK(r->tls && r->tls->alpn && strcmp(r->tls->alpn, "h2") == 0);
        break;
    case T_H11:
        CHECK(r->error == 0 && r->status == 200);
        CHECK(r->http_major == 1 && r->h2 == NULL && r->reason != NULL);
        break;
    case T_GOAWAY:
        CHECK(r->error == HSCAN_EH2_GOAWAY && r->status == 0);
        CHECK(r->h2 && r->h2->goaway && r->h2->goaway_code == 11 &&
              r->h2->goaway_last_stream == 0);
        break;
    case T_REDIRECT:
        CHECK(r->error == 0 && r->status == 200 && r->n_redirects == 1);
        CHECK(r->n_redirects == 1 && r->redirects[0].status == 301);
        CHECK(r->http_major == 2 && r->h2 != NULL);
        break;
    case T_PING:
        CHECK(r->error == HSCAN_EH2_PROTOCOL);
        CHECK(r->total_ms < 8000);
        break;
    case T_H1TALK:
        CHECK(r->error == HSCAN_EH2_PROTOCOL && r->h2 != NULL);
        break;
    case T_H1ONLY:
        CHECK(r->error == HSCAN_EH2_NOT_NEGOTIATED && r->h2 == NULL);
        CHECK(r->fallback_error == 0);
        break;
    case T_POST:
        CHECK(r->error == 0 && r->status == 200 && r->http_major == 2);
        break;
    }
}

static void on_closed_scan(hscan_t *s, void *arg)
{
    (void)s;
    (void)arg;
    tsrv_h2_counts(h2srv, &counts_at_end);
    tsrv_h2_stop(h2srv);
    tsrv_h2_stop(h1only);
    tsrv_h2_stop(h1talk);
    tsrv_tls_stop(tls);
    uv_close((uv_handle_t *)&deadline, NULL);
}

static void on_drained(hscan_t *s, void *arg)
{
    (void)arg;
    hscan_close(s, on_closed_scan);
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "FAIL: deadline, %d results\n", results);
    exit(1);
}

static void submit(int t, int port, const char *path, int version)
{
    char line[128];
    hscan_target_opts_t o;

    snprintf(line, sizeof(line), "https://127.0.0.1:%d%s", port, path);
    hscan_target_opts_init(&o);
    o.http_version = version;
    CHECK(hscan_submit_ex(scan, line, strlen(line), (void *)(intptr_t)t,
                          &o, NULL) == 0);
}

static void checks_of_config(void)
{
    hscan_config_t c;
    hscan_target_opts_t o;
    const char *field = NULL;
    char d[128];

    hscan_config_init(&c);
    c.on_result = on_result;
    CHECK(c.http_version == HSCAN_HTTP_DEFAULT && c.h2c == 0);
    c.http_version = 3;
    CHECK(hscan_config_check(&c, &field, d, sizeof(d)) == HSCAN_EINVAL &&
          field && strcmp(field, "http_version") == 0);
    c.http_version = HSCAN_HTTP_2;
    c.h2c = 2;
    CHECK(hscan_config_check(&c, &field, d, sizeof(d)) == HSCAN_EINVAL &&
          field && strcmp(field, "h2c") == 0);
    c.h2c = 1;
    CHECK(hscan_config_check(&c, NULL, NULL, 0) == 0);
    hscan_target_opts_init(&o);
    o.http_version = -1;
    CHECK(hscan_target_opts_check(&o, &field, d, sizeof(d)) ==
          HSCAN_EINVAL && strcmp(field, "http_version") == 0);
    CHECK(strstr(hscan_features(), "http2") != NULL);
    CHECK(strcmp(hscan_err_name(HSCAN_EH2_NOT_NEGOTIATED),
                 "h2_not_negotiated") == 0);
}

int main(void)
{
    char ca_path[] = "/tmp/hscan-h2-api-ca.XXXXXX";
    int fd = mkstemp(ca_path);
    hscan_config_t cfg;
    int port;

    alarm(30);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    checks_of_config();
    uv_loop_init(&loop);
    /* the TLS server's CA signs the HTTP/2 servers' leaves too */
    CHECK(tsrv_tls_start(&loop, "127.0.0.1", 0, ca_path, &tls) == 0);
    if (failures)
        return 1;
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, TSRV_H2_TLS,
                        tsrv_tls_ca(tls), NULL, &h2srv) == 0);
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, TSRV_H2_TLS_H1ONLY,
                        tsrv_tls_ca(tls), NULL, &h1only) == 0);
    CHECK(tsrv_h2_start(&loop, "127.0.0.1", 0, TSRV_H2_TLS_H1TALK,
                        tsrv_tls_ca(tls), NULL, &h1talk) == 0);
    if (failures)
        return 1;
    hscan_config_init(&cfg);
    cfg.on_result = on_result;
    cfg.on_drained = on_drained;
    cfg.ca_file = ca_path;
    cfg.body_bytes = 4096;
    cfg.follow = 2;
    cfg.timeout_ms = 15000;
    CHECK(hscan_new(&scan, &loop, &cfg) == 0);
    port = tsrv_h2_port(h2srv);
    submit(T_NORMAL, port, "/h2/normal", 0);
    submit(T_H11, port, "/h2/normal", HSCAN_HTTP_1_1);
    submit(T_GOAWAY, port, "/h2/goaway", 0);
    submit(T_REDIRECT, port, "/h2/redirect", 0);
    submit(T_PING, port, "/h2/ping-flood", 0);
    submit(T_H1TALK, tsrv_h2_port(h1talk), "/", HSCAN_HTTP_2);
    submit(T_H1ONLY, tsrv_h2_port(h1only), "/", HSCAN_HTTP_2);
    {   /* a request body over HTTP/2: DATA after the HEADERS */
        hscan_target_opts_t o;
        char line[128];
        hscan_target_opts_init(&o);
        o.method = "POST";
        o.body = POST_BODY;
        o.body_len = strlen(POST_BODY);
        snprintf(line, sizeof(line), "https://127.0.0.1:%d/h2/normal",
                 port);
        CHECK(hscan_submit_ex(scan, line, strlen(line),
                              (void *)(intptr_t)T_POST, &o, NULL) == 0);
    }
    hscan_end_input(scan);
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, 20000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(results == T_N);
    CHECK(counts_at_end.data_bytes == strlen(POST_BODY));
    CHECK(uv_loop_close(&loop) == 0);
    unlink(ca_path);
    if (failures)
        return 1;
    printf("h2-api: %d results, all checks passed\n", results);
    return 0;
}
