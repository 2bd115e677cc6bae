/* The facts of a TLS handshake for the record (hscan_tls_t): the
 * leaf's certificate facts, the earliest expiry, with cfg.tls_chain
 * every certificate sent and the verified path, the session's
 * parameters, then tls-hello.c's and tls-ocsp.c's parts, all in one
 * allocation (struct hscan__tls_facts) built once per handshake, on
 * the loop thread, when the probe keeps them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "util.h"

/* SANs reported per certificate (docs/results.md, `san`).  Past either
 * cap they are counted, not kept.  The byte cap holds 1,000 names of
 * 255 bytes; OpenSSL's 100 KB limit on the certificate message
 * (SSL_CTX_set_max_cert_list) bounds them well before it. */
#define MAX_SANS 1000
#define MAX_SAN_BYTES (1000 * 256)

/* ---- certificate facts ---- */

struct sbuf {
    char *buf;
    size_t len, cap;
    int oom;                /* an append failed: the facts are incomplete */
};

static const char *sbuf_add(struct sbuf *s, const char *str, size_t n)
{
    char *at;

    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->cap ? s->cap : 512) * 2 + n;
        char *b = realloc(s->buf, cap);
        if (!b) {
            s->oom = 1;
            return NULL;
        }
        s->buf = b;
        s->cap = cap;
    }
    at = s->buf + s->len;
    if (n > 0)              /* an empty name's BIO data may be NULL */
        memcpy(at, str, n);
    at[n] = '\0';
    s->len += n + 1;
    return at;
}

/* Offsets, not pointers, while the buffer may still move. */
#define OFF(s, p) ((p) ? (size_t)((p) - (s)->buf) + 1 : 0)

static size_t add_name(struct sbuf *s, const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    size_t off = 0;

    if (!b) {
        s->oom = 1;
        return 0;
    }
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    n = BIO_get_mem_data(b, &data);
    if (n >= 0) {
        const char *p = sbuf_add(s, data, (size_t)n);
        off = OFF(s, p);
    }
    BIO_free(b);
    return off;
}

static size_t add_time(struct sbuf *s, const ASN1_TIME *t)
{
    struct tm tm;
    char buf[64];
    const char *p;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    /* Not strftime's %Y, which writes year 1 as "1": RFC 3339 wants four
     * digits, and an ASN.1 time goes down to year 0. */
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    p = sbuf_add(s, buf, strlen(buf));
    return OFF(s, p);
}

static size_t add_hex(struct sbuf *s, const unsigned char *d, size_t n)
{
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    size_t i;
    const char *p;

    if (n > EVP_MAX_MD_SIZE)
        n = EVP_MAX_MD_SIZE;
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    p = sbuf_add(s, hex, 2 * n);
    return OFF(s, p);
}

/* The magnitude in hex; a negative serial (RFC 5280 forbids them, a few
 * exist and OpenSSL accepts them) is stored as its magnitude, so it gets
 * a '-' in front: otherwise -1 and 1 would read alike. */
static size_t add_serial(struct sbuf *s, const X509 *x)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    const unsigned char *d;
    char hex[1 + 2 * 64 + 1];
    int n = sn ? ASN1_STRING_length(sn) : 0, i, k = 0;
    const char *p;

    if (n <= 0 || n > 64)
        return 0;
    d = ASN1_STRING_get0_data(sn);
    if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
        hex[k++] = '-';
    for (i = 0; i < n; i++, k += 2)
        snprintf(hex + k, 3, "%02x", d[i]);
    p = sbuf_add(s, hex, (size_t)k);
    return OFF(s, p);
}

static size_t add_spki(struct sbuf *s, X509 *x)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    size_t off = 0;

    if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL))
        off = add_hex(s, md, mdlen);
    OPENSSL_free(der);
    return off;
}

/* Where add_sans() put one SAN in the string buffer. */
struct san_at {
    size_t off, len;
};

