/* The proxy: its URL, exclusions and messages (proxy.h).  Nothing here
 * does I/O but hscan__proxy_new()'s one lookup of the proxy's name. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "ascii.h"
#include "hscan.h"
#include "netset.h"
#include "proxy.h"

#define MAX_CRED 255            /* RFC 1929: one length byte each */

static int unhex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = hscan__lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into a new string; NULL on a bad escape, a NUL
 * byte or no memory. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t i, w = 0;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= n || (h = unhex(s[i + 1])) < 0 ||
                (l = unhex(s[i + 2])) < 0)
                goto bad;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0)
            goto bad;
        out[w++] = (char)c;
    }
    out[w] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

struct parsed {
    int kind;
    const char *user, *host;    /* into the URL */
    size_t user_len, host_len;  /* user: up to '@', "user:pass" */
    int port;
    int ipv6;                   /* host was bracketed */
};

static int refuse(char *detail, size_t dsize, const char *why)
{
    if (detail && dsize)
        snprintf(detail, dsize, "%s", why);
    return HSCAN_EINVAL;
}

static int parse(const char *url, struct parsed *pp, char *detail,
                 size_t dsize)
{
    static const struct { const char *s; int kind, port; } schemes[] = {
        { "http://", HSCAN__PROXY_HTTP, 3128 },
        { "socks5://", HSCAN__PROXY_SOCKS5, 1080 },
        { "socks5h://", HSCAN__PROXY_SOCKS5H, 1080 },
    };
    const char *p = NULL, *end, *at, *h, *hend;
    size_t i;

    memset(pp, 0, sizeof(*pp));
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].s);
        if (strncasecmp(url, schemes[i].s, n) == 0) {
            p = url + n;
            pp->kind = schemes[i].kind;
            pp->port = schemes[i].port;
            break;
        }
    }
    if (!p)
        return refuse(detail, dsize, "the scheme must be http://, "
                      "socks5:// or socks5h://");
    end = p + strcspn(p, "/?#");
    if (*end && !(end[0] == '/' && end[1] == '\0'))
        return refuse(detail, dsize, "a proxy URL has no path");
    for (h = p; h < end; h++)
        if ((unsigned char)*h <= ' ' || *h == 0x7f)
            return refuse(detail, dsize, "white space or a control "
                          "character in the proxy URL");
    at = NULL;
    for (h = p; h < end; h++)
        if (*h == '@')
            at = h;
    if (at) {
        pp->user = p;
        pp->user_len = (size_t)(at - p);
        p = at + 1;
    }
    if (*p == '[') {
        hend = memchr(p, ']', (size_t)(end - p));
        if (!hend)
            return refuse(detail, dsize, "an unclosed [ in the host");
        pp->host = p + 1;
        pp->host_len = (size_t)(hend - p - 1);
        pp->ipv6 = 1;
        h = hend + 1;
    } else {
        hend = p;
        while (hend < end && *hend != ':')
            hend++;
        pp->host = p;
        pp->host_len = (size_t)(hend - p);
        h = hend;
    }
    if (pp->host_len == 0 || pp->host_len > 253)
        return refuse(detail, dsize, "no host, or a host over 253 bytes");
    if (h < end) {
        long port = 0;
        if (*h != ':' || h + 1 == end)
            return refuse(detail, dsize, "a bad port");
        for (h++; h < end; h++) {
            if (*h < '0' || *h > '9' || (port = port * 10 + *h - '0') >
                                            65535)
                return refuse(detail, dsize, "a bad port");
        }
        if (port == 0)
            return refuse(detail, dsize, "a bad port");
        pp->port = (int)port;
    }
    if (pp->user) {
        const char *colon = memchr(pp->user, ':', pp->user_len);
        if (!colon || colon == pp->user)
            return refuse(detail, dsize, "credentials must be user:password");
    }
    return 0;
}

int hscan__proxy_check(const char *url, char *detail, size_t dsize)
{
    struct parsed pp;

    if (!url)
        return 0;
    return parse(url, &pp, detail, dsize);
}

/* The comma- or blank-separated `list` compiled (NULL: none).  Read
 * leniently, as curl reads NO_PROXY: an entry that is nothing we know
 * matches nothing rather than failing the scan. */
static int add_exclusions(struct hscan__proxy *px, const char *list)
{
    char *copy, *tok, *save = NULL;
    const char **v;
    size_t n = 0;
    int rc;

    if (!list)
        return 0;
    if (!(copy = strdup(list)))
        return HSCAN_ENOMEM;
    /* at most one entry per two bytes, "a,b,c" */
    if (!(v = malloc((strlen(list) / 2 + 1) * sizeof(*v)))) {
        free(copy);
        return HSCAN_ENOMEM;
    }
    for (tok = strtok_r(copy, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save))
        v[n++] = tok;
    rc = hscan__netset_new(&px->no_proxy, v, n, HSCAN__NETSET_LENIENT,
                           NULL, 0);
    free(v);
    free(copy);
    return rc;
}

