/* hscan-exporter's configuration parser (tools/exporter/exp-config.c,
 * libyaml underneath) on any bytes.
 *
 * Input: a YAML document, parsed whole.  Invariants: a refusal says
 * where ("line N: ...", NUL-terminated, within the buffer) and leaves
 * the output untouched; an accepted configuration has modules with a
 * name, a method, a family of 4 or 6, status codes from 100 to 999,
 * targets exactly when it has an interval, regexes that PCRE2 compiled
 * (the header match allowing a missing header last); freeing it frees
 * everything (the ASan and valgrind replays find leaks).  The same
 * bytes as a duration: accepted ones are below 2^64 ms by
 * construction. */
#include "fuzz.h"
#include "../../tools/exporter/exp-config.h"

static void check_module(const struct exp_module *m)
{
    size_t i;

    FUZZ_CHECK(m->name && m->name[0] && m->method);
    FUZZ_CHECK(m->prefer_family == 4 || m->prefer_family == 6);
    FUZZ_CHECK(!m->n_targets == !m->interval_ms);
    for (i = 0; i < m->n_valid_status; i++)
        FUZZ_CHECK(m->valid_status[i] >= 100 && m->valid_status[i] <= 999);
    for (i = 0; i < m->n_headers; i++)
        FUZZ_CHECK(strchr(m->headers[i], ':') && !strpbrk(m->headers[i],
                                                          "\r\n"));
    FUZZ_CHECK(!(m->fail_if_ssl && m->fail_if_not_ssl));
    /* the regexes: each with its pattern (a header for HEADER); the
     * header match that allows a missing header only last */
    FUZZ_CHECK(m->n_matchers <= HSCAN_MATCHERS_MAX);
    for (i = 0; i < m->n_matchers; i++) {
        const hscan_matcher_t *x = &m->matchers[i];
        FUZZ_CHECK(x->pattern && (x->kind == HSCAN_MATCH_REGEX ||
                                  (x->kind == HSCAN_MATCH_HEADER &&
                                   x->header && x->header[0])));
        if (x->kind == HSCAN_MATCH_HEADER && !x->filter &&
            (m->re_flags[i] & EXP_RE_ALLOW_MISSING))
            FUZZ_CHECK(i + 1 == m->n_matchers);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct exp_config cfg = { (struct exp_module *)&cfg, 12345 };
    char err[256], *s;
    uint64_t ms;
    size_t i;

    memset(err, 'x', sizeof err);
    if (exp_config_parse((const char *)data, size, &cfg, err,
                         sizeof err) < 0) {
        FUZZ_CHECK(memchr(err, 0, sizeof err) != NULL);
        FUZZ_CHECK(strncmp(err, "line ", 5) == 0 ||
                   strcmp(err, "out of memory") == 0);
        FUZZ_CHECK(cfg.n_mods == 12345);
    } else {
        for (i = 0; i < cfg.n_mods; i++) {
            check_module(&cfg.mods[i]);
            FUZZ_CHECK(exp_config_module(&cfg, cfg.mods[i].name) != NULL);
        }
        exp_config_free(&cfg);
    }
    s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = 0;
    if (exp_parse_duration(s, &ms) == 0)
        FUZZ_CHECK(s[0] != 0);
    free(s);
    return 0;
}
