/* The HTTP/2 leg (leg.h): the top of the stack when the server picked
 * h2 in ALPN (or --h2c, prior knowledge, on plain TCP).  One nghttp2
 * client session per connection, fed the bytes the leg below hands up;
 * one GET stream.  Its response HEADERS fill the same response as
 * HTTP/1.1 (http.c: status, fields in order, pseudo-headers left out,
 * the same caps), its DATA the same body reader; the server's SETTINGS,
 * first WINDOW_UPDATE, GOAWAY and RST_STREAM are kept as the record's
 * h2 facts.  Then the connection is closed without waiting for more.
 *
 * nghttp2 does no I/O and calls back from inside
 * nghttp2_session_mem_recv(): the callbacks only record what happened
 * (and feed the body); what it means for the probe (finish, redirect)
 * is decided in settle(), after the session has returned, so the
 * session is never freed under its own feet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

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

struct hscan__h2 {
    nghttp2_session *s;
    unsigned other_frames;  /* counted against MAX_FLOOD */
    unsigned conts;         /* CONTINUATIONs of the current block */
    int in_head;            /* a response header block is being read */
    int head;               /* the final head is in */
    int handled;            /* ... and settle() acted on it */
    int closed;             /* our stream closed */
    uint32_t close_code;
    int err;                /* set: the exchange failed (before or in
                               the body), with detail */
    char detail[HSCAN__DETAIL_SIZE];
    char lib_msg[HSCAN__DETAIL_SIZE];   /* nghttp2's last complaint */
};

static void code_str(char *out, size_t size, unsigned long code)
{
    const char *n = hscan__h2_code_name(code);

    if (n)
        snprintf(out, size, "%s", n);
    else
        snprintf(out, size, "0x%lx", code);
}

static struct probe *probe_of(void *user)
{
    return user;
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
    struct probe *p = probe_of(user);
    struct hscan__h2 *h = p->h2;
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
    struct probe *p = probe_of(user);

    (void)s;
    /* A block after the final head is trailers: not the head's. */
    if (f->hd.stream_id == STREAM && !p->h2->head)
        p->h2->in_head = 1;
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
    struct probe *p = probe_of(user);
    struct hscan__h2 *h = p->h2;
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    (void)s;
    (void)flags;
    if (f->hd.stream_id != STREAM || !h->in_head)
        return 0;
    if (nlen > 0 && name[0] == ':') {
        /* Pseudo-headers are not fields; :status is the status. */
        if (nlen == 7 && memcmp(name, ":status", 7) == 0 &&
            !p->resp.status) {
            int st = parse_status(value, vlen);
            if (!st)
                return stop(h, HSCAN_EH2_PROTOCOL,
                            "the :status is not three digits");
            hscan__resp_h2_status(&p->resp, st);
        }
        return 0;
    }
    rc = hscan__resp_h2_field(&p->resp, (const char *)name, nlen,
                              (const char *)value, vlen, d, sizeof(d));
    return rc ? stop(h, rc, d) : 0;
}

/* p->want_body from probe-http.c's rule: cfg.body_bytes, and a method
 * whose response has a body. */
static int want_body(const struct probe *p)
{
    return p->env->lim.body_bytes > 0 &&
           strcmp(p->req->method, "HEAD") != 0;
}

static void keep_settings(struct probe *p, const nghttp2_settings *st)
{
    struct hscan__h2_facts *f = p->h2f;
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
    struct probe *p = probe_of(user);
    struct hscan__h2 *h = p->h2;
    struct hscan__h2_facts *facts = p->h2f;
    char d[HSCAN__DETAIL_SIZE], c[24];

    (void)s;
    switch (f->hd.type) {
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK))
            keep_settings(p, &f->settings);
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
            code_str(c, sizeof(c), f->goaway.error_code);
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
            code_str(c, sizeof(c), f->rst_stream.error_code);
            snprintf(d, sizeof(d), "RST_STREAM %s", c);
            return stop(h, HSCAN_EH2_RST_STREAM, d);
        }
        break;
    case NGHTTP2_HEADERS:
        if (f->hd.stream_id != STREAM || !h->in_head)
            break;
        h->in_head = 0;
        if (!p->resp.status)
            return stop(h, HSCAN_EH2_PROTOCOL,
                        "a response header block without :status");
        if (hscan__resp_h2_end(&p->resp) == 1) {
            h->head = 1;
            /* DATA may follow in the same read: read it from here on.
             * A redirect decided later drops it with the response. */
            if (want_body(p))
                hscan__resp_body_start(&p->resp, p->env->lim.body_bytes,
                                       &p->env->scratch->sha256,
                                       p->env->lim.body_keep);
        }
        break;
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream,
                   const uint8_t *data, size_t len, void *user)
{
    struct probe *p = probe_of(user);

    (void)s;
    (void)flags;
    if (stream == STREAM && p->h2->head && p->resp.body_on)
        hscan__resp_body_feed(&p->resp, (const char *)data, len);
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream,
                           uint32_t code, void *user)
{
    struct probe *p = probe_of(user);

    (void)s;
    if (stream == STREAM) {
        p->h2->closed = 1;
        p->h2->close_code = code;
    }
    return 0;
}

