/* The ServerHello, parsed in place, and the server fingerprints made
 * from it.
 *
 * OpenSSL keeps no public copy of the ServerHello's extension list, so
 * a message callback (SSL_set_msg_callback) sees each handshake message
 * the server sends, decrypted, before OpenSSL processes it: a ServerHello
 * is parsed on the spot into a few dozen bytes of facts and nothing of
 * the message is kept; a NewSessionTicket sets a flag.  OpenSSL bounds
 * the message first (a ServerHello of at most 20,000 bytes, 3.0
 * statem_clnt.c SERVER_HELLO_MAX_LENGTH); the parser reads only the bytes
 * it is handed, whatever their length.
 *
 * Fingerprints (docs/results.md has both derivations worked by hand):
 * - JA3S (Salesforce, github.com/salesforce/ja3): md5 of
 *   "SSLVersion,Cipher,Extensions", decimal, extensions joined by '-' in
 *   the order sent.  SSLVersion is the hello's version field, as the
 *   reference ja3s.py reads it: 771 for TLS 1.3 too.
 * - JA4S (FoxIO, technical_details/JA4S.md): "t", the version (from
 *   supported_versions when present) as "13", the extension count (two
 *   digits, at most 99), the ALPN's first and last characters, "_", the
 *   cipher in hex, "_", the first 12 hex digits of sha256 over the
 *   extension types in order as 4-digit lowercase hex joined by ','
 *   ("000000000000" without extensions, JA4+ general rule 1).  The ALPN
 *   is what the ServerHello carries: in TLS 1.3 it travels in the
 *   encrypted EncryptedExtensions, so JA4S says "00" there, as every
 *   passive observer computes it, while the record's `alpn` has it.
 * Neither drops GREASE values from a server's extensions (the reference
 * implementations do not; a server cannot send one it was not offered).
 *
 * HelloRetryRequest (RFC 8446 4.1.4) is a ServerHello with a fixed
 * random.  The facts and fingerprints are those of the final
 * ServerHello, the one whose parameters the session uses; that a retry
 * came first is recorded (`hello_retry`).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "tls-hello.h"

#define MSG_SERVER_HELLO 2
#define MSG_NEW_SESSION_TICKET 4
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43

/* SHA-256("HelloRetryRequest"), RFC 8446 4.1.3. */
static const unsigned char hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
};

static const char hexd[] = "0123456789abcdef";

/* A length-checked reader over the message (c-ares ares_buf style). */
struct rd {
    const unsigned char *p;
    size_t left;
};

static int get8(struct rd *r, unsigned *v)
{
    if (r->left < 1)
        return -1;
    *v = r->p[0];
    r->p++;
    r->left--;
    return 0;
}

static int get16(struct rd *r, unsigned *v)
{
    if (r->left < 2)
        return -1;
    *v = (unsigned)r->p[0] << 8 | r->p[1];
    r->p += 2;
    r->left -= 2;
    return 0;
}

