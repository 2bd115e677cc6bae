/* h2.c: one HTTP/2 client session through nghttp2, without I/O (the
 * HTTP/2 leg, probe-h2.c, moves its bytes), and the h2 facts a record
 * keeps (these also without nghttp2: report.c reads them). */
#ifndef HSCAN_H2_H
#define HSCAN_H2_H

#include <stddef.h>
#include <stdint.h>

#include "hscan.h"
#include "http.h"
#include "util.h"

/* The record's h2 facts, for the connection that gave the final
 * response. */
#define HSCAN__H2_MAX_SETTINGS 64
struct hscan__h2_facts {
    hscan_h2_t v;
    hscan_h2_setting_t settings[HSCAN__H2_MAX_SETTINGS];
    int got_settings;
};

struct nghttp2_session;

/* One session: the caller sets the first block, the session records
 * the rest.  After each hscan__h2_recv(): `err` (with `detail`) when the
 * exchange failed — before the final head no response stands; after
 * it the body ends there — `head` once the final head is in (its body
 * then read into `resp` when body_bytes > 0), `closed` (and
 * `close_code`) when our stream ended. */
struct hscan__h2 {
    struct hscan__resp *resp;       /* filled: status, fields, body */
    struct hscan__h2_facts *facts;  /* filled: v.window_update -1 and
                                       v.settings set by the caller */
    size_t body_bytes;              /* body read after the head; 0: none */
    struct hscan__md *md;           /* the body's digest (body.h) */
    int body_keep;

    const char *req_body;   /* the request's body, sent as DATA */
    size_t req_body_len, req_body_sent;
    struct nghttp2_session *s;
    unsigned other_frames;  /* frames not the response's (flood bound) */
    unsigned conts;         /* CONTINUATIONs of the current block */
    int in_head;            /* a response header block is being read */
    int head;               /* the final head is in */
    int handled;            /* the leg acted on it (probe-h2.c's) */
    int closed;             /* our stream closed */
    uint32_t close_code;
    int err;                /* negative HSCAN_E*, with detail */
    char detail[HSCAN__DETAIL_SIZE];
    char lib_msg[HSCAN__DETAIL_SIZE];   /* nghttp2's last complaint */
};

/* Make the session with our SETTINGS queued.  0 or
 * HSCAN_ERESOURCE_EXHAUSTED. */
int hscan__h2_new(struct hscan__h2 *h);
/* Queue the request the HTTP/1.1 leg would send (`req`, `len` bytes: the
 * request line, then fields; changed in place: names go lower case) as
 * one stream: :method and :path from its request line, Host as
 * :authority (`host` when it has none), the connection-specific fields
 * left out; then `body` (NULL: none; it must outlive the session) as
 * DATA, END_STREAM on the last.  0 or a negative HSCAN_E*. */
int hscan__h2_request(struct hscan__h2 *h, char *req, size_t len, int https,
                      const char *host, size_t host_len, const char *body,
                      size_t body_len);
/* The server's bytes. */
void hscan__h2_recv(struct hscan__h2 *h, const char *buf, size_t n);
/* Bytes to send: their count (`*data` valid until the next call), 0
 * when there are none, or a negative HSCAN_E*. */
long hscan__h2_out(struct hscan__h2 *h, const uint8_t **data);
/* nghttp2 wants neither to read nor to write: the session is over (it
 * ended it on a protocol error: lib_msg says which). */
int hscan__h2_over(const struct hscan__h2 *h);
void hscan__h2_free(struct hscan__h2 *h);
/* An HTTP/2 error code as its RFC 9113 name, else "0x..", for details. */
void hscan__h2_code_str(char *out, size_t size, unsigned long code);

#endif /* HSCAN_H2_H */
