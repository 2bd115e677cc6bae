/* TLS over memory BIOs (the certificate facts: tls-facts.c).
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
 * - A fatal alert from the server is its answer, not a failure of ours:
 *   OpenSSL queues it as SSL_AD_REASON_OFFSET + its description
 *   (3.0 rec_layer_s3.c), which is read off the error queue on the
 *   error path only, so a handshake that succeeds pays nothing for it.
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

/* ALPN offers (RFC 7301 wire form): h2 first, as curl and browsers. */
static const unsigned char alpn_http11[] = { 8, 'h', 't', 't', 'p', '/',
                                             '1', '.', '1' };
#ifdef HSCAN_HAVE_NGHTTP2
static const unsigned char alpn_h2[] = { 2, 'h', '2' };
static const unsigned char alpn_both[] = { 2, 'h', '2', 8, 'h', 't', 't',
                                           'p', '/', '1', '.', '1' };
#endif

/* Empty the thread's error queue.  Returns 1 when an entry in it says
 * memory ran out: OpenSSL 3.0 raises ERR_R_MALLOC_FAILURE where an
 * allocation fails, often below a more generic error of the caller, so
 * the whole queue is looked at.  Local shortage is resource_exhausted,
 * never a failure of the peer (docs/results.md).  With `alert`, the
 * description of a fatal alert the peer sent goes there (-1: none). */
static int take_errors(int *alert)
{
    unsigned long e;
    int oom = 0, r;

    if (alert)
        *alert = -1;
    while ((e = ERR_get_error()) != 0) {
        if (ERR_SYSTEM_ERROR(e)) {
            oom |= ERR_GET_REASON(e) == ENOMEM;
            continue;
        }
        r = ERR_GET_REASON(e);
        if (r == ERR_R_MALLOC_FAILURE)
            oom = 1;
        else if (alert && *alert < 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
                 r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256)
            *alert = r - SSL_AD_REASON_OFFSET;
    }
    return oom;
}

static int errors_say_oom(void)
{
    return take_errors(NULL);
}

int hscan__tls_errors_oom(void)
{
    return errors_say_oom();
}

/* Alert descriptions by their registered names (RFC 8446 6, RFC 5246
 * 7.2 and the IANA TLS Alerts registry): stable, unlike OpenSSL's
 * texts. */
static const char *alert_name(int desc)
{
    switch (desc) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 52: return "too_many_cids_requested";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 111: return "certificate_unobtainable";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 114: return "bad_certificate_hash_value";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    }
    return NULL;
}

/* "certificate_required (116)" (`with_code`) or "certificate_required";
 * "unassigned_200" for a number the registry does not name. */
static void alert_text(int desc, char *buf, size_t size, int with_code)
{
    const char *name = alert_name(desc);
    char un[24];

    if (!name) {
        snprintf(un, sizeof(un), "unassigned_%d", desc);
        name = un;
    }
    if (with_code && desc == 116)   /* RFC 8446 4.4.2.4 */
        snprintf(buf, size, "%s (%d): the server requires a client "
                 "certificate (cfg.cert_file, --cert)", name, desc);
    else if (with_code)
        snprintf(buf, size, "%s (%d)", name, desc);
    else
        snprintf(buf, size, "%s", name);
}

void hscan__tls_facts_alert(struct hscan__tls_facts *f,
                            const struct hscan__tls *t)
{
    f->v.alert_code = t->alert;
    f->v.alert = NULL;
    if (t->alert < 0)
        return;
    if ((f->v.alert = alert_name(t->alert)) == NULL) {
        alert_text(t->alert, f->alert, sizeof(f->alert), 0);
        f->v.alert = f->alert;
    }
}

/* ---- client TLS options ---- */

static int proto_version(int v)
{
    switch (v) {
    case HSCAN_TLS_1_0: return TLS1_VERSION;
    case HSCAN_TLS_1_1: return TLS1_1_VERSION;
    case HSCAN_TLS_1_2: return TLS1_2_VERSION;
    case HSCAN_TLS_1_3: return TLS1_3_VERSION;
    }
    return 0;
}

int hscan__tls_opts_of(struct hscan__tls_opts *o, const hscan_config_t *cfg)
{
    o->ca_file = cfg->ca_file;
    o->tls_min = cfg->tls_min;
    o->tls_max = cfg->tls_max;
    o->ciphers = cfg->ciphers;
    o->ciphersuites = cfg->ciphersuites;
    o->curves = cfg->curves;
    o->cert_file = cfg->cert_file;
    o->key_file = cfg->key_file;
    return o->tls_min || o->tls_max || o->ciphers || o->ciphersuites ||
           o->curves || o->cert_file || o->key_file;
}

/* An encrypted key must not make OpenSSL prompt on the terminal: the
 * library never blocks nor reads stdin.  No passphrase: it fails. */
static int no_passphrase(char *buf, int size, int rw, void *arg)
{
    (void)buf;
    (void)size;
    (void)rw;
    (void)arg;
    return -1;
}

/* Why OpenSSL refused the member `field` it was just given, into
 * `out`: the rule broken, then OpenSSL's reason. */
