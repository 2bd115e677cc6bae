/* server-http-int.h: what server-http.c (request head to plan to reply
 * bytes) shares with server-http-tcp.c (the plain TCP server). Private
 * to those two files; the interface is server-http.h. */
#ifndef HSCAN_TEST_SERVER_HTTP_INT_H
#define HSCAN_TEST_SERVER_HTTP_INT_H

#include <stddef.h>

#define SERVER_NAME "hscan-test"

enum beh {
    B_FAST, B_DELAY, B_R301, B_R302, B_NOTFOUND, B_ERROR, B_HTTP10,
    B_CHUNKED, B_MANY, B_HUGE, B_TRICKLE, B_HANG, B_CLOSE, B_RESET,
    B_GARBAGE, B_BADSTATUS, B_CTL, B_LF, B_STATUS, B_EARLY,
    /* hostile (test-hostile-http.c) */
    B_ENDLESS, B_LONGLINE, B_TINY, B_SPLIT, B_DRIP, B_RSTMID, B_FINMID,
    B_SHORTBODY, B_NOBODY, B_UPGRADE, B_H09, B_DUPCL, B_CONFLICTCL,
    B_CLTE, B_CHUNKOVF, B_BINVAL, B_BINNAME, B_NULNAME, B_SPACENAME,
    B_OBSFOLD, B_BIGLOC, B_ENDBODY, B_LONGSTATUS, B_TLSALERT,
    B_FAV, B_ICON,          /* favicon pages and icons */
    B_REDIR,                /* a redirect route on the path */
    B_431,                  /* the head did not end within HEAD_MAX */
    B_400,                  /* not HTTP at all (say a TLS ClientHello) */
    B_CODED,                /* /ce/NAME (server-coded.c); loc: NAME */
    B_PAGE                  /* page-N: a 200 with an HTML body of N bytes */
};

/* What to do for one request. */
struct plan {
    enum beh beh;
    long arg;               /* count, status or redirect code, delay */
    const char *loc;        /* B_REDIR: the Location value */
    size_t loc_len;
    char loc_buf[32];       /* storage for computed Locations */
};

/* A growable output buffer; `failed` sticks after an allocation error. */
struct obuf {
    char *p;
    size_t len, cap;
    int failed;
};

/* Room for `more` bytes past b->len: 0, or -1 (then b->failed is set;
 * once set, every later append is a no-op). */
int tsrv__ob_reserve(struct obuf *b, size_t more);

/* Append n bytes / printf-formatted text / a "Server:" field. */
void tsrv__ob_mem(struct obuf *b, const void *data, size_t n);
void tsrv__ob_fmt(struct obuf *b, const char *fmt, ...);
void tsrv__ob_server(struct obuf *b, const char *server);

/* The plan for the request head h[0..len): routes, then `/b/NAME`, then
 * the Host label, then fast. p->loc may point into `h`. */
void tsrv__http_plan(struct plan *p, const char *h, size_t len);

/* Set pl->beh and pl->arg from a label p[0..n) such as `delay-1500`
 * (an unknown name means fast). */
void tsrv__http_choose(struct plan *pl, const char *p, size_t n);

/* Append the reply bytes of a plan whose reply is a byte string (not
 * the timed or streamed ones, nor hang, close or reset). */
void tsrv__http_build(struct obuf *b, const char *server,
                      const struct plan *p);

/* The reply of /ce/NAME (p->loc, p->loc_len: NAME): server-coded.c. */
void tsrv__coded_build(struct obuf *b, const char *server,
                       const struct plan *p);

/* The enum tsrv_http_action for a behaviour. */
int tsrv__http_action(enum beh beh);

/* The Host field's value in the request head h[0..len); 1 if any. */
int tsrv__http_host(const char *h, size_t len, const char **p, size_t *n);

/* server-favicon.c: `fav-N` pages whose <link> tags name icons, and
 * `icon-N` (N bytes, TSRV_ICON_DEFAULT without N; byte i is
 * (7 * i + 3) & 255), also at /favicon.ico.  server-http.h lists the
 * pages. */
#define TSRV_ICON_DEFAULT 318
void tsrv__fav_page(struct obuf *b, const char *server,
                    const struct plan *p);
void tsrv__fav_icon(struct obuf *b, const char *server, long n);
/* The route /favicon.ico (any query): 1 and the icon's plan. */
int tsrv__fav_route(struct plan *p, const char *t, size_t tn);

#endif
