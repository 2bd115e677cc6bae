/* server-http.h: an HTTP/1.1 test server on a caller's uv loop.
 *
 * Each connection serves one request, then behaves as named by the
 * request path `/b/NAME...` or else by the Host header's behaviour label
 * (the label before a final `.test`; any other host means `fast`).
 * A name may carry a numeric argument: `delay-1500`, `many-300`,
 * `status-418`, `trickle-20`. Names:
 *
 *   fast      200 with a small HTML body, then close (also unknown names)
 *   delay[-MS]  fast after MS ms (default 200)
 *   r301, r302  redirects (Location http://fast.test/ and /next)
 *   notfound, error  404 and 500 with a small body
 *   http10    HTTP/1.0 reply, body delimited by close
 *   chunked   chunked body of two chunks
 *   many[-N]  N header fields X-H-0.. (default 100)
 *   huge      ~300 KB of header fields, never ends the head, stays open
 *   trickle[-MS]  status line, then one header byte every MS ms forever
 *   hang      never answers          close   closes (FIN) without reply
 *   reset     sends an RST           garbage non-HTTP bytes, then close
 *   badstatus "HTTP/1.1 2x0 OK"      ctl     control/invalid bytes
 *   lf        bare-LF line endings   status-NNN  status NNN, no body
 *   early[-N]  N 103 Early Hints (default 1, at most 10000), then fast
 *
 * Hostile servers (test-hostile-http.c; reliability.md section 2):
 *
 *   endless[-V]  fields "X-E-<i>: " + V bytes (default 8) forever, the
 *             head never ends; written 16 KiB at a time as the peer
 *             reads, until it goes away
 *   longline[-N]  "X-Long: " + N bytes of 'a' (default 1 MiB), no CRLF,
 *             then silence with the connection open
 *   tiny[-N]  N fields "a:b" (default 100,000), then the end of the head
 *   split[-N]  a status line of N bytes (default 10,000; a long reason
 *             phrase) sent one byte per write, one write per loop turn
 *             (a uv_check_t), then Content-Length: 0
 *   drip[-MS]  one byte every MS ms (default 900), from the status line
 *             on, forever
 *   rstmid[-MS]  part of a header block, then an RST (SO_LINGER 0) MS
 *             ms later (default 50); rstmid-0: right behind the bytes
 *   finmid    part of a header block, then a FIN
 *   shortbody Content-Length: 100 with 10 body bytes, then a FIN
 *   nobody[-NNN]  status NNN (default 200) with Content-Length: 1000 and
 *             no body; stays open
 *   upgrade   an unsolicited 101 Switching Protocols (websocket), a
 *             frame, and stays open
 *   h09       HTTP/0.9 style: body bytes without a status line
 *   dupcl, conflictcl  Content-Length twice, same / different values
 *   clte      Content-Length and Transfer-Encoding: chunked together
 *   chunkovf  chunked, first chunk size ffffffffffffffffff
 *   binval    NUL and every byte 0x80-0xFF in the reason phrase and in
 *             the value of X-Bin
 *   binname, nulname  0x80 0xFF / a NUL in a header name
 *   spacename a header name with spaces ("X Bad Name")
 *   obsfold   X-Fold's value continued on two obs-fold lines
 *   bigloc[-N]  302 with a relative Location of N bytes (default
 *             102,400)
 *   endbody   200 without a length, then body bytes forever
 *   longstatus  "HTTP/1.1 2000 OK"
 *   tlsalert  a TLS alert record (handshake_failure) instead of HTTP
 *
 * Over other transports (server-tls.c) the streamed and timed ones
 * (delay, trickle, drip, endless, longline, tiny, split, endbody) give
 * the fast reply.
 *
 * A request whose first byte is not an upper-case letter (a TLS
 * ClientHello, binary junk) gets "400 Bad Request" at once, as nginx
 * answers it.
 *
 * Redirect routes come before `/b/NAME` and the Host label; each reply
 * has Content-Length: 0 (the query string is ignored except for /r):
 *
 *   /r?to=URL   302, Location: URL (verbatim to the end of the target,
 *               not decoded)
 *   /chain-N    N > 0: 302, Location: /chain-(N-1) (relative);
 *               N == 0: fast
 *   /loop       302, Location: /loop
 *   /rel        301, Location: fast-landing (no slash: resolves against
 *               the directory of the current URL); also .../DIR/rel
 *   /fast-landing  fast; also .../DIR/fast-landing
 *   /see-other  303, Location: /chain-0
 *   /r307       307, Location: /chain-0
 *   /r308       308, Location: /chain-0
 *
 * Content-coded replies of one page for --compressed, /ce/NAME (gzip,
 * deflate, br, stacked, bombs...): server-coded.c lists them.
 *
 * A request head over 16 KiB gets 431 and a close. Everything runs on
 * the loop thread; no threads, no globals.
 *
 * The reply logic is shared with server-tls.c: tsrv_http_response()
 * turns a request head into reply bytes and an action.
 */
