/* TLS over memory BIOs, and certificate facts.
 *
 * OpenSSL never touches the socket: the probe pushes received ciphertext
 * into `rbio` and sends whatever OpenSSL leaves in `wbio`, so the
 * handshake and every record ride the same uv loop as plain HTTP, with no
 * blocking call and no thread.  Pitfalls this file guards against:
 * - OpenSSL's error queue is per thread, shared by thousands of SSL
 *   objects here: clear it before every SSL call, drain it after.
 * - wbio is drained after every SSL call, failed ones included, so
 *   alerts reach the peer.
 * - SSL_read is called until WANT_READ: one call may leave buffered data.
 * - Verification is recorded, not enforced by OpenSSL (SSL_VERIFY_NONE
 *   plus the verify result): the certificate facts are wanted precisely
 *   when verification fails.  The probe turns a failure into
 *   tls_cert_invalid unless the user asked for --insecure.
 * - The host check needs SSL_set1_host (names) or the IP parameter
 *   (literals, which get no SNI: RFC 6066 3 forbids addresses there).
 */
#include <arpa/inet.h>
#include <errno.h>
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

#define MAX_SANS 256
#define MAX_SAN_BYTES 16384

static const unsigned char alpn_http11[] = { 8, 'h', 't', 't', 'p', '/',
                                             '1', '.', '1' };

/* Empty the thread's error queue.  Returns 1 when an entry in it says
 * memory ran out: OpenSSL 3.0 raises ERR_R_MALLOC_FAILURE where an
 * allocation fails, often below a more generic error of the caller, so
 * the whole queue is looked at.  Local shortage is resource_exhausted,
 * never a failure of the peer (docs/results.md). */
static int errors_say_oom(void)
{
    unsigned long e;
    int oom = 0;

    while ((e = ERR_get_error()) != 0)
        if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE ||
            (ERR_SYSTEM_ERROR(e) && ERR_GET_REASON(e) == ENOMEM))
            oom = 1;
    return oom;
}

int hscan__tls_errors_oom(void)
{
    return errors_say_oom();
}

int hscan__tls_ctx_new(SSL_CTX **out, const char *ca_file, char *detail,
                       size_t dsize)
{
    X509_STORE *store;
    SSL_CTX *ctx;
    int rc;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(detail, dsize, "SSL_CTX_new failed");
        return errors_say_oom() ? HSCAN_ENOMEM : HSCAN_EINIT;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    /* Thousands of idle handshakes: give buffers back between records. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* We only ever send a ClientHello, a Finished and one small request:
     * a 1 KiB record limit makes OpenSSL's write buffer 1 KiB instead of
     * 16 KiB per connection (larger writes just take more records). */
    SSL_CTX_set_max_send_fragment(ctx, 1024);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* The roots are loaded once per process and shared (trust.c); the
     * context holds its own reference. */
    if ((rc = hscan__trust_store(&store, ca_file, detail, dsize)) != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    SSL_CTX_set1_cert_store(ctx, store);
    X509_STORE_free(store);
    if (hscan__vcache_install(ctx) != 0) {
        SSL_CTX_free(ctx);
        snprintf(detail, dsize, "out of memory");
        return HSCAN_ENOMEM;
    }
    *out = ctx;
    return 0;
}

void hscan__tls_ctx_free(SSL_CTX *ctx)
{
    hscan__vcache_free(ctx);
    SSL_CTX_free(ctx);
}

int hscan__tls_start(struct hscan__tls *t, SSL_CTX *ctx, const char *host,
                     int family)
{
    memset(t, 0, sizeof(*t));
    ERR_clear_error();
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        SSL_free(t->ssl);           /* owns neither BIO yet */
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        memset(t, 0, sizeof(*t));
        ERR_clear_error();
        return HSCAN_ERESOURCE_EXHAUSTED;
    }
    /* An empty rbio means "no data yet", not end of file. */
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set0_rbio(t->ssl, t->rbio);
    SSL_set0_wbio(t->ssl, t->wbio);
    SSL_set_connect_state(t->ssl);
    /* With SSL_VERIFY_NONE, a chain check that could not even start
     * (no memory for its X509_STORE_CTX) leaves the result as it was:
     * X509_V_OK after SSL_new().  Start from "not verified" instead; a
     * check that runs overwrites it. */
    SSL_set_verify_result(t->ssl, X509_V_ERR_OUT_OF_MEM);
    /* Each of these copies its argument and fails only without memory
     * (names and literals were validated): an unset host or address
     * would let any certificate pass the name check. */
    if (SSL_set_alpn_protos(t->ssl, alpn_http11, sizeof(alpn_http11)) != 0 ||
        (family == 0 ? SSL_set_tlsext_host_name(t->ssl, host) != 1 ||
                           SSL_set1_host(t->ssl, host) != 1
                     : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
                                                     host) != 1)) {
        hscan__tls_free(t);
        ERR_clear_error();
        return HSCAN_ERESOURCE_EXHAUSTED;
    }
    return 0;
}

