/* The security-header audit (lib/audit.c): each rule of docs/audit.md on
 * its valid, invalid and edge cases; the summary (passed, missing); the
 * JSON object, exact for one response and valid JSON for every case. */
#include <string.h>

#include "audit.h"
#include "util.h"
#include "test-runner.h"

/* The strict RFC 8259 reader of the fuzz harnesses, compiled in here so
 * that this test builds like the other unit tests (one source + the
 * runner). */
#include "fuzz/json-check.c"

#define MAX_H 64

struct hs {
    hscan_header_t h[MAX_H];
    size_t n;
};

static void addn(struct hs *s, const char *name, const char *v, size_t n)
{
    CHECK(s->n < MAX_H);
    s->h[s->n].name = name;
    s->h[s->n].name_len = strlen(name);
    s->h[s->n].value = v;
    s->h[s->n].value_len = n;
    s->n++;
}

static void add(struct hs *s, const char *name, const char *v)
{
    addn(s, name, v, strlen(v));
}

static char strbuf[HSCAN__AUDIT_STRBUF];
static char json[4096];

/* Audit `s`, then check the JSON of the result: valid, and the snprintf
 * contract of hscan__sb at every shorter size. */
static const hscan_audit_t *run(const struct hs *s, int https)
{
    static hscan_audit_t a;
    struct hscan__sb j = { json, sizeof(json) - 1, 0 };
    struct jdoc d;
    size_t full, cut;

    memset(&a, 0xa5, sizeof(a));
    CHECK_INT(hscan__audit(s->h, s->n, https, &a, strbuf, sizeof(strbuf)),
              0);
    hscan__audit_json(&j, &a);
    CHECK(j.len < sizeof(json));
    json[j.len] = '\0';
    full = j.len;
    if (!json_check(json, full, &d)) {
        fprintf(stderr, "  invalid JSON: %s\n", json);
        CHECK(!"valid JSON");
    } else {
        jdoc_free(&d);
    }
    for (cut = 0; cut < full; cut += 7) {
        char small[4096];
        struct hscan__sb k = { small, cut, 0 };
        memset(small, 'Z', sizeof(small));
        hscan__audit_json(&k, &a);
        CHECK_INT(k.len, full);
        /* snprintf style: a prefix, the last byte kept for the NUL */
        CHECK(small[cut ? cut - 1 : 0] == 'Z' &&
              memcmp(small, json, cut ? cut - 1 : 0) == 0);
    }
    return &a;
}

/* The audit of one header over HTTPS. */
static const hscan_audit_t *one(const char *name, const char *value)
{
    struct hs s = { .n = 0 };

    add(&s, name, value);
    return run(&s, 1);
}

static int hsts(const char *v)
{
    return one("Strict-Transport-Security", v)->hsts;
}

enum { M = HSCAN_AUDIT_MISSING, OK = HSCAN_AUDIT_OK,
       BAD = HSCAN_AUDIT_INVALID };

TEST(nothing)
{
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;

    add(&s, "Server", "x");
    a = run(&s, 1);
    CHECK_INT(a->hsts, M);
    CHECK_INT(a->hsts_max_age, -1);
    CHECK_INT(a->csp, M);
    CHECK_INT(a->x_content_type_options, M);
    CHECK_INT(a->x_frame_options, M);
    CHECK_INT(a->framing, M);
    CHECK_INT(a->referrer_policy, M);
    CHECK_INT(a->permissions_policy, M);
    CHECK_INT(a->cookies, 0);
    CHECK_STR(a->weak_cookies, "");
    CHECK_INT(a->passed, 1);           /* no cookie: cookies pass */
    CHECK_INT(a->checks, 7);
    CHECK_STR(a->missing, "hsts,csp,x_content_type_options,framing,"
                          "referrer_policy,permissions_policy");
    s.n = 0;
    a = run(&s, 0);
    CHECK_INT(a->passed, 1);
}

