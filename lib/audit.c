/* Security-header audit (cfg.audit): what a browser would enforce from
 * the final response's headers.  docs/audit.md states every rule and the
 * specification (or browser source) it follows; keep the two in step.
 * HSTS, CSP, cookies, the summary and the JSON are here; the fields read
 * as lists or structured fields are in audit-list.c.
 *
 * Header bytes are the server's: any byte, NUL included, never
 * NUL-terminated.  Every check walks each header once, so the work is
 * linear in the header bytes, and nothing is allocated: the two strings
 * of the result live in the caller's buffer. */
#include <string.h>

#include "ascii.h"
#include "audit.h"

#define WEAK_CAP 512        /* weak_cookies bytes at most, "..." included */
#define NAME_CAP 64         /* bytes of one cookie name listed */
#define COOKIE_AV_MAX 1024  /* RFC 6265bis (Set-Cookie parsing): longer
                               attribute values are ignored */

/* The checks, in the order of `missing` and of the JSON keys. */
#define ALL_CHECKS                                                        \
    "hsts,csp,x_content_type_options,framing,referrer_policy,"            \
    "permissions_policy,cookies"

_Static_assert(WEAK_CAP + 1 + sizeof(ALL_CHECKS) <= HSCAN__AUDIT_STRBUF,
               "HSCAN__AUDIT_STRBUF holds weak_cookies and missing");

/* ---- Strict-Transport-Security (RFC 6797) ---- */

/* End of the quoted-string starting at `p` (RFC 9110 5.6.4), or NULL
 * when it does not close or holds a control byte. */
static const unsigned char *quoted_end(const unsigned char *p,
                                       const unsigned char *e)
{
    for (p++; p < e; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\' && ++p == e)
            return NULL;
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return NULL;
    }
    return NULL;
}

/* delta-seconds (1*DIGIT) from a token or quoted-string value; a number
 * past the range saturates, as Chromium clamps it. */
static int delta_seconds(const unsigned char *v, const unsigned char *e,
                         long long *out)
{
    long long n = 0;
    int digits = 0;

    if (v < e && *v == '"') {   /* the quotes (checked whole) go */
        v++;
        e--;
    }
    for (; v < e; v++) {
        if (*v == '\\')         /* quoted-pair */
            v++;
        if (!hscan__is_digit(*v))
            return 0;
        n = n > (0x7fffffffffffffffLL - 9) / 10 ? 0x7fffffffffffffffLL
                                               : n * 10 + (*v - '0');
        digits++;
    }
    if (!digits)
        return 0;
    *out = n;
    return 1;
}

/* Record one directive; 0 when it makes the field invalid.  `v` is NULL
 * when the directive has no "=value". */
static int hsts_directive(const unsigned char *name, size_t nlen,
                          const unsigned char *v, const unsigned char *ve,
                          int *seen, hscan_audit_t *a)
{
    if (hscan__ieq(name, nlen, "max-age")) {
        /* RFC 6797 6.1 item 2: once only; 6.1.1: a value is required. */
        if (*seen & 1)
            return 0;
        *seen |= 1;
        return v && delta_seconds(v, ve, &a->hsts_max_age);
    }
    if (hscan__ieq(name, nlen, "includesubdomains")) {
        /* 6.1.2: no value; a repeat is refused (Chromium, Firefox). */
        if ((*seen & 2) || v)
            return 0;
        *seen |= 2;
        a->hsts_include_subdomains = 1;
        return 1;
    }
    /* "preload" is no RFC 6797 directive (hstspreload.org asks for it):
     * browsers skip it like any unknown one, so it is only noted. */
    if (hscan__ieq(name, nlen, "preload") && !v)
        a->hsts_preload = 1;
    return 1;
}

/* RFC 6797 6.1 with its implied *LWS: directives split by ';', each
 * `token [ "=" ( token | quoted-string ) ]`.  Returns 1 when the whole
 * value conforms and has a max-age. */
static int hsts_parse(const unsigned char *p, const unsigned char *e,
                      hscan_audit_t *a)
{
    int seen = 0;

    for (;;) {
        const unsigned char *name, *v = NULL, *ve = NULL;
        size_t nlen;

        while (p < e && hscan__is_ows(*p))
            p++;
        if (p == e)
            break;
        if (*p == ';') {        /* an empty directive is allowed */
            p++;
            continue;
        }
        for (name = p; p < e && hscan__is_tchar(*p); p++)
            ;
        if ((nlen = (size_t)(p - name)) == 0)
            return 0;
        while (p < e && hscan__is_ows(*p))
            p++;
        if (p < e && *p == '=') {
            for (p++; p < e && hscan__is_ows(*p); p++)
                ;
            v = p;
            if (p < e && *p == '"') {
                if (!(p = quoted_end(p, e)))
                    return 0;
            } else {
                while (p < e && hscan__is_tchar(*p))
                    p++;
                if (p == v)
                    return 0;
            }
            ve = p;
            while (p < e && hscan__is_ows(*p))
                p++;
        }
        if (p < e && *p != ';')
            return 0;
        if (!hsts_directive(name, nlen, v, ve, &seen, a))
            return 0;
    }
    return seen & 1;
}

