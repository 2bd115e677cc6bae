/* Unit tests of the matchers, filters and extractors (lib/match.c) and
 * of the word and line counter (lib/wordcount.c), on records made here:
 * each kind, ranges, the combination rules (hscan.h hscan_matcher_t),
 * the match limits against a catastrophic pattern, the extractor caps,
 * and words and lines over every split of a body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hscan.h"
#include "match.h"
#include "wordcount.h"
#include "test-runner.h"

/* ---- words and lines ---- */

/* httpx's counts, written the slow way from its definition: words =
 * len(strings.Split(body, " ")), lines = len(strings.Split(
 * strings.TrimSpace(body), "\n")), 0 and 0 for an empty body. */
static void oracle(const char *b, size_t n, long long *words,
                   long long *lines)
{
    size_t i, s = 0, e = n;

    *words = *lines = 0;
    if (n == 0)
        return;
    *words = 1;
    for (i = 0; i < n; i++)
        *words += b[i] == ' ';
    while (s < e && strchr(" \t\n\v\f\r", b[s]) && b[s])
        s++;
    while (e > s && strchr(" \t\n\v\f\r", b[e - 1]) && b[e - 1])
        e--;
    *lines = 1;
    for (i = s; i < e; i++)
        *lines += b[i] == '\n';
}

TEST(words_lines_every_split)
{
    static const char *const bodies[] = {
        "", " ", "\n", "a", "a b", "a  b ", "\n\na\nb\n\n", "a\r\nb\r\n",
        " \t\nx y\n z\n\n \n", "no-space-or-newline", "\n \n \n",
        "<html>\n<title>t</title>\n</html>\n",
    };
    size_t k, cut;

    for (k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
        const char *b = bodies[k];
        size_t n = strlen(b);
        long long w, l;
        oracle(b, n, &w, &l);
        for (cut = 0; cut <= n; cut++) {
            struct hscan__wcount wc;
            size_t i;
            memset(&wc, 0, sizeof(wc));
            hscan__wcount_feed(&wc, b, cut);
            /* the rest a byte at a time */
            for (i = cut; i < n; i++)
                hscan__wcount_feed(&wc, b + i, 1);
            if (hscan__wcount_words(&wc) != w ||
                hscan__wcount_lines(&wc) != l)
                fprintf(stderr, "  body %zu cut %zu\n", k, cut);
            CHECK_INT(hscan__wcount_words(&wc), w);
            CHECK_INT(hscan__wcount_lines(&wc), l);
        }
    }
}

/* Random bodies of SP, LF, CR, HT and letters, fed in random chunks. */
TEST(words_lines_random_chunks)
{
    static const char alphabet[] = "  \n\n\r\tab";
    char b[300];
    unsigned seed = 12345, k;

    for (k = 0; k < 3000; k++) {
        size_t n = (seed = seed * 1103515245u + 12345u) >> 16 & 255, i;
        struct hscan__wcount wc;
        long long w, l;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            b[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        oracle(b, n, &w, &l);
        memset(&wc, 0, sizeof(wc));
        for (i = 0; i < n;) {
            size_t step;
            seed = seed * 1103515245u + 12345u;
            step = 1 + (seed >> 16) % 17;
            if (step > n - i)
                step = n - i;
            hscan__wcount_feed(&wc, b + i, step);
            i += step;
        }
        CHECK_INT(hscan__wcount_words(&wc), w);
        CHECK_INT(hscan__wcount_lines(&wc), l);
    }
}

/* Long bodies fed whole and in odd chunks (the 16-byte blocks, their
 * 255-block sums, and the bytes after them). */
TEST(words_lines_long_bodies)
{
    static const char alphabet[] = " \n\r\tabcdefgh";
    static char b[20000];
    static const size_t sizes[] = { 15, 16, 17, 4079, 4080, 4081, 4096,
                                    8192, 20000 };
    unsigned seed = 777;
    size_t k, i;

    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k], step;
        struct hscan__wcount wc, wc2;
        long long w, l;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            b[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        oracle(b, n, &w, &l);
        memset(&wc, 0, sizeof(wc));
        hscan__wcount_feed(&wc, b, n);
        CHECK_INT(hscan__wcount_words(&wc), w);
        CHECK_INT(hscan__wcount_lines(&wc), l);
        memset(&wc2, 0, sizeof(wc2));
        for (i = 0; i < n; i += step) {
            step = n - i < 1000 ? n - i : 1000;
            hscan__wcount_feed(&wc2, b + i, step);
        }
        CHECK_INT(hscan__wcount_words(&wc2), w);
        CHECK_INT(hscan__wcount_lines(&wc2), l);
    }
}

