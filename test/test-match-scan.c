/* The matchers, filters and extractors (cfg.matchers, cfg.extract)
 * through a real scan against the loopback test servers: the body as
 * read, the headers of the final response, records without a
 * response, the body bytes kept for the matchers but not shown with
 * body_keep 0, "match_limit" in the anomalies, and words and lines in
 * the record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hscan.h"
#include "scan-env.h"
#include "test-runner.h"

/* The fast server's body: "<html><title>fast</title></html>". */

static struct rec *scan(struct env *e, const hscan_matcher_t *m, size_t n,
                        const char *const *x, size_t nx, const char *fmt)
{
    static char line[128];
    const char *lines[1] = { line };

    snprintf(line, sizeof(line), fmt, e->hport);
    e->cfg.body_bytes = 4096;
    e->cfg.matchers = m;
    e->cfg.n_matchers = n;
    e->cfg.extract = x;
    e->cfg.n_extract = nx;
    env_scan(e, lines, 1);
    return &e->recs[0];
}

TEST_T(match_body_and_headers, 30)
{
    const hscan_matcher_t m[] = {
        { HSCAN_MATCH_STRING, 0, "<TITLE>FAST", NULL, 0, 0 },
        { HSCAN_MATCH_HEADER, 0, "^hscan-test$", "server", 0, 0 },
        { HSCAN_MATCH_REGEX, 1, "title>slow", NULL, 0, 0 },
        { HSCAN_MATCH_WORDS, 0, NULL, NULL, 1, 1 },
        { HSCAN_MATCH_LENGTH, 0, NULL, NULL, 32, 32 },
    };
    const char *x[] = { "<(?<tag>[a-z]+)>" };
    struct env e;
    struct rec *r;

    env_init(&e);
    e.cfg.body_keep = 0;
    r = scan(&e, m, 5, x, 1, "fast.test:%d");
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->filtered, 0);
    CHECK_INT(r->filtered_by, -1);
    /* kept for the matchers, not shown */
    CHECK(r->body == NULL && r->body_len == 32);
    CHECK(strstr(r->json, "\"sha256\":") != NULL);
    CHECK(strstr(r->json, "\"words\":1,\"lines\":1},\"extracts\":"
                          "{\"values\":{\"tag\":[\"html\",\"title\"]},"
                          "\"truncated\":false},\"audit\"") != NULL);
    env_done(&e);
}

TEST_T(match_drops, 30)
{
    const hscan_matcher_t m[] = {
        { HSCAN_MATCH_STATUS, 0, NULL, NULL, 200, 299 },
        { HSCAN_MATCH_REGEX, 0, "not found", NULL, 0, 0 },
    };
    struct env e;
    struct rec *r;

    env_init(&e);
    r = scan(&e, m, 2, NULL, 0, "notfound.test:%d");
    EXPECT_STATUS(r, 404);
    CHECK_INT(r->filtered, 1);
    CHECK_INT(r->filtered_by, 0);
    CHECK(strstr(r->json, "\"extracts\"") == NULL);  /* none asked */
    env_done(&e);
}

/* A record without a response is matched too: no pattern finds a body. */
TEST_T(match_no_response, 30)
{
    const hscan_matcher_t m[] = {
        { HSCAN_MATCH_STRING, 0, "", NULL, 0, 0 },
    };
    const char *x[] = { "." };
    struct env e;
    struct rec *r;

    env_init(&e);
    r = scan(&e, m, 1, x, 1, "nx.test:%d");
    CHECK(r->error == HSCAN_EDNS_NXDOMAIN);
    CHECK_INT(r->filtered, 1);
    CHECK(strstr(r->json, "\"body\":null,\"extracts\":{\"values\":{},"
                          "\"truncated\":false}") != NULL);
    env_done(&e);
}

/* A pattern that backtracks without end over the page: the run stops
 * at the limits, the match fails, and the record says so. */
TEST_T(match_limit_named, 30)
{
    const hscan_matcher_t m[] = {
        { HSCAN_MATCH_REGEX, 0, "^(\\W|\\w|.)*\\d", NULL, 0, 0 },
    };
    struct env e;
    struct rec *r;

    env_init(&e);
    r = scan(&e, m, 1, NULL, 0, "fast.test:%d");
    EXPECT_STATUS(r, 200);
    CHECK_INT(r->filtered, 1);
    CHECK(strstr(r->json, "\"anomalies\":[\"match_limit\"]") != NULL);
    env_done(&e);
}