static int resolve(struct hscan__proxy *px, int ipv6, int lookup,
                   char *detail, size_t dsize)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&px->addr;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&px->addr;
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&px->addr, 0, sizeof(px->addr));
    if (!ipv6 && inet_pton(AF_INET, px->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)px->port);
        return 0;
    }
    if (inet_pton(AF_INET6, px->host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)px->port);
        return 0;
    }
    if (ipv6)
        return refuse(detail, dsize, "not an IPv6 address in [ ]");
    if (!lookup)
        return refuse(detail, dsize, "not an address literal");
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(px->host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        if (detail && dsize)
            snprintf(detail, dsize, "cannot resolve the proxy %s: %s",
                     px->host, gai_strerror(rc));
        return HSCAN_EINVAL;
    }
    memcpy(&px->addr, res->ai_addr, res->ai_addrlen);
    if (res->ai_family == AF_INET6)
        s6->sin6_port = htons((uint16_t)px->port);
    else
        s4->sin_port = htons((uint16_t)px->port);
    freeaddrinfo(res);
    return 0;
}

int hscan__proxy_new(struct hscan__proxy **out, const char *url,
                     const char *no_proxy, int lookup, char *detail,
                     size_t dsize)
{
    struct hscan__proxy *px;
    struct parsed pp;
    const char *scheme;
    size_t dlen;
    int rc = parse(url, &pp, detail, dsize);

    if (rc != 0)
        return rc;
    if (!(px = calloc(1, sizeof(*px))))
        return HSCAN_ENOMEM;
    px->kind = pp.kind;
    px->port = pp.port;
    rc = HSCAN_ENOMEM;
    if (!(px->host = malloc(pp.host_len + 1)))
        goto fail;
    memcpy(px->host, pp.host, pp.host_len);
    px->host[pp.host_len] = '\0';
    if (pp.user) {
        const char *colon = memchr(pp.user, ':', pp.user_len);
        px->user = pct_decode(pp.user, (size_t)(colon - pp.user));
        px->pass = pct_decode(colon + 1,
                              pp.user_len - (size_t)(colon - pp.user) - 1);
        if (!px->user || !px->pass || strlen(px->user) > MAX_CRED ||
            strlen(px->pass) > MAX_CRED) {
            rc = refuse(detail, dsize, "credentials: a bad %-escape, or "
                        "over 255 bytes each");
            goto fail;
        }
    }
    scheme = pp.kind == HSCAN__PROXY_HTTP ? "http"
             : pp.kind == HSCAN__PROXY_SOCKS5 ? "socks5" : "socks5h";
    dlen = strlen(scheme) + pp.host_len + 16;
    if (!(px->display = malloc(dlen)))
        goto fail;
    snprintf(px->display, dlen, pp.ipv6 ? "%s://[%s]:%d" : "%s://%s:%d",
             scheme, px->host, px->port);
    if ((rc = add_exclusions(px, no_proxy)) != 0 ||
        (rc = resolve(px, pp.ipv6, lookup, detail, dsize)) != 0)
        goto fail;
    *out = px;
    return 0;
fail:
    hscan__proxy_free(px);
    return rc;
}

void hscan__proxy_free(struct hscan__proxy *px)
{
    if (!px)
        return;
    hscan__netset_free(px->no_proxy);
    free(px->host);
    if (px->pass)
        memset(px->pass, 0, strlen(px->pass));
    free(px->user);
    free(px->pass);
    free(px->display);
    free(px);
}

int hscan__proxy_bypass(const struct hscan__proxy *px, const char *host,
                        int family, const uint8_t *addr)
{
    if (!px->no_proxy)
        return 0;
    if (family)
        return hscan__netset_addr(px->no_proxy, family, addr) != NULL;
    return hscan__netset_name(px->no_proxy, host, strlen(host)) != NULL;
}

