/* Unit tests of content decoding (lib/body-decode.c): every coding
 * built in, fed split at every byte boundary; stacked codings, gzip
 * members, trailing bytes, corrupt and cut streams, the caps on the
 * decoded and the coded side, and decompression bombs ending at the
 * decoded cap with the decoders' memory bounded.  The coded bytes are
 * made here with zlib's and brotli's own encoders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HSCAN_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HSCAN_HAVE_BROTLI
#include <brotli/encode.h>
#endif

#include "body-decode.h"
#include "server-http.h"
#include "test-runner.h"

/* ---- encoders ---- */

struct buf {
    unsigned char *p;
    size_t len, cap, max;   /* max: the sink's cap */
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        CHECK(b->p != NULL);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

enum { E_GZIP, E_ZLIB, E_RAW, E_BR };

#ifdef HSCAN_HAVE_ZLIB
static void z_encode(struct buf *out, int bits, const void *in, size_t n)
{
    unsigned char o[4096];
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    CHECK(deflateInit2(&z, 9, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    do {
        z.next_out = o;
        z.avail_out = sizeof(o);
        rc = deflate(&z, Z_FINISH);
        put(out, o, sizeof(o) - z.avail_out);
    } while (rc == Z_OK);
    CHECK(rc == Z_STREAM_END);
    deflateEnd(&z);
}
#endif

/* `in` coded as `e`, appended to `out`; 0 when not built in. */
static int encode(struct buf *out, int e, const void *in, size_t n)
{
    switch (e) {
#ifdef HSCAN_HAVE_ZLIB
    case E_GZIP: z_encode(out, 31, in, n); return 1;
    case E_ZLIB: z_encode(out, 15, in, n); return 1;
    case E_RAW: z_encode(out, -15, in, n); return 1;
#endif
#ifdef HSCAN_HAVE_BROTLI
    case E_BR: {
        size_t m = BrotliEncoderMaxCompressedSize(n) + 16;
        unsigned char *o = malloc(m);
        CHECK(o != NULL);
        CHECK(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n, in, &m,
                                    o));
        put(out, o, m);
        free(o);
        return 1;
    }
#endif
    }
    (void)in;
    (void)n;
    (void)out;
    return 0;
}

static unsigned char coding_of(int e)
{
    return e == E_GZIP ? HSCAN__CE_GZIP : e == E_BR ? HSCAN__CE_BR
                                                    : HSCAN__CE_DEFLATE;
}

/* A page with a title and some text that compresses. */
static size_t page(char *p, size_t size)
{
    size_t n = (size_t)snprintf(p, size, "<html><head><title>Decoded "
                                "&amp; fine</title></head><body>");
    unsigned i;

    for (i = 0; n + 64 < size && i < 40; i++)
        n += (size_t)snprintf(p + n, size - n, "<p>line %u of the "
                              "page</p>\n", i * 7919 % 1000);
    n += (size_t)snprintf(p + n, size - n, "</body></html>\n");
    return n;
}

/* ---- decoding ---- */

static int sink(void *arg, const char *p, size_t n)
{
    struct buf *b = arg;
    size_t room = b->max - b->len;

    put(b, p, n < room ? n : room);
    return n > room;
}

/* Decode c[0..nc) of in[0..n), fed in pieces cut at `cuts` (step
 * bytes apart, 0: once); the result, output in *out. */
static int decode(const unsigned char *c, unsigned nc,
                  const unsigned char *in, size_t n, size_t step,
                  struct buf *out)
{
    struct hscan__dec *d;
    size_t off = 0;
    int rc = 0;

    CHECK(hscan__dec_new(&d, c, nc) == 0);
    if (!out->max)
        out->max = (size_t)-1;
    while (off < n && rc == 0) {
        size_t k = step && n - off > step ? step : n - off;
        rc = hscan__dec_feed(d, (const char *)in + off, k, sink, out);
        off += k;
    }
    if (rc == 0)
        rc = hscan__dec_end(d);
    hscan__dec_free(d);
    return rc;
}

static void check_same(const struct buf *out, const char *want, size_t n)
{
    CHECK_INT(out->len, n);
    CHECK(memcmp(out->p, want, n) == 0);
}

/* Every coding built in, fed whole, a byte at a time, and cut in two
 * at every byte boundary. */
TEST(every_coding_every_split)
{
    static const int all[] = { E_GZIP, E_ZLIB, E_RAW, E_BR };
    char html[2048];
    size_t n = page(html, sizeof(html)), cut;
    unsigned i, tried = 0;

    for (i = 0; i < 4; i++) {
        struct buf enc = { 0 };
        unsigned char c = coding_of(all[i]);
        if (!encode(&enc, all[i], html, n))
            continue;
        tried++;
        for (cut = 0; cut <= enc.len; cut++) {
            struct buf out = { 0 };
            struct hscan__dec *d;
            int rc;
            CHECK(hscan__dec_new(&d, &c, 1) == 0);
            out.max = (size_t)-1;
            rc = hscan__dec_feed(d, (char *)enc.p, cut, sink, &out);
            CHECK_INT(rc, 0);
            rc = hscan__dec_feed(d, (char *)enc.p + cut, enc.len - cut,
                                 sink, &out);
            CHECK_INT(rc, 0);
            CHECK_INT(hscan__dec_end(d), HSCAN__DEC_DONE);
            hscan__dec_free(d);
            check_same(&out, html, n);
            free(out.p);
        }
        {
            struct buf out = { 0 };
            CHECK_INT(decode(&c, 1, enc.p, enc.len, 1, &out),
                      HSCAN__DEC_DONE);
            check_same(&out, html, n);
            free(out.p);
        }
        free(enc.p);
    }
    CHECK(tried == 0 || hscan__dec_offer() != NULL);
    if (!tried)
        return;             /* not built in */
}

/* "gzip, br": gzip applied first, br last, so br is undone first; and
 * three deep, split at every 7 bytes. */
TEST(stacked)
{
    char html[2048];
    size_t n = page(html, sizeof(html));
    struct buf a = { 0 }, b = { 0 }, c3 = { 0 }, out = { 0 };
    unsigned char two[2] = { HSCAN__CE_GZIP, HSCAN__CE_BR };
    unsigned char three[3] = { HSCAN__CE_DEFLATE, HSCAN__CE_GZIP,
                               HSCAN__CE_DEFLATE };

    if (encode(&a, E_GZIP, html, n) && encode(&b, E_BR, a.p, a.len)) {
        CHECK_INT(decode(two, 2, b.p, b.len, 7, &out), HSCAN__DEC_DONE);
        check_same(&out, html, n);
    }
    free(a.p);
    free(b.p);
    free(out.p);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&out, 0, sizeof(out));
    if (!encode(&a, E_ZLIB, html, n))
        return;             /* not built in */
    encode(&b, E_GZIP, a.p, a.len);
    encode(&c3, E_RAW, b.p, b.len);
    CHECK_INT(decode(three, 3, c3.p, c3.len, 7, &out), HSCAN__DEC_DONE);
    check_same(&out, html, n);
    free(a.p);
    free(b.p);
    free(c3.p);
    free(out.p);
}

/* Two gzip members decode as one body (RFC 1952 2.2); bytes after the
 * end are ignored and named, the decoded body whole. */
TEST(members_and_trailing)
{
    unsigned char g = HSCAN__CE_GZIP, d = HSCAN__CE_DEFLATE;
    struct buf enc = { 0 }, out = { 0 };

    if (!encode(&enc, E_GZIP, "hello ", 6))
        return;             /* not built in */
    encode(&enc, E_GZIP, "world", 5);
    CHECK_INT(decode(&g, 1, enc.p, enc.len, 3, &out), HSCAN__DEC_DONE);
    check_same(&out, "hello world", 11);
    put(&enc, "\r\n", 2);           /* not a member */
    out.len = 0;
    CHECK_INT(decode(&g, 1, enc.p, enc.len, 0, &out),
              HSCAN__DEC_TRAILING);
    check_same(&out, "hello world", 11);
    free(enc.p);
    memset(&enc, 0, sizeof(enc));
    encode(&enc, E_ZLIB, "hello", 5);
    put(&enc, "junk", 4);
    out.len = 0;
    CHECK_INT(decode(&d, 1, enc.p, enc.len, 1, &out),
              HSCAN__DEC_TRAILING);
    check_same(&out, "hello", 5);
    free(enc.p);
    free(out.p);
}

/* A stream that stops short is cut, with what it gave; a fault keeps
 * what was decoded before it (the same bytes the cut stream gave) and,
 * where the coding checks a sum (zlib, gzip), is always found. */
TEST(corrupt_and_cut)
{
    static const int all[] = { E_GZIP, E_ZLIB, E_RAW, E_BR };
    static char text[200000];
    unsigned i, k, tried = 0;

    for (k = 0; k < sizeof(text); k++)      /* poorly compressible */
        text[k] = (char)('a' + (k * 2654435761u >> 13) % 26);
    for (i = 0; i < 4; i++) {
        struct buf enc = { 0 }, out = { 0 };
        unsigned char c = coding_of(all[i]);
        size_t cut_len;
        int rc;
        if (!encode(&enc, all[i], text, sizeof(text)))
            continue;
        tried++;
        CHECK_INT(decode(&c, 1, enc.p, enc.len / 2, 1000, &out),
                  HSCAN__DEC_CUT);
        cut_len = out.len;
        CHECK(cut_len < sizeof(text) && cut_len > 0);
        CHECK(memcmp(out.p, text, cut_len) == 0);
        enc.p[enc.len / 2] ^= 0x55;
        out.len = 0;
        rc = decode(&c, 1, enc.p, enc.len, 1000, &out);
        if (all[i] == E_GZIP || all[i] == E_ZLIB)
            CHECK_INT(rc, HSCAN__DEC_CORRUPT);
        CHECK(rc != HSCAN__DEC_DONE || all[i] == E_RAW);
        CHECK(out.len >= cut_len && memcmp(out.p, text, cut_len) == 0);
        free(enc.p);
        free(out.p);
    }
    if (!tried)
        return;             /* not built in */
}

/* ---- bombs ---- */

#define MiB (1u << 20)

/* The sink's cap reached: DECODED_LIMIT at once, the decoders' memory
 * their state alone (zlib: 7 KiB and a 32 KiB window). */
TEST(gzip_bomb)
{
#ifdef HSCAN_HAVE_ZLIB
    /* 1 GiB of zeros, gzip, some 1 MiB: the test server's /ce/gzbomb */
    unsigned char c = HSCAN__CE_GZIP;
    struct hscan__dec *d;
    struct buf out = { 0 };
    char *bomb;
    size_t len;
    int rc;

    CHECK(tsrv_coded_body("gzbomb", &bomb, &len));
    CHECK(len < 2 * MiB);
    out.max = MiB;
    CHECK(hscan__dec_new(&d, &c, 1) == 0);
    rc = hscan__dec_feed(d, bomb, len, sink, &out);
    CHECK_INT(rc, HSCAN__DEC_DECODED_LIMIT);
    CHECK_INT(out.len, MiB);
    fprintf(stderr, "  gzip bomb: %zu bytes coded, decoders' peak %zu "
            "bytes\n", len, hscan__dec_mem_peak(d));
    CHECK(hscan__dec_mem_peak(d) < 64 * 1024);
    hscan__dec_free(d);
    free(bomb);
    free(out.p);
#else
    return;             /* not built in */
#endif
}

/* br: 1 GiB of zeros coded as it is fed, in 1 MiB steps, until the
 * decoder says the sink is full; its memory: the ring buffer the
 * stream's window asks for (4 MiB at lgwin 22; 1.5 times that while it
 * grows to it) and tables. */
TEST(br_bomb)
{
#ifdef HSCAN_HAVE_BROTLI
    static unsigned char zeros[MiB], o[64 * 1024];
    BrotliEncoderState *e = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    unsigned char c = HSCAN__CE_BR;
    struct hscan__dec *d;
    struct buf out = { 0 };
    size_t coded = 0;
    unsigned i;
    int rc = 0;

    CHECK(e != NULL);
    BrotliEncoderSetParameter(e, BROTLI_PARAM_QUALITY, 1);
    BrotliEncoderSetParameter(e, BROTLI_PARAM_LGWIN, 22);
    CHECK(hscan__dec_new(&d, &c, 1) == 0);
    out.max = MiB;
    for (i = 0; i <= 1024 && rc == 0; i++) {
        const uint8_t *ip = zeros;
        size_t ai = i < 1024 ? MiB : 0;
        do {
            uint8_t *op = o;
            size_t ao = sizeof(o);
            CHECK(BrotliEncoderCompressStream(e, i < 1024
                        ? BROTLI_OPERATION_PROCESS
                        : BROTLI_OPERATION_FINISH, &ai, &ip, &ao, &op,
                        NULL));
            coded += sizeof(o) - ao;
            if (rc == 0)
                rc = hscan__dec_feed(d, (char *)o, sizeof(o) - ao, sink,
                                     &out);
        } while (ai || BrotliEncoderHasMoreOutput(e));
    }
    CHECK_INT(rc, HSCAN__DEC_DECODED_LIMIT);
    CHECK_INT(out.len, MiB);
    CHECK(i < 64);          /* stopped long before the 1 GiB */
    fprintf(stderr, "  br bomb: stopped after %u MiB in, %zu bytes coded, "
            "decoders' peak %zu bytes\n", i, coded, hscan__dec_mem_peak(d));
    CHECK(hscan__dec_mem_peak(d) <= 6 * MiB + 512 * 1024);
    hscan__dec_free(d);
    BrotliEncoderDestroyInstance(e);
    free(out.p);
#else
    return;             /* not built in */
#endif
}

/* ---- into a body's facts ---- */

/* A deflate stream of empty stored blocks decodes to nothing forever:
 * the coded side's cap ends it. */
TEST(wire_limit)
{
    static const unsigned char empty[5] = { 0, 0, 0, 0xff, 0xff };
    struct hscan__ce ce;
    struct hscan__bdec b;
    struct hscan__bodyf bf;
    unsigned i;
    int stop = 0;

    memset(&ce, 0, sizeof(ce));
    memset(&b, 0, sizeof(b));
    memset(&bf, 0, sizeof(bf));
    hscan__ce_add(&ce, "deflate", 7);
    if (ce.n == 0)
        return;             /* not built in */
    b.on = 1;
    hscan__bodyf_start(&bf, NULL, 1, 1000);
    hscan__bdec_start(&b, &ce, 1000);
    CHECK(b.wire_max == hscan__bdec_wire_max(1000));
    CHECK(b.dec == NULL);               /* nothing before a byte */
    /* a raw stream: 0x78 0x9c would make it zlib; 0 0 is no header */
    for (i = 0; i < 100000 && !stop; i++)
        stop = hscan__bdec_feed(&b, &bf, (const char *)empty, 5);
    CHECK(stop);
    CHECK_INT(b.result, HSCAN__DEC_WIRE_LIMIT);
    CHECK(b.wire == b.wire_max);
    CHECK_INT(bf.len, 0);
    hscan__bdec_end(&b, &bf);
    CHECK(b.dec == NULL);               /* freed at the end */
    CHECK_INT(b.result, HSCAN__DEC_WIRE_LIMIT);
    hscan__bodyf_free(&bf);
}

/* Content-Encoding lists: order, case, OWS, empty elements, identity;
 * one unknown coding or too many: nothing decoded. */
TEST(content_encoding_lists)
{
    struct hscan__ce ce;

    memset(&ce, 0, sizeof(ce));
    hscan__ce_add(&ce, " GZip ,, identity", 17);
    hscan__ce_add(&ce, "X-GZIP", 6);
    if (!hscan__dec_offer() || !strstr(hscan__dec_offer(), "gzip"))
        return;             /* not built in */
    CHECK_INT(ce.n, 2);
    CHECK(ce.c[0] == HSCAN__CE_GZIP && ce.c[1] == HSCAN__CE_GZIP);
    CHECK_INT(ce.result, 0);
    memset(&ce, 0, sizeof(ce));
    hscan__ce_add(&ce, "none", 4);
    CHECK_INT(ce.n, 0);
    CHECK_INT(ce.result, 0);
    hscan__ce_add(&ce, "gzip, compress", 14);
    CHECK_INT(ce.n, 0);
    CHECK_INT(ce.result, HSCAN__DEC_UNKNOWN);
    memset(&ce, 0, sizeof(ce));
    hscan__ce_add(&ce, "gzip,gzip,gzip,gzip,gzip", 24);
    CHECK_INT(ce.n, 0);
    CHECK_INT(ce.result, HSCAN__DEC_TOO_MANY);
    CHECK_STR(hscan__dec_result_name(HSCAN__DEC_DECODED_LIMIT),
              "decoded_limit");
    CHECK(hscan__dec_result_name(HSCAN__DEC_NONE) == NULL);
}
