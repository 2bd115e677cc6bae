/* MurmurHash3 x86_32 and the Base64 framing of the favicon hash
 * (mmh3.h).  The murmur state keeps the partial block between calls,
 * so any split of the input gives the reference's result. */
#include <string.h>

#include "mmh3.h"

static uint32_t rotl(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static uint32_t mix_k(uint32_t k)
{
    k *= 0xcc9e2d51u;
    k = rotl(k, 15);
    return k * 0x1b873593u;
}

void hscan__murmur_init(struct hscan__murmur *m, uint32_t seed)
{
    memset(m, 0, sizeof(*m));
    m->h = seed;
}

/* One whole little-endian block. */
static void block(struct hscan__murmur *m, uint32_t k)
{
    m->h ^= mix_k(k);
    m->h = rotl(m->h, 13);
    m->h = m->h * 5 + 0xe6546b64u;
}

void hscan__murmur_feed(struct hscan__murmur *m, const void *data, size_t n)
{
    const unsigned char *p = data;

    m->len += (uint32_t)n;          /* the reference hashes len mod 2^32 */
    while (n && m->ntail) {
        m->tail |= (uint32_t)*p++ << (8 * m->ntail);
        n--;
        if (++m->ntail == 4) {
            block(m, m->tail);
            m->tail = 0;
            m->ntail = 0;
        }
    }
    for (; n >= 4; p += 4, n -= 4)
        block(m, (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    for (; n; n--)
        m->tail |= (uint32_t)*p++ << (8 * m->ntail++);
}

uint32_t hscan__murmur_final(const struct hscan__murmur *m)
{
    uint32_t h = m->h;

    if (m->ntail)
        h ^= mix_k(m->tail);
    h ^= m->len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

uint32_t hscan__murmur3_32(const void *data, size_t n, uint32_t seed)
{
    struct hscan__murmur m;

    hscan__murmur_init(&m, seed);
    hscan__murmur_feed(&m, data, n);
    return hscan__murmur_final(&m);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void hscan__mmh3_init(struct hscan__mmh3 *s)
{
    memset(s, 0, sizeof(*s));
    hscan__murmur_init(&s->m, 0);
}

/* Four characters of Base64 text; a newline after each 76th. */
static void put4(struct hscan__mmh3 *s, const char *c)
{
    hscan__murmur_feed(&s->m, c, 4);
    if ((s->col += 4) == 76) {
        hscan__murmur_feed(&s->m, "\n", 1);
        s->col = 0;
    }
}

static void group(struct hscan__mmh3 *s, const unsigned char *in)
{
    char c[4];

    c[0] = b64[in[0] >> 2];
    c[1] = b64[(in[0] & 3) << 4 | in[1] >> 4];
    c[2] = b64[(in[1] & 15) << 2 | in[2] >> 6];
    c[3] = b64[in[2] & 63];
    put4(s, c);
}

void hscan__mmh3_feed(struct hscan__mmh3 *s, const void *data, size_t n)
{
    const unsigned char *p = data;

    while (n && s->nin) {
        s->in[s->nin++] = *p++;
        n--;
        if (s->nin == 3) {
            group(s, s->in);
            s->nin = 0;
        }
    }
    if (n == 0)
        return;                     /* s->in may hold 1 or 2 bytes */
    for (; n >= 3; p += 3, n -= 3)
        group(s, p);
    memcpy(s->in, p, n);
    s->nin = (unsigned char)n;
}

int32_t hscan__mmh3_final(struct hscan__mmh3 *s)
{
    uint32_t h;

    if (s->nin) {
        char c[4];
        unsigned char a = s->in[0], b = s->nin > 1 ? s->in[1] : 0;
        c[0] = b64[a >> 2];
        c[1] = b64[(a & 3) << 4 | b >> 4];
        c[2] = s->nin > 1 ? b64[(b & 15) << 2] : '=';
        c[3] = '=';
        put4(s, c);
    }
    /* encodebytes ends the last line with a newline, and gives
     * nothing at all (no newline) for no bytes */
    if (s->col)
        hscan__murmur_feed(&s->m, "\n", 1);
    h = hscan__murmur_final(&s->m);
    /* the two's complement reading, as Python's mmh3.hash() returns */
    return h > 0x7fffffffu ? -(int32_t)(0xffffffffu - h) - 1 : (int32_t)h;
}

int32_t hscan__mmh3(const void *data, size_t n)
{
    struct hscan__mmh3 s;

    hscan__mmh3_init(&s);
    hscan__mmh3_feed(&s, data, n);
    return hscan__mmh3_final(&s);
}
