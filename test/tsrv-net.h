/* tsrv-net.h: socket set-up shared by the loopback test servers and
 * the tests' own listeners. */
#ifndef HSCAN_TEST_TSRV_NET_H
#define HSCAN_TEST_TSRV_NET_H

#include <uv.h>

/* Fill `ss` from an IPv4 or IPv6 literal.  Returns 0 or a uv error. */
int tsrv_addr(const char *ip, int port, struct sockaddr_storage *ss);

/* Bind the initialised `t` to ip:port (0 = pick).  Returns the bound
 * port or a negative uv error. */
int tsrv_tcp_bind(uv_tcp_t *t, const char *ip, int port);

/* Bind the initialised `t` to `sa`, listen with `backlog` and `cb`.
 * Returns the bound port or a negative uv error; `*wildcard` (if not
 * NULL) is then 1 when `t` listens on the wildcard address (0.0.0.0 or
 * ::), else 0. */
int tsrv_tcp_listen(uv_tcp_t *t, const struct sockaddr *sa, int backlog,
                    uv_connection_cb cb, int *wildcard);

/* Accept a connection from `server` into the initialised `tcp`, set
 * TCP_NODELAY and start reading with `alloc_cb` and `read_cb`.
 * `loopback_only` (a wildcard listener): refuse a connection whose own
 * address is not loopback. 0, or a negative uv error, and then the
 * caller closes `tcp`. */
int tsrv_tcp_accept(uv_stream_t *server, uv_tcp_t *tcp, int loopback_only,
                    uv_alloc_cb alloc_cb, uv_read_cb read_cb);

/* 1 if the connected `t`'s own address (getsockname) is loopback:
 * 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104; else 0. A server bound to
 * the wildcard address closes every other connection at once, so it
 * answers any 127.x.y.z and nothing that came from outside. */
int tsrv_tcp_local_is_loopback(const uv_tcp_t *t);

#endif
