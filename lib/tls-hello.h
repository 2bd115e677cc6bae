/* tls-hello.c: the server's ServerHello, parsed in place, and the two
 * server fingerprints computed from it (JA3S, JA4S). */
#ifndef HSCAN_TLS_HELLO_H
#define HSCAN_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* Extension types kept per ServerHello.  A server may only answer
 * extensions the client offered (RFC 8446 4.2, RFC 5246 7.4.1.4), and
 * OpenSSL offers fewer than 20: a hello with more fails the handshake.
 * Past the cap they are counted, and neither fingerprint is made. */
#define HSCAN__HELLO_MAX_EXT 32

/* The facts of one ServerHello, what the record and both fingerprints
 * need; no pointer into the message. */
struct hscan__hello {
    uint16_t legacy_version;    /* the hello's version field (JA3S) */
    uint16_t version;           /* supported_versions when sent, else
                                   legacy_version (JA4S) */
    uint16_t cipher;
    uint16_t ext[HSCAN__HELLO_MAX_EXT]; /* types, in order */
    uint16_t n_ext;             /* kept in ext[] */
    uint16_t n_ext_total;       /* in the hello */
    char alpn[2];               /* JA4 first and last ALPN characters,
                                   "00" without ALPN */
    unsigned char hrr;          /* this hello is a HelloRetryRequest */
};

/* Parse the handshake message `msg` (its 4-byte header included) as a
 * ServerHello into `*h`.  Pure: reads only msg[0..len).  Returns 0, or
 * -1 when it is not a well-formed ServerHello (then `*h` is untouched). */
int hscan__hello_parse(struct hscan__hello *h, const unsigned char *msg,
                       size_t len);

/* "771,49199,65281-11-35" into `buf`: the JA3S string.  Returns its
 * length, or 0 when it does not fit or extensions were left out. */
size_t hscan__hello_ja3s_str(const struct hscan__hello *h, char *buf,
                             size_t size);
/* The JA3S fingerprint, md5 of that string in lowercase hex, into
 * `out` (33 bytes).  Returns 0, or -1 (out of memory or extensions left
 * out; `out` is then ""). */
int hscan__hello_ja3s(const struct hscan__hello *h, char out[33]);
/* The JA4S fingerprint, "t130200_1301_234ea6891581", into `out`
 * (26 bytes).  Returns 0 or -1 like hscan__hello_ja3s(). */
int hscan__hello_ja4s(const struct hscan__hello *h, char out[26]);

#endif /* HSCAN_TLS_HELLO_H */
