/* The TLS leg (leg.h): handshake, certificate facts, the bytes from
 * above encrypted, the bytes from below decrypted and passed up.  The
 * engine itself is tls.c, OpenSSL over memory BIOs; this file moves its
 * bytes between the legs around it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

/* Send whatever OpenSSL produced.  After every SSL call, failed ones
 * included, so alerts reach the peer.  Returns 0 or a negative
 * HSCAN_E*. */
static int flush(struct hscan__leg *l)
{
    struct probe *p = l->p;
    size_t len = 0;
    char *data = hscan__tls_take_out(p->tls, &len);
    int rc;

    if (!data)
        return len ? HSCAN_ERESOURCE_EXHAUSTED : 0;
    rc = l->below->ops->send(l->below, data, len);
    free(data);
    return rc < 0 ? rc : 0;
}

static void keep_facts(struct probe *p)
{
    free(p->facts);
    p->facts = hscan__tls_facts(p->tls);
}

/* A failed HTTPS attempt: keep what the certificate said, then fall back
 * to HTTP when allowed, else finish. */
static void tls_failed(struct probe *p, int err, const char *detail)
{
    keep_facts(p);
    /* Offered h2 alone, a server that speaks none of what we offer may
     * say so with no_application_protocol (RFC 7301 3.2), as nginx does:
     * that is the server not picking h2. */
    if (err == HSCAN_ETLS_ALERT && p->facts && p->facts->v.alert_code == 120 &&
        p->req->http_version == HSCAN_HTTP_2) {
        err = HSCAN_EH2_NOT_NEGOTIATED;
        detail = "the server refused our only protocol, h2 "
                 "(no_application_protocol alert)";
    }
    if (!hscan__p_fall_back(p, err, detail))
        hscan__p_finish(p, err, detail);
}

/* Decrypt and pass up whatever is buffered.  One SSL_read may leave
 * data behind, so read until OpenSSL wants more.  SSL_read writes too:
 * the ClientHello of a renegotiation the server asked for (TLS 1.2
 * HelloRequest), the answer to a TLS 1.3 KeyUpdate; unsent, a server
 * that waits for them never answers. */
static void drain(struct hscan__leg *l)
{
    struct probe *p = l->p;
    struct hscan__leg *up = l->above;
    char d[HSCAN__DETAIL_SIZE];
    int n;

    while (hscan__p_reading(p) &&
           (n = hscan__tls_read(p->tls, p->env->pbuf, p->env->pbuf_size,
                                d, sizeof(d))) != 0) {
        if (n == HSCAN_EREAD_CLOSED) {      /* close_notify */
            up->ops->eof(up, 0, NULL);
            return;
        }
        if (n < 0) {
            if (n == HSCAN_ETLS_ALERT && p->facts)
                hscan__tls_facts_alert(p->facts, p->tls);
            up->ops->eof(up, n, d);
            return;
        }
        up->ops->recv(up, p->env->pbuf, (size_t)n);
    }
    if (hscan__p_reading(p) && (n = flush(l)) != 0 &&
        !hscan__p_body_cut(p))
        hscan__p_finish(p, n, "cannot send TLS data");
}

/* The leg above is what the server picked in ALPN: HTTP/2 for "h2",
 * else HTTP/1.1 (also with no choice: the protocol of every https://
 * server).  Returns -1 when the probe finished: h2 alone was offered
 * and not picked. */
static int pick_http(struct hscan__leg *l)
{
    struct probe *p = l->p;
    const unsigned char *a = NULL;
    unsigned alen = 0;
    char d[HSCAN__DETAIL_SIZE];

    SSL_get0_alpn_selected(p->tls->ssl, &a, &alen);
#ifdef HSCAN_HAVE_NGHTTP2
    if (alen == 2 && memcmp(a, "h2", 2) == 0) {
        l->above->ops = &hscan__h2_leg;
        return 0;
    }
#endif
    if (p->req->http_version == HSCAN_HTTP_2) {
        snprintf(d, sizeof(d), "the server picked %s%.*s%s",
                 alen ? "\"" : "no protocol", (int)alen,
                 alen ? (const char *)a : "", alen ? "\"" : "");
        hscan__p_finish(p, HSCAN_EH2_NOT_NEGOTIATED, d);
        return -1;
    }
    return 0;
}

