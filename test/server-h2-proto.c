/* server-h2-proto.c: what the HTTP/2 test server says (server-h2.h).
 *
 * The well-behaved replies go through an nghttp2 server session: input
 * is fed to nghttp2_session_mem_recv(), whose callbacks note the
 * request's :path and answer on the END_HEADERS of each request; then
 * everything nghttp2_session_mem_send() produces goes out. The hostile
 * behaviours flush the session once more (its SETTINGS ACK), leave it
 * for good and write frames built here (RFC 9113 4.1: 9-byte header,
 * 24-bit length, type, flags, 31-bit stream id). */
#include <stdio.h>
#include <string.h>

#include "server-h2-int.h"

static const struct {
    const char *name;
    enum h2beh beh;
} behaviours[] = {
    { "normal", B_NORMAL },         { "many", B_MANY },
    { "bighead", B_BIGHEAD },       { "redirect", B_REDIRECT },
    { "goaway", B_GOAWAY },         { "rst", B_RST },
    { "settings-flood", B_SETTINGS_FLOOD },
    { "ping-flood", B_PING_FLOOD }, { "cont-flood", B_CONT_FLOOD },
};

#define BODY_LEN (sizeof(TSRV_H2_BODY) - 1)
#define CONT_VALUE 1000

static enum h2beh path_behaviour(const char *p, size_t n)
{
    size_t i, k;

    if (n < 4 || memcmp(p, "/h2/", 4) != 0)
        return B_NORMAL;
    p += 4;
    n -= 4;
    for (k = 0; k < n && p[k] != '?'; k++)
        ;
    for (i = 0; i < sizeof(behaviours) / sizeof(behaviours[0]); i++)
        if (strlen(behaviours[i].name) == k &&
            memcmp(behaviours[i].name, p, k) == 0)
            return behaviours[i].beh;
    return B_NORMAL;
}

void h2_fill_big(struct tsrv_h2 *s)
{
    static const char an[] = "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint32_t x = 0x2545f491u;
    int i, j;

    for (i = 0; i < TSRV_H2_BIG_FIELDS; i++)
        for (j = 0; j < TSRV_H2_BIG_VALUE; j++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            s->big[i][j] = an[(x >> 8) % (sizeof(an) - 1)];
        }
}

/* ---- HTTP/1.1 ---- */

void h2_reply_h1(struct h2conn *c, int end)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nServer: %s\r\n"
                     "Content-Type: text/html\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     TSRV_H2_SERVER, BODY_LEN, TSRV_H2_BODY);

    c->state = S_DONE;
    c->srv->counts.h1_replies++;
    if (n <= 0 || (size_t)n >= sizeof(buf) || h2_send(c, buf, (size_t)n) != 0)
        h2_close(c);
    else if (end)
        h2_finish(c);
}

/* ---- raw frames ---- */

static size_t frame_head(unsigned char *p, size_t len, unsigned type,
                         unsigned flags, uint32_t stream)
{
    p[0] = (unsigned char)(len >> 16);
    p[1] = (unsigned char)(len >> 8);
    p[2] = (unsigned char)len;
    p[3] = (unsigned char)type;
    p[4] = (unsigned char)flags;
    p[5] = (unsigned char)(stream >> 24 & 0x7f);
    p[6] = (unsigned char)(stream >> 16);
    p[7] = (unsigned char)(stream >> 8);
    p[8] = (unsigned char)stream;
    return 9;
}

/* An HPACK integer with an `n`-bit prefix (RFC 7541 5.1); `first`
 * holds the pattern bits above the prefix. */
static size_t hpack_int(unsigned char *p, unsigned first, unsigned n,
                        size_t v)
{
    size_t max = (1u << n) - 1, k = 0;

    if (v < max) {
        p[k++] = (unsigned char)(first | v);
        return k;
    }
    p[k++] = (unsigned char)(first | max);
    for (v -= max; v >= 128; v >>= 7)
        p[k++] = (unsigned char)(v % 128 + 128);
    p[k++] = (unsigned char)v;
    return k;
}

/* One CONTINUATION frame (no END_HEADERS) holding the literal field
 * `x-c: ccc...` without indexing (RFC 7541 6.2.2). */
static size_t cont_frame(unsigned char *p, uint32_t stream)
{
    size_t k = 9;

    k += hpack_int(p + k, 0, 4, 0);     /* literal, new name */
    k += hpack_int(p + k, 0, 7, 3);
    memcpy(p + k, "x-c", 3);
    k += 3;
    k += hpack_int(p + k, 0, 7, CONT_VALUE);
    memset(p + k, 'c', CONT_VALUE);
    k += CONT_VALUE;
    frame_head(p, k - 9, NGHTTP2_CONTINUATION, 0, stream);
    return k;
}

