/* certs.c: in-memory test CA and leaf certificates (see certs.h). */
#include "certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define DAY 86400L
#define CA_FROM_DAYS -60
#define CA_TO_DAYS 3650

/* A random positive 64-bit serial (top bit clear, next bit set so the
 * DER integer is always eight bytes). */
static int set_serial(X509 *x)
{
    unsigned char b[8];
    BIGNUM *bn;
    int ok;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(b, sizeof(b), NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

/* Subject CN=`cn`; issuer is `issuer`'s subject, or the same name. */
static int set_names(X509 *x, const char *cn, const X509 *issuer)
{
    X509_NAME *n = X509_NAME_new();
    int ok;

    ok = n && X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                         (const unsigned char *)cn, -1,
                                         -1, 0) == 1 &&
         X509_set_subject_name(x, n) == 1 &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                        : n) == 1;
    X509_NAME_free(n);
    return ok ? 0 : -1;
}

/* Everything but the extensions and the signature. */
static X509 *cert_new(EVP_PKEY *key, const char *cn, const X509 *issuer,
                      int from_days, int to_days)
{
    X509 *x = X509_new();

    if (!x || X509_set_version(x, X509_VERSION_3) != 1 ||
        set_serial(x) != 0 || set_names(x, cn, issuer) != 0 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), from_days * DAY) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), to_days * DAY) ||
        X509_set_pubkey(x, key) != 1) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Add an extension given in openssl.cnf syntax. `issuer` is NULL for a
 * self-signed certificate. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509_EXTENSION *ext;
    X509V3_CTX ctx;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* The key identifiers: subject first, the authority one may use it. */
static int add_key_ids(X509 *x, X509 *issuer)
{
    if (add_ext(x, issuer, NID_subject_key_identifier, "hash") != 0)
        return -1;
    return add_ext(x, issuer, NID_authority_key_identifier,
                   "keyid:always");
}

static int push_name(GENERAL_NAMES *gens, int type, const char *v)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = NULL;

    if (!g)
        return -1;
    if (type == GEN_DNS) {
        s = ASN1_IA5STRING_new();
        if (s && ASN1_STRING_set(s, v, -1) != 1) {
            ASN1_STRING_free(s);
            s = NULL;
        }
    } else {
        s = a2i_IPADDRESS(v);
    }
    if (!s) {
        GENERAL_NAME_free(g);
        return -1;
    }
    GENERAL_NAME_set0_value(g, type, s);
    if (sk_GENERAL_NAME_push(gens, g) <= 0) {
        GENERAL_NAME_free(g);
        return -1;
    }
    return 0;
}

static int add_sans(X509 *x, const char *const *dns, int n_dns,
                    const char *const *ip, int n_ip)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int i, rc = gens ? 0 : -1;

    for (i = 0; rc == 0 && i < n_dns; i++)
        rc = push_name(gens, GEN_DNS, dns[i]);
    for (i = 0; rc == 0 && i < n_ip; i++)
        rc = push_name(gens, GEN_IPADD, ip[i]);
    if (rc == 0 && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
                                     X509V3_ADD_DEFAULT) != 1)
        rc = -1;
    GENERAL_NAMES_free(gens);
    return rc;
}

static int finish(struct tcert *out, EVP_PKEY *key, X509 *x,
                  EVP_PKEY *signer, int rc)
{
    if (rc == 0 && X509_sign(x, signer, EVP_sha256()) <= 0)
        rc = -1;
    if (rc != 0) {
        X509_free(x);
        EVP_PKEY_free(key);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->key = key;
    out->cert = x;
    return 0;
}

int tcerts_ca(struct tcert *ca)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? cert_new(key, "hscan test CA", NULL, CA_FROM_DAYS,
                             CA_TO_DAYS)
                  : NULL;
    int rc = x ? 0 : -1;

    if (rc == 0)
        rc = add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
    if (rc == 0)
        rc = add_ext(x, NULL, NID_key_usage,
                     "critical,keyCertSign,cRLSign");
    if (rc == 0)
        rc = add_key_ids(x, NULL);
    return finish(ca, key, x, key, rc);
}

