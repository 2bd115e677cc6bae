/* Socket set-up shared by the loopback test servers. */
#include "tsrv-net.h"

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

int tsrv_tcp_listen(uv_tcp_t *t, const struct sockaddr *sa, int backlog,
                    uv_connection_cb cb)
{
    int rc = uv_tcp_bind(t, sa, 0);

    if (rc == 0)
        rc = uv_listen((uv_stream_t *)t, backlog, cb);
    return rc != 0 ? rc : bound_port(t);
}
