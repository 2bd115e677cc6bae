/* The proxy leg (leg.h), between TCP and TLS (or HTTP): when the socket
 * to the proxy is up it asks for a tunnel to the target — an HTTP
 * CONNECT, or the SOCKS5 exchange (greeting, RFC 1929 credentials,
 * CONNECT) — reads the reply (proxy.c parses it), and once the tunnel
 * stands starts the leg above and passes bytes both ways untouched.
 * Before that, every failure is the proxy's, with its own error name;
 * the phase has its own deadline (cfg.proxy_timeout_ms) and timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "proxy.h"


enum { S_GREETING, S_AUTH, S_REQUEST, S_HTTP, S_UP };

static void failed(struct probe *p, int err, const char *detail)
{
    char d[HSCAN__DETAIL_SIZE];

    snprintf(d, sizeof(d), "%s: %.120s", p->env->proxy->display, detail);
    /* The proxy could not reach an https:// target: plain HTTP through
     * it may still work (https-first). */
    if (err != HSCAN_EPROXY_TARGET_UNREACHABLE || !hscan__p_fall_back(p,
                                                                     err, d))
        hscan__p_finish(p, err, d);
}

/* A message to the proxy; a failure ends the probe. */
static void send_down(struct hscan__leg *l, const void *buf, size_t n)
{
    struct probe *p = l->p;
    int rc = l->below->ops->send(l->below, buf, n);

    if (rc < 0 && p->state != PROBE_CLOSING)
        failed(p, HSCAN_EPROXY_UNREACHABLE, "cannot send to the proxy");
}

/* The tunnel stands: the leg above starts, then gets what followed the
 * reply in the same read (normally nothing: the target speaks after
 * us), from a copy, since the leg above may end the probe and with it
 * this leg's buffer. */
static void tunnel_up(struct hscan__leg *l, const char *rest, size_t n)
{
    struct probe *p = l->p;
    char *copy = NULL;

    if (n && !(copy = malloc(n))) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (n)
        memcpy(copy, rest, n);
    p->pxs->step = S_UP;
    p->pxs->t_proxy = uv_hrtime();
    l->above->ops->start(l->above);
    if (n && p->state != PROBE_CLOSING)
        l->above->ops->recv(l->above, copy, n);
    free(copy);
}

static void send_request(struct hscan__leg *l)
{
    struct probe *p = l->p;
    uint8_t msg[300];
    size_t n;

    if (p->proxy_mode == HSCAN__PX_LOCAL) {
        const struct hscan__addr *a = &p->dns.addrs[p->cur_addr];
        n = hscan__socks5_request(NULL, a->family, a->bytes, p->port, msg);
    } else if (p->family) {
        uint8_t b[16];
        inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->host, b);
        n = hscan__socks5_request(NULL, p->family, b, p->port, msg);
    } else {
        n = hscan__socks5_request(p->host, 0, NULL, p->port, msg);
    }
    if (n == 0) {
        failed(p, HSCAN_EPROXY_REFUSED, "a host name over 255 bytes");
        return;
    }
    p->pxs->step = S_REQUEST;
    send_down(l, msg, n);
}

static void proxy_start(struct hscan__leg *l)
{
    struct probe *p = l->p;
    const struct hscan__proxy *px = p->env->proxy;

    hscan__p_set_state(p, PROBE_PROXY);
    hscan__p_arm(p, p->env->lim.proxy_timeout_ms);
    free(p->pxs);
    if (!(p->pxs = malloc(sizeof(*p->pxs)))) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    p->pxs->len = 0;
    p->pxs->status = 0;
    p->pxs->t_proxy0 = uv_hrtime();
    p->pxs->t_proxy = 0;
    if (px->kind == HSCAN__PROXY_HTTP) {
        char req[2048];
        size_t n = hscan__proxy_connect_req(px, p->host, p->family == 6,
                                            p->port, p->req->ua, req,
                                            sizeof(req));
        p->pxs->step = S_HTTP;
        if (n == 0) {
            failed(p, HSCAN_EPROXY_REFUSED, "CONNECT request too long");
            return;
        }
        send_down(l, req, n);
        memset(req, 0, sizeof(req));        /* credentials */
    } else {
        uint8_t g[4];
        p->pxs->step = S_GREETING;
        send_down(l, g, hscan__socks5_greeting(px, g));
    }
    if (p->state == PROBE_PROXY && hscan__p_read_start(p) != 0)
        failed(p, HSCAN_EPROXY_UNREACHABLE, "cannot read from the proxy");
}

static void http_reply(struct hscan__leg *l)
{
    struct probe *p = l->p;
    struct hscan__pxs *s = p->pxs;
    char d[HSCAN__DETAIL_SIZE];
    int status = 0;
    long end = hscan__proxy_http_reply(s->buf, s->len, HSCAN__PROXY_REPLY_MAX, &status,
                                       d, sizeof(d));

    if (end == 0)
        return;
    if (end < 0) {
        failed(p, HSCAN_EPROXY_PROTOCOL, d);
        return;
    }
    p->pxs->status = status;
    if (status >= 200 && status < 300) {
        tunnel_up(l, s->buf + end, s->len - (size_t)end);
        return;
    }
    snprintf(d, sizeof(d), "CONNECT answered %d", status);
    /* 407 (tinyproxy: 401 for wrong credentials); 5xx: the proxy tried
     * and failed (502, 504; tinyproxy says 500 when it cannot connect
     * or resolve); other codes refuse us */
    failed(p, status == 407 || status == 401 ? HSCAN_EPROXY_AUTH
              : status >= 500 ? HSCAN_EPROXY_TARGET_UNREACHABLE
                              : HSCAN_EPROXY_REFUSED, d);
}

