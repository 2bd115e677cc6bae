/* Content decoding (cfg.compressed; body-decode.h): a chain of
 * streaming decoders, one per coding, the last applied undone first,
 * each handing its output to the next in a bounded buffer on the stack
 * and the last to a sink (the body's facts).  Nothing is buffered
 * between feeds but the decoders' own state (zlib's 32 KiB window,
 * brotli's ring buffer), which is allocated at the first coded byte,
 * counted against HSCAN__DEC_MEM_MAX, and freed at the body's end.
 *
 * Read as curl and browsers read it: "deflate" is RFC 1950 zlib data,
 * or raw RFC 1951 data when the first two bytes are no zlib header (IIS
 * and others sent that for years); "gzip" takes further members after
 * the first (RFC 1952 2.2, as gzip(1) does), and also zlib data (curl's
 * inflateInit2(MAX_WBITS + 32)).  A fault keeps what was decoded before
 * it and names itself; bytes after a coding's end are ignored and
 * named.
 */
#include <stdlib.h>
#include <string.h>

#ifdef HSCAN_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HSCAN_HAVE_BROTLI
#include <brotli/decode.h>
#endif

#include "ascii.h"
#include "body-decode.h"

#define OUT_CHUNK 8192      /* one stage's output at a time, on stack */

static const char *const result_names[HSCAN__DEC_COUNT] = {
    NULL, "done", "decoded_limit", "wire_limit", "cut", "corrupt",
    "trailing_data", "unknown_encoding", "too_many_encodings",
    "no_memory"
};

const char *hscan__dec_result_name(unsigned r)
{
    return r < HSCAN__DEC_COUNT ? result_names[r] : NULL;
}

const char *hscan__dec_offer(void)
{
#if defined(HSCAN_HAVE_ZLIB) && defined(HSCAN_HAVE_BROTLI)
    return "gzip, deflate, br";
#elif defined(HSCAN_HAVE_ZLIB)
    return "gzip, deflate";
#elif defined(HSCAN_HAVE_BROTLI)
    return "br";
#else
    return NULL;
#endif
}

/* ---- Content-Encoding ---- */

int hscan__ce_next(const char *v, size_t n, size_t *pos, const char **tok,
                   size_t *tlen)
{
    size_t i = *pos, s;

    for (;;) {
        while (i < n && (v[i] == ',' || hscan__is_ows((unsigned char)v[i])))
            i++;
        if (i >= n) {
            *pos = i;
            return 0;
        }
        s = i;
        while (i < n && v[i] != ',')
            i++;
        *pos = i;
        while (i > s && hscan__is_ows((unsigned char)v[i - 1]))
            i--;
        *tok = v + s;
        *tlen = i - s;
        return 1;
    }
}

int hscan__ce_is_identity(const char *tok, size_t n)
{
    const unsigned char *t = (const unsigned char *)tok;

    return hscan__ieq(t, n, "identity") || hscan__ieq(t, n, "none");
}

/* The coding a token names in this build; 0 for none we decode. */
static int coding_of(const char *tok, size_t n)
{
    const unsigned char *t = (const unsigned char *)tok;

#ifdef HSCAN_HAVE_ZLIB
    if (hscan__ieq(t, n, "gzip") || hscan__ieq(t, n, "x-gzip"))
        return HSCAN__CE_GZIP;
    if (hscan__ieq(t, n, "deflate"))
        return HSCAN__CE_DEFLATE;
#endif
#ifdef HSCAN_HAVE_BROTLI
    if (hscan__ieq(t, n, "br"))
        return HSCAN__CE_BR;
#endif
    (void)t;
    (void)n;
    return 0;
}

void hscan__ce_add(struct hscan__ce *ce, const char *v, size_t n)
{
    const char *tok;
    size_t pos = 0, len;
    int c;

    while (hscan__ce_next(v, n, &pos, &tok, &len)) {
        if (hscan__ce_is_identity(tok, len))
            continue;
        if (!(c = coding_of(tok, len))) {
            ce->result = HSCAN__DEC_UNKNOWN;
        } else if (ce->n == HSCAN__DEC_MAX) {
            if (!ce->result)
                ce->result = HSCAN__DEC_TOO_MANY;
        } else {
            ce->c[ce->n++] = (unsigned char)c;
        }
    }
    /* Nothing is decoded when one coding cannot be: undoing the others
     * would give neither the bytes sent nor the content. */
    if (ce->result)
        ce->n = 0;
}

