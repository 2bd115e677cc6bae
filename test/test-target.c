/* Input line parsing: accepted forms, and every refusal with its reason. */
#include <string.h>

#include "internal.h"
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
    ok("example.com", "example.com", 80, "", 0);
    ok("  example.com\t\r", "example.com", 80, "", 0);
    ok("example.com:8080", "example.com", 8080, "", 0);
    ok("http://example.com/some/path?q", "example.com", 80, "/some/path?q",
       0);
    ok("HTTP://Example.COM:81/x#frag", "Example.COM", 81, "/x", 0);
    ok("example.com?q=1", "example.com", 80, "?q=1", 0);
    ok("192.0.2.1", "192.0.2.1", 80, "", 4);
    ok("192.0.2.1:65535", "192.0.2.1", 65535, "", 4);
    ok("[2001:db8::1]:8080", "2001:db8::1", 8080, "", 6);
    ok("http://[::1]/p", "::1", 80, "/p", 6);
    ok("_dmarc.example.com", "_dmarc.example.com", 80, "", 0);
    ok("example.com.", "example.com.", 80, "", 0);
    ok("xn--bcher-kva.example", "xn--bcher-kva.example", 80, "", 0);
    ok("localhost", "localhost", 80, "", 0);
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
    bad("https://example.com", "https");
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
