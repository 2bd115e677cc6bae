/* The TLS leg of a probe: handshake, certificate facts, the request
 * encrypted, the response decrypted.  The engine itself is tls.c; this
 * file moves its bytes to and from the probe's socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

struct tls_write {
    uv_write_t req;
    struct probe *p;
    char *data;
};

static void on_tls_written(uv_write_t *req, int status)
{
    struct tls_write *w = container_of(req, struct tls_write, req);
    struct probe *p = w->p;

    free(w->data);
    free(w);
    if (status < 0 && status != UV_ECANCELED &&
        (p->state == PROBE_TLS || p->state == PROBE_READ)) {
        char d[HSCAN__DETAIL_SIZE];
        snprintf(d, sizeof(d), "write: %s", uv_strerror(status));
        hscan__p_finish(p, p->state == PROBE_TLS ? HSCAN_ETLS_HANDSHAKE
                                                 : HSCAN_EWRITE_FAILED, d);
    }
}

/* Send whatever OpenSSL produced.  After every SSL call, failed ones
 * included, so alerts reach the peer. */
static int flush(struct probe *p)
{
    struct tls_write *w;
    uv_buf_t b;
    size_t len = 0;
    char *data = hscan__tls_take_out(&p->tls, &len);
    int rc;

    if (!data)
        return len ? HSCAN_ERESOURCE_EXHAUSTED : 0;
    if (!(w = malloc(sizeof(*w)))) {
        free(data);
        return HSCAN_ERESOURCE_EXHAUSTED;
    }
    w->p = p;
    w->data = data;
    b = uv_buf_init(data, (unsigned)len);
    rc = uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_tls_written);
    if (rc != 0) {
        free(data);
        free(w);
        return HSCAN_EWRITE_FAILED;
    }
    hscan__scan_bytes(p->scan, 0, len);
    return 0;
}

static void keep_facts(struct probe *p)
{
    free(p->facts);
    p->facts = hscan__tls_facts(&p->tls);
}

/* A failed HTTPS attempt: keep what the certificate said, then fall back
 * to HTTP when allowed, else finish. */
static void tls_failed(struct probe *p, int err, const char *detail)
{
    keep_facts(p);
    if (!hscan__p_fall_back(p, err, detail))
        hscan__p_finish(p, err, detail);
}

/* Decrypt and parse whatever is buffered.  One SSL_read may leave data
 * behind, so read until OpenSSL wants more.  SSL_read writes too: the
 * ClientHello of a renegotiation the server asked for (TLS 1.2
 * HelloRequest), the answer to a TLS 1.3 KeyUpdate; unsent, a server
 * that waits for them never answers. */
static void drain(struct probe *p)
{
    char d[HSCAN__DETAIL_SIZE];
    size_t size;
    char *out = hscan__scan_pbuf(p->scan, &size);
    int n;

    while (p->state == PROBE_READ &&
           (n = hscan__tls_read(&p->tls, out, size, d, sizeof(d))) != 0) {
        if (n == HSCAN_EREAD_CLOSED) {
            n = hscan__resp_eof(&p->resp, d, sizeof(d));
            hscan__p_finish(p, n, d);
            return;
        }
        if (n < 0) {
            if (!hscan__p_body_cut(p))
                hscan__p_finish(p, n, d);
            return;
        }
        hscan__p_got_bytes(p, out, (size_t)n);
    }
    if (p->state == PROBE_READ && (n = flush(p)) != 0 &&
        !hscan__p_body_cut(p))
        hscan__p_finish(p, n, "cannot send TLS data");
}

static void handshake_done(struct probe *p)
{
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    char d[HSCAN__DETAIL_SIZE];
    int rc;

    p->t_tls = uv_hrtime();
    keep_facts(p);
    /* No facts for a certificate that arrived: memory ran out, and its
     * verification result is gone with them.  A chain check that could
     * not run for lack of memory is no verdict on the certificate. */
    if ((!p->facts && SSL_get0_peer_certificate(p->tls.ssl)) ||
        (p->facts && p->facts->v.verify_code == X509_V_ERR_OUT_OF_MEM)) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED,
                        "out of memory checking the certificate");
        return;
    }
    if (p->facts && !p->facts->v.verified && !lim->insecure) {
        snprintf(d, sizeof(d), "%ld: %s", p->facts->v.verify_code,
                 p->facts->v.verify_error);
        hscan__p_finish(p, HSCAN_ETLS_CERT_INVALID, d);
        return;
    }
    /* HTTPS answered: a later failure is the site's, not a reason to try
     * plain HTTP. */
    p->may_fall_back = 0;
    rc = hscan__p_build_request(p) != 0
             ? HSCAN_ERESOURCE_EXHAUSTED
             : hscan__tls_encrypt(&p->tls, p->req, p->req_len);
    if (rc == 0)
        rc = flush(p);
    if (rc != 0) {
        hscan__p_finish(p, rc, "cannot send the request");
        return;
    }
    p->t_sent = uv_hrtime();
    hscan__p_start_read(p);
    drain(p);
}

static void step_handshake(struct probe *p)
{
    char d[HSCAN__DETAIL_SIZE];
    int rc = hscan__tls_handshake(&p->tls, d, sizeof(d));
    int sent = flush(p);

    if (sent != 0 && rc >= 0) {
        rc = sent == HSCAN_ERESOURCE_EXHAUSTED ? sent : HSCAN_ETLS_HANDSHAKE;
        snprintf(d, sizeof(d), "cannot send handshake data");
    }
    if (rc < 0)
        tls_failed(p, rc, d);
    else if (rc == 1)
        handshake_done(p);
}

void hscan__p_start_tls(struct probe *p)
{
    const struct hscan__limits *lim = hscan__scan_limits(p->scan);
    SSL_CTX *ctx;
    int rc;

    hscan__p_set_state(p, PROBE_TLS);
    p->t_tls0 = uv_hrtime();
    hscan__tls_free(&p->tls);
    ctx = hscan__scan_ssl_ctx(p->scan);
    if (!ctx) {
        hscan__p_finish(p, HSCAN_ETLS_HANDSHAKE,
                        "cannot set up TLS (trust store)");
        return;
    }
    rc = hscan__tls_start(&p->tls, ctx, p->host, p->family);
    if (rc == 0)
        rc = hscan__p_read_start(p);
    if (rc != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED,
                        "cannot start the TLS handshake");
        return;
    }
    hscan__p_arm(p, lim->tls_timeout_ms);
    step_handshake(p);           /* sends the ClientHello */
}

void hscan__p_tls_bytes(struct probe *p, const char *buf, size_t n)
{
    if (hscan__tls_feed(&p->tls, buf, n) != 0) {
        hscan__p_finish(p, HSCAN_ERESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (p->state == PROBE_TLS)
        step_handshake(p);
    else
        drain(p);
}

void hscan__p_tls_eof(struct probe *p, int reset)
{
    char d[HSCAN__DETAIL_SIZE];

    /* Whatever arrived before the close may already say "not TLS". */
    if (hscan__tls_plaintext(&p->tls, d, sizeof(d))) {
        tls_failed(p, HSCAN_ETLS_PLAINTEXT_REPLY, d);
        return;
    }
    tls_failed(p, HSCAN_ETLS_HANDSHAKE,
               reset ? "connection reset during the TLS handshake"
                     : "connection closed during the TLS handshake");
}
