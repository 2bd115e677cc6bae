/* c-ares on the scanner's uv loop.
 *
 * Lookups: one per (name, family) in flight, shared by every caller
 * asking meanwhile; a per-scan answer cache; pacing (MAX_LOOKUPS and
 * --dns-rate); retries on another resolver; answers told on the loop.
 * The c-ares channel, its sockets and its timer are dns-io.c, reading
 * replies (the answer walker, the error of a failed lookup) dns-walk.c.
 *
 * Queries are plain ares_query() calls for A and AAAA (no search list, no
 * hosts file: a scanner asks the network, and reading /etc/hosts per
 * lookup would be blocking file I/O on the scan path).  "localhost" is
 * answered locally (RFC 6761 6.3).
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns-int.h"

/* One name's lookup, shared by every caller asking for it meanwhile,
 * then (if its answer may be kept) its cached answer.  Entries live in a
 * hash table by (name, family); finished ones also on an LRU list.  An
 * entry dropped from both while queries still hold it (answers not yet
 * told) is `gone`: the last of them frees it. */
struct lookup {
    struct lookup *hnext;           /* hash chain */
    struct hscan__queue lru;        /* on d->lru while cached */
    struct hscan__queue wait;       /* on d->wait while L_QUEUED */
    struct hscan__queue waiters;    /* struct hscan__dnsq, oldest first */
    struct hscan__dns *d;
    struct work *w;                 /* while queued or sent */
    uint32_t hash;
    int family;
    int state;                      /* L_QUEUED, L_SENT, L_DONE */
    int delivering;                 /* callers being told: not expired */
    int gone;                       /* off the table, freed by unref() */
    unsigned refs;                  /* queries holding it */
    unsigned sends;                 /* times sent (retries included) */
    uint64_t sent_ms;               /* uv_now() of the last send */
    uint64_t expires;               /* uv_now() ms; L_DONE only */
    int err;
    const char *detail;             /* a failure's, NULL on success:
                                       static, or ours with detail_heap */
    struct hscan__addr *addrs;      /* L_DONE: the answer, exactly sized */
    unsigned n_addrs;
    char *cnames;
    size_t cname_len;
    unsigned n_cnames;
    int cname_oom;                  /* a CNAME could not be kept */
    unsigned char detail_heap;      /* `detail` is allocated */
    char name[];
};

/* Lookup scratch from when it is sent (at most MAX_LOOKUPS at once, so
 * thousands of queued names cost no scratch) until the answer is in. */
struct work {
    int pending;                /* outstanding ares callbacks + 1 while
                                   sending */
    int status_a, status_aaaa;  /* ARES_* of each query, -1 if not sent */
    uint32_t ttl;               /* smallest TTL of the records used */
    struct hscan__addr v4[HSCAN__MAX_ADDRS], v6[HSCAN__MAX_ADDRS];
    unsigned n_v4, n_v6;
};

enum { L_QUEUED, L_SENT, L_DONE };

/* A caller's handle on a lookup. */
struct hscan__dnsq {
    hscan__dns_cb cb;
    void *ctx;
    struct lookup *l;
    struct hscan__queue node;       /* on l->waiters; on d->ready once
                                       the answer is in but not told */
};

/* Lookups sent at once.  Thousands of slots opening together would
 * otherwise fire thousands of queries in one burst: answers overflow the
 * receive buffers (ours and the resolver's) and come back as false
 * dns_timeout records, and a real resolver sees a flood.  The rest wait
 * in FIFO order; their DNS deadline already runs. */
#define MAX_LOOKUPS 1000

static void on_pace(uv_timer_t *t);

int hscan__dns_new(struct hscan__dns **out, uv_loop_t *loop,
                   const struct hscan__dns_opts *opt,
                   char *detail, size_t dsize)
{
    struct hscan__dns *d = calloc(1, sizeof(*d));
    int rc;

    if (!d)
        return HSCAN_ENOMEM;
    hscan__queue_init(&d->wait);
    hscan__queue_init(&d->ready);
    hscan__queue_init(&d->spare_q);
    hscan__queue_init(&d->lru);
    d->nbuckets = 256;
    d->table = calloc(d->nbuckets, sizeof(*d->table));
    if (!d->table) {
        free(d);
        return HSCAN_ENOMEM;
    }
    rc = hscan__dnsio_open(d, loop, opt, detail, dsize);
    if (rc != 0) {
        free(d->table);
        free(d);
        return rc;
    }
    d->cache_max = opt->cache_max;
    if (opt->rate) {
        /* The cap is per resolver; rotation spreads queries evenly. */
        d->rate = (double)opt->rate * d->nservers;
        d->burst = d->rate / 50 > 2 ? d->rate / 50 : 2;
        d->tokens = d->burst;
    }
    d->t_tokens = uv_now(loop);
    *out = d;
    return 0;
}

