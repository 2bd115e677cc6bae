/* body-decode.c: content codings (RFC 9110 8.4) decoded as the bytes
 * arrive (cfg.compressed): gzip and x-gzip, deflate (zlib-wrapped or
 * raw, as curl and browsers read it) and br, stacked up to
 * HSCAN__DEC_MAX deep, into a body's facts (body.h), so that the title,
 * the digest, the kept bytes and whatever else reads those facts see
 * the decoded bytes.  Both sides are bounded: what is fed (decoded) by
 * the facts' max, what is read (coded) by hscan__bdec_wire_max(), and
 * the decoders' own state by HSCAN__DEC_MEM_MAX. */
#ifndef HSCAN_BODY_DECODE_H
#define HSCAN_BODY_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"

enum hscan__coding {
    HSCAN__CE_GZIP = 1,     /* gzip, x-gzip (RFC 9110 8.4.1.3) */
    HSCAN__CE_DEFLATE,      /* deflate: zlib (RFC 1950) or raw 1951 */
    HSCAN__CE_BR            /* br (RFC 7932) */
};

#define HSCAN__DEC_MAX 4    /* stacked codings decoded (curl: 5) */
/* The decoders' memory of one body: a brotli stream may ask for a
 * 16 MiB window (RFC 7932 9.1, WBITS 24), held 1.5 times over while its
 * ring buffer grows to it, and its tables; zlib takes some 40 KiB per
 * coding.  Past it the body ends as "no_memory". */
#define HSCAN__DEC_MEM_MAX (28u << 20)

/* How decoding went: the record's body.decode (docs/results.md); the
 * names (hscan__dec_result_name) are stable, append only. */
enum hscan__dec_result {
    HSCAN__DEC_NONE,        /* nothing to decode: null */
    HSCAN__DEC_DONE,        /* every coding decoded to its end */
    HSCAN__DEC_DECODED_LIMIT, /* stopped at body_bytes decoded bytes */
    HSCAN__DEC_WIRE_LIMIT,  /* stopped at hscan__bdec_wire_max() */
    HSCAN__DEC_CUT,         /* the body ended before a coding's end */
    HSCAN__DEC_CORRUPT,     /* invalid coded data: decoded bytes before
                               the fault stand */
    HSCAN__DEC_TRAILING,    /* bytes after the last coding's end,
                               ignored */
    HSCAN__DEC_UNKNOWN,     /* a coding not decoded: bytes as they came */
    HSCAN__DEC_TOO_MANY,    /* more than HSCAN__DEC_MAX: as they came */
    HSCAN__DEC_NO_MEMORY,   /* the decoders' state did not fit */
    HSCAN__DEC_COUNT
};
const char *hscan__dec_result_name(unsigned r);

/* "gzip, deflate, br": the codings built in, for Accept-Encoding; NULL
 * when none is (no zlib, no brotli). */
const char *hscan__dec_offer(void);

/* Content-Encoding, read: the codings in the order applied, or why
 * they are not decoded.  Zeroed, then hscan__ce_add() for each field
 * line. */
struct hscan__ce {
    unsigned char c[HSCAN__DEC_MAX];    /* enum hscan__coding */
    unsigned char n;
    unsigned char result;   /* HSCAN__DEC_UNKNOWN, _TOO_MANY or 0 */
};
/* Add the codings of one field value (a comma-separated list; OWS and
 * empty elements skipped, identity and "none" dropped, case ignored). */
void hscan__ce_add(struct hscan__ce *ce, const char *v, size_t n);
/* The next list element of v[0..n) from *pos: 1 with *tok, *tlen set,
 * or 0 at the end.  Shared with the record (report.c). */
int hscan__ce_next(const char *v, size_t n, size_t *pos, const char **tok,
                   size_t *tlen);
/* 1 when tok[0..n) names no coding (identity, none). */
int hscan__ce_is_identity(const char *tok, size_t n);

/* ---- a chain of decoders, any sink ---- */

/* Where decoded bytes go: returns 0 to go on, 1 when it is full (it
 * took what fitted), -1 when it failed (out of memory). */
typedef int (*hscan__dec_sink)(void *arg, const char *p, size_t n);

struct hscan__dec;
/* Decoders for codings c[0..n) (as applied: the last is undone
 * first).  Returns 0, or -1 out of memory (`*out` then untouched). */
int hscan__dec_new(struct hscan__dec **out, const unsigned char *c,
                   unsigned n);
/* Decode in[0..n) into `sink`.  Returns 0 to go on (more may be fed),
 * or a final enum hscan__dec_result: DECODED_LIMIT (the sink is full),
 * CORRUPT or NO_MEMORY; nothing more should be fed then. */
int hscan__dec_feed(struct hscan__dec *d, const char *in, size_t n,
                    hscan__dec_sink sink, void *arg);
/* The coded stream is over: DONE, TRAILING or CUT. */
int hscan__dec_end(const struct hscan__dec *d);
/* The most memory the decoders held at once (tests). */
size_t hscan__dec_mem_peak(const struct hscan__dec *d);
void hscan__dec_free(struct hscan__dec *d);

/* ---- into a body's facts (http-body.c) ---- */

/* Decoding state of one response body: set `on` (the request offered
 * codings), then hscan__bdec_start() at the body's start.  The
 * decoders are allocated when the first coded byte comes and freed at
 * the body's end; what stays until the record is a few bytes. */
struct hscan__bdec {
    unsigned char on;       /* decode (cfg.compressed) */
    unsigned char result;   /* enum hscan__dec_result, final at end */
    struct hscan__ce ce;    /* what to decode; ce.n 0: nothing */
    uint64_t wire, wire_max;    /* coded bytes read, at most */
    struct hscan__dec *dec; /* while a coded body arrives */
};
/* The coded bytes read of a body of at most `max` decoded bytes:
 * max + max/8 + 4 KiB, room for any encoder's overhead on bytes that
 * do not compress (well under 1% for gzip and br), so the decoded side
 * is what ends a real body, and a stream that decodes to nothing
 * (empty blocks, metadata) ends here. */
uint64_t hscan__bdec_wire_max(size_t max);
/* Ready `b` (on set) for a body whose Content-Encoding is `ce`, of at
 * most `max` decoded bytes. */
void hscan__bdec_start(struct hscan__bdec *b, const struct hscan__ce *ce,
                       size_t max);
/* Decode coded bytes into `bf`.  Returns 0 to go on, 1 when the body
 * can be read no further (b->result says why). */
int hscan__bdec_feed(struct hscan__bdec *b, struct hscan__bodyf *bf,
                     const char *p, size_t n);
/* The body is over (or cut): b->result final, the decoders freed.
 * Idempotent. */
void hscan__bdec_end(struct hscan__bdec *b, const struct hscan__bodyf *bf);
void hscan__bdec_free(struct hscan__bdec *b);

#endif /* HSCAN_BODY_DECODE_H */
