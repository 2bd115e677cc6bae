/* Content decoding (lib/body-decode.c) on any bytes, as any coding.
 *
 * Input: byte 0 picks the codings (1 to 3 of gzip, deflate, br; each
 * one not built in becomes gzip or br, whichever is), byte 1 the sink's
 * cap (up to 64 KiB), byte 2 a seed for the split; the rest is the coded
 * body, fed in pieces of 1 to 64 bytes cut by the seed.  Invariants:
 * the output never passes the cap, the result is a known name, and the
 * split changes nothing: fed whole, the same bytes come out with the
 * same result (after a fault, brotli may have pushed out more of what
 * it decoded before it when fed in pieces: then the one output is a
 * prefix of the other, and the one may have reached the cap first).
 * Each run is bounded: a bomb stops at the cap, and a coded byte is fed
 * once. */
#include "fuzz.h"
#include "body-decode.h"

struct out {
    char *p;
    size_t len, max;
};

static int sink(void *arg, const char *p, size_t n)
{
    struct out *o = arg;
    size_t room = o->max - o->len;
    size_t k = n < room ? n : room;

    memcpy(o->p + o->len, p, k);
    o->len += k;
    return n > room;
}

static int run(const unsigned char *c, unsigned nc, const uint8_t *d,
               size_t n, unsigned seed, struct out *o)
{
    struct hscan__dec *dec;
    size_t off = 0;
    int rc = 0;

    FUZZ_CHECK(hscan__dec_new(&dec, c, nc) == 0);
    while (off < n && rc == 0) {
        size_t k = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 64
                        : n - off;
        char *piece;
        if (k > n - off)
            k = n - off;
        piece = fz_dup(d + off, k);     /* a read past it is caught */
        rc = hscan__dec_feed(dec, piece, k, sink, o);
        free(piece);
        off += k;
    }
    if (rc == 0)
        rc = hscan__dec_end(dec);
    FUZZ_CHECK(hscan__dec_mem_peak(dec) <= HSCAN__DEC_MEM_MAX);
    hscan__dec_free(dec);
    return rc;
}

static unsigned char pick(unsigned v)
{
    const char *offer = hscan__dec_offer();
    unsigned char c = (unsigned char)(HSCAN__CE_GZIP + v % 3);

    if (c != HSCAN__CE_BR && !strstr(offer, "gzip"))
        return HSCAN__CE_BR;
    if (c == HSCAN__CE_BR && !strstr(offer, "br"))
        return HSCAN__CE_GZIP;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned char c[3];
    unsigned nc, v, seed, i;
    struct out a, b;
    int ra, rb;

    if (!hscan__dec_offer() || size < 3)
        return 0;
    v = fz_u8(&f);
    nc = 1 + v % 3;
    for (i = 0; i < nc; i++)
        c[i] = pick(v / 3 >> (2 * i));
    a.max = b.max = (size_t)fz_u8(&f) << 8;
    seed = fz_u8(&f) | 1;
    a.p = malloc(a.max + 1);
    b.p = malloc(b.max + 1);
    FUZZ_CHECK(a.p && b.p);
    a.len = b.len = 0;
    ra = run(c, nc, f.p, f.n, seed, &a);
    rb = run(c, nc, f.p, f.n, 0, &b);
    FUZZ_CHECK(hscan__dec_result_name((unsigned)ra) != NULL);
    FUZZ_CHECK(a.len <= a.max);
    /* brotli's unpushed output at a fault can also decide whether the
     * cap was reached first */
    FUZZ_CHECK(ra == rb ||
               (ra == HSCAN__DEC_CORRUPT && rb == HSCAN__DEC_DECODED_LIMIT) ||
               (rb == HSCAN__DEC_CORRUPT && ra == HSCAN__DEC_DECODED_LIMIT));
    if (ra != rb || ra == HSCAN__DEC_CORRUPT) {
        size_t k = a.len < b.len ? a.len : b.len;
        FUZZ_CHECK(k == 0 || memcmp(a.p, b.p, k) == 0);
    } else {
        FUZZ_CHECK(a.len == b.len &&
                   (a.len == 0 || memcmp(a.p, b.p, a.len) == 0));
    }
    free(a.p);
    free(b.p);
    return 0;
}