/* ---- records to match ---- */

#define BODY "<html><title>Admin Login</title>\nversion=1.2.3 build 77\n"

static const hscan_header_t heads[] = {
    { "Server", 6, "nginx/1.25.3", 12 },
    { "X-Dup", 5, "1", 1 },
    { "x-dup", 5, "2", 1 },
    { "Content-Length", 14, "57", 2 },
};

/* A 200 with BODY read, its headers, and `ms` total. */
static void record(hscan_result_t *r, double ms)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    r->headers = heads;
    r->n_headers = sizeof(heads) / sizeof(heads[0]);
    r->content_length = 57;
    r->body_len = strlen(BODY);
    r->body_sha256 = "00";
    r->body_words = 4;
    r->body_lines = 3;
    r->total_ms = ms;
}

static void on_result(hscan_t *s, const hscan_result_t *r, void *arg)
{
    (void)s;
    (void)r;
    (void)arg;
}

static void config(hscan_config_t *c, const hscan_matcher_t *m, size_t n,
                   const char *const *x, size_t nx)
{
    hscan_config_init(c);
    c->on_result = on_result;
    c->body_bytes = 8192;
    c->matchers = m;
    c->n_matchers = n;
    c->extract = x;
    c->n_extract = nx;
}

/* r->filtered_by for matchers m[0..n) over `r` and BODY. */
static int decide(const hscan_matcher_t *m, size_t n, hscan_result_t *r)
{
    struct hscan__match *set;
    hscan_config_t c;

    config(&c, m, n, NULL, 0);
    CHECK(hscan_config_check(&c, NULL, NULL, 0) == 0);
    CHECK(hscan__match_new(&set, &c) == 0 && set != NULL);
    hscan__match_eval(set, r, BODY, strlen(BODY));
    hscan__match_free(set);
    CHECK(r->filtered == (r->filtered_by >= 0));
    return r->filtered_by;
}

#define M(kind, pat) { HSCAN_MATCH_##kind, 0, pat, NULL, 0, 0 }
#define F(kind, pat) { HSCAN_MATCH_##kind, 1, pat, NULL, 0, 0 }
#define MR(kind, lo, hi) { HSCAN_MATCH_##kind, 0, NULL, NULL, lo, hi }
#define FR(kind, lo, hi) { HSCAN_MATCH_##kind, 1, NULL, NULL, lo, hi }
#define KEPT(...) do {                                                    \
        const hscan_matcher_t m_[] = { __VA_ARGS__ };                     \
        hscan_result_t r_;                                                \
        record(&r_, 120);                                                 \
        CHECK_INT(decide(m_, sizeof(m_) / sizeof(m_[0]), &r_), -1);       \
    } while (0)
#define DROPPED_BY(by, ...) do {                                          \
        const hscan_matcher_t m_[] = { __VA_ARGS__ };                     \
        hscan_result_t r_;                                                \
        record(&r_, 120);                                                 \
        CHECK_INT(decide(m_, sizeof(m_) / sizeof(m_[0]), &r_), by);       \
    } while (0)

