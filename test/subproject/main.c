/* consumer: scan one target given on the command line through libhscan
 * built as a meson subproject, on this program's own loop, and print
 * what check-subproject.sh asserts.
 *
 * usage: consumer URL PATH
 * URL is given without a path and PATH is the per-target override
 * (hscan_submit_ex), so the request goes to URL + PATH. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hscan.h>

static int closed;

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)arg;
    printf("result id=%" PRIu64 " status=%d error=%s\n", r->id, r->status,
           hscan_err_name(r->error));
}

static void on_closed(hscan_t *scan, void *arg)
{
    (void)scan;
    (void)arg;
    closed = 1;
}

static void on_drained(hscan_t *scan, void *arg)
{
    hscan_stats_t st;

    (void)arg;
    hscan_stats(scan, &st);
    printf("stats submitted=%" PRIu64 " finished=%" PRIu64 " ok=%" PRIu64
           "\n", st.submitted, st.finished, st.ok);
    hscan_close(scan, on_closed);
}

int main(int argc, char **argv)
{
    hscan_target_opts_t opts;
    hscan_config_t cfg;
    uv_loop_t loop;
    hscan_t *scan;
    uint64_t id = 0;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: consumer URL PATH\n");
        return 2;
    }
    printf("version %s %s\n", hscan_version(), HSCAN_VERSION_STRING);
    if (uv_loop_init(&loop) != 0)
        return 1;
    hscan_config_init(&cfg);
    cfg.concurrency = 4;
    cfg.timeout_ms = 5000;
    cfg.on_result = on_result;
    cfg.on_drained = on_drained;
    if ((rc = hscan_new(&scan, &loop, &cfg)) != 0) {
        fprintf(stderr, "hscan_new: %s\n", hscan_strerror(rc));
        return 1;
    }
    hscan_target_opts_init(&opts);
    opts.path = argv[2];
    rc = hscan_submit_ex(scan, argv[1], strlen(argv[1]), NULL, &opts, &id);
    if (rc == 0)
        rc = hscan_end_input(scan);
    if (rc != 0) {
        fprintf(stderr, "submit: %s\n", hscan_strerror(rc));
        hscan_close(scan, on_closed);
    }
    printf("submitted id=%" PRIu64 "\n", id);
    uv_run(&loop, UV_RUN_DEFAULT);    /* returns once the scanner closed */
    printf("closed=%d loop_close=%d\n", closed, uv_loop_close(&loop));
    return rc == 0 && closed ? 0 : 1;
}
