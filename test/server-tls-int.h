/* server-tls-int.h: the HTTPS test server's state, shared by
 * server-tls.c (connections, I/O, the hostile acts) and
 * server-tls-pki.c (certificates, behaviours, the SSL_CTX). */
#ifndef HSCAN_SERVER_TLS_INT_H
#define HSCAN_SERVER_TLS_INT_H

#include <openssl/ssl.h>

#include "certs.h"
#include "server-http.h"
#include "server-tls.h"

#define RBUF_SIZE 65536
#define SSL_READ_SIZE 4096
#define MAX_SANS 100000
#define MAX_CHAIN 200
#define INT_BULK 2000       /* comment bytes in each chain intermediate */
#define N_GEN 4             /* generated certificates kept */
#define MAX_RENEG 100000
#define GARBAGE_LEN 64
/* The kernel caps it at net.core.somaxconn; a benchmark opening 20,000
 * connections in a burst raises that, and then needs the room. */
#define BACKLOG 65535
#define SERVER_NAME "hscan-test-tls"

enum cert_id { C_VALID, C_EXPIRED, C_WRONGNAME, C_SELFSIGNED, C_COUNT };

enum tbeh {
    T_VALID, T_EXPIRED, T_WRONGNAME, T_SELFSIGNED, T_HANG, T_RESET,
    T_ALPN_NONE, T_TLS12, T_EOF, T_ALERT, T_FAKEHELLO, T_SHGARBAGE, T_SHSTALL,
    T_SANS, T_CHAIN, T_RENEG, T_RENEG_WAIT, T_RENEG_LOOP, T_CLIENTCERT,
    T_CERTREQ, T_NOCLOSE, T_PARTIAL, T_TICKETS, T_REC1, T_SEG1,
    T_HRR
};

#define F_HOLD 1            /* paused at the ClientHello: hold() acts */
#define F_TLS12 2           /* TLS 1.2 at most */

enum state {
    S_HANDSHAKE,            /* feeding the handshake */
    S_HELD,                 /* hang: paused at the ClientHello */
    S_REQUEST,              /* reading the request head */
    S_RENEG,                /* reneg-wait, reneg-loop: renegotiating */
    S_DONE                  /* answered; input is ignored */
};

/* A generated certificate (sans, chain), kept for the next connection
 * that asks for the same behaviour and N. */
struct gen_cert {
    struct tcert leaf;
    struct tcert *ints;     /* chain: intermediates 1..n, 1 under the CA */
    STACK_OF(X509) *chain;  /* what is sent after the leaf */
    unsigned n;
    int beh;                /* T_SANS, T_CHAIN; 0: empty slot */
};

struct tsrv_tls {
    uv_tcp_t listener;
    uv_loop_t *loop;
    SSL_CTX *ctx;
    struct tcert ca, certs[C_COUNT];
    struct gen_cert gen[N_GEN];
    unsigned gen_next;      /* the slot to reuse next */
    struct tconn *conns;    /* every connection not yet freed */
    struct tsrv_tls_counts counts;
    int port;
    int stopping;
    int listening;          /* listener close callback not yet run */
    int wildcard;           /* bound to 0.0.0.0 or ::: loopback only */
    char rbuf[RBUF_SIZE];   /* shared: reads are consumed at once */
};

struct tconn {
    uv_tcp_t tcp;
    uv_shutdown_t shut;
    struct tsrv_tls *srv;
    struct tconn *prev, *next;
    SSL *ssl;               /* owns both BIOs */
    BIO *rbio, *wbio;
    struct tsrv_head head;
    unsigned arg;           /* NAME-N, or the behaviour's default */
    unsigned long renegs;   /* completed on this connection */
    char *reply;            /* held until a renegotiation completes */
    size_t reply_len;
    int reply_act;
    /* seg1: bytes not yet written, one per write */
    char *pq;
    size_t pq_len, pq_off;
    uv_write_t pw;
    char pbyte;
    unsigned char pq_busy, fin_wanted, ccs_seen;
    unsigned char beh, state, closing, finishing, open_ended;
};

struct wreq {
    uv_write_t req;
    char data[];
};

/* server-tls-pki.c */
/* Certificates, the CA PEM (when ca_pem_path) and the SSL_CTX; 0 or
 * UV_EIO. */
int tls_make_pki(struct tsrv_tls *s, const char *ca_pem_path);
void tls_free_pki(struct tsrv_tls *s);

#endif
