/* tls-floor: what one TLS handshake costs OpenSSL, with no sockets.
 *
 * usage: tls-floor [N]
 *
 * Makes a P-256 CA and a P-256 leaf it signs (SAN tls-floor.test), then
 * runs N handshakes between an OpenSSL client and an OpenSSL server in
 * this one thread, joined by memory BIOs: TLS 1.3, the default groups
 * and ciphers, the client verifying the chain against the CA and the
 * name (as hscan-cli does with --ca-file), then one small request and
 * response. No session resumption. Prints one line:
 *
 *   impl=openssl version=3.0.19 n=N client_ms=X pair_ms=Y
 *
 * client_ms is the CPU time (CLOCK_THREAD_CPUTIME_ID) spent in the
 * client's calls per handshake; pair_ms is the whole loop's, client and
 * server, per handshake. tls-floor.go does the same with Go's
 * crypto/tls, so the two lines compare the libraries' handshakes
 * without the kernel, DNS, HTTP or the scanners around them (bench.py
 * --tls-floor runs both, interleaved).
 *
 * The client's calls are the functions client_*, so that
 * `valgrind --tool=callgrind --toggle-collect='client_*' tls-floor 300`
 * counts the client's instructions alone.
 *
 * Build: cc -O2 -Wall -Wextra -std=c11 -D_GNU_SOURCE -o tls-floor \
 *        tls-floor.c -lssl -lcrypto
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NAME "tls-floor.test"

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "tls-floor: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* A certificate for `key` named `cn`, signed by `ikey` as `issuer` (or
 * self-signed when issuer is NULL); a CA when san is NULL. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                       EVP_PKEY *ikey, const char *san)
{
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    if (x == NULL || X509_set_version(x, 2) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(x), san ? 2 : 1) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
        X509_set_pubkey(x, key) != 1 ||
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
                                   MBSTRING_ASC, (const unsigned char *)cn,
                                   -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x))
            != 1)
        die("certificate");
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, san ? NID_subject_alt_name
                                             : NID_basic_constraints,
                              san ? san : "critical,CA:TRUE");
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
        die("extension");
    X509_EXTENSION_free(ext);
    if (X509_sign(x, ikey, EVP_sha256()) <= 0)
        die("X509_sign");
    return x;
}

/* Move what one side wrote to the other side's input. */
static void pump(BIO *from, BIO *to)
{
    char buf[16384];
    int n;

    while ((n = BIO_read(from, buf, sizeof buf)) > 0)
        if (BIO_write(to, buf, n) != n)
            die("BIO_write");
}

static const char req[] = "GET / HTTP/1.1\r\nHost: " NAME "\r\n\r\n";

/* The client's side: SNI and host name, a handshake step, the request
 * once the chain checked out, the response and the free. */
__attribute__((noinline)) static void client_setup(SSL *c)
{
    if (SSL_set_tlsext_host_name(c, NAME) != 1 ||
        SSL_set1_host(c, NAME) != 1)
        die("SSL_set1_host");
}

__attribute__((noinline)) static int client_handshake(SSL *c)
{
    return SSL_do_handshake(c) == 1;
}

__attribute__((noinline)) static void client_request(SSL *c)
{
    if (SSL_get_verify_result(c) != X509_V_OK ||
        SSL_write(c, req, sizeof req - 1) != (int)sizeof req - 1)
        die("client verify or write");
}

__attribute__((noinline)) static int client_read(SSL *c, char *buf,
                                                 int len)
{
    int n = SSL_read(c, buf, len);

    SSL_free(c);
    return n;
}

int main(int argc, char **argv)
{
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
    X509 *ca, *leaf;
    SSL_CTX *sctx, *cctx;
    double t0, client = 0;
    char buf[512];

    if (n < 1 || ca_key == NULL || key == NULL)
        die("setup");
    ca = make_cert(ca_key, "tls-floor CA", NULL, ca_key, NULL);
    leaf = make_cert(key, NAME, ca, ca_key, "DNS:" NAME);
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    if (sctx == NULL || cctx == NULL ||
        SSL_CTX_use_certificate(sctx, leaf) != 1 ||
        SSL_CTX_use_PrivateKey(sctx, key) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), ca) != 1)
        die("SSL_CTX");
    SSL_CTX_set_num_tickets(sctx, 0);
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(cctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);

    t0 = cpu_now();
    for (long i = 0; i < n; i++) {
        SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
        BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
        BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
        int c_done = 0, s_done = 0;
        double t;

        if (c == NULL || s == NULL || !c_in || !c_out || !s_in || !s_out)
            die("SSL_new");
        SSL_set_bio(c, c_in, c_out);
        SSL_set_bio(s, s_in, s_out);
        SSL_set_connect_state(c);
        SSL_set_accept_state(s);
        t = cpu_now();
        client_setup(c);
        client += cpu_now() - t;
        for (int round = 0; round < 8 && !(c_done && s_done); round++) {
            t = cpu_now();
            if (!c_done)
                c_done = client_handshake(c);
            client += cpu_now() - t;
            pump(c_out, s_in);
            if (!s_done && SSL_do_handshake(s) == 1)
                s_done = 1;
            pump(s_out, c_in);
        }
        if (!c_done)
            die("client handshake");
        t = cpu_now();
        client_request(c);
        client += cpu_now() - t;
        pump(c_out, s_in);
        if (!s_done || SSL_read(s, buf, sizeof buf) <= 0 ||
            SSL_write(s, rsp, sizeof rsp - 1) != (int)sizeof rsp - 1)
            die("server");
        pump(s_out, c_in);
        t = cpu_now();
        if (client_read(c, buf, sizeof buf) != (int)sizeof rsp - 1)
            die("client read");
        client += cpu_now() - t;
        SSL_free(s);
    }
    printf("impl=openssl version=%s n=%ld client_ms=%.4f pair_ms=%.4f\n",
           OpenSSL_version(OPENSSL_VERSION_STRING), n, client * 1e3 / n,
           (cpu_now() - t0) * 1e3 / n);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return 0;
}