/* A verified (or, --insecure, any) certificate: the leg above starts. */
static void handshake_done(struct hscan__leg *l)
{
    struct probe *p = l->p;
    char d[HSCAN__DETAIL_SIZE];

    p->t_tls = uv_hrtime();
    keep_facts(p);
    /* No facts for a certificate that arrived: memory ran out, and its
     * verification result is gone with them.  A chain check that could
     * not run for lack of memory is no verdict on the certificate. */
    if ((!p->facts && SSL_get0_peer_certificate(p->tls->ssl)) ||
        (p->facts && p->facts->v.verify_code == X509_V_ERR_OUT_OF_MEM)) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED,
                        "out of memory checking the certificate");
        return;
    }
    /* (No certificate at all, an anonymous suite, which the default
     * cipher list leaves out, has nothing to verify.) */
    if (p->facts && p->facts->v.subject && !p->facts->v.verified &&
        !p->env->lim.insecure && !p->req->insecure) {
        snprintf(d, sizeof(d), "%ld: %s", p->facts->v.verify_code,
                 p->facts->v.verify_error);
        hscan__p_finish(p, HSCAN_ETLS_CERT_INVALID, d);
        return;
    }
    /* HTTPS answered: a later failure is the site's, not a reason to try
     * plain HTTP. */
    p->may_fall_back = 0;
    if (pick_http(l) != 0)
        return;
    l->above->ops->start(l->above);
    if (hscan__p_reading(p))
        drain(l);
}

static void step_handshake(struct hscan__leg *l)
{
    struct probe *p = l->p;
    char d[HSCAN__DETAIL_SIZE];
    int rc = hscan__tls_handshake(p->tls, d, sizeof(d));
    int sent = flush(l);

    if (sent != 0 && rc >= 0) {
        rc = sent == HSCAN_ERESOURCE_EXHAUSTED ? sent : HSCAN_ETLS_HANDSHAKE;
        snprintf(d, sizeof(d), "cannot send handshake data");
    }
    if (rc < 0)
        tls_failed(p, rc, d);
    else if (rc == 1)
        handshake_done(l);
}

static void tls_close(struct hscan__leg *l)
{
    if (l->p->tls) {
        hscan__tls_free(l->p->tls);
        free(l->p->tls);
        l->p->tls = NULL;
    }
}

/* The socket connected: send the ClientHello. */
static void tls_start(struct hscan__leg *l)
{
    struct probe *p = l->p;
    SSL_CTX *ctx;
    int rc;

    hscan__p_set_state(p, PROBE_TLS);
    p->t_tls0 = uv_hrtime();
    tls_close(l);
    ctx = p->req->ssl_ctx ? p->req->ssl_ctx : p->env->tls_ctx(p->env->arg);
    if (!ctx) {
        hscan__p_finish(p, HSCAN_ETLS_HANDSHAKE,
                        "cannot set up TLS (trust store)");
        return;
    }
    /* Only HTTPS hops carry the engine's state. */
    if (!(p->tls = calloc(1, sizeof(*p->tls))))
        rc = HSCAN_ERESOURCE_EXHAUSTED;
    else
        rc = hscan__tls_start(p->tls, ctx, p->host, p->family,
                              p->req->http_version, p->req->sni,
                              p->req->no_sni);
    if (rc == 0)
        p->tls->want_chain = p->env->lim.tls_chain;
    if (rc == 0)
        rc = hscan__p_read_start(p);
    if (rc != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED,
                        "cannot start the TLS handshake");
        return;
    }
    hscan__p_arm(p, p->env->lim.tls_timeout_ms);
    step_handshake(l);
}

static void tls_recv(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;

    if (hscan__tls_feed(p->tls, buf, n) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (p->state == PROBE_TLS)
        step_handshake(l);
    else
        drain(l);
}

/* Plain text from above, encrypted and sent down. */
static int tls_send(struct hscan__leg *l, const char *buf, size_t n)
{
    struct probe *p = l->p;
    size_t len = 0;
    char *data;
    int rc = hscan__tls_encrypt(p->tls, buf, n);

    if (rc == 0) {
        rc = 1;                 /* nothing to send is all sent */
        if ((data = hscan__tls_take_out(p->tls, &len)) != NULL) {
            rc = l->below->ops->send(l->below, data, len);
            free(data);
        } else if (len) {
            rc = HSCAN_ERESOURCE_EXHAUSTED;
        }
    }
    if (rc < 0)
        hscan__p_set_why(p, WHY_SEND_TLS, 0, rc);
    return rc;
}

/* During the handshake the end is the handshake's failure; after it,
 * the end of the stream for the leg above. */
static void tls_eof(struct hscan__leg *l, int err, const char *detail)
{
    struct probe *p = l->p;
    char d[HSCAN__DETAIL_SIZE];

    if (p->state != PROBE_TLS) {
        l->above->ops->eof(l->above, err, detail);
        return;
    }
    /* Whatever arrived before the close may already say "not TLS". */
    if (hscan__tls_plaintext(p->tls, d, sizeof(d))) {
        tls_failed(p, HSCAN_ETLS_PLAINTEXT_REPLY, d);
        return;
    }
    tls_failed(p, HSCAN_ETLS_HANDSHAKE,
               err ? "connection reset during the TLS handshake"
                   : "connection closed during the TLS handshake");
}


const struct hscan__leg_ops hscan__tls_leg = {
    "tls", tls_start, tls_recv, tls_send, tls_eof, tls_close
};
