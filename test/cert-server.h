/* cert-server.h: the certificate zoo's server for test-tls-cert.c.
 *
 * Each test builds its certificates with certs.h (then adjusts and
 * re-signs them) and serves them from a forked child: a blocking
 * OpenSSL server on a listener the parent opened on 127.0.0.1 port 0,
 * which forks once more per connection (so handshakes run in parallel,
 * as the scanner's do) and is killed once the scan is over.  Blocking
 * is fine there: those processes have nothing else to do, and the
 * scanner's loop is the parent's.  One server holds several "sites",
 * chosen by the SNI name's label before `.test` (`a.b.wild.test` is
 * site `wild`), each with its own leaf and the certificates sent after
 * it, so one scan covers a whole group.
 *
 * Use: cs_init(), then cs_site()/cs_simple() and cs_sub_ca() per site
 * (adjust a leaf, then site_resign()), cs_start(), cs_scan(), the
 * checks, cs_stop(). Failures stop the test through CHECK.
 */
#ifndef HSCAN_TEST_CERT_SERVER_H
#define HSCAN_TEST_CERT_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/x509.h>

#include "certs.h"
#include "scan-env.h"

#define MAX_SITES 8
#define MAX_SENT 4          /* certificates sent after a leaf */
#define MAX_MORE 6          /* intermediates and strays per server */
#define MAX_LINES 12

struct site {
    const char *label;              /* SNI label before ".test" */
    struct tcert leaf;
    const struct tcert *issuer;     /* signs the leaf again */
    X509 *sent[MAX_SENT];           /* after the leaf, in this order */
    int n_sent;
};

struct cert_server {
    struct tcert ca;
    struct tcert more[MAX_MORE];    /* intermediates and strays */
    int n_more;
    struct site site[MAX_SITES];
    int n_site;
    char ca_path[64];
    int port;
    pid_t pid;
    int tls_chain;                  /* cs_scan() with cfg.tls_chain */
    int client_auth;                /* the server requires a client
                                       certificate the CA signed */
    const char *roots;              /* cs_scan(): trust only this PEM
                                       file (no cfg.ca_file); NULL: the
                                       CA */
    unsigned concurrency;           /* and this one; 0: the default */
};

/* How many times every limit and time bound stretches: 5 under
 * valgrind (HSCAN_UNDER_VALGRIND), else 1. */
unsigned cs_slow(void);

/* A CA, written as PEM for the scanner to trust; sites follow. */
void cs_init(struct cert_server *cs);

/* An intermediate CA `cn` under `issuer` (NULL: the CA). */
struct tcert *cs_sub_ca(struct cert_server *cs, const struct tcert *issuer,
                        const char *cn);

/* Site `label`: a leaf with common name `cn` and DNS SANs `sans`, valid
 * from yesterday for 90 days, signed by `issuer` (NULL: the CA). */
struct site *cs_site(struct cert_server *cs, const char *label,
                     const struct tcert *issuer, const char *cn,
                     const char *const *sans, int n_sans);

/* A site whose one SAN and CN are `label`.test. */
struct site *cs_simple(struct cert_server *cs, const char *label);

/* Send `x` after the site's leaf (in call order). */
void site_send(struct site *s, X509 *x);

/* Sign the (adjusted) leaf again. */
void site_resign(struct site *s);

/* Replace the leaf's subjectAltName by DNS names `names` (lengths
 * `lens`: a name may hold any byte), critical or not; n 0 removes it. */
void site_set_sans(struct site *s, const char *const *names,
                   const size_t *lens, int n, int critical);

/* Listen on 127.0.0.1 port 0 and fork the server. */
void cs_start(struct cert_server *cs);

/* Kill the server, remove the CA file, free the certificates. */
void cs_stop(struct cert_server *cs);

/* Scan https://HOST:PORT/ for each of `hosts` (at most MAX_LINES)
 * against the server, trusting its CA; record i is e->recs[i]. */
void cs_scan(struct env *e, const struct cert_server *cs,
             const char *const *hosts, size_t n, int insecure);
/* cs_scan() with the scanner's cfg.sni `sni` (may be NULL), per-host
 * overrides `opts` (n of them, each may be NULL) given to
 * hscan_submit_ex(), and targets one at a time (so a verdict cached
 * for one is there for the next). */
void cs_scan_opts(struct env *e, const struct cert_server *cs,
                  const char *const *hosts, size_t n,
                  const hscan_target_opts_t *const *opts, const char *sni);

#endif
