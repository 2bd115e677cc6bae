/* Words and lines of a body, httpx's way (wordcount.h): one pass over
 * the bytes, nothing kept. */
#include "wordcount.h"

void hscan__wcount_feed(struct hscan__wcount *w, const char *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p, *end = b + n;

    w->bytes += n;
    for (; b < end; b++) {
        switch (*b) {
        case ' ':
            w->spaces++;
            break;
        case '\n':
            w->pend++;
            break;
        case '\t': case '\v': case '\f': case '\r':
            break;
        default:
            /* the LFs before this byte lie inside the trimmed text */
            if (w->seen)
                w->lines += w->pend;
            w->pend = 0;
            w->seen = 1;
        }
    }
}

long long hscan__wcount_words(const struct hscan__wcount *w)
{
    return w->bytes ? (long long)w->spaces + 1 : 0;
}

long long hscan__wcount_lines(const struct hscan__wcount *w)
{
    return w->bytes ? (long long)w->lines + 1 : 0;
}
