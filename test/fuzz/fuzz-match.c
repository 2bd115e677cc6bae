/* The matcher parts that read what a user or a server gives: the CLI's
 * range list item (tools/cli-range.c) on any text, and a PCRE2 pattern
 * on any bytes compiled by hscan__match_check/new (lib/match.c) and run
 * as a match, a filter and an extractor over any body.
 *
 * Input: one selector byte; then for a range the text, for a pattern
 * its bytes up to the first NUL (at most 200) and the body after it.
 * Invariants: a range that parses has 0 <= low <= high, and a "<N" or
 * a "N-M" stays within N or M; a pattern either is refused with a
 * detail or compiles, and then its runs end (the match limits), a
 * match and a filter of it disagree unless the limits were reached,
 * and the extracts keep within HSCAN_EXTRACT_MAX values and
 * HSCAN_EXTRACT_BYTES bytes, each value a slice of the body. */
#include "fuzz.h"
#include "match.h"
#include "../../tools/cli.h"

static void range(const uint8_t *d, size_t n, int time)
{
    long long lo = -1, hi = -1;

    if (cli_range((const char *)d, n, time, &lo, &hi) != 0)
        return;
    FUZZ_CHECK(lo >= 0 && lo <= hi);
}

#ifdef HSCAN_HAVE_PCRE2
static void on_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s;
    (void)r;
    (void)arg;
}

static void pattern(const uint8_t *d, size_t n)
{
    const uint8_t *nul = memchr(d, 0, n < 200 ? n : 200);
    size_t plen = nul ? (size_t)(nul - d) : (n < 200 ? n : 200);
    char pat[201], detail[256];
    const char *field = NULL, *x[1];
    const char *body = (const char *)d + plen + (nul != NULL);
    size_t blen = n - plen - (nul != NULL), i, bytes = 0;
    hscan_matcher_t m[2];
    hscan_config_t c;
    hscan_result_t r;
    struct hscan__match *set;
    int lim;

    memcpy(pat, d, plen);
    pat[plen] = '\0';
    x[0] = pat;
    memset(m, 0, sizeof(m));
    m[0].kind = m[1].kind = HSCAN_MATCH_REGEX;
    m[0].pattern = m[1].pattern = pat;
    m[1].filter = 1;
    hscan_config_init(&c);
    c.on_result = on_result;
    c.body_bytes = 8192;
    c.matchers = m;
    c.n_matchers = 1;
    c.extract = x;
    c.n_extract = 1;
    if (hscan__match_check(&c, &field, detail, sizeof(detail)) != 0) {
        FUZZ_CHECK(field != NULL && detail[0] != '\0');
        return;
    }
    if (hscan__match_new(&set, &c) != 0)
        return;                     /* out of memory */
    memset(&r, 0, sizeof(r));
    r.status = 200;
    r.body_sha256 = "00";
    r.body_len = blen;
    lim = hscan__match_eval(set, &r, body, blen);
    FUZZ_CHECK(r.n_extracts <= HSCAN_EXTRACT_MAX);
    for (i = 0; i < r.n_extracts; i++) {
        const hscan_extract_t *e = &r.extracts[i];
        bytes += e->value_len;
        FUZZ_CHECK(e->key && e->value[e->value_len] == '\0');
        FUZZ_CHECK(e->value_len <= blen);
    }
    FUZZ_CHECK(bytes <= HSCAN_EXTRACT_BYTES);
    if (!lim) {
        int kept = !r.filtered;
        hscan__match_free(set);
        c.matchers = m + 1;         /* the same pattern as a filter */
        if (hscan__match_new(&set, &c) != 0)
            return;                 /* out of memory */
        memset(&r, 0, sizeof(r));
        r.status = 200;
        r.body_sha256 = "00";
        r.body_len = blen;
        if (!hscan__match_eval(set, &r, body, blen))
            FUZZ_CHECK(kept == r.filtered);
    }
    hscan__match_free(set);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned sel = fz_u8(&f);

    switch (sel % 3) {
    case 0: range(f.p, f.n, 0); break;
    case 1: range(f.p, f.n, 1); break;
    case 2:
#ifdef HSCAN_HAVE_PCRE2
        pattern(f.p, f.n);
#endif
        break;
    }
    return 0;
}