static int on_error(nghttp2_session *s, int lib_code, const char *msg,
                    size_t len, void *user)
{
    struct probe *p = probe_of(user);

    (void)s;
    (void)lib_code;
    snprintf(p->h2->lib_msg, sizeof(p->h2->lib_msg), "%.*s",
             (int)(len < 200 ? len : 200), msg);
    return 0;
}

/* Send what the session has to say.  Returns 1 when all of it was
 * handed on, 0 when the bottom queued some, or a negative HSCAN_E*. */
static int flush(struct hscan__leg *l)
{
    struct probe *p = l->p;
    int all = 1;

    for (;;) {
        const uint8_t *data;
        h2_ssize n = h2_mem_send(p->h2->s, &data);
        int rc;

        if (n < 0)
            return n == NGHTTP2_ERR_NOMEM ? HSCAN_ERESOURCE_EXHAUSTED
                                          : HSCAN_EH2_PROTOCOL;
        if (n == 0)
            return all;
        rc = l->below->ops->send(l->below, (const char *)data, (size_t)n);
        if (rc < 0)
            return rc;
        if (p->state == PROBE_CLOSING)
            return rc;
        if (rc == 0)
            all = 0;
    }
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
static int submit_request(struct probe *p)
{
    struct hscan__target t;
    nghttp2_nv *nv;
    size_t n = 4, len, i, lines = 0;
    char *req, *line, *end, *sp1, *sp2;
    int rc;

    hscan__p_target(p, &t);
    if (hscan__req_build(p->req, &t, &req, &len) != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    for (i = 0; i < len; i++)
        lines += req[i] == '\n';
    if (!(nv = malloc((4 + lines) * sizeof(*nv)))) {
        free(req);
        return HSCAN_ERESOURCE_EXHAUSTED;
    }
    line = req;
    end = req + len;
    {
        char *eol = memchr(line, '\n', (size_t)(end - line));
        sp1 = memchr(line, ' ', (size_t)(end - line));
        sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
        if (!eol || !sp1 || !sp2 || sp2 > eol) {
            free(nv);
            free(req);
            return HSCAN_EINVAL;
        }
        nv[0] = (nghttp2_nv){ (uint8_t *)":method", (uint8_t *)line, 7,
                              (size_t)(sp1 - line), NGHTTP2_NV_FLAG_NONE };
        nv[1] = (nghttp2_nv){ (uint8_t *)":scheme",
                              (uint8_t *)(p->scheme == HSCAN__HTTPS
                                              ? "https" : "http"),
                              7, p->scheme == HSCAN__HTTPS ? 5 : 4,
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
        nv[2].value = (uint8_t *)p->host;
        nv[2].valuelen = p->host_len;
    }
    rc = h2_submit_request(p->h2->s, NULL, nv, n, NULL, NULL);
    free(nv);
    free(req);
    if (rc < 0)
        return rc == NGHTTP2_ERR_NOMEM ? HSCAN_ERESOURCE_EXHAUSTED
                                       : HSCAN_EH2_PROTOCOL;
    return 0;
}

static int session_new(struct probe *p)
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
    rc = nghttp2_session_client_new2(&p->h2->s, cb, p, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    if (nghttp2_submit_settings(p->h2->s, NGHTTP2_FLAG_NONE, iv,
                                sizeof(iv) / sizeof(iv[0])) != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    return 0;
}

static void h2_close(struct hscan__leg *l)
{
    struct probe *p = l->p;

    if (p->h2) {
        nghttp2_session_del(p->h2->s);
        free(p->h2);
        p->h2 = NULL;
    }
    hscan__resp_free(&p->resp);
}

/* After the session returned: act on what its callbacks recorded. */
static void settle(struct hscan__leg *l)
{
    struct probe *p = l->p;
    struct hscan__h2 *h = p->h2;
    char d[HSCAN__DETAIL_SIZE], c[24];
    int rc;

    if (h->head && !h->handled) {
        h->handled = 1;
        if (!h->err && hscan__p_redirect(p))
            return;
        if (p->resp.body_on && !p->resp.body_done)
            hscan__p_set_state(p, PROBE_BODY);
    }
    if (h->head) {
        /* A failure in the body ends it: the response stands. */
        if (h->err || !p->resp.body_on || p->resp.body_done) {
            if (p->resp.body_on)
                hscan__resp_body_cut(&p->resp, 0);
            hscan__p_finish(p, 0, NULL);
            return;
        }
        if (h->closed) {
            hscan__resp_body_cut(&p->resp, h->close_code == 0);
            hscan__p_finish(p, 0, NULL);
            return;
        }
    } else if (h->err) {
        hscan__p_finish(p, h->err, h->detail);
        return;
    } else if (h->closed) {
        code_str(c, sizeof(c), h->close_code);
        snprintf(d, sizeof(d), "stream closed (%s) before a response", c);
        hscan__p_finish(p, HSCAN_EH2_PROTOCOL, d);
        return;
    }
    rc = flush(l);
    if (p->state == PROBE_CLOSING)
        return;
    if (rc < 0) {
        hscan__p_finish(p, rc, "cannot send HTTP/2 frames");
        return;
    }
    if (!nghttp2_session_want_read(h->s) &&
        !nghttp2_session_want_write(h->s)) {
        /* nghttp2 ended the session: the server broke the protocol. */
        hscan__p_finish(p, HSCAN_EH2_PROTOCOL,
                        h->lib_msg[0] ? h->lib_msg
                                      : "the HTTP/2 session ended");
    }
}

/* The leg below carries bytes: the connection preface, our SETTINGS and
 * the request. */
static void h2_start(struct hscan__leg *l)
{
    struct probe *p = l->p;
    int rc;

    free(p->h2f);
    p->h2f = calloc(1, sizeof(*p->h2f));
    if (!p->h2f || !(p->h2 = calloc(1, sizeof(*p->h2)))) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    p->h2f->v.window_update = -1;
    p->h2f->v.settings = p->h2f->settings;
    rc = session_new(p);
    if (rc == 0)
        rc = submit_request(p);
    if (rc != 0) {
        hscan__p_finish(p, rc, rc == HSCAN_ERESOURCE_EXHAUSTED
                                   ? "out of memory"
                                   : "cannot make the HTTP/2 request");
        return;
    }
    rc = flush(l);
    if (p->state == PROBE_CLOSING)
        return;
    if (rc < 0) {
        char d[HSCAN__DETAIL_SIZE];
        hscan__p_finish(p, rc, hscan__p_why(p, d, sizeof(d)));
    } else if (rc == 1) {
        p->t_sent = uv_hrtime();
        hscan__p_start_read(p);
    } else {
        hscan__p_set_state(p, PROBE_WRITE);
        hscan__p_arm(p, p->env->lim.read_timeout_ms);
    }
}

static void h2_recv(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;
    struct hscan__h2 *h = p->h2;
    h2_ssize rv;

    if (!h)
        return;
    if (!p->t_first)
        p->t_first = uv_hrtime();
    rv = h2_mem_recv(h->s, (const uint8_t *)buf, n);
    if (rv < 0 && !h->err) {
        h->err = rv == NGHTTP2_ERR_NOMEM ? HSCAN_ERESOURCE_EXHAUSTED
                                         : HSCAN_EH2_PROTOCOL;
        snprintf(h->detail, sizeof(h->detail), "%s",
                 h->lib_msg[0] ? h->lib_msg : nghttp2_strerror((int)rv));
    }
    settle(l);
}

/* The stream below ended: a body stops there (truncated unless the
 * stream had ended), otherwise the response never came. */
static void h2_eof(struct hscan__leg *l, int err, const char *detail)
{
    struct probe *p = l->p;
    struct hscan__h2 *h = p->h2;
    char d[HSCAN__DETAIL_SIZE];

    if (h && h->head) {
        if (!hscan__p_body_cut(p))
            hscan__p_finish(p, 0, NULL);
        return;
    }
    if (err) {
        hscan__p_finish(p, err, detail);
        return;
    }
    if (h && h->lib_msg[0]) {
        hscan__p_finish(p, HSCAN_EH2_PROTOCOL, h->lib_msg);
        return;
    }
    snprintf(d, sizeof(d), "connection closed before the HTTP/2 response");
    hscan__p_finish(p, HSCAN_EREAD_CLOSED, d);
}

static int h2_send(struct hscan__leg *l, const char *buf, size_t n)
{
    (void)l; (void)buf; (void)n;
    return HSCAN_EINVAL;
}

const struct hscan__leg_ops hscan__h2_leg = {
    "h2", h2_start, h2_recv, h2_send, h2_eof, h2_close
};


#endif
