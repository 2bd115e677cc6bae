/* The library's own DNS answer handling (lib/dns-walk.c): c-ares hands over
 * the raw reply and hscan__dns_walk() decodes names (with compression
 * pointers) and follows the CNAME chain itself.
 *
 * Input: [flags] then the reply.  flags bit 0: AAAA rather than A; bits
 * 1..5: addresses already kept from an earlier reply (the cap is shared
 * by a retry).  Checked: no crash, over-read or hang; at most
 * HSCAN__MAX_ADDRS addresses, each of the asked family; the TTL only
 * goes down; each CNAME target is a presentation-form name (printable
 * ASCII, escapes well formed, shorter than 256 bytes), kept as dns.c's
 * add_cname() keeps them. */
#include <string.h>

#include "dns.h"
#include "fuzz.h"

struct chain {
    char *names;
    size_t len;
    unsigned n;
};

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The form skip_name() promises: '.' between non-empty labels, '.' and
 * '\\' escaped with '\\', other bytes outside 0x21..0x7e as \DDD. */
static void check_name(const char *s)
{
    size_t n = strlen(s), i, label = 0;

    FUZZ_CHECK(n < 256);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c >= 0x21 && c <= 0x7e);
        if (c == '.') {
            FUZZ_CHECK(label > 0);
            label = 0;
            continue;
        }
        label++;
        if (c != '\\')
            continue;
        FUZZ_CHECK(i + 1 < n);
        if (s[i + 1] == '.' || s[i + 1] == '\\') {
            i++;
        } else {
            int v;
            FUZZ_CHECK(i + 3 < n && digit(s[i + 1]) && digit(s[i + 2]) &&
                       digit(s[i + 3]));
            v = (s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 +
                (s[i + 3] - '0');
            FUZZ_CHECK(v <= 255 && (v < 0x21 || v > 0x7e));
            i += 3;
        }
    }
    FUZZ_CHECK(n == 0 || label > 0);
}

static void on_cname(void *arg, const char *name)
{
    struct chain *c = arg;
    size_t n = strlen(name) + 1;
    char *b;

    check_name(name);
    if (c->n >= HSCAN__MAX_CNAMES)
        return;
    b = realloc(c->names, c->len + n);
    FUZZ_CHECK(b != NULL);
    memcpy(b + c->len, name, n);
    c->names = b;
    c->len += n;
    c->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    struct hscan__addr addrs[HSCAN__MAX_ADDRS + 1];
    struct chain chain = { NULL, 0, 0 };
    unsigned flags = fz_u8(&f), n0, n, i;
    int v6 = flags & 1, found;
    uint32_t ttl = UINT32_MAX;
    const uint8_t *reply;
    size_t len = fz_take(&f, 65535, &reply);
    unsigned char *abuf = (unsigned char *)fz_dup(reply, len);

    n0 = (flags >> 1) % (HSCAN__MAX_ADDRS + 1);
    memset(addrs, 0xa5, sizeof(addrs));
    for (i = 0; i < n0; i++)
        addrs[i].family = v6 ? 6 : 4;
    n = n0;
    found = hscan__dns_walk(abuf, (int)len, v6, addrs, &n, &ttl, on_cname,
                            &chain);
    FUZZ_CHECK(found >= -1 && found <= 1);
    FUZZ_CHECK(n >= n0 && n <= HSCAN__MAX_ADDRS);
    FUZZ_CHECK(addrs[HSCAN__MAX_ADDRS].family == 0xa5);   /* untouched */
    for (i = 0; i < n; i++)
        FUZZ_CHECK(addrs[i].family == (v6 ? 6 : 4));
    if (n > n0)
        FUZZ_CHECK(found == 1);
    if (found != 1 && chain.n == 0)
        FUZZ_CHECK(ttl == UINT32_MAX);
    if (found == -1)
        FUZZ_CHECK(chain.n == 0 && n == n0);
    FUZZ_CHECK(chain.n <= HSCAN__MAX_CNAMES);
    free(chain.names);
    free(abuf);
    return 0;
}
