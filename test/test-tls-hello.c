/* The ServerHello parser and the JA3S/JA4S fingerprints (lib/tls-hello.c)
 * against hellos built here byte by byte.
 *
 * The expected fingerprints were derived by hand from the bytes below,
 * the strings written out from the specifications and hashed with
 * Python's hashlib (docs/results.md repeats the derivations):
 *
 *   A, TLS 1.2: version 0x0303, cipher 0xc02f (49199), extensions in
 *   order ff01 0000 000b 0023 0010("http/1.1") 0017
 *     JA3S string "771,49199,65281-0-11-35-16-23"
 *       md5 = 00447ab319e9d94ba2b4c1248e155917
 *     JA4S "t12" + "06" + "h1" (ALPN http/1.1: first h, last 1)
 *       + "_c02f_" + sha256("ff01,0000,000b,0023,0010,0017")[:12]
 *       = 17136cd5846b  ->  t1206h1_c02f_17136cd5846b
 *   B, TLS 1.3: legacy 0x0303, cipher 0x1301 (4865), extensions
 *   key_share (0033, x25519) then supported_versions (002b: 0304)
 *     JA3S "771,4865,51-43" md5 = eb1d94daa7e0344597e756a1fb6e7054
 *     JA4S t13 02 00 (no ALPN in a TLS 1.3 ServerHello) _1301_
 *       sha256("0033,002b")[:12] = 234ea6891581
 *       -> t130200_1301_234ea6891581, the example JA4S of FoxIO's docs
 *   C, the JA4S specification's own example (JA4S.md): TLS 1.2, cipher
 *   c030, extensions 0005,0017,ff01,0000 -> t120400_c030_4e8089b08790;
 *     JA3S "771,49200,5-23-65281-0" md5 = 7d8fd34fdb13a7fff30d5a52846b6c4c
 *   D, no extensions: cipher 0x002f -> JA3S "771,47," md5 =
 *     5397c414a9ebeaff1bf18b70ca22eaa0, JA4S t120000_002f_000000000000
 *     (JA4+ rule: an empty hashed field is 000s)
 */
#include <stdint.h>
#include <string.h>

#include "tls-hello.h"
#include "test-runner.h"

struct msg {
    unsigned char b[512];
    size_t n;
    size_t ext_at;      /* where the extensions' length goes */
};

static void put8(struct msg *m, unsigned v)
{
    m->b[m->n++] = (unsigned char)v;
}

static void put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

static void put(struct msg *m, const void *d, size_t n)
{
    if (n)                      /* d may be NULL for nothing */
        memcpy(m->b + m->n, d, n);
    m->n += n;
}

static const unsigned char hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
};

/* Handshake header (length filled by end()), version, random (`hrr`:
 * the HelloRetryRequest one, else 32 bytes of 0x11), a 32-byte session
 * id, the cipher, null compression; extensions follow with ext(). */
static void begin(struct msg *m, unsigned version, unsigned cipher,
                  int hrr)
{
    unsigned char r[32];

    memset(m, 0, sizeof(*m));
    put8(m, 2);
    put8(m, 0);
    put16(m, 0);
    put16(m, version);
    memset(r, 0x11, sizeof(r));
    put(m, hrr ? hrr_random : r, 32);
    put8(m, 32);
    memset(r, 0x22, sizeof(r));
    put(m, r, 32);
    put16(m, cipher);
    put8(m, 0);
    m->ext_at = 0;
}

static void ext(struct msg *m, unsigned type, const void *d, size_t n)
{
    if (!m->ext_at) {
        m->ext_at = m->n;
        put16(m, 0);
    }
    put16(m, type);
    put16(m, (unsigned)n);
    put(m, d, n);
}

static void end(struct msg *m)
{
    size_t body = m->n - 4;

    m->b[1] = (unsigned char)(body >> 16);
    m->b[2] = (unsigned char)(body >> 8);
    m->b[3] = (unsigned char)body;
    if (m->ext_at) {
        size_t e = m->n - m->ext_at - 2;
        m->b[m->ext_at] = (unsigned char)(e >> 8);
        m->b[m->ext_at + 1] = (unsigned char)e;
    }
}

static const unsigned char alpn_h11[] = { 0, 9, 8, 'h', 't', 't', 'p', '/',
                                          '1', '.', '1' };

