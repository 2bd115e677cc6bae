/* The proxy's parts that read what a proxy says (lib/proxy.c): the
 * reply head to an HTTP CONNECT and the SOCKS5 CONNECT reply, on any
 * bytes, fed whole and growing one byte at a time (as reads may cut
 * them); and the proxy URL and no_proxy list on any text.
 *
 * Input: one selector byte, then the bytes.  Invariants: a head's end
 * is within the bytes and within the cap, and does not move as more
 * bytes come; its status is three digits; a SOCKS5 reply's length is
 * within the bytes and stable too; a URL that parses gives a proxy
 * whose display form parses again to the same; the no_proxy text as one
 * --exclude entry is refused by both of the matcher's readers or by
 * neither, and an accepted address or name matches itself. */
#include <arpa/inet.h>

#include "fuzz.h"
#include "hscan.h"
#include "netset.h"
#include "proxy.h"

static void http_reply(const uint8_t *d, size_t n)
{
    char detail[128];
    int status = 0, st2 = 0;
    size_t max = 4096, i;
    long end = hscan__proxy_http_reply((const char *)d, n, max, &status,
                                       detail, sizeof(detail));

    FUZZ_CHECK(end >= -1 && end <= (long)n);
    if (end > 0)
        FUZZ_CHECK(status >= 100 && status <= 999);
    /* fed growing: the first end found is the same */
    for (i = 1; i <= n && i < 600; i++) {
        long e = hscan__proxy_http_reply((const char *)d, i, max, &st2,
                                         detail, sizeof(detail));
        if (e != 0) {
            FUZZ_CHECK(e == -1 || end == e || end == -1);
            if (e > 0)
                FUZZ_CHECK(st2 == status);
            break;
        }
    }
}

static void socks_reply(const uint8_t *d, size_t n)
{
    int rep = -1, rep2 = -1;
    long len = hscan__socks5_reply(d, n, &rep), l2;
    size_t i;

    FUZZ_CHECK(len >= -1 && len <= (long)n);
    if (len > 0)
        FUZZ_CHECK(rep >= 0 && rep <= 255 &&
                   hscan__socks5_rep_text(rep) != NULL);
    for (i = 0; i < n && i < 300; i++) {
        l2 = hscan__socks5_reply(d, i, &rep2);
        FUZZ_CHECK(l2 == 0 || l2 == -1 || l2 == len ||
                   (rep2 != 0 && l2 == (long)i));
    }
}

/* The same text as one cfg.exclude entry (netset.h, strict): refused
 * by hscan_new() exactly when the check refuses it, and an accepted
 * address or name matches itself. */
static void exclude_entry(const char *e)
{
    struct hscan__netset *s = NULL;
    char why[160];
    uint8_t b[16];

    if (hscan__netset_check(e, why, sizeof(why)) != 0) {
        FUZZ_CHECK(hscan__netset_new(&s, &e, 1, 0, NULL, 0) ==
                   HSCAN_EINVAL);
        return;
    }
    FUZZ_CHECK(hscan__netset_new(&s, &e, 1, 0, NULL, 0) == 0);
    if (inet_pton(AF_INET, e, b) == 1)
        FUZZ_CHECK(hscan__netset_addr(s, 4, b) != NULL);
    else if (inet_pton(AF_INET6, e, b) == 1)
        FUZZ_CHECK(hscan__netset_addr(s, 6, b) != NULL);
    else if (!strchr(e, '/'))
        FUZZ_CHECK(hscan__netset_name(s, e, strlen(e)) != NULL);
    hscan__netset_free(s);
}

static void url(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1), *nl, *np = NULL, detail[128];
    struct hscan__proxy *px = NULL, *again = NULL;

    FUZZ_CHECK(s != NULL);
    memcpy(s, d, n);
    s[n] = '\0';               /* the library takes C strings */
    if ((nl = strchr(s, '\n')) != NULL) {      /* url \n no_proxy */
        *nl = '\0';
        np = nl + 1;
        exclude_entry(np);
    }
    /* no lookup: a name is refused, not looked up */
    if (hscan__proxy_check(s, detail, sizeof(detail)) == 0 &&
        hscan__proxy_new(&px, s, np, 0, detail, sizeof(detail)) == 0) {
        uint8_t a4[4] = { 127, 0, 0, 1 }, a6[16] = { 0 };
        FUZZ_CHECK(strstr(px->display, "@") == NULL);
        FUZZ_CHECK(hscan__proxy_new(&again, px->display, NULL, 0, detail,
                                    sizeof(detail)) == 0);
        FUZZ_CHECK(strcmp(again->display, px->display) == 0 &&
                   again->kind == px->kind && again->port == px->port);
        (void)hscan__proxy_bypass(px, "www.example.com", 0, NULL);
        (void)hscan__proxy_bypass(px, "127.0.0.1", 4, a4);
        (void)hscan__proxy_bypass(px, "::", 6, a6);
        hscan__proxy_free(again);
        hscan__proxy_free(px);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned sel = fz_u8(&f);

    switch (sel % 3) {
    case 0: http_reply(f.p, f.n); break;
    case 1: socks_reply(f.p, f.n); break;
    case 2: url(f.p, f.n); break;
    }
    return 0;
}