/* SOCKS5 replies, step by step. */
static void socks_reply(struct hscan__leg *l)
{
    struct probe *p = l->p;
    struct hscan__pxs *s = p->pxs;
    const uint8_t *b = (const uint8_t *)s->buf;
    char d[HSCAN__DETAIL_SIZE];
    long n;
    int rep = 0, method;

    if (s->step == S_GREETING) {
        if (s->len < 2)
            return;
        if (b[0] != 5) {
            failed(p, HSCAN_EPROXY_PROTOCOL, "not a SOCKS5 reply");
            return;
        }
        if (b[1] == 0xff || (b[1] == 2 && !p->env->proxy->user) ||
            (b[1] != 0 && b[1] != 2)) {
            snprintf(d, sizeof(d), b[1] == 0xff
                         ? "no authentication method acceptable%s"
                         : "it picked an authentication method we did "
                           "not offer%s",
                     p->env->proxy->user ? "" : " (it may want "
                                                 "credentials)");
            failed(p, b[1] == 0xff ? HSCAN_EPROXY_AUTH
                                   : HSCAN_EPROXY_PROTOCOL, d);
            return;
        }
        method = b[1];
        memmove(s->buf, s->buf + 2, s->len - 2);
        s->len -= 2;
        if (method == 2) {
            uint8_t a[520];
            s->step = S_AUTH;
            send_down(l, a, hscan__socks5_auth(p->env->proxy, a));
            memset(a, 0, sizeof(a));
        } else {
            send_request(l);
        }
        return;
    }
    if (s->step == S_AUTH) {
        if (s->len < 2)
            return;
        if (b[0] != 1) {
            failed(p, HSCAN_EPROXY_PROTOCOL, "not a SOCKS5 "
                   "authentication reply");
            return;
        }
        if (b[1] != 0) {
            failed(p, HSCAN_EPROXY_AUTH, "username/password rejected");
            return;
        }
        memmove(s->buf, s->buf + 2, s->len - 2);
        s->len -= 2;
        send_request(l);
        return;
    }
    n = hscan__socks5_reply(b, s->len, &rep);
    if (n == 0)
        return;
    if (n < 0) {
        failed(p, HSCAN_EPROXY_PROTOCOL, "a malformed SOCKS5 reply");
        return;
    }
    p->pxs->status = rep;
    if (rep == 0) {
        tunnel_up(l, s->buf + n, s->len - (size_t)n);
        return;
    }
    snprintf(d, sizeof(d), "SOCKS5 reply %d: %s", rep,
             hscan__socks5_rep_text(rep));
    failed(p, rep == 2 || rep == 7 || rep == 8 ? HSCAN_EPROXY_REFUSED
              : HSCAN_EPROXY_TARGET_UNREACHABLE, d);
}

static void proxy_recv(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;
    struct hscan__pxs *s = p->pxs;

    if (!s)
        return;
    if (s->step == S_UP) {
        l->above->ops->recv(l->above, buf, n);
        return;
    }
    if (n > HSCAN__PROXY_REPLY_MAX - s->len) {
        failed(p, HSCAN_EPROXY_PROTOCOL, "the proxy's reply is too long");
        return;
    }
    memcpy(s->buf + s->len, buf, n);
    s->len += n;
    /* one reply per step; a step that consumed its reply and sent the
     * next message may find the next reply already here */
    for (;;) {
        int step = s->step;
        size_t len = s->len;

        if (step == S_HTTP)
            http_reply(l);
        else
            socks_reply(l);
        if (p->state != PROBE_PROXY || !p->pxs || p->pxs->step == S_UP ||
            (s->step == step && s->len == len) || s->len == 0)
            return;
    }
}

static int proxy_send(struct hscan__leg *l, const char *buf, size_t n)
{
    return l->below->ops->send(l->below, buf, n);
}

static void proxy_eof(struct hscan__leg *l, int err, const char *detail)
{
    struct probe *p = l->p;

    if (p->pxs && p->pxs->step == S_UP) {
        l->above->ops->eof(l->above, err, detail);
        return;
    }
    failed(p, HSCAN_EPROXY_PROTOCOL, err ? "reset before its reply ended"
                                         : "closed before its reply ended");
}

static void proxy_close(struct hscan__leg *l)
{
    struct probe *p = l->p;

    if (p->pxs) {
        memset(p->pxs, 0, sizeof(*p->pxs));
        free(p->pxs);
        p->pxs = NULL;
    }
}

const struct hscan__leg_ops hscan__proxy_leg = {
    "proxy", proxy_start, proxy_recv, proxy_send, proxy_eof, proxy_close
};
