/* A strict RFC 8259 reader for the JSON harness: grammar, UTF-8 (RFC
 * 3629: no overlongs, surrogates or code points past U+10FFFF), no raw
 * control characters, paired surrogate escapes, no duplicate keys.  It
 * also decodes every string value the way docs/results.md says a reader
 * recovers the original bytes (\u0000..\u00ff escapes are bytes, literal
 * UTF-8 is its bytes), so the harness can compare them with what went
 * in. */
#ifndef HSCAN_JSON_CHECK_H
#define HSCAN_JSON_CHECK_H

#include <stddef.h>

struct jspan {
    size_t off, len;            /* into jdoc.dec */
};

struct jdoc {
    char *dec;                  /* decoded bytes of every string */
    size_t dec_len;
    struct jspan *vals;         /* string values (not keys), in order */
    size_t n_vals, vals_cap;
    struct jspan *top_keys;     /* keys of the outermost object */
    size_t n_top_keys;
    struct jspan *keys;         /* key stack (duplicate check) */
    size_t n_keys, keys_cap;
};

/* Parse `len` bytes holding exactly one JSON object.  Returns 1 when the
 * text is valid (then `doc` holds the decoded strings; free it with
 * jdoc_free()), 0 when not. */
int json_check(const char *text, size_t len, struct jdoc *doc);
void jdoc_free(struct jdoc *doc);

#endif
