/* A cache of certificate chain verifications for one SSL_CTX.
 *
 * Scans meet the same chain again and again: a CDN or hosting
 * provider's certificate covering thousands of names, the https-first
 * fallback, --scheme both, redirects to the same host.  Building and
 * verifying the chain is about a fifth of a TLS 1.3 handshake's cost on
 * the client (OpenSSL 3.0, measured with callgrind), so it is done once
 * per distinct chain and the outcome reused.
 *
 * The cached part is what does not depend on the name asked for: the
 * chain is verified with the host (or IP) taken out of the parameters,
 * and the name is checked separately against the leaf every time
 * (X509_check_host / X509_check_ip_asc, the same calls OpenSSL's own
 * check makes).  The two outcomes are combined in the order OpenSSL's
 * verify_chain() reports them (3.0 x509_vfy.c): errors found while
 * building and checking the chain come before the name check; those of
 * the signature and validity pass (internal_verify) and of name
 * constraints come after it.  So the record's verify_code and text are
 * exactly those X509_verify_cert() gives with the host set.
 *
 * Key: SHA-256 over the DER of every certificate the server sent, in
 * order.  An entry lives 300 s, and never past the next not_before or
 * not_after of any certificate in the chain or of the trust anchor, so a
 * time-dependent outcome cannot go stale.  Direct-mapped: a collision
 * of slots only evicts.  Loop thread only, like the SSL_CTX it hangs
 * off (SSL_CTX app data).
 *
 * The name checked is the one the SSL was given (tls.c): cfg.sni or
 * the target's sni when set, else the host or address; it is never
 * part of a cached verdict, so a verdict reached under one name (or
 * no_sni, or another sni) cannot pass another (test-tls-sni.c).  The
 * client TLS options that are not names (versions, ciphers, groups,
 * the client certificate) shape the handshake, not the verdict on the
 * server's chain.
 *
 * The other inputs of a verdict are the trust store and the SSL_CTX's
 * verify parameters: one cache per SSL_CTX, whose parameters are set
 * before it is made and never changed.  The store may be shared with
 * other scanners' contexts (trust.c: the system roots, loaded once), but
 * it is never written after loading, so a verdict holds for every
 * context on it; the cache remembers the store it was made for and is
 * bypassed for any other (a context given a new store), so a verdict
 * never crosses stores.  (With OpenSSL's lazy directory lookup, the
 * fallback when the bundle cannot be read, the store fills in as
 * verifications find certificates there: the same verdicts, sooner.)
 *
 * A verified chain's path is kept too, and handed back on reuse
 * (X509_STORE_CTX_set0_verified_chain(), which libssl copies to
 * SSL_get0_verified_chain() as after a real verification): the
 * earliest expiry and --tls-chain read it (tls.c).  It is kept as the
 * positions of the sent certificates in it and references to the
 * store's (the root), so an entry holds no certificate of the server;
 * a path that does not fit is not kept, and neither is its verdict.
 */
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "util.h"

#define VC_SLOTS 1024
#define VC_TTL 300
#define VC_MAX_CHAIN 8
#define VC_PATH 10              /* certificates of a kept path */
#define VC_EXT 2                /* of them from the store */

struct vc_entry {
    unsigned char key[32];
    time_t expires;             /* 0: empty */
    int err;                    /* X509_V_* of the chain, host left out */
    int depth;
    /* the verified path (err 0): path[i] >= 0 is that sent certificate,
     * -1 - j is ext[j], a reference to the store's */
    signed char path[VC_PATH];
    unsigned char n_path;
    X509 *ext[VC_EXT];
};

struct hscan__vcache {
    X509_STORE *store;          /* the verdicts hold for this one */
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    struct vc_entry slot[VC_SLOTS];
};

/* Errors OpenSSL reports only after the host check: signatures,
 * validity times, name constraints, policy, Suite B. */
static int after_host_check(int err)
{
    switch (err) {
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
    case X509_V_ERR_NO_EXPLICIT_POLICY:
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
    case X509_V_ERR_SUITE_B_INVALID_VERSION:
    case X509_V_ERR_SUITE_B_INVALID_ALGORITHM:
    case X509_V_ERR_SUITE_B_INVALID_CURVE:
    case X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM:
    case X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED:
    case X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256:
        return 1;
    }
    return 0;
}

