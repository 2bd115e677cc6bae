/* cli-range.c: one item of a --match-length, --match-words,
 * --match-lines or --match-time list, as a range [low, high] (no
 * exits, nothing allocated: test/fuzz/fuzz-match.c runs it on any
 * bytes).
 *
 *   N      exactly N          N-M    N to M, both included
 *   <N     below N            <=N    N or below
 *   >N     above N            >=N    N or above
 *
 * Counts are whole numbers (at most 2^53).  Times are in whole
 * milliseconds: a number is seconds as for --timeout, "ms" or "s" may
 * follow it, decimals are allowed ("<0.5", "<500ms", ">1s",
 * "200ms-2s"); total_ms is compared rounded down.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define RANGE_TOP 9007199254740992.0    /* 2^53: exact in a double */

/* floor and ceil of x >= 0 (no libm) */
static long long down(double x)
{
    return (long long)x;
}

static long long up(double x)
{
    return (long long)x + ((double)(long long)x < x);
}

/* A number at p[0..n) with its unit: ms (times) or the count, in *v;
 * the bytes used, or 0 when there is none. */
static size_t number(const char *p, size_t n, int time, double *v)
{
    size_t i = 0, digits = 0;
    double x = 0, scale = 1;

    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
        x = x * 10 + (p[i] - '0');
    if (time && i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
            x += (p[i] - '0') * (scale /= 10);
    }
    if (!digits || x > RANGE_TOP)
        return 0;
    if (time) {
        if (n - i >= 2 && p[i] == 'm' && p[i + 1] == 's')
            i += 2;
        else {
            if (i < n && p[i] == 's')
                i++;
            x *= 1000;
        }
        if (x > RANGE_TOP)
            return 0;
    } else if ((double)down(x) != x) {
        return 0;
    }
    *v = x;
    return i;
}

int cli_range(const char *s, size_t n, int time, long long *low,
              long long *high)
{
    double a, b;
    size_t k;
    int op = 0, eq = 0;

    if (n && (s[0] == '<' || s[0] == '>')) {
        op = s[0];
        s++, n--;
        if (n && s[0] == '=') {
            eq = 1;
            s++, n--;
        }
    }
    if (!(k = number(s, n, time, &a)))
        return -1;
    if (op == '<') {
        if (k != n || (!eq && up(a) < 1))
            return -1;                      /* "<0": nothing */
        *low = 0;
        *high = eq ? down(a) : up(a) - 1;
        return 0;
    }
    if (op == '>') {
        if (k != n)
            return -1;
        *low = eq ? up(a) : down(a) + 1;
        *high = (long long)RANGE_TOP;
        return 0;
    }
    b = a;
    if (k < n) {
        size_t m;
        if (s[k] != '-' ||
            !(m = number(s + k + 1, n - k - 1, time, &b)) ||
            k + 1 + m != n || b < a)
            return -1;
    }
    *low = down(a);
    *high = down(b);
    return 0;
}