/* A failure's detail for `l`: a static text (`fixed`) is pointed at,
 * so no allocation can lose it; else `detail` is copied (NULL when that
 * fails).  Both NULL: none. */
static void set_detail(struct lookup *l, const char *fixed,
                       const char *detail)
{
    if (l->detail_heap)
        free((char *)l->detail);
    l->detail = fixed;
    l->detail_heap = 0;
    if (!fixed && detail) {
        l->detail = strdup(detail);
        l->detail_heap = l->detail != NULL;
    }
}

static void lookup_free(struct lookup *l)
{
    free(l->w);
    set_detail(l, NULL, NULL);
    free(l->addrs);
    free(l->cnames);
    free(l);
}

static void table_remove(struct hscan__dns *d, struct lookup *l)
{
    struct lookup **pp = &d->table[l->hash & (d->nbuckets - 1)];

    while (*pp && *pp != l)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = l->hnext;
        d->nentries--;
    }
}

static void lru_unlink(struct hscan__dns *d, struct lookup *l)
{
    if (hscan__queue_empty(&l->lru))
        return;                     /* not cached */
    hscan__queue_remove(&l->lru);
    d->ncached--;
}

static void lru_push(struct hscan__dns *d, struct lookup *l)
{
    hscan__queue_insert_head(&d->lru, &l->lru);
    d->ncached++;
}

/* Drop a finished entry from the table and the LRU list and free it,
 * or leave that to the last query that holds it. */
static void drop(struct hscan__dns *d, struct lookup *l)
{
    table_remove(d, l);
    lru_unlink(d, l);
    if (l->refs)
        l->gone = 1;
    else
        lookup_free(l);
}

static void unref(struct lookup *l)
{
    if (--l->refs == 0 && l->gone)
        lookup_free(l);
}

static struct hscan__dnsq *q_first(const struct hscan__queue *h)
{
    return hscan__queue_data(hscan__queue_head(h), struct hscan__dnsq, node);
}

/* Queries are recycled: with most lookups answered from the cache, a
 * malloc/free pair per query cost as much as the rest of a cache hit
 * (~150 of ~200 instructions).  `spare_q` holds at most as many as were
 * ever held at once, one per probe in flight, until the channel closes. */
static struct hscan__dnsq *q_new(struct hscan__dns *d)
{
    struct hscan__dnsq *q;

    if (hscan__queue_empty(&d->spare_q)) {
        if ((q = malloc(sizeof(*q))) != NULL)
            hscan__queue_init(&q->node);
        return q;
    }
    q = q_first(&d->spare_q);
    hscan__queue_remove(&q->node);
    return q;
}

/* Take `q` off its list and keep it for q_new(). */
static void q_put(struct hscan__dns *d, struct hscan__dnsq *q)
{
    hscan__queue_remove(&q->node);
    hscan__queue_insert_head(&d->spare_q, &q->node);
}

void hscan__dns_detach(struct hscan__dnsq *q)
{
    struct lookup *l = q->l;

    q_put(l->d, q);
    unref(l);
}

void hscan__dns_close(struct hscan__dns *d, void (*done)(void *), void *arg)
{
    struct lookup *l;
    size_t i;

    /* Queries still held go without a call: answers not yet told first
     * (freeing the `gone` entries they held), then those waiting on a
     * lookup.  Every other lookup, queued or in flight, is in the table
     * and freed from there, after the ares callbacks of those in flight
     * have run (ARES_EDESTRUCTION, from ares_destroy()). */
    while (!hscan__queue_empty(&d->ready))
        hscan__dns_detach(q_first(&d->ready));
    d->done = done;
    d->done_arg = arg;
    d->closing = 1;
    ares_destroy(d->channel);       /* closes its sockets: sock_close() */
    for (i = 0; i < d->nbuckets; i++) {
        while ((l = d->table[i]) != NULL) {
            d->table[i] = l->hnext;
            while (!hscan__queue_empty(&l->waiters))
                hscan__dns_detach(q_first(&l->waiters));
            lookup_free(l);
        }
    }
    while (!hscan__queue_empty(&d->spare_q)) {
        struct hscan__dnsq *q = q_first(&d->spare_q);
        hscan__queue_remove(&q->node);
        free(q);
    }
    free(d->table);
    d->table = NULL;
    hscan__dnsio_close(d);
}