static void audit_hsts(const hscan_header_t *h, size_t n, int https,
                       hscan_audit_t *a)
{
    const unsigned char *p, *e;
    size_t i;

    /* RFC 6797 8.1: only the first STS field counts. */
    for (i = 0; i < n; i++)
        if (hscan__audit_field_is(&h[i], "strict-transport-security"))
            break;
    if (i == n)
        return;
    hscan__audit_value(&h[i], &p, &e);
    a->hsts = hsts_parse(p, e, a) ? HSCAN_AUDIT_OK : HSCAN_AUDIT_INVALID;
    /* 8.1: ignored over plain HTTP.  6.1.1 and 11.4: max-age=0 removes
     * the host's policy rather than setting one. */
    if (!https || a->hsts_max_age == 0)
        a->hsts = HSCAN_AUDIT_INVALID;
}

/* ---- Content-Security-Policy (CSP Level 3) ---- */

static int csp_ws(int c)        /* "ASCII whitespace" */
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* One directive [s, e): CSP3 2.2.1 "parse a serialized CSP" step 3.
 * Returns 0 (skipped), 1 (a directive) or 2 (frame-ancestors). */
static int csp_directive(const unsigned char *s, const unsigned char *e)
{
    const unsigned char *n;

    while (s < e && csp_ws(*s))
        s++;
    for (n = s; n < e && !csp_ws(*n); n++)
        if (!hscan__is_alpha(*n) && !hscan__is_digit(*n) && *n != '-')
            return 0;           /* not directive-name: skipped */
    if (n == s)
        return 0;
    return hscan__ieq(s, (size_t)(n - s), "frame-ancestors") ? 2 : 1;
}

/* Policies are split at commas (CSP3 3.1; Chromium splits the joined
 * value the same way), directives at ';' within a policy, so every
 * directive is the text between two of either. */
static void audit_csp(const hscan_header_t *h, size_t n, hscan_audit_t *a)
{
    size_t i;
    int directives = 0;

    for (i = 0; i < n; i++) {
        const unsigned char *s, *e, *d;
        int k;

        if (!hscan__audit_field_is(&h[i], "content-security-policy"))
            continue;
        if (!a->csp)
            a->csp = HSCAN_AUDIT_INVALID;
        for (hscan__audit_value(&h[i], &s, &e);; s = d + 1) {
            for (d = s; d < e && *d != ';' && *d != ','; d++)
                ;
            k = csp_directive(s, d);
            directives += k > 0;
            if (k == 2)
                a->csp_frame_ancestors = 1;
            if (d == e)
                break;
        }
    }
    /* A field without one directive sets no policy. */
    if (directives)
        a->csp = HSCAN_AUDIT_OK;
}

/* ---- Set-Cookie (RFC 6265bis: "The Set-Cookie Header Field") ---- */

/* The weak_cookies list being written. */
struct weak {
    char *buf;
    size_t len;
    int full;                   /* "..." written: nothing more fits */
};

/* A byte of a cookie name as listed: printable ASCII except ',' (the
 * separator), anything else '?'. */
static char name_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != ',' ? (char)c : '?';
}

static void weak_add(struct weak *w, const unsigned char *name, size_t n)
{
    char t[NAME_CAP + 3];
    size_t k = 0, i, sep = w->len ? 1 : 0;

    if (w->full)
        return;
    if (n == 0)
        t[k++] = '=';           /* no name: "=" never is one */
    for (i = 0; i < n && i < NAME_CAP; i++)
        t[k++] = name_byte(name[i]);
    if (n > NAME_CAP) {
        memcpy(t + k, "...", 3);
        k += 3;
    }
    /* Keep room for a last ",..." within WEAK_CAP. */
    if (w->len + sep + k + 4 > WEAK_CAP) {
        memcpy(w->buf + w->len, sep ? ",..." : "...", 3 + sep);
        w->len += 3 + sep;
        w->full = 1;
        return;
    }
    if (sep)
        w->buf[w->len++] = ',';
    memcpy(w->buf + w->len, t, k);
    w->len += k;
}

/* [*s, *e) split at the first '=' into name and value, both trimmed of
 * SP/HTAB; `*v` is NULL when there is no '='. */
static void split_eq(const unsigned char *s, const unsigned char *e,
                     const unsigned char **ne, const unsigned char **v,
                     const unsigned char **ve)
{
    const unsigned char *eq = memchr(s, '=', (size_t)(e - s));

    *ne = eq ? eq : e;
    *v = eq ? eq + 1 : NULL;
    *ve = e;
}

enum { SS_UNSET, SS_DEFAULT, SS_NONE, SS_LAX, SS_STRICT };