static int skip(struct rd *r, size_t n)
{
    if (r->left < n)
        return -1;
    r->p += n;
    r->left -= n;
    return 0;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

/* JA4's two ALPN characters from the first protocol name of the ALPN
 * extension body (RFC 7301 3.1): the first and last characters, or,
 * when either byte is not alphanumeric, the first and last digits of
 * the name in hex.  Returns -1 when the body is malformed. */
static int alpn_chars(struct rd body, char out[2])
{
    unsigned list, n;
    unsigned char a, z;

    if (get16(&body, &list) != 0 || list != body.left)
        return -1;
    if (list == 0) {
        out[0] = out[1] = '0';
        return 0;
    }
    if (get8(&body, &n) != 0 || n > body.left)
        return -1;
    if (n == 0) {
        out[0] = out[1] = '0';
        return 0;
    }
    a = body.p[0];
    z = body.p[n - 1];
    if (is_alnum(a) && is_alnum(z)) {
        out[0] = (char)a;
        out[1] = (char)z;
    } else {
        out[0] = hexd[a >> 4];
        out[1] = hexd[z & 15];
    }
    return 0;
}

/* One extension: its type kept in order, and what JA4S reads from it. */
static int one_ext(struct hscan__hello *h, unsigned type, struct rd body)
{
    unsigned v;

    if (h->n_ext < HSCAN__HELLO_MAX_EXT)
        h->ext[h->n_ext++] = (uint16_t)type;
    h->n_ext_total++;
    if (type == EXT_SUPPORTED_VERSIONS) {
        if (get16(&body, &v) != 0 || body.left != 0)
            return -1;
        h->version = (uint16_t)v;
    } else if (type == EXT_ALPN) {
        return alpn_chars(body, h->alpn);
    }
    return 0;
}

static int parse_exts(struct hscan__hello *h, struct rd *r)
{
    unsigned total, type, len;
    struct rd body;

    if (r->left == 0)
        return 0;           /* TLS 1.2 may end before extensions */
    if (get16(r, &total) != 0 || total != r->left)
        return -1;
    while (r->left > 0) {
        if (get16(r, &type) != 0 || get16(r, &len) != 0 || len > r->left)
            return -1;
        body.p = r->p;
        body.left = len;
        if (one_ext(h, type, body) != 0)
            return -1;
        (void)skip(r, len);
    }
    return 0;
}

int hscan__hello_parse(struct hscan__hello *h, const unsigned char *msg,
                       size_t len)
{
    struct hscan__hello n;
    struct rd r = { msg, len };
    unsigned type, v, sid, cipher, comp;
    size_t body;

    memset(&n, 0, sizeof(n));
    n.alpn[0] = n.alpn[1] = '0';
    if (get8(&r, &type) != 0 || type != MSG_SERVER_HELLO || r.left < 3)
        return -1;
    body = (size_t)r.p[0] << 16 | (size_t)r.p[1] << 8 | r.p[2];
    (void)skip(&r, 3);
    if (body != r.left || get16(&r, &v) != 0 || r.left < 32)
        return -1;
    n.hrr = memcmp(r.p, hrr_random, 32) == 0;
    (void)skip(&r, 32);
    if (get8(&r, &sid) != 0 || sid > 32 || skip(&r, sid) != 0 ||
        get16(&r, &cipher) != 0 || get8(&r, &comp) != 0)
        return -1;
    n.legacy_version = n.version = (uint16_t)v;
    n.cipher = (uint16_t)cipher;
    if (parse_exts(&n, &r) != 0)
        return -1;
    *h = n;
    return 0;
}

size_t hscan__hello_ja3s_str(const struct hscan__hello *h, char *buf,
                             size_t size)
{
    size_t i, k;
    int n;

    if (h->n_ext != h->n_ext_total)
        return 0;
    n = snprintf(buf, size, "%u,%u,", h->legacy_version, h->cipher);
    if (n < 0 || (size_t)n >= size)
        return 0;
    k = (size_t)n;
    for (i = 0; i < h->n_ext; i++) {
        n = snprintf(buf + k, size - k, "%s%u", i ? "-" : "", h->ext[i]);
        if (n < 0 || (size_t)n >= size - k)
            return 0;
        k += (size_t)n;
    }
    return k;
}

static int digest_hex(const EVP_MD *md, const char *s, size_t n, char *out,
                      size_t digits)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    size_t i;

    if (!EVP_Digest(s, n, d, &dlen, md, NULL) || 2 * (size_t)dlen < digits)
        return -1;
    for (i = 0; i < digits; i++)
        out[i] = hexd[i & 1 ? d[i / 2] & 15 : d[i / 2] >> 4];
    out[digits] = '\0';
    return 0;
}

int hscan__hello_ja3s(const struct hscan__hello *h, char out[33])
{
    char s[8 + 6 * HSCAN__HELLO_MAX_EXT];
    size_t n = hscan__hello_ja3s_str(h, s, sizeof(s));

    out[0] = '\0';
    if (n == 0 || digest_hex(EVP_md5(), s, n, out, 32) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    }
    return "00";
}

