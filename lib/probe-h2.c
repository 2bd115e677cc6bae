/* The HTTP/2 leg (leg.h): the top of the stack when the server picked
 * h2 in ALPN (or --h2c, prior knowledge, on plain TCP).  One client
 * session (h2.c, nghttp2) per connection, fed the bytes the leg below
 * hands up;
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

/* Send what the session has to say, gathered: nghttp2 gives one frame
 * at a time, and each send below is a TLS record and a write.  Returns
 * 1 when all of it was handed on, 0 when the bottom queued some, or a
 * negative HSCAN_E*. */
static int flush(struct hscan__leg *l)
{
    struct probe *p = l->p;
    char buf[4096];
    size_t used = 0;
    int all = 1, rc;

    for (;;) {
        const uint8_t *data;
        long n = hscan__h2_out(p->h2, &data);

        if (n < 0)
            return (int)n;
        if (n == 0 || used + (size_t)n > sizeof(buf)) {
            if (used) {
                rc = l->below->ops->send(l->below, buf, used);
                if (rc < 0 || p->state == PROBE_CLOSING)
                    return rc;
                all &= rc;
                used = 0;
            }
            if (n == 0)
                return all;
        }
        if ((size_t)n > sizeof(buf)) {      /* a big frame: alone */
            rc = l->below->ops->send(l->below, (const char *)data,
                                     (size_t)n);
            if (rc < 0 || p->state == PROBE_CLOSING)
                return rc;
            all &= rc;
            continue;
        }
        memcpy(buf + used, data, (size_t)n);
        used += (size_t)n;
    }
}

/* The request the HTTP/1.1 leg would send, as an HTTP/2 stream: one
 * description of what to send (request.h). */
static int submit_request(struct probe *p)
{
    struct hscan__target t;
    char *req;
    size_t len;
    int rc;

    hscan__p_target(p, &t);
    if (hscan__req_build(p->req, &t, &req, &len) != 0)
        return HSCAN_ERESOURCE_EXHAUSTED;
    /* the built request ends with the body: the head is before it */
    rc = hscan__h2_request(p->h2, req, len - p->req->body_len,
                           p->scheme == HSCAN__HTTPS, p->host, p->host_len,
                           p->req->body, p->req->body_len);
    free(req);
    return rc;
}

static void h2_close(struct hscan__leg *l)
{
    struct probe *p = l->p;

    if (p->h2) {
        hscan__h2_free(p->h2);
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
        hscan__h2_code_str(c, sizeof(c), h->close_code);
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
    if (hscan__h2_over(h)) {
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
    p->h2->resp = &p->resp;
    p->h2->facts = p->h2f;
    if (hscan__p_fav_body(p, &p->h2->body_bytes, &p->h2->body_keep)) {
        p->h2->md = &p->env->scratch->sha256;
        p->resp.dec.on = p->req->compressed != 0;  /* body-decode.c */
    } else {
        p->h2->body_bytes = 0;
    }
    rc = hscan__h2_new(p->h2);
    if (rc == 0)
        rc = submit_request(p);
    if (rc != 0) {
        hscan__p_finish(p, rc, rc == HSCAN_ERESOURCE_EXHAUSTED
                                   ? "out of memory"
                                   : "cannot make the HTTP/2 request");
        return;
    }
    rc = flush(l);
    if (p->state != PROBE_CLOSING)
        hscan__p_request_sent(p, rc);
}

static void h2_recv(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;

    if (!p->h2)
        return;
    if (!p->t_first)
        p->t_first = uv_hrtime();
    hscan__h2_recv(p->h2, buf, n);
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
    /* A GOAWAY that still took our stream, then the close: the server
     * went away before answering. */
    if (p->h2f && p->h2f->v.goaway) {
        char c[24];
        hscan__h2_code_str(c, sizeof(c), p->h2f->v.goaway_code);
        snprintf(d, sizeof(d), "GOAWAY %s, last stream %lu, then the "
                 "close, before the response", c,
                 p->h2f->v.goaway_last_stream);
        hscan__p_finish(p, HSCAN_EH2_GOAWAY, d);
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