static void hello_a(struct msg *m)
{
    static const unsigned char reneg[] = { 0 };
    static const unsigned char pf[] = { 3, 0, 1, 2 };

    begin(m, 0x0303, 0xc02f, 0);
    ext(m, 0xff01, reneg, sizeof(reneg));
    ext(m, 0x0000, NULL, 0);
    ext(m, 0x000b, pf, sizeof(pf));
    ext(m, 0x0023, NULL, 0);
    ext(m, 0x0010, alpn_h11, sizeof(alpn_h11));
    ext(m, 0x0017, NULL, 0);
    end(m);
}

static void hello_b(struct msg *m)
{
    unsigned char ks[36];
    static const unsigned char sv[] = { 3, 4 };

    ks[0] = 0;
    ks[1] = 0x1d;               /* x25519 */
    ks[2] = 0;
    ks[3] = 32;
    memset(ks + 4, 0x33, 32);
    begin(m, 0x0303, 0x1301, 0);
    ext(m, 0x0033, ks, sizeof(ks));
    ext(m, 0x002b, sv, sizeof(sv));
    end(m);
}

static void check_prints(const struct hscan__hello *h, const char *ja3s,
                         const char *ja4s)
{
    char a[33], b[26];

    CHECK_INT(hscan__hello_ja3s(h, a), 0);
    CHECK_STR(a, ja3s);
    CHECK_INT(hscan__hello_ja4s(h, b), 0);
    CHECK_STR(b, ja4s);
}

