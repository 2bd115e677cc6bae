/* ascii.h: ASCII byte classes for the parsers of the library and the
 * CLI (header-only, locale-free: <ctype.h> depends on the locale and is
 * undefined for negative chars).  Each takes an int that is a byte
 * value 0..255 or -1 (EOF-like "no byte"); pass chars as unsigned char.
 */
#ifndef HSCAN_ASCII_H
#define HSCAN_ASCII_H

#include <stddef.h>
#include <stdint.h>

static inline int hscan__lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static inline int hscan__is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int hscan__is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 5.6.2 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~ (a bit per
 * byte; -1 and bytes past 0x7f are none). */
static inline int hscan__is_tchar(int c)
{
    static const uint32_t map[4] = {
        0, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff
    };
    return c >= 0 && c < 0x80 && ((map[c >> 5] >> (c & 31)) & 1);
}

/* RFC 9110 5.6.3 OWS: space and horizontal tab. */
static inline int hscan__is_ows(int c)
{
    return c == ' ' || c == '\t';
}

/* `n` bytes at `s` equal the lowercase literal `lit`, ignoring ASCII
 * case. */
static inline int hscan__ieq(const unsigned char *s, size_t n,
                             const char *lit)
{
    size_t i;

    for (i = 0; i < n; i++)     /* most names differ in the first byte */
        if (lit[i] == '\0' || hscan__lower(s[i]) != lit[i])
            return 0;
    return lit[n] == '\0';
}

/* Strip SP and HTAB (and, with `crlf`, CR and LF: Fetch's "HTTP
 * whitespace" that a header value never keeps at its ends) from both
 * ends of [*s, *e). */
static inline void hscan__trim(const unsigned char **s,
                               const unsigned char **e, int crlf)
{
    while (*s < *e && (hscan__is_ows(**s) ||
                       (crlf && (**s == '\r' || **s == '\n'))))
        (*s)++;
    while (*e > *s && (hscan__is_ows((*e)[-1]) ||
                       (crlf && ((*e)[-1] == '\r' || (*e)[-1] == '\n'))))
        (*e)--;
}

#endif
