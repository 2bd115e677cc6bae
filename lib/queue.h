/* One intrusive, circular, doubly linked list for every list in lib/:
 * the scanner's in-flight probes, its submit and cancel queues, the
 * --max-per-ip gate's waiters, the resolver's waiting lookups and its
 * LRU.  The shape of libuv's src/queue.h: a head is a node that links
 * to itself when empty, an element embeds a node and is found again
 * with container_of.  Nothing allocates; every operation is O(1).
 *
 * A removed node is left linked to itself, so hscan__queue_empty() on
 * an element's own node tells whether it is on a list: a caller may
 * remove an element it is not sure is linked, and removing twice is
 * harmless. */
#ifndef HSCAN_QUEUE_H
#define HSCAN_QUEUE_H

#include "util.h"

struct hscan__queue {
    struct hscan__queue *next, *prev;
};

/* The element of type `type` whose member `field` is node `q`. */
#define hscan__queue_data(q, type, field) container_of(q, type, field)

/* for (q = first; q != head; q = next): `q` must not be removed inside;
 * use hscan__queue_head() in a while loop for that. */
#define hscan__queue_foreach(q, h)                                          \
    for ((q) = (h)->next; (q) != (h); (q) = (q)->next)

static inline void hscan__queue_init(struct hscan__queue *q)
{
    q->next = q;
    q->prev = q;
}

static inline int hscan__queue_empty(const struct hscan__queue *q)
{
    return q->next == q;
}

/* The first element's node; the head itself when empty. */
static inline struct hscan__queue *hscan__queue_head(
    const struct hscan__queue *h)
{
    return h->next;
}

static inline void hscan__queue_insert_tail(struct hscan__queue *h,
                                            struct hscan__queue *q)
{
    q->next = h;
    q->prev = h->prev;
    q->prev->next = q;
    h->prev = q;
}

static inline void hscan__queue_insert_head(struct hscan__queue *h,
                                            struct hscan__queue *q)
{
    q->next = h->next;
    q->prev = h;
    q->next->prev = q;
    h->next = q;
}

static inline void hscan__queue_remove(struct hscan__queue *q)
{
    q->prev->next = q->next;
    q->next->prev = q->prev;
    q->next = q;
    q->prev = q;
}

#endif /* HSCAN_QUEUE_H */