TEST(hello_tls12_vector)
{
    static const uint16_t want[] = { 0xff01, 0, 0x000b, 0x0023, 0x0010,
                                     0x0017 };
    struct msg m;
    struct hscan__hello h;
    char s[256];

    hello_a(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    CHECK_INT(h.legacy_version, 0x0303);
    CHECK_INT(h.version, 0x0303);
    CHECK_INT(h.cipher, 0xc02f);
    CHECK_INT(h.n_ext, 6);
    CHECK_INT(h.n_ext_total, 6);
    CHECK(memcmp(h.ext, want, sizeof(want)) == 0);
    CHECK(h.alpn[0] == 'h' && h.alpn[1] == '1');
    CHECK_INT(h.hrr, 0);
    CHECK(hscan__hello_ja3s_str(&h, s, sizeof(s)) > 0);
    CHECK_STR(s, "771,49199,65281-0-11-35-16-23");
    check_prints(&h, "00447ab319e9d94ba2b4c1248e155917",
                 "t1206h1_c02f_17136cd5846b");
}

TEST(hello_tls13_vector)
{
    struct msg m;
    struct hscan__hello h;
    char s[256];

    hello_b(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    CHECK_INT(h.legacy_version, 0x0303);
    CHECK_INT(h.version, 0x0304);
    CHECK_INT(h.cipher, 0x1301);
    CHECK_INT(h.n_ext, 2);
    CHECK_INT(h.ext[0], 0x0033);
    CHECK_INT(h.ext[1], 0x002b);
    CHECK_INT(h.hrr, 0);
    CHECK(hscan__hello_ja3s_str(&h, s, sizeof(s)) > 0);
    CHECK_STR(s, "771,4865,51-43");
    check_prints(&h, "eb1d94daa7e0344597e756a1fb6e7054",
                 "t130200_1301_234ea6891581");
}

/* The JA4S specification's example, and a hello without extensions. */
TEST(hello_spec_vectors)
{
    static const unsigned char reneg[] = { 0 };
    struct msg m;
    struct hscan__hello h;

    begin(&m, 0x0303, 0xc030, 0);
    ext(&m, 0x0005, NULL, 0);
    ext(&m, 0x0017, NULL, 0);
    ext(&m, 0xff01, reneg, sizeof(reneg));
    ext(&m, 0x0000, NULL, 0);
    end(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    check_prints(&h, "7d8fd34fdb13a7fff30d5a52846b6c4c",
                 "t120400_c030_4e8089b08790");

    begin(&m, 0x0303, 0x002f, 0);
    end(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    CHECK_INT(h.n_ext, 0);
    check_prints(&h, "5397c414a9ebeaff1bf18b70ca22eaa0",
                 "t120000_002f_000000000000");
}

/* A HelloRetryRequest is a ServerHello with RFC 8446's fixed random. */
TEST(hello_retry_request)
{
    static const unsigned char sv[] = { 3, 4 }, ks[] = { 0, 0x17 };
    struct msg m;
    struct hscan__hello h;

    begin(&m, 0x0303, 0x1302, 1);
    ext(&m, 0x002b, sv, sizeof(sv));
    ext(&m, 0x0033, ks, sizeof(ks));
    end(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    CHECK_INT(h.hrr, 1);
    CHECK_INT(h.version, 0x0304);
    /* "771,4866,43-51" and sha256("002b,0033")[:12] */
    check_prints(&h, "15af977ce25de452b96affa2addb1036",
                 "t130200_1302_a56c5b993250");
    hello_b(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    CHECK_INT(h.hrr, 0);
}

/* JA4's ALPN rule: the first and last characters, or, when either is
 * not alphanumeric, the first and last hex digits of the name. */
TEST(hello_alpn_chars)
{
    static const struct {
        unsigned char body[8];
        size_t n;
        const char *want;
    } c[] = {
        { { 0, 3, 2, 'h', '2' }, 5, "h2" },
        { { 0, 2, 1, 'x' }, 4, "xx" },
        { { 0, 2, 1, 0xab }, 4, "ab" },
        { { 0, 3, 2, 0xab, 0xcd }, 5, "ad" },
        { { 0, 3, 2, 0x30, 0xab }, 5, "3b" },
        { { 0, 5, 4, 0x30, 0x31, 0xab, 0xcd }, 7, "3d" },
        { { 0, 5, 4, 0x30, 0xab, 0xcd, 0x31 }, 7, "01" },
        { { 0, 1, 0 }, 3, "00" },
    };
    struct msg m;
    struct hscan__hello h;
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        begin(&m, 0x0303, 0xc02f, 0);
        ext(&m, 0x0010, c[i].body, c[i].n);
        end(&m);
        CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
        CHECK(h.alpn[0] == c[i].want[0] && h.alpn[1] == c[i].want[1]);
    }
}

/* Every prefix of a valid hello, and each kind of damage, is refused
 * without touching the output. */
TEST(hello_malformed)
{
    struct msg m, bad;
    struct hscan__hello h, before;
    size_t i;

    hello_a(&m);
    memset(&before, 0x5a, sizeof(before));
    for (i = 0; i < m.n; i++) {
        h = before;
        CHECK_INT(hscan__hello_parse(&h, m.b, i), -1);
        CHECK(memcmp(&h, &before, sizeof(h)) == 0);
    }
    /* a prefix with a matching header length: cut mid-extension */
    bad = m;
    bad.n -= 2;
    bad.b[3] -= 2;
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    bad = m;                        /* not a ServerHello */
    bad.b[0] = 1;
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    bad = m;                        /* session id longer than 32 */
    bad.b[4 + 2 + 32] = 33;
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    bad = m;                        /* a trailing byte */
    bad.b[bad.n++] = 0;
    bad.b[3]++;
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    bad = m;                        /* first extension overruns */
    bad.b[m.ext_at + 5] = 0xff;
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    /* supported_versions of 3 bytes; ALPN list length wrong */
    begin(&bad, 0x0303, 0x1301, 0);
    ext(&bad, 0x002b, "\x03\x04\x00", 3);
    end(&bad);
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    begin(&bad, 0x0303, 0x1301, 0);
    ext(&bad, 0x0010, "\x00\x05\x02h2", 5);
    end(&bad);
    CHECK_INT(hscan__hello_parse(&h, bad.b, bad.n), -1);
    CHECK_INT(hscan__hello_parse(&h, NULL, 0), -1);
}

/* Past 32 extensions they are counted, and no fingerprint is made. */
TEST(hello_too_many_extensions)
{
    struct msg m;
    struct hscan__hello h;
    char a[33], b[26], s[256];
    unsigned i;

    begin(&m, 0x0303, 0xc02f, 0);
    for (i = 0; i < 40; i++)
        ext(&m, 0x1000 + i, NULL, 0);
    end(&m);
    CHECK_INT(hscan__hello_parse(&h, m.b, m.n), 0);
    CHECK_INT(h.n_ext, HSCAN__HELLO_MAX_EXT);
    CHECK_INT(h.n_ext_total, 40);
    CHECK_INT(hscan__hello_ja3s(&h, a), -1);
    CHECK_STR(a, "");
    CHECK_INT(hscan__hello_ja4s(&h, b), -1);
    CHECK_INT(hscan__hello_ja3s_str(&h, s, sizeof(s)), 0);
}
