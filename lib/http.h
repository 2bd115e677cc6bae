/* http.c: request bytes and HTTP/1.1 response parsing (llhttp). */
#ifndef HSCAN_HTTP_H
#define HSCAN_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <llhttp.h>
#include "hscan.h"

struct hscan__hdr {
    uint32_t name_off, name_len, value_off, value_len;
};

struct hscan__resp {
    llhttp_t parser;
    char *buf;            /* arena: reason and header bytes */
    uint32_t len, cap, limit;
    struct hscan__hdr *hdrs;
    unsigned n_hdrs, hdr_cap, max_hdrs;
    uint32_t reason_off, reason_len;
    uint64_t head_bytes;  /* bytes consumed before the header end */
    int status;
    int in_value;
    int done;             /* the final header block is complete */
    int err;              /* HSCAN_E* set by a callback */
    size_t rest;          /* where in the buffer last fed the head ended */
    /* The start of the body (cfg.body_bytes), decoded from chunked */
    char *body;
    uint32_t body_len, body_cap, body_max;
    int body_on;          /* reading the body */
    int body_done;        /* the message ended (or body_max was reached) */
    int body_truncated;   /* more body than kept, or its end not seen */
};

void hscan__resp_init(struct hscan__resp *r, size_t max_bytes,
                      unsigned max_headers);
void hscan__resp_free(struct hscan__resp *r);
/* Feed bytes.  Returns 0 while more are needed, 1 when the header block
 * is complete, or a negative HSCAN_E* with `detail` filled. */
int hscan__resp_feed(struct hscan__resp *r, const char *data, size_t len,
                     char *detail, size_t dsize);
/* The peer closed.  Returns a negative HSCAN_E* with `detail`, or 0
 * while reading the body (the response stands; see
 * hscan__resp_body_cut()). */
int hscan__resp_eof(struct hscan__resp *r, char *detail, size_t dsize);

/* After hscan__resp_feed() returned 1: read up to `max` body bytes from
 * here on.  Feed the rest of that buffer (from r->rest) and what follows
 * with hscan__resp_body_feed(), which returns 1 once the body is done
 * (the message ended, or `max` bytes are kept), else 0.  Never fails: a
 * body that cannot be parsed ends there, truncated. */
void hscan__resp_body_start(struct hscan__resp *r, size_t max);
int hscan__resp_body_feed(struct hscan__resp *r, const char *data,
                          size_t len);
/* The body stops here (timeout, reset, close): keep what arrived.  A
 * body delimited by the close is complete; others are truncated. */
void hscan__resp_body_cut(struct hscan__resp *r, int closed);

#endif /* HSCAN_HTTP_H */