int hscan__hello_ja4s(const struct hscan__hello *h, char out[26])
{
    char list[5 * HSCAN__HELLO_MAX_EXT];
    size_t i, k = 0;
    unsigned e;

    out[0] = '\0';
    if (h->n_ext != h->n_ext_total)
        return -1;
    for (i = 0; i < h->n_ext; i++) {
        e = h->ext[i];
        if (i)
            list[k++] = ',';
        list[k++] = hexd[e >> 12];
        list[k++] = hexd[(e >> 8) & 15];
        list[k++] = hexd[(e >> 4) & 15];
        list[k++] = hexd[e & 15];
    }
    snprintf(out, 26, "t%s%02u%c%c_%04x_", ja4_version(h->version),
             h->n_ext_total > 99 ? 99u : (unsigned)h->n_ext_total,
             h->alpn[0], h->alpn[1], h->cipher);
    if (k == 0) {
        memcpy(out + 13, "000000000000", 13);
        return 0;
    }
    if (digest_hex(EVP_sha256(), list, k, out + 13, 12) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* ---- the hello as OpenSSL sees it ---- */

/* Every handshake message the server sends passes here (records and
 * our own messages return at once): a ServerHello is parsed into
 * t->hello, a NewSessionTicket sets t->ticket. */
static void on_msg(int write_p, int version, int content_type,
                   const void *buf, size_t len, SSL *ssl, void *arg)
{
    struct hscan__tls *t = arg;
    const unsigned char *m = buf;
    struct hscan__hello h;

    (void)version;
    (void)ssl;
    if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 1)
        return;
    if (m[0] == MSG_NEW_SESSION_TICKET) {
        t->ticket = 1;
    } else if (m[0] == MSG_SERVER_HELLO) {
        /* A hello that does not parse leaves no facts: OpenSSL will
         * reject it too. */
        t->have_hello = hscan__hello_parse(&h, m, len) == 0;
        if (t->have_hello) {
            t->hello = h;
            t->hello_retry |= h.hrr;
        }
    }
}

void hscan__hello_watch(struct hscan__tls *t)
{
    SSL_set_msg_callback(t->ssl, on_msg);
    SSL_set_msg_callback_arg(t->ssl, t);
}

/* The server's signature by its TLS SignatureScheme name (IANA TLS
 * SignatureScheme registry), from the key type and hash OpenSSL reports;
 * RSA-PSS is rsa_pss_pss_* when the leaf's key is itself an RSA-PSS
 * key, else rsa_pss_rsae_*.  A pair without a name (TLS 1.0/1.1's
 * md5-sha1) reads "RSA+MD5-SHA1".  NULL when the server signed
 * nothing. */
static const char *sigalg_name(SSL *ssl, char *buf, size_t size)
{
    int type = NID_undef, hash = NID_undef, pss_key;
    EVP_PKEY *leaf;
    const char *ts, *hs;

    if (!SSL_get_peer_signature_type_nid(ssl, &type) || type == NID_undef)
        return NULL;
    (void)SSL_get_peer_signature_nid(ssl, &hash);
    switch (type) {
    case EVP_PKEY_ED25519: return "ed25519";
    case EVP_PKEY_ED448: return "ed448";
    case EVP_PKEY_RSA_PSS:
        leaf = SSL_get0_peer_certificate(ssl)
                   ? X509_get0_pubkey(SSL_get0_peer_certificate(ssl))
                   : NULL;
        pss_key = leaf && EVP_PKEY_get_id(leaf) == EVP_PKEY_RSA_PSS;
        if (hash == NID_sha256)
            return pss_key ? "rsa_pss_pss_sha256" : "rsa_pss_rsae_sha256";
        if (hash == NID_sha384)
            return pss_key ? "rsa_pss_pss_sha384" : "rsa_pss_rsae_sha384";
        if (hash == NID_sha512)
            return pss_key ? "rsa_pss_pss_sha512" : "rsa_pss_rsae_sha512";
        break;
    case EVP_PKEY_RSA:
        if (hash == NID_sha1)
            return "rsa_pkcs1_sha1";
        if (hash == NID_sha256)
            return "rsa_pkcs1_sha256";
        if (hash == NID_sha384)
            return "rsa_pkcs1_sha384";
        if (hash == NID_sha512)
            return "rsa_pkcs1_sha512";
        break;
    case EVP_PKEY_EC:
        if (hash == NID_sha1)
            return "ecdsa_sha1";
        if (hash == NID_sha256)
            return "ecdsa_secp256r1_sha256";
        if (hash == NID_sha384)
            return "ecdsa_secp384r1_sha384";
        if (hash == NID_sha512)
            return "ecdsa_secp521r1_sha512";
        break;
    }
    ts = OBJ_nid2sn(type);
    hs = hash != NID_undef ? OBJ_nid2sn(hash) : NULL;
    snprintf(buf, size, "%s+%s", ts ? ts : "unknown", hs ? hs : "unknown");
    return buf;
}

void hscan__hello_facts(struct hscan__tls *t, struct hscan__tls_facts *f)
{
    int group = SSL_get_negotiated_group(t->ssl);
    const struct hscan__hello *h = &t->hello;

    /* OpenSSL's names for the groups are the IANA ones ("x25519",
     * "secp256r1", "ffdhe2048"); 0 is no named group (TLS 1.2 RSA key
     * exchange, or DHE with the server's own parameters). */
    f->v.group = group ? SSL_group_to_name(t->ssl, group) : NULL;
    f->v.sigalg = sigalg_name(t->ssl, f->sigalg, sizeof(f->sigalg));
    f->v.hello_retry = t->hello_retry;
    hscan__hello_facts_late(f, t);
    if (!t->have_hello)
        return;
    memcpy(f->ext, h->ext, h->n_ext * sizeof(h->ext[0]));
    f->v.extensions = f->ext;
    f->v.n_extensions = h->n_ext;
    /* md5 and sha256 over a few dozen bytes, once per handshake: with
     * the rest of this function about 16,000 instructions, 0.4% of an
     * HTTPS host (callgrind, TLS 1.3 against openssl s_server). */
    /* Both or neither: a digest that found no memory must not leave
     * one fingerprint standing for the hello. */
    if (hscan__hello_ja3s(h, f->ja3s) == 0 &&
        hscan__hello_ja4s(h, f->ja4s) == 0) {
        f->v.ja3s = f->ja3s;
        f->v.ja4s = f->ja4s;
    }
}

void hscan__hello_facts_late(struct hscan__tls_facts *f,
                             const struct hscan__tls *t)
{
    f->v.ticket = t->ticket;
}
