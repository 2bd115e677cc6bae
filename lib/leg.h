/* Legs: the layers of one probe's byte stream.
 *
 * Between the socket and the HTTP parser a probe runs an ordered stack
 * of legs, bottom up.  Today the stacks are
 *
 *     TCP -> HTTP/1.1              (http://)
 *     TCP -> TLS -> HTTP/1.1       (https://)
 *
 * and every leg has the same small interface, so a new one slots in
 * without touching the others: a proxy leg (HTTP CONNECT, SOCKS5) goes
 * between TCP and TLS, an HTTP/2 session replaces HTTP/1.1 on top of
 * TLS.  A leg only talks to its neighbours: bytes travel up with the
 * upper leg's `recv` and down with the lower leg's `send`; readiness
 * travels up with `start`, the end of the stream with `eof`.
 *
 *   start(l)   The leg below can carry bytes now (the socket connected,
 *              the handshake finished, the proxy said yes).  The leg
 *              begins its own work: a ClientHello, a CONNECT line, the
 *              request.  The TCP leg has no start: its readiness is the
 *              connect, which the probe drives.
 *   recv(l)    Bytes arrived from the leg below (for the TCP leg: from
 *              the socket).  A leg passes what is meant for the leg
 *              above with the above leg's recv, after taking its own
 *              (a TLS record, a proxy reply).
 *   send(l)    Bytes from the leg above to go toward the peer.  Returns
 *              1 when they were handed on entirely, 0 when the bottom
 *              queued some (the probe hears of the end through
 *              hscan__p_written()), or a negative HSCAN_E*.  The bytes
 *              are the caller's again when send returns.
 *   eof(l)     The stream below ended: `err` 0 for an orderly close, a
 *              negative HSCAN_E* (a reset, a TLS alert) with `detail`
 *              otherwise.  A leg that can still make sense of what it
 *              has (a body delimited by the close) does; otherwise it
 *              ends the probe or passes the end up.
 *   close(l)   Release what the leg holds.  Called once per hop (a
 *              redirect or fallback builds a new stack) and when the
 *              probe is freed; safe on a leg that never started.
 *
 * Every leg may end the probe (hscan__p_finish() or a fallback), after
 * which the probe is CLOSING and every further call into a leg returns
 * at once: after calling up or down, a leg checks the probe's state
 * before touching anything else (STYLE.md 6, "re-check before touching
 * p").  Legs are embedded in the probe, or hang off it when only some
 * targets need them; they own no uv handle except the TCP leg's socket.
 */
#ifndef HSCAN_LEG_H
#define HSCAN_LEG_H

#include <stddef.h>

struct probe;
struct hscan__leg;

struct hscan__leg_ops {
    const char *name;
    void (*start)(struct hscan__leg *l);
    void (*recv)(struct hscan__leg *l, const char *buf, size_t n);
    int (*send)(struct hscan__leg *l, const char *buf, size_t n);
    void (*eof)(struct hscan__leg *l, int err, const char *detail);
    void (*close)(struct hscan__leg *l);
};

struct hscan__leg {
    const struct hscan__leg_ops *ops;
    struct hscan__leg *below, *above;
    struct probe *p;
};

/* The legs of this round (probe-tcp.c, probe-tls.c, probe-http.c). */
extern const struct hscan__leg_ops hscan__tcp_leg;
extern const struct hscan__leg_ops hscan__tls_leg;
extern const struct hscan__leg_ops hscan__http1_leg;
/* probe-proxy.c: HTTP CONNECT and SOCKS5, between TCP and TLS */
extern const struct hscan__leg_ops hscan__proxy_leg;
/* probe-h2.c, with HSCAN_HAVE_NGHTTP2 */
extern const struct hscan__leg_ops hscan__h2_leg;

#endif /* HSCAN_LEG_H */