TEST(hsts_valid)
{
    const hscan_audit_t *a;

    a = one("strict-transport-security",
            "max-age=31536000; includeSubDomains; preload");
    CHECK_INT(a->hsts, OK);
    CHECK_INT(a->hsts_max_age, 31536000);
    CHECK_INT(a->hsts_include_subdomains, 1);
    CHECK_INT(a->hsts_preload, 1);
    a = one("Strict-Transport-Security", "max-age=\"31536000\"");
    CHECK_INT(a->hsts, OK);
    CHECK_INT(a->hsts_max_age, 31536000);
    CHECK_INT(a->hsts_include_subdomains, 0);
    CHECK_INT(a->hsts_preload, 0);
    a = one("STRICT-TRANSPORT-SECURITY", "MAX-AGE=10;INCLUDESUBDOMAINS");
    CHECK_INT(a->hsts, OK);
    CHECK_INT(a->hsts_max_age, 10);
    CHECK_INT(a->hsts_include_subdomains, 1);
    CHECK_INT(hsts(" max-age = 10 ; includeSubDomains ;; "), OK);
    CHECK_INT(hsts(";max-age=007"), OK);
    CHECK_INT(hsts("max-age=1; foo=bar; baz; q=\"a;b\\\"c\""), OK);
    CHECK_INT(hsts("max-age=\"1\\2\""), OK);    /* quoted-pair */
    /* browsers skip preload like any unknown directive, repeats too */
    CHECK_INT(hsts("max-age=1; preload; preload"), OK);
    a = one("Strict-Transport-Security", "max-age=99999999999999999999999");
    CHECK_INT(a->hsts, OK);
    CHECK_INT(a->hsts_max_age, 0x7fffffffffffffffLL);
}

TEST(hsts_invalid)
{
    const hscan_audit_t *a;

    a = one("Strict-Transport-Security", "max-age=0; includeSubDomains");
    CHECK_INT(a->hsts, BAD);           /* removes the policy */
    CHECK_INT(a->hsts_max_age, 0);
    CHECK_INT(a->hsts_include_subdomains, 1);
    a = one("Strict-Transport-Security", "");
    CHECK_INT(a->hsts, BAD);
    CHECK_INT(a->hsts_max_age, -1);
    CHECK_INT(hsts("includeSubDomains"), BAD);      /* no max-age */
    CHECK_INT(hsts("max-age"), BAD);
    CHECK_INT(hsts("max-age="), BAD);
    CHECK_INT(hsts("max-age=\"\""), BAD);
    CHECK_INT(hsts("max-age=-1"), BAD);
    CHECK_INT(hsts("max-age=+1"), BAD);
    CHECK_INT(hsts("max-age=1x"), BAD);
    CHECK_INT(hsts("max-age=1.5"), BAD);
    CHECK_INT(hsts("max-age=\"12"), BAD);           /* unterminated */
    CHECK_INT(hsts("max-age=1 2"), BAD);
    CHECK_INT(hsts("max-age=1, max-age=2"), BAD);
    CHECK_INT(hsts("max-age=1; max-age=1"), BAD);   /* RFC 6797 6.1 */
    CHECK_INT(hsts("max-age=1; Max-Age=2"), BAD);
    CHECK_INT(hsts("max-age=1; includeSubDomains; includesubdomains"), BAD);
    CHECK_INT(hsts("max-age=1; includeSubDomains=1"), BAD);
    CHECK_INT(hsts("max-age=1; includeSubDomains=\"\""), BAD);
    CHECK_INT(hsts("max-age=1; =x"), BAD);
    CHECK_INT(hsts("max-age=1; a@b"), BAD);
    CHECK_INT(hsts("max-age=1; \x80"), BAD);
    CHECK_INT(one("Strict-Transport-Security", "max-age=1\0")->hsts, OK);
    {
        struct hs s = { .n = 0 };
        addn(&s, "Strict-Transport-Security", "max-age=1\0", 10);
        CHECK_INT(run(&s, 1)->hsts, BAD);           /* a NUL byte */
    }
}

