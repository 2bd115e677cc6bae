/* mmh3.c: the favicon hash Shodan and httpx print, streamed.
 *
 * MurmurHash3 x86_32 (Austin Appleby's public-domain reference, seed 0)
 * of the Base64 text of the bytes with a newline after every 76
 * characters and one at the end: Python's base64.encodebytes(), which
 * Shodan's mmh3.hash(codecs.encode(data, "base64")) hashes.  Fed as
 * bytes arrive in any split; nothing of them is kept. */
#ifndef HSCAN_MMH3_H
#define HSCAN_MMH3_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash3 x86_32 over a byte stream. */
struct hscan__murmur {
    uint32_t h, len;
    uint32_t tail;            /* up to 3 bytes not yet in a block */
    unsigned char ntail;
};
void hscan__murmur_init(struct hscan__murmur *m, uint32_t seed);
void hscan__murmur_feed(struct hscan__murmur *m, const void *data,
                        size_t n);
uint32_t hscan__murmur_final(const struct hscan__murmur *m);
/* At once (the reference's MurmurHash3_x86_32). */
uint32_t hscan__murmur3_32(const void *data, size_t n, uint32_t seed);

/* The favicon hash: Base64 lines of 76 into the murmur state.
 * Zeroed or hscan__mmh3_init(). */
struct hscan__mmh3 {
    struct hscan__murmur m;
    unsigned char in[3];      /* bytes waiting for a whole group */
    unsigned char nin;
    unsigned char col;        /* Base64 characters on the line */
};
void hscan__mmh3_init(struct hscan__mmh3 *s);
void hscan__mmh3_feed(struct hscan__mmh3 *s, const void *data, size_t n);
/* The hash as Shodan prints it (signed).  `s` is spent. */
int32_t hscan__mmh3_final(struct hscan__mmh3 *s);
/* At once. */
int32_t hscan__mmh3(const void *data, size_t n);

#endif /* HSCAN_MMH3_H */
