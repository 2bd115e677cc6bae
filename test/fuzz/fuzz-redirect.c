/* The redirect Location resolver (lib/target.c hscan__url_resolve) and
 * what redirect.c does with its answer: the next URL either goes through
 * the input-line parser as an absolute http/https URL, or the response
 * is final (a refusal).
 *
 * Input: [sel] base-line '\n' location-bytes.  The base line is parsed
 * as an input line and turned into the URL the probe requested (the
 * shape of hscan__p_url); sel picks the scheme of a scheme-less base and
 * the output buffer size (redirect.c's, or a small one).  Checked: no
 * write past the buffer, a NUL inside it; a followed URL is well formed
 * (fuzz-util.c); a relative Location keeps the base's scheme, host and
 * port and leaves no "." or ".." segment in the path. */
#include <string.h>

#include "fuzz.h"

#define URL_MAX (HSCAN__MAX_LINE + 512)     /* as lib/redirect.c */

static const char default_base[] = "http://a.test/b/c/d;p?q";

/* The URL the probe asked for: scheme://host[:port]path. */
static size_t base_url(const uint8_t *line, size_t len, int https,
                       char *out, size_t size)
{
    struct hscan__target t;
    struct hscan__sb b = { out, size, 0 };
    const char *s = (const char *)line, *why;
    int scheme, dflt;

    if (hscan__target_skip(&s, &len) ||
        hscan__target_parse(s, len, &t, &why) != 0) {
        hscan__sb_str(&b, default_base);
        return hscan__sb_end(&b);
    }
    scheme = t.scheme ? t.scheme : https ? HSCAN__HTTPS : HSCAN__HTTP;
    dflt = scheme == HSCAN__HTTPS ? 443 : 80;
    hscan__sb_str(&b, scheme == HSCAN__HTTPS ? "https://" : "http://");
    hscan__sb_put(&b, "[", t.family == 6);
    hscan__sb_put(&b, t.host, t.host_len);
    hscan__sb_put(&b, "]", t.family == 6);
    if (t.port && t.port != dflt) {
        hscan__sb_put(&b, ":", 1);
        hscan__sb_uint(&b, (unsigned)t.port);
    }
    if (t.path_len == 0 || t.path[0] == '?')
        hscan__sb_put(&b, "/", 1);
    hscan__sb_put(&b, t.path, t.path_len);
    return hscan__sb_end(&b);
}

/* RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
static int has_scheme(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (c == ':')
            return i > 0;
        if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' ||
                                   c == '-' || c == '.')))
            return 0;
    }
    return 0;
}

/* No "." or ".." segment is left in path p[0..n) (RFC 3986 5.2.4). */
static void check_no_dots(const char *p, size_t n)
{
    size_t i = 0;

    FUZZ_CHECK(n > 0 && p[0] == '/');
    while (i < n) {
        size_t j = i + 1;
        while (j < n && p[j] != '/')
            j++;
        FUZZ_CHECK(!(j - i == 2 && p[i + 1] == '.'));
        FUZZ_CHECK(!(j - i == 3 && p[i + 1] == '.' && p[i + 2] == '.'));
        i = j;
    }
}

static int prefix_ci(const char *s, size_t n, const char *p)
{
    size_t i, pn = strlen(p);

    if (n < pn)
        return 0;
    for (i = 0; i < pn; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != p[i])
            return 0;
    }
    return 1;
}

static void check_followed(const char *base, size_t auth_len, int relative,
                           const char *out, size_t len,
                           const struct hscan__target *t)
{
    const char *frag = memchr(out, '#', len);
    size_t i, end = frag ? (size_t)(frag - out) : len;

    FUZZ_CHECK(t->scheme == HSCAN__HTTP || t->scheme == HSCAN__HTTPS);
    FUZZ_CHECK(prefix_ci(out, len, t->scheme == HSCAN__HTTPS ? "https://"
                                                             : "http://"));
    for (i = 0; i < end; i++)
        FUZZ_CHECK((unsigned char)out[i] > 0x20 &&
                   (unsigned char)out[i] < 0x7f);
    fuzz_check_target(out, len, t);
    if (relative)   /* the same scheme, host and port as the base */
        FUZZ_CHECK(memcmp(out, base, auth_len) == 0 &&
                   (out[auth_len] == '/' || out[auth_len] == '?' ||
                    out[auth_len] == '#' || out[auth_len] == '\0'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned sel = fz_u8(&f);
    const uint8_t *nl = memchr(f.p, '\n', f.n), *line, *refb;
    size_t line_len, ref_len, size_out, base_len, auth_len, len;
    char base[URL_MAX], *ref, *out;
    const char *auth, *why;
    struct hscan__target t;
    int rc, relative;

    line_len = fz_take(&f, nl ? (size_t)(nl - f.p) : f.n, &line);
    fz_u8(&f);                              /* the '\n' */
    ref_len = fz_take(&f, f.n, &refb);
    base_len = base_url(line, line_len, sel & 1, base, sizeof(base));
    if (base_len >= sizeof(base))
        return 0;
    size_out = (sel >> 1) ? (sel >> 1) * 9 + 1 : URL_MAX;

    ref = fz_dup(refb, ref_len);
    out = malloc(size_out);
    FUZZ_CHECK(out != NULL);
    rc = hscan__url_resolve(base, ref, ref_len, out, size_out);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (ref_len == 0)
        FUZZ_CHECK(rc == -1);
    if (rc != 0)
        goto done;
    FUZZ_CHECK(memchr(out, '\0', size_out) != NULL);
    len = strlen(out);

    /* scheme://authority of the base */
    auth = strstr(base, "://") + 3;
    auth_len = (size_t)(auth - base) + strcspn(auth, "/?#");
    relative = !memchr(ref, '\0', ref_len) && !has_scheme(ref, ref_len) &&
               !(ref_len >= 2 && ref[0] == '/' && ref[1] == '/');
    if (relative) {
        size_t plen = strcspn(out + auth_len, "?#");
        FUZZ_CHECK(memcmp(out, base, auth_len) == 0);
        check_no_dots(out + auth_len, plen);
    }
    /* redirect.c follow(): what the input-line parser refuses, or a URL
     * without a scheme, is not followed. */
    if (hscan__target_parse(out, len, &t, &why) == 0 && t.scheme)
        check_followed(base, auth_len, relative, out, len, &t);
done:
    free(out);
    free(ref);
    return 0;
}
