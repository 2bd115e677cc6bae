/* Matchers, filters and extractors (cfg.matchers, cfg.extract): the
 * patterns are compiled once per scanner with PCRE2 (JIT-compiled when
 * the platform allows, else run by the interpreter), every run bounded
 * by a match, depth and heap limit, and one match data block serves
 * every run (the loop is one thread).  Patterns see bytes, not UTF-8:
 * a body may hold anything.
 *
 * Built without PCRE2 the numeric kinds still work; a pattern is
 * refused by hscan_config_check().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HSCAN_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

#include "match.h"

static int is_pattern_kind(int k)
{
    return k == HSCAN_MATCH_STRING || k == HSCAN_MATCH_REGEX ||
           k == HSCAN_MATCH_HEADER;
}

/* 1 when a matcher or extractor needs the body's bytes kept; with
 * `counts`, also when one needs its words or lines. */
static int body_use(const hscan_config_t *c, int counts)
{
    size_t i;

    if (c->n_extract)
        return 1;
    for (i = 0; i < c->n_matchers; i++) {
        int k = c->matchers[i].kind;
        if (k == HSCAN_MATCH_STRING || k == HSCAN_MATCH_REGEX ||
            (counts && (k == HSCAN_MATCH_WORDS || k == HSCAN_MATCH_LINES)))
            return 1;
    }
    return 0;
}

int hscan__match_needs_body(const hscan_config_t *c)
{
    return body_use(c, 0);
}

int hscan__match_reads_body(const hscan_config_t *c)
{
    return body_use(c, 1);
}

static int bad(const char **field, char *detail, size_t size,
               const char *f, const char *fmt, size_t i, const char *why)
{
    if (field)
        *field = f;
    if (detail && size)
        snprintf(detail, size, fmt, i, why);
    return HSCAN_EINVAL;
}

#ifdef HSCAN_HAVE_PCRE2

struct pat {
    pcre2_code *code;
    int named;                  /* extractor: named groups */
    char key[32];               /* extractor: "extract_N" */
};

struct hscan__match {
    const hscan_matcher_t *m;   /* copied, patterns into `strings` */
    size_t n;
    struct pat *mp;             /* per matcher (code NULL: numeric) */
    struct pat *xp;             /* per extractor */
    size_t nx;
    char *strings;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    char *line;                 /* "Name: value" for HEADER */
    size_t line_cap;
    hscan_extract_t ex[HSCAN_EXTRACT_MAX];
    char exbuf[HSCAN_EXTRACT_BYTES + HSCAN_EXTRACT_MAX];
    int limited;                /* a run reached the limits */
};

static pcre2_code *compile(const char *pat, int literal, char *why,
                           size_t size)
{
    uint32_t opts = literal ? PCRE2_LITERAL | PCRE2_CASELESS : 0;
    PCRE2_SIZE off;
    int err;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                  opts, &err, &off, NULL);

    if (!c) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof(msg));
        snprintf(why, size, "%s at offset %zu", (const char *)msg,
                 (size_t)off);
        return NULL;
    }
    /* JIT when it can; the interpreter runs it otherwise */
    (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    return c;
}

#endif /* HSCAN_HAVE_PCRE2 */

/* One matcher's shape (not its pattern's syntax). */
static const char *shape(const hscan_matcher_t *m)
{
    if (m->kind < HSCAN_MATCH_STRING || m->kind > HSCAN_MATCH_STATUS)
        return "kind is not an enum hscan_match_kind value";
    if (m->filter != 0 && m->filter != 1)
        return "filter must be 0 or 1";
    if (is_pattern_kind(m->kind)) {
        if (!m->pattern)
            return "pattern is NULL";
        if (m->header && m->kind != HSCAN_MATCH_HEADER)
            return "header is for HSCAN_MATCH_HEADER only";
        if (m->header && !*m->header)
            return "header is empty";
        return NULL;
    }
    if (m->pattern || m->header)
        return "a numeric kind takes no pattern or header";
    if (m->low < 0 || m->high < m->low)
        return "range must have 0 <= low <= high";
    return NULL;
}

