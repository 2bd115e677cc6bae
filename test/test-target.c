/* Input line parsing: accepted forms, and every refusal with its reason. */
#include <string.h>

#include "hscan.h"
#include "target.h"
#include "util.h"
#include "test-runner.h"

static int parse(const char *line, struct hscan__target *t, const char **why)
{
    size_t len = strlen(line);
    *why = NULL;
    if (hscan__target_skip(&line, &len))
        return 1;
    return hscan__target_parse(line, len, t, why);
}

static void ok(const char *line, const char *host, int port, const char *path,
               int family)
{
    struct hscan__target t;
    const char *why;
    int rc = parse(line, &t, &why);

    if (rc != 0)
        fprintf(stderr, "  '%s': %s\n", line, why ? why : "skipped");
    CHECK_INT(rc, 0);
    CHECK_INT(t.host_len, strlen(host));
    CHECK(memcmp(t.host, host, t.host_len) == 0);
    CHECK_INT(t.port, port);
    CHECK_INT(t.path_len, strlen(path));
    CHECK(memcmp(t.path, path, t.path_len) == 0);
    CHECK_INT(t.family, family);
}

static void bad(const char *line, const char *why_part)
{
    struct hscan__target t;
    const char *why;
    int rc = parse(line, &t, &why);

    CHECK_INT(rc, HSCAN_EINVALID_TARGET);
    if (!why || !strstr(why, why_part))
        fprintf(stderr, "  '%s': why='%s', want '%s'\n", line,
                why ? why : "(null)", why_part);
    CHECK(why && strstr(why, why_part));
}

TEST(accepted_forms)
{
    ok("example.com", "example.com", 0, "", 0);
    ok("  example.com\t\r", "example.com", 0, "", 0);
    ok("example.com:8080", "example.com", 8080, "", 0);
    ok("http://example.com/some/path?q", "example.com", 0, "/some/path?q",
       0);
    ok("HTTP://Example.COM:81/x#frag", "Example.COM", 81, "/x", 0);
    ok("example.com?q=1", "example.com", 0, "?q=1", 0);
    ok("192.0.2.1", "192.0.2.1", 0, "", 4);
    ok("192.0.2.1:65535", "192.0.2.1", 65535, "", 4);
    ok("[2001:db8::1]:8080", "2001:db8::1", 8080, "", 6);
    ok("http://[::1]/p", "::1", 0, "/p", 6);
    ok("_dmarc.example.com", "_dmarc.example.com", 0, "", 0);
    ok("example.com.", "example.com.", 0, "", 0);
    ok("xn--bcher-kva.example", "xn--bcher-kva.example", 0, "", 0);
    ok("localhost", "localhost", 0, "", 0);
}

TEST(skipped_lines)
{
    struct hscan__target t;
    const char *why;
    CHECK_INT(parse("", &t, &why), 1);
    CHECK_INT(parse("   \t ", &t, &why), 1);
    CHECK_INT(parse("# a comment", &t, &why), 1);
    CHECK_INT(parse("   #indented", &t, &why), 1);
}

TEST(refusals)
{
    char longname[300], longlabel[80];

    bad("example.com:0", "port");
    bad("example.com:65536", "port");
    bad("example.com:", "port");
    bad("example.com:http", "port");
    bad("exa mple.com", "invalid character");
    bad("exa$mple.com", "invalid character");
    bad("b\xc3\xbc" "cher.example", "non-ASCII");
    bad("a..b", "empty label");
    bad(".a", "empty label");
        bad("ftp://example.com", "scheme");
    bad("http://user:pw@example.com/", "credentials");
    bad("[2001:db8::1", "unterminated");
    bad("[zz::1]", "IPv6");
    bad("[fe80::1%eth0]", "zone");
    bad("[::1]x", "after IPv6");
    bad("1.2.3", "IPv4");
    bad("999.1.1.1", "IPv4");
    bad("http://example.com/a b", "space");
    bad("http://example.com/\x01", "control");
    bad("http://example.com/\xff", "non-ASCII");
    memset(longlabel, 'a', 64);
    longlabel[64] = '\0';
    bad(longlabel, "63");
    memset(longname, 'a', sizeof(longname));
    for (int i = 50; i < 299; i += 50)
        longname[i] = '.';
    longname[299] = '\0';
    bad(longname, "253");
}

