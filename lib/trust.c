/* The trust store: the system's CA bundle, loaded once per process and
 * shared by the SSL_CTX of every HTTPS scanner.
 *
 * Parsing the bundle (some 145 certificates) takes 20 to 80 ms, on the
 * loop, inside hscan_new(); before this, every HTTPS scanner paid it.
 * Now the first pays and the rest take a reference to the same
 * X509_STORE, which OpenSSL reference-counts and locks, so scanners on
 * loops in other threads may share it.  Creation is serialised by a
 * mutex: a second thread waits for the first's load rather than doing
 * its own.  No thread is started.
 *
 * The store stays loaded after the last scanner closes (a process that
 * makes a scanner per round, or one after another, pays once), until
 * OPENSSL_cleanup() (explicit or OpenSSL's own at exit), whose handler
 * frees it while OpenSSL still works, or else until the library is
 * unloaded at exit (destructor).  libhscan.so is linked -z nodelete, so
 * the handler cannot outlive the code.  Memory and leak checkers see
 * nothing left.
 *
 * What the roots are is decided as before: the file SSL_CERT_FILE
 * names (or OpenSSL's default file) loaded at once; failing that,
 * OpenSSL's default paths, whose hashed directory is read lazily during
 * verification.  The cache is keyed by SSL_CERT_FILE and SSL_CERT_DIR
 * as they were at the load: a process that changes them gets a new
 * load, and scanners made before keep the store they have.  A load that
 * ran out of memory is used by its scanner but never cached: it may
 * lack certificates.
 *
 * A scanner with `ca_file` gets a store of its own holding the shared
 * roots (references to the same X509 objects, not parsed again) and the
 * file's certificates, read at every hscan_new() so an edited file
 * takes effect as before.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "tls.h"

struct roots {
    X509_STORE *store;          /* the cache's reference; NULL: none */
    char *file_env, *dir_env;   /* SSL_CERT_FILE, SSL_CERT_DIR at load */
    int lazy;                   /* default paths: a directory lookup */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct roots cache;
static int handler_set;         /* OPENSSL_atexit(on_cleanup) done */
static unsigned long n_loads;   /* system roots read (tests) */

static void roots_free(struct roots *r)
{
    X509_STORE_free(r->store);
    free(r->file_env);
    free(r->dir_env);
    memset(r, 0, sizeof(*r));
}

/* Whether `v`, an environment value, is the one `kept` at load time. */
static int same_env(const char *kept, const char *v)
{
    return kept ? v && strcmp(kept, v) == 0 : !v;
}

static int env_copy(char **out, const char *v)
{
    *out = v ? strdup(v) : NULL;
    return !v || *out;
}

/* Read the system roots into a new store.  Returns 0, with `*oom` set
 * when OpenSSL ran out of memory on the way (the store may lack some),
 * or HSCAN_ENOMEM / HSCAN_EINVAL with `detail`. */
static int load_roots(struct roots *r, int *oom, char *detail,
                      size_t dsize)
{
    const char *env = getenv(X509_get_default_cert_file_env());
    const char *file = env && *env ? env : X509_get_default_cert_file();
    unsigned long e;

    /* The default paths would also add the hashed certificate
     * directory, which OpenSSL reads lazily: file I/O during a
     * verification, on the loop.  So the bundle first. */
    ERR_clear_error();
    n_loads++;
    if (!(r->store = X509_STORE_new())) {
        hscan__tls_errors_oom();
        snprintf(detail, dsize, "out of memory");
        return HSCAN_ENOMEM;
    }
    if (X509_STORE_load_file(r->store, file) == 1)
        return 0;
    *oom = hscan__tls_errors_oom();
    r->lazy = 1;
    if (X509_STORE_set_default_paths(r->store) == 1)
        return 0;
    e = ERR_peek_last_error();
    snprintf(detail, dsize, "cannot load CA certificates: %s",
             e ? ERR_reason_error_string(e) : "unknown error");
    *oom = hscan__tls_errors_oom();
    roots_free(r);
    return *oom ? HSCAN_ENOMEM : HSCAN_EINVAL;
}

/* OPENSSL_cleanup() runs this before it takes OpenSSL down. */
static void on_cleanup(void)
{
    pthread_mutex_lock(&lock);
    roots_free(&cache);
    pthread_mutex_unlock(&lock);
}

