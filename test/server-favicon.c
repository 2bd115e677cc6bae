/* server-favicon.c: the favicon pages and icons of the HTTP/1.1 test
 * servers (server-http-int.h).  `/b/fav-N` is page N below, each with
 * the link tags a favicon test needs; `/b/icon-N` is an icon of N
 * bytes, the same bytes test-favicon.py computes. */
#include "server-http-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pages' heads; %.*s is the request's Host where a link names it. */
static const char *const pages[] = {
    /* 0: no icon link (stylesheet only): /favicon.ico */
    "<link rel=\"stylesheet\" href=\"/b/icon-7\">",
    /* 1: relative, "shortcut icon" in capitals, &amp; in the href */
    "<link rel=stylesheet href=x.css><LINK REL=\"Shortcut Icon\" "
    "HREF=\" icon-300?v=1&amp;x=2 \">",
    /* 2: absolute, same origin (plain HTTP) */
    "<link rel='icon' type='image/png' href='http://%.*s/b/icon-500'>",
    /* 3: scheme-relative, same origin */
    "<link href=\"//%.*s/b/icon-501\" rel=\"icon\"/>",
    /* 4: the icon is not found */
    "<link rel=icon href=/b/notfound>",
    /* 5: an icon larger than the default cap (1 MiB) */
    "<link rel=icon href=/b/icon-1100000>",
    /* 6: a data: URI: bytes 0..5 */
    "<link rel=\"icon\" href=\"data:image/png;base64,AAECAwQF\">",
    /* 7: apple-touch-icon first, an icon after: the icon wins */
    "<link rel=apple-touch-icon href=/b/icon-10>"
    "<link rel=\"alternate icon\" href=/b/icon-20>",
    /* 8: only an apple-touch-icon */
    "<link rel=\"apple-touch-icon-precomposed\" href=/b/icon-11>",
    /* 9: another origin: not fetched, /favicon.ico instead */
    "<link rel=icon href=\"http://elsewhere.test/b/icon-12\">",
    /* 10: a '>' inside a quoted value before the href */
    "<link title=\"a>b\" rel=icon href=/b/icon-13>",
    /* 11: an icon that never comes */
    "<link rel=icon href=/b/hang>",
    /* 12: an icon that redirects */
    "<link rel=icon href=\"/r?to=/b/icon-5\">",
};

void tsrv__fav_page(struct obuf *b, const char *server,
                    const struct plan *p)
{
    size_t i = p->arg >= 0 && (size_t)p->arg < sizeof(pages) /
               sizeof(pages[0]) ? (size_t)p->arg : 0;
    char head[512], body[600];
    int n = snprintf(head, sizeof(head), pages[i], (int)p->loc_len,
                     p->loc ? p->loc : "");

    if (n < 0 || (size_t)n >= sizeof(head))
        head[0] = '\0';
    n = snprintf(body, sizeof(body),
                 "<html><head>%s<title>fav</title></head></html>", head);
    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Type: text/html\r\nContent-Length: %d\r\n"
                 "\r\n%s", n, body);
}

void tsrv__fav_icon(struct obuf *b, const char *server, long n)
{
    long i;

    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Type: image/x-icon\r\nContent-Length: %ld\r\n"
                 "\r\n", n);
    if (tsrv__ob_reserve(b, (size_t)n) != 0)
        return;
    for (i = 0; i < n; i++)
        b->p[b->len + (size_t)i] = (char)((7 * i + 3) & 255);
    b->len += (size_t)n;
}

int tsrv__fav_route(struct plan *p, const char *t, size_t tn)
{
    if (tn < 12 || memcmp(t, "/favicon.ico", 12) != 0 ||
        (tn > 12 && t[12] != '?'))
        return 0;
    p->beh = B_ICON;
    p->arg = TSRV_ICON_DEFAULT;
    return 1;
}
