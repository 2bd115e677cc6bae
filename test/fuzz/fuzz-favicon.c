/* The icon link finder (lib/favicon-link.c) and the streamed favicon
 * hash (lib/mmh3.c).
 *
 * Input: byte 0 seeds the split sizes; the rest is a page.  The page is
 * fed once whole and once in pieces of 1 to 64 bytes (the byte seeds
 * the sizes), each from an exactly sized heap copy, so a read past a
 * piece is an ASan report.
 *
 * Checked: both feedings find the same href (or none); an href is
 * non-empty, NUL-terminated within the tag bound, has no white space at
 * either end, and is bytes of the page (less "&amp;" decoding, so never
 * longer than the page); the streamed mmh3 of the page in pieces equals
 * the one-shot value, and the murmur state equals the reference over
 * the same bytes. */
#include <string.h>

#include "favicon.h"
#include "fuzz.h"

static int space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hscan__link whole, parts;
    struct hscan__mmh3 mm;
    struct hscan__murmur m;
    const char *a, *b;
    unsigned seed = size ? data[0] : 0;
    const char *page = (const char *)data + (size ? 1 : 0);
    size_t n = size ? size - 1 : 0, at = 0;

    memset(&whole, 0, sizeof(whole));
    memset(&parts, 0, sizeof(parts));
    hscan__mmh3_init(&mm);
    hscan__murmur_init(&m, seed);
    {
        char *copy = fz_dup(page, n);
        hscan__link_feed(&whole, copy, n);
        free(copy);
    }
    while (at < n) {
        size_t k = 1 + (seed = seed * 1103515245u + 12345u) % 64;
        char *piece;
        if (k > n - at)
            k = n - at;
        piece = fz_dup(page + at, k);
        hscan__link_feed(&parts, piece, k);
        hscan__mmh3_feed(&mm, piece, k);
        hscan__murmur_feed(&m, piece, k);
        free(piece);
        at += k;
    }
    a = hscan__link_href(&whole);
    b = hscan__link_href(&parts);
    FUZZ_CHECK((a == NULL) == (b == NULL));
    if (a) {
        size_t len = strlen(a);
        FUZZ_CHECK(strcmp(a, b) == 0);
        FUZZ_CHECK(len > 0 && len < HSCAN__LINK_TAG_MAX && len <= n);
        FUZZ_CHECK(!space((unsigned char)a[0]) &&
                   !space((unsigned char)a[len - 1]));
    }
    FUZZ_CHECK(hscan__mmh3_final(&mm) == hscan__mmh3(page, n));
    FUZZ_CHECK(hscan__murmur_final(&m) ==
               hscan__murmur3_32(page, n, size ? data[0] : 0));
    hscan__link_free(&whole);
    hscan__link_free(&parts);
    return 0;
}