static int chain_key(struct hscan__vcache *vc, STACK_OF(X509) *sk,
                     unsigned char key[32])
{
    unsigned char buf[4096], *der, *p;
    unsigned int klen = 0;
    int i, n = sk_X509_num(sk), len, ok = 1;

    if (n <= 0 || n > VC_MAX_CHAIN ||
        EVP_DigestInit_ex(vc->md, vc->sha256, NULL) != 1)
        return 0;
    for (i = 0; i < n && ok; i++) {
        X509 *x = sk_X509_value(sk, i);
        len = i2d_X509(x, NULL);
        if (len <= 0)
            return 0;
        der = (size_t)len <= sizeof(buf) ? buf : OPENSSL_malloc((size_t)len);
        if (!der)
            return 0;
        p = der;
        ok = i2d_X509(x, &p) == len &&
             EVP_DigestUpdate(vc->md, der, (size_t)len) == 1;
        if (der != buf)
            OPENSSL_free(der);
    }
    return ok && EVP_DigestFinal_ex(vc->md, key, &klen) == 1 && klen == 32;
}

/* The next moment at which a time check on `x` could change outcome. */
static void bound_by(time_t *until, time_t now, const X509 *x)
{
    const ASN1_TIME *t[2] = { X509_get0_notBefore(x), X509_get0_notAfter(x) };
    struct tm tm;
    int i;

    for (i = 0; i < 2; i++) {
        time_t at;
        if (!t[i] || ASN1_TIME_to_tm(t[i], &tm) != 1)
            continue;
        at = timegm(&tm);
        if (at > now && at < *until)
            *until = at;
    }
}

static void entry_clear(struct vc_entry *e)
{
    int j;

    for (j = 0; j < VC_EXT; j++) {
        X509_free(e->ext[j]);
        e->ext[j] = NULL;
    }
    e->n_path = 0;
    e->expires = 0;
}

/* Note `chain`, the verified path of sent chain `sk`, in `e`.  0 when
 * it does not fit (or a reference could not be taken). */
static int path_keep(struct vc_entry *e, STACK_OF(X509) *sk,
                     STACK_OF(X509) *chain)
{
    int i, k, n = chain ? sk_X509_num(chain) : 0, n_ext = 0;

    if (n <= 0 || n > VC_PATH)
        return 0;
    for (i = 0; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);

        for (k = 0; k < sk_X509_num(sk) && sk_X509_value(sk, k) != x; k++)
            ;
        if (k < sk_X509_num(sk)) {
            e->path[i] = (signed char)k;
            continue;
        }
        if (n_ext == VC_EXT || !X509_up_ref(x))
            return 0;
        e->ext[n_ext] = x;
        e->path[i] = (signed char)(-1 - n_ext++);
    }
    e->n_path = (unsigned char)n;
    return 1;
}

/* The kept path of `e` for sent chain `sk`, as a new stack; NULL when
 * memory ran out. */
static STACK_OF(X509) *path_make(const struct vc_entry *e,
                                 STACK_OF(X509) *sk)
{
    STACK_OF(X509) *c = sk_X509_new_reserve(NULL, e->n_path);
    int i;

    for (i = 0; c && i < e->n_path; i++) {
        X509 *x = e->path[i] >= 0 ? sk_X509_value(sk, e->path[i])
                                  : e->ext[-1 - e->path[i]];

        if (!x || !X509_up_ref(x)) {
            sk_X509_pop_free(c, X509_free);
            return NULL;
        }
        (void)sk_X509_push(c, x);     /* reserved: cannot fail */
    }
    return c;
}

/* 1 when the name asked for matches the leaf (or none was asked). */
static int name_matches(X509 *leaf, const char *host, const char *ip,
                        unsigned flags)
{
    if (host)
        return X509_check_host(leaf, host, 0, flags, NULL) == 1;
    if (ip)                     /* check_id() passes no flags here */
        return X509_check_ip_asc(leaf, ip, 0) == 1;
    return 1;
}