TEST(each_kind)
{
    hscan_matcher_t h = { HSCAN_MATCH_HEADER, 0, "^nginx/", "server", 0, 0 };
    hscan_matcher_t hl = { HSCAN_MATCH_HEADER, 0, "^Server: nginx", NULL,
                           0, 0 };
    hscan_matcher_t dup = { HSCAN_MATCH_HEADER, 0, "^2$", "X-DUP", 0, 0 };
    hscan_matcher_t none = { HSCAN_MATCH_HEADER, 0, "", "X-None", 0, 0 };

    /* string: ASCII case-insensitive, a literal (no regex syntax) */
    KEPT(M(STRING, "admin login"));
    KEPT(M(STRING, "1.2.3"));
    DROPPED_BY(0, M(STRING, "1.2.4"));
    DROPPED_BY(0, M(STRING, "1.2.."));
    DROPPED_BY(0, F(STRING, "ADMIN"));
    KEPT(F(STRING, "password"));
    /* regex: bytes, case as written */
    KEPT(M(REGEX, "version=[0-9]+\\.[0-9]+"));
    DROPPED_BY(0, M(REGEX, "^version"));        /* not multiline */
    KEPT(M(REGEX, "(?m)^version"));
    DROPPED_BY(0, M(REGEX, "admin"));
    DROPPED_BY(0, F(REGEX, "build \\d+"));
    /* header: a named header's values (any of them), or any line */
    KEPT(h);
    KEPT(hl);
    KEPT(dup);
    DROPPED_BY(0, none);
    none.pattern = "";
    none.header = "x-dup";          /* empty: the header is present */
    KEPT(none);
    hl.filter = 1;
    DROPPED_BY(0, hl);
    /* numbers: Content-Length, words, lines, time, status */
    KEPT(MR(LENGTH, 57, 57));
    DROPPED_BY(0, MR(LENGTH, 0, 56));
    KEPT(MR(WORDS, 4, 4));
    DROPPED_BY(0, FR(WORDS, 0, 10));
    KEPT(MR(LINES, 2, 3));
    KEPT(MR(TIME, 0, 499));
    DROPPED_BY(0, MR(TIME, 1001, 1 << 30));
    KEPT(MR(STATUS, 200, 299));
    DROPPED_BY(0, FR(STATUS, 200, 200));
}

/* httpx's rules: a filter that matches drops; every regex and header
 * match must match; other matches of one kind are alternatives; kinds
 * combine with AND. */
TEST(combination_rules)
{
    /* alternatives within a kind */
    KEPT(MR(STATUS, 404, 404), MR(STATUS, 200, 200));
    KEPT(M(STRING, "nope"), M(STRING, "admin"));
    DROPPED_BY(0, M(STRING, "nope"), M(STRING, "nada"));
    /* every regex match */
    DROPPED_BY(1, M(REGEX, "Admin"), M(REGEX, "nope"), M(REGEX, "build"));
    KEPT(M(REGEX, "Admin"), M(REGEX, "build"));
    /* kinds: AND; the first match of the failing kind decides */
    DROPPED_BY(1, MR(STATUS, 200, 200), MR(WORDS, 9, 9), MR(WORDS, 8, 8));
    DROPPED_BY(0, M(STRING, "x"), MR(STATUS, 200, 200),
               MR(LINES, 9, 9));
    /* a filter wins over matches */
    DROPPED_BY(1, M(STRING, "admin"), F(REGEX, "Login"));
    KEPT(M(STRING, "admin"), F(REGEX, "login"), FR(STATUS, 500, 599));
}

/* A record without a response (an error): no pattern or count range
 * matches; the time and status 0 do. */
TEST(no_response)
{
    hscan_matcher_t m[2] = { MR(STATUS, 0, 0), MR(TIME, 0, 10) };
    hscan_matcher_t s[1] = { F(STRING, "") };
    hscan_matcher_t l[1] = { MR(LENGTH, 0, 1 << 30) };
    struct hscan__match *set;
    hscan_config_t c;
    hscan_result_t r;

    memset(&r, 0, sizeof(r));
    r.error = HSCAN_ECONNECT_REFUSED;
    r.content_length = r.body_words = r.body_lines = -1;
    r.total_ms = 3;
    CHECK_INT(decide(m, 2, &r), -1);
    CHECK_INT(decide(s, 1, &r), -1);    /* "" finds no body */
    CHECK_INT(decide(l, 1, &r), 0);
    config(&c, s, 1, NULL, 0);
    CHECK(hscan__match_new(&set, &c) == 0);
    hscan__match_eval(set, &r, NULL, 0);
    CHECK_INT(r.filtered, 0);
    hscan__match_free(set);
}

/* Content length as httpx: Content-Length above 0, else the bytes
 * read. */
TEST(length_from_body)
{
    hscan_matcher_t m[1] = { MR(LENGTH, 10, 10) };
    hscan_result_t r;

    record(&r, 1);
    r.content_length = -1;
    r.body_len = 10;
    CHECK_INT(decide(m, 1, &r), -1);
    r.content_length = 0;
    CHECK_INT(decide(m, 1, &r), -1);
    r.content_length = 11;
    CHECK_INT(decide(m, 1, &r), 0);
}