void hscan__dns_stats(const struct hscan__dns *d, struct hscan__dns_stats *out)
{
    *out = d->st;
}

/* How long a finished lookup may answer later callers, in ms; 0: not at
 * all.  Addresses live as long as their smallest TTL (at most
 * CACHE_TTL_MAX); authoritative negatives (NXDOMAIN, no address of the
 * asked families) NEG_TTL; transient failures are never kept. */
#define CACHE_TTL_MAX 600
#define NEG_TTL 60

static uint64_t keep_ms(const struct lookup *l, uint32_t ttl)
{
    if (l->n_addrs)
        return (uint64_t)(ttl < CACHE_TTL_MAX ? ttl : CACHE_TTL_MAX) * 1000;
    if (l->err == HSCAN_EDNS_NXDOMAIN || l->err == HSCAN_EDNS_NO_ADDRESS)
        return NEG_TTL * 1000;
    return 0;
}

static void send_waiting(struct hscan__dns *d);
static void l_send(struct lookup *l);

/* Give `cb` a copy of finished lookup `l`'s outcome (the receiver owns
 * the copy, CNAMEs included). */
static void answer_from(const struct lookup *l, hscan__dns_cb cb, void *ctx)
{
    struct hscan__dns_answer ans;

    memset(&ans, 0, sizeof(ans));
    if (l->n_addrs)             /* addrs is NULL for a failure */
        memcpy(ans.addrs, l->addrs, l->n_addrs * sizeof(*l->addrs));
    ans.n_addrs = l->n_addrs;
    if (l->cname_len) {
        /* The caller's own copy; without it the record would lose the
         * chain silently. */
        if (!(ans.cnames = malloc(l->cname_len))) {
            ans.n_addrs = 0;
            cb(ctx, HSCAN_ERESOURCE_EXHAUSTED, "out of memory", &ans);
            return;
        }
        memcpy(ans.cnames, l->cnames, l->cname_len);
        ans.n_cnames = l->n_cnames;
    }
    cb(ctx, l->err, !l->err ? NULL : l->detail ? l->detail :
       "(detail lost: out of memory)", &ans);
}

/* Tell `q` the outcome of its finished lookup and let `q` go.  Its hold
 * on the entry lasts until the callback has returned: the detail it is
 * given lives there. */
static void tell(struct hscan__dnsq *q)
{
    struct lookup *l = q->l;
    hscan__dns_cb cb = q->cb;
    void *ctx = q->ctx;

    q_put(l->d, q);
    answer_from(l, cb, ctx);
    unref(l);
}

/* Tell every caller.  A callback may detach other callers of this entry
 * (a result callback that closes the scanner cancels their probes), so
 * the list is re-read after each one. */
static void deliver(struct lookup *l)
{
    l->delivering = 1;
    while (!hscan__queue_empty(&l->waiters))
        tell(q_first(&l->waiters));
    l->delivering = 0;
}

/* Move every node of `from` onto `to`, which is then its head. */
static void queue_move(struct hscan__queue *from, struct hscan__queue *to)
{
    hscan__queue_init(to);
    if (hscan__queue_empty(from))
        return;
    *to = *from;
    to->next->prev = to;
    to->prev->next = to;
    hscan__queue_init(from);
}

/* The loop turn after hscan__dns_resolve(), which never sends nor calls
 * back itself (no callback runs inside the call that caused it,
 * STYLE.md 5): send what it queued, tell the answers it found ready.
 * Answers that become ready while these are told (a callback asking
 * again) wait for the turn after, so one turn is bounded. */
static void on_kick(uv_idle_t *h)
{
    struct hscan__dns *d = h->data;
    struct hscan__queue batch;

    uv_idle_stop(h);
    send_waiting(d);
    queue_move(&d->ready, &batch);
    while (!hscan__queue_empty(&batch))
        tell(q_first(&batch));
}

/* One idle handle per channel, started once per loop turn however many
 * lookups ask: no syscall, and an O(1) start where a zero-delay timer
 * would sift the loop's heap of probe deadlines. */
static void kick(struct hscan__dns *d)
{
    if (!uv_is_active((uv_handle_t *)&d->kick))
        uv_idle_start(&d->kick, on_kick);
}