static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    struct hscan__vcache *vc = arg;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(xs);
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    STACK_OF(X509) *sk = X509_STORE_CTX_get0_untrusted(xs);
    const char *h0 = X509_VERIFY_PARAM_get0_host(param, 0);
    char *host = NULL, *ip = NULL;
    unsigned flags = X509_VERIFY_PARAM_get_hostflags(param);
    unsigned char key[32];
    struct vc_entry *e = NULL;
    time_t now = time(NULL);
    int err, depth, ok, transient = 0;

    /* Every SSL of ours asks for a host name or an address (tls.c).
     * Neither here means memory ran out: libssl's copy of them into
     * `param` failed and was ignored (3.0 ssl_verify_cert_chain() does
     * not check X509_VERIFY_PARAM_set1()), or get1_ip_asc() could not
     * copy the address.  Any check from here would pass any
     * certificate. */
    ip = X509_VERIFY_PARAM_get1_ip_asc(param);
    if (!h0 && !ip) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    /* Only the plain case is cached: one host or one IP, nothing else
     * that OpenSSL's check_id() would look at, against our store. */
    if (X509_STORE_CTX_get0_store(xs) != vc->store ||
        X509_VERIFY_PARAM_get0_host(param, 1) != NULL ||
        X509_VERIFY_PARAM_get0_email(param) != NULL || !leaf ||
        (h0 && ip) || (h0 && !(host = OPENSSL_strdup(h0))) ||
        !chain_key(vc, sk, key)) {
        OPENSSL_free(host);
        OPENSSL_free(ip);
        return X509_verify_cert(xs);
    }

    e = &vc->slot[(key[0] | key[1] << 8) % VC_SLOTS];
    if (e->expires > now && memcmp(e->key, key, 32) == 0) {
        err = e->err;
        depth = e->depth;
        if (err == X509_V_OK) {
            STACK_OF(X509) *path = path_make(e, sk);
            if (path)
                X509_STORE_CTX_set0_verified_chain(xs, path);
            else
                err = X509_V_ERR_OUT_OF_MEM;
        }
    } else {
        STACK_OF(X509) *chain;
        time_t until = now + VC_TTL;
        int i;

        unsigned long q0 = ERR_peek_last_error();

        X509_VERIFY_PARAM_set1_host(param, NULL, 0);
        X509_VERIFY_PARAM_set1_ip(param, NULL, 0);
        X509_verify_cert(xs);
        err = X509_STORE_CTX_get_error(xs);
        /* A verdict is not kept when OpenSSL hit trouble of its own on
         * the way (an entry in the error queue: verify errors do not go
         * there).  Out of memory, 3.0 may still name a verify error
         * ("EE certificate key too weak" when the key size could not be
         * computed); kept, it would stick to this chain for VC_TTL. */
        transient = ERR_peek_last_error() != q0;
        depth = X509_STORE_CTX_get_error_depth(xs);
        chain = X509_STORE_CTX_get0_chain(xs);
        for (i = 0; i < sk_X509_num(sk); i++)
            bound_by(&until, now, sk_X509_value(sk, i));
        for (i = 0; chain && i < sk_X509_num(chain); i++)
            bound_by(&until, now, sk_X509_value(chain, i));
        if (!transient && err != X509_V_ERR_OUT_OF_MEM &&
            err != X509_V_ERR_UNSPECIFIED) {
            entry_clear(e);
            if (err != X509_V_OK || path_keep(e, sk, chain)) {
                memcpy(e->key, key, 32);
                e->err = err;
                e->depth = depth;
                e->expires = until;
            } else {
                entry_clear(e);     /* a path half kept */
            }
        }
    }
    if (!name_matches(leaf, host, ip, flags) &&
        (err == X509_V_OK || after_host_check(err))) {
        err = X509_V_ERR_HOSTNAME_MISMATCH;
        if (ip)
            err = X509_V_ERR_IP_ADDRESS_MISMATCH;
        depth = 0;
    }
    OPENSSL_free(host);
    OPENSSL_free(ip);
    X509_STORE_CTX_set_error_depth(xs, depth);
    X509_STORE_CTX_set_error(xs, err);
    ok = err == X509_V_OK;
    /* SSL_VERIFY_NONE: libssl records the error and goes on either way. */
    return ok;
}

int hscan__vcache_install(SSL_CTX *ctx)
{
    struct hscan__vcache *vc = OPENSSL_zalloc(sizeof(*vc));

    if (!vc)
        return HSCAN_ENOMEM;
    vc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    vc->md = EVP_MD_CTX_new();
    /* Setting the app data allocates too: unset, hscan__vcache_free()
     * would not find `vc`. */
    if (!vc->sha256 || !vc->md || !SSL_CTX_set_app_data(ctx, vc)) {
        EVP_MD_free(vc->sha256);
        EVP_MD_CTX_free(vc->md);
        OPENSSL_free(vc);
        return HSCAN_ENOMEM;
    }
    vc->store = SSL_CTX_get_cert_store(ctx);
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, vc);
    return 0;
}

void hscan__vcache_free(SSL_CTX *ctx)
{
    struct hscan__vcache *vc = ctx ? SSL_CTX_get_app_data(ctx) : NULL;

    int i;

    if (!vc)
        return;
    for (i = 0; i < VC_SLOTS; i++)
        entry_clear(&vc->slot[i]);
    EVP_MD_free(vc->sha256);
    EVP_MD_CTX_free(vc->md);
    OPENSSL_free(vc);
}