/* ---- the decoders ---- */

enum sstate {
    S_RUN,          /* decoding (or not started: nothing allocated) */
    S_END,          /* the coding's stream ended */
    S_TRAIL         /* ... and bytes came after it: ignored */
};

struct stage {
    unsigned char coding;
    unsigned char state;        /* enum sstate */
    unsigned char started;      /* the decoder is allocated */
    unsigned char fresh;        /* gzip: a new member, nothing of it
                                   decoded yet */
    unsigned char hdr_n;        /* deflate: first bytes held, up to 2 */
    unsigned char hdr[2];
#ifdef HSCAN_HAVE_ZLIB
    z_stream z;
#endif
#ifdef HSCAN_HAVE_BROTLI
    BrotliDecoderState *br;
#endif
};

struct hscan__dec {
    unsigned n;
    size_t mem, peak;           /* bytes the decoders hold */
    struct stage st[HSCAN__DEC_MAX];    /* st[0]: the last applied */
};

int hscan__dec_new(struct hscan__dec **out, const unsigned char *c,
                   unsigned n)
{
    struct hscan__dec *d;
    unsigned i;

    if (n > HSCAN__DEC_MAX || !(d = calloc(1, sizeof(*d))))
        return -1;
    d->n = n;
    for (i = 0; i < n; i++)
        d->st[i].coding = c[n - 1 - i];
    *out = d;
    return 0;
}

#if defined(HSCAN_HAVE_ZLIB) || defined(HSCAN_HAVE_BROTLI)
/* Every block the decoders allocate carries its size before it, so the
 * memory they hold is counted and bounded. */
#define HDR 16

static void *dalloc(struct hscan__dec *d, size_t n)
{
    char *p;

    if (n > HSCAN__DEC_MEM_MAX - d->mem || !(p = malloc(n + HDR)))
        return NULL;
    memcpy(p, &n, sizeof(n));
    d->mem += n;
    if (d->mem > d->peak)
        d->peak = d->mem;
    return p + HDR;
}

static void dfree(struct hscan__dec *d, void *q)
{
    char *p = q;
    size_t n;

    if (!p)
        return;
    p -= HDR;
    memcpy(&n, p, sizeof(n));
    d->mem -= n;
    free(p);
}

static int run(struct hscan__dec *d, unsigned k, const unsigned char *in,
               size_t n, hscan__dec_sink sink, void *arg);

/* Stage k's output, to the next stage or the sink. */
static int emit(struct hscan__dec *d, unsigned k, const unsigned char *p,
                size_t n, hscan__dec_sink sink, void *arg)
{
    int rc;

    if (n == 0)
        return 0;
    if (k + 1 < d->n)
        return run(d, k + 1, p, n, sink, arg);
    rc = sink(arg, (const char *)p, n);
    return rc == 0 ? 0 : rc > 0 ? HSCAN__DEC_DECODED_LIMIT
                                : HSCAN__DEC_NO_MEMORY;
}
#endif /* a decoder built in */

#ifdef HSCAN_HAVE_ZLIB
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    if (size && items > (size_t)-1 / size)
        return Z_NULL;
    return dalloc(opaque, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    dfree(opaque, p);
}

/* RFC 1950 2.2: CM 8, CINFO at most 7, FCHECK; else raw deflate. */
static int zlib_header(const unsigned char *h)
{
    return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 &&
           ((unsigned)h[0] << 8 | h[1]) % 31 == 0;
}

static int z_start(struct hscan__dec *d, struct stage *s, int bits)
{
    s->z.zalloc = z_alloc;
    s->z.zfree = z_free;
    s->z.opaque = d;
    if (inflateInit2(&s->z, bits) != Z_OK)
        return HSCAN__DEC_NO_MEMORY;
    s->started = 1;
    return 0;
}