static void opt_reason(const char *field, char *out, size_t size)
{
    unsigned long e = ERR_peek_last_error();
    int lib = ERR_GET_LIB(e), r = ERR_GET_REASON(e);
    const char *why = e && ERR_reason_error_string(e)
                          ? ERR_reason_error_string(e) : "no reason given";
    const char *rule =
        strcmp(field, "ciphers") == 0
            ? "no TLS 1.2 cipher matches (TLS 1.3 suites go in "
              "ciphersuites)"
        : strcmp(field, "ciphersuites") == 0
            ? "not a list of TLS 1.3 suites OpenSSL knows "
              "(TLS_AES_128_GCM_SHA256:...)"
        : strcmp(field, "curves") == 0
            ? "not a list of groups OpenSSL knows (X25519:P-256:...)"
        : strcmp(field, "cert_file") == 0
            ? "cannot load a PEM certificate from it"
            : "cannot load a PEM private key from it (an encrypted key "
              "is not supported)";

    if (strcmp(field, "key_file") == 0 &&
        ((lib == ERR_LIB_X509 && (r == X509_R_KEY_VALUES_MISMATCH ||
                                  r == X509_R_KEY_TYPE_MISMATCH)) ||
         (lib == ERR_LIB_SSL && r == SSL_R_PRIVATE_KEY_MISMATCH)))
        rule = "the key does not match the certificate of cert_file";
    snprintf(out, size, "%s (OpenSSL: %s)", rule, why);
}

int hscan__tls_ctx_opts(SSL_CTX *ctx, const struct hscan__tls_opts *o,
                        const char **field, char *detail, size_t dsize)
{
    const char *f = NULL, *key = o->key_file ? o->key_file : o->cert_file;

    ERR_clear_error();
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (o->tls_min)
        SSL_CTX_set_min_proto_version(ctx, proto_version(o->tls_min));
    if (o->tls_max)
        SSL_CTX_set_max_proto_version(ctx, proto_version(o->tls_max));
    if (o->ciphers && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1)
        f = "ciphers";
    else if (o->ciphersuites &&
             SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1)
        f = "ciphersuites";
    else if (o->curves && SSL_CTX_set1_groups_list(ctx, o->curves) != 1)
        f = "curves";
    else if (o->cert_file &&
             SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
        f = "cert_file";
    else if (o->cert_file &&
             (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
              SSL_CTX_check_private_key(ctx) != 1))
        f = "key_file";
    if (!f)
        return 0;
    opt_reason(f, detail, dsize);
    if (errors_say_oom()) {
        snprintf(detail, dsize, "out of memory");
        return HSCAN_ENOMEM;
    }
    *field = f;
    return HSCAN_EINVAL;
}

int hscan__tls_ctx_new(SSL_CTX **out, const struct hscan__tls_opts *o,
                       char *detail, size_t dsize)
{
    X509_STORE *store;
    SSL_CTX *ctx;
    const char *field = NULL;
    char why[160];
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
    if (o && (rc = hscan__tls_ctx_opts(ctx, o, &field, why,
                                       sizeof(why))) != 0) {
        snprintf(detail, dsize, "%s: %s", field ? field : "TLS", why);
        SSL_CTX_free(ctx);
        return rc;
    }
    /* The roots are loaded once per process and shared (trust.c); the
     * context holds its own reference. */
    if ((rc = hscan__trust_store(&store, o ? o->ca_file : NULL, detail,
                                 dsize)) != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    SSL_CTX_set1_cert_store(ctx, store);
    X509_STORE_free(store);
    if (hscan__vcache_install(ctx) != 0 ||
        hscan__tls_stat_install(ctx) != 0) {
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
                     int family, int http_version, const char *sni,
                     int no_sni)
{
    const unsigned char *alpn = alpn_http11;
    unsigned alen = sizeof(alpn_http11);
    /* With cfg.sni the certificate answers for that name, as Go's
     * ServerName: a name sent and another checked would report a
     * mismatch for the certificate the name picked. */
    const char *name = sni ? sni : host;
    int ok;

    memset(t, 0, sizeof(*t));
    t->alert = -1;
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
    hscan__hello_watch(t);
    SSL_set_app_data(t->ssl, t);    /* tls-ocsp.c's extension callback */
    /* With SSL_VERIFY_NONE, a chain check that could not even start
     * (no memory for its X509_STORE_CTX) leaves the result as it was:
     * X509_V_OK after SSL_new().  Start from "not verified" instead; a
     * check that runs overwrites it. */
    SSL_set_verify_result(t->ssl, X509_V_ERR_OUT_OF_MEM);
    /* Each of these copies its argument and fails only without memory
     * (names and literals were validated): an unset host or address
     * would let any certificate pass the name check. */
#ifdef HSCAN_HAVE_NGHTTP2
    if (http_version == HSCAN_HTTP_2) {
        alpn = alpn_h2;
        alen = sizeof(alpn_h2);
    } else if (http_version != HSCAN_HTTP_1_1) {
        alpn = alpn_both;
        alen = sizeof(alpn_both);
    }
#else
    (void)http_version;
#endif
    ok = SSL_set_alpn_protos(t->ssl, alpn, alen) == 0;
    if (ok && (sni || family == 0))
        ok = (no_sni || SSL_set_tlsext_host_name(t->ssl, name) == 1) &&
             SSL_set1_host(t->ssl, name) == 1;
    else if (ok)
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
                                           host) == 1;
    if (!ok) {
        hscan__tls_free(t);
        ERR_clear_error();
        return HSCAN_ERESOURCE_EXHAUSTED;
    }
    return 0;
}

void hscan__tls_free(struct hscan__tls *t)
{
    free(t->sct_ext);
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
    int r, e, oom, alert;
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
    oom = take_errors(&alert);
    if (alert >= 0) {
        t->alert = alert;
        alert_text(alert, detail, dsize, 1);
        return HSCAN_ETLS_ALERT;
    }
    return oom ? HSCAN_ERESOURCE_EXHAUSTED : HSCAN_ETLS_HANDSHAKE;
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
    int e, oom, alert;

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
    oom = take_errors(&alert);
    if (alert >= 0) {
        t->alert = alert;
        alert_text(alert, detail, dsize, 1);
        return HSCAN_ETLS_ALERT;
    }
    return oom ? HSCAN_ERESOURCE_EXHAUSTED : HSCAN_EREAD_RESET;
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
