/* h2.c: one HTTP/2 client session (nghttp2), with no I/O and no probe:
 * it takes the server's bytes, fills a response (http.c) and the h2
 * facts, and gives the bytes to send.  The HTTP/2 leg (probe-h2.c)
 * drives it; the fuzz harness test/fuzz/fuzz-h2.c too.
 *
 * nghttp2 calls back from inside nghttp2_session_mem_recv(): the
 * callbacks only record what happened (and feed the body), and the
 * caller acts on it when hscan__h2_recv() has returned, so the session
 * is never freed under its own feet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h2.h"
#include "result.h"

#ifdef HSCAN_HAVE_NGHTTP2

#include <nghttp2/nghttp2.h>

/* nghttp2 1.60 renamed the ssize_t calls (the old ones are deprecated
 * there); Debian 12 has 1.52. */
#if NGHTTP2_VERSION_NUM >= 0x013c00
typedef nghttp2_ssize h2_ssize;
#define h2_mem_send nghttp2_session_mem_send2
#define h2_mem_recv nghttp2_session_mem_recv2
#define h2_submit_request nghttp2_submit_request2
#else
typedef ssize_t h2_ssize;
#define h2_mem_send nghttp2_session_mem_send
#define h2_mem_recv nghttp2_session_mem_recv
#define h2_submit_request nghttp2_submit_request
#endif

#define STREAM 1            /* our one request */
#define MAX_FLOOD 1000      /* frames that are not the response's (SETTINGS,
                               PING, WINDOW_UPDATE, empty DATA, unknown)
                               before it ends: a flood, not a server */
#define MAX_CONTINUATION 64 /* CONTINUATION frames in one header block */


void hscan__h2_code_str(char *out, size_t size, unsigned long code)
{
    const char *n = hscan__h2_code_name(code);

    if (n)
        snprintf(out, size, "%s", n);
    else
        snprintf(out, size, "0x%lx", code);
}


