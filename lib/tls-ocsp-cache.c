/* A cache of stapled OCSP verdicts for one SSL_CTX (tls-ocsp.c).
 *
 * A stapled response is the same bytes for every name a certificate
 * covers until the server fetches the next one (hours), and reading it
 * is costly: decoding the response and the responder certificate it
 * embeds, one signature, the issuer checks, about 2.7 M instructions
 * (docs/performance.md) where a whole HTTPS host costs 5.5 M.  So the
 * facts taken from it (status, times, reason, the SCTs it carries, the
 * verdict or why not) are kept, keyed by SHA-256 over the stapled bytes,
 * the leaf's and the issuer's certificates (tls-ocsp.c makes the key):
 * another leaf or issuer, another key, so a verdict never answers for a
 * chain it was not reached with.
 *
 * An entry lives VC_TTL seconds and never past the next time its
 * verdict could change (tls-ocsp.c gives it: thisUpdate and nextUpdate
 * with their skew, the responder certificate's validity), as vcache.c
 * does for chains.  Direct-mapped: a collision only evicts.  Made on
 * the first stapled response a context reads (a scan whose servers
 * staple nothing allocates nothing), freed with the context (an
 * ex_data free callback).  Loop thread only, like the context.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "tls.h"

#define OC_SLOTS 256
#define OC_TTL 300

/* The OCSP part of a struct hscan__tls_stat, with offsets relative to
 * the start of its strings (still +1 based; 0: none). */
struct oc_snap {
    int verified;
    const char *status, *reason;
    size_t revoked_at, this_update, next_update, error;
    size_t n, n_total;
    size_t len;                 /* bytes of strings after the SCTs */
    struct {
        const char *source;
        size_t log_id, ts;
    } sct[];
};

struct oc_entry {
    unsigned char key[32];
    time_t expires;             /* 0: empty */
    struct oc_snap *snap;
};

struct oc_cache {
    struct oc_entry slot[OC_SLOTS];
};

static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static int ex_index = -1;

static void cache_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                       long argl, void *argp)
{
    struct oc_cache *c = ptr;
    int i;

    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (!c)
        return;
    for (i = 0; i < OC_SLOTS; i++)
        free(c->slot[i].snap);
    free(c);
}

static void index_init(void)
{
    ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, cache_free);
}

int hscan__ocsp_cache_init(void)
{
    return CRYPTO_THREAD_run_once(&once, index_init) && ex_index >= 0
               ? 0 : -1;
}

static struct oc_entry *slot_of(SSL_CTX *ctx, const unsigned char *key,
                                int make)
{
    struct oc_cache *c;
    unsigned h;

    if (ex_index < 0 || !ctx)
        return NULL;
    c = SSL_CTX_get_ex_data(ctx, ex_index);
    if (!c && make) {
        if (!(c = calloc(1, sizeof(*c))))
            return NULL;
        if (!SSL_CTX_set_ex_data(ctx, ex_index, c)) {
            free(c);
            return NULL;
        }
    }
    if (!c)
        return NULL;
    h = (unsigned)key[0] | (unsigned)key[1] << 8;
    return &c->slot[h % OC_SLOTS];
}

/* An offset of the stat's (st->buf + off - 1) relative to `base`. */
static size_t rel(size_t off, size_t base)
{
    return off ? off - base : 0;
}

void hscan__ocsp_cache_put(SSL_CTX *ctx, const unsigned char key[32],
                           const struct hscan__tls_stat *st,
                           const struct hscan__ocsp_mark *m, time_t until)
{
    struct oc_entry *e;
    struct oc_snap *s;
    size_t i, n = st->n - m->n, len = st->len - m->len;
    time_t now = time(NULL);

    if (st->oom || until <= now || !(e = slot_of(ctx, key, 1)))
        return;
    s = malloc(sizeof(*s) + n * sizeof(s->sct[0]) + len);
    if (!s)
        return;
    s->verified = st->verified;
    s->status = st->status;
    s->reason = st->reason;
    s->revoked_at = rel(st->revoked_at, m->len);
    s->this_update = rel(st->this_update, m->len);
    s->next_update = rel(st->next_update, m->len);
    s->error = rel(st->error, m->len);
    s->n = n;
    s->n_total = st->n_total - m->n_total;
    s->len = len;
    for (i = 0; i < n; i++) {
        s->sct[i].source = st->sct[m->n + i].source;
        s->sct[i].log_id = rel(st->sct[m->n + i].log_id, m->len);
        s->sct[i].ts = rel(st->sct[m->n + i].ts, m->len);
    }
    if (len)
        memcpy((char *)&s->sct[n], st->buf + m->len, len);
    free(e->snap);
    memcpy(e->key, key, 32);
    e->snap = s;
    e->expires = until < now + OC_TTL ? until : now + OC_TTL;
}

/* `off` relative to the snapshot, as an offset of st->buf. */
static size_t abs_of(size_t off, size_t base)
{
    return off ? off + base : 0;
}

int hscan__ocsp_cache_get(SSL_CTX *ctx, const unsigned char key[32],
                          struct hscan__tls_stat *st)
{
    struct oc_entry *e = slot_of(ctx, key, 0);
    const struct oc_snap *s;
    size_t i, base;

    if (!e || !e->expires || memcmp(e->key, key, 32) != 0)
        return 0;
    if (e->expires <= time(NULL)) {
        free(e->snap);
        e->snap = NULL;
        e->expires = 0;
        return 0;
    }
    s = e->snap;
    if (st->len + s->len > st->cap) {
        size_t cap = st->len + s->len + 64;
        char *b = realloc(st->buf, cap);
        if (!b) {
            st->oom = 1;
            return 1;           /* the facts are lost either way */
        }
        st->buf = b;
        st->cap = cap;
    }
    base = st->len;
    if (s->len)
        memcpy(st->buf + base, (const char *)&s->sct[s->n], s->len);
    st->len += s->len;
    st->stapled = 1;
    st->verified = s->verified;
    st->status = s->status;
    st->reason = s->reason;
    st->revoked_at = abs_of(s->revoked_at, base);
    st->this_update = abs_of(s->this_update, base);
    st->next_update = abs_of(s->next_update, base);
    st->error = abs_of(s->error, base);
    st->n_total += s->n_total;
    for (i = 0; i < s->n && st->n < HSCAN__MAX_SCTS; i++) {
        st->sct[st->n].source = s->sct[i].source;
        st->sct[st->n].log_id = abs_of(s->sct[i].log_id, base);
        st->sct[st->n].ts = abs_of(s->sct[i].ts, base);
        st->n++;
    }
    return 1;
}
