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
 * Returns the bound port or a negative uv error. */
int tsrv_tcp_listen(uv_tcp_t *t, const struct sockaddr *sa, int backlog,
                    uv_connection_cb cb);

#endif
