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
 * A request head over 16 KiB gets 431 and a close. Everything runs on
 * the loop thread; no threads, no globals.
 */
#ifndef HSCAN_TEST_SERVER_HTTP_H
#define HSCAN_TEST_SERVER_HTTP_H

#include <uv.h>

struct tsrv_http;

/* Start listening on `ip`:`port` (TCP, backlog 4096) on `loop`; port 0
 * picks a free port. `*out` stays valid until tsrv_http_stop()'s close
 * callbacks have run. Loop thread only.
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

#endif