/* At exit when OPENSSL_cleanup() never ran (an application that asked
 * OpenSSL for no atexit handler): OpenSSL still works then, since its
 * cleanup would have emptied the cache first. */
__attribute__((destructor)) static void on_unload(void)
{
    on_cleanup();
}

/* Keep `r` as the process's roots (taking a reference for the cache)
 * unless it cannot be freed in time: then it stays the caller's
 * alone, loaded again by the next scanner. */
static void keep(struct roots *r)
{
    struct roots k = *r;

    if (!handler_set && OPENSSL_atexit(on_cleanup) != 1) {
        ERR_clear_error();
        return;
    }
    handler_set = 1;
    if (!env_copy(&k.file_env, getenv(X509_get_default_cert_file_env())) ||
        !env_copy(&k.dir_env, getenv(X509_get_default_cert_dir_env())) ||
        X509_STORE_up_ref(k.store) != 1) {
        free(k.file_env);
        free(k.dir_env);
        return;
    }
    roots_free(&cache);
    cache = k;
}

/* A new reference to the system roots in `r->store` (and `r->lazy`):
 * the cached ones, or loaded now.  Caller holds `lock`. */
static int system_roots(struct roots *r, char *detail, size_t dsize)
{
    int oom = 0, rc;

    memset(r, 0, sizeof(*r));
    if (cache.store &&
        same_env(cache.file_env, getenv(X509_get_default_cert_file_env())) &&
        same_env(cache.dir_env, getenv(X509_get_default_cert_dir_env())) &&
        X509_STORE_up_ref(cache.store) == 1) {
        r->store = cache.store;
        r->lazy = cache.lazy;
        return 0;
    }
    if ((rc = load_roots(r, &oom, detail, dsize)) == 0 && !oom)
        keep(r);
    return rc;
}

/* A store of the scanner's own: the roots' certificates and CRLs, then
 * `ca_file`'s. */
static int with_file(X509_STORE **out, const struct roots *r,
                     const char *ca_file, char *detail, size_t dsize)
{
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509_OBJECT) *objs;
    unsigned long e;
    int i, ok = st && X509_STORE_lock(r->store) == 1;

    if (ok) {
        objs = X509_STORE_get0_objects(r->store);
        for (i = 0; ok && i < sk_X509_OBJECT_num(objs); i++) {
            X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
            X509 *x = X509_OBJECT_get0_X509(o);
            X509_CRL *crl = X509_OBJECT_get0_X509_CRL(o);
            ok = x ? X509_STORE_add_cert(st, x)
                   : crl ? X509_STORE_add_crl(st, crl) : 1;
        }
        X509_STORE_unlock(r->store);
    }
    if (ok && r->lazy)
        ok = X509_STORE_set_default_paths(st);
    if (ok && X509_STORE_load_file(st, ca_file) == 1) {
        *out = st;
        return 0;
    }
    e = ERR_peek_last_error();
    snprintf(detail, dsize, "cannot load CA certificates from %s: %s",
             ca_file, e ? ERR_reason_error_string(e) : "unknown error");
    X509_STORE_free(st);
    return hscan__tls_errors_oom() || !st ? HSCAN_ENOMEM : HSCAN_EINVAL;
}

int hscan__trust_store(X509_STORE **out, const char *ca_file, char *detail,
                       size_t dsize)
{
    struct roots r;
    int rc;

    pthread_mutex_lock(&lock);
    rc = system_roots(&r, detail, dsize);
    pthread_mutex_unlock(&lock);
    if (rc != 0)
        return rc;
    if (!ca_file) {
        *out = r.store;
        return 0;
    }
    rc = with_file(out, &r, ca_file, detail, dsize);
    X509_STORE_free(r.store);
    return rc;
}

unsigned long hscan__trust_loads(void)
{
    unsigned long n;

    pthread_mutex_lock(&lock);
    n = n_loads;
    pthread_mutex_unlock(&lock);
    return n;
}

X509_STORE *hscan__trust_cached(void)
{
    X509_STORE *st;

    pthread_mutex_lock(&lock);
    st = cache.store;
    pthread_mutex_unlock(&lock);
    return st;
}

void hscan__trust_flush(void)
{
    on_cleanup();
}
