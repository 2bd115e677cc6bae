/* server-coded.c: the content-coded replies of the HTTP test servers
 * (server-http.h, route /ce/NAME), for --compressed: one HTML page
 * (tsrv_coded_page()) coded with zlib's and brotli's own encoders, as
 * the build has them (a name whose coding is not built in gets 404).
 *
 *   /ce/gzip  /ce/xgzip (Content-Encoding: x-gzip)  /ce/deflate (zlib)
 *   /ce/rawdeflate (raw RFC 1951, labelled deflate)  /ce/br
 *   /ce/gzipbr ("gzip, br": gzip, then br)  /ce/gzchunked (gzip, sent
 *   chunked in 100-byte chunks)  /ce/identity  /ce/unknown ("compress",
 *   the page as it is)  /ce/gzcorrupt (a byte of the gzip flipped)
 *   /ce/gzcut (the first half of the gzip, its Content-Length)
 *   /ce/gzbomb (1 GiB of zeros, gzip, ~1 MiB)  /ce/brbomb (1 GiB of
 *   zeros, br quality 1, ~190 KiB)
 *
 * Each has Content-Length (but gzchunked) and a FIN after it.
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

#include "server-http.h"
#include "server-http-int.h"

#define MiB (1u << 20)

size_t tsrv_coded_page(char *p, size_t size)
{
    size_t n = (size_t)snprintf(p, size, "<html><head><title>Coded "
                                "page</title></head><body>\n");
    unsigned i;

    for (i = 0; n + 64 < size && i < 200; i++)
        n += (size_t)snprintf(p + n, size - n, "<p>line %u: %u</p>\n", i,
                              i * 2654435761u % 100000);
    n += (size_t)snprintf(p + n, size - n, "</body></html>\n");
    return n;
}

#ifdef HSCAN_HAVE_ZLIB
/* `in` deflated with window bits `bits` (31 gzip, 15 zlib, -15 raw),
 * appended to `b`; with `flush` Z_FULL_FLUSH, not finished. */
static void z_code(struct obuf *b, z_stream *z, const void *in, size_t n,
                   int flush)
{
    unsigned char o[16384];
    int rc;

    z->next_in = (unsigned char *)in;
    z->avail_in = (uInt)n;
    do {
        z->next_out = o;
        z->avail_out = sizeof(o);
        rc = deflate(z, flush);
        tsrv__ob_mem(b, o, sizeof(o) - z->avail_out);
    } while (rc == Z_OK && (z->avail_out == 0 || flush == Z_FINISH));
}

static void z_whole(struct obuf *b, int bits, const void *in, size_t n)
{
    z_stream z;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        b->failed = 1;
        return;
    }
    z_code(b, &z, in, n, Z_FINISH);
    deflateEnd(&z);
}

/* 1 GiB of zeros as gzip: after a full flush each MiB codes the same,
 * so one MiB's code 1024 times, the final block, the trailer. */
static void gz_bomb(struct obuf *b)
{
    static const unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0,
                                            0, 3 };
    struct obuf one = { NULL, 0, 0, 0 };
    unsigned char *zeros = calloc(1, MiB), t[8];
    uLong crc, all;
    z_stream z;
    unsigned i;

    memset(&z, 0, sizeof(z));
    if (!zeros || deflateInit2(&z, 9, Z_DEFLATED, -15, 8,
                               Z_DEFAULT_STRATEGY) != Z_OK) {
        free(zeros);
        b->failed = 1;
        return;
    }
    all = crc = crc32(0, zeros, MiB);
    z_code(&one, &z, zeros, MiB, Z_FULL_FLUSH);
    tsrv__ob_mem(b, head, sizeof(head));
    for (i = 0; i < 1024; i++)
        tsrv__ob_mem(b, one.p, one.len);
    z_code(b, &z, NULL, 0, Z_FINISH);
    deflateEnd(&z);
    for (i = 1; i < 1024; i++)
        all = crc32_combine(all, crc, MiB);
    for (i = 0; i < 4; i++) {
        t[i] = (unsigned char)(all >> 8 * i);
        t[4 + i] = (unsigned char)((1u << 30) >> 8 * i);
    }
    tsrv__ob_mem(b, t, sizeof(t));
    free(one.p);
    free(zeros);
}
#endif