/* Both answers (or failures) of a sent lookup are in. */
static void finish_lookup(struct lookup *l)
{
    struct hscan__dns *d = l->d;
    struct work *w = l->w;
    int err = 0;
    unsigned i, n;
    uint64_t keep;
    char detail[96];
    const char *fixed = NULL;

    d->inflight--;
    if (d->closing) {           /* ares_destroy(): the table is going */
        return;
    }
    n = w->n_v4 + w->n_v6;
    if (n > HSCAN__MAX_ADDRS)
        n = HSCAN__MAX_ADDRS;
    if (n == 0) {
        err = hscan__dns_failure(w->status_a, w->status_aaaa, d->sock_errno,
                                 &fixed, detail, sizeof(detail));
        /* A resolver's SERVFAIL or REFUSED may be its own trouble: ask
         * the next one (rotation picks it), once per resolver, at most
         * three times in all, while someone still waits. */
        if ((err == HSCAN_EDNS_SERVFAIL || err == HSCAN_EDNS_REFUSED) &&
            l->sends < d->nservers && l->sends < 3 &&
            !hscan__queue_empty(&l->waiters)) {
            d->st.retries++;
            l_send(l);
            return;
        }
    } else {
        /* A chain with a hole is no answer: not kept either. */
        l->addrs = l->cname_oom ? NULL : malloc(n * sizeof(*l->addrs));
        if (!l->addrs) {
            n = 0;
            err = HSCAN_ERESOURCE_EXHAUSTED;
            fixed = "out of memory";
        }
        for (i = 0; i < n; i++)
            l->addrs[i] = i < w->n_v4 ? w->v4[i] : w->v6[i - w->n_v4];
    }
    l->n_addrs = n;
    l->err = err;
    set_detail(l, err ? fixed : NULL, err ? detail : NULL);
    l->state = L_DONE;
    keep = d->cache_max ? keep_ms(l, w->ttl) : 0;
    free(w);
    l->w = NULL;
    l->expires = uv_now(d->loop) + keep;
    deliver(l);
    if (keep && !d->closing) {
        lru_push(d, l);
        while (d->ncached > d->cache_max)
            drop(d, hscan__queue_data(d->lru.prev, struct lookup, lru));
    } else {
        drop(d, l);
    }
    send_waiting(d);
}

static void w_release(struct lookup *l)
{
    if (--l->w->pending == 0)
        finish_lookup(l);
}

static void add_cname(struct lookup *l, const char *name)
{
    size_t n = strlen(name) + 1;
    char *b;

    if (l->n_cnames >= HSCAN__MAX_CNAMES)
        return;
    b = realloc(l->cnames, l->cname_len + n);
    if (!b) {
        l->cname_oom = 1;           /* see finish_lookup() */
        return;
    }
    memcpy(b + l->cname_len, name, n);
    l->cnames = b;
    l->cname_len += n;
    l->n_cnames++;
}


static void on_cname(void *arg, const char *name)
{
    add_cname(arg, name);
}

static void parse_reply(struct lookup *l, int v6,
                        const unsigned char *abuf, int alen)
{
    struct work *w = l->w;
    int found;

    /* The A and AAAA chains are equal: the first answer records it. */
    found = hscan__dns_walk(abuf, alen, v6, v6 ? w->v6 : w->v4,
                            v6 ? &w->n_v6 : &w->n_v4, &w->ttl,
                            l->cnames ? NULL : on_cname, l);
    if (found <= 0) {
        /* A malformed reply is dns_failed ("Misformatted DNS reply"),
         * never cached, rather than a cached dns_no_address. */
        int st = found < 0 ? ARES_EBADRESP : ARES_ENODATA;
        if (v6)
            w->status_aaaa = st;
        else
            w->status_a = st;
    }
}

static void on_answer(void *arg, int status, int timeouts,
                      unsigned char *abuf, int alen, int v6)
{
    struct lookup *l = arg;

    (void)timeouts;
    /* c-ares 1.18 matches a reply by ID and question only, so a query
     * that comes back as it went (a reflecting peer; a UDP socket the
     * kernel connected to itself while the resolver's port was free)
     * reads as an empty answer and would be cached as dns_no_address.
     * A reply has QR set (RFC 1035 4.1.1). */
    if (abuf && alen >= 3 && !(abuf[2] & 0x80))
        status = ARES_EBADRESP;
    if (v6)
        l->w->status_aaaa = status;
    else
        l->w->status_a = status;
    if (status == ARES_SUCCESS)
        parse_reply(l, v6, abuf, alen);
    w_release(l);
}

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf,
                 int alen)
{
    on_answer(arg, status, timeouts, abuf, alen, 0);
}

