/* Unit tests of the shared trust store (lib/trust.c): the system roots
 * are read once per process and every HTTPS scanner's SSL_CTX holds the
 * same X509_STORE, also after the last scanner closed; a ca_file gets
 * a store of its own made of the same root objects plus the file's;
 * a changed SSL_CERT_FILE is read again; two threads creating at once
 * load once.
 *
 * SSL_CERT_FILE points at a bundle of test CAs written here, so the
 * counts do not depend on the machine (and valgrind is quick).  Each
 * TEST runs in a fresh process (test-runner.c), so each starts with
 * nothing loaded.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <uv.h>

#include "certs.h"
#include "hscan.h"
#include "test-runner.h"
#include "tls.h"

struct pem {
    char path[64];
};

/* A PEM bundle of `n` new CA certificates; the first is kept in
 * `*keep` if given. */
static void write_bundle(struct pem *p, int n, struct tcert *keep)
{
    struct tcert ca;
    FILE *f;
    int fd, i;

    snprintf(p->path, sizeof(p->path), "/tmp/hscan-trust-XXXXXX");
    CHECK((fd = mkstemp(p->path)) >= 0);
    CHECK((f = fdopen(fd, "w")) != NULL);
    for (i = 0; i < n; i++) {
        CHECK(tcerts_ca(&ca) == 0);
        CHECK(PEM_write_X509(f, ca.cert) == 1);
        if (keep && i == 0)
            *keep = ca;
        else
            tcerts_free(&ca);
    }
    CHECK(fclose(f) == 0);
}

static int n_objects(X509_STORE *st)
{
    return sk_X509_OBJECT_num(X509_STORE_get0_objects(st));
}

static SSL_CTX *ctx_new(const char *ca_file)
{
    char detail[192];
    SSL_CTX *ctx = NULL;
    struct hscan__tls_opts o = { ca_file, 0, 0, NULL, NULL, NULL, NULL,
                                 NULL };

    CHECK_INT(hscan__tls_ctx_new(&ctx, &o, detail, sizeof(detail)), 0);
    CHECK(ctx != NULL);
    return ctx;
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    (void)scan;
    (void)r;
    (void)arg;
}

static void scanner(uv_loop_t *loop, hscan_t **out)
{
    hscan_config_t cfg;

    hscan_config_init(&cfg);
    cfg.resolvers = "127.0.0.1:53";
    cfg.scheme = HSCAN_SCHEME_HTTPS;
    cfg.on_result = on_result;
    CHECK_INT(hscan_new(out, loop, &cfg), 0);
}