#ifndef HSCAN_TEST_SERVER_HTTP_H
#define HSCAN_TEST_SERVER_HTTP_H

#include <uv.h>

struct tsrv_http;

/* Start listening on `ip`:`port` (TCP, backlog 65535) on `loop`; port 0
 * picks a free port. With `ip` 0.0.0.0 or :: every accepted connection
 * whose local address is not loopback is closed at once (so it serves
 * all of 127.0.0.0/8 and nothing else). `*out` stays valid until
 * tsrv_http_stop()'s close callbacks have run. Loop thread only.
 * Returns 0 or a negative uv error; then `*out` is untouched (a handle
 * that was already initialised is closed and freed once the loop runs). */
int tsrv_http_start(uv_loop_t *loop, const char *ip, int port,
                    struct tsrv_http **out);

/* The page /ce/NAME codes, into p[0..size) (8 KiB are enough);
 * returns its length. */
size_t tsrv_coded_page(char *p, size_t size);
/* The body /ce/`name` sends, malloc'd into *out (free it), *len bytes:
 * 1, or 0 for a name unknown or not built in. */
int tsrv_coded_body(const char *name, char **out, size_t *len);

/* The bound TCP port. */
int tsrv_http_port(const struct tsrv_http *s);

/* How many request heads the server has read (including oversized
 * heads answered with 431). */
unsigned long tsrv_http_requests(const struct tsrv_http *s);

/* Close the listener and every open connection and timer; `s` frees
 * itself once all close callbacks have run, so it must not be used
 * after this call. Then uv_loop_close() returns 0. */
void tsrv_http_stop(struct tsrv_http *s);

/* ---- shared with other servers (server-tls.c) ---- */

#define TSRV_HEAD_MAX 16384

/* A request head being collected; start zeroed. */
struct tsrv_head {
    char *buf;
    unsigned len, cap;
};

/* Append `n` received bytes (those past TSRV_HEAD_MAX are dropped).
 * Returns 1 once the head has ended (blank line) or is full, 0 if more
 * is needed, -1 when out of memory. */
int tsrv_head_add(struct tsrv_head *h, const char *data, size_t n);

/* Free the buffer and zero `h`. */
void tsrv_head_free(struct tsrv_head *h);

/* What a transport does with a reply. */
enum tsrv_http_action {
    TSRV_HTTP_SEND,         /* send the bytes, then end the connection */
    TSRV_HTTP_SEND_OPEN,    /* send the bytes, stay open until the peer
                             * closes (huge, nobody, upgrade) */
    TSRV_HTTP_HANG,         /* send nothing, stay open (hang) */
    TSRV_HTTP_CLOSE,        /* end the connection, no reply (close) */
    TSRV_HTTP_RESET         /* reset the connection (reset); after
                             * the bytes, if any (rstmid) */
};

/* The reply to the request head `head`[0..len) (a head that has not
 * ended gets 431), with `Server: <server>` where the behaviour has one.
 * Behaviours that need timers or streaming (delay, trickle, drip,
 * endless, longline, tiny, split, endbody) get the fast reply.
 * Returns an enum tsrv_http_action, with `*out` a malloc'd block of
 * `*out_len` bytes (NULL and 0 for no bytes) that the caller frees;
 * or -1 when out of memory. Redirect Locations come from `head`. */
int tsrv_http_response(const char *head, size_t len, const char *server,
                       char **out, size_t *out_len);

/* The behaviour label of a host name (optionally with `:port`): the
 * label just before a final `.test` (`x3.valid.test` -> `valid`).
 * Sets `*label`, pointing into `host`, and `*n`; 1 if found. */
int tsrv_http_host_label(const char *host, size_t len, const char **label,
                         size_t *n);

#endif
