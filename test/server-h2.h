/* server-h2.h: an HTTP/2 test server (TLS, or cleartext h2c) on a
 * caller's uv loop. Built only with nghttp2 (HSCAN_HAVE_NGHTTP2).
 *
 * nghttp2's server session frames the well-behaved replies (nghttp2
 * does no I/O: the server feeds it the plaintext that OpenSSL's memory
 * BIOs decrypt and sends what nghttp2_session_mem_send() gives); the
 * hostile behaviours write hand-made frames. No threads, no blocking
 * calls, nothing global. The listener's mode fixes what happens before
 * any HTTP/2 frame (enum tsrv_h2_mode); each request's `:path`,
 * `/h2/NAME` (a query is ignored; any other path, or an unknown NAME,
 * means `normal`), picks its reply:
 *
 * Every HTTP/2 session (TLS mode once ALPN chose h2, and h2c) opens
 * at once with the server's SETTINGS, in this order:
 *     MAX_CONCURRENT_STREAMS (0x3) = 100
 *     INITIAL_WINDOW_SIZE    (0x4) = 65535
 *     MAX_FRAME_SIZE         (0x5) = 16384
 *     MAX_HEADER_LIST_SIZE   (0x6) = 65536
 * then a connection-level WINDOW_UPDATE (stream 0) of 983041, which
 * takes the connection window to 1 MiB (TSRV_H2_SETTINGS_* below).
 * The behaviours:
 *
 *   normal     200; fields in this order: server: hscan-test-h2,
 *              content-type: text/html, x-dup: 1, x-dup: 2,
 *              content-length: N; body TSRV_H2_BODY (title "h2 normal")
 *   many       200 with exactly 150 fields x-h-1: v1 ... x-h-150: v150,
 *              no body (END_STREAM on HEADERS)
 *   bighead    200 with 40 fields x-big-1 ... x-big-40, each value 1,000
 *              pseudo-random letters and digits (the same on every run),
 *              no body: the HPACK block (~31 KB: nghttp2 Huffman-codes
 *              them) is sent as HEADERS + CONTINUATION frames of at most
 *              16,384 bytes (nghttp2 splits it at the peer's
 *              MAX_FRAME_SIZE)
 *   redirect   301, location: /h2/normal, content-length: 0
 *   goaway     GOAWAY (last_stream_id 0, ENHANCE_YOUR_CALM 0xb, debug
 *              data "h2-goaway") after the SETTINGS exchange, no
 *              response; then close_notify and FIN
 *   rst        RST_STREAM on the request's stream (INTERNAL_ERROR 0x2),
 *              no HEADERS; the connection stays open until the peer
 *              closes (or the lifetime below)
 *   settings-flood  SETTINGS frames (one MAX_CONCURRENT_STREAMS=100
 *              entry each, 15 bytes), without end
 *   ping-flood PING frames (17 bytes each), without end
 *   cont-flood HEADERS (:status 200, no END_HEADERS) on the request's
 *              stream, then CONTINUATION frames without END_HEADERS,
 *              each one literal field `x-c: ` + 1,000 bytes, without end
 *
 * The floods write 16 KiB at a time, the next only when the previous
 * write has completed (a client that stops reading stops the flood), at
 * most TSRV_H2_FLOOD_BYTES in all, then close_notify and FIN; what the
 * client sends meanwhile is read and dropped. Every connection is
 * closed TSRV_H2_LIFE_MS after it was accepted, whatever it is doing:
 * nothing hostile lasts longer, and a peer that never closes is still
 * bounded. After a `normal`, `many`, `bighead` or `redirect` reply the
 * session stays open for more requests (a redirect followed on the same
 * connection gets `normal`) until the peer closes.
 */
#ifndef HSCAN_TEST_SERVER_H2_H
#define HSCAN_TEST_SERVER_H2_H

#include <uv.h>

struct tcert;
struct tsrv_h2;

#define TSRV_H2_BODY                                                       \
    "<!DOCTYPE html>\n<html><head><title>h2 normal</title></head>"      \
    "<body><p>hello over HTTP/2</p></body></html>\n"