#ifdef HSCAN_HAVE_BROTLI
/* `n` bytes of `in` (NULL: zeros, 1 MiB at a time) as br. */
static void br_code(struct obuf *b, int quality, const void *in, size_t n)
{
    BrotliEncoderState *e = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    unsigned char *zeros = in ? NULL : calloc(1, MiB);
    unsigned char o[65536];
    size_t left = n;

    if (!e || (!in && !zeros)) {
        b->failed = 1;
        goto out;
    }
    BrotliEncoderSetParameter(e, BROTLI_PARAM_QUALITY, (uint32_t)quality);
    BrotliEncoderSetParameter(e, BROTLI_PARAM_LGWIN, 22);
    for (;;) {
        size_t step = in ? left : left < MiB ? left : MiB, ai = step;
        const uint8_t *ip = in ? (const uint8_t *)in + (n - left) : zeros;
        int last = step == left;
        do {
            uint8_t *op = o;
            size_t ao = sizeof(o);
            if (!BrotliEncoderCompressStream(e, last
                        ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
                        &ai, &ip, &ao, &op, NULL)) {
                b->failed = 1;
                goto out;
            }
            tsrv__ob_mem(b, o, sizeof(o) - ao);
        } while (ai || BrotliEncoderHasMoreOutput(e));
        left -= step;
        if (last)
            break;
    }
out:
    free(zeros);
    if (e)
        BrotliEncoderDestroyInstance(e);
}
#endif

/* The coded body of `name` into `body`, its Content-Encoding in *ce;
 * 0 when the name is unknown or its coding not built in. */
static int coded_body(struct obuf *body, const char *name, size_t n,
                      const char **ce, int *chunked)
{
    char page[8192];
    size_t len = tsrv_coded_page(page, sizeof(page));
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)

    *chunked = 0;
    if (IS("identity") || IS("unknown")) {
        *ce = IS("identity") ? "identity" : "compress";
        tsrv__ob_mem(body, page, len);
        return 1;
    }
#ifdef HSCAN_HAVE_ZLIB
    *ce = "gzip";
    if (IS("gzip") || IS("gzchunked") || IS("gzcorrupt") || IS("gzcut")) {
        z_whole(body, 31, page, len);
        *chunked = IS("gzchunked");
        if (IS("gzcorrupt") && body->len > 40)
            body->p[body->len / 2] ^= 0x55;
        if (IS("gzcut"))
            body->len /= 2;
        return 1;
    }
    if (IS("xgzip")) {
        *ce = "x-gzip";
        z_whole(body, 31, page, len);
        return 1;
    }
    if (IS("deflate") || IS("rawdeflate")) {
        *ce = "deflate";
        z_whole(body, IS("deflate") ? 15 : -15, page, len);
        return 1;
    }
    if (IS("gzbomb")) {
        gz_bomb(body);
        return 1;
    }
#endif
#ifdef HSCAN_HAVE_BROTLI
    *ce = "br";
    if (IS("br")) {
        br_code(body, 5, page, len);
        return 1;
    }
    if (IS("brbomb")) {
        br_code(body, 1, NULL, (size_t)1 << 30);
        return 1;
    }
#endif
#if defined(HSCAN_HAVE_ZLIB) && defined(HSCAN_HAVE_BROTLI)
    if (IS("gzipbr")) {
        struct obuf gz = { NULL, 0, 0, 0 };
        *ce = "gzip, br";
        z_whole(&gz, 31, page, len);
        br_code(body, 5, gz.p, gz.len);
        body->failed |= gz.failed;
        free(gz.p);
        return 1;
    }
#endif
#undef IS
    (void)len;
    return 0;
}

int tsrv_coded_body(const char *name, char **out, size_t *len)
{
    struct obuf body = { NULL, 0, 0, 0 };
    const char *ce;
    int chunked;

    if (!coded_body(&body, name, strlen(name), &ce, &chunked) ||
        body.failed) {
        free(body.p);
        return 0;
    }
    *out = body.p;
    *len = body.len;
    return 1;
}

void tsrv__coded_build(struct obuf *b, const char *server,
                       const struct plan *p)
{
    struct obuf body = { NULL, 0, 0, 0 };
    const char *ce = NULL;
    int chunked;
    size_t i;

    if (!coded_body(&body, p->loc, p->loc_len, &ce, &chunked)) {
        tsrv__ob_fmt(b, "HTTP/1.1 404 Not Found\r\n");
        tsrv__ob_server(b, server);
        tsrv__ob_fmt(b, "Content-Length: 0\r\n\r\n");
        return;
    }
    b->failed |= body.failed;
    tsrv__ob_fmt(b, "HTTP/1.1 200 OK\r\n");
    tsrv__ob_server(b, server);
    tsrv__ob_fmt(b, "Content-Type: text/html\r\nContent-Encoding: %s\r\n",
                 ce);
    if (!chunked) {
        tsrv__ob_fmt(b, "Content-Length: %zu\r\n\r\n", body.len);
        tsrv__ob_mem(b, body.p, body.len);
    } else {
        tsrv__ob_fmt(b, "Transfer-Encoding: chunked\r\n\r\n");
        for (i = 0; i < body.len; i += 100) {
            size_t k = body.len - i < 100 ? body.len - i : 100;
            tsrv__ob_fmt(b, "%zx\r\n", k);
            tsrv__ob_mem(b, body.p + i, k);
            tsrv__ob_fmt(b, "\r\n");
        }
        tsrv__ob_fmt(b, "0\r\n\r\n");
    }
    free(body.p);
}
