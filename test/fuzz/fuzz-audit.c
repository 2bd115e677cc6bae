/* The security-header audit (lib/audit.c hscan__audit and its JSON).
 *
 * Input: byte 0 bit 0 says the response came over TLS.  Then up to
 * MAX_H headers, each: a selector byte (low 4 bits: a name from NAMES, or
 * for 9..15 a raw name of a length byte and that many bytes; bit 4: the
 * name in upper case), a 2-byte big-endian value length, the value bytes
 * (fewer when the input ends).  Every name and value is an exactly sized
 * heap copy, so a read past one is an ASan report.
 *
 * Checked: the call succeeds; every state is one of the three and the
 * derived ones agree (framing, HSTS only OK over TLS with max-age > 0,
 * counts within the cookie count, weak_cookies empty exactly when every
 * cookie has all three flags, at most 512 printable bytes without empty
 * names); passed and missing match the states; the JSON is strict RFC
 * 8259 with the documented keys in order and keeps the snprintf
 * contract at a short size. */
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "fuzz.h"
#include "json-check.h"

#define MAX_H 32

static const char *const NAMES[] = {
    "Strict-Transport-Security", "Content-Security-Policy",
    "Content-Security-Policy-Report-Only", "X-Content-Type-Options",
    "X-Frame-Options", "Referrer-Policy", "Permissions-Policy",
    "Set-Cookie", "Server"
};
#define N_NAMES (sizeof(NAMES) / sizeof(NAMES[0]))

struct input {
    hscan_header_t h[MAX_H];
    char *own[2 * MAX_H];
    size_t n, n_own;
    int https;
};

static char *keep(struct input *in, const void *p, size_t n)
{
    char *d = fz_dup(p, n);

    in->own[in->n_own++] = d;
    return d;
}

static void gen(struct fz *f, struct input *in)
{
    memset(in, 0, sizeof(*in));
    in->https = fz_u8(f) & 1;
    while (f->n > 0 && in->n < MAX_H) {
        hscan_header_t *h = &in->h[in->n++];
        unsigned sel = fz_u8(f), vlen;
        const uint8_t *p;
        char *name;
        size_t i;

        if ((sel & 15) < N_NAMES) {
            h->name_len = strlen(NAMES[sel & 15]);
            name = keep(in, NAMES[sel & 15], h->name_len);
        } else {
            h->name_len = fz_take(f, fz_u8(f), &p);
            name = keep(in, p, h->name_len);
        }
        if (sel & 16)
            for (i = 0; i < h->name_len; i++)
                if (name[i] >= 'a' && name[i] <= 'z')
                    name[i] = (char)(name[i] - 'a' + 'A');
        h->name = name;
        vlen = fz_u8(f) << 8;
        vlen |= fz_u8(f);
        h->value_len = fz_take(f, vlen, &p);
        h->value = keep(in, p, h->value_len);
    }
}

static int is_set_cookie(const hscan_header_t *h)
{
    return h->name_len == 10 && strncasecmp(h->name, "set-cookie", 10) == 0;
}

