/* Stapled OCSP and Signed Certificate Timestamps (RFC 6960, RFC 6962).
 *
 * Both are asked for in every ClientHello, as browsers, zgrab2 and
 * blackbox_exporter do: status_request (RFC 6066 8) through OpenSSL, and
 * signed_certificate_timestamp (RFC 6962 3.3.1) as an empty custom
 * extension whose answer (TLS 1.2 ServerHello, TLS 1.3 leaf Certificate
 * entry) is copied aside.  libssl never parses the stapled DER on the
 * client and never judges either: nothing here can fail a handshake.
 * OpenSSL's own CT validation (SSL_CTX_enable_ct) is not used: it runs
 * in the handshake of every verified chain, whether or not the record is
 * built, and its internal errors abort the handshake.
 *
 * The parsing (OpenSSL's d2i/o2i decoders) happens only when the facts
 * are taken, and only for bytes that arrived; a server that staples
 * nothing costs a few bytes of ClientHello and one empty lookup.
 *
 * "Verified" (docs/results.md, tls.ocsp.verified): the response has a
 * status for this leaf, is current (thisUpdate/nextUpdate, 5 minutes of
 * clock skew either way), and its signature verifies with the key of the
 * leaf's issuer as sent in the chain, or of a responder certificate the
 * issuer signed for id-kp-OCSPSigning (RFC 6960 4.2.2.2).  Whether the
 * issuer itself is trusted is tls.verified's question; no OCSP or CRL is
 * ever fetched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define TLSEXT_SCT 18           /* signed_certificate_timestamp */
#define MAX_SCT_EXT 16384       /* bytes of the TLS extension kept */
#define MAX_SINGLES 64          /* SingleResponses looked at */
#define SKEW 300                /* seconds, as OpenSSL's own clients */

static int sct_ext_parse(SSL *ssl, unsigned int type, unsigned int context,
                         const unsigned char *in, size_t inlen, X509 *x,
                         size_t chainidx, int *al, void *arg)
{
    struct hscan__tls *t = SSL_get_app_data(ssl);

    (void)type, (void)context, (void)x, (void)al, (void)arg;
    /* The leaf's only (TLS 1.3 allows the extension on any entry);
     * an answer too large to be a list of a few SCTs is left out. */
    if (!t || chainidx != 0 || inlen == 0 || inlen > MAX_SCT_EXT ||
        t->sct_ext)
        return 1;
    if ((t->sct_ext = malloc(inlen)) != NULL) {
        memcpy(t->sct_ext, in, inlen);
        t->sct_ext_len = inlen;
    }
    return 1;
}

int hscan__tls_stat_install(SSL_CTX *ctx)
{
    if (hscan__ocsp_cache_init() != 0 ||
        SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp) != 1)
        return -1;
    return SSL_CTX_add_custom_ext(ctx, TLSEXT_SCT,
                                  SSL_EXT_CLIENT_HELLO |
                                      SSL_EXT_TLS1_2_SERVER_HELLO |
                                      SSL_EXT_TLS1_3_CERTIFICATE,
                                  NULL, NULL, NULL, sct_ext_parse,
                                  NULL) == 1 ? 0 : -1;
}

/* ---- strings, as offsets (+1) into st->buf until placed ---- */

static size_t put(struct hscan__tls_stat *st, const char *s)
{
    size_t n = strlen(s), off;

    if (st->len + n + 1 > st->cap) {
        size_t cap = (st->cap ? st->cap : 256) * 2 + n;
        char *b = realloc(st->buf, cap);
        if (!b) {
            st->oom = 1;
            return 0;
        }
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, s, n + 1);
    off = st->len + 1;
    st->len += n + 1;
    return off;
}

/* RFC 3339 UTC, with milliseconds when `ms` >= 0; 0 when the time does
 * not fit four digits of year. */
static size_t put_tm(struct hscan__tls_stat *st, const struct tm *tm,
                     int ms)
{
    char b[96];         /* room for any int, as the compiler checks */

    if (tm->tm_year + 1900 < 0 || tm->tm_year + 1900 > 9999)
        return 0;
    if (ms >= 0)
        snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
                 tm->tm_hour, tm->tm_min, tm->tm_sec, ms);
    else
        snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
                 tm->tm_hour, tm->tm_min, tm->tm_sec);
    return put(st, b);
}

