/* Small pieces every lib/ file may use: container_of, the fixed sizes,
 * hand-written number formatting and the one bounded string builder
 * (result.c). */
#ifndef HSCAN_UTIL_H
#define HSCAN_UTIL_H

#include <stddef.h>

#define container_of(ptr, type, member)                                     \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define HSCAN__MAX_LINE 8192    /* longest input line accepted */
#define HSCAN__DETAIL_SIZE 192

/* Decimal digits of `v` into `out` (room for 20), no NUL; returns the
 * count. */
size_t hscan__utoa(char *out, unsigned long long v);

/* Milliseconds `ms` with three decimals, as "%.3f" would print them
 * ("%.17g" from 1e12 on, where "%.3f" would run to 300 digits), into
 * `out` (room for HSCAN__MS_SIZE), no NUL; returns the count, 0 for a
 * NaN, an infinity or a negative value (JSON null, an empty field). */
#define HSCAN__MS_SIZE 48
size_t hscan__ms3(char *out, double ms);

/* snprintf-style appending: writes what fits in `size` (leaving room for
 * a NUL), counts everything in `len`. */
struct hscan__sb {
    char *buf;
    size_t size, len;
};
void hscan__sb_put(struct hscan__sb *b, const char *s, size_t n);
void hscan__sb_str(struct hscan__sb *b, const char *s);
void hscan__sb_uint(struct hscan__sb *b, unsigned long long v);
/* NUL-terminate (when size > 0) and return the full length. */
size_t hscan__sb_end(struct hscan__sb *b);

#endif /* HSCAN_UTIL_H */
