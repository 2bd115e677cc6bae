/* testd-proc.h: hscan-testd (test/hscan-testd.c) in a child process,
 * for the tests whose scanner must be alone in its process: the
 * allocation-failure sweep counts every allocation of the scan, and
 * test-faults.c runs 10,000 connections against it.
 *
 * hscan-testd prints where it listens, one line each, "ca PATH" last:
 *
 *   dns 127.0.0.1:PORT
 *   http 127.0.0.1:PORT
 *   https 127.0.0.1:PORT
 *   ca /tmp/hscan-testd-ca.XXXXXX
 */
#ifndef HSCAN_TEST_TESTD_PROC_H
#define HSCAN_TEST_TESTD_PROC_H

#include <sys/types.h>

struct testd_proc {
    pid_t pid;                  /* 0: not running */
    char dns[64];               /* the resolver, "127.0.0.1:PORT" */
    char http_port[8], https_port[8];
    char ca[256];               /* PEM file of its CA */
};

/* Start hscan-testd `path` with the arguments `args` (NULL-terminated;
 * NULL for none) and read its addresses. The child gets SIGTERM when
 * this process dies. 0, or -1 with a message on stderr (the child, if
 * any, stopped). */
int testd_proc_start(struct testd_proc *d, const char *path,
                     const char *const *args);

/* 1 once the child has exited (it is then reaped), else 0. */
int testd_proc_gone(struct testd_proc *d);

/* SIGTERM and reap the child, if running. */
void testd_proc_stop(struct testd_proc *d);

#endif
