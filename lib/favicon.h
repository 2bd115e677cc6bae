/* favicon.c, favicon-link.c, body-hash.c: the body hashes cfg.hash
 * chooses (md5 and the Shodan favicon hash beside SHA-256), the icon
 * link finder, and the favicon request (cfg.favicon). */
#ifndef HSCAN_FAVICON_H
#define HSCAN_FAVICON_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "mmh3.h"

struct hscan__bodyf;

/* The streaming icon link finder: the href of the first
 * <link rel="icon"> (any rel with the token "icon", so "shortcut icon"
 * too), else of the first rel "apple-touch-icon" or
 * "apple-touch-icon-precomposed", in the bytes fed in any split.  Rel
 * tokens compare ASCII case-insensitively; "&amp;" in the href becomes
 * "&" and white space around it goes.  A tag longer than
 * HSCAN__LINK_TAG_MAX bytes is skipped.  Zeroed when unused; nothing is
 * allocated before a "<link" comes. */
#define HSCAN__LINK_TAG_MAX 8192
struct hscan__link {
    char *tag;                /* the tag being read, after "<link" */
    char *href;               /* the best href so far, NUL-terminated */
    uint32_t len;
    unsigned char state;      /* favicon-link.c's enum lstate */
    unsigned char match;      /* bytes of "<link" matched */
    unsigned char quote;      /* inside a quoted value: its quote */
    unsigned char rank;       /* of href: 0 none, 1 icon, 2 apple */
};
void hscan__link_feed(struct hscan__link *l, const char *data, size_t n);
/* The href found (NUL-terminated), or NULL. */
const char *hscan__link_href(const struct hscan__link *l);
void hscan__link_free(struct hscan__link *l);

/* Hashes of a body beyond its SHA-256 (cfg.hash), and the link finder,
 * hung on a body's facts (bf->x) by the probe that wants them; they
 * start, take bytes and end with the body.  Owned by the probe. */
struct hscan__bodyx {
    unsigned hashes;          /* HSCAN_HASH_* */
    EVP_MD_CTX *md5;          /* while bytes come */
    struct hscan__mmh3 mm;
    struct hscan__link *link; /* NULL: no link finding */
    unsigned char has_md5, has_mmh3;
    int32_t mmh3;
    char md5hex[33];
};
/* From hscan__bodyf_start(): a new body (bf->x set); no SHA-256 when
 * cfg.hash leaves it out. */
void hscan__bodyx_start(struct hscan__bodyf *bf);
void hscan__bodyx_feed(struct hscan__bodyx *x, const char *data, size_t n);
void hscan__bodyx_end(struct hscan__bodyx *x);
void hscan__bodyx_free(struct hscan__bodyx *x);

#endif /* HSCAN_FAVICON_H */
