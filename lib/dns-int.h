/* The resolver's state, shared by dns.c (lookups, cache, pacing) and
 * dns-io.c (c-ares sockets and timers on the uv loop).  Private to the
 * dns*.c files. */
#ifndef HSCAN_DNS_INT_H
#define HSCAN_DNS_INT_H

#include <ares.h>

#include "dns.h"
#include "hscan.h"
#include "queue.h"
#include "util.h"

struct dns_sock {
    uv_poll_t poll;
    ares_socket_t fd;
    struct hscan__queue node;   /* on d->socks, or d->spare until watched */
    struct hscan__dns *d;
};

struct hscan__dns {
    uv_loop_t *loop;
    ares_channel channel;
    uv_timer_t timer;
    uv_timer_t pace;            /* --dns-rate: next token due */
    uv_idle_t kick;             /* next loop turn: send `wait`, tell
                                   `ready` (dns.c, on_kick) */
    struct hscan__queue socks;  /* struct dns_sock, watched */
    struct hscan__queue spare;  /* opened by sock_open, not yet watched */
    unsigned handles;           /* open uv handles: timers, kick, polls */
    int closing;
    int sock_errno;             /* last local failure to open a socket */
    unsigned nservers;
    struct hscan__queue wait;   /* struct lookup not yet sent, FIFO */
    struct hscan__queue ready;  /* struct hscan__dnsq answered, not told */
    struct hscan__queue spare_q; /* struct hscan__dnsq freed, for reuse */
    unsigned inflight;          /* lookups sent, not yet answered */
    int draining;
    double rate, burst, tokens; /* queries per second; 0: no cap */
    uint64_t t_tokens;
    struct lookup **table;      /* hash buckets, a power of two */
    size_t nbuckets, nentries;
    struct hscan__queue lru;    /* cached struct lookup, newest first */
    unsigned ncached, cache_max;
    struct hscan__dns_stats st;
    void (*done)(void *);
    void *done_arg;
};

/* dns-io.c: create the c-ares channel of `opt` hooked to `loop` and
 * initialise every handle of `d` (0, or an HSCAN_E* code with `detail`
 * written and nothing left to undo); re-arm its timeout; close every
 * handle, freeing `d` and calling d->done once the last one is closed. */
int hscan__dnsio_open(struct hscan__dns *d, uv_loop_t *loop,
                      const struct hscan__dns_opts *opt,
                      char *detail, size_t dsize);
void hscan__dnsio_arm(struct hscan__dns *d);
void hscan__dnsio_close(struct hscan__dns *d);

/* dns-walk.c: the error of a lookup that found no address, from the
 * ARES_* status of its A and AAAA queries (-1: not sent), its detail
 * in `*fixed` when it is a static text (the usual case: nothing to
 * allocate, so nothing to lose), else written to `detail` with
 * `*fixed` NULL.  A resolver that could not be reached because
 * opening a socket failed with `sock_errno` (the last such errno, 0 if
 * none) for want of descriptors, buffers or memory is our shortage:
 * resource_exhausted. */
int hscan__dns_failure(int status_a, int status_aaaa, int sock_errno,
                       const char **fixed, char *detail, size_t dsize);

#endif