/* Stop nghttp2 and say why: the callbacks' fatal return. */
static int stop(struct hscan__h2 *h, int err, const char *detail)
{
    if (!h->err) {
        h->err = err;
        snprintf(h->detail, sizeof(h->detail), "%s", detail);
    }
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd,
                          void *user)
{
    struct hscan__h2 *h = user;
    char d[HSCAN__DETAIL_SIZE];

    (void)s;
    if (hd->type == NGHTTP2_CONTINUATION) {
        if (++h->conts > MAX_CONTINUATION) {
            snprintf(d, sizeof(d), "CONTINUATION flood: more than %d "
                     "frames in one header block", MAX_CONTINUATION);
            return stop(h, HSCAN_EH2_PROTOCOL, d);
        }
        return 0;
    }
    h->conts = 0;
    if ((hd->type == NGHTTP2_HEADERS && hd->stream_id == STREAM) ||
        (hd->type == NGHTTP2_DATA && hd->stream_id == STREAM &&
         hd->length > 0))
        return 0;
    if (++h->other_frames > MAX_FLOOD) {
        snprintf(d, sizeof(d), "flood: more than %d frames other than "
                 "the response's", MAX_FLOOD);
        return stop(h, HSCAN_EH2_PROTOCOL, d);
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f,
                            void *user)
{
    struct hscan__h2 *h = user;

    (void)s;
    /* A block after the final head is trailers: not the head's. */
    if (f->hd.stream_id == STREAM && !h->head)
        h->in_head = 1;
    return 0;
}

static int parse_status(const uint8_t *v, size_t n)
{
    if (n != 3 || v[0] < '1' || v[0] > '9' || v[1] < '0' || v[1] > '9' ||
        v[2] < '0' || v[2] > '9')
        return 0;
    return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f,
                     const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen, uint8_t flags, void *user)
{
    struct hscan__h2 *h = user;
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    (void)s;
    (void)flags;
    if (f->hd.stream_id != STREAM || !h->in_head)
        return 0;
    if (nlen > 0 && name[0] == ':') {
        /* Pseudo-headers are not fields; :status is the status. */
        if (nlen == 7 && memcmp(name, ":status", 7) == 0 &&
            !h->resp->status) {
            int st = parse_status(value, vlen);
            if (!st)
                return stop(h, HSCAN_EH2_PROTOCOL,
                            "the :status is not three digits");
            hscan__resp_h2_status(h->resp, st);
        }
        return 0;
    }
    rc = hscan__resp_h2_field(h->resp, (const char *)name, nlen,
                              (const char *)value, vlen, d, sizeof(d));
    return rc ? stop(h, rc, d) : 0;
}

static void keep_settings(struct hscan__h2 *h, const nghttp2_settings *st)
{
    struct hscan__h2_facts *f = h->facts;
    size_t i;

    if (f->got_settings)
        return;
    f->got_settings = 1;
    for (i = 0; i < st->niv && f->v.n_settings < HSCAN__H2_MAX_SETTINGS;
         i++) {
        f->settings[f->v.n_settings].id = (unsigned)st->iv[i].settings_id;
        f->settings[f->v.n_settings].value = st->iv[i].value;
        f->v.n_settings++;
    }
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f,
                         void *user)
{
    struct hscan__h2 *h = user;
    struct hscan__h2_facts *facts = h->facts;
    char d[HSCAN__DETAIL_SIZE], c[24];

    (void)s;
    switch (f->hd.type) {
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK))
            keep_settings(h, &f->settings);
        break;
    case NGHTTP2_WINDOW_UPDATE:
        if (f->hd.stream_id == 0 && facts->v.window_update < 0)
            facts->v.window_update = f->window_update.window_size_increment;
        break;
    case NGHTTP2_GOAWAY:
        facts->v.goaway = 1;
        facts->v.goaway_code = f->goaway.error_code;
        facts->v.goaway_last_stream = (unsigned long)f->goaway.last_stream_id;
        /* Our stream was not taken: no response will come. */
        if (!h->head && f->goaway.last_stream_id < STREAM) {
            hscan__h2_code_str(c, sizeof(c), f->goaway.error_code);
            snprintf(d, sizeof(d), "GOAWAY %s, last stream %d", c,
                     f->goaway.last_stream_id);
            return stop(h, HSCAN_EH2_GOAWAY, d);
        }
        break;
    case NGHTTP2_RST_STREAM:
        if (f->hd.stream_id != STREAM)
            break;
        facts->v.rst_stream = 1;
        facts->v.rst_code = f->rst_stream.error_code;
        if (!h->head) {
            hscan__h2_code_str(c, sizeof(c), f->rst_stream.error_code);
            snprintf(d, sizeof(d), "RST_STREAM %s", c);
            return stop(h, HSCAN_EH2_RST_STREAM, d);
        }
        break;
    case NGHTTP2_HEADERS:
        if (f->hd.stream_id != STREAM || !h->in_head)
            break;
        h->in_head = 0;
        if (!h->resp->status)
            return stop(h, HSCAN_EH2_PROTOCOL,
                        "a response header block without :status");
        if (hscan__resp_h2_end(h->resp) == 1) {
            h->head = 1;
            /* DATA may follow in the same read: read it from here on.
             * A redirect decided later drops it with the response. */
            if (h->body_bytes)
                hscan__resp_body_start(h->resp, h->body_bytes, h->md,
                                       h->body_keep);
        }
        break;
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream,
                   const uint8_t *data, size_t len, void *user)
{
    struct hscan__h2 *h = user;

    (void)s;
    (void)flags;
    if (stream == STREAM && h->head && h->resp->body_on)
        hscan__resp_body_feed(h->resp, (const char *)data, len);
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream,
                           uint32_t code, void *user)
{
    struct hscan__h2 *h = user;

    (void)s;
    if (stream == STREAM) {
        h->closed = 1;
        h->close_code = code;
    }
    return 0;
}