TEST(overlong_line)
{
    static char line[HSCAN__MAX_LINE + 2];
    memset(line, 'a', sizeof(line) - 1);
    bad(line, "8192");
}

static void resolves(const char *base, const char *ref, const char *want)
{
    char out[512];
    int rc = hscan__url_resolve(base, ref, strlen(ref), out, sizeof(out));
    if (rc != 0 || strcmp(out, want) != 0)
        fprintf(stderr, "  %s + %s = %s, want %s\n", base, ref,
                rc ? "(error)" : out, want);
    CHECK_INT(rc, 0);
    CHECK_STR(out, want);
}

TEST(url_resolve_rfc3986)
{
    /* RFC 3986 5.4.1 normal examples (those without fragments/params
     * an HTTP Location can carry) */
    const char *b = "http://a/b/c/d;p?q";
    resolves(b, "g", "http://a/b/c/g");
    resolves(b, "./g", "http://a/b/c/g");
    resolves(b, "g/", "http://a/b/c/g/");
    resolves(b, "/g", "http://a/g");
    resolves(b, "//g", "http://g");
    resolves(b, "?y", "http://a/b/c/d;p?y");
    resolves(b, "g?y", "http://a/b/c/g?y");
    resolves(b, ";x", "http://a/b/c/;x");
    resolves(b, "g;x", "http://a/b/c/g;x");
    resolves(b, ".", "http://a/b/c/");
    resolves(b, "./", "http://a/b/c/");
    resolves(b, "..", "http://a/b/");
    resolves(b, "../", "http://a/b/");
    resolves(b, "../g", "http://a/b/g");
    resolves(b, "../..", "http://a/");
    resolves(b, "../../g", "http://a/g");
    /* 5.4.2 abnormal */
    resolves(b, "../../../g", "http://a/g");
    resolves(b, "/./g", "http://a/g");
    resolves(b, "/../g", "http://a/g");
    resolves(b, "g.", "http://a/b/c/g.");
    resolves(b, "./../g", "http://a/b/g");
    resolves(b, "g/../h", "http://a/b/c/h");
    resolves(b, "g?y/./x", "http://a/b/c/g?y/./x");
    /* absolute and scheme changes, ports kept */
    resolves("http://x.test:8080/p", "https://y.test/q", "https://y.test/q");
    resolves("https://x.test:8443/a/b", "c", "https://x.test:8443/a/c");
    resolves("http://[::1]:81/a", "/z", "http://[::1]:81/z");
    resolves("http://x.test", "z", "http://x.test/z");
    resolves("http://x.test/", "?q=1", "http://x.test/?q=1");
}

TEST(url_resolve_refuses)
{
    char out[16];
    CHECK(hscan__url_resolve("nothing", "g", 1, out, sizeof(out)) != 0);
    CHECK(hscan__url_resolve("http://a/", "", 0, out, sizeof(out)) != 0);
    CHECK(hscan__url_resolve("http://a/", "/very/long/path/here", 20, out,
                             sizeof(out)) != 0);
}

TEST(https_scheme)
{
    struct hscan__target t;
    const char *why;
    CHECK_INT(parse("https://example.com/x", &t, &why), 0);
    CHECK_INT(t.scheme, HSCAN__HTTPS);
    CHECK_INT(t.port, 0);
    CHECK_INT(parse("example.com", &t, &why), 0);
    CHECK_INT(t.scheme, 0);
    CHECK_INT(parse("HTTP://example.com:81", &t, &why), 0);
    CHECK_INT(t.scheme, HSCAN__HTTP);
    CHECK_INT(t.port, 81);
}
