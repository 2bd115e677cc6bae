/* Words and lines of a body, httpx's way (wordcount.h): one counting
 * pass over each chunk (SP and LF bytes, 16 at a time with SSE2), then
 * only the white space at the chunk's ends is looked at again, for the
 * trim.  Nothing is kept. */
#include "wordcount.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static int is_ws(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The SP and LF bytes of b[0..n): 16 at a time with SSE2 (x86-64's
 * baseline), each lane counting up to 255 before the sums are taken. */
static void count(const unsigned char *b, size_t n, size_t *sp, size_t *nl)
{
    size_t i = 0, s = 0, l = 0;
#if defined(__SSE2__)
    const __m128i vsp = _mm_set1_epi8(' '), vnl = _mm_set1_epi8('\n');
    const __m128i zero = _mm_setzero_si128();

    while (n - i >= 16) {
        __m128i as = zero, al = zero;
        size_t k;
        for (k = 0; k < 255 && n - i >= 16; k++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
            as = _mm_sub_epi8(as, _mm_cmpeq_epi8(v, vsp));
            al = _mm_sub_epi8(al, _mm_cmpeq_epi8(v, vnl));
        }
        as = _mm_sad_epu8(as, zero);    /* two 64-bit sums */
        al = _mm_sad_epu8(al, zero);
        s += (size_t)_mm_cvtsi128_si32(as) +
             (size_t)_mm_cvtsi128_si32(_mm_srli_si128(as, 8));
        l += (size_t)_mm_cvtsi128_si32(al) +
             (size_t)_mm_cvtsi128_si32(_mm_srli_si128(al, 8));
    }
#endif
    for (; i < n; i++) {
        s += b[i] == ' ';
        l += b[i] == '\n';
    }
    *sp = s;
    *nl = l;
}

void hscan__wcount_feed(struct hscan__wcount *w, const char *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i, sp, nl, e = n, tail = 0;

    count(b, n, &sp, &nl);
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