static int on_error(nghttp2_session *s, int lib_code, const char *msg,
                    size_t len, void *user)
{
    struct hscan__h2 *h = user;

    (void)s;
    (void)lib_code;
    snprintf(h->lib_msg, sizeof(h->lib_msg), "%.*s",
             (int)(len < 200 ? len : 200), msg);
    return 0;
}

long hscan__h2_out(struct hscan__h2 *h, const uint8_t **data)
{
    h2_ssize n = h2_mem_send(h->s, data);

    if (n < 0)
        return n == NGHTTP2_ERR_NOMEM ? HSCAN_ERESOURCE_EXHAUSTED
                                      : HSCAN_EH2_PROTOCOL;
    return (long)n;
}

/* Names HTTP/2 forbids (RFC 9113 8.2.2), which our HTTP/1.1 request
 * carries. */
static int connection_specific(const char *n, size_t len)
{
    static const char *const bad[] = { "connection", "keep-alive",
                                       "proxy-connection",
                                       "transfer-encoding", "upgrade" };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strlen(bad[i]) == len && strncasecmp(n, bad[i], len) == 0)
            return 1;
    return 0;
}

/* The request the HTTP/1.1 leg would send, as an HTTP/2 header list:
 * one description of what to send (request.h).  Its request line gives
 * :method and :path, Host :authority; names go lower case. */
