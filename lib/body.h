/* body.c: facts about a response body (title, digest, computed as it
 * arrives) and its length. */
#ifndef HSCAN_BODY_H
#define HSCAN_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

struct hscan__bodyx;
#include "wordcount.h"

#define HSCAN__MAX_BODY (16u << 20) /* cfg.body_bytes at most */

/* The scanner's SHA-256: the algorithm fetched once, and one finished
 * context kept for the next body (a fresh one costs an allocation).
 * Zeroed at first; freed by hscan__md_free(). */
struct hscan__md {
    EVP_MD *md;
    EVP_MD_CTX *spare;
};
/* `m->md`, fetched on first use; NULL when it cannot be. */
const EVP_MD *hscan__md_get(struct hscan__md *m);
void hscan__md_free(struct hscan__md *m);

/* The streaming title tokenizer: the raw text of the first HTML <title>
 * element (from after its start tag to "</title" or the end of the
 * bytes fed), gathered as bytes arrive in any split, at most `max`
 * bytes of it.  Zeroed or hscan__title_init(); nothing is allocated
 * until a title's text starts. */
struct hscan__title {
    char *raw;
    uint32_t len, cap, max;
    unsigned char state;  /* body.c's enum tstate */
    unsigned char match;  /* bytes of "<title" or "</title" matched */
};
void hscan__title_init(struct hscan__title *t, size_t max);
/* Returns 0, or -1 when out of memory (then there is no title). */
int hscan__title_feed(struct hscan__title *t, const char *data, size_t n);
/* The title of the bytes fed so far, character references decoded,
 * runs of white space collapsed to one space and trimmed, into `out`
 * (at most `size` bytes; a title never decodes to more bytes than its
 * raw text, t->len).  Returns its length, or -1 when there is no
 * <title> start tag.  More bytes may be fed after. */
long hscan__title_text(const struct hscan__title *t, char *out,
                       size_t size);
void hscan__title_free(struct hscan__title *t);
/* The same over html[0..n) at once (a tokenizer fed once). */
long hscan__html_title(const char *html, size_t n, char *out, size_t size);

/* Facts of a body computed as it arrives: its SHA-256 and title, and,
 * when asked, its bytes.  Zeroed or hscan__bodyf_free()d when unused:
 * nothing is allocated until bytes come. */
struct hscan__bodyf {
    struct hscan__md *md;     /* the scanner's; NULL: no digest */
    EVP_MD_CTX *ctx;          /* while bytes come */
    char *buf;                /* keep: the bytes fed */
    uint32_t len, cap, max;   /* bytes fed, at most max */
    unsigned char keep;
    unsigned char ended;      /* hscan__bodyf_end() ran */
    unsigned char has_digest; /* digest[] holds the SHA-256 */
    unsigned char failed;     /* the digest failed: none */
    unsigned char digest[32];
    struct hscan__title title;
    /* ---- favicon and --hash (favicon.h): other hashes and the icon
     * link finder, hung here by the probe; kept across
     * hscan__bodyf_start(), never freed here.  NULL: none ---- */
    struct hscan__bodyx *x;
    /* ---- words and lines (r->body_words, body_lines) ---- */
    struct hscan__wcount wc;
};
/* Ready `bf` for a body of at most `max` bytes, digested with `md`
 * (which must outlive hscan__bodyf_end(); NULL: no digest) and kept in
 * bf->buf when `keep`. */
void hscan__bodyf_start(struct hscan__bodyf *bf, struct hscan__md *md,
                        int keep, size_t max);
/* Feed the next `n` bytes (bf->len + n <= max).  Returns 0, or -1 when
 * out of memory: then the facts cover the bytes before `data` (the
 * title none) and no more may be fed. */
int hscan__bodyf_feed(struct hscan__bodyf *bf, const char *data,
                      size_t n);
/* No more bytes: the digest is final and the context goes back to the
 * scanner.  Idempotent. */
void hscan__bodyf_end(struct hscan__bodyf *bf);
/* The hex digest into out[65]; returns 0, or -1 when there is none. */
int hscan__bodyf_hex(const struct hscan__bodyf *bf, char *out);
void hscan__bodyf_free(struct hscan__bodyf *bf);
/* A Content-Length value as a number, -1 when it is not one. */
long long hscan__content_length(const char *v, size_t n);

#endif /* HSCAN_BODY_H */
