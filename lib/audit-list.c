/* The audit's list-valued fields (cfg.audit, docs/audit.md):
 * X-Content-Type-Options, X-Frame-Options and Referrer-Policy as Fetch
 * lists, Permissions-Policy as an RFC 8941 dictionary.  Each is read
 * across all of the field's lines, byte by byte, with no copy and no
 * allocation; every step consumes a byte or stops, so the work is linear
 * in the header bytes. */
#include <string.h>

#include "ascii.h"
#include "audit.h"

/* Shared with audit.c, which depends on this file and not the other way
 * round. */
int hscan__audit_field_is(const hscan_header_t *h, const char *lit)
{
    return h->name &&
           hscan__ieq((const unsigned char *)h->name, h->name_len, lit);
}

void hscan__audit_value(const hscan_header_t *h, const unsigned char **s,
                        const unsigned char **e)
{
    static const unsigned char none[1];

    *s = h->value ? (const unsigned char *)h->value : none;
    *e = *s + (h->value ? h->value_len : 0);
    hscan__trim(s, e, 1);
}

#define ITEM_CAP 40         /* a list value longer than this is no token */

/* ---- one field's value: its lines joined by ", " ----
 *
 * RFC 9110 5.3: several lines of one field name mean their values joined
 * with commas, and RFC 8941 4.2 parses exactly that joined value.  This
 * reads it byte by byte without building it. */

struct fv {
    const hscan_header_t *h;
    size_t n, next;             /* next line to look at */
    const char *name;
    const unsigned char *p, *e; /* the rest of the current line */
    const char *gap;            /* ", " still owed before line p, or NULL */
    int more;                   /* fv_item(): a list value is still due */
};

/* Move to the next line of the field; 0 when there is none. */
static int fv_line(struct fv *f)
{
    while (f->next < f->n) {
        const hscan_header_t *h = &f->h[f->next++];
        if (hscan__audit_field_is(h, f->name)) {
            hscan__audit_value(h, &f->p, &f->e);
            return 1;
        }
    }
    return 0;
}

/* 1 when the response has the field (then its value is ready to read). */
static int fv_open(struct fv *f, const hscan_header_t *h, size_t n,
                   const char *name)
{
    memset(f, 0, sizeof(*f));
    f->h = h;
    f->n = n;
    f->name = name;
    f->more = 1;
    return fv_line(f);
}

/* The next byte, or -1 at the end of the value. */
static int fv_peek(struct fv *f)
{
    if (f->gap)
        return (unsigned char)*f->gap;
    if (f->p < f->e)
        return *f->p;
    if (!fv_line(f))
        return -1;
    f->gap = ", ";
    return ',';
}

/* Step past the byte fv_peek() returned (not -1). */
static void fv_skip(struct fv *f)
{
    if (f->gap) {
        if (*++f->gap == '\0')
            f->gap = NULL;
    } else {
        f->p++;
    }
}

static void fv_skip_ows(struct fv *f)
{
    while (hscan__is_ows(fv_peek(f)))
        fv_skip(f);
}

/* ---- list values: Fetch "get, decode, and split" ---- */

/* One value, lowercased; only its first ITEM_CAP bytes are kept, which
 * is more than any token compared against. */
struct item {
    char b[ITEM_CAP];
    size_t len;
    int longer;                 /* more than ITEM_CAP bytes */
    int alpha_hyphen;           /* only ALPHA and '-' (maybe empty) */
};

static void item_put(struct item *it, int c)
{
    if (it->len < sizeof(it->b))
        it->b[it->len++] = (char)hscan__lower(c);
    else
        it->longer = 1;
    if (!hscan__is_alpha(c) && c != '-')
        it->alpha_hyphen = 0;
}

/* Inside a quoted string, up to and including its closing quote or the
 * end of the value (Fetch "collect an HTTP quoted string", value kept
 * as it is, quotes and backslashes included). */
static void item_quoted(struct fv *f, struct item *it)
{
    int c;

    item_put(it, '"');
    fv_skip(f);
    while ((c = fv_peek(f)) >= 0) {
        item_put(it, c);
        fv_skip(f);
        if (c == '"')
            return;
        if (c == '\\' && (c = fv_peek(f)) >= 0) {
            item_put(it, c);
            fv_skip(f);
        }
    }
}

/* The next value of the comma-separated list: the text up to a comma
 * outside quotes, without SP/HTAB at its ends.  A value follows every
 * comma, even the last ("a," is "a" and ""), as Fetch specifies.
 * Returns 1 with `*it` filled, 0 when the list is over. */
