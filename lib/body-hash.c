/* The body's other hashes (cfg.hash: md5, mmh3 beside or instead of
 * sha256), computed as the bytes arrive on the body's facts (body.c
 * calls in here only when a probe hung a struct hscan__bodyx on them:
 * the default scan pays one pointer test per feed). */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "favicon.h"
#include "hscan.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void hscan__bodyx_start(struct hscan__bodyf *bf)
{
    struct hscan__bodyx *x = bf->x;

    EVP_MD_CTX_free(x->md5);
    x->md5 = NULL;
    x->has_md5 = x->has_mmh3 = 0;
    if (!(x->hashes & HSCAN_HASH_SHA256))
        bf->md = NULL;
    if (x->hashes & HSCAN_HASH_MD5) {
        x->md5 = EVP_MD_CTX_new();
        if (x->md5 && !EVP_DigestInit_ex(x->md5, EVP_md5(), NULL)) {
            EVP_MD_CTX_free(x->md5);
            x->md5 = NULL;          /* no md5 then: null in the record */
        }
    }
    hscan__mmh3_init(&x->mm);
    if (x->link) {                  /* the final response's body only */
        hscan__link_free(x->link);
        memset(x->link, 0, sizeof(*x->link));
    }
}

void hscan__bodyx_feed(struct hscan__bodyx *x, const char *data, size_t n)
{
    if (x->md5 && !EVP_DigestUpdate(x->md5, data, n)) {
        EVP_MD_CTX_free(x->md5);
        x->md5 = NULL;
    }
    if (x->hashes & HSCAN_HASH_MMH3)
        hscan__mmh3_feed(&x->mm, data, n);
    if (x->link)
        hscan__link_feed(x->link, data, n);
}

void hscan__bodyx_end(struct hscan__bodyx *x)
{
    unsigned char d[16];
    unsigned int len = 0;

    if (x->md5) {
        x->has_md5 = EVP_DigestFinal_ex(x->md5, d, &len) && len == 16;
        if (x->has_md5)
            hex(d, 16, x->md5hex);
        EVP_MD_CTX_free(x->md5);
        x->md5 = NULL;
    }
    if (x->hashes & HSCAN_HASH_MMH3) {
        x->mmh3 = hscan__mmh3_final(&x->mm);
        x->has_mmh3 = 1;
    }
}

void hscan__bodyx_free(struct hscan__bodyx *x)
{
    if (!x)
        return;
    EVP_MD_CTX_free(x->md5);
    x->md5 = NULL;
    if (x->link)
        hscan__link_free(x->link);
}
