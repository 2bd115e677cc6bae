/* The name/address/CIDR set behind cfg.exclude and cfg.no_proxy
 * (netset.h): CIDR edges, IPv4-mapped IPv6, names and their
 * subdomains, the strict reading's refusals, and a 10,000-CIDR set. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "hscan.h"
#include "netset.h"
#include "proxy.h"
#include "test-runner.h"

static struct hscan__netset *make(const char *const *v, size_t n)
{
    struct hscan__netset *s = NULL;
    char d[256] = "";

    CHECK_INT(hscan__netset_new(&s, v, n, 0, d, sizeof(d)), 0);
    return s;
}

/* The rule `a` (an address literal) falls under, or "" for none. */
static const char *addr(const struct hscan__netset *s, const char *a)
{
    uint8_t b[16];
    const char *r;

    if (inet_pton(AF_INET, a, b) == 1)
        r = hscan__netset_addr(s, 4, b);
    else {
        CHECK(inet_pton(AF_INET6, a, b) == 1);
        r = hscan__netset_addr(s, 6, b);
    }
    return r ? r : "";
}

static const char *name(const struct hscan__netset *s, const char *n)
{
    const char *r = hscan__netset_name(s, n, strlen(n));
    return r ? r : "";
}

TEST(netset_cidr_edges_v4)
{
    static const char *const v[] = { "10.0.0.0/8", "192.0.2.7",
                                     "198.51.100.5/32", "203.0.113.0/31" };
    struct hscan__netset *s = make(v, 4);

    CHECK_STR(addr(s, "10.0.0.0"), "10.0.0.0/8");
    CHECK_STR(addr(s, "10.255.255.255"), "10.0.0.0/8");
    CHECK_STR(addr(s, "9.255.255.255"), "");
    CHECK_STR(addr(s, "11.0.0.0"), "");
    CHECK_STR(addr(s, "192.0.2.7"), "192.0.2.7");
    CHECK_STR(addr(s, "192.0.2.6"), "");
    CHECK_STR(addr(s, "192.0.2.8"), "");
    CHECK_STR(addr(s, "198.51.100.5"), "198.51.100.5/32");
    CHECK_STR(addr(s, "198.51.100.4"), "");
    CHECK_STR(addr(s, "203.0.113.1"), "203.0.113.0/31");
    CHECK_STR(addr(s, "203.0.113.2"), "");
    CHECK_STR(addr(s, "::1"), "");          /* another family */
    hscan__netset_free(s);
}