static int fv_item(struct fv *f, struct item *it)
{
    size_t ws = 0;              /* white space held until a byte follows */
    int c;

    if (!f->more)
        return 0;
    memset(it, 0, sizeof(*it));
    it->alpha_hyphen = 1;
    fv_skip_ows(f);
    for (;;) {
        if ((c = fv_peek(f)) < 0) {
            f->more = 0;
            return 1;
        }
        if (c == ',') {
            fv_skip(f);
            return 1;
        }
        if (hscan__is_ows(c)) {
            ws++;
            fv_skip(f);
            continue;
        }
        for (; ws; ws--)
            item_put(it, ' ');
        if (c == '"') {
            item_quoted(f, it);
        } else {
            item_put(it, c);
            fv_skip(f);
        }
    }
}

static int item_is(const struct item *it, const char *lit)
{
    return !it->longer && it->len == strlen(lit) &&
           memcmp(it->b, lit, it->len) == 0;
}

/* ---- X-Content-Type-Options, X-Frame-Options, Referrer-Policy ---- */

/* Fetch "determine nosniff": the first value of the joined list. */
int hscan__audit_xcto(const hscan_header_t *h, size_t n)
{
    struct fv f;
    struct item it;

    if (!fv_open(&f, h, n, "x-content-type-options"))
        return HSCAN_AUDIT_MISSING;
    fv_item(&f, &it);
    return item_is(&it, "nosniff") ? HSCAN_AUDIT_OK : HSCAN_AUDIT_INVALID;
}

/* HTML "check a navigation response's adherence to X-Frame-Options": the
 * set of lowercased values; more than one value with deny, sameorigin
 * or allowall among them blocks every framing (browsers fall back to
 * deny); otherwise only a lone deny or sameorigin restricts it. */
int hscan__audit_xfo(const hscan_header_t *h, size_t n)
{
    static const char *const known[] = { "deny", "sameorigin", "allowall" };
    struct fv f;
    struct item it;
    unsigned seen = 0, kinds = 0, i;
    int other = 0;

    if (!fv_open(&f, h, n, "x-frame-options"))
        return HSCAN_AUDIT_MISSING;
    while (fv_item(&f, &it)) {
        for (i = 0; i < 3 && !item_is(&it, known[i]); i++)
            ;
        if (i == 3)
            other = 1;
        else
            seen |= 1u << i;
    }
    for (i = 0; i < 3; i++)
        kinds += (seen >> i) & 1;
    if (kinds == 0)
        return HSCAN_AUDIT_INVALID;         /* ALLOW-FROM, junk, "" */
    if (kinds > 1 || other)
        return HSCAN_AUDIT_OK;              /* conflicting: deny */
    return seen == 4 ? HSCAN_AUDIT_INVALID  /* allowall alone */
                     : HSCAN_AUDIT_OK;
}

/* Referrer Policy 8.1: the last token that is a policy wins.  Browsers
 * compare without case; Chromium refuses the whole field when a token it
 * does not know holds more than ALPHA and '-' (the spec's ABNF fails
 * there too).  unsafe-url is a policy but sends the full URL everywhere,
 * even to plain http: it protects nothing, so it is invalid here. */
int hscan__audit_referrer(const hscan_header_t *h, size_t n)
{
    static const char *const policies[] = {
        "no-referrer", "no-referrer-when-downgrade", "same-origin",
        "origin", "strict-origin", "origin-when-cross-origin",
        "strict-origin-when-cross-origin", "unsafe-url"
    };
    const size_t np = sizeof(policies) / sizeof(policies[0]);
    struct fv f;
    struct item it;
    size_t i, last = np;

    if (!fv_open(&f, h, n, "referrer-policy"))
        return HSCAN_AUDIT_MISSING;
    while (fv_item(&f, &it)) {
        for (i = 0; i < np && !item_is(&it, policies[i]); i++)
            ;
        if (i < np)
            last = i;
        else if (!it.alpha_hyphen)
            return HSCAN_AUDIT_INVALID;
    }
    if (last == np || last == np - 1)       /* none, or unsafe-url */
        return HSCAN_AUDIT_INVALID;
    return HSCAN_AUDIT_OK;
}

/* ---- Permissions-Policy: an RFC 8941 dictionary ----
 *
 * Each function follows the parsing algorithm of its RFC 8941 section
 * and returns 1, or 0 where that algorithm says "fail parsing".  Every
 * step consumes a byte or stops, so the work is linear. */

static int sf_key(struct fv *f)                 /* 4.2.3.3 */
{
    int c = fv_peek(f);

    if (!(c >= 'a' && c <= 'z') && c != '*')
        return 0;
    do {
        fv_skip(f);
        c = fv_peek(f);
    } while ((c >= 'a' && c <= 'z') || hscan__is_digit(c) || c == '_' ||
             c == '-' || c == '.' || c == '*');
    return 1;
}

