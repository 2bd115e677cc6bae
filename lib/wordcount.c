/* Words and lines of a body, httpx's way (wordcount.h): one counting
 * pass over each chunk (SP and LF bytes, a loop the compiler
 * vectorizes), then only the white space at the chunk's ends is looked
 * at again, for the trim.  Nothing is kept. */
#include "wordcount.h"

static int is_ws(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

void hscan__wcount_feed(struct hscan__wcount *w, const char *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i, sp = 0, nl = 0, e = n, tail = 0;

    for (i = 0; i < n; i++) {
        sp += b[i] == ' ';
        nl += b[i] == '\n';
    }
    w->bytes += n;
    w->spaces += sp;
    while (e > 0 && is_ws(b[e - 1]))        /* the chunk's last byte */
        tail += b[--e] == '\n';             /* that is not white space */
    if (e == 0) {                           /* all white space */
        if (w->seen)
            w->pend += nl;                  /* inside, if more comes */
        return;
    }
    if (!w->seen) {                         /* LFs before the first one */
        for (i = 0; is_ws(b[i]); i++)       /* are trimmed */
            nl -= b[i] == '\n';
        w->seen = 1;
        w->pend = 0;
    }
    /* the LFs since the last non-space byte are inside now */
    w->lines += w->pend + nl - tail;
    w->pend = tail;
}

long long hscan__wcount_words(const struct hscan__wcount *w)
{
    return w->bytes ? (long long)w->spaces + 1 : 0;
}

long long hscan__wcount_lines(const struct hscan__wcount *w)
{
    return w->bytes ? (long long)w->lines + 1 : 0;
}
