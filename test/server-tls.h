/* server-tls.h: an HTTPS (TLS 1.2/1.3) test server on a caller's uv loop.
 *
 * OpenSSL runs over memory BIOs: ciphertext moves with uv_read/uv_write
 * on the loop thread; no threads, no globals, no blocking calls. At
 * start the server builds its own PKI in memory (certs.h): a CA and the
 * certificates below. The TLS behaviour comes from the SNI name's
 * behaviour label (the label before a final `.test`: `valid.test`,
 * `x3.valid.test`); no SNI (an IP-literal client) or an unknown label
 * means `valid`:
 *
 *   valid       leaf signed by the CA, valid from yesterday for 90 days,
 *               with DNS SANs NAME.test and *.NAME.test for NAME in
 *               valid, alpn-none, tls12, redir, fast and every behaviour
 *               of server-http.h, plus localhost, 127.0.0.1 and ::1
 *   expired     signed by the CA, SANs expired.test, *.expired.test;
 *               valid from 30 days ago to yesterday
 *   wrongname   signed by the CA, SAN other.example only
 *   selfsigned  self-signed, SANs selfsigned.test, *.selfsigned.test
 *   hang        reads the ClientHello, never answers, stays open until
 *               the peer closes
 *   reset       reads the ClientHello, then sends a TCP RST
 *   alpn-none   the valid certificate, but no ALPN protocol is selected
 *   tls12       the valid certificate, TLS 1.2 at most
 *
 * Every other behaviour selects ALPN "http/1.1" when the client offers
 * it. After the handshake the server reads one request head (16 KiB at
 * most) and answers it like server-http.h does (`/b/NAME`, the Host
 * label, the redirect routes), with `Server: hscan-test-tls`; delay and
 * trickle answer as fast. After a reply it sends close_notify once and
 * a FIN, without waiting for the peer's close_notify.
 */
#ifndef HSCAN_TEST_SERVER_TLS_H
#define HSCAN_TEST_SERVER_TLS_H

#include <uv.h>

struct tsrv_tls;

/* Build the PKI and start listening on `ip`:`port` (TCP, backlog 65535)
 * on `loop`; port 0 picks a free port. If `ca_pem_path` is not NULL the
 * CA certificate is written there as PEM (for a client to trust).
 * With `ip` 0.0.0.0 or :: it closes every accepted connection whose
 * local address is not loopback at once, as tsrv_http_start() does.
 * `*out` stays valid until tsrv_tls_stop()'s close callbacks have run.
 * Loop thread only. Returns 0 or a negative uv error (UV_EIO when
 * OpenSSL or writing the PEM failed); then `*out` is untouched (a
 * handle already initialised is closed and freed once the loop runs). */
int tsrv_tls_start(uv_loop_t *loop, const char *ip, int port,
                   const char *ca_pem_path, struct tsrv_tls **out);

/* The bound TCP port. */
int tsrv_tls_port(const struct tsrv_tls *s);

/* How many TLS handshakes have completed. */
unsigned long tsrv_tls_handshakes(const struct tsrv_tls *s);

/* Close the listener and every connection; `s` frees itself (and its
 * certificates) once all close callbacks have run, so it must not be
 * used after this call. Then uv_loop_close() returns 0. */
void tsrv_tls_stop(struct tsrv_tls *s);

/* SHA-256 fingerprints of the certificate served for behaviour `name`
 * ("valid", "alpn-none", "tls12", "expired", "wrongname", "selfsigned",
 * or "ca" for the CA), as in tcerts_fingerprints(): lowercase hex pairs
 * joined by ':'. 0, or UV_EINVAL for a name that serves no certificate
 * of its own (hang, reset, unknown names). */
int tsrv_tls_fingerprints(const struct tsrv_tls *s, const char *name,
                          char sha256[96], char spki_sha256[96]);

#endif
