/* proxy.c: the proxy a scanner goes through (cfg.proxy, cfg.no_proxy)
 * and the pure parts of speaking to it: the URL, the exclusions, the
 * HTTP CONNECT request and reply head, the SOCKS5 (RFC 1928, RFC 1929)
 * messages and replies.  The leg that drives them is probe-proxy.c. */
#ifndef HSCAN_PROXY_H
#define HSCAN_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum { HSCAN__PROXY_HTTP = 1, HSCAN__PROXY_SOCKS5, HSCAN__PROXY_SOCKS5H };

struct hscan__proxy {
    int kind;
    char *host;                 /* as in the URL, no brackets */
    int port;
    char *user, *pass;          /* NULL when the URL has none */
    char *display;              /* "socks5://127.0.0.1:1080": no
                                   credentials; what records show */
    struct sockaddr_storage addr;   /* the proxy's, resolved once */
    struct hscan__netset *no_proxy; /* exclusions, or NULL (netset.h) */
};

/* Parse `url` ("http://[user:pass@]host[:port]", "socks5://...",
 * "socks5h://..."; port 1080 for SOCKS, 3128 for HTTP when none;
 * credentials percent-decoded) and the comma-separated `no_proxy`
 * (NULL: none), and resolve the proxy's host (a literal, or, with
 * `lookup`, getaddrinfo() once: called when the scanner is made; without
 * it a name is refused).  Returns 0, or
 * HSCAN_EINVAL with `detail`, or HSCAN_ENOMEM. */
int hscan__proxy_new(struct hscan__proxy **out, const char *url,
                     const char *no_proxy, int lookup, char *detail,
                     size_t dsize);
/* The same checks without resolving or keeping anything (config.c). */
int hscan__proxy_check(const char *url, char *detail, size_t dsize);
void hscan__proxy_free(struct hscan__proxy *px);

/* Whether `host` (a name, or an address literal of `family` 4/6 with
 * its bytes in `addr`) is excluded by no_proxy: "*" excludes all; a
 * name matches itself and its subdomains (a leading dot is the same);
 * an address or CIDR ("10.0.0.0/8", "::1") matches literals in it. */
int hscan__proxy_bypass(const struct hscan__proxy *px, const char *host,
                        int family, const uint8_t *addr);

/* HTTP CONNECT request for `host` (an IPv6 literal is bracketed) and
 * `port` into `out`; returns its length, or 0 when it does not fit. */
size_t hscan__proxy_connect_req(const struct hscan__proxy *px,
                                const char *host, int ipv6, int port,
                                const char *ua, char *out, size_t size);

/* The reply head to a CONNECT, fed whole so far (`buf`, `len`): 0 while
 * more is needed, the head's length when it ended (`*status` set), or
 * -1 when it is not an HTTP reply or is over `max` bytes (`detail`). */
long hscan__proxy_http_reply(const char *buf, size_t len, size_t max,
                             int *status, char *detail, size_t dsize);

/* SOCKS5.  The greeting (offering username/password too when there
 * are credentials): its length in `out` (at least 4 bytes). */
size_t hscan__socks5_greeting(const struct hscan__proxy *px, uint8_t *out);
/* The username/password sub-negotiation (RFC 1929) into `out` (at least
 * 513 bytes): its length. */
size_t hscan__socks5_auth(const struct hscan__proxy *px, uint8_t *out);
/* The CONNECT request: for a name (atyp 3, at most 255 bytes) when
 * `name` is not NULL, else for the address of `family` 4/6 in `addr`.
 * Its length in `out` (at least 262 bytes), 0 for a name too long. */
size_t hscan__socks5_request(const char *name, int family,
                             const uint8_t *addr, int port, uint8_t *out);
/* The length of the CONNECT reply in `buf` (`len` bytes so far): 0
 * while more is needed, -1 when malformed (not version 5, a reserved
 * byte or an unknown address type); `*rep` its reply code. */
long hscan__socks5_reply(const uint8_t *buf, size_t len, int *rep);
/* RFC 1928's text for reply code `rep`. */
const char *hscan__socks5_rep_text(int rep);

#endif /* HSCAN_PROXY_H */