TEST(netset_cidr_zero_and_host_bits)
{
    static const char *const all4[] = { "0.0.0.0/0" };
    static const char *const all6[] = { "::/0" };
    static const char *const hb[] = { "10.1.2.3/8" };  /* bits ignored */
    struct hscan__netset *s = make(all4, 1);

    CHECK_STR(addr(s, "0.0.0.0"), "0.0.0.0/0");
    CHECK_STR(addr(s, "255.255.255.255"), "0.0.0.0/0");
    CHECK_STR(addr(s, "2001:db8::1"), "");
    /* a v4 rule also holds for the v4-mapped form of its addresses */
    CHECK_STR(addr(s, "::ffff:1.2.3.4"), "0.0.0.0/0");
    hscan__netset_free(s);
    s = make(all6, 1);
    CHECK_STR(addr(s, "::"), "::/0");
    CHECK_STR(addr(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "::/0");
    CHECK_STR(addr(s, "1.2.3.4"), "");
    hscan__netset_free(s);
    s = make(hb, 1);
    CHECK_STR(addr(s, "10.200.0.1"), "10.1.2.3/8");
    CHECK_STR(addr(s, "11.0.0.1"), "");
    hscan__netset_free(s);
}

TEST(netset_cidr_edges_v6)
{
    static const char *const v[] = { "2001:db8::/32", "fd00::1/128",
                                     "fe80::/10", "::1" };
    struct hscan__netset *s = make(v, 4);

    CHECK_STR(addr(s, "2001:db8::"), "2001:db8::/32");
    CHECK_STR(addr(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
              "2001:db8::/32");
    CHECK_STR(addr(s, "2001:db9::"), "");
    CHECK_STR(addr(s, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), "");
    CHECK_STR(addr(s, "fd00::1"), "fd00::1/128");
    CHECK_STR(addr(s, "fd00::2"), "");
    CHECK_STR(addr(s, "fd00::"), "");
    CHECK_STR(addr(s, "febf:ffff::1"), "fe80::/10");
    CHECK_STR(addr(s, "fec0::"), "");
    CHECK_STR(addr(s, "::1"), "::1");
    CHECK_STR(addr(s, "::2"), "");
    CHECK_STR(addr(s, "127.0.0.1"), "");
    hscan__netset_free(s);
}

/* A dual-stack socket connects to ::ffff:a.b.c.d as a.b.c.d: a hostile
 * AAAA record must not walk around an IPv4 rule, and a mapped rule
 * holds for the IPv4 address. */
TEST(netset_v4_mapped)
{
    static const char *const v[] = { "127.0.0.0/8",
                                     "::ffff:192.0.2.0/120" };
    struct hscan__netset *s = make(v, 2);

    CHECK_STR(addr(s, "::ffff:127.0.0.1"), "127.0.0.0/8");
    CHECK_STR(addr(s, "::ffff:128.0.0.1"), "");
    CHECK_STR(addr(s, "::127.0.0.1"), "");      /* not mapped */
    CHECK_STR(addr(s, "192.0.2.200"), "::ffff:192.0.2.0/120");
    CHECK_STR(addr(s, "::ffff:192.0.2.1"), "::ffff:192.0.2.0/120");
    CHECK_STR(addr(s, "192.0.3.1"), "");
    hscan__netset_free(s);
}

/* Nested and repeated ranges: the widest is kept, and lookups still
 * find addresses after an inner range (a walk that stops at the
 * nearest lower bound would miss 10.200.0.1 after 10.1.0.0/16). */
TEST(netset_nested_ranges)
{
    static const char *const v[] = { "10.1.0.0/16", "10.0.0.0/8",
                                     "10.1.2.3", "10.0.0.0/8",
                                     "10.255.0.0/16" };
    struct hscan__netset *s = make(v, 5);

    CHECK_STR(addr(s, "10.1.2.3"), "10.0.0.0/8");
    CHECK_STR(addr(s, "10.200.0.1"), "10.0.0.0/8");
    CHECK_STR(addr(s, "10.255.255.255"), "10.0.0.0/8");
    CHECK_STR(addr(s, "11.0.0.0"), "");
    CHECK_INT(hscan__netset_size(s), 1);
    hscan__netset_free(s);
}

TEST(netset_names)
{
    static const char *const v[] = { "example.com", ".Internal.Corp.",
                                     "x-y_z.test", "localhost" };
    struct hscan__netset *s = make(v, 4);

    CHECK_STR(name(s, "example.com"), "example.com");
    CHECK_STR(name(s, "EXAMPLE.COM."), "example.com");
    CHECK_STR(name(s, "www.example.com"), "example.com");
    CHECK_STR(name(s, "a.b.c.Example.Com"), "example.com");
    CHECK_STR(name(s, "badexample.com"), "");   /* not a label suffix */
    CHECK_STR(name(s, "example.com.evil.net"), "");
    CHECK_STR(name(s, "com"), "");
    CHECK_STR(name(s, "example.co"), "");
    CHECK_STR(name(s, "internal.corp"), "internal.corp");
    CHECK_STR(name(s, "db.internal.corp"), "internal.corp");
    CHECK_STR(name(s, "corp"), "");
    CHECK_STR(name(s, "a.x-y_z.test"), "x-y_z.test");
    CHECK_STR(name(s, "localhost"), "localhost");
    CHECK_STR(name(s, "localhost."), "localhost");
    CHECK_STR(name(s, "notlocalhost"), "");
    CHECK_STR(name(s, ""), "");
    CHECK_STR(name(s, "."), "");
    /* names never match addresses and the other way round */
    CHECK_STR(addr(s, "127.0.0.1"), "");
    hscan__netset_free(s);
}

TEST(netset_strict_refusals)
{
    static const struct { const char *e, *why; } bad[] = {
        { "*", "'*' would exclude every target" },
        { "", "an empty name" },
        { ".", "an empty name" },
        { "a..b", "an empty label" },
        { "10.0.0.0/33", "not a CIDR" },
        { "::/129", "not a CIDR" },
        { "10.0.0.0/", "not a CIDR" },
        { "10.0.0.0/-1", "not a CIDR" },
        { "10.0.0.0/8x", "not a CIDR" },
        { "example.com/8", "not a CIDR" },
        { "10.0.0.300", "not an IPv4 address" },
        { "10.1", "not an IPv4 address" },
        { "exa mple.com", "not an address, CIDR or host name" },
        { "example.com:80", "not an address, CIDR or host name" },
        { "[::1]", "not an address, CIDR or host name" },
        { "*.example.com", "not an address, CIDR or host name" },
    };
    static const char *const good[] = { "example.com", "10.0.0.0/8",
                                        "::1", "fd00::/8", "a.b-c_d",
                                        "1e100.net", "0.0.0.0/0" };
    char why[160];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        CHECK(hscan__netset_check(bad[i].e, why, sizeof(why)) == -1);
        if (!strstr(why, bad[i].why)) {
            fprintf(stderr, "'%s': '%s' lacks '%s'\n", bad[i].e, why,
                    bad[i].why);
            CHECK(0);
        }
    }
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(hscan__netset_check(good[i], why, sizeof(why)) == 0);
}

TEST(netset_new_refuses_and_lenient)
{
    static const char *const v[] = { "example.com", "10.0.0.0/40" };
    static const char *const np[] = { "*", "not a name!", "10.0.0.0/40" };
    struct hscan__netset *s = NULL;
    char d[256] = "";

    CHECK_INT(hscan__netset_new(&s, v, 2, 0, d, sizeof(d)), HSCAN_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(d, "'10.0.0.0/40'") != NULL);
    /* no_proxy's reading: "*" is everything, junk matches nothing */
    CHECK_INT(hscan__netset_new(&s, np + 1, 2, HSCAN__NETSET_LENIENT, NULL,
                                0), 0);
    CHECK_STR(name(s, "example.com"), "");
    CHECK_STR(addr(s, "10.0.0.1"), "");
    hscan__netset_free(s);
    CHECK_INT(hscan__netset_new(&s, np, 3, HSCAN__NETSET_LENIENT, NULL, 0),
              0);
    CHECK_STR(name(s, "example.com"), "*");
    CHECK_STR(addr(s, "::1"), "*");
    hscan__netset_free(s);
    CHECK_INT(hscan__netset_new(&s, NULL, 0, 0, NULL, 0), 0);
    CHECK_STR(name(s, "example.com"), "");
    CHECK_STR(addr(s, "10.0.0.1"), "");
    hscan__netset_free(s);
}

/* 10,000 disjoint /24s (and 10,000 names): every one found at its
 * edges, the gaps between them not; a lookup is one binary search. */
TEST(netset_ten_thousand)
{
    enum { N = 10000 };
    static char text[2 * N][32];
    static const char *v[2 * N];
    struct hscan__netset *s;
    char a[32];
    int i;

    for (i = 0; i < N; i++) {
        /* every other /24 from 10.0.0.0, listed backwards */
        int k = N - 1 - i;
        snprintf(text[i], sizeof(text[i]), "10.%d.%d.0/24", (2 * k) >> 8,
                 (2 * k) & 255);
        snprintf(text[N + i], sizeof(text[N + i]), "host%d.example", i);
        v[i] = text[i];
        v[N + i] = text[N + i];
    }
    s = make(v, 2 * N);
    CHECK_INT(hscan__netset_size(s), 2 * N);
    for (i = 0; i < N; i++) {
        int k = N - 1 - i;
        snprintf(a, sizeof(a), "10.%d.%d.0", (2 * k) >> 8, (2 * k) & 255);
        CHECK_STR(addr(s, a), text[i]);
        snprintf(a, sizeof(a), "10.%d.%d.255", (2 * k) >> 8, (2 * k) & 255);
        CHECK_STR(addr(s, a), text[i]);
        snprintf(a, sizeof(a), "10.%d.%d.7", (2 * k + 1) >> 8,
                 (2 * k + 1) & 255);
        CHECK_STR(addr(s, a), "");
        snprintf(a, sizeof(a), "www.host%d.example", i);
        CHECK_STR(name(s, a), text[N + i]);
    }
    CHECK_STR(name(s, "host10000.example"), "");
    hscan__netset_free(s);
}

/* no_proxy (proxy.c) goes through the same set, leniently. */
TEST(netset_no_proxy_bypass)
{
    struct hscan__proxy *px = NULL;
    uint8_t b[16];

    CHECK_INT(hscan__proxy_new(&px, "socks5://127.0.0.1:1080",
                               "example.com, .corp,10.0.0.0/8\tjunk!",
                               0, NULL, 0), 0);
    CHECK(hscan__proxy_bypass(px, "www.example.com", 0, NULL));
    CHECK(!hscan__proxy_bypass(px, "badexample.com", 0, NULL));
    CHECK(hscan__proxy_bypass(px, "db.corp.", 0, NULL));
    inet_pton(AF_INET, "10.9.9.9", b);
    CHECK(hscan__proxy_bypass(px, "10.9.9.9", 4, b));
    inet_pton(AF_INET, "11.9.9.9", b);
    CHECK(!hscan__proxy_bypass(px, "11.9.9.9", 4, b));
    hscan__proxy_free(px);
    CHECK_INT(hscan__proxy_new(&px, "http://127.0.0.1", NULL, 0, NULL, 0),
              0);
    CHECK(!hscan__proxy_bypass(px, "example.com", 0, NULL));
    hscan__proxy_free(px);
}