/* Fill `p` (H2_CHUNK bytes) with whole flood frames; their length. */
static size_t flood_chunk(struct h2conn *c, unsigned char *p)
{
    static const unsigned char setting[6] = { 0, 3, 0, 0, 0, 100 };
    size_t k = 0;
    uint32_t ping = 0;

    if (c->beh == B_CONT_FLOOD && c->raw_sent == 0) {
        k = frame_head(p, 1, NGHTTP2_HEADERS, 0, (uint32_t)c->raw_stream);
        p[k++] = 0x88;                  /* :status 200, static index 8 */
    }
    while (k + 9 + 8 + CONT_VALUE + 8 <= H2_CHUNK) {
        if (c->beh == B_SETTINGS_FLOOD) {
            k += frame_head(p + k, 6, NGHTTP2_SETTINGS, 0, 0);
            memcpy(p + k, setting, 6);
            k += 6;
        } else if (c->beh == B_PING_FLOOD) {
            k += frame_head(p + k, 8, NGHTTP2_PING, 0, 0);
            ping = (uint32_t)(c->raw_sent + k);
            memset(p + k, 0, 4);
            p[k + 4] = (unsigned char)(ping >> 24);
            p[k + 5] = (unsigned char)(ping >> 16);
            p[k + 6] = (unsigned char)(ping >> 8);
            p[k + 7] = (unsigned char)ping;
            k += 8;
        } else {
            k += cont_frame(p + k, (uint32_t)c->raw_stream);
        }
    }
    return k;
}

void h2_flood_next(struct h2conn *c)
{
    unsigned char buf[H2_CHUNK];
    size_t n;

    if (c->raw_sent >= TSRV_H2_FLOOD_BYTES) {
        h2_finish(c);   /* the cap: a client that never gives up */
        return;
    }
    n = flood_chunk(c, buf);
    c->raw_sent += n;
    c->srv->counts.flood_bytes += n;
    h2_send(c, buf, n);
}

/* ---- the nghttp2 session ---- */

/* The body's read offset lives in the data source itself (nghttp2
 * keeps it per stream and hands it back by pointer): no allocation
 * that a deleted session would have to free. */
static ssize_t read_body(nghttp2_session *ng, int32_t stream, uint8_t *buf,
                         size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    size_t off = (size_t)src->fd, n = BODY_LEN - off;

    (void)ng;
    (void)stream;
    (void)arg;
    if (n > len)
        n = len;
    memcpy(buf, TSRV_H2_BODY + off, n);
    src->fd = (int)(off + n);
    if ((size_t)src->fd == BODY_LEN)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

#define NV(n, v, vl)                                                      \
    { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl),                \
      NGHTTP2_NV_FLAG_NONE }

static int respond_normal(struct h2conn *c, int32_t stream)
{
    static char clen[16];
    nghttp2_nv nv[] = {
        NV(":status", "200", 3),
        NV("server", TSRV_H2_SERVER, sizeof(TSRV_H2_SERVER) - 1),
        NV("content-type", "text/html", 9),
        NV("x-dup", "1", 1),
        NV("x-dup", "2", 1),
        NV("content-length", clen, 0),
    };
    nghttp2_data_provider dp;

    nv[5].valuelen = (size_t)snprintf(clen, sizeof(clen), "%zu", BODY_LEN);
    dp.source.fd = 0;
    dp.read_callback = read_body;
    return nghttp2_submit_response(c->ng, stream, nv, 6, &dp);
}

static int respond_many(struct h2conn *c, int32_t stream)
{
    char names[TSRV_H2_MANY][12], values[TSRV_H2_MANY][8];
    nghttp2_nv nv[TSRV_H2_MANY + 1] = { NV(":status", "200", 3) };
    int i;

    for (i = 0; i < TSRV_H2_MANY; i++) {
        nv[i + 1].name = (uint8_t *)names[i];
        nv[i + 1].namelen = (size_t)snprintf(names[i], sizeof(names[i]),
                                             "x-h-%d", i + 1);
        nv[i + 1].value = (uint8_t *)values[i];
        nv[i + 1].valuelen = (size_t)snprintf(values[i], sizeof(values[i]),
                                              "v%d", i + 1);
        nv[i + 1].flags = NGHTTP2_NV_FLAG_NONE;
    }
    return nghttp2_submit_response(c->ng, stream, nv, TSRV_H2_MANY + 1,
                                   NULL);
}

/* Not indexed: every field costs its full size in the block, which
 * must outgrow one frame. */
static int respond_bighead(struct h2conn *c, int32_t stream)
{
    char names[TSRV_H2_BIG_FIELDS][12];
    nghttp2_nv nv[TSRV_H2_BIG_FIELDS + 1] = { NV(":status", "200", 3) };
    int i;

    for (i = 0; i < TSRV_H2_BIG_FIELDS; i++) {
        nv[i + 1].name = (uint8_t *)names[i];
        nv[i + 1].namelen = (size_t)snprintf(names[i], sizeof(names[i]),
                                             "x-big-%d", i + 1);
        nv[i + 1].value = (uint8_t *)c->srv->big[i];
        nv[i + 1].valuelen = TSRV_H2_BIG_VALUE;
        nv[i + 1].flags = NGHTTP2_NV_FLAG_NO_INDEX;
    }
    return nghttp2_submit_response(c->ng, stream, nv,
                                   TSRV_H2_BIG_FIELDS + 1, NULL);
}

