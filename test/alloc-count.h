/* alloc-count.h: the counting allocator of the allocation-failure sweep
 * (test-alloc-fail.c, whose header comment tells the whole design).
 *
 * Every allocation of libhscan (the -Wl,--wrap'ed malloc family of the
 * link), libuv, c-ares and OpenSSL (their allocator hooks) goes through
 * it: it counts the requests, makes the acount.fail_at-th one fail (and,
 * with acount.from_on, every later one) once acount.armed is set, and
 * keeps a table of live blocks so that a leak is charged to the
 * allocator that made the block.
 */
#ifndef HSCAN_TEST_ALLOC_COUNT_H
#define HSCAN_TEST_ALLOC_COUNT_H

enum hook { H_LIB, H_UV, H_ARES, H_SSL, N_HOOKS };
extern const char *const hook_name[N_HOOKS];   /* "libhscan", ... */

struct alloc_count {
    int armed;
    long total;                 /* allocation requests since arming */
    long calls[N_HOOKS];
    long fail_at;               /* request that fails; 0: none */
    int from_on;                /* and every later one */
    int fired;                  /* hook of the first failure, or -1 */
    long live[N_HOOKS];
    int table_full;
    unsigned long seq;          /* successful allocations, ever */
};
extern struct alloc_count acount;

/* Set: record where each block is made, for print_leaks(). */
extern int tracing;

/* Where the failing allocation was made, written by the child at the
 * moment it fails: shared with the parent (the sweep maps it shared),
 * which prints it when the child crashed. NULL: not recorded. */
struct fire_trace {
    int hook;
    int n;
    void *bt[24];
};
extern struct fire_trace *fire;

/* Install the libuv, c-ares and OpenSSL hooks; first thing in main(),
 * before OpenSSL allocates anything. Exits if one is refused. */
void install_hooks(void);

/* Blocks made since allocation `seq0` and still live, with where they
 * were made (tracing only), on stderr. */
void print_leaks(unsigned long seq0);

/* Where the failing allocation was made, if it was recorded. */
void print_backtrace(void);

#endif