int hscan__match_check(const hscan_config_t *c, const char **field,
                       char *detail, size_t size)
{
    char why[200];
    size_t i;
    const char *w;

    if (c->n_matchers > HSCAN_MATCHERS_MAX || (c->n_matchers &&
                                               !c->matchers))
        return bad(field, detail, size, "matchers", "%zu: %s",
                   c->n_matchers, "more than HSCAN_MATCHERS_MAX, or NULL");
    if (c->n_extract > HSCAN_MATCHERS_MAX || (c->n_extract && !c->extract))
        return bad(field, detail, size, "extract", "%zu: %s",
                   c->n_extract, "more than HSCAN_MATCHERS_MAX, or NULL");
    for (i = 0; i < c->n_matchers; i++)
        if ((w = shape(&c->matchers[i])) != NULL)
            return bad(field, detail, size, "matchers", "[%zu]: %s", i, w);
    for (i = 0; i < c->n_extract; i++)
        if (!c->extract[i])
            return bad(field, detail, size, "extract", "[%zu]: %s", i,
                       "NULL");
#ifdef HSCAN_HAVE_PCRE2
    for (i = 0; i < c->n_matchers; i++) {
        const hscan_matcher_t *m = &c->matchers[i];
        pcre2_code *code;
        if (!is_pattern_kind(m->kind))
            continue;
        if (!(code = compile(m->pattern, m->kind == HSCAN_MATCH_STRING,
                             why, sizeof(why))))
            return bad(field, detail, size, "matchers",
                       "[%zu].pattern: %s", i, why);
        pcre2_code_free(code);
    }
    for (i = 0; i < c->n_extract; i++) {
        pcre2_code *code = compile(c->extract[i], 0, why, sizeof(why));
        if (!code)
            return bad(field, detail, size, "extract", "[%zu]: %s", i,
                       why);
        pcre2_code_free(code);
    }
#else
    for (i = 0; i < c->n_matchers; i++)
        if (is_pattern_kind(c->matchers[i].kind))
            return bad(field, detail, size, "matchers", "[%zu].pattern: %s",
                       i, "patterns need PCRE2, which is not built in");
    if (c->n_extract)
        return bad(field, detail, size, "extract", "%zu: %s", c->n_extract,
                   "extractors need PCRE2, which is not built in");
    (void)why;
#endif
    return 0;
}

/* ---- numeric kinds ---- */

static int in(const hscan_matcher_t *m, long long v)
{
    return v >= m->low && v <= m->high;
}

/* The content length as httpx takes it: Content-Length above 0, else
 * the body bytes read; -1 without a response. */
static long long length_of(const hscan_result_t *r)
{
    if (!r->status)
        return -1;
    return r->content_length > 0 ? r->content_length : (long long)r->body_len;
}

static int numeric(const hscan_matcher_t *m, const hscan_result_t *r)
{
    switch (m->kind) {
    case HSCAN_MATCH_LENGTH: return in(m, length_of(r));
    case HSCAN_MATCH_WORDS: return in(m, r->body_words);
    case HSCAN_MATCH_LINES: return in(m, r->body_lines);
    case HSCAN_MATCH_TIME:
        return r->total_ms >= 0 && in(m, (long long)r->total_ms);
    case HSCAN_MATCH_STATUS: return in(m, r->status);
    }
    return 0;
}

#ifdef HSCAN_HAVE_PCRE2

/* One run of `code` over s[0..n) from `off`: 1 match, 0 none (the
 * limits reached count as none, noted in m->limited). */
static int run(struct hscan__match *m, const pcre2_code *code,
               const char *s, size_t n, size_t off)
{
    int rc = pcre2_match(code, (PCRE2_SPTR)(s ? s : ""), n, off, 0, m->md,
                         m->mctx);

    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
        rc == PCRE2_ERROR_NOMEMORY)
        m->limited = 1;
    return 0;
}

static int name_is(const hscan_header_t *h, const char *name)
{
    return h->name_len == strlen(name) &&
           strncasecmp(h->name, name, h->name_len) == 0;
}

/* A header line "Name: value" into m->line; its length, or -1. */
static long header_line(struct hscan__match *m, const hscan_header_t *h)
{
    size_t need = h->name_len + 2 + h->value_len;

    if (need > m->line_cap) {
        char *b = realloc(m->line, need);
        if (!b)
            return -1;
        m->line = b;
        m->line_cap = need;
    }
    memcpy(m->line, h->name, h->name_len);
    memcpy(m->line + h->name_len, ": ", 2);
    memcpy(m->line + h->name_len + 2, h->value, h->value_len);
    return (long)need;
}

static int header(struct hscan__match *m, const hscan_matcher_t *x,
                  const pcre2_code *code, const hscan_result_t *r)
{
    size_t i;
    long n;

    for (i = 0; i < r->n_headers; i++) {
        const hscan_header_t *h = &r->headers[i];
        if (x->header) {
            if (name_is(h, x->header) &&
                run(m, code, h->value, h->value_len, 0))
                return 1;
        } else if ((n = header_line(m, h)) >= 0 &&
                   run(m, code, m->line, (size_t)n, 0)) {
            return 1;
        }
    }
    return 0;
}

static int test(struct hscan__match *m, size_t i, const hscan_result_t *r,
                const char *body, size_t len)
{
    const hscan_matcher_t *x = &m->m[i];

    switch (x->kind) {
    case HSCAN_MATCH_STRING:
    case HSCAN_MATCH_REGEX:
        return r->body_words >= 0 &&        /* a body was read */
               run(m, m->mp[i].code, body, len, 0);
    case HSCAN_MATCH_HEADER:
        return header(m, x, m->mp[i].code, r);
    }
    return numeric(x, r);
}

