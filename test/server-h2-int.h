/* server-h2-int.h: the HTTP/2 test server's state, shared by
 * server-h2.c (listener, connections, TLS, writes, the lifetime) and
 * server-h2-proto.c (the nghttp2 session, the behaviours, raw frames,
 * the HTTP/1.1 replies). */
#ifndef HSCAN_SERVER_H2_INT_H
#define HSCAN_SERVER_H2_INT_H

#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "server-h2.h"
#include "server-http.h"

#define H2_RBUF 65536
#define H2_SSL_READ 16384
#define H2_CHUNK 16384      /* flood bytes per write */
#define H2_PATH_MAX 256
#define H2_BACKLOG 1024

enum h2beh {
    B_NORMAL, B_MANY, B_BIGHEAD, B_REDIRECT, B_GOAWAY, B_RST,
    B_SETTINGS_FLOOD, B_PING_FLOOD, B_CONT_FLOOD
};

enum h2state {
    S_HANDSHAKE,            /* TLS handshake */
    S_H2,                   /* nghttp2 session */
    S_H1,                   /* reading an HTTP/1.1 request head */
    S_H1TALK,               /* h2 negotiated: answer HTTP/1.1 at once */
    S_RAW,                  /* writing hand-made frames; input dropped */
    S_DONE                  /* ending; input dropped */
};

struct tsrv_h2 {
    uv_tcp_t listener;
    uv_loop_t *loop;
    SSL_CTX *ctx;           /* NULL in TSRV_H2_CLEAR */
    struct tcert ca, leaf;  /* ca.cert NULL when the caller's CA signed */
    struct h2conn *conns;
    struct tsrv_h2_counts counts;
    int mode, port, stopping, listening, wildcard;
    char big[TSRV_H2_BIG_FIELDS][TSRV_H2_BIG_VALUE];
    char rbuf[H2_RBUF];     /* shared: reads are consumed at once */
};

struct h2conn {
    uv_tcp_t tcp;
    uv_timer_t life;
    uv_shutdown_t shut;
    struct tsrv_h2 *srv;
    struct h2conn *prev, *next;
    SSL *ssl;               /* owns both BIOs; NULL in h2c */
    BIO *rbio, *wbio;
    nghttp2_session *ng;
    struct tsrv_head head;  /* HTTP/1.1 request head */
    char path[H2_PATH_MAX]; /* :path of the header block being read */
    size_t path_len;
    unsigned long raw_sent; /* flood bytes queued */
    int32_t raw_stream;     /* the request's stream (cont-flood) */
    unsigned inflight;      /* uv_writes not yet completed */
    unsigned char beh;      /* the flood's, once raw_stream is set */
    unsigned char state, handles, closing, finishing, end_after;
};

/* server-h2.c */
/* Send plaintext (through TLS unless h2c). 0, or -1 and `c` closes. */
int h2_send(struct h2conn *c, const void *p, size_t n);
/* close_notify (TLS), FIN after the queued writes, then close. */
void h2_finish(struct h2conn *c);
void h2_close(struct h2conn *c);

/* server-h2-proto.c */
/* A server session with its SETTINGS and WINDOW_UPDATE sent. 0 or -1. */
int h2_session_start(struct h2conn *c);
/* Plaintext from the peer, as c->state wants it. */
void h2_input(struct h2conn *c, const char *p, size_t n);
/* The next flood chunk (S_RAW, no write in flight). */
void h2_flood_next(struct h2conn *c);
/* The HTTP/1.1 `normal` reply; then the end if `end`, else input is
 * dropped until the peer closes. */
void h2_reply_h1(struct h2conn *c, int end);
/* The pseudo-random bighead values. */
void h2_fill_big(struct tsrv_h2 *s);

#endif
