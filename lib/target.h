/* target.c: one input line, and URL resolution for redirects. */
#ifndef HSCAN_TARGET_H
#define HSCAN_TARGET_H

#include <stddef.h>

enum { HSCAN__HTTP = 1, HSCAN__HTTPS = 2 };

struct hscan__target {
    int scheme;         /* HSCAN__HTTP/HTTPS, or 0 when the line has none */
    const char *host;   /* points into the line, brackets stripped */
    size_t host_len;
    const char *path;   /* points into the line; len 0 = none given */
    size_t path_len;
    int port;           /* 0 when the line gives none */
    int family;         /* 0 for a name, 4 or 6 for an address literal */
};

/* Trim ASCII white space at both ends in place.  Returns 1 when the
 * trimmed line is blank or a '#' comment (skip it without a record). */
int hscan__target_skip(const char **line, size_t *len);

/* Parse a trimmed, non-blank line.  Returns 0, or HSCAN_EINVALID_TARGET
 * with `*why` set to a static sentence.  Writes `*t` only on success. */
int hscan__target_parse(const char *line, size_t len,
                        struct hscan__target *t, const char **why);

/* Resolve a Location value `ref` against the absolute URL `base`
 * ("scheme://authority/path?query", as the result's url) per RFC 3986
 * 5.2, writing an absolute URL to `out`.  Returns 0, or -1 when it does
 * not fit or `base` is not absolute. */
int hscan__url_resolve(const char *base, const char *ref, size_t ref_len,
                       char *out, size_t size);

#endif /* HSCAN_TARGET_H */