static int sf_number(struct fv *f)              /* 4.2.4 */
{
    int digits = 0, frac = -1, c;

    if (fv_peek(f) == '-')
        fv_skip(f);
    if (!hscan__is_digit(fv_peek(f)))
        return 0;
    for (;;) {
        c = fv_peek(f);
        if (hscan__is_digit(c)) {
            if (frac < 0)
                digits++;
            else
                frac++;
        } else if (c == '.' && frac < 0) {
            if (digits > 12)
                return 0;
            frac = 0;
        } else {
            break;
        }
        fv_skip(f);
        if (frac < 0 ? digits > 15 : digits + 1 + frac > 16)
            return 0;
    }
    return frac != 0 && frac <= 3;      /* -1: an integer */
}

static int sf_string(struct fv *f)              /* 4.2.5 */
{
    int c;

    fv_skip(f);
    while ((c = fv_peek(f)) >= 0) {
        fv_skip(f);
        if (c == '"')
            return 1;
        if (c == '\\') {
            c = fv_peek(f);
            if (c != '"' && c != '\\')
                return 0;
            fv_skip(f);
        } else if (c < 0x20 || c > 0x7e) {
            return 0;
        }
    }
    return 0;
}

static int sf_token(struct fv *f)               /* 4.2.6 */
{
    int c;

    do {
        fv_skip(f);
        c = fv_peek(f);
    } while (hscan__is_tchar(c) || c == ':' || c == '/');
    return 1;
}

static int sf_binary(struct fv *f)              /* 4.2.7 */
{
    int c;

    fv_skip(f);
    while ((c = fv_peek(f)) >= 0) {
        fv_skip(f);
        if (c == ':')
            return 1;
        if (!hscan__is_alpha(c) && !hscan__is_digit(c) && c != '+' &&
            c != '/' && c != '=')
            return 0;
    }
    return 0;
}

static int sf_bare(struct fv *f)                /* 4.2.3.1 */
{
    int c = fv_peek(f);

    if (c == '-' || hscan__is_digit(c))
        return sf_number(f);
    if (c == '"')
        return sf_string(f);
    if (hscan__is_alpha(c) || c == '*')
        return sf_token(f);
    if (c == ':')
        return sf_binary(f);
    if (c == '?') {                             /* 4.2.8 */
        fv_skip(f);
        c = fv_peek(f);
        if (c != '0' && c != '1')
            return 0;
        fv_skip(f);
        return 1;
    }
    return 0;
}

static int sf_params(struct fv *f)              /* 4.2.3.2 */
{
    while (fv_peek(f) == ';') {
        fv_skip(f);
        while (fv_peek(f) == ' ')
            fv_skip(f);
        if (!sf_key(f))
            return 0;
        if (fv_peek(f) == '=') {
            fv_skip(f);
            if (!sf_bare(f))
                return 0;
        }
    }
    return 1;
}

static int sf_item(struct fv *f)                /* 4.2.3 */
{
    return sf_bare(f) && sf_params(f);
}

static int sf_inner_list(struct fv *f)          /* 4.2.1.2 */
{
    int c;

    fv_skip(f);
    for (;;) {
        while (fv_peek(f) == ' ')
            fv_skip(f);
        if ((c = fv_peek(f)) < 0)
            return 0;
        if (c == ')') {
            fv_skip(f);
            return sf_params(f);
        }
        if (!sf_item(f))
            return 0;
        c = fv_peek(f);
        if (c != ' ' && c != ')')
            return 0;
    }
}

/* 4.2.2 over the joined field value (4.2 steps 2 and 6 included: lines
 * are trimmed already).  `*members` counts the dictionary's members. */
static int sf_dictionary(struct fv *f, unsigned *members)
{
    *members = 0;
    while (fv_peek(f) >= 0) {
        if (!sf_key(f))
            return 0;
        if (fv_peek(f) == '=') {
            fv_skip(f);
            if (!(fv_peek(f) == '(' ? sf_inner_list(f) : sf_item(f)))
                return 0;
        } else if (!sf_params(f)) {
            return 0;
        }
        ++*members;
        fv_skip_ows(f);
        if (fv_peek(f) < 0)
            return 1;
        if (fv_peek(f) != ',')
            return 0;
        fv_skip(f);
        fv_skip_ows(f);
        if (fv_peek(f) < 0)
            return 0;                           /* trailing comma */
    }
    return 1;
}

/* A dictionary that fails to parse is ignored whole (RFC 8941 4.2); an
 * empty one (a blank field) sets no policy. */
int hscan__audit_permissions(const hscan_header_t *h, size_t n)
{
    struct fv f;
    unsigned members;

    if (!fv_open(&f, h, n, "permissions-policy"))
        return HSCAN_AUDIT_MISSING;
    return sf_dictionary(&f, &members) && members ? HSCAN_AUDIT_OK
                                                  : HSCAN_AUDIT_INVALID;
}