TEST(config_refusals)
{
    hscan_matcher_t m[1] = { M(REGEX, "a(b") };
    const char *x[1] = { "(?<n" };
    const char *field = NULL;
    char why[256];
    hscan_config_t c;

    config(&c, m, 1, NULL, 0);
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    CHECK_STR(field, "matchers");
    CHECK(strstr(why, "[0].pattern") && strstr(why, "offset"));
    m[0].pattern = "ok";
    c.body_bytes = 0;               /* no body read: refused */
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    CHECK_STR(field, "matchers");
    c.body_bytes = 10;
    m[0].kind = HSCAN_MATCH_WORDS;  /* a count with a pattern */
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    m[0].pattern = NULL;
    m[0].low = 5;
    m[0].high = 4;
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    m[0].high = 5;
    CHECK(hscan_config_check(&c, NULL, NULL, 0) == 0);
    c.body_bytes = 0;               /* words of no body: refused too */
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    m[0].kind = HSCAN_MATCH_STATUS; /* needs no body */
    CHECK(hscan_config_check(&c, NULL, NULL, 0) == 0);
    c.body_bytes = 10;
    m[0].kind = HSCAN_MATCH_WORDS;
    m[0].kind = 99;
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    config(&c, NULL, 0, x, 1);
    CHECK(hscan_config_check(&c, &field, why, sizeof(why)) == HSCAN_EINVAL);
    CHECK_STR(field, "extract");
    /* hscan_new refuses it too, through the same check */
    {
        uv_loop_t loop;
        hscan_t *s = NULL;
        CHECK(uv_loop_init(&loop) == 0);
        CHECK(hscan_new(&s, &loop, &c) == HSCAN_EINVAL && s == NULL);
        uv_loop_close(&loop);
    }
}

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* (a+)+$ over "aaa...ab" backtracks 2^n ways: the limits end every run
 * (as no match, and "match_limit" said), in milliseconds. */
TEST_T(catastrophic_pattern_bounded, 60)
{
    static const char *const pats[] = { "(a+)+$", "(a|a)+$", "(a|aa)+$",
                                        "^(\\w+\\s?)*$" };
    static char body[8192];
    hscan_matcher_t m[1] = { M(REGEX, NULL) };
    hscan_matcher_t f[1] = { F(REGEX, NULL) };
    struct hscan__match *set;
    hscan_config_t c;
    hscan_result_t r;
    size_t k;

    memset(body, 'a', sizeof(body) - 1);
    body[sizeof(body) - 2] = '!';
    for (k = 0; k < sizeof(pats) / sizeof(pats[0]); k++) {
        const char *x[1] = { pats[k] };
        double t0, ms;
        int lim;
        m[0].pattern = f[0].pattern = pats[k];
        config(&c, m, 1, x, 1);
        CHECK(hscan__match_new(&set, &c) == 0);
        record(&r, 1);
        r.body_len = sizeof(body) - 1;
        t0 = now_ms();
        lim = hscan__match_eval(set, &r, body, r.body_len);
        ms = now_ms() - t0;
        hscan__match_free(set);
        fprintf(stderr, "  %s: %.2f ms, limited %d\n", pats[k], ms, lim);
        CHECK_INT(lim, 1);
        CHECK_INT(r.filtered, 1);   /* a match that ran out: no match */
        CHECK(ms < 2000);           /* unbounded: years */
        config(&c, f, 1, NULL, 0);
        CHECK(hscan__match_new(&set, &c) == 0);
        CHECK_INT(hscan__match_eval(set, &r, body, r.body_len), 1);
        CHECK_INT(r.filtered, 0);   /* nor does it drop as a filter */
        hscan__match_free(set);
    }
}

