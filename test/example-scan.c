/* The README's embedding example, kept compiling by check-install.sh.
 * Scans the targets given as arguments (or prints the library version
 * with --version) on the caller's own loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hscan.h>

struct feed {
    char **argv;
    int argc, next;
};

static int next_target(hscan_t *scan, void *arg, const char **line,
                       size_t *len, void **udata)
{
    struct feed *f = arg;

    (void)scan;
    (void)udata;
    if (f->next == f->argc)
        return HSCAN_NEXT_END;
    *line = f->argv[f->next++];
    *len = strlen(*line);
    return HSCAN_NEXT_TARGET;
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    char small[4096], *buf = small;   /* r is valid only during this call */
    size_t n = hscan_result_to_json(r, small, sizeof(small));

    (void)scan;
    (void)arg;
    if (n >= sizeof(small) && (buf = malloc(n + 1)) != NULL)
        hscan_result_to_json(r, buf, n + 1);
    if (buf)
        puts(buf);
    if (buf != small)
        free(buf);
}

static void on_drained(hscan_t *scan, void *arg)
{
    (void)arg;
    hscan_close(scan, NULL);          /* every result has been delivered */
}

int main(int argc, char **argv)
{
    struct feed f = { argv, argc, 1 };
    uv_loop_t loop;
    hscan_config_t cfg;
    hscan_t *scan;
    int rc;

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("libhscan %s\n", hscan_version());
        return 0;
    }
    uv_loop_init(&loop);
    hscan_config_init(&cfg);
    cfg.next_target = next_target;
    cfg.on_result = on_result;
    cfg.on_drained = on_drained;
    cfg.arg = &f;
    if ((rc = hscan_new(&scan, &loop, &cfg)) != 0) {
        fprintf(stderr, "hscan_new: %s\n", hscan_strerror(rc));
        return 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);    /* returns once the scanner closed */
    return uv_loop_close(&loop) == 0 ? 0 : 1;
}