size_t hscan__proxy_connect_req(const struct hscan__proxy *px,
                                const char *host, int ipv6, int port,
                                const char *ua, char *out, size_t size)
{
    char auth[1024] = "";
    int n;

    if (px->user) {
        unsigned char cred[2 * MAX_CRED + 2];
        char b64[4 * ((sizeof(cred) + 2) / 3) + 1];
        int cl = snprintf((char *)cred, sizeof(cred), "%s:%s", px->user,
                          px->pass);
        EVP_EncodeBlock((unsigned char *)b64, cred, cl);
        snprintf(auth, sizeof(auth), "Proxy-Authorization: Basic %s\r\n",
                 b64);
        OPENSSL_cleanse(cred, sizeof(cred));
    }
    n = snprintf(out, size,
                 ipv6 ? "CONNECT [%s]:%d HTTP/1.1\r\nHost: [%s]:%d\r\n"
                        "%s%s%s%sProxy-Connection: keep-alive\r\n\r\n"
                      : "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n"
                        "%s%s%s%sProxy-Connection: keep-alive\r\n\r\n",
                 host, port, host, port, ua ? "User-Agent: " : "",
                 ua ? ua : "", ua ? "\r\n" : "", auth);
    OPENSSL_cleanse(auth, sizeof(auth));
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

long hscan__proxy_http_reply(const char *buf, size_t len, size_t max,
                             int *status, char *detail, size_t dsize)
{
    static const char http[] = "HTTP/";
    size_t i, n = len < 5 ? len : 5, end = 0;

    for (i = 0; i < n; i++)
        if (hscan__lower((unsigned char)buf[i]) !=
            hscan__lower((unsigned char)http[i])) {
            snprintf(detail, dsize, "the proxy's reply is not HTTP");
            return -1;
        }
    /* the end of the head: an empty line (LF or CRLF) */
    for (i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if ((i >= 1 && buf[i - 1] == '\n') ||
            (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')) {
            end = i + 1;
            break;
        }
    }
    if (!end) {
        if (len > max) {
            snprintf(detail, dsize, "the proxy's reply head is over %zu "
                     "bytes", max);
            return -1;
        }
        return 0;
    }
    /* "HTTP/x.y SP NNN" */
    for (i = 5; i < end && buf[i] != ' '; i++)
        ;
    while (i < end && buf[i] == ' ')
        i++;
    if (i + 3 > end || buf[i] < '1' || buf[i] > '9' || buf[i + 1] < '0' ||
        buf[i + 1] > '9' || buf[i + 2] < '0' || buf[i + 2] > '9') {
        snprintf(detail, dsize, "the proxy's status line has no status");
        return -1;
    }
    *status = (buf[i] - '0') * 100 + (buf[i + 1] - '0') * 10 +
              (buf[i + 2] - '0');
    return (long)end;
}

size_t hscan__socks5_greeting(const struct hscan__proxy *px, uint8_t *out)
{
    out[0] = 5;
    if (px->user) {
        out[1] = 2;
        out[2] = 0;             /* no authentication */
        out[3] = 2;             /* username/password */
        return 4;
    }
    out[1] = 1;
    out[2] = 0;
    return 3;
}

size_t hscan__socks5_auth(const struct hscan__proxy *px, uint8_t *out)
{
    size_t ul = strlen(px->user), pl = strlen(px->pass);

    out[0] = 1;
    out[1] = (uint8_t)ul;
    memcpy(out + 2, px->user, ul);
    out[2 + ul] = (uint8_t)pl;
    memcpy(out + 3 + ul, px->pass, pl);
    return 3 + ul + pl;
}

size_t hscan__socks5_request(const char *name, int family,
                             const uint8_t *addr, int port, uint8_t *out)
{
    size_t n = 4;

    out[0] = 5;
    out[1] = 1;                 /* CONNECT */
    out[2] = 0;
    if (name) {
        size_t l = strlen(name);
        if (l == 0 || l > 255)
            return 0;
        out[3] = 3;
        out[4] = (uint8_t)l;
        memcpy(out + 5, name, l);
        n = 5 + l;
    } else if (family == 6) {
        out[3] = 4;
        memcpy(out + 4, addr, 16);
        n = 20;
    } else {
        out[3] = 1;
        memcpy(out + 4, addr, 4);
        n = 8;
    }
    out[n] = (uint8_t)(port >> 8);
    out[n + 1] = (uint8_t)port;
    return n + 2;
}

long hscan__socks5_reply(const uint8_t *buf, size_t len, int *rep)
{
    size_t need;

    if (len >= 1 && buf[0] != 5)
        return -1;
    if (len < 5)
        return 0;
    *rep = buf[1];
    if (buf[2] != 0)
        return -1;
    switch (buf[3]) {
    case 1: need = 4 + 4 + 2; break;
    case 4: need = 4 + 16 + 2; break;
    case 3: need = 4 + 1 + (size_t)buf[4] + 2; break;
    default:
        /* a failure may come with any address: the code is enough */
        return *rep ? (long)len : -1;
    }
    return len >= need ? (long)need : 0;
}

const char *hscan__socks5_rep_text(int rep)
{
    static const char *const text[] = {
        "succeeded", "general SOCKS server failure",
        "connection not allowed by ruleset", "network unreachable",
        "host unreachable", "connection refused", "TTL expired",
        "command not supported", "address type not supported"
    };
    return rep >= 0 && rep < 9 ? text[rep] : "unassigned reply code";
}
