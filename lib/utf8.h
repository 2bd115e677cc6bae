/* UTF-8 decoding, shared by the JSON writer (lib/result.c) and the
 * CLI's table output (tools/cli-format.c, which includes this header
 * alone: it links only the public API).  Header-only, nothing exported. */
#ifndef HSCAN_UTF8_H
#define HSCAN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The well-formed UTF-8 sequence of two to four bytes at `s` (`n` bytes
 * there), as RFC 3629 4 has it: no overlong forms, no surrogates,
 * nothing past U+10FFFF.  Returns its length and, when `cp` is not
 * NULL, stores its code point; 0 when there is none (so for ASCII). */
static inline size_t hscan__utf8_seq(const unsigned char *s, size_t n,
                                     uint32_t *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    uint32_t v;
    size_t need, i;

    if (c >= 0xc2 && c <= 0xdf)
        need = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4, v = c & 0x07;
    else
        return 0;
    if (n < need)
        return 0;
    /* The second byte's range shuts out overlongs and surrogates. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    for (i = 1; i < need; i++) {
        unsigned b = s[i];

        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
            return 0;
        v = (v << 6) | (b & 0x3f);
    }
    if (cp)
        *cp = v;
    return need;
}

#endif
