/* --max-per-ip: at most `max` connections open at once to one address.
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

#include "probe.h"

struct gate_ent {
    struct gate_ent *next;          /* hash chain */
    struct hscan__addr addr;
    unsigned active;
    struct probe *wait_head, *wait_tail;
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

int hscan__gate_enter(struct hscan__gate *g, struct probe *p,
                      const struct hscan__addr *a)
{
    struct gate_ent **pp = find(g, a), *e = *pp;

    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e)
            return 1;       /* no memory to count it: let it through */
        e->addr = *a;
        *pp = e;
        if (++g->n > g->nbuckets)
            grow(g);
    }
    p->gate_addr = *a;
    if (e->active < g->max && !e->wait_head) {
        e->active++;
        p->gate_held = 1;
        return 1;
    }
    g->waits++;
    p->gate_wait = 1;
    p->gate_next = NULL;
    if (e->wait_tail)
        e->wait_tail->gate_next = p;
    else
        e->wait_head = p;
    e->wait_tail = p;
    return 0;
}

static void maybe_free(struct hscan__gate *g, struct gate_ent **pp)
{
    struct gate_ent *e = *pp;

    if (e->active == 0 && !e->wait_head) {
        *pp = e->next;
        g->n--;
        free(e);
    }
}

void hscan__gate_leave(struct hscan__gate *g, struct probe *p)
{
    struct gate_ent **pp, *e;
    struct probe *w;

    if (!p->gate_held)
        return;
    p->gate_held = 0;
    pp = find(g, &p->gate_addr);
    e = *pp;
    if (!e)
        return;
    e->active--;
    if ((w = e->wait_head) != NULL && e->active < g->max) {
        e->wait_head = w->gate_next;
        if (!e->wait_head)
            e->wait_tail = NULL;
        e->active++;
        w->gate_wait = 0;
        w->gate_held = 1;
        hscan__p_gate_open(w);      /* may not touch `e` or `pp` after */
        return;
    }
    maybe_free(g, pp);
}

void hscan__gate_cancel(struct hscan__gate *g, struct probe *p)
{
    struct gate_ent **pp, *e;
    struct probe **wp, *prev = NULL;

    if (!p->gate_wait)
        return;
    p->gate_wait = 0;
    pp = find(g, &p->gate_addr);
    if (!(e = *pp))
        return;
    for (wp = &e->wait_head; *wp && *wp != p; wp = &(*wp)->gate_next)
        prev = *wp;
    if (*wp) {
        *wp = p->gate_next;
        if (e->wait_tail == p)
            e->wait_tail = prev;
    }
    maybe_free(g, pp);
}
