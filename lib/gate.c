/* --max-per-ip (gate.h).
 *
 * One entry per address that has a connection open or waiting, in a
 * hash table that grows; an entry is freed as soon as nothing holds or
 * waits for it, so memory follows what is in flight, not the input.
 * Waiters are served first come, first served.  A probe waiting here has
 * no timer running (its deadline moves on by the time it waited, see
 * probe.c), so the order of the queue is the only thing that decides
 * when it goes.
 */
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "hscan.h"

struct gate_ent {
    struct gate_ent *next;          /* hash chain */
    struct hscan__addr addr;
    unsigned active;
    struct hscan__queue waiters;
};

struct hscan__gate {
    unsigned max;
    struct gate_ent **table;
    size_t nbuckets, n;
    uint64_t waits;
};

int hscan__gate_new(struct hscan__gate **out, unsigned max)
{
    struct hscan__gate *g = calloc(1, sizeof(*g));

    if (!g)
        return HSCAN_ENOMEM;
    g->max = max;
    g->nbuckets = 64;
    g->table = calloc(g->nbuckets, sizeof(*g->table));
    if (!g->table) {
        free(g);
        return HSCAN_ENOMEM;
    }
    *out = g;
    return 0;
}

void hscan__gate_free(struct hscan__gate *g)
{
    size_t i;
    struct gate_ent *e;

    if (!g)
        return;
    for (i = 0; i < g->nbuckets; i++) {
        while ((e = g->table[i]) != NULL) {
            g->table[i] = e->next;
            free(e);
        }
    }
    free(g->table);
    free(g);
}

uint64_t hscan__gate_waits(const struct hscan__gate *g)
{
    return g ? g->waits : 0;
}

static size_t addr_hash(const struct hscan__addr *a)
{
    uint32_t h = 2166136261u ^ a->family;
    int i, n = a->family == 6 ? 16 : 4;

    for (i = 0; i < n; i++)
        h = (h ^ a->bytes[i]) * 16777619u;
    return h;
}

static int addr_eq(const struct hscan__addr *a, const struct hscan__addr *b)
{
    return a->family == b->family &&
           memcmp(a->bytes, b->bytes, a->family == 6 ? 16 : 4) == 0;
}

static struct gate_ent **find(struct hscan__gate *g,
                              const struct hscan__addr *a)
{
    struct gate_ent **pp = &g->table[addr_hash(a) & (g->nbuckets - 1)];

    while (*pp && !addr_eq(&(*pp)->addr, a))
        pp = &(*pp)->next;
    return pp;
}

static void grow(struct hscan__gate *g)
{
    size_t n = g->nbuckets * 2, i;
    struct gate_ent **t = calloc(n, sizeof(*t)), *e;

    if (!t)
        return;                     /* longer chains, still correct */
    for (i = 0; i < g->nbuckets; i++) {
        while ((e = g->table[i]) != NULL) {
            g->table[i] = e->next;
            e->next = t[addr_hash(&e->addr) & (n - 1)];
            t[addr_hash(&e->addr) & (n - 1)] = e;
        }
    }
    free(g->table);
    g->table = t;
    g->nbuckets = n;
}

void hscan__gate_waiter_init(struct hscan__gate_waiter *w,
                             void (*on_open)(struct hscan__gate_waiter *))
{
    hscan__queue_init(&w->node);
    w->state = HSCAN__GATE_OUT;
    w->on_open = on_open;
}

size_t hscan__gate_size(const struct hscan__gate *g)
{
    return g ? g->n : 0;
}

int hscan__gate_enter(struct hscan__gate *g, struct hscan__gate_waiter *w,
                      const struct hscan__addr *a)
{
    struct gate_ent **pp = find(g, a), *e = *pp;

    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e)
            return 1;       /* no memory to count it: let it through */
        e->addr = *a;
        hscan__queue_init(&e->waiters);
        *pp = e;
        if (++g->n > g->nbuckets)
            grow(g);
    }
    w->addr = *a;
    if (e->active < g->max && hscan__queue_empty(&e->waiters)) {
        e->active++;
        w->state = HSCAN__GATE_HELD;
        return 1;
    }
    g->waits++;
    w->state = HSCAN__GATE_WAITING;
    hscan__queue_insert_tail(&e->waiters, &w->node);
    return 0;
}

static void maybe_free(struct hscan__gate *g, struct gate_ent **pp)
{
    struct gate_ent *e = *pp;

    if (e->active == 0 && hscan__queue_empty(&e->waiters)) {
        *pp = e->next;
        g->n--;
        free(e);
    }
}

void hscan__gate_leave(struct hscan__gate *g, struct hscan__gate_waiter *w)
{
    struct gate_ent **pp, *e;
    struct hscan__gate_waiter *next;

    if (w->state != HSCAN__GATE_HELD)
        return;
    w->state = HSCAN__GATE_OUT;
    pp = find(g, &w->addr);
    if (!(e = *pp))
        return;             /* let through without an entry */
    e->active--;
    if (!hscan__queue_empty(&e->waiters) && e->active < g->max) {
        next = hscan__queue_data(hscan__queue_head(&e->waiters),
                                 struct hscan__gate_waiter, node);
        hscan__queue_remove(&next->node);
        e->active++;
        next->state = HSCAN__GATE_HELD;
        next->on_open(next);        /* may not touch `e` or `pp` after */
        return;
    }
    maybe_free(g, pp);
}

void hscan__gate_move(struct hscan__gate_waiter *to,
                      struct hscan__gate_waiter *from)
{
    if (from->state != HSCAN__GATE_HELD || to->state != HSCAN__GATE_OUT)
        return;
    to->addr = from->addr;
    to->state = HSCAN__GATE_HELD;
    from->state = HSCAN__GATE_OUT;
}

void hscan__gate_cancel(struct hscan__gate *g, struct hscan__gate_waiter *w)
{
    struct gate_ent **pp;

    if (w->state != HSCAN__GATE_WAITING)
        return;
    w->state = HSCAN__GATE_OUT;
    hscan__queue_remove(&w->node);
    pp = find(g, &w->addr);
    if (*pp)
        maybe_free(g, pp);
}