void hscan__tls_free(struct hscan__tls *t)
{
    if (t->ssl) {
        SSL_free(t->ssl);           /* frees both BIOs */
    } else {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
    }
    memset(t, 0, sizeof(*t));
}

int hscan__tls_feed(struct hscan__tls *t, const char *in, size_t n)
{
    if (!t->done && t->peek_len < sizeof(t->peek)) {
        size_t k = sizeof(t->peek) - t->peek_len;
        if (k > n)
            k = n;
        memcpy(t->peek + t->peek_len, in, k);
        t->peek_len += k;
    }
    return BIO_write(t->rbio, in, (int)n) == (int)n ? 0
                                                   : HSCAN_ERESOURCE_EXHAUSTED;
}

/* A reply that starts like HTTP (or other text) was not TLS at all. */
static int looks_plaintext(const struct hscan__tls *t)
{
    size_t i, text = 0;

    if (t->peek_len >= 5 && memcmp(t->peek, "HTTP/", 5) == 0)
        return 1;
    for (i = 0; i < t->peek_len; i++)
        text += (t->peek[i] >= 0x20 && t->peek[i] < 0x7f) ||
                t->peek[i] == '\r' || t->peek[i] == '\n';
    return t->peek_len >= 4 && text == t->peek_len;
}

static void plaintext_detail(const struct hscan__tls *t, char *d,
                             size_t dsize)
{
    char shown[sizeof(t->peek) + 1];
    size_t i;

    for (i = 0; i < t->peek_len && t->peek[i] != '\r' && t->peek[i] != '\n';
         i++)
        shown[i] = (t->peek[i] >= 0x20 && t->peek[i] < 0x7f)
                       ? (char)t->peek[i] : '.';
    shown[i] = '\0';
    snprintf(d, dsize, "server sent plain text: %s", shown);
}

int hscan__tls_plaintext(const struct hscan__tls *t, char *detail,
                         size_t dsize)
{
    if (!looks_plaintext(t))
        return 0;
    plaintext_detail(t, detail, dsize);
    return 1;
}

int hscan__tls_handshake(struct hscan__tls *t, char *detail, size_t dsize)
{
    int r, e;
    unsigned long err;

    ERR_clear_error();
    r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->done = 1;
        return 1;
    }
    e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (looks_plaintext(t)) {
        plaintext_detail(t, detail, dsize);
        ERR_clear_error();
        return HSCAN_ETLS_PLAINTEXT_REPLY;
    }
    err = ERR_peek_error();
    if (err) {
        char buf[160];
        ERR_error_string_n(err, buf, sizeof(buf));
        snprintf(detail, dsize, "%s", buf);
    } else {
        snprintf(detail, dsize, "handshake failed (SSL error %d)", e);
    }
    return errors_say_oom() ? HSCAN_ERESOURCE_EXHAUSTED
                            : HSCAN_ETLS_HANDSHAKE;
}

int hscan__tls_encrypt(struct hscan__tls *t, const char *buf, size_t n)
{
    size_t written = 0;

    ERR_clear_error();
    /* Memory BIOs take everything: one call writes it all. */
    if (SSL_write_ex(t->ssl, buf, n, &written) != 1 || written != n)
        return errors_say_oom() ? HSCAN_ERESOURCE_EXHAUSTED
                                : HSCAN_EWRITE_FAILED;
    return 0;
}

int hscan__tls_read(struct hscan__tls *t, char *out, size_t size,
                    char *detail, size_t dsize)
{
    size_t got = 0;
    int e;

    ERR_clear_error();
    if (SSL_read_ex(t->ssl, out, size, &got) == 1)
        return (int)got;
    e = SSL_get_error(t->ssl, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return HSCAN_EREAD_CLOSED;          /* close_notify: end of data */
    }
    snprintf(detail, dsize, "TLS: %s",
             ERR_reason_error_string(ERR_peek_error())
                 ? ERR_reason_error_string(ERR_peek_error())
                 : "read failed");
    return errors_say_oom() ? HSCAN_ERESOURCE_EXHAUSTED : HSCAN_EREAD_RESET;
}

char *hscan__tls_take_out(struct hscan__tls *t, size_t *len)
{
    char *data, *copy;
    long n = BIO_get_mem_data(t->wbio, &data);

    if (n <= 0)
        return NULL;
    *len = (size_t)n;
    if ((copy = malloc((size_t)n)) == NULL)
        return NULL;            /* the bytes stay; *len says so */
    memcpy(copy, data, (size_t)n);
    (void)BIO_reset(t->wbio);
    return copy;
}

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

/* SAN entries: DNS names as written, with their ASN.1 length (bytes that
 * are not printable ASCII are kept and escaped by the JSON writer; a NUL
 * byte cannot hide the rest of a name, CVE-2009-2417) and IP addresses in
 * text form. */