/* One attribute (cookie-av); updates the flags. */
static void cookie_av(const unsigned char *s, const unsigned char *e,
                      int *secure, int *httponly, int *samesite)
{
    const unsigned char *ne, *v, *ve;

    split_eq(s, e, &ne, &v, &ve);
    hscan__trim(&s, &ne, 0);
    if (v) {
        hscan__trim(&v, &ve, 0);
        if ((size_t)(ve - v) > COOKIE_AV_MAX)
            return;
    } else {
        v = ve = e;
    }
    if (hscan__ieq(s, (size_t)(ne - s), "secure"))
        *secure = 1;
    else if (hscan__ieq(s, (size_t)(ne - s), "httponly"))
        *httponly = 1;
    else if (hscan__ieq(s, (size_t)(ne - s), "samesite"))  /* the last one wins */
        *samesite = hscan__ieq(v, (size_t)(ve - v), "strict") ? SS_STRICT
                  : hscan__ieq(v, (size_t)(ve - v), "lax") ? SS_LAX
                  : hscan__ieq(v, (size_t)(ve - v), "none") ? SS_NONE
                                                     : SS_DEFAULT;
}

static void audit_cookie(const hscan_header_t *h, hscan_audit_t *a,
                         struct weak *w)
{
    const unsigned char *s, *e, *p, *name, *ne, *v, *ve;
    int secure = 0, httponly = 0, samesite = SS_UNSET, ss_ok;

    /* name-value-pair: up to the first ';'; its name up to the first
     * '=' (none without one). */
    hscan__audit_value(h, &s, &e);
    p = memchr(s, ';', (size_t)(e - s));
    if (!p)
        p = e;
    split_eq(s, p, &ne, &v, &ve);
    name = s;
    if (!v)
        ne = name;
    hscan__trim(&name, &ne, 0);
    while (p < e) {
        const unsigned char *q = p + 1;
        p = memchr(q, ';', (size_t)(e - q));
        if (!p)
            p = e;
        cookie_av(q, p, &secure, &httponly, &samesite);
    }
    /* 6265bis "Storage Model": SameSite=None without Secure is refused. */
    ss_ok = samesite == SS_STRICT || samesite == SS_LAX ||
            (samesite == SS_NONE && secure);
    a->cookies++;
    a->cookies_secure += (unsigned)secure;
    a->cookies_httponly += (unsigned)httponly;
    a->cookies_samesite += (unsigned)ss_ok;
    if (!secure || !httponly || !ss_ok)
        weak_add(w, name, (size_t)(ne - name));
}

/* ---- the audit ---- */

static void summarise(hscan_audit_t *a, char *missing)
{
    const int state[7] = {
        a->hsts, a->csp, a->x_content_type_options, a->framing,
        a->referrer_policy, a->permissions_policy,
        a->weak_cookies[0] ? HSCAN_AUDIT_INVALID : HSCAN_AUDIT_OK
    };
    const char *names = ALL_CHECKS;
    size_t len = 0, i;

    a->checks = 7;
    a->passed = 0;
    for (i = 0; i < 7; i++) {
        size_t n = strcspn(names, ",");
        if (state[i] == HSCAN_AUDIT_OK) {
            a->passed++;
        } else {
            if (len)
                missing[len++] = ',';
            memcpy(missing + len, names, n);
            len += n;
        }
        names += n + (names[n] == ',');
    }
    missing[len] = '\0';
}

int hscan__audit(const hscan_header_t *h, size_t n, int https,
                 hscan_audit_t *out, char *strbuf, size_t size)
{
    hscan_audit_t a;
    struct weak w = { strbuf, 0, 0 };
    size_t i;

    if (!out || !strbuf || size < HSCAN__AUDIT_STRBUF || (n && !h))
        return HSCAN_EINVAL;
    memset(&a, 0, sizeof(a));
    a.hsts_max_age = -1;
    audit_hsts(h, n, https, &a);
    audit_csp(h, n, &a);
    a.x_content_type_options = hscan__audit_xcto(h, n);
    a.x_frame_options = hscan__audit_xfo(h, n);
    /* HTML: frame-ancestors, when present, overrides X-Frame-Options. */
    if (a.x_frame_options == HSCAN_AUDIT_OK || a.csp_frame_ancestors)
        a.framing = HSCAN_AUDIT_OK;
    else
        a.framing = a.x_frame_options;
    a.referrer_policy = hscan__audit_referrer(h, n);
    a.permissions_policy = hscan__audit_permissions(h, n);
    for (i = 0; i < n; i++)
        if (hscan__audit_field_is(&h[i], "set-cookie"))
            audit_cookie(&h[i], &a, &w);
    strbuf[w.len] = '\0';
    a.weak_cookies = strbuf;
    a.missing = strbuf + w.len + 1;
    summarise(&a, strbuf + w.len + 1);
    *out = a;
    return 0;
}