TEST(hsts_http_and_first_field)
{
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;

    add(&s, "Strict-Transport-Security", "max-age=300; preload");
    a = run(&s, 0);                    /* ignored over plain http */
    CHECK_INT(a->hsts, BAD);
    CHECK_INT(a->hsts_max_age, 300);
    CHECK_INT(a->hsts_preload, 1);
    CHECK_INT(run(&s, 1)->hsts, OK);
    /* RFC 6797 8.1: the first field only */
    add(&s, "Strict-Transport-Security", "garbage");
    a = run(&s, 1);
    CHECK_INT(a->hsts, OK);
    CHECK_INT(a->hsts_max_age, 300);
    s.n = 0;
    add(&s, "Strict-Transport-Security", "max-age=0");
    add(&s, "Strict-Transport-Security", "max-age=300");
    a = run(&s, 1);
    CHECK_INT(a->hsts, BAD);
    CHECK_INT(a->hsts_max_age, 0);
}

TEST(csp)
{
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;

    a = one("Content-Security-Policy", "default-src 'self'");
    CHECK_INT(a->csp, OK);
    CHECK_INT(a->csp_frame_ancestors, 0);
    CHECK_INT(a->framing, M);
    a = one("content-security-policy",
            "default-src 'self'; frame-ancestors 'none'");
    CHECK_INT(a->csp, OK);
    CHECK_INT(a->csp_frame_ancestors, 1);
    CHECK_INT(a->framing, OK);
    CHECK_INT(one("Content-Security-Policy",
                  "\tFRAME-ANCESTORS 'self'")->csp_frame_ancestors, 1);
    CHECK_INT(one("Content-Security-Policy",
                  "frame-ancestors")->csp_frame_ancestors, 1);
    CHECK_INT(one("Content-Security-Policy", "default-src 'self', "
                  "frame-ancestors 'none'")->csp_frame_ancestors, 1);
    a = one("Content-Security-Policy", "frame-ancestors-x 'none'");
    CHECK_INT(a->csp, OK);
    CHECK_INT(a->csp_frame_ancestors, 0);
    CHECK_INT(one("Content-Security-Policy", "frame_ancestors 'none'")->csp,
              BAD);                    /* not a directive name */
    CHECK_INT(one("Content-Security-Policy", "")->csp, BAD);
    CHECK_INT(one("Content-Security-Policy", " ; ;, ")->csp, BAD);
    CHECK_INT(one("Content-Security-Policy", "\xff\xfe 'self'")->csp, BAD);
    /* Report-Only enforces nothing */
    a = one("Content-Security-Policy-Report-Only", "frame-ancestors 'none'");
    CHECK_INT(a->csp, M);
    CHECK_INT(a->csp_frame_ancestors, 0);
    CHECK_INT(a->framing, M);
    /* several fields: any policy's frame-ancestors counts */
    add(&s, "Content-Security-Policy", "");
    add(&s, "Content-Security-Policy", "default-src 'self'");
    add(&s, "Content-Security-Policy", "frame-ancestors https://a.example");
    a = run(&s, 1);
    CHECK_INT(a->csp, OK);
    CHECK_INT(a->csp_frame_ancestors, 1);
}

static int xcto(const char *v)
{
    return one("X-Content-Type-Options", v)->x_content_type_options;
}

TEST(x_content_type_options)
{
    struct hs s = { .n = 0 };

    CHECK_INT(xcto("nosniff"), OK);
    CHECK_INT(xcto(" NoSniff\t"), OK);
    CHECK_INT(xcto("nosniff, other"), OK);     /* Fetch: the first value */
    CHECK_INT(xcto("other, nosniff"), BAD);
    CHECK_INT(xcto(""), BAD);
    CHECK_INT(xcto("nosniff2"), BAD);
    CHECK_INT(xcto("no sniff"), BAD);
    CHECK_INT(xcto("\"nosniff\""), BAD);
    CHECK_INT(xcto("nosniff;"), BAD);
    add(&s, "X-Content-Type-Options", "nosniff");
    add(&s, "X-Content-Type-Options", "junk");
    CHECK_INT(run(&s, 1)->x_content_type_options, OK);
    s.n = 0;
    add(&s, "X-Content-Type-Options", "");
    add(&s, "X-Content-Type-Options", "nosniff");
    CHECK_INT(run(&s, 1)->x_content_type_options, BAD);
}

static int xfo(const char *v)
{
    return one("X-Frame-Options", v)->x_frame_options;
}

static int xfo2(const char *v1, const char *v2)
{
    struct hs s = { .n = 0 };

    add(&s, "X-Frame-Options", v1);
    add(&s, "X-Frame-Options", v2);
    return run(&s, 1)->x_frame_options;
}

