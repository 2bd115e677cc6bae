/* wordcount.c: a body's words and lines as httpx counts them, counted
 * as the bytes arrive in any split. */
#ifndef HSCAN_WORDCOUNT_H
#define HSCAN_WORDCOUNT_H

#include <stddef.h>
#include <stdint.h>

/* Zeroed to start.  httpx: words = len(strings.Split(body, " ")),
 * lines = len(strings.Split(strings.TrimSpace(body), "\n")), both 0 for
 * an empty body; TrimSpace here trims ASCII white space only. */
struct hscan__wcount {
    uint64_t bytes;         /* fed */
    uint64_t spaces;        /* SP bytes */
    uint64_t lines;         /* LF bytes between non-space bytes */
    uint64_t pend;          /* LF bytes since the last non-space byte */
    int seen;               /* a non-space byte came */
};
void hscan__wcount_feed(struct hscan__wcount *w, const char *p, size_t n);
long long hscan__wcount_words(const struct hscan__wcount *w);
long long hscan__wcount_lines(const struct hscan__wcount *w);

#endif /* HSCAN_WORDCOUNT_H */