/* SAN entries: DNS names as written, with their ASN.1 length (bytes that
 * are not printable ASCII are kept and escaped by the JSON writer; a NUL
 * byte cannot hide the rest of a name, CVE-2009-2417) and IP addresses in
 * text form.  Every such entry is counted in `*total`; the first
 * MAX_SANS (and MAX_SAN_BYTES of them) are kept, their places in a
 * malloc'd `*pos` (NULL when none). */
static void add_sans(struct sbuf *s, X509 *x, struct san_at **pos,
                     size_t *n, size_t *total)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
                                           NULL);
    int i, k = gens ? sk_GENERAL_NAME_num(gens) : 0;
    size_t start = s->len;

    *pos = NULL;
    *n = *total = 0;
    if (k > 0 && !(*pos = malloc((k < MAX_SANS ? (size_t)k : MAX_SANS) *
                                 sizeof(**pos)))) {
        s->oom = 1;
        k = 0;
    }
    for (i = 0; i < k; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *str = NULL, *p;
        char ip[INET6_ADDRSTRLEN];
        size_t len = 0;

        if (g->type == GEN_DNS) {
            len = (size_t)ASN1_STRING_length(g->d.dNSName);
            str = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
        } else if (g->type == GEN_IPADD) {
            int alen = ASN1_STRING_length(g->d.iPAddress);
            const void *a = ASN1_STRING_get0_data(g->d.iPAddress);
            if ((alen == 4 || alen == 16) &&
                inet_ntop(alen == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip)))
                len = strlen(str = ip);
        }
        if (!str)
            continue;
        ++*total;
        if (*n == MAX_SANS || s->len - start + len + 1 > MAX_SAN_BYTES)
            continue;
        if ((p = sbuf_add(s, str, len)) != NULL) {
            (*pos)[*n].len = len;
            (*pos)[(*n)++].off = OFF(s, p);
        }
    }
    GENERAL_NAMES_free(gens);
}

static const char *at(const struct sbuf *s, size_t off)
{
    return off ? s->buf + off - 1 : NULL;
}

/* A static name, else the string at `off`. */
static const char *name_at(const struct sbuf *s, const char *name,
                           size_t off)
{
    return name ? name : at(s, off);
}

/* Offsets of the certificate's strings in the buffer. */
struct cert_at {
    size_t err, subj, iss, nb, na, ser, sha, spki;
};

/* Everything but the verification text. */
static void add_cert_facts(struct sbuf *s, X509 *x, struct cert_at *o)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    o->subj = add_name(s, X509_get_subject_name(x));
    o->iss = add_name(s, X509_get_issuer_name(x));
    o->nb = add_time(s, X509_get0_notBefore(x));
    o->na = add_time(s, X509_get0_notAfter(x));
    o->ser = add_serial(s, x);
    if (X509_digest(x, EVP_sha256(), md, &mdlen))
        o->sha = add_hex(s, md, mdlen);
    o->spki = add_spki(s, x);
}

static void add_cert(struct sbuf *s, X509 *x, long vr, struct cert_at *o)
{
    const char *e = X509_verify_cert_error_string(vr);

    memset(o, 0, sizeof(*o));
    o->err = OFF(s, sbuf_add(s, e, strlen(e)));
    add_cert_facts(s, x, o);
}

/* Whole days from now until `t`: the diff truncates toward zero, and a
 * certificate that expired a minute ago has -1 whole days left, not 0. */
static long days_until(const ASN1_TIME *t)
{
    int days = 0, secs = 0;

    if (!t || !ASN1_TIME_diff(&days, &secs, NULL, t))
        return 0;
    return days - (secs < 0 ? 1 : 0);
}

/* ---- the whole chain (cfg.tls_chain) ---- */

/* Where one certificate of the chain put its facts. */
struct chain_at {
    struct cert_at c;
    const char *ktype, *sig;    /* static names, or `ktype_off`/`sig_off` */
    size_t ktype_off, sig_off;
    int bits, is_ca;
};

/* What the facts learn about the chain before the one allocation. */
struct chain_facts {
    const ASN1_TIME *earliest;
    size_t earliest_off;
    struct chain_at cert[HSCAN_TLS_CHAIN_MAX];
    size_t n_cert;
    size_t fp[HSCAN_TLS_CHAIN_MAX];     /* verified path fingerprints */
    size_t n_fp;
    int verified_path, truncated;
};

