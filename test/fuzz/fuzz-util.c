/* What every accepted target must look like, shared by the input-line
 * and redirect harnesses (a followed Location goes through the same
 * parser as an input line). */
#include <arpa/inet.h>
#include <string.h>

#include "fuzz.h"

static int within(const char *p, size_t n, const char *line, size_t len)
{
    return p >= line && n <= len && (size_t)(p - line) <= len - n;
}

static int name_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static void check_host(const struct hscan__target *t)
{
    char tmp[64];
    unsigned char addr[16];
    size_t i;

    if (t->family) {
        FUZZ_CHECK(t->host_len < sizeof(tmp));
        memcpy(tmp, t->host, t->host_len);
        tmp[t->host_len] = '\0';
        FUZZ_CHECK(inet_pton(t->family == 4 ? AF_INET : AF_INET6, tmp,
                             addr) == 1);
        return;
    }
    FUZZ_CHECK(t->host_len <= 254);           /* 253 and a final dot */
    FUZZ_CHECK(t->host[0] != '.');
    for (i = 0; i < t->host_len; i++)
        FUZZ_CHECK(name_byte((unsigned char)t->host[i]));
}

static void check_path(const char *p, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    FUZZ_CHECK(p[0] == '/' || p[0] == '?');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '#');
    }
}

/* The URL the probe requests (hscan__p_url's shape) parses back to the
 * same target: what a redirect hop or a log line shows is what was
 * asked. */
static void check_round_trip(const struct hscan__target *t)
{
    char url[HSCAN__MAX_LINE + 600];
    struct hscan__sb b = { url, sizeof(url), 0 };
    struct hscan__target back;
    const char *why = NULL, *path;
    size_t n, path_len;
    int scheme = t->scheme ? t->scheme : HSCAN__HTTP;

    hscan__sb_str(&b, scheme == HSCAN__HTTPS ? "https://" : "http://");
    hscan__sb_put(&b, "[", t->family == 6);
    hscan__sb_put(&b, t->host, t->host_len);
    hscan__sb_put(&b, "]", t->family == 6);
    if (t->port) {
        hscan__sb_put(&b, ":", 1);
        hscan__sb_uint(&b, (unsigned)t->port);
    }
    if (t->path_len == 0 || t->path[0] == '?')
        hscan__sb_put(&b, "/", 1);
    hscan__sb_put(&b, t->path, t->path_len);
    n = hscan__sb_end(&b);
    if (n > HSCAN__MAX_LINE)
        return;                     /* a line that long is refused */
    path = url + (n - t->path_len - (t->path_len == 0 || t->path[0] == '?'));
    path_len = (size_t)(url + n - path);
    if (hscan__target_parse(url, n, &back, &why) != 0) {
        fprintf(stderr, "re-parse of '%s' failed: %s\n", url, why);
        FUZZ_CHECK(!"the probe's URL parses back");
    }
    FUZZ_CHECK(back.scheme == scheme);
    FUZZ_CHECK(back.family == t->family);
    FUZZ_CHECK(back.port == t->port);
    FUZZ_CHECK(back.host_len == t->host_len &&
               memcmp(back.host, t->host, t->host_len) == 0);
    FUZZ_CHECK(back.path_len == path_len &&
               memcmp(back.path, path, path_len) == 0);
}

void fuzz_check_target(const char *line, size_t len,
                       const struct hscan__target *t)
{
    FUZZ_CHECK(t->scheme == 0 || t->scheme == HSCAN__HTTP ||
               t->scheme == HSCAN__HTTPS);
    FUZZ_CHECK(t->family == 0 || t->family == 4 || t->family == 6);
    FUZZ_CHECK(t->port >= 0 && t->port <= 65535);
    FUZZ_CHECK(t->host_len > 0 && within(t->host, t->host_len, line, len));
    FUZZ_CHECK(t->path_len == 0 || within(t->path, t->path_len, line, len));
    check_host(t);
    check_path(t->path, t->path_len);
    check_round_trip(t);
}
