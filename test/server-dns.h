/* server-dns.h: a UDP DNS test server on a caller's uv loop.
 *
 * Answers one-question queries for names under `.test` according to the
 * "behaviour label", the label just before the final `test` label
 * (`fast.test` and `x17.fast.test` both have label `fast`):
 *
 *   nx        NXDOMAIN              servfail  SERVFAIL
 *   refused   REFUSED               drop      never answers
 *   nodata    NOERROR, no answers   v6        AAAA ::1 only
 *   both      A 127.0.0.1 and AAAA ::1
 *   multi     A 127.0.0.3 then A 127.0.0.1
 *   cname     QNAME -> hop1.cnamed.test -> hop2.fast.test (A 127.0.0.1)
 *   other     A 127.0.0.1, no AAAA
 *
 * `localhost` gets A 127.0.0.1; every other name gets NXDOMAIN.
 *
 * A first label `ip-127-B-C-D` (decimal octets 0..255, no leading zeros)
 * turns each A 127.0.0.1 answer for the question name into A 127.B.C.D:
 * `ip-127-1-0-17.fast.test` gets A 127.1.0.17, `ip-127-9-3-200.multi.test`
 * A 127.0.0.3 then A 127.9.3.200. The behaviour label still decides
 * everything else (`ip-127-1-0-17.nx.test` is NXDOMAIN), and the cname
 * chain's hop2.fast.test stays 127.0.0.1. Any other `ip-...` label
 * (first octet not 127, a bad octet, extra text) is an ordinary label.
 * With a server on 0.0.0.0 (hscan-testd --any-loopback) this gives each
 * target its own address, so a scanner's connections spread over many
 * destination addresses as on the internet.
 * Everything runs on the loop thread; no threads, no globals.
 */
#ifndef HSCAN_TEST_SERVER_DNS_H
#define HSCAN_TEST_SERVER_DNS_H

#include <uv.h>

struct tsrv_dns;

/* Start a server bound to `ip`:`port` (UDP) on `loop`; port 0 picks a
 * free port. `*out` stays valid until tsrv_dns_stop()'s close callback
 * has run. Loop thread only.
 * Returns 0 or a negative uv error; then `*out` is untouched (a handle
 * that was already initialised is closed and freed once the loop runs). */
int tsrv_dns_start(uv_loop_t *loop, const char *ip, int port,
                   struct tsrv_dns **out);

/* The bound UDP port. */
int tsrv_dns_port(const struct tsrv_dns *s);

/* How many datagrams the server has received (well-formed or not). */
unsigned long tsrv_dns_queries(const struct tsrv_dns *s);

/* Close the socket; `s` frees itself in the close callback, so it must
 * not be used after this call. Once the loop has run the close
 * callbacks, uv_loop_close() returns 0. */
void tsrv_dns_stop(struct tsrv_dns *s);

#endif