/* ---- extractors ---- */

/* Add s[0..n) under `key`; 0, or -1 when a cap is reached. */
static int add_value(struct hscan__match *m, hscan_result_t *r,
                     size_t *used, const char *key, const char *s, size_t n)
{
    char *at = m->exbuf + *used + r->n_extracts;
    hscan_extract_t *e;

    if (r->n_extracts == HSCAN_EXTRACT_MAX ||
        *used + n > HSCAN_EXTRACT_BYTES) {
        r->extracts_truncated = 1;
        return -1;
    }
    memcpy(at, s, n);
    at[n] = '\0';
    e = &m->ex[r->n_extracts++];
    e->key = key;
    e->value = at;
    e->value_len = n;
    *used += n;
    return 0;
}

/* The named groups of one match; -1 when a cap is reached. */
static int add_named(struct hscan__match *m, hscan_result_t *r,
                     size_t *used, const pcre2_code *code, const char *s)
{
    PCRE2_SPTR tab;
    uint32_t count, size, i;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);

    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &tab);
    for (i = 0; i < count; i++, tab += size) {
        unsigned g = (unsigned)(tab[0] << 8 | tab[1]);  /* names sorted */
        if (ov[2 * g] == PCRE2_UNSET)
            continue;
        if (add_value(m, r, used, (const char *)tab + 2, s + ov[2 * g],
                      ov[2 * g + 1] - ov[2 * g]) != 0)
            return -1;
    }
    return 0;
}

static void extract(struct hscan__match *m, hscan_result_t *r,
                    const char *body, size_t len)
{
    size_t i, used = 0;

    r->extracts = m->ex;            /* non-NULL: extractors ran */
    if (r->body_words < 0)          /* no body read */
        return;
    for (i = 0; i < m->nx; i++) {
        const struct pat *x = &m->xp[i];
        size_t off = 0, runs;
        for (runs = 0; off <= len; runs++) {
            PCRE2_SIZE *ov;
            int rc;
            if (runs == HSCAN_EXTRACT_MAX) {    /* no more can be kept */
                r->extracts_truncated = 1;
                return;
            }
            if (!run(m, x->code, body, len, off))
                break;
            ov = pcre2_get_ovector_pointer(m->md);
            rc = x->named ? add_named(m, r, &used, x->code, body)
                          : add_value(m, r, &used, x->key, body + ov[0],
                                      ov[1] - ov[0]);
            if (rc != 0)
                return;
            /* past the match; past one more byte after an empty one */
            off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        }
    }
}

/* ---- the compiled set ---- */

