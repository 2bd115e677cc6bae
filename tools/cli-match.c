/* cli-match.c: the library's matchers, filters and extractors from
 * the command line (--match-string ... --extract; docs/cli.md
 * "Matchers, filters, extractors").  The library decides (r->filtered,
 * hscan.h hscan_matcher_t for the rules) and fills r->extracts; the CLI
 * only does not write a record the library filtered out.
 *
 * Patterns go one per option (a regex may hold commas); the numeric
 * options take a comma list of ranges (cli-range.c), its items
 * alternatives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hscan.h>

#include "../lib/ascii.h"
#include "cli.h"

static struct {
    hscan_matcher_t *v;
    size_t n;
    const char **x;         /* --extract */
    size_t nx;
    int body;               /* an option reads the body */
} M;

static const struct {
    int opt;
    const char *name;
    int kind, filter;
} table[] = {
    { OPT_MATCH_STRING, "--match-string", HSCAN_MATCH_STRING, 0 },
    { OPT_FILTER_STRING, "--filter-string", HSCAN_MATCH_STRING, 1 },
    { OPT_MATCH_REGEX, "--match-regex", HSCAN_MATCH_REGEX, 0 },
    { OPT_FILTER_REGEX, "--filter-regex", HSCAN_MATCH_REGEX, 1 },
    { OPT_MATCH_HEADER, "--match-header", HSCAN_MATCH_HEADER, 0 },
    { OPT_FILTER_HEADER, "--filter-header", HSCAN_MATCH_HEADER, 1 },
    { OPT_MATCH_LENGTH, "--match-length", HSCAN_MATCH_LENGTH, 0 },
    { OPT_FILTER_LENGTH, "--filter-length", HSCAN_MATCH_LENGTH, 1 },
    { OPT_MATCH_WORDS, "--match-words", HSCAN_MATCH_WORDS, 0 },
    { OPT_FILTER_WORDS, "--filter-words", HSCAN_MATCH_WORDS, 1 },
    { OPT_MATCH_LINES, "--match-lines", HSCAN_MATCH_LINES, 0 },
    { OPT_FILTER_LINES, "--filter-lines", HSCAN_MATCH_LINES, 1 },
    { OPT_MATCH_TIME, "--match-time", HSCAN_MATCH_TIME, 0 },
    { OPT_FILTER_TIME, "--filter-time", HSCAN_MATCH_TIME, 1 },
    { OPT_EXTRACT, "--extract", 0, 0 },
};

const char *match_option_name(int opt)
{
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].opt == opt)
            return table[i].name;
    return NULL;
}

static hscan_matcher_t *add(const char *opt, int kind, int filter)
{
    hscan_matcher_t *m;

    if (M.n == HSCAN_MATCHERS_MAX)
        cli_die_usage("%s: more than %d matchers and filters", opt,
                      HSCAN_MATCHERS_MAX);
    if (!(m = realloc(M.v, (M.n + 1) * sizeof(*m)))) {
        fprintf(stderr, "hscan-cli: out of memory\n");
        exit(1);
    }
    M.v = m;
    m += M.n++;
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->filter = filter;
    return m;
}

static void no_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s;
    (void)r;
    (void)arg;
}

/* The library's verdict on one pattern, at once, naming the option. */
static void check_pattern(const char *opt, const char *v,
                          const hscan_matcher_t *m, const char *x)
{
    hscan_config_t c;
    char why[300], msg[360];
    const char *field;

    hscan_config_init(&c);
    c.on_result = no_result;
    c.body_bytes = 8192;
    c.matchers = m;
    c.n_matchers = m != NULL;
    c.extract = &x;
    c.n_extract = x != NULL;
    if (hscan_config_check(&c, &field, why, sizeof(why)) != 0) {
        const char *at = strstr(why, ": ");
        snprintf(msg, sizeof(msg), "bad regular expression: %s",
                 at ? at + 2 : why);
        cli_bad_value(opt, v, msg);
    }
}

