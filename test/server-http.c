/* server-http.c: the replies of the HTTP/1.1 test servers (see
 * server-http.h). A request head becomes a plan, and a plan becomes
 * reply bytes, independent of the transport: server-http-tcp.c (the
 * plain TCP server) and server-tls.c both use it. */
#include "server-http.h"
#include "server-http-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_MIN 1024
#define MANY_MAX 100000
#define HUGE_FIELDS 3000
#define HUGE_LINE 100
#define EARLY_MAX 10000
#define BIGLOC_MAX 10000000

#define FAST_BODY "<html><title>fast</title></html>"
#define R(str) str, sizeof(str) - 1

static const struct {
    const char *name;
    enum beh beh;
    long def;               /* argument when none is given */
} behaviours[] = {
    { "fast", B_FAST, 0 }, { "delay", B_DELAY, 200 },
    { "r301", B_R301, 0 }, { "r302", B_R302, 0 },
    { "notfound", B_NOTFOUND, 0 }, { "error", B_ERROR, 0 },
    { "http10", B_HTTP10, 0 }, { "chunked", B_CHUNKED, 0 },
    { "many", B_MANY, 100 }, { "huge", B_HUGE, 0 },
    { "trickle", B_TRICKLE, 50 }, { "hang", B_HANG, 0 },
    { "close", B_CLOSE, 0 }, { "reset", B_RESET, 0 },
    { "garbage", B_GARBAGE, 0 }, { "badstatus", B_BADSTATUS, 0 },
    { "ctl", B_CTL, 0 }, { "lf", B_LF, 0 }, { "status", B_STATUS, 200 },
    { "early", B_EARLY, 1 },
    { "endless", B_ENDLESS, 8 }, { "longline", B_LONGLINE, 1048576 },
    { "tiny", B_TINY, 100000 }, { "split", B_SPLIT, 10000 },
    { "drip", B_DRIP, 900 }, { "rstmid", B_RSTMID, 50 },
    { "finmid", B_FINMID, 0 }, { "shortbody", B_SHORTBODY, 0 },
    { "nobody", B_NOBODY, 200 }, { "upgrade", B_UPGRADE, 0 },
    { "h09", B_H09, 0 }, { "dupcl", B_DUPCL, 0 },
    { "conflictcl", B_CONFLICTCL, 0 }, { "clte", B_CLTE, 0 },
    { "chunkovf", B_CHUNKOVF, 0 }, { "binval", B_BINVAL, 0 },
    { "binname", B_BINNAME, 0 }, { "nulname", B_NULNAME, 0 },
    { "spacename", B_SPACENAME, 0 }, { "obsfold", B_OBSFOLD, 0 },
    { "bigloc", B_BIGLOC, 102400 }, { "endbody", B_ENDBODY, 0 },
    { "longstatus", B_LONGSTATUS, 0 }, { "tlsalert", B_TLSALERT, 0 },
    /* favicon pages and icons (server-favicon.c) */
    { "fav", B_FAV, 0 }, { "icon", B_ICON, TSRV_ICON_DEFAULT },
    { "page", B_PAGE, 8192 },
};

