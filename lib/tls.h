/* tls.c: OpenSSL over memory BIOs; vcache.c: verification reuse. */
#ifndef HSCAN_TLS_H
#define HSCAN_TLS_H

#include <stddef.h>
#include <time.h>
#include <openssl/ssl.h>
#include "hscan.h"
#include "tls-hello.h"

struct hscan__tls {
    SSL *ssl;               /* owns both BIOs */
    BIO *rbio, *wbio;
    int done;               /* handshake complete */
    unsigned char peek[64]; /* first bytes received, to spot plain text */
    size_t peek_len;
    int alert;              /* description of the fatal alert received,
                               -1 when none */
    /* ---- handshake parameters (tls-hello.c) ---- */
    struct hscan__hello hello;  /* the last ServerHello that parsed */
    unsigned char have_hello;   /* hello holds one */
    unsigned char hello_retry;  /* a HelloRetryRequest came */
    unsigned char ticket;       /* a NewSessionTicket came */
    int want_chain;         /* cfg.tls_chain: facts of every certificate */
    /* ---- stapled OCSP and SCTs (tls-ocsp.c) ---- */
    unsigned char *sct_ext; /* the server's signed_certificate_timestamp
                               extension (malloc'd), or NULL */
    size_t sct_ext_len;
};

struct hscan__tls_facts {
    hscan_tls_t v;          /* pointers into this same allocation */
    char alpn[32];
    char alert[24];         /* "unassigned_255" */
    /* ---- handshake parameters (tls-hello.c) ---- */
    unsigned short ext[HSCAN__HELLO_MAX_EXT];
    char ja3s[33], ja4s[26];
    char sigalg[48];        /* "RSA+MD5-SHA1": a pair with no name */
};

/* Empty the thread's OpenSSL error queue; 1 when an entry in it said
 * memory ran out (then the failure is local: resource_exhausted or
 * HSCAN_ENOMEM, never the peer's). */
int hscan__tls_errors_oom(void);
/* ---- client TLS options (cfg.tls_min ... cfg.key_file) ----
 * What a scanner's SSL_CTX is made with; strings borrowed from the
 * config, used only while the context is made. */
struct hscan__tls_opts {
    const char *ca_file;
    int tls_min, tls_max;           /* enum hscan_tls_version */
    const char *ciphers, *ciphersuites, *curves, *cert_file, *key_file;
};
/* The options of `cfg` in `o`; 1 when any beyond ca_file is set. */
int hscan__tls_opts_of(struct hscan__tls_opts *o, const hscan_config_t *cfg);
/* Apply `o` (all but ca_file) to `ctx`: 0, or HSCAN_EINVAL with the
 * config member at fault in `*field` and why in `detail`, or
 * HSCAN_ENOMEM.  hscan_config_check() runs it on a scratch context. */
int hscan__tls_ctx_opts(SSL_CTX *ctx, const struct hscan__tls_opts *o,
                        const char **field, char *detail, size_t dsize);
/* A client context with `o` (NULL: none), its trust store and
 * verification cache.  0, HSCAN_EINVAL, HSCAN_ENOMEM or HSCAN_EINIT
 * with `detail`. */
int hscan__tls_ctx_new(SSL_CTX **out, const struct hscan__tls_opts *o,
                       char *detail, size_t dsize);
void hscan__tls_ctx_free(SSL_CTX *ctx);
/* ---- contexts of targets' own TLS options (tls-ctxs.c) ----
 * The scanner's options (strings owned) and one context per distinct
 * merged set a target asked for, kept for the scanner's life. */
#define HSCAN__TLS_CTXS_MAX 64
struct hscan__tls_ctxs {
    struct hscan__tls_opts base;
    struct ctx_entry *e;            /* HSCAN__TLS_CTXS_MAX slots */
    size_t n;
};
/* Copy the scanner's options `base`: 0 or HSCAN_ENOMEM. */
int hscan__tls_ctxs_init(struct hscan__tls_ctxs *c,
                         const struct hscan__tls_opts *base);