static void need_pcre2(const char *opt)
{
    if (!strstr(hscan_features(), "pcre2"))
        cli_die_usage("%s: needs the pcre2 feature, which this build "
                      "lacks (hscan-cli --version lists the features)", opt);
}

/* 'Name: regex' (a value of header Name) or ': regex' (any header
 * line "Name: value"); an empty regex matches any value. */
static void header_option(const char *opt, int filter, const char *v)
{
    const char *colon = strchr(v, ':'), *re;
    hscan_matcher_t *m;
    char *name = NULL;
    size_t i;

    if (!colon)
        cli_bad_value(opt, v, "not 'Name: regex' (or ': regex' for any "
                      "header line)");
    for (i = 0; v + i < colon; i++)
        if (!hscan__is_tchar((unsigned char)v[i]))
            cli_bad_value(opt, v, "the header name is not an HTTP token");
    for (re = colon + 1; *re == ' ' || *re == '\t'; re++)
        ;
    if (colon > v && !(name = strndup(v, (size_t)(colon - v)))) {
        fprintf(stderr, "hscan-cli: out of memory\n");
        exit(1);
    }
    m = add(opt, HSCAN_MATCH_HEADER, filter);
    m->header = name;
    m->pattern = re;
    check_pattern(opt, v, m, NULL);
}

static void range_option(const char *opt, int kind, int filter,
                         const char *v)
{
    const char *p = v, *comma;

    for (;;) {
        hscan_matcher_t *m;
        long long lo, hi;
        comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        if (cli_range(p, (size_t)(comma - p), kind == HSCAN_MATCH_TIME,
                      &lo, &hi) != 0)
            cli_bad_value(opt, v, kind == HSCAN_MATCH_TIME
                ? "not a list of times or ranges (e.g. <500ms, >1s, "
                  "200ms-2s; a number alone is seconds)"
                : "not a list of numbers or ranges (e.g. 0, 100-200, "
                  "<10, >=1000)");
        m = add(opt, kind, filter);
        m->low = lo;
        m->high = hi;
        if (!*comma)
            return;
        p = comma + 1;
    }
}

void match_option(int opt, const char *v)
{
    size_t i;
    int kind, filter;
    const char *name;

    for (i = 0; table[i].opt != opt; i++)
        ;
    name = table[i].name;
    kind = table[i].kind;
    filter = table[i].filter;
    switch (opt) {
    case OPT_EXTRACT:
        need_pcre2(name);
        if (!(M.x = realloc(M.x, (M.nx + 1) * sizeof(*M.x)))) {
            fprintf(stderr, "hscan-cli: out of memory\n");
            exit(1);
        }
        M.x[M.nx++] = v;
        M.body = 1;
        check_pattern(name, v, NULL, v);
        return;
    case OPT_MATCH_STRING: case OPT_FILTER_STRING:
    case OPT_MATCH_REGEX: case OPT_FILTER_REGEX:
        need_pcre2(name);
        add(name, kind, filter)->pattern = v;
        M.body = 1;
        check_pattern(name, v, &M.v[M.n - 1], NULL);
        return;
    case OPT_MATCH_HEADER: case OPT_FILTER_HEADER:
        need_pcre2(name);
        header_option(name, filter, v);
        return;
    }
    if (kind == HSCAN_MATCH_WORDS || kind == HSCAN_MATCH_LINES)
        M.body = 1;
    range_option(name, kind, filter, v);
}

void match_finish(hscan_config_t *cfg)
{
    cfg->matchers = M.v;
    cfg->n_matchers = M.n;
    cfg->extract = M.x;
    cfg->n_extract = M.nx;
    if (M.body && cfg->body_bytes == 0)
        cfg->body_bytes = 8192;     /* --body-bytes 0 and a body option */
}

void match_free(void)
{
    size_t i;

    for (i = 0; i < M.n; i++)
        free((char *)M.v[i].header);
    free(M.v);
    free(M.x);
    memset(&M, 0, sizeof(M));
}
