/* hscan-exporter: one scrape request read with llhttp, and its query
 * string.  Pure (no I/O): the server feeds it bytes, the fuzz harness
 * test/fuzz/fuzz-exp-req.c feeds it anything. */
#ifndef EXP_REQ_H
#define EXP_REQ_H

#include <stddef.h>
#include <llhttp.h>

#define EXP_HEAD_MAX 8192      /* request line + headers: 431 beyond */
#define EXP_URL_MAX 4096       /* request target: 414 beyond */
#define EXP_HEADERS_MAX 100    /* header fields: 431 beyond */

struct exp_req {
    llhttp_t parser;
    llhttp_settings_t settings;
    char url[EXP_URL_MAX + 1];
    size_t url_len;
    size_t head_bytes;
    unsigned n_headers;
    int in_timeout;            /* reading X-Prometheus-Scrape-Timeout-
                                  Seconds's value */
    char name[40];             /* the header name being read, cut */
    size_t name_len;
    char timeout[32];          /* that header's value, cut */
    size_t timeout_len;
    int has_timeout;
    int complete;              /* a whole request was read */
    int status;                /* 400, 405, 413, 414, 431 when refused */
    const char *why;
    int method_get;            /* GET or HEAD */
    int head;                  /* HEAD */
    int keep_alive;
};

void exp_req_init(struct exp_req *r);
/* Reset for the next request on the same connection. */
void exp_req_next(struct exp_req *r);
/* Feed bytes; returns how many were used.  After it, r->complete says a
 * request is whole (the bytes after it are the next one's) and
 * r->status that the request is refused (the connection then closes). */
size_t exp_req_feed(struct exp_req *r, const char *data, size_t len);

/* The value of `key` in query string `q` (`n` bytes), percent-decoded
 * ('+' is a space) into `out` of `size` bytes.  Returns its length, -1
 * when absent, -2 when malformed or too long.  The first wins. */
long exp_query_get(const char *q, size_t n, const char *key, char *out,
                   size_t size);

#endif