TEST(x_frame_options)
{
    CHECK_INT(xfo("DENY"), OK);
    CHECK_INT(xfo("deny"), OK);
    CHECK_INT(xfo(" SameOrigin "), OK);
    CHECK_INT(xfo("ALLOW-FROM https://a.example"), BAD);
    CHECK_INT(xfo("ALLOWALL"), BAD);
    CHECK_INT(xfo("foo"), BAD);
    CHECK_INT(xfo(""), BAD);
    CHECK_INT(xfo("\"DENY\""), BAD);
    CHECK_INT(xfo("DENY, DENY"), OK);          /* one value in the set */
    CHECK_INT(xfo2("DENY", "deny"), OK);
    /* Several values with deny, sameorigin or allowall among them: HTML
     * blocks every framing (browsers "fall back to deny"). */
    CHECK_INT(xfo2("DENY", "SAMEORIGIN"), OK);
    CHECK_INT(xfo2("SAMEORIGIN", "ALLOW-FROM https://a.example"), OK);
    CHECK_INT(xfo2("ALLOWALL", "junk"), OK);
    CHECK_INT(xfo("DENY,"), OK);
    CHECK_INT(xfo2("ALLOW-FROM x", "foo"), BAD);
    CHECK_INT(xfo2("ALLOWALL", "allowall"), BAD);
}

TEST(framing)
{
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;

    add(&s, "X-Frame-Options", "ALLOW-FROM https://a.example");
    a = run(&s, 1);
    CHECK_INT(a->x_frame_options, BAD);
    CHECK_INT(a->framing, BAD);
    add(&s, "Content-Security-Policy", "frame-ancestors 'self'");
    a = run(&s, 1);
    CHECK_INT(a->x_frame_options, BAD);
    CHECK_INT(a->framing, OK);         /* frame-ancestors overrides XFO */
    s.n = 0;
    add(&s, "Content-Security-Policy", "frame-ancestors 'self'");
    a = run(&s, 1);
    CHECK_INT(a->x_frame_options, M);
    CHECK_INT(a->framing, OK);
    s.n = 0;
    add(&s, "X-Frame-Options", "DENY");
    add(&s, "Content-Security-Policy", "default-src 'none'");
    a = run(&s, 1);
    CHECK_INT(a->framing, OK);
}

static int rp(const char *v)
{
    return one("Referrer-Policy", v)->referrer_policy;
}

TEST(referrer_policy)
{
    static const char *const good[] = {
        "no-referrer", "no-referrer-when-downgrade", "same-origin",
        "origin", "strict-origin", "origin-when-cross-origin",
        "strict-origin-when-cross-origin"
    };
    struct hs s = { .n = 0 };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_INT(rp(good[i]), OK);
    CHECK_INT(rp("unsafe-url"), BAD);  /* valid, but protects nothing */
    CHECK_INT(rp("No-Referrer"), OK);
    CHECK_INT(rp("foo, no-referrer"), OK);
    CHECK_INT(rp("no-referrer, foo"), OK);     /* the last one known */
    CHECK_INT(rp("no-referrer, unsafe-url"), BAD);
    CHECK_INT(rp("unsafe-url, no-referrer"), OK);
    CHECK_INT(rp(", , strict-origin,"), OK);
    CHECK_INT(rp("foo"), BAD);
    CHECK_INT(rp(""), BAD);
    CHECK_INT(rp("never"), BAD);       /* a <meta> keyword only */
    /* an unknown token beyond ALPHA and '-' voids the field (Chromium) */
    CHECK_INT(rp("no-referrer, foo bar"), BAD);
    CHECK_INT(rp("no-referrer, foo_bar"), BAD);
    CHECK_INT(rp("no-referrer;x"), BAD);
    CHECK_INT(rp("\"no-referrer\""), BAD);
    add(&s, "Referrer-Policy", "origin");
    add(&s, "Referrer-Policy", "foo");
    CHECK_INT(run(&s, 1)->referrer_policy, OK);
    add(&s, "Referrer-Policy", "unsafe-url");
    CHECK_INT(run(&s, 1)->referrer_policy, BAD);
}

