/* Socket set-up shared by the loopback test servers. */
#include "tsrv-net.h"

#include <string.h>

int tsrv_addr(const char *ip, int port, struct sockaddr_storage *ss)
{
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
}

static int bound_port(const uv_tcp_t *t)
{
    struct sockaddr_storage got;
    int len = sizeof(got);
    int rc = uv_tcp_getsockname(t, (struct sockaddr *)&got, &len);

    if (rc != 0)
        return rc;
    return got.ss_family == AF_INET6
               ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
               : ntohs(((struct sockaddr_in *)&got)->sin_port);
}

int tsrv_tcp_bind(uv_tcp_t *t, const char *ip, int port)
{
    struct sockaddr_storage ss;
    int rc = tsrv_addr(ip, port, &ss);

    if (rc == 0)
        rc = uv_tcp_bind(t, (const struct sockaddr *)&ss, 0);
    return rc != 0 ? rc : bound_port(t);
}

static int is_wildcard(const uv_tcp_t *t)
{
    struct sockaddr_storage got;
    int len = sizeof(got);

    if (uv_tcp_getsockname(t, (struct sockaddr *)&got, &len) != 0)
        return 0;
    if (got.ss_family == AF_INET6)
        return memcmp(&((struct sockaddr_in6 *)&got)->sin6_addr,
                      &in6addr_any, sizeof(in6addr_any)) == 0;
    return ((struct sockaddr_in *)&got)->sin_addr.s_addr ==
           htonl(INADDR_ANY);
}

int tsrv_tcp_listen(uv_tcp_t *t, const struct sockaddr *sa, int backlog,
                    uv_connection_cb cb, int *wildcard)
{
    int rc = uv_tcp_bind(t, sa, 0);

    if (rc == 0)
        rc = uv_listen((uv_stream_t *)t, backlog, cb);
    if (rc != 0)
        return rc;
    if (wildcard)
        *wildcard = is_wildcard(t);
    return bound_port(t);
}

int tsrv_tcp_local_is_loopback(const uv_tcp_t *t)
{
    struct sockaddr_storage got;
    const struct in6_addr *a6;
    int len = sizeof(got);

    if (uv_tcp_getsockname(t, (struct sockaddr *)&got, &len) != 0)
        return 0;
    if (got.ss_family == AF_INET)
        return (ntohl(((struct sockaddr_in *)&got)->sin_addr.s_addr) >>
                24) == 127;
    a6 = &((struct sockaddr_in6 *)&got)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a6) ||
           (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
}

int tsrv_tcp_accept(uv_stream_t *server, uv_tcp_t *tcp, int loopback_only,
                    uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
    int rc = uv_accept(server, (uv_stream_t *)tcp);

    if (rc == 0 && loopback_only && !tsrv_tcp_local_is_loopback(tcp))
        rc = UV_ECONNREFUSED;
    if (rc == 0)
        rc = uv_tcp_nodelay(tcp, 1);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)tcp, alloc_cb, read_cb);
    return rc;
}
