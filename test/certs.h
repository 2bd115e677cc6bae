/* certs.h: a throwaway test PKI built in memory with the OpenSSL 3 API.
 *
 * Keys are EC P-256. The CA (CN "hscan test CA") has basicConstraints
 * CA:TRUE and keyUsage keyCertSign, cRLSign. Leaves have CA:FALSE,
 * keyUsage digitalSignature, extendedKeyUsage serverAuth and
 * subjectAltName; all certificates carry a subjectKeyIdentifier and an
 * authorityKeyIdentifier, so a client that trusts the CA verifies a
 * leaf with the default X509_V_FLAG settings. Serials are random
 * positive 64-bit numbers. Nothing is global and nothing touches disk
 * except tcerts_write_pem().
 */
#ifndef HSCAN_TEST_CERTS_H
#define HSCAN_TEST_CERTS_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tcert {
    EVP_PKEY *key;
    X509 *cert;
};

/* A new CA, valid from 60 days ago to 10 years ahead. 0 or -1; on
 * failure `*ca` is zeroed. */
int tcerts_ca(struct tcert *ca);

/* An intermediate CA with common name `cn` signed by `issuer` (a CA or
 * another intermediate), with the CA's extensions and validity, plus,
 * if `comment_len` > 0, a Netscape comment of that many bytes (bulk
 * that verification ignores). 0 or -1; on failure `*out` is zeroed. */
int tcerts_sub_ca(struct tcert *out, const struct tcert *issuer,
                  const char *cn, size_t comment_len);

/* A leaf with common name `cn`, DNS SANs `dns_sans`[0..n_dns) (may
 * include wildcards such as "*.wild.test") and IP SANs
 * `ip_sans`[0..n_ip) ("127.0.0.1", "::1"), valid from now + `from_days`
 * to now + `to_days` (negative: in the past), signed by `ca` or, if
 * `ca` is NULL, by itself. 0 or -1; on failure `*out` is zeroed. */
int tcerts_leaf(struct tcert *out, const struct tcert *ca, const char *cn,
                const char *const *dns_sans, int n_dns,
                const char *const *ip_sans, int n_ip, int from_days,
                int to_days);

/* Give `c` the key pair `key` (a fixed RSA-8192 key, say, too slow to
 * generate per test): new public key and subjectKeyIdentifier, signed
 * again by `issuer` or, if `issuer` is NULL, by `key` itself. On
 * success `c` owns `key` and its old key is freed. 0 or -1; on failure
 * `c` is unusable (free it) and `key` is still the caller's. */
int tcerts_rekey(struct tcert *c, EVP_PKEY *key, const struct tcert *issuer);

/* Write the certificate (not the key) as PEM to `path`. 0 or -1. */
int tcerts_write_pem(const struct tcert *c, const char *path);

/* Free the key and certificate and zero `c` (a zeroed one is fine). */
void tcerts_free(struct tcert *c);

/* SHA-256 of the DER certificate and of its DER SubjectPublicKeyInfo,
 * as lowercase hex pairs joined by ':' ("ab:cd:...", 95 characters and
 * a NUL). On a digest failure the string is empty. */
void tcerts_fingerprints(const X509 *x, char sha256[96],
                         char spki_sha256[96]);

#endif
