/* server-dns-int.h: what server-dns.c (parsing, answers) shares with
 * server-dns-net.c (sockets, TCP, delays, suspend). Private to those two
 * files; the interface is server-dns.h. */
#ifndef HSCAN_TEST_SERVER_DNS_INT_H
#define HSCAN_TEST_SERVER_DNS_INT_H

#include <stddef.h>

#define MAX_LABELS 128
#define REPLY_MAX 65535         /* RFC 1035 4.2.2: the TCP length field */

/* A parsed query: the question is pkt[12 .. qend). */
struct query {
    const unsigned char *pkt;
    size_t qend;
    unsigned qtype;
    int nlabels;
    size_t loff[MAX_LABELS];    /* offset of each label's first byte */
    unsigned char llen[MAX_LABELS];
    unsigned char a[4];         /* the A answer that stands for 127.0.0.1 */
};

enum behaviour {
    B_DEFAULT, B_LOCALHOST, B_NX, B_SERVFAIL, B_REFUSED, B_DROP, B_NODATA,
    B_CNAME, B_MULTI, B_V6, B_BOTH,
    B_TC, B_TCCLOSE, B_BIG, B_HUGE, B_CUT, B_CUT2, B_BADID, B_BADID_ONLY,
    B_WRONGNAME, B_WRONGNAME_ONLY, B_SPOOF, B_PTRLOOP, B_PTRLOOP2, B_EMPTY,
    B_EMPTY_ONLY, B_DEEP, B_CLOOP, B_ZERO, B_META, B_MAPPED, B_ECHO, B_FIVE,
    B_FAKE                      /* internal: the decoy, A 127.0.0.66 */
};

/* Reply under construction, in s->wbuf after the TCP length.  Writes
 * past `cap` are dropped (a builder bug, not a crash). */
struct reply {
    unsigned char *buf;
    size_t len, cap;
    size_t an_off;              /* where the answer section starts */
    unsigned ancount;
};

/* Parse the header and exactly one uncompressed question of
 * pkt[0..len) into `q`, which then points into `pkt`. 0 or -1. */
int tsrv__dns_parse_query(const unsigned char *pkt, size_t len,
                          struct query *q);

/* The behaviour of the question name (its label before `test`). */
enum behaviour tsrv__dns_classify(const struct query *q);

/* Set q->a: 127.B.C.D for a first label `ip-127-B-C-D`, else 127.0.0.1. */
void tsrv__dns_parse_ip_label(struct query *q);

/* Build the reply to `q` for behaviour `b` into buf[0..REPLY_MAX) and
 * describe it in `r`. `tcp`: it goes over TCP (no TC bit; `huge` is
 * whole, the decoy of `tc` is left out). */
void tsrv__dns_build_reply(unsigned char *buf, const struct query *q,
                           enum behaviour b, int tcp, struct reply *r);

#endif