static int pp(const char *v)
{
    return one("Permissions-Policy", v)->permissions_policy;
}

TEST(permissions_policy)
{
    struct hs s = { .n = 0 };

    CHECK_INT(pp("geolocation=(), camera=(self \"https://a.example\")"), OK);
    CHECK_INT(pp("geolocation=("), BAD);
    CHECK_INT(pp("geolocation=*"), OK);
    CHECK_INT(pp("fullscreen=self, usb=()"), OK);
    CHECK_INT(pp("a=1, b=?0, c=:aGk=:, d=-1.5, e=\"x\";p=1, f, g;q"), OK);
    CHECK_INT(pp("a=( 1  2 );x=y,b=(\"x\\\"y\" \"\\\\\")"), OK);
    CHECK_INT(pp("a=123456789012345"), OK);
    CHECK_INT(pp("a=123456789012.123"), OK);
    CHECK_INT(pp("a=1,\tb=2"), OK);
    CHECK_INT(pp("Geolocation=()"), BAD);      /* keys are lowercase */
    CHECK_INT(pp("geolocation=(),"), BAD);     /* trailing comma */
    CHECK_INT(pp(""), BAD);                    /* no policy */
    CHECK_INT(pp("geolocation=(self\"x\")"), BAD);
    CHECK_INT(pp("geolocation=(self) x"), BAD);
    CHECK_INT(pp("a=1."), BAD);
    CHECK_INT(pp("a=1.2345"), BAD);
    CHECK_INT(pp("a=1234567890123456"), BAD);
    CHECK_INT(pp("a=1234567890123.1"), BAD);
    CHECK_INT(pp("a=-"), BAD);
    CHECK_INT(pp("a=?2"), BAD);
    CHECK_INT(pp("a=:a-b:"), BAD);
    CHECK_INT(pp("a=:ab"), BAD);
    CHECK_INT(pp("a=\"x\\q\""), BAD);
    CHECK_INT(pp("a=\"\xc3\xa9\""), BAD);      /* strings are ASCII */
    CHECK_INT(pp("a=\"unterminated"), BAD);
    CHECK_INT(pp("a=b;"), BAD);
    CHECK_INT(pp("a=b;C=1"), BAD);
    CHECK_INT(pp("a=@"), BAD);
    CHECK_INT(pp("a=(1"), BAD);
    /* lines join with ", " (RFC 8941 4.2) */
    add(&s, "Permissions-Policy", "geolocation=()");
    add(&s, "permissions-policy", "camera=(self)");
    CHECK_INT(run(&s, 1)->permissions_policy, OK);
    add(&s, "Permissions-Policy", "");
    CHECK_INT(run(&s, 1)->permissions_policy, BAD);
    s.n = 0;
    add(&s, "Permissions-Policy", "a=(\"x");   /* one string over two */
    add(&s, "Permissions-Policy", "y\")");     /* lines: "x, y" */
    CHECK_INT(run(&s, 1)->permissions_policy, OK);
}

static const hscan_audit_t *cookie(const char *v)
{
    return one("Set-Cookie", v);
}