/* The request body, as nghttp2 asks for it. */
static h2_ssize read_body(nghttp2_session *s, int32_t stream, uint8_t *buf,
                          size_t length, uint32_t *flags,
                          nghttp2_data_source *src, void *user)
{
    struct hscan__h2 *h = user;
    size_t n = h->req_body_len - h->req_body_sent;

    (void)s;
    (void)stream;
    (void)src;
    if (n > length)
        n = length;
    memcpy(buf, h->req_body + h->req_body_sent, n);
    h->req_body_sent += n;
    if (h->req_body_sent == h->req_body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (h2_ssize)n;
}

int hscan__h2_request(struct hscan__h2 *h, char *req, size_t len,
                      int https, const char *host, size_t host_len,
                      const char *body, size_t body_len)
{
    nghttp2_nv *nv;
    size_t n = 4, i, lines = 0;
    char *line, *end, *sp1, *sp2;
    int rc;

    for (i = 0; i < len; i++)
        lines += req[i] == '\n';
    if (!(nv = malloc((4 + lines) * sizeof(*nv))))
        return HSCAN_ERESOURCE_EXHAUSTED;
    line = req;
    end = req + len;
    {
        char *eol = memchr(line, '\n', (size_t)(end - line));
        sp1 = memchr(line, ' ', (size_t)(end - line));
        sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
        if (!eol || !sp1 || !sp2 || sp2 > eol) {
            free(nv);
            return HSCAN_EINVAL;
        }
        nv[0] = (nghttp2_nv){ (uint8_t *)":method", (uint8_t *)line, 7,
                              (size_t)(sp1 - line), NGHTTP2_NV_FLAG_NONE };
        nv[1] = (nghttp2_nv){ (uint8_t *)":scheme",
                              (uint8_t *)(https ? "https" : "http"),
                              7, https ? 5 : 4,
                              NGHTTP2_NV_FLAG_NONE };
        nv[2] = (nghttp2_nv){ (uint8_t *)":authority", NULL, 10, 0,
                              NGHTTP2_NV_FLAG_NONE };
        nv[3] = (nghttp2_nv){ (uint8_t *)":path", (uint8_t *)sp1 + 1, 5,
                              (size_t)(sp2 - sp1 - 1), NGHTTP2_NV_FLAG_NONE };
        line = eol + 1;
    }
    while (line < end) {
        char *eol = memchr(line, '\n', (size_t)(end - line));
        char *colon, *v;
        size_t ll = eol ? (size_t)(eol - line) : (size_t)(end - line);

        if (ll && line[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;                  /* the blank line */
        colon = memchr(line, ':', ll);
        if (colon) {
            size_t nl = (size_t)(colon - line), vl;
            v = colon + 1;
            while (v < line + ll && (*v == ' ' || *v == '\t'))
                v++;
            vl = (size_t)(line + ll - v);
            for (i = 0; i < nl; i++)
                if (line[i] >= 'A' && line[i] <= 'Z')
                    line[i] = (char)(line[i] + 32);
            if (nl == 4 && memcmp(line, "host", 4) == 0) {
                if (!nv[2].value) {
                    nv[2].value = (uint8_t *)v;
                    nv[2].valuelen = vl;
                }
            } else if (!connection_specific(line, nl) &&
                       !(nl == 2 && memcmp(line, "te", 2) == 0 &&
                         !(vl == 8 && strncasecmp(v, "trailers", 8) == 0))) {
                nv[n++] = (nghttp2_nv){ (uint8_t *)line, (uint8_t *)v, nl,
                                        vl, NGHTTP2_NV_FLAG_NONE };
            }
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    if (!nv[2].value) {             /* "Host:" removed: the target's */
        nv[2].value = (uint8_t *)host;
        nv[2].valuelen = host_len;
    }
#if NGHTTP2_VERSION_NUM >= 0x013c00
    nghttp2_data_provider2 prd;
    prd.read_callback = read_body;
#else
    nghttp2_data_provider prd;
    prd.read_callback = read_body;
#endif
    prd.source.ptr = NULL;
    h->req_body = body;
    h->req_body_len = body_len;
    h->req_body_sent = 0;
    rc = h2_submit_request(h->s, NULL, nv, n, body ? &prd : NULL, NULL);
    free(nv);
    if (rc < 0)
        return rc == NGHTTP2_ERR_NOMEM ? HSCAN_ERESOURCE_EXHAUSTED
                                       : HSCAN_EH2_PROTOCOL;
    return 0;
}

int hscan__h2_new(struct hscan__h2 *h)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
    };
    int rc;

    if (nghttp2_session_callbacks_new(&cb) != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return HSCAN_ERESOURCE_EXHAUSTED;
    }
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb,
                                                          on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb,
                                                           on_stream_close);
    nghttp2_session_callbacks_set_error_callback2(cb, on_error);
    /* Observe, don't enforce: nghttp2's HTTP messaging checks would
     * reset a stream over a header curl reads; the record names what
     * came instead.  Up to 64 SETTINGS entries are read (and kept). */
    nghttp2_option_set_no_http_messaging(opt, 1);
    nghttp2_option_set_max_settings(opt, HSCAN__H2_MAX_SETTINGS);
    rc = nghttp2_session_client_new2(&h->s, cb, h, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv,
                                sizeof(iv) / sizeof(iv[0])) != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    return 0;
}

void hscan__h2_recv(struct hscan__h2 *h, const char *buf, size_t n)
{
    h2_ssize rv = h2_mem_recv(h->s, (const uint8_t *)buf, n);

    if (rv < 0 && !h->err) {
        h->err = rv == NGHTTP2_ERR_NOMEM ? HSCAN_ERESOURCE_EXHAUSTED
                                         : HSCAN_EH2_PROTOCOL;
        snprintf(h->detail, sizeof(h->detail), "%s",
                 h->lib_msg[0] ? h->lib_msg : nghttp2_strerror((int)rv));
    }
}

int hscan__h2_over(const struct hscan__h2 *h)
{
    return !nghttp2_session_want_read(h->s) &&
           !nghttp2_session_want_write(h->s);
}

void hscan__h2_free(struct hscan__h2 *h)
{
    if (h->s)
        nghttp2_session_del(h->s);
    h->s = NULL;
}

#endif /* HSCAN_HAVE_NGHTTP2 */
