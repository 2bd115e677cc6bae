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
 * Hostile behaviours (robustness tests). A name may carry a numeric
 * argument, `NAME-N` (`sans-3000`, `alert-112`); the default is given.
 * Where a certificate is served it is the valid leaf (which covers
 * NAME.test and *.NAME.test for these names too) unless noted; it does
 * not cover `NAME-N.test`, so a test of an argument form scans with
 * `insecure`. The names avoid server-dns.h's labels (`cut`, `big`...),
 * which the same host name also meets:
 *
 *   eof         reads the ClientHello, then sends a FIN
 *   alert[-N]   reads the ClientHello, then sends the raw alert record
 *               15 03 03 00 02 02 N (fatal, default 40 handshake_failure)
 *               and stays open
 *   fakehello   reads the ClientHello, then sends a handshake record
 *               header and a ServerHello header (16 03 03 00 40
 *               02 00 00 3c) followed by 60 pseudo-random bytes; stays
 *               open
 *   shgarbage   the real ServerHello record, then an application-data
 *               record header (17 03 03 00 40) and 64 pseudo-random
 *               bytes instead of the rest of the flight; stays open
 *   shstall     the real ServerHello record, then silence; stays open
 *   sans[-N]    a leaf with SANs sans.test, sans-N.test (and their
 *               wildcards) and N more DNS names (default 10000, at most
 *               100000; 23 bytes each: 10000 make a Certificate message
 *               of about 230 KB), signed by the CA
 *   chain[-N]   a leaf (SANs as sans) under N intermediates (default
 *               50, at most 200) below the CA, sent in order: leaf,
 *               intermediate N, ..., intermediate 1; each carries a
 *               2,000-byte comment (about 2.5 KB each: 50 make ~125 KB)
 *   reneg       TLS 1.2; after the status line of the reply, a
 *               HelloRequest, then the rest of the reply
 *   reneg-wait  TLS 1.2; a HelloRequest after the request, and the reply
 *               only once the client has renegotiated
 *   reneg-loop  TLS 1.2; HelloRequest after the request and again after
 *               each renegotiation; the reply only after 100,000 of them
 *   clientcert[-12]  requires a client certificate (SSL_VERIFY_PEER |
 *               FAIL_IF_NO_PEER_CERT); -12: TLS 1.2 at most
 *   certreq     requests a client certificate but goes on without one
 *   noclose     the whole reply, then a FIN without close_notify
 *   partial[-N] the first N bytes of the reply (default 20), then a FIN
 *               without close_notify
 *   tickets[-N] N extra TLS 1.3 session tickets (default 100) sent
 *               just before the reply, after the two OpenSSL sends
 *               after every handshake
 *   rec1        TLS 1.2; every plaintext handshake record split into
 *               records of one byte each (before ChangeCipherSpec)
 *   seg1        every byte written on its own (TCP_NODELAY, one write
 *               per loop iteration: the next is written from the
 *               previous one's callback)
 *   hrr         TLS 1.3 with only the P-384 group: a client that sends
 *               an x25519 key share first gets a HelloRetryRequest
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

/* The CA that signs the server's certificates (certs.h), for another
 * server to sign its own leaf with (tsrv_h2_start()): one CA file then
 * trusts both. Owned by `s`; valid until tsrv_tls_stop(). */
struct tcert;
const struct tcert *tsrv_tls_ca(const struct tsrv_tls *s);

/* Counters of the hostile behaviours. */
struct tsrv_tls_counts {
    unsigned long handshakes;       /* as tsrv_tls_handshakes() */
    unsigned long renegotiations;   /* completed by a client */
    unsigned long tickets;          /* extra tickets queued (tickets) */
    unsigned long paced_writes;     /* one-byte writes (seg1) */
    unsigned long records_split;    /* one-byte records written (rec1) */
};

void tsrv_tls_counts(const struct tsrv_tls *s, struct tsrv_tls_counts *out);

/* Close the listener and every connection; `s` frees itself (and its
 * certificates) once all close callbacks have run, so it must not be
 * used after this call. Then uv_loop_close() returns 0. */
void tsrv_tls_stop(struct tsrv_tls *s);

/* SHA-256 fingerprints of the certificate served for behaviour `name`
 * ("valid", "alpn-none", "tls12", "expired", "wrongname", "selfsigned",
 * or "ca" for the CA), as in tcerts_fingerprints(): lowercase hex pairs
 * joined by ':' (the hostile behaviours that serve the valid leaf give
 * its prints). 0, or UV_EINVAL for a name that serves no fixed
 * certificate (hang, reset, eof, alert, fakehello, sans, chain, unknown
 * names). */
int tsrv_tls_fingerprints(const struct tsrv_tls *s, const char *name,
                          char sha256[96], char spki_sha256[96]);

#endif