TEST(cookies_flags)
{
    const hscan_audit_t *a;

    a = cookie("sid=1; Secure; HttpOnly; SameSite=Lax");
    CHECK_INT(a->cookies, 1);
    CHECK_INT(a->cookies_secure, 1);
    CHECK_INT(a->cookies_httponly, 1);
    CHECK_INT(a->cookies_samesite, 1);
    CHECK_STR(a->weak_cookies, "");
    CHECK(strstr(a->missing, "cookies") == NULL);
    a = cookie("sid=1");
    CHECK_INT(a->cookies_secure + a->cookies_httponly + a->cookies_samesite,
              0);
    CHECK_STR(a->weak_cookies, "sid");
    CHECK(strstr(a->missing, "cookies") != NULL);
    CHECK_STR(cookie("a=1;secure;httponly;samesite=none")->weak_cookies, "");
    a = cookie("b=1; HttpOnly; SameSite=None");     /* None needs Secure */
    CHECK_INT(a->cookies_samesite, 0);
    CHECK_INT(a->cookies_httponly, 1);
    CHECK_STR(a->weak_cookies, "b");
    CHECK_STR(cookie("c=1; Secure; HttpOnly; SameSite=Lax; SameSite=bogus")
              ->weak_cookies, "c");              /* the last one counts */
    CHECK_STR(cookie("d=1; Secure; HttpOnly; SameSite=bogus; SameSite="
                     "STRICT")->weak_cookies, "");
    CHECK_STR(cookie("  e  = 1 ;Secure ;\tHttpOnly; SameSite = Lax ")
              ->weak_cookies, "");
    CHECK_STR(cookie("f=1; Secure=no; HttpOnly=0; SameSite=Lax")
              ->weak_cookies, "");              /* values are ignored */
    CHECK_STR(cookie("g=1; Path=/; Secure; HttpOnly; SameSite")
              ->weak_cookies, "g");
    CHECK_STR(cookie("h=1; SecureX; HttpOnly; SameSite=Lax")->weak_cookies,
              "h");
    CHECK_STR(cookie("i=\"a;Secure\"; HttpOnly; SameSite=Lax")
              ->weak_cookies, "i");             /* ';' ends the pair */
    {
        /* a SameSite value over 1024 bytes is ignored (RFC 6265bis) */
        static char v[1200];
        snprintf(v, sizeof(v), "j=1; Secure; HttpOnly; SameSite=Lax; "
                 "SameSite=%01100d", 0);
        CHECK_STR(cookie(v)->weak_cookies, "");
    }
}

TEST(cookies_names)
{
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;
    char longname[120];

    CHECK_STR(cookie("novalue; Secure")->weak_cookies, "=");
    CHECK_STR(cookie("=v")->weak_cookies, "=");
    CHECK_STR(cookie("")->weak_cookies, "=");
    addn(&s, "Set-Cookie", "a\x01" "b\xff" "c,d\0e=1", 11);
    addn(&s, "Set-Cookie", "q\"\\=1", 5);
    a = run(&s, 1);
    CHECK_INT(a->cookies, 2);
    CHECK_STR(a->weak_cookies, "a?b?c?d?e,q\"\\");
    CHECK(strstr(json, "\"weak\":[\"a?b?c?d?e\",\"q\\\"\\\\\"]") != NULL);
    memset(longname, 'x', 100);
    memcpy(longname + 100, "=1", 3);
    a = cookie(longname);
    CHECK_INT(strlen(a->weak_cookies), 67);
    CHECK(memcmp(a->weak_cookies + 64, "...", 4) == 0);
}

TEST(cookies_truncated)
{
    static char names[40][48];
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;
    size_t i, len;

    for (i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "cookie%02zu%030d=v", i, 0);
        add(&s, "Set-Cookie", names[i]);
    }
    add(&s, "Set-Cookie", "ok=1; Secure; HttpOnly; SameSite=Strict");
    a = run(&s, 1);
    CHECK_INT(a->cookies, 41);
    CHECK_INT(a->cookies_samesite, 1);
    len = strlen(a->weak_cookies);
    CHECK(len <= 512);
    CHECK(len > 512 - 40);
    CHECK(strcmp(a->weak_cookies + len - 4, ",...") == 0);
    CHECK(strncmp(a->weak_cookies, "cookie00", 8) == 0);
    CHECK_STR(a->missing, "hsts,csp,x_content_type_options,framing,"
                          "referrer_policy,permissions_policy,cookies");
}