#define TSRV_H2_SERVER "hscan-test-h2"
#define TSRV_H2_SETTINGS_MAX_STREAMS 100
#define TSRV_H2_SETTINGS_WINDOW 65535
#define TSRV_H2_SETTINGS_FRAME 16384
#define TSRV_H2_SETTINGS_HEADER_LIST 65536
#define TSRV_H2_CONN_WINDOW_INCREMENT 983041
#define TSRV_H2_MANY 150
#define TSRV_H2_BIG_FIELDS 40
#define TSRV_H2_BIG_VALUE 1000
#define TSRV_H2_FLOOD_BYTES (16UL << 20)
#define TSRV_H2_LIFE_MS 10000

enum tsrv_h2_mode {
    /* TLS; ALPN picks h2 when offered, else http/1.1, else none.
     * Without h2 the server reads one HTTP/1.1 request head and sends
     * the `normal` reply as HTTP/1.1 (Server: hscan-test-h2, same
     * fields and body, plus Connection: close), then close_notify and
     * FIN. */
    TSRV_H2_TLS,
    /* TLS; ALPN offers http/1.1 only (none if the client does not
     * offer it), so h2 is never negotiated; HTTP/1.1 as above. */
    TSRV_H2_TLS_H1ONLY,
    /* TLS; ALPN picks h2 when offered, but the server sends no HTTP/2
     * frame: on the client's first bytes (its connection preface) it
     * writes the HTTP/1.1 `normal` reply ("HTTP/1.1 200 OK\r\n...")
     * and stays open, dropping input, until the peer closes (so the
     * client reads those bytes rather than failing a write first). */
    TSRV_H2_TLS_H1TALK,
    /* Cleartext h2c with prior knowledge: the client sends the
     * connection preface at once; then as TSRV_H2_TLS after ALPN h2. */
    TSRV_H2_CLEAR
};

/* Start listening on `ip`:`port` (TCP; port 0 picks a free one) on
 * `loop` in `mode`. TLS modes serve a leaf (EC P-256) with SANs
 * fast.test, *.fast.test, h2.test, *.h2.test, localhost, 127.0.0.1 and
 * ::1, signed by `ca` when not NULL (tsrv_tls_ca() of a running
 * server-tls.h server: then one CA file trusts both; `ca` is used only
 * during this call), else by a CA of its own, written as PEM to
 * `ca_pem_path` when that is not NULL. Both are ignored in
 * TSRV_H2_CLEAR. With `ip` 0.0.0.0 or :: every connection whose local
 * address is not loopback is closed at once (as tsrv_http_start()).
 * `*out` stays valid until tsrv_h2_stop()'s close callbacks have run.
 * Loop thread only. Returns 0 or a negative uv error (UV_EIO when
 * OpenSSL, nghttp2 or writing the PEM failed); then `*out` is
 * untouched (a handle already initialised is closed and freed once the
 * loop runs). */
int tsrv_h2_start(uv_loop_t *loop, const char *ip, int port, int mode,
                  const struct tcert *ca, const char *ca_pem_path,
                  struct tsrv_h2 **out);

/* The bound TCP port. */
int tsrv_h2_port(const struct tsrv_h2 *s);

struct tsrv_h2_counts {
    unsigned long connections;  /* accepted */
    unsigned long sessions;     /* HTTP/2 sessions started */
    unsigned long requests;     /* HTTP/2 request header blocks read */
    unsigned long h1_replies;   /* HTTP/1.1 replies sent */
    unsigned long flood_bytes;  /* hostile frame bytes queued */
    unsigned long lifetimes;    /* connections closed by the lifetime */
    unsigned long data_bytes;   /* request DATA bytes read (bodies) */
};

void tsrv_h2_counts(const struct tsrv_h2 *s, struct tsrv_h2_counts *out);

/* Close the listener and every connection; `s` frees itself once all
 * close callbacks have run, so it must not be used after this call.
 * Then uv_loop_close() returns 0. */
void tsrv_h2_stop(struct tsrv_h2 *s);

#endif