/* A Netscape comment of `len` 'x's: bulk that every verifier ignores. */
static int add_comment(X509 *x, X509 *issuer, size_t len)
{
    char *v = malloc(len + 1);
    int rc;

    if (!v)
        return -1;
    memset(v, 'x', len);
    v[len] = '\0';
    rc = add_ext(x, issuer, NID_netscape_comment, v);
    free(v);
    return rc;
}

int tcerts_sub_ca(struct tcert *out, const struct tcert *issuer,
                  const char *cn, size_t comment_len)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? cert_new(key, cn, issuer->cert, CA_FROM_DAYS,
                             CA_TO_DAYS)
                  : NULL;
    int rc = x ? 0 : -1;

    if (rc == 0 && comment_len > 0)
        rc = add_comment(x, issuer->cert, comment_len);

    if (rc == 0)
        rc = add_ext(x, issuer->cert, NID_basic_constraints,
                     "critical,CA:TRUE");
    if (rc == 0)
        rc = add_ext(x, issuer->cert, NID_key_usage,
                     "critical,keyCertSign,cRLSign");
    if (rc == 0)
        rc = add_key_ids(x, issuer->cert);
    return finish(out, key, x, issuer->key, rc);
}

int tcerts_leaf(struct tcert *out, const struct tcert *ca, const char *cn,
                const char *const *dns_sans, int n_dns,
                const char *const *ip_sans, int n_ip, int from_days,
                int to_days)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *issuer = ca ? ca->cert : NULL;
    X509 *x = key ? cert_new(key, cn, issuer, from_days, to_days) : NULL;
    int rc = x ? 0 : -1;

    if (rc == 0)
        rc = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
    if (rc == 0)
        rc = add_ext(x, issuer, NID_key_usage,
                     "critical,digitalSignature");
    if (rc == 0)
        rc = add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
    if (rc == 0)
        rc = add_key_ids(x, issuer);
    if (rc == 0)
        rc = add_sans(x, dns_sans, n_dns, ip_sans, n_ip);
    return finish(out, key, x, ca ? ca->key : key, rc);
}

int tcerts_rekey(struct tcert *c, EVP_PKEY *key, const struct tcert *issuer)
{
    int idx = X509_get_ext_by_NID(c->cert, NID_subject_key_identifier, -1);

    if (X509_set_pubkey(c->cert, key) != 1)
        return -1;
    if (idx >= 0)
        X509_EXTENSION_free(X509_delete_ext(c->cert, idx));
    if (add_ext(c->cert, issuer ? issuer->cert : NULL,
                NID_subject_key_identifier, "hash") != 0 ||
        X509_sign(c->cert, issuer ? issuer->key : key, EVP_sha256()) <= 0)
        return -1;
    EVP_PKEY_free(c->key);
    c->key = key;
    return 0;
}

int tcerts_write_pem(const struct tcert *c, const char *path)
{
    FILE *f = fopen(path, "w");
    int ok;

    if (!f)
        return -1;
    ok = PEM_write_X509(f, c->cert) == 1;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

void tcerts_free(struct tcert *c)
{
    EVP_PKEY_free(c->key);
    X509_free(c->cert);
    memset(c, 0, sizeof(*c));
}

/* 32 bytes as "ab:cd:..."; empty unless n is 32. */
static void hex_colons(const unsigned char *md, unsigned n, char out[96])
{
    static const char hx[] = "0123456789abcdef";
    unsigned i;

    out[0] = '\0';
    if (n != 32)
        return;
    for (i = 0; i < n; i++) {
        out[3 * i] = hx[md[i] >> 4];
        out[3 * i + 1] = hx[md[i] & 15];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
}

void tcerts_fingerprints(const X509 *x, char sha256[96],
                         char spki_sha256[96])
{
    unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned int n = 0;
    int len;

    if (X509_digest(x, EVP_sha256(), md, &n) != 1)
        n = 0;
    hex_colons(md, n, sha256);
    n = 0;
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (len <= 0 ||
        EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) != 1)
        n = 0;
    OPENSSL_free(der);
    hex_colons(md, n, spki_sha256);
}
