/* http.c, http-body.c: HTTP/1.1 response parsing of our own (RFC
 * 9112): a streaming, bounded head parser that reads what curl and
 * browsers read and names each deviation (an anomaly), and a body
 * framer with its own chunked decoder. */
#ifndef HSCAN_HTTP_H
#define HSCAN_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "body.h"
#include "body-decode.h"
#include "hscan.h"

struct hscan__hdr {
    uint32_t name_off, name_len, value_off, value_len;
};

/* Deviations from RFC 9112/9110 the parser read through.  The numbers
 * are bit positions in `anomalies` and the order of the record's list;
 * the names (hscan__anomaly_name) are stable: append only
 * (docs/results.md). */
enum hscan__anomaly {
    HSCAN__A_CL_AND_TE, HSCAN__A_DUPLICATE_CL, HSCAN__A_CONFLICTING_CL,
    HSCAN__A_INVALID_CL, HSCAN__A_UNKNOWN_TE, HSCAN__A_REPEATED_TE,
    HSCAN__A_OBS_FOLD, HSCAN__A_BARE_CR, HSCAN__A_BARE_LF,
    HSCAN__A_SPACE_BEFORE_COLON, HSCAN__A_LEADING_SPACE,
    HSCAN__A_NO_COLON_LINE, HSCAN__A_INVALID_NAME,
    HSCAN__A_HEAD_CUT_BY_CLOSE, HSCAN__A_VERSION_UNUSUAL,
    HSCAN__A_STATUS_LINE_SPACES, HSCAN__A_INVALID_CHUNK,
    HSCAN__A_COUNT
};
const char *hscan__anomaly_name(unsigned a);

#define HSCAN__MAX_INTERIM 16   /* 1xx statuses kept, the first ones */

/* How the body ends (RFC 9112 6.3), decided at the end of the head. */
enum hscan__frame {
    HSCAN__F_CLOSE,           /* read until the connection closes */
    HSCAN__F_LENGTH,          /* a valid Content-Length */
    HSCAN__F_CHUNKED          /* chunked is the final transfer coding */
};

struct hscan__resp {
    char *buf;            /* arena: status line and header bytes */
    uint32_t len, cap, limit;
    uint32_t reason_off, reason_len;
    uint32_t anomalies;   /* 1u << enum hscan__anomaly */
    struct hscan__hdr *hdrs;
    unsigned n_hdrs, hdr_cap, max_hdrs;
    int status;           /* 0 until a status line was read */
    uint64_t head_bytes;  /* bytes consumed before the header end */
    size_t rest;          /* where in the buffer last fed the head ended */
    int interim[HSCAN__MAX_INTERIM];
    unsigned n_interim;
    /* the head parser */
    uint32_t line_off;    /* the line being received starts here in buf */
    unsigned char major, minor;   /* from the status line */
    unsigned char done;   /* the head is over (blank line or close) */
    unsigned char complete;   /* ... and ended with its blank line */
    unsigned char strict; /* cfg.strict: some anomalies are errors */
    unsigned char in_fields;  /* past the status line */
    unsigned char open;   /* the last field may still be folded */
    unsigned char skip;   /* the last line was dropped: its folds too */
    unsigned char frame;  /* enum hscan__frame, decided at the head end */
    unsigned char h2;     /* the head came as an HTTP/2 header list */
    unsigned char cstate; /* the chunked decoder's state */
    unsigned char body_on;    /* reading the body */
    unsigned char body_done;  /* the message ended (or body_max reached) */
    unsigned char body_truncated; /* more body than kept, or end unseen */
    uint64_t length;      /* HSCAN__F_LENGTH: the body's length */
    /* The start of the body (cfg.body_bytes), decoded from chunked:
     * bytes read, and their facts (the bytes in bf.buf with bf.keep) */
    uint32_t body_len, body_max;
    struct hscan__bodyf bf;
    uint32_t cline;       /* bytes of the chunked size or trailer line */
    uint64_t remain;      /* body bytes still to come (length, chunk) */
    uint32_t trailer_bytes;
    /* ---- content decoding (cfg.compressed; body-decode.h) ----
     * Set dec.on before the body starts: its Content-Encoding is then
     * undone into bf, body_len counting decoded bytes. */
    struct hscan__bdec dec;
};

/* Ready `r` for a response, under a cap on the head's bytes (status
 * line and header block, interim responses included) and one on its
 * fields.  Set r->strict afterwards to make the anomalies llhttp's
 * strict mode refused errors. */
void hscan__resp_init(struct hscan__resp *r, size_t max_bytes,
                      unsigned max_headers);
void hscan__resp_free(struct hscan__resp *r);
/* Feed bytes.  Returns 0 while more are needed, 1 when the header block
 * is complete, or a negative HSCAN_E* with `detail` filled.  After an
 * error the facts read so far stay: status, version and reason once the
 * status line was read, and each complete field line. */
int hscan__resp_feed(struct hscan__resp *r, const char *data, size_t len,
                     char *detail, size_t dsize);
/* The peer closed.  Returns a negative HSCAN_E* with `detail`; 0 while
 * reading the body (the response stands; see hscan__resp_body_cut());
 * or 1 when the close ended a head cut after a whole line (not in
 * strict mode): the response stands as if feed had returned 1, with
 * nothing after it. */
int hscan__resp_eof(struct hscan__resp *r, char *detail, size_t dsize);

/* After hscan__resp_feed() returned 1: read up to `max` body bytes from
 * here on, their facts in r->bf (digested with `md`, which must outlive
 * the body's end; NULL: no digest), the bytes themselves in r->bf.buf
 * when `keep`.  Feed the rest of that buffer (from r->rest) and what
 * follows with hscan__resp_body_feed(), which returns 1 once the body
 * is done (the message ended, or `max` bytes were read), else 0; the
 * facts are final then.  Never fails: a body that cannot be parsed, or
 * kept for lack of memory, ends there, truncated. */
void hscan__resp_body_start(struct hscan__resp *r, size_t max,
                            struct hscan__md *md, int keep);
int hscan__resp_body_feed(struct hscan__resp *r, const char *data,
                          size_t len);
/* The body stops here (timeout, reset, close): what arrived stands.  A
 * body delimited by the close is complete; others are truncated. */
void hscan__resp_body_cut(struct hscan__resp *r, int closed);
/* The body's facts are final (the decoders' too); idempotent. */
void hscan__resp_body_end(struct hscan__resp *r);

/* HTTP/2 (probe-h2.c): the head from a decoded header list.  `status`
 * starts a header block (version 2, no reason phrase); each field is
 * counted against the same caps as an HTTP/1.1 field line ("name:
 * value" and its line end), returning 0 or a negative HSCAN_E* with
 * `detail`; the block's end returns 1 for the final head (the body then
 * runs to the stream's end: hscan__resp_body_cut(r, 1)), 0 for an
 * interim one, whose status is kept and fields dropped. */
void hscan__resp_h2_status(struct hscan__resp *r, int status);
int hscan__resp_h2_field(struct hscan__resp *r, const char *name,
                         size_t nlen, const char *value, size_t vlen,
                         char *detail, size_t dsize);
int hscan__resp_h2_end(struct hscan__resp *r);

/* http.c for http-body.c */
void hscan__resp_flag(struct hscan__resp *r, unsigned a);

#endif /* HSCAN_HTTP_H */