/* Fixed replies: `status` (if any), a Server field, then `rest`. */
static const struct {
    const char *status;
    const char *rest;
    size_t rest_len;
} canned[] = {
    [B_R301] = { "HTTP/1.1 301 Moved Permanently\r\n",
                 R("Location: http://fast.test/\r\n"
                   "Content-Length: 0\r\n\r\n") },
    [B_R302] = { "HTTP/1.1 302 Found\r\n",
                 R("Location: /next\r\nContent-Length: 0\r\n\r\n") },
    [B_NOTFOUND] = { "HTTP/1.1 404 Not Found\r\n",
                     R("Content-Type: text/plain\r\n"
                       "Content-Length: 10\r\n\r\nnot found\n") },
    [B_ERROR] = { "HTTP/1.1 500 Internal Server Error\r\n",
                  R("Content-Type: text/plain\r\n"
                    "Content-Length: 6\r\n\r\nerror\n") },
    [B_HTTP10] = { "HTTP/1.0 200 OK\r\n",
                   R("\r\n<html><title>http10</title></html>\n") },
    [B_CHUNKED] = { "HTTP/1.1 200 OK\r\n",
                    R("Transfer-Encoding: chunked\r\n\r\n"
                      "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n") },
    [B_GARBAGE] = { NULL, R("\x00\x01\x02" "SSH-2.0-OpenSSH_9.0\r\n"
                            "\xff\xfe\r\n\r\n") },
    [B_BADSTATUS] = { NULL, R("HTTP/1.1 2x0 OK\r\n\r\n") },
    [B_CTL] = { "HTTP/1.1 200 OK \xff\r\n",
                R("X-Bin: a\tb\x7f" "c\xff\xfe" "d\xc3\xa9" "e\r\n"
                  "Content-Length: 0\r\n\r\n") },
    [B_LF] = { NULL, R("HTTP/1.1 200 OK\nServer: lf\nContent-Length: 0"
                       "\n\n") },
    /* the head cut short: an RST (rstmid) or a FIN (finmid) follows */
    [B_RSTMID] = { "HTTP/1.1 200 OK\r\n", R("X-Partial: cut he") },
    [B_FINMID] = { "HTTP/1.1 200 OK\r\n", R("X-Partial: cut he") },
    [B_SHORTBODY] = { "HTTP/1.1 200 OK\r\n",
                      R("Content-Length: 100\r\n\r\n0123456789") },
    [B_UPGRADE] = { "HTTP/1.1 101 Switching Protocols\r\n",
                    R("Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                      "\x81\x05hello") },
    [B_H09] = { NULL, R("<html><body>HTTP/0.9 style</body></html>\n") },
    [B_DUPCL] = { "HTTP/1.1 200 OK\r\n",
                  R("Content-Length: 5\r\nContent-Length: 5\r\n\r\n"
                    "hello") },
    [B_CONFLICTCL] = { "HTTP/1.1 200 OK\r\n",
                       R("Content-Length: 5\r\nContent-Length: 6\r\n\r\n"
                         "hello!") },
    [B_CLTE] = { "HTTP/1.1 200 OK\r\n",
                 R("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
                   "\r\n5\r\nhello\r\n0\r\n\r\n") },
    [B_CHUNKOVF] = { "HTTP/1.1 200 OK\r\n",
                     R("Transfer-Encoding: chunked\r\n\r\n"
                       "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n") },
    [B_BINNAME] = { "HTTP/1.1 200 OK\r\n",
                    R("X-\x80\xff: v\r\nContent-Length: 0\r\n\r\n") },
    [B_NULNAME] = { "HTTP/1.1 200 OK\r\n",
                    R("X-\0: v\r\nContent-Length: 0\r\n\r\n") },
    [B_SPACENAME] = { "HTTP/1.1 200 OK\r\n",
                      R("X Bad Name: 1\r\nContent-Length: 0\r\n\r\n") },
    [B_LONGSTATUS] = { NULL, R("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n"
                               "\r\n") },
    /* a TLS alert record (handshake_failure) where HTTP was expected */
    [B_TLSALERT] = { NULL, R("\x15\x03\x03\x00\x02\x02\x28") },
    [B_OBSFOLD] = { "HTTP/1.1 200 OK\r\n",
                    R("X-Fold: a\r\n b\r\n\tc\r\nContent-Length: 0\r\n"
                      "\r\n") },
};

/* Redirect routes on the path (the query is ignored): the whole path,
 * or with `last`, its final segment (`/a/rel` too). */
static const struct {
    const char *path;
    int code;               /* 0: the fast reply */
    const char *location;
    int last;
} routes[] = {
    { "/loop", 302, "/loop", 0 }, { "/rel", 301, "fast-landing", 1 },
    { "/fast-landing", 0, NULL, 1 }, { "/see-other", 303, "/chain-0", 0 },
    { "/r307", 307, "/chain-0", 0 }, { "/r308", 308, "/chain-0", 0 },
};

/* ---- reply bytes ---- */

int tsrv__ob_reserve(struct obuf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 512;
    char *p;

    if (b->failed)
        return -1;
    if (b->len + more <= b->cap)
        return 0;
    while (cap < b->len + more)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void tsrv__ob_mem(struct obuf *b, const void *data, size_t n)
{
    if (tsrv__ob_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void tsrv__ob_fmt(struct obuf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && tsrv__ob_reserve(b, (size_t)n + 1) == 0) {
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    va_end(ap);
}

void tsrv__ob_server(struct obuf *b, const char *server)
{
    tsrv__ob_fmt(b, "Server: %s\r\n", server);
}

/* The fast reply, after `early` 103 interim responses. */
static void build_fast(struct obuf *b, const char *server, long early)
{
    if (early > EARLY_MAX)
        early = EARLY_MAX;
    for (; early > 0; early--)
        tsrv__ob_fmt(b, "HTTP/1.1 103 Early Hints\r\n"
                     "Link: </a.css>; rel=preload\r\n\r\n");
    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Type: text/html\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
                 "Content-Length: %zu\r\n\r\n%s", strlen(FAST_BODY),
                 FAST_BODY);
}

/* page-N: a 200 with an HTML page of N bytes (at most PAGE_MAX): a
 * title, then lines of text, as a real page's first bytes look (the
 * matcher benchmark, tools/bench/bench.py --workload http-page). */
#define PAGE_MAX 1048576
static void build_page(struct obuf *b, const char *server, long n)
{
    static const char head[] = "<html><head><title>page</title></head>"
                               "<body>\n";
    static const char line[] = "<div class=\"item\"><a href=\"/p/1\">a "
                               "link</a> lorem ipsum dolor sit amet</div>\n";
    long left;

    if (n > PAGE_MAX)
        n = PAGE_MAX;
    if (n < (long)sizeof(head))
        n = (long)sizeof(head);
    tsrv__ob_reserve(b, 256 + (size_t)n);
    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Type: text/html\r\nContent-Length: %ld\r\n"
                 "\r\n%s", n, head);
    for (left = n - (long)sizeof(head) + 1; left > 0;
         left -= (long)sizeof(line) - 1)
        tsrv__ob_mem(b, line, left < (long)sizeof(line) - 1
                                  ? (size_t)left : sizeof(line) - 1);
}

static void build_many(struct obuf *b, const char *server, long count)
{
    long i;

    if (count > MANY_MAX)
        count = MANY_MAX;
    tsrv__ob_reserve(b, 128 + (size_t)count * 32);
    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    for (i = 0; i < count; i++)
        tsrv__ob_fmt(b, "X-H-%ld: v%ld\r\n", i, i);
    tsrv__ob_fmt(b, "Content-Length: 0\r\n\r\n");
}

/* ~300 KB of header fields and no end of head; the peer closes. */
static void build_huge(struct obuf *b, const char *server)
{
    char pad[HUGE_LINE];
    int i;

    memset(pad, 'a', sizeof(pad));
    tsrv__ob_reserve(b, 64 + (size_t)HUGE_FIELDS * HUGE_LINE);
    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    for (i = 0; i < HUGE_FIELDS; i++)
        tsrv__ob_fmt(b, "X-Huge-%04d: %.*s\r\n", i, HUGE_LINE - 15, pad);
}

/* Status `code` announcing a body that never comes; the connection
 * stays open (what a HEAD, 204 or 304 reply looks like). */
static void build_nobody(struct obuf *b, const char *server, long code)
{
    if (code < 100 || code > 999)
        code = 200;
    tsrv__ob_fmt(b, "HTTP/1.1 %03ld No Body\r\n", code);
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Length: 1000\r\n\r\n");
}

/* NUL and every byte 0x80-0xFF in the reason phrase and in a value. */
static void build_binval(struct obuf *b, const char *server)
{
    unsigned char high[128];
    int i;

    for (i = 0; i < 128; i++)
        high[i] = (unsigned char)(0x80 + i);
    tsrv__ob_mem(b, R("HTTP/1.1 200 OK\0"));
    tsrv__ob_mem(b, high, sizeof(high));
    tsrv__ob_fmt(b, "\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_mem(b, R("X-Bin: v\0"));
    tsrv__ob_mem(b, high, sizeof(high));
    tsrv__ob_fmt(b, "\r\nContent-Length: 0\r\n\r\n");
}

/* 302 with a relative Location of `len` bytes: "/lll...". */
static void build_bigloc(struct obuf *b, const char *server, long len)
{
    if (len < 1 || len > BIGLOC_MAX)
        len = 1;
    tsrv__ob_fmt(b, "HTTP/1.1 302 Found\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Location: /");
    if (tsrv__ob_reserve(b, (size_t)len) == 0) {
        memset(b->p + b->len, 'l', (size_t)len - 1);
        b->len += (size_t)len - 1;
    }
    tsrv__ob_fmt(b, "\r\nContent-Length: 0\r\n\r\n");
}

static void build_status(struct obuf *b, long code)
{
    if (code < 0 || code > 999)
        code = 200;
    tsrv__ob_fmt(b, "HTTP/1.1 %03ld Status\r\nContent-Length: 0\r\n\r\n",
                 code);
}

static const char *reason(long code)
{
    switch (code) {
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    default: return "Found";
    }
}

static void build_redir(struct obuf *b, const char *server,
                        const struct plan *p)
{
    tsrv__ob_fmt(b, "HTTP/1.1 %ld %s\r\n", p->arg, reason(p->arg));
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Location: %.*s\r\nContent-Length: 0\r\n\r\n",
                 (int)p->loc_len, p->loc);
}

static void build_431(struct obuf *b, const char *server)
{
    tsrv__ob_fmt(b, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

/* Like nginx, answer bytes that cannot start a request line at once,
 * instead of waiting for a blank line that will never come: this is what
 * a scanner sees when it speaks TLS to a plain HTTP port. */
static void build_400(struct obuf *b, const char *server)
{
    tsrv__ob_fmt(b, "HTTP/1.1 400 Bad Request\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

static void build_canned(struct obuf *b, const char *server, enum beh beh)
{
    if (canned[beh].status) {
        tsrv__ob_fmt(b, "%s", canned[beh].status);
        tsrv__ob_server(b, server);
    }
    tsrv__ob_mem(b, canned[beh].rest, canned[beh].rest_len);
}

/* Reply bytes for a plan whose reply is a byte string (not delay,
 * trickle, hang, close or reset). */
void tsrv__http_build(struct obuf *b, const char *server,
                      const struct plan *p)
{
    switch (p->beh) {
    case B_FAST:
    case B_EARLY:
        build_fast(b, server, p->beh == B_EARLY ? p->arg : 0);
        break;
    case B_NOBODY:
        build_nobody(b, server, p->arg);
        break;
    case B_BINVAL:
        build_binval(b, server);
        break;
    case B_BIGLOC:
        build_bigloc(b, server, p->arg);
        break;
    case B_MANY:
        build_many(b, server, p->arg);
        break;
    case B_PAGE:
        build_page(b, server, p->arg);
        break;
    case B_HUGE:
        build_huge(b, server);
        break;
    case B_STATUS:
        build_status(b, p->arg);
        break;
    case B_REDIR:
        build_redir(b, server, p);
        break;
    case B_431:
        build_431(b, server);
        break;
    case B_400:
        build_400(b, server);
        break;
    case B_FAV:
        tsrv__fav_page(b, server, p);
        break;
    case B_ICON:
        tsrv__fav_icon(b, server, p->arg);
        break;
    case B_CODED:
        tsrv__coded_build(b, server, p);
        break;
    default:
        build_canned(b, server, p->beh);
        break;
    }
}

/* ---- request head to plan ---- */

static int lookup_name(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(behaviours) / sizeof(behaviours[0]); i++)
        if (strlen(behaviours[i].name) == n &&
            strncasecmp(behaviours[i].name, p, n) == 0)
            return (int)i;
    return -1;
}

/* Value of p[0..n) if it is 1 to 9 decimal digits, else -1. */
static long parse_arg(const char *p, size_t n)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 9)
        return -1;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Set p->beh and p->arg from a label such as `delay-1500`. */
void tsrv__http_choose(struct plan *pl, const char *p, size_t n)
{
    const char *dash = n ? memrchr(p, '-', n) : NULL;
    long arg = -1;
    int i = -1;

    if (dash)
        arg = parse_arg(dash + 1, n - (size_t)(dash - p) - 1);
    if (arg >= 0)
        i = lookup_name(p, (size_t)(dash - p));
    if (i < 0) {
        arg = -1;
        i = lookup_name(p, n);
    }
    if (i < 0)
        i = 0;
    pl->beh = behaviours[i].beh;
    pl->arg = arg >= 0 ? arg : behaviours[i].def;
}

/* The request target of the request line; 1 if found. */
static int request_target(const char *h, size_t len, const char **t,
                          size_t *n)
{
    const char *eol = memchr(h, '\n', len);
    const char *sp, *end;

    if (!eol)
        return 0;
    sp = memchr(h, ' ', (size_t)(eol - h));
    if (!sp)
        return 0;
    *t = sp + 1;
    end = memchr(*t, ' ', (size_t)(eol - *t));
    if (!end) {
        end = eol;
        if (end > *t && end[-1] == '\r')
            end--;
    }
    *n = (size_t)(end - *t);
    return 1;
}

/* NAME from a request target `/b/NAME...`; 1 if found. */
static int path_label(const char *t, size_t tn, const char **p, size_t *n)
{
    const char *end, *stop = t + tn;

    if (tn < 3 || memcmp(t, "/b/", 3) != 0)
        return 0;
    t += 3;
    for (end = t; end < stop && !strchr("/?#", *end); end++)
        ;
    *p = t;
    *n = (size_t)(end - t);
    return *n > 0;
}

static void plan_redirect(struct plan *p, long code, const char *loc,
                          size_t loc_len)
{
    p->beh = B_REDIR;
    p->arg = code;
    p->loc = loc;
    p->loc_len = loc_len;
}

/* `/chain-N`: 302 to /chain-(N-1), or fast at 0. */
static void plan_chain(struct plan *p, long n)
{
    int len;

    if (n == 0) {
        tsrv__http_choose(p, "fast", 4);
        return;
    }
    len = snprintf(p->loc_buf, sizeof(p->loc_buf), "/chain-%ld", n - 1);
    plan_redirect(p, 302, p->loc_buf, (size_t)len);
}

/* Whether path[0..pn) is route i. */
static int route_match(size_t i, const char *path, size_t pn)
{
    size_t rn = strlen(routes[i].path);

    if (rn > pn || (!routes[i].last && rn != pn))
        return 0;
    return memcmp(routes[i].path, path + pn - rn, rn) == 0;
}

/* Redirect routes on the request target; 1 if it is one. */
static int plan_route(struct plan *p, const char *t, size_t tn)
{
    const char *q = memchr(t, '?', tn);
    size_t pn = q ? (size_t)(q - t) : tn, i;
    long n;

    if (tn >= 6 && memcmp(t, "/r?to=", 6) == 0) {
        plan_redirect(p, 302, t + 6, tn - 6);
        return 1;
    }
    if (pn > 7 && memcmp(t, "/chain-", 7) == 0 &&
        (n = parse_arg(t + 7, pn - 7)) >= 0) {
        plan_chain(p, n);
        return 1;
    }
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!route_match(i, t, pn))
            continue;
        if (routes[i].code == 0)
            tsrv__http_choose(p, "fast", 4);
        else
            plan_redirect(p, routes[i].code, routes[i].location,
                          strlen(routes[i].location));
        return 1;
    }
    return 0;
}

/* Behaviour label from the Host header; 1 if found. */
int tsrv__http_host(const char *h, size_t len, const char **p, size_t *n)
{
    const char *line = memchr(h, '\n', len), *end = h + len;

    while (line && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *v = line + 5, *ve = eol ? eol : end;

        if (ve - line >= 5 && strncasecmp(line, "host:", 5) == 0) {
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && strchr(" \t\r", ve[-1]))
                ve--;
            *p = v;
            *n = (size_t)(ve - v);
            return 1;
        }
        line = eol;
    }
    return 0;
}

static int host_label(const char *h, size_t len, const char **p,
                      size_t *n)
{
    const char *v;
    size_t vn;

    return tsrv__http_host(h, len, &v, &vn) &&
           tsrv_http_host_label(v, vn, p, n);
}

static int head_complete(const char *h, size_t len)
{
    return memmem(h, len, "\r\n\r\n", 4) || memmem(h, len, "\n\n", 2);
}

/* Routes first, then `/b/NAME`, then the Host label, then fast. A
 * plan's Location may point into `h`. */
void tsrv__http_plan(struct plan *p, const char *h, size_t len)
{
    const char *t, *lab;
    size_t tn, n;

    memset(p, 0, sizeof(*p));
    if (len > 0 && (h[0] < 'A' || h[0] > 'Z')) {
        p->beh = B_400;
        return;
    }
    if (!head_complete(h, len)) {
        p->beh = B_431;
        return;
    }
    /* /ce/NAME: a content-coded page (server-coded.c) */
    if (request_target(h, len, &t, &tn) && tn > 4 &&
        memcmp(t, "/ce/", 4) == 0) {
        p->beh = B_CODED;
        p->loc = t + 4;
        p->loc_len = tn - 4;
        return;
    }
    if (request_target(h, len, &t, &tn) &&
        (plan_route(p, t, tn) || tsrv__fav_route(p, t, tn)))
        return;
    if ((request_target(h, len, &t, &tn) && path_label(t, tn, &lab, &n)) ||
        host_label(h, len, &lab, &n))
        tsrv__http_choose(p, lab, n);
    else
        tsrv__http_choose(p, "fast", 4);
    if (p->beh == B_FAV && !tsrv__http_host(h, len, &p->loc, &p->loc_len))
        p->loc_len = 0;             /* the page's links name its Host */
}

/* ---- shared interface ---- */

int tsrv_http_host_label(const char *v, size_t len, const char **p,
                         size_t *n)
{
    const char *colon, *dot;

    if (len == 0 || v[0] == '[')
        return 0;
    colon = memrchr(v, ':', len);
    if (colon)
        len = (size_t)(colon - v);
    if (len > 0 && v[len - 1] == '.')
        len--;
    if (len <= 5 || strncasecmp(v + len - 5, ".test", 5) != 0)
        return 0;
    len -= 5;
    dot = memrchr(v, '.', len);
    *p = dot ? dot + 1 : v;
    *n = len - (size_t)(*p - v);
    return *n > 0;
}

static int head_reserve(struct tsrv_head *h, size_t need)
{
    size_t cap = h->cap ? h->cap : HEAD_MIN;
    char *p;

    if (need <= h->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(h->buf, cap);
    if (!p)
        return -1;
    h->buf = p;
    h->cap = (unsigned)cap;
    return 0;
}

int tsrv_head_add(struct tsrv_head *h, const char *data, size_t n)
{
    size_t from = h->len > 3 ? h->len - 3 : 0;

    if (n > TSRV_HEAD_MAX - h->len)
        n = TSRV_HEAD_MAX - h->len;
    if (head_reserve(h, h->len + n) != 0)
        return -1;
    memcpy(h->buf + h->len, data, n);
    h->len += (unsigned)n;
    if (h->buf[0] < 'A' || h->buf[0] > 'Z')
        return 1;                 /* not a request line: answer 400 now */
    if (head_complete(h->buf + from, h->len - from))
        return 1;
    return h->len >= TSRV_HEAD_MAX;
}

void tsrv_head_free(struct tsrv_head *h)
{
    free(h->buf);
    memset(h, 0, sizeof(*h));
}

int tsrv__http_action(enum beh beh)
{
    switch (beh) {
    case B_HUGE:
    case B_NOBODY:
    case B_UPGRADE: return TSRV_HTTP_SEND_OPEN;
    case B_RSTMID: return TSRV_HTTP_RESET;
    case B_HANG: return TSRV_HTTP_HANG;
    case B_CLOSE: return TSRV_HTTP_CLOSE;
    case B_RESET: return TSRV_HTTP_RESET;
    default: return TSRV_HTTP_SEND;
    }
}

/* Behaviours paced by the TCP server's timers or write completions;
 * other transports get the fast reply instead. */
static int needs_timer(enum beh beh)
{
    switch (beh) {
    case B_DELAY: case B_TRICKLE: case B_DRIP:
    case B_ENDLESS: case B_LONGLINE: case B_TINY: case B_SPLIT:
    case B_ENDBODY:
        return 1;
    default:
        return 0;
    }
}

int tsrv_http_response(const char *head, size_t len, const char *server,
                       char **out, size_t *out_len)
{
    struct obuf b = { NULL, 0, 0, 0 };
    struct plan p;
    int act;

    tsrv__http_plan(&p, head, len);
    if (needs_timer(p.beh))
        tsrv__http_choose(&p, "fast", 4);
    act = tsrv__http_action(p.beh);
    if (act == TSRV_HTTP_SEND || act == TSRV_HTTP_SEND_OPEN ||
        p.beh == B_RSTMID)
        tsrv__http_build(&b, server, &p);
    if (b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *out_len = b.len;
    return act;
}
