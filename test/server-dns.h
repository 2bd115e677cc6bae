/* server-dns.h: a DNS test server (UDP, and TCP on the same port) on a
 * caller's uv loop.
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
 * Hostile resolvers (A answers; AAAA queries get no records unless
 * said).  "Decoy" below is a reply carrying A 127.0.0.66, so a record
 * that shows that address took a reply it should have ignored:
 *
 *   tc        UDP: TC=1 with the decoy; TCP: A 127.0.0.1
 *   tcclose   UDP: TC=1 with the decoy; TCP: closes without answering
 *   big       1,000 A records (127.0.0.1, then 127.1.0.1 ...) in one
 *             16 KB datagram without TC, and the same over TCP
 *   huge      UDP: TC=1, no records; TCP: a 65,535-byte reply, A
 *             127.0.0.1 then ~4,090 A 127.2.x.y and a filler record
 *   cut       A 127.0.0.1, the datagram cut inside that record, no TC
 *   cut2      A 127.0.0.1 and A 127.0.0.2, cut inside the second
 *   badid     the decoy with a wrong query ID, then the right reply
 *   badid-only      the decoy with a wrong query ID only
 *   wrongname the decoy for another question name, then the right reply
 *   wrongname-only  the decoy for another question name only
 *   spoof     the decoy from another UDP port, then the right reply
 *   ptrloop   one A record whose owner is a pointer to itself
 *   ptrloop2  one A record whose owner is label "a" then a pointer back
 *             to that label (a.a.a.a...)
 *   empty     a 0-byte datagram, then the right reply
 *   empty-only      a 0-byte datagram only
 *   deep      QNAME -> h1.test -> ... -> h20.test, A 127.0.0.1 (names
 *             compressed: the reply fits 512 bytes)
 *   cloop     QNAME -> l1.test -> QNAME, ten times over (20 CNAMEs), no
 *             address
 *   zero      A 0.0.0.0           meta   A 169.254.169.254
 *   mapped    AAAA ::ffff:127.0.0.1 only
 *   five      A 127.0.0.1, 127.0.0.2, 127.0.0.3; AAAA ::1,
 *             ::ffff:127.0.0.2 (IPv4-mapped: a dual-stack socket
 *             reaches it), for --all-ips
 *   echo      the query sent back as it came (QR=0, no answers), as a
 *             UDP socket connected to itself would
 *
 * Over TCP every label answers as over UDP without the hostile part
 * (except `tcclose` and `huge`, above).
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

/* Start a server bound to `ip`:`port` (UDP and TCP) on `loop`; port 0
 * picks a port free for both. `*out` stays valid until tsrv_dns_stop()'s
 * close callbacks have run. Loop thread only.
 * Returns 0 or a negative uv error; then `*out` is untouched (a handle
 * that was already initialised is closed and freed once the loop runs). */
int tsrv_dns_start(uv_loop_t *loop, const char *ip, int port,
                   struct tsrv_dns **out);

/* The bound UDP port. */
int tsrv_dns_port(const struct tsrv_dns *s);

/* How many datagrams the server has received (well-formed or not). */
unsigned long tsrv_dns_queries(const struct tsrv_dns *s);

/* How many TCP queries the server has received. */
unsigned long tsrv_dns_tcp_queries(const struct tsrv_dns *s);

/* Hold every UDP reply back `ms` milliseconds (0: send at once), as a
 * slow resolver would.  Replies held back when the server stops are
 * dropped. */
void tsrv_dns_set_delay(struct tsrv_dns *s, unsigned ms);

/* While `on`, count queries but answer none (a resolver gone silent). */
void tsrv_dns_set_silent(struct tsrv_dns *s, int on);

/* Close the sockets (queries to the port are then refused by the
 * kernel) until tsrv_dns_resume() opens them again on the same port.
 * Returns 0, UV_EBUSY while the close callbacks have not run yet, or a
 * uv error (the port was taken meanwhile). */
void tsrv_dns_suspend(struct tsrv_dns *s);
int tsrv_dns_resume(struct tsrv_dns *s);

/* Close the sockets and drop held-back replies; `s` frees itself in the
 * close callbacks, so it must not be used after this call. Once the loop
 * has run the close callbacks, uv_loop_close() returns 0. */
void tsrv_dns_stop(struct tsrv_dns *s);

#endif