static int tm_before(const struct tm *a, const struct tm *b)
{
    int x[6] = { a->tm_year, a->tm_mon, a->tm_mday, a->tm_hour, a->tm_min,
                 a->tm_sec };
    int y[6] = { b->tm_year, b->tm_mon, b->tm_mday, b->tm_hour, b->tm_min,
                 b->tm_sec };
    int i;

    for (i = 0; i < 6; i++)
        if (x[i] != y[i])
            return x[i] < y[i];
    return 0;
}

/* The soonest not_after in `sk`; unreadable dates are passed over. */
static const ASN1_TIME *earliest_in(STACK_OF(X509) *sk)
{
    const ASN1_TIME *best = NULL, *t;
    struct tm bt = { 0 }, tm;
    int i;

    for (i = 0; i < sk_X509_num(sk); i++) {
        t = X509_get0_notAfter(sk_X509_value(sk, i));
        if (t && ASN1_TIME_to_tm(t, &tm) == 1 &&
            (!best || tm_before(&tm, &bt))) {
            best = t;
            bt = tm;
        }
    }
    return best;
}

/* An object's OpenSSL name (long or short), else its dotted OID text
 * in the string buffer. */
static const char *obj_name(struct sbuf *s, const ASN1_OBJECT *o, int ln,
                            size_t *off)
{
    int nid = o ? OBJ_obj2nid(o) : NID_undef;
    const char *n = nid == NID_undef ? NULL
                    : ln ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid);
    char buf[128];
    int k;

    *off = 0;
    if (n || !o)
        return n;
    if ((k = OBJ_obj2txt(buf, sizeof(buf), o, 1)) > 0 &&
        (size_t)k < sizeof(buf))
        *off = OFF(s, sbuf_add(s, buf, (size_t)k));
    return NULL;
}

static void add_key(struct sbuf *s, X509 *x, struct chain_at *c)
{
    EVP_PKEY *k = X509_get0_pubkey(x);     /* NULL: unknown to OpenSSL */
    ASN1_OBJECT *alg = NULL;
    const X509_ALGOR *sig = NULL;
    const ASN1_OBJECT *sobj = NULL;

    c->bits = k && EVP_PKEY_get_bits(k) > 0 ? EVP_PKEY_get_bits(k) : 0;
    switch (k ? EVP_PKEY_get_base_id(k) : NID_undef) {
    case EVP_PKEY_RSA: c->ktype = "RSA"; break;
    case EVP_PKEY_RSA_PSS: c->ktype = "RSA-PSS"; break;
    case EVP_PKEY_EC: c->ktype = "EC"; break;
    case EVP_PKEY_ED25519: c->ktype = "Ed25519"; break;
    case EVP_PKEY_ED448: c->ktype = "Ed448"; break;
    case EVP_PKEY_DSA: c->ktype = "DSA"; break;
    default:
        X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL,
                               X509_get_X509_PUBKEY(x));
        c->ktype = obj_name(s, alg, 0, &c->ktype_off);
    }
    X509_get0_signature(NULL, &sig, x);
    if (sig)
        X509_ALGOR_get0(&sobj, NULL, NULL, sig);
    c->sig = obj_name(s, sobj, 1, &c->sig_off);
    c->is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

/* earliest_not_after over the verified path when `vr` says verified,
 * else over what was sent; with want_chain, every sent certificate's
 * facts and the path's fingerprints.  A verified handshake always has
 * its path (vcache.c sets it when it reuses a verdict): without one,
 * memory ran out. */
