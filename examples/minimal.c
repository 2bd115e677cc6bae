/* minimal: scan a list of targets (FILE, or stdin), one per line, and
 * print the input and its HTTP status or error name, as results finish:
 *
 *     $ printf 'example.com\nbad.example\n' | ./minimal
 *     example.com 200
 *     bad.example dns_nxdomain
 *
 * HSCAN_RESOLVERS ("ip[:port],...") and HSCAN_CA_FILE (PEM), when set,
 * replace the system's resolvers and add trusted CAs (the tests use
 * them).  getline() blocks the loop while no line is ready: fine for a
 * file or a pipe that keeps up, but a slow producer would stall the
 * probes in flight; read one with a uv_pipe_t and hscan_feed(), as
 * hscan-cli does.
 */
#define _POSIX_C_SOURCE 200809L   /* getline() */
#include <stdio.h>
#include <stdlib.h>

#include <hscan.h>

struct input {
    FILE *f;
    char *buf;                    /* getline()'s, reused for every line */
    size_t cap;
};

static int next_target(hscan_t *scan, void *arg, const char **line,
                       size_t *len, void **udata)
{
    struct input *in = arg;
    ssize_t n = getline(&in->buf, &in->cap, in->f);

    (void)scan;
    (void)udata;
    if (n < 0)
        return HSCAN_NEXT_END;
    *line = in->buf;              /* copied; the newline is trimmed */
    *len = (size_t)n;
    return HSCAN_NEXT_TARGET;
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)arg;
    if (r->error)
        printf("%.*s %s\n", (int)r->input_len, r->input,
               hscan_err_name(r->error));
    else
        printf("%.*s %d\n", (int)r->input_len, r->input, r->status);
}

static void on_drained(hscan_t *scan, void *arg)
{
    (void)arg;
    hscan_close(scan, NULL);      /* every result is out; uv_run returns */
}

int main(int argc, char **argv)
{
    struct input in = { stdin, NULL, 0 };
    hscan_config_t cfg;
    hscan_t *scan;
    int rc;

    if (argc > 1 && (in.f = fopen(argv[1], "r")) == NULL) {
        perror(argv[1]);
        return 1;
    }
    hscan_config_init(&cfg);
    cfg.resolvers = getenv("HSCAN_RESOLVERS");    /* NULL: the system's */
    cfg.ca_file = getenv("HSCAN_CA_FILE");
    cfg.next_target = next_target;
    cfg.on_result = on_result;
    cfg.on_drained = on_drained;
    cfg.arg = &in;
    if ((rc = hscan_new(&scan, uv_default_loop(), &cfg)) != 0) {
        fprintf(stderr, "hscan_new: %s\n", hscan_strerror(rc));
        return 1;
    }
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    free(in.buf);
    fclose(in.f);
    return uv_loop_close(uv_default_loop()) == 0 ? 0 : 1;
}