/* 1 when `t` sets an option that needs a context of its own. */
int hscan__tls_target_set(const hscan_target_opts_t *t);
/* `t`'s options over `base` into `o` (strings borrowed): a target's
 * cert_file comes with its own key_file (or none), never base's. */
void hscan__tls_merge(struct hscan__tls_opts *o,
                      const struct hscan__tls_opts *base,
                      const hscan_target_opts_t *t);
/* The context for target options `t`: `*out` NULL when `t` needs none
 * (the scanner's serves), else a context of `c` (made on first use).
 * 0, HSCAN_EINVAL (options OpenSSL refuses, too many sets) or
 * HSCAN_ENOMEM, with `detail`. */
int hscan__tls_ctxs_get(struct hscan__tls_ctxs *c,
                        const hscan_target_opts_t *t, SSL_CTX **out,
                        char *detail, size_t dsize);
void hscan__tls_ctxs_free(struct hscan__tls_ctxs *c);
/* config.c: hscan_target_opts_check() without what OpenSSL must say
 * (lists, files: hscan__tls_ctxs_get() says it), for hscan_submit_ex.
 * 0 or HSCAN_EINVAL. */
int hscan__target_opts_check_shallow(const hscan_target_opts_t *opts);
/* trust.c: a new reference to the trust store in `*out`: the system's
 * roots, loaded once per process and shared, or with `ca_file` a store
 * of their certificates and the file's.  Any thread.  Returns 0,
 * HSCAN_EINVAL (a file that does not load) or HSCAN_ENOMEM, with
 * `detail`. */
int hscan__trust_store(X509_STORE **out, const char *ca_file, char *detail,
                       size_t dsize);
/* For the tests: how often this process read the system roots; the
 * cached store (no reference taken) or NULL; drop the cache now
 * (scanners keep their references), so that the next scanner loads. */
unsigned long hscan__trust_loads(void);
X509_STORE *hscan__trust_cached(void);
void hscan__trust_flush(void);
/* vcache.c: reuse chain verifications within one SSL_CTX (app data). */
int hscan__vcache_install(SSL_CTX *ctx);
void hscan__vcache_free(SSL_CTX *ctx);
/* Prepare a client for `host` (SNI and host check for names, IP check
 * for literals: family 4/6), offering in ALPN what `http_version` (enum
 * hscan_http_version) says; without HTTP/2 built in, http/1.1 alone.
 * `sni` (cfg.sni) replaces the host as the server name sent and the
 * name checked; `no_sni` sends none (the host is still checked).
 * Returns 0 or HSCAN_ERESOURCE_EXHAUSTED. */
int hscan__tls_start(struct hscan__tls *t, SSL_CTX *ctx, const char *host,
                     int family, int http_version, const char *sni,
                     int no_sni);
void hscan__tls_free(struct hscan__tls *t);
/* Hand received ciphertext to OpenSSL. */
int hscan__tls_feed(struct hscan__tls *t, const char *in, size_t n);
/* Advance the handshake: 1 done, 0 wants more bytes, or a negative
 * HSCAN_ETLS_* (HSCAN_ETLS_ALERT when the server sent a fatal alert,
 * HSCAN_ERESOURCE_EXHAUSTED when OpenSSL ran out of memory) with
 * `detail`.  Send hscan__tls_take_out() after it. */
int hscan__tls_handshake(struct hscan__tls *t, char *detail, size_t dsize);
/* 1 (with `detail` saying what was sent) when the server's first bytes
 * were plain text rather than TLS. */
int hscan__tls_plaintext(const struct hscan__tls *t, char *detail,
                         size_t dsize);
/* 0, HSCAN_EWRITE_FAILED or HSCAN_ERESOURCE_EXHAUSTED. */
int hscan__tls_encrypt(struct hscan__tls *t, const char *buf, size_t n);
/* Decrypt into `out`: bytes (>0), 0 when more ciphertext is needed,
 * HSCAN_EREAD_CLOSED at close_notify, HSCAN_ETLS_ALERT at a fatal
 * alert, or another negative error. */
int hscan__tls_read(struct hscan__tls *t, char *out, size_t size,
                    char *detail, size_t dsize);
