/* The tests' own UTF-8 check (test/scan-env.c, test/fuzz/json-check.c).
 * Written from the definition, not from the byte-range table the
 * library uses (lib/utf8.h), so that the two cannot share a mistake:
 * decode the bits, then refuse a form longer than the code point needs
 * (overlong), a surrogate and anything past U+10FFFF (RFC 3629). */
#ifndef HSCAN_UTF8_ORACLE_H
#define HSCAN_UTF8_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed sequence of `n` bytes or fewer at `s`: 1
 * for ASCII, 2..4, or 0 when there is none.  Reads no byte after the
 * first that is not a continuation byte (so a NUL ends it). */
static inline size_t oracle_utf8_len(const unsigned char *s, size_t n)
{
    static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t need, i;
    uint32_t v;

    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        need = 2, v = s[0] & 0x1fu;
    else if ((s[0] & 0xf0) == 0xe0)
        need = 3, v = s[0] & 0x0fu;
    else if ((s[0] & 0xf8) == 0xf0)
        need = 4, v = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < need; i++) {
        if (i >= n || (s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < least[need] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
        return 0;
    return need;
}

#endif
