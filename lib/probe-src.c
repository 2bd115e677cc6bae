/* Source addresses (cfg.source_ips): every socket a probe opens, to the
 * target or to the proxy, is bound to the next address of the
 * destination's family, round robin per scanner.  Each source address
 * has its own ephemeral ports, so N of them carry N times the
 * connections one does.
 *
 * The socket is made here rather than by libuv so that
 * IP_BIND_ADDRESS_NO_PORT (Linux 4.2) can be set before bind(): the
 * port is then picked at connect time for the whole 4-tuple, as for an
 * unbound socket, instead of reserving a port of its own per socket
 * (about 28,000 per source address in all).  A destination of a family
 * no source address has is not tried; a source address the host does
 * not have (bind: EADDRNOTAVAIL) fails the attempt: both are
 * HSCAN_ESOURCE_UNUSABLE, the scanner's setting, not the target's
 * fault.  A bind with no port left (EADDRINUSE) is a local shortage. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

int hscan__src_parse(const char *s, struct sockaddr_storage *ss)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

int hscan__srcs_new(struct hscan__srcs **out, const char *const *ips,
                    size_t n)
{
    struct hscan__srcs *s;
    size_t i;

    if (n == 0) {
        *out = NULL;
        return 0;
    }
    if (!(s = calloc(1, sizeof(*s) + n * sizeof(s->ss[0]))))
        return HSCAN_ENOMEM;
    for (i = 0; i < n; i++)
        if (hscan__src_parse(ips[i], &s->ss[i]) != 0) {
            free(s);
            return HSCAN_EINVAL;
        }
    s->n = (unsigned)n;
    *out = s;
    return 0;
}

/* The next source address of `family`, round robin; -1 when none. */
static int pick(struct hscan__srcs *s, int family)
{
    unsigned *next = family == AF_INET6 ? &s->next6 : &s->next4;
    unsigned i, k;

    for (i = 0; i < s->n; i++) {
        k = (*next + i) % s->n;
        if (s->ss[k].ss_family == family) {
            *next = k + 1;
            return (int)k;
        }
    }
    return -1;
}

static int open_bound(const struct sockaddr_storage *src, int k)
{
    int type = SOCK_STREAM, fd, err;
    socklen_t len = src->ss_family == AF_INET6
                        ? sizeof(struct sockaddr_in6)
                        : sizeof(struct sockaddr_in);

#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC;
#endif
    if ((fd = socket(src->ss_family, type, 0)) < 0)
        return -errno;
#ifdef IP_BIND_ADDRESS_NO_PORT
    {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof(one));
    }
#endif
    if (bind(fd, (const struct sockaddr *)src, len) == 0)
        return fd;
    err = errno;
    close(fd);
    if (err == EADDRNOTAVAIL)
        return HSCAN__P_ESOURCE_BIND - k;
    return err == EADDRINUSE ? UV_EADDRNOTAVAIL : -err;
}

int hscan__p_bind_source(struct probe *p, uv_tcp_t *t,
                         const struct sockaddr *dst)
{
    struct hscan__srcs *s = p->env->srcs;
    int k, fd, rc;

    if (!s)
        return 0;
    if ((k = pick(s, dst->sa_family)) < 0)
        return HSCAN__P_ENOSOURCE;
    if ((fd = open_bound(&s->ss[k], k)) < 0)
        return fd;
    if ((rc = uv_tcp_open(t, fd)) != 0)
        close(fd);
    return rc;
}

const char *hscan__p_source_why(const struct probe *p, int code, char *buf,
                                size_t size)
{
    const struct hscan__srcs *s = p->env->srcs;
    char a[INET6_ADDRSTRLEN] = "?";
    int k = HSCAN__P_ESOURCE_BIND - code;

    if (!HSCAN__P_SOURCE_ERR(code))
        return NULL;
    if (code == HSCAN__P_ENOSOURCE) {
        snprintf(buf, size, "no source address of the destination's "
                 "family (source_ips)");
        return buf;
    }
    if (s && k >= 0 && (unsigned)k < s->n) {
        const struct sockaddr_storage *ss = &s->ss[k];
        if (ss->ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
                      a, sizeof(a));
        else
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
                      a, sizeof(a));
    }
    snprintf(buf, size, "source address %s is not this host's (bind: %s)",
             a, uv_strerror(UV_EADDRNOTAVAIL));
    return buf;
}