static void add_chain(struct sbuf *s, struct hscan__tls *t,
                      long vr, struct chain_facts *cf)
{
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(t->ssl);
    STACK_OF(X509) *path = vr == X509_V_OK ? SSL_get0_verified_chain(t->ssl)
                                           : NULL;
    int i, n;

    if (vr == X509_V_OK && !path) {
        s->oom = 1;
        return;
    }
    cf->earliest = earliest_in(path ? path : sent);
    cf->earliest_off = add_time(s, cf->earliest);
    if (!t->want_chain)
        return;
    n = sent ? sk_X509_num(sent) : 0;
    for (i = 0; i < n && i < HSCAN_TLS_CHAIN_MAX; i++) {
        struct chain_at *c = &cf->cert[cf->n_cert++];
        X509 *x = sk_X509_value(sent, i);

        memset(c, 0, sizeof(*c));
        add_cert_facts(s, x, &c->c);
        add_key(s, x, c);
    }
    cf->truncated = n > HSCAN_TLS_CHAIN_MAX;
    cf->verified_path = path != NULL;
    n = path ? sk_X509_num(path) : 0;
    for (i = 0; i < n && i < HSCAN_TLS_CHAIN_MAX; i++) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;

        if (!X509_digest(sk_X509_value(path, i), EVP_sha256(), md, &mdlen))
            s->oom = 1;
        cf->fp[cf->n_fp++] = add_hex(s, md, mdlen);
    }
    cf->truncated |= n > HSCAN_TLS_CHAIN_MAX;
}

/* The chain's part of the view, its arrays at `certs` and `fps`. */
static void chain_view(const struct sbuf *s, const struct hscan__tls *t,
                       const struct chain_facts *cf, hscan_cert_t *certs,
                       const char **fps, struct hscan__tls_facts *f)
{
    size_t i;

    f->v.earliest_not_after = at(s, cf->earliest_off);
    f->v.earliest_days_left = cf->earliest_off ? days_until(cf->earliest)
                                               : 0;
    if (!t->want_chain)
        return;
    for (i = 0; i < cf->n_cert; i++) {
        const struct chain_at *c = &cf->cert[i];
        hscan_cert_t *v = &certs[i];

        v->subject = at(s, c->c.subj);
        v->issuer = at(s, c->c.iss);
        v->serial = at(s, c->c.ser);
        v->not_before = at(s, c->c.nb);
        v->not_after = at(s, c->c.na);
        v->sha256 = at(s, c->c.sha);
        v->spki_sha256 = at(s, c->c.spki);
        v->key_type = name_at(s, c->ktype, c->ktype_off);
        v->key_bits = c->bits;
        v->sig_alg = name_at(s, c->sig, c->sig_off);
        v->is_ca = c->is_ca;
    }
    f->v.chain = certs;
    f->v.n_chain = cf->n_cert;
    for (i = 0; i < cf->n_fp; i++)
        fps[i] = at(s, cf->fp[i]);
    f->v.verified_chain = cf->verified_path ? fps : NULL;
    f->v.n_verified_chain = cf->verified_path ? cf->n_fp : 0;
    f->v.chain_truncated = cf->truncated;
}

static void cert_facts(struct hscan__tls *t, X509 *x, long vr,
                       const struct sbuf *s, const struct cert_at *o,
                       struct hscan__tls_facts *f)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);

    f->v.verify_code = vr;
    f->v.verified = vr == X509_V_OK;
    f->v.verify_error = vr == X509_V_OK ? NULL : at(s, o->err);
    f->v.subject = at(s, o->subj);
    f->v.issuer = at(s, o->iss);
    f->v.not_before = at(s, o->nb);
    f->v.not_after = at(s, o->na);
    f->v.serial = at(s, o->ser);
    f->v.sha256 = at(s, o->sha);
    f->v.spki_sha256 = at(s, o->spki);
    f->v.days_left = days_until(X509_get0_notAfter(x));
    f->v.chain_len = chain ? sk_X509_num(chain) : 1;
}

static void session_facts(struct hscan__tls *t, struct hscan__tls_facts *f);

/* Everything is gathered into one allocation: the facts struct, the
 * chain's certificates, the SAN pointer, path fingerprint and SAN
 * length arrays, the OCSP and SCT facts, and the strings. */