/* inflate() in[0..n) to its end or the input's. */
static int z_run(struct hscan__dec *d, unsigned k, const unsigned char *in,
                 size_t n, hscan__dec_sink sink, void *arg)
{
    struct stage *s = &d->st[k];
    unsigned char out[OUT_CHUNK];
    int zr, rc;

    s->z.next_in = (unsigned char *)in;
    s->z.avail_in = (uInt)n;
    do {
        s->z.next_out = out;
        s->z.avail_out = sizeof(out);
        zr = inflate(&s->z, Z_NO_FLUSH);
        if (zr == Z_MEM_ERROR)
            return HSCAN__DEC_NO_MEMORY;
        /* what came before a fault is good, whatever the split */
        if (sizeof(out) > s->z.avail_out)
            s->fresh = 0;
        if ((rc = emit(d, k, out, sizeof(out) - s->z.avail_out, sink,
                       arg)) != 0)
            return rc;
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
            if (!s->fresh)
                return HSCAN__DEC_CORRUPT;
            s->state = S_TRAIL;     /* no gzip member follows */
            return 0;
        }
        if (zr == Z_STREAM_END) {
            s->state = S_END;
            if (s->z.avail_in == 0)
                return 0;
            if (s->coding != HSCAN__CE_GZIP) {
                s->state = S_TRAIL;
                return 0;
            }
            inflateReset(&s->z);    /* the next gzip member */
            s->state = S_RUN;
            s->fresh = 1;
        }
    } while (zr != Z_BUF_ERROR && (s->z.avail_in > 0 ||
                                   s->z.avail_out == 0));
    return 0;
}

static int z_feed(struct hscan__dec *d, unsigned k, const unsigned char *in,
                  size_t n, hscan__dec_sink sink, void *arg)
{
    struct stage *s = &d->st[k];
    size_t take;
    int rc;

    if (s->state == S_END) {        /* a gzip member ended before */
        inflateReset(&s->z);
        s->state = S_RUN;
        s->fresh = 1;
    }
    if (s->started)
        return z_run(d, k, in, n, sink, arg);
    if (s->coding == HSCAN__CE_GZIP)
        return (rc = z_start(d, s, 15 + 32)) ? rc
                                             : z_run(d, k, in, n, sink, arg);
    /* deflate: its first two bytes say zlib or raw */
    take = n < 2u - s->hdr_n ? n : 2u - s->hdr_n;
    memcpy(s->hdr + s->hdr_n, in, take);
    s->hdr_n += (unsigned char)take;
    if (s->hdr_n < 2)
        return 0;
    if ((rc = z_start(d, s, zlib_header(s->hdr) ? 15 : -15)) != 0 ||
        (rc = z_run(d, k, s->hdr, 2, sink, arg)) != 0)
        return rc;
    /* (a raw stream may end in those two bytes: "03 00") */
    return run(d, k, in + take, n - take, sink, arg);
}
#endif /* HSCAN_HAVE_ZLIB */

#ifdef HSCAN_HAVE_BROTLI
static void *br_alloc(void *opaque, size_t n)
{
    return dalloc(opaque, n);
}

static void br_free(void *opaque, void *p)
{
    dfree(opaque, p);
}

static int br_feed(struct hscan__dec *d, unsigned k, const unsigned char *in,
                   size_t n, hscan__dec_sink sink, void *arg)
{
    struct stage *s = &d->st[k];
    unsigned char out[OUT_CHUNK];
    BrotliDecoderResult br;
    int rc, e;

    if (!s->started) {
        if (!(s->br = BrotliDecoderCreateInstance(br_alloc, br_free, d)))
            return HSCAN__DEC_NO_MEMORY;
        s->started = 1;
    }
    do {
        uint8_t *o = out;
        size_t room = sizeof(out);
        br = BrotliDecoderDecompressStream(s->br, &n, &in, &room, &o, NULL);
        if ((rc = emit(d, k, out, sizeof(out) - room, sink, arg)) != 0)
            return rc;
        /* asking for input, it may still hold output that did not
         * fit: take it now, or a cut body would lose it */
    } while (br == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT ||
             (br == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT &&
              BrotliDecoderHasMoreOutput(s->br)));
    if (br == BROTLI_DECODER_RESULT_SUCCESS) {
        s->state = n ? S_TRAIL : S_END;
        return 0;
    }
    if (br != BROTLI_DECODER_RESULT_ERROR)
        return 0;                   /* needs more input */
    e = BrotliDecoderGetErrorCode(s->br);
    return e <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
           e >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES
               ? HSCAN__DEC_NO_MEMORY : HSCAN__DEC_CORRUPT;
}
#endif /* HSCAN_HAVE_BROTLI */