static size_t put_asn1_time(struct hscan__tls_stat *st,
                            const ASN1_GENERALIZEDTIME *t)
{
    struct tm tm;

    return t && ASN1_TIME_to_tm(t, &tm) == 1 ? put_tm(st, &tm, -1) : 0;
}

static void fail(struct hscan__tls_stat *st, const char *why)
{
    if (!st->error)
        st->error = put(st, why);
}

/* The facts hold until `t` + `shift` when that is still ahead. */
static void lower_until(struct hscan__tls_stat *st, const ASN1_TIME *t,
                        long shift)
{
    struct tm tm;
    time_t x;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return;
    x = timegm(&tm) + shift;
    if (x > time(NULL) && x < st->until)
        st->until = x;
}

/* ---- SCTs ---- */

static void add_scts(struct hscan__tls_stat *st, const STACK_OF(SCT) *l,
                     const char *source)
{
    int i, n = l ? sk_SCT_num(l) : 0;

    for (i = 0; i < n; i++) {
        const SCT *sct = sk_SCT_value(l, i);
        unsigned char *id = NULL, b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
        size_t idlen = SCT_get0_log_id(sct, &id);
        uint64_t ms = SCT_get_timestamp(sct);
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;

        st->n_total++;
        if (st->n >= HSCAN__MAX_SCTS)
            continue;
        st->sct[st->n].source = source;
        st->sct[st->n].log_id = 0;
        st->sct[st->n].ts = 0;
        /* Version 1 ids are a SHA-256 (RFC 6962 3.2); another version's
         * fields are not read. */
        if (SCT_get_version(sct) == SCT_VERSION_V1 && id && idlen > 0 &&
            idlen <= EVP_MAX_MD_SIZE) {
            EVP_EncodeBlock(b64, id, (int)idlen);
            st->sct[st->n].log_id = put(st, (const char *)b64);
            if (ms / 1000 <= 253402300799ULL && gmtime_r(&secs, &tm))
                st->sct[st->n].ts = put_tm(st, &tm, (int)(ms % 1000));
        }
        st->n++;
    }
}

/* ---- the stapled response ---- */

/* The leaf's issuer among the certificates the server sent. */
static X509 *find_issuer(SSL *ssl, X509 *leaf)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    int i, n = chain ? sk_X509_num(chain) : 0;

    for (i = 0; i < n && i < 16; i++) {
        X509 *c = sk_X509_value(chain, i);
        if (c != leaf && X509_check_issued(c, leaf) == X509_V_OK)
            return c;
    }
    return NULL;
}

/* The SingleResponse about `leaf`: by the whole CertID (its hash, the
 * issuer's name and key, the serial) when the issuer was sent, else by
 * serial alone (then the status is reported, never verified). */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *leaf,
                                    X509 *issuer)
{
    int i, n = OCSP_resp_count(bs);

    for (i = 0; i < n && i < MAX_SINGLES; i++) {
        OCSP_SINGLERESP *s = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(s);
        ASN1_OBJECT *md_oid = NULL;
        ASN1_INTEGER *serial = NULL;
        const EVP_MD *md;
        OCSP_CERTID *mine;
        int same;

        if (!OCSP_id_get0_info(NULL, &md_oid, NULL, &serial,
                               (OCSP_CERTID *)cid))
            continue;
        if (!issuer) {
            if (ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) == 0)
                return s;
            continue;
        }
        if (!(md = EVP_get_digestbyobj(md_oid)) ||
            !(mine = OCSP_cert_to_id(md, leaf, issuer)))
            continue;
        same = OCSP_id_cmp(mine, cid) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return s;
    }
    return NULL;
}

/* NULL when the response was signed by the issuer or by a responder the
 * issuer authorized; else why not. */