TEST(trust_loaded_once)
{
    struct pem roots;
    uv_loop_t loop;
    hscan_t *a, *b;
    X509_STORE *st;
    SSL_CTX *c1, *c2;

    write_bundle(&roots, 3, NULL);
    CHECK(setenv("SSL_CERT_FILE", roots.path, 1) == 0);
    CHECK_INT(hscan__trust_loads(), 0);
    CHECK(uv_loop_init(&loop) == 0);
    scanner(&loop, &a);
    CHECK_INT(hscan__trust_loads(), 1);
    CHECK((st = hscan__trust_cached()) != NULL);
    CHECK_INT(n_objects(st), 3);
    scanner(&loop, &b);                 /* the second does not read */
    CHECK_INT(hscan__trust_loads(), 1);
    CHECK(hscan_close(a, NULL) == 0);
    CHECK(hscan_close(b, NULL) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* kept after the last scanner closed: a new one reads nothing */
    CHECK(hscan__trust_cached() == st);
    scanner(&loop, &a);
    CHECK_INT(hscan__trust_loads(), 1);
    CHECK(hscan_close(a, NULL) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    /* every context is on the very same store */
    c1 = ctx_new(NULL);
    c2 = ctx_new(NULL);
    CHECK(SSL_CTX_get_cert_store(c1) == st);
    CHECK(SSL_CTX_get_cert_store(c2) == st);
    CHECK_INT(hscan__trust_loads(), 1);
    hscan__tls_ctx_free(c1);
    hscan__tls_ctx_free(c2);
    CHECK(hscan__trust_cached() == st);
    /* the test hook drops it; the next context reads again */
    hscan__trust_flush();
    CHECK(hscan__trust_cached() == NULL);
    hscan__tls_ctx_free(ctx_new(NULL));
    CHECK_INT(hscan__trust_loads(), 2);
    unlink(roots.path);
}

TEST(trust_ca_file)
{
    struct pem roots, extra;
    struct tcert ca;
    char detail[192];
    SSL_CTX *plain, *with, *bad = NULL;
    struct hscan__tls_opts nofile = { "/nonexistent/ca.pem", 0, 0, NULL, NULL,
                                      NULL, NULL, NULL };
    X509_STORE *shared, *own;
    STACK_OF(X509_OBJECT) *objs;
    int i, found = 0;

    write_bundle(&roots, 2, NULL);
    write_bundle(&extra, 1, &ca);
    CHECK(setenv("SSL_CERT_FILE", roots.path, 1) == 0);
    plain = ctx_new(NULL);
    with = ctx_new(extra.path);
    CHECK_INT(hscan__trust_loads(), 1);     /* the roots, once */
    shared = SSL_CTX_get_cert_store(plain);
    own = SSL_CTX_get_cert_store(with);
    CHECK(own != shared && shared == hscan__trust_cached());
    CHECK_INT(n_objects(own), 3);
    /* the roots in it are the shared objects, not parsed again */
    objs = X509_STORE_get0_objects(own);
    for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        STACK_OF(X509_OBJECT) *r = X509_STORE_get0_objects(shared);
        int j, same = 0;

        for (j = 0; j < sk_X509_OBJECT_num(r); j++)
            same |= X509_OBJECT_get0_X509(sk_X509_OBJECT_value(r, j)) == x;
        if (!same) {
            CHECK(X509_cmp(x, ca.cert) == 0);   /* the file's own */
            found++;
        }
    }
    CHECK_INT(found, 1);
    CHECK_INT(n_objects(shared), 2);        /* untouched by the file */
    /* a file that does not load is refused and named */
    CHECK_INT(hscan__tls_ctx_new(&bad, &nofile, detail, sizeof(detail)),
              HSCAN_EINVAL);
    CHECK(bad == NULL);
    CHECK(strstr(detail, "/nonexistent/ca.pem") != NULL);
    hscan__tls_ctx_free(plain);
    hscan__tls_ctx_free(with);
    tcerts_free(&ca);
    unlink(roots.path);
    unlink(extra.path);
}

TEST(trust_env_change)
{
    struct pem one, two;
    SSL_CTX *a, *b;

    write_bundle(&one, 2, NULL);
    write_bundle(&two, 1, NULL);
    CHECK(setenv("SSL_CERT_FILE", one.path, 1) == 0);
    a = ctx_new(NULL);
    CHECK(setenv("SSL_CERT_FILE", two.path, 1) == 0);
    b = ctx_new(NULL);
    CHECK_INT(hscan__trust_loads(), 2);
    CHECK(SSL_CTX_get_cert_store(a) != SSL_CTX_get_cert_store(b));
    CHECK_INT(n_objects(SSL_CTX_get_cert_store(a)), 2);   /* its own */
    CHECK_INT(n_objects(SSL_CTX_get_cert_store(b)), 1);
    CHECK(hscan__trust_cached() == SSL_CTX_get_cert_store(b));
    hscan__tls_ctx_free(a);
    hscan__tls_ctx_free(b);
    unlink(one.path);
    unlink(two.path);
}

/* ---- two loops' threads creating contexts at once ---- */

static pthread_barrier_t start;

static void *make_ctx(void *arg)
{
    pthread_barrier_wait(&start);
    *(SSL_CTX **)arg = ctx_new(NULL);
    return NULL;
}

TEST(trust_two_threads)
{
    struct pem roots;
    pthread_t t[2];
    SSL_CTX *ctx[2] = { NULL, NULL };
    int i;

    write_bundle(&roots, 3, NULL);
    CHECK(setenv("SSL_CERT_FILE", roots.path, 1) == 0);
    CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
    for (i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, make_ctx, &ctx[i]) == 0);
    for (i = 0; i < 2; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(ctx[0] && ctx[1]);
    CHECK_INT(hscan__trust_loads(), 1);
    CHECK(SSL_CTX_get_cert_store(ctx[0]) == SSL_CTX_get_cert_store(ctx[1]));
    for (i = 0; i < 2; i++)
        hscan__tls_ctx_free(ctx[i]);
    pthread_barrier_destroy(&start);
    unlink(roots.path);
}