static void on_aaaa(void *arg, int status, int timeouts, unsigned char *abuf,
                    int alen)
{
    on_answer(arg, status, timeouts, abuf, alen, 1);
}

static int is_localhost(const char *name)
{
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(name, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(name + n - 10, ".localhost", 10) == 0);
}

static struct lookup *lookup_new(struct hscan__dns *d, const char *name,
                                 size_t n, uint32_t h, int family)
{
    struct lookup *l = calloc(1, sizeof(*l) + n + 1);

    if (!l)
        return NULL;
    memcpy(l->name, name, n);
    l->name[n] = '\0';
    l->d = d;
    l->hash = h;
    l->family = family;
    l->state = L_QUEUED;
    hscan__queue_init(&l->lru);
    hscan__queue_init(&l->wait);
    hscan__queue_init(&l->waiters);
    return l;
}

/* An answer for "localhost" of its own, in no table: told like a cache
 * hit, freed with its query. */
static struct lookup *localhost_entry(struct hscan__dns *d, int family)
{
    static const uint8_t v4[4] = { 127, 0, 0, 1 };
    static const uint8_t v6[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 1 };
    struct lookup *l = lookup_new(d, "", 0, 0, family);
    struct hscan__addr *a;

    if (!l || !(l->addrs = calloc(2, sizeof(*l->addrs)))) {
        free(l);
        return NULL;
    }
    if (family != 6) {
        a = &l->addrs[l->n_addrs++];
        a->family = 4;
        memcpy(a->bytes, v4, 4);
    }
    if (family != 4) {
        a = &l->addrs[l->n_addrs++];
        a->family = 6;
        memcpy(a->bytes, v6, 16);
    }
    l->state = L_DONE;
    l->gone = 1;
    return l;
}

/* Send the queries of `l` (again, for a retry).  `l` may have finished
 * and be gone when this returns. */
static void l_send(struct lookup *l)
{
    struct hscan__dns *d = l->d;
    struct work *w = l->w;

    l->sends++;
    /* A retry starts over; CNAMEs of the first answer are kept. */
    w->status_a = w->status_aaaa = -1;
    w->n_v4 = w->n_v6 = 0;
    w->ttl = UINT32_MAX;
    l->state = L_SENT;
    l->sent_ms = uv_now(d->loop);
    d->inflight++;
    d->st.lookups++;
    w->pending = 1;                 /* held until both are sent */
    if (l->family != 6) {
        w->pending++;
        ares_query(d->channel, l->name, C_IN, T_A, on_a, l);
    }
    if (l->family != 4) {
        w->pending++;
        ares_query(d->channel, l->name, C_IN, T_AAAA, on_aaaa, l);
    }
    if (!uv_is_active((uv_handle_t *)&d->timer))
        hscan__dnsio_arm(d);    /* later queries time out later */
    if (w->pending == 1) {
        w_release(l);               /* both failed synchronously */
        return;
    }
    w->pending--;
}

/* --dns-rate: one token per query, refilled at `rate` per second up to
 * `burst`.  Returns 1 when `n` tokens were taken; else arms the pace
 * timer for when they will be there. */
static int take_tokens(struct hscan__dns *d, unsigned n)
{
    uint64_t now;
    double wait;

    if (d->rate <= 0)
        return 1;
    now = uv_now(d->loop);
    d->tokens += (double)(now - d->t_tokens) * d->rate / 1000.0;
    d->t_tokens = now;
    if (d->tokens > d->burst)
        d->tokens = d->burst;
    if (d->tokens >= n) {
        d->tokens -= n;
        return 1;
    }
    wait = ((double)n - d->tokens) * 1000.0 / d->rate;
    if (!uv_is_active((uv_handle_t *)&d->pace))
        uv_timer_start(&d->pace, on_pace, (uint64_t)wait + 1, 0);
    return 0;
}

static void on_pace(uv_timer_t *t)
{
    send_waiting(t->data);
}

/* Send waiting lookups while the window and the rate allow.  Runs from
 * answer callbacks too; the flag keeps a synchronous failure from
 * recursing. */