static const char *check_signer(struct hscan__tls_stat *st,
                                OCSP_BASICRESP *bs, X509 *issuer)
{
    STACK_OF(X509) *extra = sk_X509_new_null();
    X509 *signer = NULL;
    const char *why = NULL;

    if (!extra || !sk_X509_push(extra, issuer)) {
        sk_X509_free(extra);
        return "out of memory";
    }
    if (OCSP_resp_get0_signer(bs, &signer, extra) != 1)
        why = "signer certificate not found";
    /* The signature alone: the signer's authority is checked below. */
    else if (OCSP_basic_verify(bs, extra, NULL, OCSP_NOVERIFY) != 1)
        why = "signature does not verify";
    else if (X509_cmp(signer, issuer) == 0)
        why = NULL;
    else if (X509_check_issued(issuer, signer) != X509_V_OK ||
             X509_verify(signer, X509_get0_pubkey(issuer)) != 1)
        why = "signed by neither the issuer nor a responder it certified";
    else if (!(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
             !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN))
        why = "responder certificate lacks OCSP signing";
    else if (X509_cmp_current_time(X509_get0_notAfter(signer)) <= 0 ||
             X509_cmp_current_time(X509_get0_notBefore(signer)) >= 0)
        why = "responder certificate outside its validity";
    if (signer && X509_cmp(signer, issuer) != 0) {
        lower_until(st, X509_get0_notBefore(signer), 0);
        lower_until(st, X509_get0_notAfter(signer), 0);
    }
    sk_X509_free(extra);
    return why;
}

static const char *check_times(const ASN1_GENERALIZEDTIME *thisupd,
                               const ASN1_GENERALIZEDTIME *nextupd)
{
    time_t ahead = time(NULL) + SKEW, behind = time(NULL) - SKEW;

    if (!thisupd || X509_cmp_time(thisupd, &ahead) > 0)
        return "response not yet valid (this_update ahead)";
    if (nextupd && X509_cmp_time(nextupd, &behind) < 0)
        return "response expired (next_update passed)";
    return NULL;
}

static const char *cert_status_name(int s)
{
    switch (s) {
    case V_OCSP_CERTSTATUS_GOOD: return "good";
    case V_OCSP_CERTSTATUS_REVOKED: return "revoked";
    }
    return "unknown";
}

/* CRLReason (RFC 5280 5.3.1) by its ASN.1 name; NULL when not given. */
static const char *reason_name(int r)
{
    static const char *const names[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
        "superseded", "cessationOfOperation", "certificateHold", NULL,
        "removeFromCRL", "privilegeWithdrawn", "aACompromise"
    };
    if (r < 0 || r >= (int)(sizeof(names) / sizeof(names[0])))
        return r < 0 ? NULL : "unassigned";
    return names[r] ? names[r] : "unassigned";
}

static void single_facts(struct hscan__tls_stat *st, OCSP_BASICRESP *bs,
                         OCSP_SINGLERESP *single, X509 *issuer)
{
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    int reason = -1;
    int s = OCSP_single_get0_status(single, &reason, &rev, &thisupd,
                                    &nextupd);
    STACK_OF(SCT) *scts;
    const char *why;

    st->status = cert_status_name(s);
    if (s == V_OCSP_CERTSTATUS_REVOKED) {
        st->revoked_at = put_asn1_time(st, rev);
        st->reason = reason_name(reason);
    }
    st->this_update = put_asn1_time(st, thisupd);
    st->next_update = put_asn1_time(st, nextupd);
    scts = OCSP_SINGLERESP_get1_ext_d2i(single, NID_ct_cert_scts, NULL,
                                        NULL);
    add_scts(st, scts, "ocsp");
    SCT_LIST_free(scts);
    if (!issuer)
        why = "issuer certificate not sent: signature not checked";
    else if ((why = check_signer(st, bs, issuer)) == NULL)
        why = check_times(thisupd, nextupd);
    lower_until(st, thisupd, -SKEW);
    lower_until(st, nextupd, SKEW);
    if (why)
        fail(st, why);
    else
        st->verified = 1;
}

/* The cache key of a stapled response read with `leaf` and `issuer`:
 * SHA-256 over its bytes and both certificates' SHA-256.  0, or -1
 * (then the response is read without the cache). */
