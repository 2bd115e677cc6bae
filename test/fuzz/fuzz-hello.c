/* The ServerHello parser and the fingerprints made from what it parsed
 * (lib/tls-hello.c), on any bytes.
 *
 * Input: the handshake message as OpenSSL's message callback hands it
 * over; it is parsed as is and again behind a correct ServerHello
 * header (type 2, its 24-bit length), so that mutations reach the body
 * without having to keep the header's length right.  Invariants: a
 * refused message leaves the output untouched; an accepted one keeps
 * at most 32 extension types of those it counts, gives the same facts
 * when parsed again, and, with every extension kept, both fingerprints
 * in their exact shape (32 hex digits; "t" + version + count + ALPN +
 * "_" + the cipher in hex + "_" + 12 hex digits); with some left out,
 * neither. */
#include "fuzz.h"
#include "tls-hello.h"

static int is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void check_prints(const struct hscan__hello *h)
{
    char a[33], b[26], want[16];
    int ra = hscan__hello_ja3s(h, a), rb = hscan__hello_ja4s(h, b);

    if (h->n_ext != h->n_ext_total) {
        FUZZ_CHECK(ra == -1 && rb == -1 && a[0] == '\0' && b[0] == '\0');
        return;
    }
    FUZZ_CHECK(ra == 0 && rb == 0);
    FUZZ_CHECK(strlen(a) == 32 && is_hex(a, 32));
    FUZZ_CHECK(strlen(b) == 25 && b[0] == 't' && b[7] == '_' &&
               b[12] == '_' && is_hex(b + 13, 12));
    snprintf(want, sizeof(want), "%02u%c%c_%04x_", (unsigned)h->n_ext_total,
             h->alpn[0], h->alpn[1], h->cipher);
    FUZZ_CHECK(memcmp(b + 3, want, 10) == 0);
}

static void one(const uint8_t *d, size_t n)
{
    struct hscan__hello h, again, before;

    memset(&before, 0xa5, sizeof(before));
    h = before;
    if (hscan__hello_parse(&h, d, n) != 0) {
        FUZZ_CHECK(memcmp(&h, &before, sizeof(h)) == 0);
        return;
    }
    FUZZ_CHECK(n >= 4 + 2 + 32 + 1 + 2 + 1 && d[0] == 2);
    FUZZ_CHECK(h.n_ext <= HSCAN__HELLO_MAX_EXT && h.n_ext <= h.n_ext_total);
    FUZZ_CHECK(h.n_ext == h.n_ext_total || h.n_ext == HSCAN__HELLO_MAX_EXT);
    FUZZ_CHECK(hscan__hello_parse(&again, d, n) == 0 &&
               memcmp(&h, &again, sizeof(h)) == 0);
    check_prints(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *w;

    one(data, size);
    if (size > 0xffffff || !(w = malloc(size + 4)))
        return 0;
    w[0] = 2;
    w[1] = (uint8_t)(size >> 16);
    w[2] = (uint8_t)(size >> 8);
    w[3] = (uint8_t)size;
    if (size)
        memcpy(w + 4, data, size);
    one(w, size + 4);
    free(w);
    return 0;
}