static void send_waiting(struct hscan__dns *d)
{
    struct lookup *l;

    if (d->draining || d->closing)
        return;
    d->draining = 1;
    while (d->inflight < MAX_LOOKUPS && !hscan__queue_empty(&d->wait)) {
        l = hscan__queue_data(hscan__queue_head(&d->wait), struct lookup,
                              wait);
        if (hscan__queue_empty(&l->waiters)) {
            /* Every caller gave up meanwhile. */
            hscan__queue_remove(&l->wait);
            table_remove(d, l);
            lookup_free(l);
            continue;
        }
        /* Out of memory: it waits for an answer to make room, or for
         * its callers' deadlines. */
        if (!l->w && !(l->w = calloc(1, sizeof(*l->w))))
            break;
        if (!take_tokens(d, l->family ? 1 : 2))
            break;
        hscan__queue_remove(&l->wait);
        l_send(l);
    }
    d->draining = 0;
}

static uint32_t name_hash(const char *s, size_t n, int family)
{
    uint32_t h = 2166136261u ^ (uint32_t)family;   /* FNV-1a */
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
    }
    return h;
}

static void grow_table(struct hscan__dns *d)
{
    size_t n = d->nbuckets * 2, i;
    struct lookup **t = calloc(n, sizeof(*t)), *l;

    if (!t)
        return;                     /* longer chains, still correct */
    for (i = 0; i < d->nbuckets; i++) {
        while ((l = d->table[i]) != NULL) {
            d->table[i] = l->hnext;
            l->hnext = t[l->hash & (n - 1)];
            t[l->hash & (n - 1)] = l;
        }
    }
    free(d->table);
    d->table = t;
    d->nbuckets = n;
}

/* The entry for (name, family), or NULL.  An expired one is dropped,
 * unless its callers are being told: until then it answers anyone
 * asking meanwhile (a callback asking again), even with a failure that
 * is not kept. */
static struct lookup *find(struct hscan__dns *d, const char *name, size_t n,
                           uint32_t h, int family)
{
    struct lookup *l;

    for (l = d->table[h & (d->nbuckets - 1)]; l; l = l->hnext) {
        if (l->hash == h && l->family == family &&
            strncasecmp(l->name, name, n) == 0 && l->name[n] == '\0')
            break;
    }
    if (l && l->state == L_DONE && !l->delivering &&
        uv_now(d->loop) >= l->expires) {
        drop(d, l);
        l = NULL;
    }
    return l;
}

/* A new lookup, in the table and queued to be sent on the next turn. */
static struct lookup *start(struct hscan__dns *d, const char *name, size_t n,
                            uint32_t h, int family)
{
    struct lookup *l = lookup_new(d, name, n, h, family);
    struct lookup **pp;

    if (!l)
        return NULL;
    if (d->nentries >= d->nbuckets)
        grow_table(d);
    pp = &d->table[h & (d->nbuckets - 1)];
    l->hnext = *pp;
    *pp = l;
    d->nentries++;
    hscan__queue_insert_tail(&d->wait, &l->wait);
    if (d->inflight < MAX_LOOKUPS)
        kick(d);    /* else an answer makes room and sends it */
    return l;
}

struct hscan__dnsq *hscan__dns_resolve(struct hscan__dns *d, const char *name,
                                       int family, hscan__dns_cb cb,
                                       void *ctx)
{
    size_t n = strlen(name);
    struct hscan__dnsq *q = q_new(d);
    struct lookup *l;
    uint32_t h;

    if (!q)
        return NULL;
    /* A trailing dot names the same host. */
    if (n > 1 && name[n - 1] == '.')
        n--;
    h = name_hash(name, n, family);
    if (is_localhost(name))
        l = localhost_entry(d, family);
    else if ((l = find(d, name, n, h, family)) == NULL)
        l = start(d, name, n, h, family);
    else if (l->state == L_DONE)
        d->st.cache_hits++;
    else
        d->st.coalesced++;          /* already on its way: share it */
    if (!l) {
        q_put(d, q);
        return NULL;
    }
    if (!hscan__queue_empty(&l->lru)) { /* most recently used first */
        lru_unlink(d, l);
        lru_push(d, l);
    }
    q->cb = cb;
    q->ctx = ctx;
    q->l = l;
    l->refs++;
    if (l->state == L_DONE) {
        hscan__queue_insert_tail(&d->ready, &q->node);
        kick(d);
    } else {
        hscan__queue_insert_tail(&l->waiters, &q->node);
    }
    return q;
}

uint64_t hscan__dns_sent_ms(const struct hscan__dnsq *q)
{
    return q->l->state == L_SENT ? q->l->sent_ms : 0;
}