static int ocsp_key(unsigned char key[32], const unsigned char *der,
                    long n, X509 *leaf, X509 *issuer)
{
    unsigned char d[2][EVP_MAX_MD_SIZE];
    unsigned dn[2] = { 0, 0 }, kn = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok;

    ok = md && X509_digest(leaf, EVP_sha256(), d[0], &dn[0]) == 1 &&
         (!issuer || X509_digest(issuer, EVP_sha256(), d[1], &dn[1]) == 1) &&
         EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(md, der, (size_t)n) == 1 &&
         EVP_DigestUpdate(md, d[0], dn[0]) == 1 &&
         EVP_DigestUpdate(md, d[1], dn[1]) == 1 &&
         EVP_DigestFinal_ex(md, key, &kn) == 1 && kn == 32;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* Read the response: its facts appended to `st`. */
static void ocsp_read(struct hscan__tls_stat *st, const unsigned char *der,
                      long n, X509 *leaf, X509 *issuer)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp;
    OCSP_BASICRESP *bs = NULL;
    OCSP_SINGLERESP *single;
    int rs;
    char why[96];

    if (!(resp = d2i_OCSP_RESPONSE(NULL, &p, n))) {
        fail(st, "unreadable OCSP response");
        return;
    }
    rs = OCSP_response_status(resp);
    if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        snprintf(why, sizeof(why), "response status %s (%d)",
                 OCSP_response_status_str(rs), rs);
        fail(st, why);
    } else if (!(bs = OCSP_response_get1_basic(resp))) {
        fail(st, "not a basic OCSP response");
    } else if (!leaf) {
        fail(st, "no certificate to match");
    } else if (!(single = find_single(bs, leaf, issuer))) {
        fail(st, "no status for this certificate");
    } else {
        single_facts(st, bs, single, issuer);
    }
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
}

static void ocsp_facts(struct hscan__tls_stat *st, SSL *ssl, X509 *leaf)
{
    const unsigned char *der = NULL;
    long n = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
    struct hscan__ocsp_mark m = { st->len, st->n, st->n_total };
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    X509 *issuer;
    unsigned char key[32];
    int keyed;

    if (n <= 0 || !der)
        return;
    st->stapled = 1;
    issuer = leaf ? find_issuer(ssl, leaf) : NULL;
    keyed = leaf && ocsp_key(key, der, n, leaf, issuer) == 0;
    if (keyed && hscan__ocsp_cache_get(ctx, key, st))
        return;
    st->until = time(NULL) + 24 * 3600;
    ocsp_read(st, der, n, leaf, issuer);
    if (keyed)
        hscan__ocsp_cache_put(ctx, key, st, &m, st->until);
}

void hscan__tls_stat_gather(struct hscan__tls_stat *st,
                            const struct hscan__tls *t, X509 *leaf)
{
    STACK_OF(SCT) *scts;

    memset(st, 0, sizeof(*st));
    if (leaf) {
        scts = X509_get_ext_d2i(leaf, NID_ct_precert_scts, NULL, NULL);
        add_scts(st, scts, "x509");
        SCT_LIST_free(scts);
    }
    if (t->sct_ext) {
        const unsigned char *p = t->sct_ext;
        scts = o2i_SCT_LIST(NULL, &p, (long)t->sct_ext_len);
        add_scts(st, scts, "tls");
        SCT_LIST_free(scts);
    }
    ocsp_facts(st, t->ssl, leaf);
}

size_t hscan__tls_stat_size(const struct hscan__tls_stat *st)
{
    return st->n * sizeof(hscan_tls_sct_t) + st->len;
}

static const char *at(const char *base, size_t off)
{
    return off ? base + off - 1 : NULL;
}

void hscan__tls_stat_place(struct hscan__tls_stat *st, void *mem,
                           hscan_tls_t *v)
{
    hscan_tls_sct_t *sv = mem;
    char *s = (char *)(sv + st->n);
    size_t i;

    if (st->len)
        memcpy(s, st->buf, st->len);
    v->ocsp.stapled = st->stapled;
    v->ocsp.status = st->status;
    v->ocsp.revoked_at = at(s, st->revoked_at);
    v->ocsp.reason = st->reason;
    v->ocsp.this_update = at(s, st->this_update);
    v->ocsp.next_update = at(s, st->next_update);
    v->ocsp.verified = st->verified;
    v->ocsp.error = at(s, st->error);
    for (i = 0; i < st->n; i++) {
        sv[i].source = st->sct[i].source;
        sv[i].log_id = at(s, st->sct[i].log_id);
        sv[i].timestamp = at(s, st->sct[i].ts);
    }
    v->scts = st->n ? sv : NULL;
    v->n_scts = st->n;
    v->n_scts_total = st->n_total;
    hscan__tls_stat_free(st);
}

void hscan__tls_stat_free(struct hscan__tls_stat *st)
{
    free(st->buf);
    st->buf = NULL;
    st->len = st->cap = 0;
}
