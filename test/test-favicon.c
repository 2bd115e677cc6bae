/* The favicon hash and the icon link finder, as units (lib/mmh3.c,
 * lib/favicon-link.c): MurmurHash3 x86_32 against the published
 * reference vectors, the Base64 framing against hand-made Base64 text
 * (lines of 76 and a final newline, as Python's base64.encodebytes),
 * every split of the input giving the one-shot result; the link finder
 * on a table of pages, each fed in every chunk size.  test/cli_favicon.py
 * checks the same hashes end to end against Python's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "favicon.h"
#include "mmh3.h"
#include "test-runner.h"

/* Published MurmurHash3_x86_32 vectors (Appleby's SMHasher reference
 * and its widely used test set). */
TEST(murmur_reference)
{
    static const struct {
        const char *s;
        size_t n;
        uint32_t seed, want;
    } v[] = {
        { "", 0, 0, 0 },
        { "", 0, 1, 0x514E28B7u },
        { "", 0, 0xffffffffu, 0x81F16F39u },
        { "\0\0\0\0", 4, 0, 0x2362F9DEu },
        { "\xff\xff\xff\xff", 4, 0, 0x76293B50u },
        { "\x21\x43\x65\x87", 4, 0, 0xF55B516Bu },
        { "\x21\x43\x65", 3, 0, 0x7E4A8634u },
        { "\x21\x43", 2, 0, 0xA0F7B07Au },
        { "\x21", 1, 0, 0x72661CF4u },
        { "aaaa", 4, 0x9747b28cu, 0x5A97808Au },
        { "Hello, world!", 13, 0x9747b28cu, 0x24884CBAu },
        { "The quick brown fox jumps over the lazy dog", 43,
          0x9747b28cu, 0x2FA826CDu },
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        CHECK_INT(hscan__murmur3_32(v[i].s, v[i].n, v[i].seed), v[i].want);
}

/* Base64 lines as encodebytes writes them, by a table-free encoder of
 * its own (arithmetic on the 6-bit value). */
static size_t b64_lines(const unsigned char *in, size_t n, char *out)
{
    size_t i, w = 0, col = 0;

    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 |
                     (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0u);
        int k;
        for (k = 0; k < 4; k++) {
            unsigned c = v >> (18 - 6 * k) & 63;
            if ((k == 2 && i + 1 >= n) || (k == 3 && i + 2 >= n))
                out[w++] = '=';
            else
                out[w++] = (char)(c < 26 ? 'A' + c : c < 52 ? 'a' + c - 26
                                  : c < 62 ? '0' + c - 52
                                  : c == 62 ? '+' : '/');
        }
        if ((col += 4) == 76) {
            out[w++] = '\n';
            col = 0;
        }
    }
    if (col)
        out[w++] = '\n';
    return w;
}

TEST(mmh3_framing_and_splits)
{
    static unsigned char data[700];
    static char text[1000];
    size_t n, i, split;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 131 + 7);
    for (n = 0; n <= sizeof(data); n += n < 130 ? 1 : 57) {
        size_t tn = b64_lines(data, n, text);
        int32_t want = (int32_t)hscan__murmur3_32(text, tn, 0);
        CHECK_INT(hscan__mmh3(data, n), want);
        for (split = 1; split <= 9; split++) {
            struct hscan__mmh3 s;
            hscan__mmh3_init(&s);
            for (i = 0; i < n; i += split)
                hscan__mmh3_feed(&s, data + i, n - i < split ? n - i : split);
            CHECK_INT(hscan__mmh3_final(&s), want);
        }
    }
    /* Shodan's values are signed: this one is above 2^31 unsigned */
    CHECK(hscan__mmh3("hello", 5) ==
          (int32_t)hscan__murmur3_32("aGVsbG8=\n", 9, 0));
    CHECK(hscan__mmh3("", 0) == 0);     /* encodebytes(b"") is b"" */
}

static const struct {
    const char *page;
    const char *want;               /* NULL: no icon link */
} pages[] = {
    { "<link rel=icon href=/a.ico>", "/a.ico" },
    { "<LINK REL='SHORTCUT ICON' HREF='b.ico'>", "b.ico" },
    { "<link rel=\"alternate icon\" href=\" c.ico \">", "c.ico" },
    { "<link rel=apple-touch-icon href=a.png><link rel=icon href=i>", "i" },
    { "<link rel=apple-touch-icon-precomposed href=p.png>", "p.png" },
    { "<link rel=apple-touch-icon href=1><link rel=apple-touch-icon "
      "href=2>", "1" },
    { "<link rel=icon><link rel=icon href=''><link rel=icon href=x>", "x" },
    { "<link rel=stylesheet href=s.css>", NULL },
    { "<linked rel=icon href=no>", NULL },
    { "<link title=\"a>b\" rel=icon href=q>", "q" },
    { "<link rel=icon href=\"/x?a=1&amp;b=2\">", "/x?a=1&b=2" },
    { "<link href=h rel=icon />", "h" },
    { "<link href=h rel=icon/>", NULL },    /* rel is "icon/" (HTML) */
    { "<link rel=iconic href=no><link rel=icon\thref=yes>", "yes" },
    { "<<link rel=icon href=z>", "z" },
    { "<link rel=icon href=\"data:image/png;base64,AA==\">",
      "data:image/png;base64,AA==" },
    { "<p>no links</p>", NULL },
    { "<link rel=icon href=\"unterminated", NULL },
};

static void feed_chunks(struct hscan__link *l, const char *p, size_t n,
                        size_t chunk)
{
    size_t i;

    for (i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        char *c = malloc(k);        /* exact: a read past it is ASan's */
        CHECK(c != NULL);
        memcpy(c, p + i, k);
        hscan__link_feed(l, c, k);
        free(c);
    }
}

TEST(link_finder_table)
{
    size_t i, chunk;

    for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        size_t n = strlen(pages[i].page);
        for (chunk = 1; chunk <= n; chunk++) {
            struct hscan__link l;
            const char *got;
            memset(&l, 0, sizeof(l));
            feed_chunks(&l, pages[i].page, n, chunk);
            got = hscan__link_href(&l);
            if (!pages[i].want) {
                CHECK(got == NULL);
            } else {
                CHECK(got != NULL);
                CHECK_STR(got, pages[i].want);
            }
            hscan__link_free(&l);
        }
    }
}

/* A tag past the bound is skipped whole; the next one still counts, and
 * the buffer never grows past the bound. */
TEST(link_finder_bounded)
{
    size_t n = 3 * HSCAN__LINK_TAG_MAX;
    char *page = malloc(n + 64);
    struct hscan__link l;
    int len;

    CHECK(page != NULL);
    len = sprintf(page, "<link rel=icon href=\"");
    memset(page + len, 'a', n);
    strcpy(page + len + n, "\"><link rel=icon href=ok>");
    memset(&l, 0, sizeof(l));
    feed_chunks(&l, page, strlen(page), 1000);
    CHECK(hscan__link_href(&l) != NULL);
    CHECK_STR(hscan__link_href(&l), "ok");
    CHECK(l.len <= HSCAN__LINK_TAG_MAX);
    hscan__link_free(&l);
    free(page);
}
