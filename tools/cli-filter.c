/* cli-filter.c: which records are written (--match-status,
 * --filter-status, --match-error, --only-ok; and the library's
 * matchers, r->filtered, from cli-match.c).
 *
 * Filters act on the write only: every record is still counted (the
 * summary, the progress line) before the filter sees it, so "hscan: N
 * targets" stays the size of the scan whatever is kept.  Every test that
 * is given must pass (AND); the values inside one list are alternatives
 * (OR); see docs/cli.md "Picking out hosts".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hscan.h>

#include "cli.h"

void cli_bad_value(const char *opt, const char *v, const char *why)
{
    cli_die_usage("%s: '%s': %s", opt, v, why);
}

static void set_bit(unsigned char *set, unsigned i)
{
    set[i / 8] |= (unsigned char)(1u << (i % 8));
}

static int has_bit(const unsigned char *set, int i)
{
    return i >= 0 && i <= FILTER_STATUS_MAX &&
           (set[i / 8] >> (i % 8)) & 1;
}

/* One decimal number of 1 to 3 digits at *p; advances *p.  -1 when
 * there is none or it is longer. */
static int status_num(const char **p)
{
    int v = 0, digits = 0;

    while (**p >= '0' && **p <= '9') {
        if (++digits > 3)
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    return digits ? v : -1;
}

/* One item of a status list: N, N-M or a class Nxx, into `set`.
 * Returns 0, or -1 when it is none of those. */
static int status_item(unsigned char *set, const char *p, const char *end)
{
    int lo, hi, i;

    if (end - p == 3 && p[0] >= '1' && p[0] <= '9' && p[1] == 'x' &&
        p[2] == 'x') {
        lo = (p[0] - '0') * 100;
        hi = lo + 99;
    } else {
        lo = hi = status_num(&p);
        if (p < end && *p == '-') {
            p++;
            hi = status_num(&p);
        }
        if (lo < 0 || hi < lo || p != end)
            return -1;
    }
    for (i = lo; i <= hi; i++)
        set_bit(set, (unsigned)i);
    return 0;
}

static void parse_status(unsigned char *set, const char *opt, const char *v)
{
    const char *p = v, *comma;

    for (;;) {
        comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        if (status_item(set, p, comma) != 0)
            cli_bad_value(opt, v, "not a list of statuses, ranges or "
                          "classes (e.g. 200,301-399,5xx; 0: no response)");
        if (!*comma)
            return;
        p = comma + 1;
    }
}

/* The names a record's "error" can carry: the table's codes from
 * invalid_target on (the ones above it are API errors). */
static const int record_errors[] = {
#define XX(code, id, name, msg) code,
    HSCAN_ERRNO_MAP(XX)
#undef XX
};
#define N_CODES (sizeof(record_errors) / sizeof(record_errors[0]))

static void bad_error_name(const char *v, const char *name, size_t n)
{
    char why[2048];
    size_t i, k;

    k = (size_t)snprintf(why, sizeof(why), "unknown error name '%.*s'; "
                         "valid:", (int)n, name);
    for (i = 0; i < N_CODES; i++)
        if (record_errors[i] <= HSCAN_EINVALID_TARGET && k < sizeof(why))
            k += (size_t)snprintf(why + k, sizeof(why) - k, " %s",
                                  hscan_err_name(record_errors[i]));
    cli_bad_value("--match-error", v, why);
}

static void add_error(struct filter *f, const char *v, const char *name,
                      size_t n)
{
    size_t i;

    for (i = 0; i < N_CODES; i++) {
        const char *s = hscan_err_name(record_errors[i]);
        if (record_errors[i] <= HSCAN_EINVALID_TARGET && strlen(s) == n &&
            memcmp(s, name, n) == 0)
            break;
    }
    if (i == N_CODES)
        bad_error_name(v, name, n);
    if (f->n_errors < FILTER_MAX_ERRORS)     /* more are duplicates */
        f->errors[f->n_errors++] = record_errors[i];
}

static void parse_errors(struct filter *f, const char *v)
{
    const char *p = v, *comma;

    for (;;) {
        comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        add_error(f, v, p, (size_t)(comma - p));
        if (!*comma)
            return;
        p = comma + 1;
    }
}

void filter_note(struct filter *f, const char *opt)
{
    if (!f->active)
        f->first = opt;
    f->active = 1;
}

void filter_option(struct filter *f, int opt, const char *v)
{
    static const char *names[] = { "--match-status", "--filter-status",
                                   "--match-header", "--match-error",
                                   "--only-ok" };

    if (!f->active)
        f->first = names[opt - OPT_MATCH_STATUS];
    f->active = 1;
    switch (opt) {
    case OPT_MATCH_STATUS:
        f->has_match = 1;
        parse_status(f->match, "--match-status", v);
        break;
    case OPT_FILTER_STATUS:
        f->has_drop = 1;
        parse_status(f->drop, "--filter-status", v);
        break;
    case OPT_MATCH_ERROR: parse_errors(f, v); break;
    case OPT_ONLY_OK: f->only_ok = 1; break;
    }
}

static void conflict(const char *a, const char *b, const char *why)
{
    fprintf(stderr, "hscan-cli: %s with %s: %s\nTry 'hscan-cli --help'.\n",
            a, b, why);
    exit(2);
}

void filter_check(const struct filter *f, int resuming_both)
{
    int i, any = 0, any_response = 0;

    if (!f->active)
        return;
    /* --resume reads OUT and OUT.filtered: the two records of one
     * input under --scheme both may be split between them, and the
     * repair of a half pair rewrites OUT only. */
    if (resuming_both)
        conflict("--resume", f->first, "with --scheme both a filter may "
                 "split an input's two records between the output and "
                 "OUT.filtered, which --resume cannot repair; scan "
                 "without filters and select afterwards (jq)");
    if (f->only_ok && f->n_errors)
        conflict("--only-ok", "--match-error", "an ok record has no error");
    for (i = 0; i <= FILTER_STATUS_MAX; i++) {
        int kept = (!f->has_match || has_bit(f->match, i)) &&
                   !(f->has_drop && has_bit(f->drop, i));
        any |= kept;
        any_response |= kept && i > 0;
    }
    if (!any)
        conflict("--match-status", "--filter-status", "every status "
                 "matched is filtered out: nothing would be written");
    if (f->only_ok && !any_response)
        conflict("--only-ok", "--match-status 0", "an ok record always "
                 "has a status: nothing would be written");
}

int filter_side_open(struct filter *f, const char *out_path, int resuming,
                     struct done_set *ds, int quiet)
{
    long n;

    if (!f->active || !out_path)
        return 0;
    if (!(f->side_path = malloc(strlen(out_path) + sizeof(".filtered")))) {
        fprintf(stderr, "hscan-cli: out of memory\n");
        return 1;
    }
    sprintf(f->side_path, "%s.filtered", out_path);
    if (resuming) {
        if ((n = resume_load_filtered(ds, f->side_path)) < 0)
            return 1;
        if (!quiet && n)
            fprintf(stderr, "hscan-cli: resuming %s: %ld records filtered "
                    "out before\n", f->side_path, n);
    }
    f->side_fd = open(f->side_path, O_WRONLY | O_CREAT | O_CLOEXEC |
                      (resuming ? O_APPEND : O_TRUNC), 0666);
    if (f->side_fd < 0) {
        fprintf(stderr, "hscan-cli: cannot write %s: %s\n", f->side_path,
                strerror(errno));
        return 1;
    }
    f->side_on = 1;
    return 0;
}

/* A record filtered out, as one JSON line in OUT.filtered: written at
 * once (write(2)), so a kill loses at most the line being written,
 * which --resume cuts off and scans again. */
static void side_write(struct filter *f, const hscan_result_t *r)
{
    size_t n = hscan_result_to_json(r, NULL, 0), off = 0;

    if (n + 2 > f->jcap) {
        char *b = realloc(f->jbuf, n + 2);
        if (!b)
            return;                 /* not recorded: scanned again */
        f->jbuf = b;
        f->jcap = n + 2;
    }
    hscan_result_to_json(r, f->jbuf, n + 1);
    f->jbuf[n++] = '\n';
    while (off < n) {
        ssize_t w = write(f->side_fd, f->jbuf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

int filter_pass(struct filter *f, const hscan_result_t *r)
{
    size_t i;

    if (!f->active)
        return 1;
    if (f->only_ok && r->error)
        goto out;
    if (f->n_errors) {
        for (i = 0; i < f->n_errors && f->errors[i] != r->error; i++)
            ;
        if (i == f->n_errors)
            goto out;
    }
    if (f->has_match && !has_bit(f->match, r->status))
        goto out;
    if (f->has_drop && has_bit(f->drop, r->status))
        goto out;
    if (r->filtered)            /* the library's matchers (cli-match.c) */
        goto out;
    return 1;
out:
    f->dropped++;
    if (f->side_on)
        side_write(f, r);
    return 0;
}

void filter_free(struct filter *f)
{
    if (f->side_on)
        close(f->side_fd);
    f->side_on = 0;
    free(f->side_path);
    free(f->jbuf);
    f->side_path = f->jbuf = NULL;
    match_free();
}
