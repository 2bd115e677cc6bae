/* alloc-count.c: the counting allocator of the allocation-failure
 * sweep (see alloc-count.h and test-alloc-fail.c). */
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <openssl/crypto.h>
#include <uv.h>

#include "alloc-count.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

const char *const hook_name[N_HOOKS] = { "libhscan", "libuv", "c-ares",
                                         "openssl" };

/* Live blocks by address (open addressing, linear probing, backward
 * shift on removal), so a leak is charged to the allocator that made
 * the block.  Blocks made before the hooks or by libc itself are not in
 * it; freeing one is ignored. */
#define LIVE_BITS 18
#define LIVE_SLOTS (1u << LIVE_BITS)

static struct live_slot {
    void *p;
    unsigned char hook;
    unsigned long seq;          /* allocation number, for leak reports */
} live_tab[LIVE_SLOTS];

/* With HSCAN_ALLOC_N (one N, verbose): where each block was made. */
#define TRACE_SLOTS 65536
#define TRACE_DEPTH 14
static struct trace {
    unsigned long seq;
    int n;
    void *bt[TRACE_DEPTH];
} traces[TRACE_SLOTS];
int tracing;

struct alloc_count acount = { .fired = -1 };

struct fire_trace *fire;

static size_t slot_of(const void *p)
{
    uintptr_t v = (uintptr_t)p;

    v ^= v >> 17;
    v *= 0x9e3779b97f4a7c15ull;
    return (size_t)(v >> (64 - LIVE_BITS));
}

static void live_add(void *p, enum hook h)
{
    size_t i = slot_of(p), k;

    for (k = 0; k < LIVE_SLOTS && live_tab[i].p; k++)
        i = (i + 1) & (LIVE_SLOTS - 1);
    if (k == LIVE_SLOTS) {
        acount.table_full = 1;
        return;
    }
    live_tab[i].p = p;
    live_tab[i].hook = (unsigned char)h;
    live_tab[i].seq = ++acount.seq;
    acount.live[h]++;
    if (tracing) {
        struct trace *t = &traces[acount.seq % TRACE_SLOTS];
        t->seq = acount.seq;
        t->n = backtrace(t->bt, TRACE_DEPTH);
    }
}

static void live_remove(void *p)
{
    size_t i = slot_of(p), j, home;

    while (live_tab[i].p && live_tab[i].p != p)
        i = (i + 1) & (LIVE_SLOTS - 1);
    if (!live_tab[i].p)
        return;
    acount.live[live_tab[i].hook]--;
    /* Backward shift: move later entries of the run into the hole when
     * their home slot does not lie between the hole and them. */
    for (j = i;;) {
        live_tab[i].p = NULL;
        for (;;) {
            j = (j + 1) & (LIVE_SLOTS - 1);
            if (!live_tab[j].p)
                return;
            home = slot_of(live_tab[j].p);
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        live_tab[i] = live_tab[j];
        i = j;
    }
}

static int should_fail(enum hook h)
{
    long k;

    if (!acount.armed)
        return 0;
    k = ++acount.total;
    acount.calls[h]++;
    if (!acount.fail_at || k < acount.fail_at ||
        (k > acount.fail_at && !acount.from_on))
        return 0;
    if (acount.fired < 0) {
        acount.fired = h;
        if (fire) {
            fire->hook = h;
            fire->n = backtrace(fire->bt, 24);
        }
    }
    errno = ENOMEM;
    return 1;
}

static void *do_malloc(enum hook h, size_t n)
{
    void *p;

    if (should_fail(h))
        return NULL;
    if ((p = __real_malloc(n)) != NULL)
        live_add(p, h);
    return p;
}

static void *do_calloc(enum hook h, size_t n, size_t size)
{
    void *p;

    if (should_fail(h))
        return NULL;
    if ((p = __real_calloc(n, size)) != NULL)
        live_add(p, h);
    return p;
}

static void do_free(void *p)
{
    if (!p)
        return;
    live_remove(p);
    __real_free(p);
}

static void *do_realloc(enum hook h, void *p, size_t n)
{
    void *q;

    if (!p)
        return do_malloc(h, n);
    if (n == 0) {               /* OpenSSL passes this through to us */
        do_free(p);
        return NULL;
    }
    if (should_fail(h))
        return NULL;            /* `p` stays valid, as realloc says */
    if ((q = __real_realloc(p, n)) != NULL && q != p) {
        live_remove(p);
        live_add(q, h);
    }
    return q;
}

/* libhscan (the --wrap'ed symbols of this link) */
void *__wrap_malloc(size_t n) { return do_malloc(H_LIB, n); }
void *__wrap_calloc(size_t n, size_t s) { return do_calloc(H_LIB, n, s); }
void *__wrap_realloc(void *p, size_t n) { return do_realloc(H_LIB, p, n); }
void __wrap_free(void *p) { do_free(p); }

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = do_malloc(H_LIB, n);

    if (d)
        memcpy(d, s, n);
    return d;
}

/* libuv */
static void *uv_m(size_t n) { return do_malloc(H_UV, n); }
static void *uv_r(void *p, size_t n) { return do_realloc(H_UV, p, n); }
static void *uv_c(size_t n, size_t s) { return do_calloc(H_UV, n, s); }

/* c-ares */
static void *ares_m(size_t n) { return do_malloc(H_ARES, n); }
static void *ares_r(void *p, size_t n) { return do_realloc(H_ARES, p, n); }

/* OpenSSL */
static void *ssl_m(size_t n, const char *f, int l)
{
    (void)f;
    (void)l;
    return do_malloc(H_SSL, n);
}

static void *ssl_r(void *p, size_t n, const char *f, int l)
{
    (void)f;
    (void)l;
    return do_realloc(H_SSL, p, n);
}

static void ssl_f(void *p, const char *f, int l)
{
    (void)f;
    (void)l;
    do_free(p);
}

void install_hooks(void)
{
    void *warm[1];

    if (CRYPTO_set_mem_functions(ssl_m, ssl_r, ssl_f) != 1 ||
        uv_replace_allocator(uv_m, uv_r, uv_c, do_free) != 0 ||
        ares_library_init_mem(ARES_LIB_INIT_ALL, ares_m, do_free,
                              ares_r) != ARES_SUCCESS) {
        fprintf(stderr, "alloc-fail: cannot install the allocator hooks\n");
        exit(1);
    }
    /* backtrace() loads libgcc's unwinder on first use (allocating):
     * not inside an allocator hook. */
    backtrace(warm, 1);
}

void print_leaks(unsigned long seq0)
{
    size_t i;

    for (i = 0; i < LIVE_SLOTS; i++) {
        const struct live_slot *l = &live_tab[i];
        const struct trace *t = &traces[l->seq % TRACE_SLOTS];

        if (!l->p || l->seq <= seq0)
            continue;
        fprintf(stderr, "  %s block %p (allocation %lu) not freed, from:\n",
                hook_name[l->hook], l->p, l->seq);
        if (t->seq == l->seq)
            backtrace_symbols_fd((void *const *)t->bt, t->n, 2);
    }
}

void print_backtrace(void)
{
    if (fire && fire->n > 0) {
        fprintf(stderr, "  the failed allocation (%s), from:\n",
                hook_name[fire->hook]);
        backtrace_symbols_fd(fire->bt, fire->n, 2);
    }
}
