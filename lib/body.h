/* body.c: facts about a response body (title, digest) and its length. */
#ifndef HSCAN_BODY_H
#define HSCAN_BODY_H

#include <stddef.h>
#include <openssl/evp.h>

#define HSCAN__MAX_BODY (16u << 20) /* cfg.body_bytes at most */

/* The text of the first HTML <title> element in `html`, character
 * references decoded, runs of white space collapsed to one space and
 * trimmed, into `out` (at most `size` bytes; a title never decodes to
 * more bytes than it had).  Returns its length, or -1 when there is no
 * <title> start tag. */
long hscan__html_title(const char *html, size_t n, char *out, size_t size);
/* Hex SHA-256 of data[0..n) into out[65], with the digest fetched once
 * per scanner and its context reused (`md`, `ctx`: NULL at first;
 * freed by hscan__scratch_free()): a fresh EVP_Digest() per result
 * costs some 8,000 instructions, mostly the algorithm fetch.  Returns 0
 * or -1. */
int hscan__sha256_hex(EVP_MD **md, EVP_MD_CTX **ctx, const char *data,
                      size_t n, char *out);
/* A Content-Length value as a number, -1 when it is not one. */
long long hscan__content_length(const char *v, size_t n);

#endif /* HSCAN_BODY_H */
