/* Shared by the libFuzzer harnesses and the plain corpus replay driver
 * (replay.c), so one harness source serves both the clang fuzz build and
 * the regular gcc, ASan and valgrind builds. */
#ifndef HSCAN_FUZZ_H
#define HSCAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hscan.h"
#include "target.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash: libFuzzer keeps the input as an
 * artifact, the replay driver fails its test. */
#define FUZZ_CHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,     \
                    __LINE__, #cond);                                     \
            abort();                                                      \
        }                                                                 \
    } while (0)

/* Structured values taken off the front of the input (libFuzzer's
 * FuzzedDataProvider, in C).  Past the end everything reads as 0. */
struct fz {
    const uint8_t *p;
    size_t n;
};

static inline unsigned fz_u8(struct fz *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

static inline uint32_t fz_u32(struct fz *f)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++)
        v = v << 8 | fz_u8(f);
    return v;
}

/* Up to `max` bytes; returns how many were taken, `*out` points at them. */
static inline size_t fz_take(struct fz *f, size_t max, const uint8_t **out)
{
    size_t n = max < f->n ? max : f->n;

    *out = f->p;
    f->p += n;
    f->n -= n;
    return n;
}

/* An exactly sized heap copy (at least 1 byte), so that a read past the
 * end of what the library was given is an ASan report. */
static inline char *fz_dup(const void *p, size_t n)
{
    char *d = malloc(n ? n : 1);

    FUZZ_CHECK(d != NULL);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* fuzz-util.c: a target the parser accepted is well formed: host, port
 * and path obey the rules target.c documents, and the URL the probe
 * builds from it parses back to the same target. */
void fuzz_check_target(const char *line, size_t len,
                       const struct hscan__target *t);

#endif /* HSCAN_FUZZ_H */
