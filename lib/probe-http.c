/* The HTTP/1.1 leg (leg.h): the top of every stack today.  It sends the
 * request its probe's description makes (request.h), feeds what comes
 * up to the response parser (http.c), follows redirects through redirect.c, and
 * reads the start of the body when cfg.body_bytes asks. */
#include <stdlib.h>
#include <string.h>

#include "probe.h"

/* Start reading (if not yet) and wait for the response. */
void hscan__p_start_read(struct probe *p)
{
    int rc;

    hscan__p_set_state(p, PROBE_READ);
    p->last_read = uv_now(p->env->loop);
    hscan__p_arm(p, p->env->lim.read_timeout_ms);
    rc = hscan__p_read_start(p);    /* reading since the connect */
    if (rc != 0)
        hscan__p_finish(p, HSCAN_EREAD_RESET, uv_strerror(rc));
}

/* The leg below carries bytes: send the request. */
static void http_start(struct hscan__leg *l)
{
    struct probe *p = l->p;
    struct hscan__target t;
    char *req;
    size_t len;
    int rc;

    hscan__p_target(p, &t);
    if (hscan__req_build(p->req, &t, &req, &len) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    rc = l->below->ops->send(l->below, req, len);
    free(req);
    if (p->state != PROBE_CLOSING)
        hscan__p_request_sent(p, rc);
}

void hscan__p_request_sent(struct probe *p, int rc)
{
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

/* The final header block is in, with `buf[rest..n)` past it. */
static void head_done(struct probe *p, const char *buf, size_t n)
{
    size_t max;
    int keep;

    if (hscan__p_redirect(p))
        return;
    if (!hscan__p_fav_body(p, &max, &keep)) {
        hscan__p_finish(p, 0, NULL);
        return;
    }
    hscan__p_set_state(p, PROBE_BODY);
    p->resp.dec.on = p->req->compressed != 0;  /* body-decode.c */
    hscan__resp_body_start(&p->resp, max, &p->env->scratch->sha256, keep);
    if (hscan__resp_body_feed(&p->resp, buf + p->resp.rest,
                              n - p->resp.rest))
        hscan__p_finish(p, 0, NULL);
}

static void http_recv(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    if (!p->t_first)
        p->t_first = uv_hrtime();
    if (p->state == PROBE_BODY) {
        if (hscan__resp_body_feed(&p->resp, buf, n))
            hscan__p_finish(p, 0, NULL);
        return;
    }
    rc = hscan__resp_feed(&p->resp, buf, n, d, sizeof(d));
    if (rc < 0)
        hscan__p_finish(p, rc, d);
    else if (rc > 0)
        head_done(p, buf, n);
}

/* The body stops coming (timeout, reset, TLS failure): the response
 * stands with what arrived.  Returns 1 when that applied. */
int hscan__p_body_cut(struct probe *p)
{
    if (p->state != PROBE_BODY)
        return 0;
    hscan__resp_body_cut(&p->resp, 0);
    hscan__p_finish(p, 0, NULL);
    return 1;
}

/* A close ends a body read until the close; a reset keeps what arrived
 * of a body; inside the header block both are errors, except a close
 * right after a whole field line (http.c: head_cut_by_close), which
 * ends the head: the response stands, with an empty rest. */
static void http_eof(struct hscan__leg *l, int err, const char *detail)
{
    struct probe *p = l->p;
    char d[HSCAN__DETAIL_SIZE];

    if (err != 0) {
        if (!hscan__p_body_cut(p))
            hscan__p_finish(p, err, detail);
        return;
    }
    err = hscan__resp_eof(&p->resp, d, sizeof(d));
    if (err != 1) {
        hscan__p_finish(p, err, d);
        return;
    }
    head_done(p, "", 0);
    if (p->state == PROBE_BODY) {
        hscan__resp_body_cut(&p->resp, 1);
        hscan__p_finish(p, 0, NULL);
    }
}

/* Nothing above it: bytes from above never come. */
static int http_send(struct hscan__leg *l, const char *buf, size_t n)
{
    (void)l; (void)buf; (void)n;
    return HSCAN_EINVAL;
}

static void http_close(struct hscan__leg *l)
{
    hscan__resp_free(&l->p->resp);
}

const struct hscan__leg_ops hscan__http1_leg = {
    "http/1.1", http_start, http_recv, http_send, http_eof, http_close
};
