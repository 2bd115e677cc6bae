/* --max-per-ip: at most `max` connections open at once to one address.
 * A leaf: it knows addresses and waiters, nothing of probes.
 *
 * A waiter is embedded in whatever wants a place (a probe).  Entering
 * either takes a place at once or queues the waiter; places are handed
 * on first come, first served, each address on its own.  When a place
 * is given back and someone waits for that address, the first waiter
 * gets it and its `on_open` runs from inside hscan__gate_leave(): the
 * leaver must not expect the gate unchanged after that call.  A waiter
 * holds at most one place or one spot in a queue at a time. */
#ifndef HSCAN_GATE_H
#define HSCAN_GATE_H

#include <stdint.h>

#include "dns.h"
#include "queue.h"

enum hscan__gate_state {
    HSCAN__GATE_OUT,        /* neither holds a place nor waits */
    HSCAN__GATE_HELD,       /* holds a place for `addr` */
    HSCAN__GATE_WAITING     /* queued for `addr` */
};

struct hscan__gate_waiter {
    struct hscan__queue node;       /* the address's queue while waiting */
    struct hscan__addr addr;        /* held or waited for */
    enum hscan__gate_state state;
    /* A place became free for a waiting waiter: it now holds it. */
    void (*on_open)(struct hscan__gate_waiter *w);
};

struct hscan__gate;

/* A gate allowing `max` (> 0) connections per address.  Returns 0 or
 * HSCAN_ENOMEM; `*out` written only on success. */
int hscan__gate_new(struct hscan__gate **out, unsigned max);
/* Free the gate; nothing may hold or wait any more. */
void hscan__gate_free(struct hscan__gate *g);
/* Set up `w` (state OUT) with its callback. */
void hscan__gate_waiter_init(struct hscan__gate_waiter *w,
                             void (*on_open)(struct hscan__gate_waiter *));
/* Take a place for a connection to `a` (w must be OUT): 1 when `w`
 * holds one now (HELD), 0 when it was queued (WAITING: on_open runs
 * once a place is free).  With no memory to count the address the
 * waiter is let through (1). */
int hscan__gate_enter(struct hscan__gate *g, struct hscan__gate_waiter *w,
                      const struct hscan__addr *a);
/* Give back the place `w` holds, if any; the next waiter for that
 * address gets it (its on_open runs before this returns). */
void hscan__gate_leave(struct hscan__gate *g, struct hscan__gate_waiter *w);
/* Hand the place `from` holds, if any, to `to` (which must be OUT):
 * a connection that changes owner keeps its place. */
void hscan__gate_move(struct hscan__gate_waiter *to,
                      struct hscan__gate_waiter *from);
/* Take `w` out of its queue, if it waits. */
void hscan__gate_cancel(struct hscan__gate *g, struct hscan__gate_waiter *w);
/* Times a waiter had to queue, since the gate was made. */
uint64_t hscan__gate_waits(const struct hscan__gate *g);
/* Addresses with a place held or a waiter (for the tests: memory
 * follows what is in flight). */
size_t hscan__gate_size(const struct hscan__gate *g);

#endif /* HSCAN_GATE_H */