static int compile_all(struct hscan__match *m, const hscan_config_t *c)
{
    char why[200];
    uint32_t groups, most = 0;
    size_t i;

    for (i = 0; i < m->n; i++) {
        const hscan_matcher_t *x = &m->m[i];
        if (!is_pattern_kind(x->kind))
            continue;
        if (!(m->mp[i].code = compile(x->pattern,
                                      x->kind == HSCAN_MATCH_STRING, why,
                                      sizeof(why))))
            return HSCAN_EINVAL;
    }
    for (i = 0; i < m->nx; i++) {
        uint32_t names;
        if (!(m->xp[i].code = compile(c->extract[i], 0, why, sizeof(why))))
            return HSCAN_EINVAL;
        pcre2_pattern_info(m->xp[i].code, PCRE2_INFO_CAPTURECOUNT, &groups);
        pcre2_pattern_info(m->xp[i].code, PCRE2_INFO_NAMECOUNT, &names);
        m->xp[i].named = names > 0;
        snprintf(m->xp[i].key, sizeof(m->xp[i].key), "extract_%zu", i + 1);
        if (groups > most)
            most = groups;
    }
    m->md = pcre2_match_data_create(most + 1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    if (!m->md || !m->mctx)
        return HSCAN_ENOMEM;
    pcre2_set_match_limit(m->mctx, HSCAN__MATCH_LIMIT);
    pcre2_set_depth_limit(m->mctx, HSCAN__DEPTH_LIMIT);
    pcre2_set_heap_limit(m->mctx, HSCAN__HEAP_LIMIT_KIB);
    return 0;
}

/* The matchers with their strings in one block. */
static int copy_matchers(struct hscan__match *m, const hscan_config_t *c)
{
    size_t i, bytes = 0;
    hscan_matcher_t *v;
    char *w;

    for (i = 0; i < c->n_matchers; i++) {
        const hscan_matcher_t *x = &c->matchers[i];
        bytes += (x->pattern ? strlen(x->pattern) + 1 : 0) +
                 (x->header ? strlen(x->header) + 1 : 0);
    }
    v = calloc(c->n_matchers + 1, sizeof(*v));
    w = m->strings = malloc(bytes + 1);
    m->mp = calloc(c->n_matchers + 1, sizeof(*m->mp));
    m->xp = calloc(c->n_extract + 1, sizeof(*m->xp));
    m->m = v;
    if (!v || !w || !m->mp || !m->xp)
        return HSCAN_ENOMEM;
    for (i = 0; i < c->n_matchers; i++) {
        v[i] = c->matchers[i];
        if (v[i].pattern) {
            v[i].pattern = strcpy(w, v[i].pattern);
            w += strlen(w) + 1;
        }
        if (v[i].header) {
            v[i].header = strcpy(w, v[i].header);
            w += strlen(w) + 1;
        }
    }
    m->n = c->n_matchers;
    m->nx = c->n_extract;
    return 0;
}

int hscan__match_new(struct hscan__match **out, const hscan_config_t *c)
{
    struct hscan__match *m;
    int rc;

    *out = NULL;
    if (!c->n_matchers && !c->n_extract)
        return 0;
    if (!(m = calloc(1, sizeof(*m))))
        return HSCAN_ENOMEM;
    if ((rc = copy_matchers(m, c)) != 0 || (rc = compile_all(m, c)) != 0) {
        hscan__match_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void hscan__match_free(struct hscan__match *m)
{
    size_t i;

    if (!m)
        return;
    for (i = 0; m->mp && i < m->n; i++)
        pcre2_code_free(m->mp[i].code);
    for (i = 0; m->xp && i < m->nx; i++)
        pcre2_code_free(m->xp[i].code);
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    free((void *)m->m);
    free(m->mp);
    free(m->xp);
    free(m->strings);
    free(m->line);
    free(m);
}

#else /* !HSCAN_HAVE_PCRE2: numeric kinds only */

struct hscan__match {
    hscan_matcher_t *m;
    size_t n, nx;               /* nx: always 0 */
    int limited;
};

static void extract(struct hscan__match *m, hscan_result_t *r,
                    const char *body, size_t len)
{
    (void)m;
    (void)r;
    (void)body;
    (void)len;
}

static int test(struct hscan__match *m, size_t i, const hscan_result_t *r,
                const char *body, size_t len)
{
    (void)body;
    (void)len;
    return numeric(&m->m[i], r);
}

int hscan__match_new(struct hscan__match **out, const hscan_config_t *c)
{
    struct hscan__match *m;

    *out = NULL;
    if (!c->n_matchers)
        return 0;
    if (!(m = calloc(1, sizeof(*m))) ||
        !(m->m = malloc(c->n_matchers * sizeof(*m->m)))) {
        free(m);
        return HSCAN_ENOMEM;
    }
    memcpy(m->m, c->matchers, c->n_matchers * sizeof(*m->m));
    m->n = c->n_matchers;
    *out = m;
    return 0;
}

void hscan__match_free(struct hscan__match *m)
{
    if (m)
        free(m->m);
    free(m);
}

#endif /* HSCAN_HAVE_PCRE2 */

/* The rules (hscan.h, hscan_matcher_t): a filter that matches and a
 * REGEX or HEADER match that fails decide at once; the other matches
 * are alternatives within their kind. */
int hscan__match_eval(struct hscan__match *m, hscan_result_t *r,
                      const char *body, size_t len)
{
    int has[HSCAN_MATCH_STATUS + 1], ok[HSCAN_MATCH_STATUS + 1];
    size_t first[HSCAN_MATCH_STATUS + 1], i;

    m->limited = 0;
    r->filtered_by = -1;
    memset(has, 0, sizeof(has));
    memset(ok, 0, sizeof(ok));
    for (i = 0; i < m->n && r->filtered_by < 0; i++) {
        const hscan_matcher_t *x = &m->m[i];
        int k = x->kind;
        if (x->filter) {
            if (test(m, i, r, body, len))
                r->filtered_by = (int)i;
        } else if (k == HSCAN_MATCH_REGEX || k == HSCAN_MATCH_HEADER) {
            if (!test(m, i, r, body, len))
                r->filtered_by = (int)i;
        } else {
            if (!has[k]++)
                first[k] = i;
            if (!ok[k])
                ok[k] = test(m, i, r, body, len);
        }
    }
    /* else the kind without a match whose first match comes first */
    if (r->filtered_by < 0)
        for (i = 0; i <= HSCAN_MATCH_STATUS; i++)
            if (has[i] && !ok[i] &&
                (r->filtered_by < 0 || (int)first[i] < r->filtered_by))
                r->filtered_by = (int)first[i];
    r->filtered = r->filtered_by >= 0;
    if (m->nx)
        extract(m, r, body, len);
    return m->limited;
}