static int respond_redirect(struct h2conn *c, int32_t stream)
{
    nghttp2_nv nv[] = {
        NV(":status", "301", 3),
        NV("location", "/h2/normal", 10),
        NV("content-length", "0", 1),
    };

    return nghttp2_submit_response(c->ng, stream, nv, 3, NULL);
}

/* A request's header block is complete: its path picks the reply. */
static int on_request(struct h2conn *c, int32_t stream)
{
    enum h2beh beh = path_behaviour(c->path, c->path_len);

    c->srv->counts.requests++;
    switch (beh) {
    case B_MANY:
        return respond_many(c, stream);
    case B_BIGHEAD:
        return respond_bighead(c, stream);
    case B_REDIRECT:
        return respond_redirect(c, stream);
    case B_GOAWAY:
        c->end_after = 1;
        return nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE, 0,
                                     NGHTTP2_ENHANCE_YOUR_CALM,
                                     (const uint8_t *)"h2-goaway", 9);
    case B_RST:
        return nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, stream,
                                         NGHTTP2_INTERNAL_ERROR);
    case B_SETTINGS_FLOOD:
    case B_PING_FLOOD:
    case B_CONT_FLOOD:
        if (c->raw_stream == 0) {
            c->beh = (unsigned char)beh;
            c->raw_stream = stream;     /* raw once this input is done */
        }
        return 0;
    default:
        return respond_normal(c, stream);
    }
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f,
                     const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *arg)
{
    struct h2conn *c = arg;

    (void)ng;
    (void)flags;
    if (f->hd.type == NGHTTP2_HEADERS && namelen == 5 &&
        memcmp(name, ":path", 5) == 0) {
        c->path_len = valuelen < H2_PATH_MAX ? valuelen : H2_PATH_MAX;
        memcpy(c->path, value, c->path_len);
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f,
                            void *arg)
{
    (void)ng;
    (void)f;
    ((struct h2conn *)arg)->path_len = 0;
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t stream,
                   const uint8_t *data, size_t len, void *arg)
{
    (void)ng;
    (void)flags;
    (void)stream;
    (void)data;
    ((struct h2conn *)arg)->srv->counts.data_bytes += len;
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f,
                         void *arg)
{
    (void)ng;
    if (f->hd.type == NGHTTP2_HEADERS &&
        f->headers.cat == NGHTTP2_HCAT_REQUEST &&
        on_request(arg, f->hd.stream_id) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

/* Everything the session has to send; 0 or -1 (then `c` closes). */
static int flush_session(struct h2conn *c)
{
    const uint8_t *data;
    ssize_t n;

    while ((n = nghttp2_session_mem_send(c->ng, &data)) > 0)
        if (h2_send(c, data, (size_t)n) != 0)
            return -1;
    if (n < 0) {
        h2_close(c);
        return -1;
    }
    return 0;
}

static const nghttp2_settings_entry settings[] = {
    { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, TSRV_H2_SETTINGS_MAX_STREAMS },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, TSRV_H2_SETTINGS_WINDOW },
    { NGHTTP2_SETTINGS_MAX_FRAME_SIZE, TSRV_H2_SETTINGS_FRAME },
    { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, TSRV_H2_SETTINGS_HEADER_LIST },
};

int h2_session_start(struct h2conn *c)
{
    nghttp2_session_callbacks *cb;
    int rc;

    if (nghttp2_session_callbacks_new(&cb) != 0)
        return -1;
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    rc = nghttp2_session_server_new(&c->ng, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        return -1;
    c->state = S_H2;
    c->srv->counts.sessions++;
    if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, settings,
                                sizeof(settings) / sizeof(settings[0])) !=
            0 ||
        nghttp2_submit_window_update(c->ng, NGHTTP2_FLAG_NONE, 0,
                                     TSRV_H2_CONN_WINDOW_INCREMENT) != 0)
        return -1;
    return flush_session(c) == 0 || c->closing ? 0 : -1;
}

static void session_input(struct h2conn *c, const char *p, size_t n)
{
    ssize_t r = nghttp2_session_mem_recv(c->ng, (const uint8_t *)p,
                                                n);

    /* A protocol error leaves a GOAWAY queued: send it, then end. */
    if (flush_session(c) != 0)
        return;
    if (r < 0 || c->end_after ||
        (!nghttp2_session_want_read(c->ng) &&
         !nghttp2_session_want_write(c->ng))) {
        h2_finish(c);
        return;
    }
    if (c->raw_stream != 0) {
        c->state = S_RAW;
        if (c->inflight == 0)
            h2_flood_next(c);
    }
}

void h2_input(struct h2conn *c, const char *p, size_t n)
{
    int rc;

    switch (c->state) {
    case S_H2:
        session_input(c, p, n);
        break;
    case S_H1TALK:
        /* Open, so the client reads the reply instead of failing its
         * own write first: it must stumble on the bytes. */
        h2_reply_h1(c, 0);
        break;
    case S_H1:
        rc = tsrv_head_add(&c->head, p, n);
        if (rc < 0)
            h2_close(c);
        else if (rc > 0)
            h2_reply_h1(c, 1);
        break;
    default:
        break;                  /* S_RAW, S_DONE: dropped */
    }
}
