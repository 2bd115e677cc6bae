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
 *   early     103 Early Hints, then fast
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
                             * closes (huge) */
    TSRV_HTTP_HANG,         /* send nothing, stay open (hang) */
    TSRV_HTTP_CLOSE,        /* end the connection, no reply (close) */
    TSRV_HTTP_RESET         /* reset the connection (reset) */
};

/* The reply to the request head `head`[0..len) (a head that has not
 * ended gets 431), with `Server: <server>` where the behaviour has one.
 * Behaviours that need timers (delay, trickle) get the fast reply.
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