TEST(summary_and_json_exact)
{
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;

    add(&s, "Strict-Transport-Security", "max-age=31536000; "
        "includeSubDomains");
    add(&s, "X-Content-Type-Options", "nosniff");
    add(&s, "X-Frame-Options", "ALLOW-FROM https://a.example");
    add(&s, "Referrer-Policy", "no-referrer");
    add(&s, "Set-Cookie", "sid=1; HttpOnly");
    add(&s, "Set-Cookie", "pref=2; Secure; HttpOnly; SameSite=Lax");
    a = run(&s, 1);
    CHECK_INT(a->passed, 3);
    CHECK_INT(a->checks, 7);
    CHECK_STR(a->missing, "csp,framing,permissions_policy,cookies");
    CHECK_STR(json,
        "{\"passed\":3,\"checks\":7,\"missing\":[\"csp\",\"framing\","
        "\"permissions_policy\",\"cookies\"],\"hsts\":\"ok\","
        "\"hsts_max_age\":31536000,\"hsts_include_subdomains\":true,"
        "\"hsts_preload\":false,\"csp\":\"missing\","
        "\"csp_frame_ancestors\":false,\"x_content_type_options\":\"ok\","
        "\"x_frame_options\":\"invalid\",\"framing\":\"invalid\","
        "\"referrer_policy\":\"ok\",\"permissions_policy\":\"missing\","
        "\"cookies\":{\"count\":2,\"secure\":1,\"httponly\":2,"
        "\"samesite\":1,\"weak\":[\"sid\"]}}");

    add(&s, "Content-Security-Policy", "default-src 'self'");
    add(&s, "Permissions-Policy", "geolocation=()");
    add(&s, "x-frame-options", "DENY");    /* conflicting: deny */
    s.h[4].value = "sid=1; HttpOnly; Secure; SameSite=Strict";
    s.h[4].value_len = strlen(s.h[4].value);
    a = run(&s, 1);
    CHECK_INT(a->passed, 7);
    CHECK_STR(a->missing, "");
    CHECK(strstr(json, "\"missing\":[],") != NULL);
    CHECK(strstr(json, "\"weak\":[]}}") != NULL);
    CHECK(strstr(json, "\"hsts_max_age\":31536000,") != NULL);

    s.n = 0;
    a = run(&s, 1);
    CHECK(strstr(json, "\"hsts_max_age\":null,") != NULL);
}

TEST(json_null_and_einval)
{
    struct hscan__sb j = { json, sizeof(json), 0 };
    hscan_audit_t a;
    struct hs s = { .n = 0 };

    hscan__audit_json(&j, NULL);
    CHECK_INT(j.len, 4);
    CHECK(memcmp(json, "null", 4) == 0);
    memset(&a, 0x5a, sizeof(a));
    CHECK_INT(hscan__audit(s.h, 0, 1, &a, strbuf, HSCAN__AUDIT_STRBUF - 1),
              HSCAN_EINVAL);
    CHECK_INT(hscan__audit(NULL, 1, 1, &a, strbuf, sizeof(strbuf)),
              HSCAN_EINVAL);
    CHECK_INT(hscan__audit(s.h, 0, 1, &a, NULL, sizeof(strbuf)),
              HSCAN_EINVAL);
    CHECK_INT(a.passed, 0x5a5a5a5a);   /* untouched */
    CHECK_INT(hscan__audit(NULL, 0, 1, &a, strbuf, sizeof(strbuf)), 0);
    CHECK_INT(a.passed, 1);
    /* a header with no bytes at all */
    s.h[0].name = "Set-Cookie";
    s.h[0].name_len = 10;
    s.h[0].value = NULL;
    s.h[0].value_len = 0;
    s.n = 1;
    CHECK_STR(run(&s, 1)->weak_cookies, "=");
}

TEST(large_values)
{
    /* 256 KiB values of every audited header, each of the shape that
     * keeps its parser going longest; linear work ends quickly. */
    static const char *const names[] = {
        "Strict-Transport-Security", "Content-Security-Policy",
        "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
        "Permissions-Policy", "Set-Cookie"
    };
    static const char *const units[] = {
        ";a=b", "a b;", "a,", "\"\\,", "a-b,", "a=(1 2), ", "; a=b"
    };
    size_t big = 256 * 1024, i, k, u;
    char *v[7];
    struct hs s = { .n = 0 };
    const hscan_audit_t *a;

    for (i = 0; i < 7; i++) {
        v[i] = malloc(big);
        CHECK(v[i] != NULL);
        u = strlen(units[i]);
        for (k = 0; k + u <= big; k += u)
            memcpy(v[i] + k, units[i], u);
        memset(v[i] + k, ' ', big - k);
        addn(&s, names[i], v[i], big);
    }
    a = run(&s, 1);
    CHECK_INT(a->hsts, BAD);           /* no max-age */
    CHECK_INT(a->csp, OK);
    CHECK_INT(a->permissions_policy, BAD);     /* trailing comma */
    CHECK_INT(a->cookies, 1);
    for (i = 0; i < 7; i++)
        free(v[i]);
}