struct hscan__tls_facts *hscan__tls_facts(struct hscan__tls *t)
{
    X509 *x;
    struct cert_at o;
    struct san_at *pos = NULL;
    size_t n_sans = 0, n_total = 0, i, *lenv;
    struct hscan__tls_facts *f;
    struct sbuf s = { NULL, 0, 0, 0 };
    struct chain_facts cf;
    struct hscan__tls_stat st;
    hscan_cert_t *certs;
    const char **sanv, **fps;
    char *strings;
    long vr = 0;
    int hello;

    if (!t->ssl)
        return NULL;
    x = SSL_get0_peer_certificate(t->ssl);
    /* The ServerHello was processed once a cipher is pending. */
    hello = t->done || SSL_get_pending_cipher(t->ssl) != NULL;
    if (!x && !hello && t->alert < 0)
        return NULL;
    ERR_clear_error();
    cf.n_cert = cf.n_fp = cf.earliest_off = 0;
    cf.verified_path = cf.truncated = 0;
    if (x) {
        vr = SSL_get_verify_result(t->ssl);
        add_cert(&s, x, vr, &o);
        add_sans(&s, x, &pos, &n_sans, &n_total);
        add_chain(&s, t, vr, &cf);
    }
    hscan__tls_stat_gather(&st, t, x);
    /* Facts with a hole that memory made (a name, a digest, the SANs
     * left out) would pass for the certificate's own: none at all. */
    if (hscan__tls_errors_oom() || s.oom || st.oom ||
        !(f = calloc(1, sizeof(*f) + cf.n_cert * sizeof(*certs) +
                            (n_sans + cf.n_fp) * sizeof(char *) +
                            n_sans * sizeof(size_t) +
                            hscan__tls_stat_size(&st) + s.len))) {
        free(s.buf);
        free(pos);
        hscan__tls_stat_free(&st);
        return NULL;
    }
    certs = (hscan_cert_t *)(f + 1);
    sanv = (const char **)(certs + cf.n_cert);
    fps = sanv + n_sans;
    lenv = (size_t *)(fps + cf.n_fp);
    strings = (char *)(lenv + n_sans) + hscan__tls_stat_size(&st);
    hscan__tls_stat_place(&st, lenv + n_sans, &f->v);
    if (s.len)
        memcpy(strings, s.buf, s.len);
    free(s.buf);
    s.buf = strings;            /* offsets now point into the copy */
    f->v.verify_code = -1;      /* no certificate: no verdict */
    if (x) {
        cert_facts(t, x, vr, &s, &o, f);
        chain_view(&s, t, &cf, certs, fps, f);
    }
    if (t->want_chain && !f->v.chain)
        f->v.chain = certs;     /* none arrived: [] */
    for (i = 0; i < n_sans; i++) {
        sanv[i] = at(&s, pos[i].off);
        lenv[i] = pos[i].len;
    }
    free(pos);
    f->v.san = sanv;
    f->v.san_len = lenv;
    f->v.n_san = n_sans;
    f->v.n_san_total = n_total;
    f->v.san_truncated = n_sans < n_total;
    if (hello)
        session_facts(t, f);
    hscan__tls_facts_alert(f, t);
    return f;
}

/* What the ServerHello (and, TLS 1.3, EncryptedExtensions) agreed:
 * static strings from OpenSSL, the ALPN copied.  The cipher is the
 * pending one until the handshake completes. */
static void session_facts(struct hscan__tls *t, struct hscan__tls_facts *f)
{
    const unsigned char *a = NULL;
    unsigned int alen = 0;
    const SSL_CIPHER *c = t->done ? SSL_get_current_cipher(t->ssl)
                                  : SSL_get_pending_cipher(t->ssl);

    f->v.version = SSL_get_version(t->ssl);
    f->v.cipher = c ? SSL_CIPHER_get_name(c) : NULL;
    SSL_get0_alpn_selected(t->ssl, &a, &alen);
    if (alen >= sizeof(f->alpn))
        alen = sizeof(f->alpn) - 1;
    if (alen) {
        memcpy(f->alpn, a, alen);
        f->v.alpn = f->alpn;
    }
    hscan__hello_facts(t, f);
}