/* Values in pattern order, then match order; named groups as keys. */
TEST(extract_values)
{
    const char *x[3] = { "(?<major>\\d+)\\.(?<minor>\\d+)", "build \\d+",
                         "nothing here" };
    struct hscan__match *set;
    hscan_config_t c;
    hscan_result_t r;

    config(&c, NULL, 0, x, 3);
    CHECK(hscan__match_new(&set, &c) == 0);
    record(&r, 1);
    hscan__match_eval(set, &r, BODY, strlen(BODY));
    CHECK_INT(r.n_extracts, 3);
    CHECK_INT(r.extracts_truncated, 0);
    CHECK_STR(r.extracts[0].key, "major");
    CHECK_STR(r.extracts[0].value, "1");
    CHECK_STR(r.extracts[1].key, "minor");
    CHECK_STR(r.extracts[1].value, "2");
    CHECK_STR(r.extracts[2].key, "extract_2");
    CHECK_STR(r.extracts[2].value, "build 77");
    CHECK_INT(r.filtered, 0);
    /* without a body: none, but the key stays (r->extracts set) */
    record(&r, 1);
    r.body_sha256 = NULL;
    r.body_words = r.body_lines = -1;
    hscan__match_eval(set, &r, NULL, 0);
    CHECK(r.extracts != NULL && r.n_extracts == 0);
    hscan__match_free(set);
}

/* At most HSCAN_EXTRACT_MAX values and HSCAN_EXTRACT_BYTES bytes; a
 * value that does not fit is left out whole, and the cut is named. */
TEST(extract_caps)
{
    static char body[20000];
    const char *count[1] = { "x" };
    const char *bytes[1] = { "y{300}" };
    const char *empty[1] = { "z*" };
    struct hscan__match *set;
    hscan_config_t c;
    hscan_result_t r;
    size_t i, sum = 0;

    memset(body, 'x', 100);
    memset(body + 100, 'y', 10000);
    config(&c, NULL, 0, count, 1);
    CHECK(hscan__match_new(&set, &c) == 0);
    record(&r, 1);
    hscan__match_eval(set, &r, body, 100);
    CHECK_INT(r.n_extracts, HSCAN_EXTRACT_MAX);
    CHECK_INT(r.extracts_truncated, 1);
    hscan__match_free(set);
    /* 300-byte values: 13 fit in 4096 bytes, the 14th is cut */
    config(&c, NULL, 0, bytes, 1);
    CHECK(hscan__match_new(&set, &c) == 0);
    record(&r, 1);
    hscan__match_eval(set, &r, body, 10100);
    CHECK_INT(r.n_extracts, HSCAN_EXTRACT_BYTES / 300);
    CHECK_INT(r.extracts_truncated, 1);
    for (i = 0; i < r.n_extracts; i++) {
        CHECK_INT(r.extracts[i].value_len, 300);
        sum += r.extracts[i].value_len;
    }
    CHECK(sum <= HSCAN_EXTRACT_BYTES);
    hscan__match_free(set);
    /* empty matches advance: one per byte position, capped */
    config(&c, NULL, 0, empty, 1);
    CHECK(hscan__match_new(&set, &c) == 0);
    record(&r, 1);
    hscan__match_eval(set, &r, body, 3);
    CHECK_INT(r.n_extracts, 4);     /* at 0, 1, 2 and the end */
    CHECK_INT(r.extracts_truncated, 0);
    hscan__match_eval(set, &r, body, sizeof(body));
    CHECK_INT(r.n_extracts, HSCAN_EXTRACT_MAX);
    CHECK_INT(r.extracts_truncated, 1);
    hscan__match_free(set);
}

/* A NUL in the body is a byte like another. */
TEST(binary_body)
{
    static const char body[] = "ab\0cd\xff\xfe" "ef";
    hscan_matcher_t m[2] = { M(REGEX, "cd\\xff\\xfeef"), M(STRING, "B") };
    const char *x[1] = { "\\x00(..)" };
    struct hscan__match *set;
    hscan_config_t c;
    hscan_result_t r;

    config(&c, m, 2, x, 1);
    CHECK(hscan__match_new(&set, &c) == 0);
    record(&r, 1);
    CHECK_INT(hscan__match_eval(set, &r, body, sizeof(body) - 1), 0);
    CHECK_INT(r.filtered, 0);
    CHECK_INT(r.n_extracts, 1);
    CHECK_INT(r.extracts[0].value_len, 3);
    CHECK(memcmp(r.extracts[0].value, "\0cd", 3) == 0);
    hscan__match_free(set);
}