/* Ciphertext to send (malloc'd, caller frees), or NULL: nothing to send
 * when `*len` is left alone, out of memory when it was set (the bytes
 * stay in OpenSSL's buffer). */
char *hscan__tls_take_out(struct hscan__tls *t, size_t *len);
/* Session and certificate facts as far as the handshake got, as one
 * malloc'd block; NULL when the server neither got its hello processed
 * nor sent a fatal alert, or when memory ran out (with a certificate
 * there, SSL_get0_peer_certificate(), NULL means the latter). */
struct hscan__tls_facts *hscan__tls_facts(struct hscan__tls *t);
/* Record in `f` a fatal alert that arrived after the facts were taken
 * (TLS 1.3: after the client's side of the handshake). */
void hscan__tls_facts_alert(struct hscan__tls_facts *f,
                            const struct hscan__tls *t);

/* tls-hello.c: watch the handshake messages of `t` (hscan__tls_start
 * calls it); fill the handshake parameters and fingerprints into `f`
 * (hscan__tls_facts calls it once the hello was processed); and what
 * may arrive after the facts were taken (a TLS 1.3 NewSessionTicket,
 * after the handshake), when the record is built. */
void hscan__hello_watch(struct hscan__tls *t);
void hscan__hello_facts(struct hscan__tls *t, struct hscan__tls_facts *f);
void hscan__hello_facts_late(struct hscan__tls_facts *f,
                             const struct hscan__tls *t);
/* ---- stapled OCSP and SCTs (tls-ocsp.c) ---- */
#define HSCAN__MAX_SCTS 32      /* kept per record; more are counted */
/* Gathered before the facts block is sized, then placed into it.
 * String members are offsets + 1 into `buf` (0: none). */
struct hscan__tls_stat {
    char *buf;
    size_t len, cap;
    int oom;                /* an append failed */
    int stapled, verified;
    const char *status, *reason;        /* static */
    size_t revoked_at, this_update, next_update, error;
    struct {
        const char *source; /* static */
        size_t log_id, ts;
    } sct[HSCAN__MAX_SCTS];
    size_t n, n_total;
    time_t until;           /* tls-ocsp.c: the OCSP facts hold until then */
};
/* Ask for status_request and signed_certificate_timestamp in every
 * ClientHello of `ctx`.  0, or -1 without memory. */
int hscan__tls_stat_install(SSL_CTX *ctx);
/* What the server sent of both, as far as the handshake got; `leaf` is
 * the peer's certificate or NULL.  Memory shortage sets st->oom (and
 * OpenSSL's error queue). */
void hscan__tls_stat_gather(struct hscan__tls_stat *st,
                            const struct hscan__tls *t, X509 *leaf);
/* Bytes hscan__tls_stat_place() writes (pointer-aligned start). */
size_t hscan__tls_stat_size(const struct hscan__tls_stat *st);
/* Copy into `mem` and point v->ocsp and v->scts there; frees st. */
void hscan__tls_stat_place(struct hscan__tls_stat *st, void *mem,
                           hscan_tls_t *v);
void hscan__tls_stat_free(struct hscan__tls_stat *st);

/* ---- the context's cache of OCSP facts (tls-ocsp-cache.c) ---- */
/* Where the OCSP part of a stat starts: its strings, SCTs, SCT count. */
struct hscan__ocsp_mark {
    size_t len, n, n_total;
};
/* Get the cache's ex_data index (once per process): 0 or -1. */
int hscan__ocsp_cache_init(void);
/* Keep what `st` learned after `m` under `key` until `until` (at most
 * a few minutes); nothing when memory ran out. */
void hscan__ocsp_cache_put(SSL_CTX *ctx, const unsigned char key[32],
                           const struct hscan__tls_stat *st,
                           const struct hscan__ocsp_mark *m, time_t until);
/* 1 when `key` is cached: its facts appended to `st`; else 0. */
int hscan__ocsp_cache_get(SSL_CTX *ctx, const unsigned char key[32],
                          struct hscan__tls_stat *st);

#endif /* HSCAN_TLS_H */