static int run(struct hscan__dec *d, unsigned k, const unsigned char *in,
               size_t n, hscan__dec_sink sink, void *arg)
{
    struct stage *s = &d->st[k];

    if (n == 0)
        return 0;
    if (s->state == S_TRAIL || (s->state == S_END &&
                                s->coding != HSCAN__CE_GZIP)) {
        s->state = S_TRAIL;
        return 0;
    }
    switch (s->coding) {
#ifdef HSCAN_HAVE_ZLIB
    case HSCAN__CE_GZIP:
    case HSCAN__CE_DEFLATE:
        return z_feed(d, k, in, n, sink, arg);
#endif
#ifdef HSCAN_HAVE_BROTLI
    case HSCAN__CE_BR:
        return br_feed(d, k, in, n, sink, arg);
#endif
    default:
        (void)in;
        (void)sink;
        (void)arg;
        return HSCAN__DEC_CORRUPT;  /* never: hscan__ce_add() */
    }
}

int hscan__dec_feed(struct hscan__dec *d, const char *in, size_t n,
                    hscan__dec_sink sink, void *arg)
{
    return d->n ? run(d, 0, (const unsigned char *)in, n, sink, arg) : 0;
}

int hscan__dec_end(const struct hscan__dec *d)
{
    int trail = 0;
    unsigned k;

    for (k = 0; k < d->n; k++) {
        const struct stage *s = &d->st[k];
        /* a gzip member that never began is what came after the last */
        if (s->state == S_RUN && !(s->fresh && s->started))
            return HSCAN__DEC_CUT;
        trail |= s->state != S_END;
    }
    return trail ? HSCAN__DEC_TRAILING : HSCAN__DEC_DONE;
}

size_t hscan__dec_mem_peak(const struct hscan__dec *d)
{
    return d->peak;
}

void hscan__dec_free(struct hscan__dec *d)
{
    unsigned k;

    if (!d)
        return;
    for (k = 0; k < d->n; k++) {
        struct stage *s = &d->st[k];
        if (!s->started)
            continue;
#ifdef HSCAN_HAVE_ZLIB
        if (s->coding != HSCAN__CE_BR)
            inflateEnd(&s->z);
#endif
#ifdef HSCAN_HAVE_BROTLI
        if (s->coding == HSCAN__CE_BR)
            BrotliDecoderDestroyInstance(s->br);
#endif
    }
    free(d);
}

/* ---- into a body's facts ---- */

uint64_t hscan__bdec_wire_max(size_t max)
{
    return (uint64_t)max + max / 8 + 4096;
}

void hscan__bdec_start(struct hscan__bdec *b, const struct hscan__ce *ce,
                       size_t max)
{
    b->ce = *ce;
    b->result = HSCAN__DEC_NONE;
    b->wire = 0;
    b->wire_max = hscan__bdec_wire_max(max);
    hscan__dec_free(b->dec);
    b->dec = NULL;
}

/* The facts as sink: full when bytes had to be left out. */
static int to_facts(void *arg, const char *p, size_t n)
{
    struct hscan__bodyf *bf = arg;
    size_t room = bf->max - bf->len;
    int over = n > room;

    if (hscan__bodyf_feed(bf, p, over ? room : n) != 0)
        return -1;
    return over;
}

int hscan__bdec_feed(struct hscan__bdec *b, struct hscan__bodyf *bf,
                     const char *p, size_t n)
{
    int over = n > b->wire_max - b->wire, rc;

    if (b->result)
        return 1;
    if (over)
        n = (size_t)(b->wire_max - b->wire);
    b->wire += n;
    if (n == 0)
        rc = 0;
    else if (!b->dec && hscan__dec_new(&b->dec, b->ce.c, b->ce.n) != 0)
        rc = HSCAN__DEC_NO_MEMORY;
    else
        rc = hscan__dec_feed(b->dec, p, n, to_facts, bf);
    if (!rc && over)
        rc = HSCAN__DEC_WIRE_LIMIT;
    b->result = (unsigned char)rc;
    return rc != 0;
}

void hscan__bdec_end(struct hscan__bdec *b, const struct hscan__bodyf *bf)
{
    if (!b->result) {
        if (b->ce.result)
            b->result = b->ce.result;
        else if (b->dec)
            b->result = (unsigned char)hscan__dec_end(b->dec);
        /* a body cut by the caps, not by the server */
        if (b->result == HSCAN__DEC_CUT && bf->len >= bf->max)
            b->result = HSCAN__DEC_DECODED_LIMIT;
        else if (b->result == HSCAN__DEC_CUT && b->wire >= b->wire_max)
            b->result = HSCAN__DEC_WIRE_LIMIT;
    }
    hscan__dec_free(b->dec);
    b->dec = NULL;
}

void hscan__bdec_free(struct hscan__bdec *b)
{
    hscan__dec_free(b->dec);
    b->dec = NULL;
}
