/* tls-ctxs.c: one client SSL_CTX per distinct set of TLS options.
 *
 * The scanner's own options make its context (scan.c, s->ssl_ctx).  A
 * target submitted with client TLS options of its own
 * (hscan_target_opts_t: versions, cipher lists, groups, a client
 * certificate, extra CAs) needs a context made with them: the options
 * it names over the scanner's, the rest the scanner's.  Making one
 * costs a trust store reference, a verification cache and, with a
 * client certificate, reading and matching two PEM files, so contexts
 * are kept for the scanner's life and shared by every target with the
 * same merged options (a monitoring agent has a few modules, not a set
 * per target).  At most HSCAN__TLS_CTXS_MAX sets: a further one is
 * refused at submit (HSCAN_EINVAL), never evicted under a probe that
 * uses it.
 *
 * Each context has its own verification cache (vcache.c) and trust
 * store, so a verdict reached with one set of CAs never answers for
 * another.  Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

/* The merged options of one context, strings owned. */
struct ctx_entry {
    struct hscan__tls_opts o;
    SSL_CTX *ctx;
};

static void opts_free(struct hscan__tls_opts *o)
{
    free((char *)o->ca_file);
    free((char *)o->ciphers);
    free((char *)o->ciphersuites);
    free((char *)o->curves);
    free((char *)o->cert_file);
    free((char *)o->key_file);
    memset(o, 0, sizeof(*o));
}

static const char *dup_or_null(const char *s, int *ok)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *ok = 0;
    return d;
}

/* `dst` = copies of `src`'s strings.  0 or HSCAN_ENOMEM (then `dst`
 * holds nothing). */
static int opts_copy(struct hscan__tls_opts *dst,
                     const struct hscan__tls_opts *src)
{
    int ok = 1;

    dst->tls_min = src->tls_min;
    dst->tls_max = src->tls_max;
    dst->ca_file = dup_or_null(src->ca_file, &ok);
    dst->ciphers = dup_or_null(src->ciphers, &ok);
    dst->ciphersuites = dup_or_null(src->ciphersuites, &ok);
    dst->curves = dup_or_null(src->curves, &ok);
    dst->cert_file = dup_or_null(src->cert_file, &ok);
    dst->key_file = dup_or_null(src->key_file, &ok);
    if (ok)
        return 0;
    opts_free(dst);
    return HSCAN_ENOMEM;
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int opts_eq(const struct hscan__tls_opts *a,
                   const struct hscan__tls_opts *b)
{
    return a->tls_min == b->tls_min && a->tls_max == b->tls_max &&
           str_eq(a->ca_file, b->ca_file) && str_eq(a->ciphers, b->ciphers) &&
           str_eq(a->ciphersuites, b->ciphersuites) &&
           str_eq(a->curves, b->curves) &&
           str_eq(a->cert_file, b->cert_file) &&
           str_eq(a->key_file, b->key_file);
}

int hscan__tls_ctxs_init(struct hscan__tls_ctxs *c,
                         const struct hscan__tls_opts *base)
{
    memset(c, 0, sizeof(*c));
    return opts_copy(&c->base, base);
}

int hscan__tls_target_set(const hscan_target_opts_t *t)
{
    return t && (t->tls_min || t->tls_max || t->ciphers ||
                 t->ciphersuites || t->curves || t->cert_file ||
                 t->key_file || t->ca_file);
}

void hscan__tls_merge(struct hscan__tls_opts *o,
                      const struct hscan__tls_opts *base,
                      const hscan_target_opts_t *t)
{
    *o = *base;
    if (t->tls_min)
        o->tls_min = t->tls_min;
    if (t->tls_max)
        o->tls_max = t->tls_max;
    if (t->ciphers)
        o->ciphers = t->ciphers;
    if (t->ciphersuites)
        o->ciphersuites = t->ciphersuites;
    if (t->curves)
        o->curves = t->curves;
    if (t->ca_file)
        o->ca_file = t->ca_file;
    /* A key belongs to its certificate: never the scanner's key with
     * the target's certificate. */
    if (t->cert_file) {
        o->cert_file = t->cert_file;
        o->key_file = t->key_file;
    }
}

int hscan__tls_ctxs_get(struct hscan__tls_ctxs *c,
                        const hscan_target_opts_t *t, SSL_CTX **out,
                        char *detail, size_t dsize)
{
    struct hscan__tls_opts o;
    struct ctx_entry *e;
    size_t i;
    int rc;

    *out = NULL;
    if (!hscan__tls_target_set(t))
        return 0;
    hscan__tls_merge(&o, &c->base, t);
    if (o.tls_min && o.tls_max && o.tls_min > o.tls_max) {
        snprintf(detail, dsize, "tls_min above tls_max once merged with "
                 "the scanner's");
        return HSCAN_EINVAL;
    }
    for (i = 0; i < c->n; i++)
        if (opts_eq(&c->e[i].o, &o)) {
            *out = c->e[i].ctx;
            return 0;
        }
    if (c->n == HSCAN__TLS_CTXS_MAX) {
        snprintf(detail, dsize, "more than %d distinct sets of client TLS "
                 "options in one scanner", HSCAN__TLS_CTXS_MAX);
        return HSCAN_EINVAL;
    }
    if (!c->e && !(c->e = calloc(HSCAN__TLS_CTXS_MAX, sizeof(*c->e)))) {
        snprintf(detail, dsize, "out of memory");
        return HSCAN_ENOMEM;
    }
    e = &c->e[c->n];
    if ((rc = hscan__tls_ctx_new(&e->ctx, &o, detail, dsize)) != 0)
        return rc;
    if (opts_copy(&e->o, &o) != 0) {
        hscan__tls_ctx_free(e->ctx);
        e->ctx = NULL;
        snprintf(detail, dsize, "out of memory");
        return HSCAN_ENOMEM;
    }
    c->n++;
    *out = e->ctx;
    return 0;
}

void hscan__tls_ctxs_free(struct hscan__tls_ctxs *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        hscan__tls_ctx_free(c->e[i].ctx);
        opts_free(&c->e[i].o);
    }
    free(c->e);
    opts_free(&c->base);
    memset(c, 0, sizeof(*c));
}