static void add_sans(struct sbuf *s, X509 *x, size_t *offs, size_t *lens,
                     size_t *n)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
                                           NULL);
    int i;

    *n = 0;
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens) && *n < MAX_SANS &&
                s->len < MAX_SAN_BYTES;
         i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char ip[INET6_ADDRSTRLEN];
        const char *p = NULL;
        size_t len = 0;

        if (g->type == GEN_DNS) {
            len = (size_t)ASN1_STRING_length(g->d.dNSName);
            p = sbuf_add(s, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                         len);
        } else if (g->type == GEN_IPADD) {
            int alen = ASN1_STRING_length(g->d.iPAddress);
            const void *a = ASN1_STRING_get0_data(g->d.iPAddress);
            if ((alen == 4 || alen == 16) &&
                inet_ntop(alen == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip)))
                p = sbuf_add(s, ip, len = strlen(ip));
        }
        if (p) {
            lens[*n] = len;
            offs[(*n)++] = OFF(s, p);
        }
    }
    GENERAL_NAMES_free(gens);
}

static const char *at(const struct sbuf *s, size_t off)
{
    return off ? s->buf + off - 1 : NULL;
}

static void session_facts(struct hscan__tls *t, struct hscan__tls_facts *f);

/* Everything is gathered into one allocation: the facts struct, its
 * SAN pointer array, and the strings. */
struct hscan__tls_facts *hscan__tls_facts(struct hscan__tls *t)
{
    X509 *x = SSL_get0_peer_certificate(t->ssl);
    size_t o_subj = 0, o_iss = 0, o_nb = 0, o_na = 0, o_sha = 0, o_spki = 0;
    size_t o_ser = 0, sans[MAX_SANS], san_lens[MAX_SANS], n_sans = 0, i;
    size_t o_err, *lenv;
    struct hscan__tls_facts *f;
    struct sbuf s = { NULL, 0, 0, 0 };
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    STACK_OF(X509) *chain;
    const char **sanv;
    char *strings;
    long vr;

    if (!x)
        return NULL;
    ERR_clear_error();
    vr = SSL_get_verify_result(t->ssl);
    o_err = OFF(&s, sbuf_add(&s, X509_verify_cert_error_string(vr),
                             strlen(X509_verify_cert_error_string(vr))));
    o_subj = add_name(&s, X509_get_subject_name(x));
    o_iss = add_name(&s, X509_get_issuer_name(x));
    o_nb = add_time(&s, X509_get0_notBefore(x));
    o_na = add_time(&s, X509_get0_notAfter(x));
    o_ser = add_serial(&s, x);
    if (X509_digest(x, EVP_sha256(), md, &mdlen))
        o_sha = add_hex(&s, md, mdlen);
    o_spki = add_spki(&s, x);
    add_sans(&s, x, sans, san_lens, &n_sans);
    /* Facts with a hole that memory made (a name, a digest, the SANs
     * left out) would pass for the certificate's own: none at all. */
    if (errors_say_oom() || s.oom) {
        free(s.buf);
        return NULL;
    }
    f = calloc(1, sizeof(*f) + n_sans * (sizeof(char *) + sizeof(size_t)) +
                      s.len);
    if (!f) {
        free(s.buf);
        return NULL;
    }
    sanv = (const char **)(f + 1);
    lenv = (size_t *)(sanv + n_sans);
    strings = (char *)(lenv + n_sans);
    if (s.len)
        memcpy(strings, s.buf, s.len);
    free(s.buf);
    s.buf = strings;            /* offsets now point into the copy */
    f->v.verify_code = vr;
    f->v.verified = vr == X509_V_OK;
    f->v.verify_error = vr == X509_V_OK ? NULL : at(&s, o_err);
    f->v.subject = at(&s, o_subj);
    f->v.issuer = at(&s, o_iss);
    f->v.not_before = at(&s, o_nb);
    f->v.not_after = at(&s, o_na);
    f->v.serial = at(&s, o_ser);
    f->v.sha256 = at(&s, o_sha);
    f->v.spki_sha256 = at(&s, o_spki);
    for (i = 0; i < n_sans; i++) {
        sanv[i] = at(&s, sans[i]);
        lenv[i] = san_lens[i];
    }
    f->v.san = sanv;
    f->v.san_len = lenv;
    f->v.n_san = n_sans;
    {
        int days = 0, secs = 0;
        /* The diff truncates toward zero; a certificate that expired a
         * minute ago has -1 whole days left, not 0. */
        if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
            f->v.days_left = days - (secs < 0 ? 1 : 0);
    }
    chain = SSL_get_peer_cert_chain(t->ssl);
    f->v.chain_len = chain ? sk_X509_num(chain) : 1;
    session_facts(t, f);
    return f;
}

/* Session facts, once the handshake is done (static strings from
 * OpenSSL, the ALPN copied). */
static void session_facts(struct hscan__tls *t, struct hscan__tls_facts *f)
{
    const unsigned char *a = NULL;
    unsigned int alen = 0;

    if (!t->done)
        return;
    f->v.version = SSL_get_version(t->ssl);
    f->v.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl));
    SSL_get0_alpn_selected(t->ssl, &a, &alen);
    if (alen >= sizeof(f->alpn))
        alen = sizeof(f->alpn) - 1;
    if (alen) {
        memcpy(f->alpn, a, alen);
        f->v.alpn = f->alpn;
    }
}