static void check_fields(const struct input *in, const hscan_audit_t *a)
{
    const int st[] = { a->hsts, a->csp, a->x_content_type_options,
                       a->framing, a->referrer_policy,
                       a->permissions_policy, a->x_frame_options };
    static const char *const names[] = {
        "hsts", "csp", "x_content_type_options", "framing",
        "referrer_policy", "permissions_policy", "cookies"
    };
    char want[128] = "";
    unsigned cookies = 0;
    size_t i, wl;
    int ok[7], passed = 0;

    for (i = 0; i < in->n; i++)
        cookies += (unsigned)is_set_cookie(&in->h[i]);
    for (i = 0; i < 7; i++)
        FUZZ_CHECK(st[i] >= HSCAN_AUDIT_MISSING &&
                   st[i] <= HSCAN_AUDIT_INVALID);
    FUZZ_CHECK((a->framing == HSCAN_AUDIT_OK) ==
               (a->x_frame_options == HSCAN_AUDIT_OK ||
                a->csp_frame_ancestors));
    FUZZ_CHECK(!a->csp_frame_ancestors || a->csp == HSCAN_AUDIT_OK);
    FUZZ_CHECK(a->hsts != HSCAN_AUDIT_OK ||
               (in->https && a->hsts_max_age > 0));
    FUZZ_CHECK(a->hsts != HSCAN_AUDIT_MISSING ||
               (a->hsts_max_age == -1 && !a->hsts_include_subdomains &&
                !a->hsts_preload));
    FUZZ_CHECK(a->cookies == cookies);
    FUZZ_CHECK(a->cookies_secure <= cookies &&
               a->cookies_httponly <= cookies &&
               a->cookies_samesite <= cookies);
    wl = strlen(a->weak_cookies);
    FUZZ_CHECK(wl <= 512);
    FUZZ_CHECK((wl == 0) == (a->cookies_secure == cookies &&
                             a->cookies_httponly == cookies &&
                             a->cookies_samesite == cookies));
    for (i = 0; i < wl; i++)
        FUZZ_CHECK(a->weak_cookies[i] >= 0x20 && a->weak_cookies[i] < 0x7f);
    FUZZ_CHECK(wl == 0 || (a->weak_cookies[0] != ',' &&
                           a->weak_cookies[wl - 1] != ',' &&
                           !strstr(a->weak_cookies, ",,")));
    for (i = 0; i < 6; i++)
        ok[i] = st[i] == HSCAN_AUDIT_OK;
    ok[6] = wl == 0;
    for (i = 0; i < 7; i++) {
        passed += ok[i];
        if (!ok[i]) {
            if (want[0])
                strcat(want, ",");
            strcat(want, names[i]);
        }
    }
    FUZZ_CHECK(a->checks == 7 && a->passed == passed);
    FUZZ_CHECK(strcmp(a->missing, want) == 0);
}

static void check_json(const hscan_audit_t *a, uint8_t sel)
{
    static const char *const keys[] = {
        "passed", "checks", "missing", "hsts", "hsts_max_age",
        "hsts_include_subdomains", "hsts_preload", "csp",
        "csp_frame_ancestors", "x_content_type_options", "x_frame_options",
        "framing", "referrer_policy", "permissions_policy", "cookies"
    };
    struct hscan__sb j = { NULL, 0, 0 };
    struct jdoc d;
    size_t n, i, cut;
    char *full, *part;

    hscan__audit_json(&j, a);
    n = j.len;
    full = malloc(n + 1);
    FUZZ_CHECK(full != NULL);
    j = (struct hscan__sb){ full, n + 1, 0 };   /* room for the NUL */
    hscan__audit_json(&j, a);
    FUZZ_CHECK(j.len == n);
    if (!json_check(full, n, &d)) {
        fprintf(stderr, "invalid JSON: %.*s\n", (int)n, full);
        FUZZ_CHECK(!"the audit is valid JSON");
    }
    FUZZ_CHECK(d.n_top_keys == sizeof(keys) / sizeof(keys[0]));
    for (i = 0; i < d.n_top_keys; i++)
        FUZZ_CHECK(d.top_keys[i].len == strlen(keys[i]) &&
                   memcmp(d.dec + d.top_keys[i].off, keys[i],
                          d.top_keys[i].len) == 0);
    jdoc_free(&d);

    /* A short buffer: same length back, a prefix that leaves room for
     * the NUL (snprintf style), nothing past it. */
    cut = n ? (sel * 2654435761u) % n : 0;
    part = malloc(cut ? cut : 1);
    FUZZ_CHECK(part != NULL);
    j = (struct hscan__sb){ part, cut, 0 };
    hscan__audit_json(&j, a);
    FUZZ_CHECK(j.len == n && memcmp(part, full, cut ? cut - 1 : 0) == 0);
    free(part);
    free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    static struct input in;
    static char strbuf[HSCAN__AUDIT_STRBUF];
    hscan_audit_t a;
    size_t i;

    gen(&f, &in);
    FUZZ_CHECK(hscan__audit(in.h, in.n, in.https, &a, strbuf,
                            sizeof(strbuf)) == 0);
    check_fields(&in, &a);
    check_json(&a, size ? data[size - 1] : 0);
    for (i = 0; i < in.n_own; i++)
        free(in.own[i]);
    return 0;
}
