/* The --max-per-ip gate alone (gate.h): places per address, first come
 * first served, cancel, and entries freed when nothing holds them. */
#include <string.h>

#include "gate.h"
#include "test-runner.h"

#define N 6

static int opened[N], n_opened, order[N];
static struct hscan__gate_waiter w[N];

static void on_open(struct hscan__gate_waiter *x)
{
    int i = (int)(x - w);

    CHECK(x->state == HSCAN__GATE_HELD);
    opened[i]++;
    order[n_opened++] = i;
}

static struct hscan__addr addr(int last)
{
    struct hscan__addr a;

    memset(&a, 0, sizeof(a));
    a.family = 4;
    a.bytes[0] = 127;
    a.bytes[3] = (unsigned char)last;
    return a;
}

static void setup(void)
{
    int i;

    n_opened = 0;
    for (i = 0; i < N; i++) {
        hscan__gate_waiter_init(&w[i], on_open);
        opened[i] = 0;
    }
}

TEST(gate_fifo_per_address)
{
    struct hscan__gate *g;
    struct hscan__addr a = addr(1), b = addr(2);
    int i;

    setup();
    CHECK(hscan__gate_new(&g, 2) == 0);
    CHECK(hscan__gate_enter(g, &w[0], &a) == 1);
    CHECK(hscan__gate_enter(g, &w[1], &a) == 1);
    CHECK(hscan__gate_enter(g, &w[2], &a) == 0);   /* queued */
    CHECK(hscan__gate_enter(g, &w[3], &a) == 0);
    CHECK(hscan__gate_enter(g, &w[4], &b) == 1);   /* another address */
    CHECK(w[2].state == HSCAN__GATE_WAITING);
    CHECK_INT(hscan__gate_waits(g), 2);
    CHECK_INT(hscan__gate_size(g), 2);
    hscan__gate_leave(g, &w[4]);                   /* b's queue: none */
    CHECK_INT(n_opened, 0);
    CHECK_INT(hscan__gate_size(g), 1);
    hscan__gate_leave(g, &w[1]);
    CHECK_INT(n_opened, 1);
    CHECK_INT(order[0], 2);                        /* first come */
    hscan__gate_leave(g, &w[0]);
    CHECK_INT(n_opened, 2);
    CHECK_INT(order[1], 3);
    hscan__gate_leave(g, &w[0]);                   /* twice: no effect */
    CHECK_INT(n_opened, 2);
    hscan__gate_leave(g, &w[2]);
    hscan__gate_leave(g, &w[3]);
    CHECK_INT(hscan__gate_size(g), 0);
    for (i = 0; i < N; i++)
        CHECK(w[i].state == HSCAN__GATE_OUT);
    hscan__gate_free(g);
}

TEST(gate_cancel_skips_waiter)
{
    struct hscan__gate *g;
    struct hscan__addr a = addr(9);

    setup();
    CHECK(hscan__gate_new(&g, 1) == 0);
    CHECK(hscan__gate_enter(g, &w[0], &a) == 1);
    CHECK(hscan__gate_enter(g, &w[1], &a) == 0);
    CHECK(hscan__gate_enter(g, &w[2], &a) == 0);
    hscan__gate_cancel(g, &w[1]);
    CHECK(w[1].state == HSCAN__GATE_OUT);
    hscan__gate_cancel(g, &w[1]);                  /* not queued: no-op */
    hscan__gate_leave(g, &w[0]);
    CHECK_INT(n_opened, 1);
    CHECK_INT(order[0], 2);
    CHECK_INT(opened[1], 0);
    hscan__gate_leave(g, &w[2]);
    CHECK_INT(hscan__gate_size(g), 0);
    hscan__gate_free(g);
}

/* Many addresses: the table grows and every entry goes away again. */
TEST(gate_many_addresses)
{
    static struct hscan__gate_waiter many[1000];
    struct hscan__gate *g;
    struct hscan__addr a;
    int i;

    CHECK(hscan__gate_new(&g, 1) == 0);
    for (i = 0; i < 1000; i++) {
        hscan__gate_waiter_init(&many[i], on_open);
        a = addr(0);
        a.bytes[2] = (unsigned char)(i >> 8);
        a.bytes[3] = (unsigned char)i;
        CHECK(hscan__gate_enter(g, &many[i], &a) == 1);
    }
    CHECK_INT(hscan__gate_size(g), 1000);
    for (i = 0; i < 1000; i++)
        hscan__gate_leave(g, &many[i]);
    CHECK_INT(hscan__gate_size(g), 0);
    hscan__gate_free(g);
}
