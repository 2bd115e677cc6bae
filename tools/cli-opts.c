/* hscan-cli's option values: each parser refuses a bad value with a
 * message that names the option and the value (exit status 2). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hscan.h>

#include "../lib/ascii.h"
#include "cli.h"

void cli_die_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hscan-cli: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'hscan-cli --help'.\n");
    exit(2);
}

uint64_t parse_duration(const char *opt, const char *v)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || d <= 0)
        cli_die_usage("%s: '%s' is not a positive duration", opt, v);
    if (strcmp(end, "ms") == 0)
        ;
    else if (*end == '\0' || strcmp(end, "s") == 0)
        d *= 1000;
    else
        cli_die_usage("%s: '%s' is not a duration (seconds, NNs or NNms)",
                      opt, v);
    if (d < 1 || d > 86400000)
        cli_die_usage("%s: '%s' is out of range (1 ms to 24 h)", opt, v);
    return (uint64_t)d;
}

/* A whole number from `min` (0 or 1) to `max`. */
unsigned long parse_num(const char *opt, const char *v,
                               unsigned long min, unsigned long max)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max || v[0] == '-')
        cli_die_usage("%s: '%s' is not a number in range", opt, v);
    return n;
}

unsigned long parse_count(const char *opt, const char *v,
                                 unsigned long max)
{
    return parse_num(opt, v, 1, max);
}

int parse_scheme(const char *v)
{
    static const char *names[] = { "https-first", "http", "https", "both" };
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0)
            return i;    /* the order of enum hscan_scheme */
    cli_die_usage("--scheme: '%s' is not one of http, https, https-first, "
                  "both", v);
    return 0;
}

/* --shard K/N: two plain decimal numbers (no sign, no spaces), K < N.
 * N = 1 is accepted (the whole list) so a script can run N = 1..M
 * without a special case. */
void parse_shard(const char *v, unsigned *index, unsigned *count)
{
    const char *slash = strchr(v, '/');
    unsigned long k = 0, n = 0;
    char *kend = NULL, *nend = NULL;

    if (slash && v[0] >= '0' && v[0] <= '9' && slash[1] >= '0' &&
        slash[1] <= '9') {
        k = strtoul(v, &kend, 10);    /* ULONG_MAX on overflow: >= N */
        errno = 0;
        n = strtoul(slash + 1, &nend, 10);
    }
    if (!kend || kend != slash || *nend)
        cli_die_usage("--shard: \"%s\": not K/N (two whole numbers, "
                      "e.g. 0/4)", v);
    if (errno || n > 1000000)
        cli_die_usage("--shard: \"%s\": N must be at most 1000000", v);
    if (n < 1)
        cli_die_usage("--shard: \"%s\": N must be at least 1", v);
    if (k >= n)
        cli_die_usage("--shard: \"%s\": K must be below N", v);
    *index = (unsigned)k;
    *count = (unsigned)n;
}

static void check_token(const char *opt, const char *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!hscan__is_tchar((unsigned char)v[i]))
            break;
    if (n == 0 || i < n)
        cli_die_usage("%s: '%s' is not an HTTP token (letters, digits and "
                      "!#$%%&'*+-.^_`|~, no white space)", opt, v);
}

/* The option that sets each hscan_config_t member hscan-cli fills. */
static const struct {
    const char *field, *opt;
} field_opts[] = {
    { "concurrency", "--concurrency" }, { "timeout_ms", "--timeout" },
    { "dns_timeout_ms", "--dns-timeout" },
    { "connect_timeout_ms", "--connect-timeout" },
    { "read_timeout_ms", "--read-timeout" }, { "method", "--method" },
    { "path", "--path" }, { "user_agent", "--user-agent" },
    { "headers", "-H" }, { "resolvers", "--resolver" },
    { "family", "-4/-6" }, { "max_header_bytes", "--max-header-bytes" },
    { "max_headers", "--max-headers" }, { "scheme", "--scheme" },
    { "follow", "--follow" }, { "tls_timeout_ms", "--tls-timeout" },
    { "ca_file", "--ca-file" }, { "rate", "--rate" },
    { "burst", "--burst" }, { "max_per_ip", "--max-per-ip" },
    { "dns_rate", "--dns-rate" }, { "dns_cache", "--dns-cache" },
    { "body_bytes", "--body-bytes" }, { "shard_index", "--shard" },
    { "shard_count", "--shard" },
    /* credentials and request body (cli-args.c) */
    { "basic_auth", "--user" }, { "body", "-d/--data" },
    { "exclude", "--exclude" },
    /* address family preference (cli-args.c) */
    { "prefer_family", "--prefer-ipv4/--prefer-ipv6" },
    { "attempt_delay_ms", "--attempt-delay" },
    /* client TLS options (cli-args.c) */
    { "sni", "--sni" }, { "no_sni", "--no-sni" },
    { "tls_min", "--tls-min" }, { "tls_max", "--tls-max" },
    { "ciphers", "--ciphers" }, { "ciphersuites", "--ciphersuites" },
    { "curves", "--curves" }, { "cert_file", "--cert" },
    { "key_file", "--key" },
    /* content decoding */
    { "compressed", "--compressed" },
};

/* What the CLI alone refuses in a request header (-H): a name that is
 * not an HTTP token.  The library refuses a line without a name or
 * with CR or LF (checked first, so those are reported escaped), but
 * sends any other name as given. */
static void check_header_names(const hscan_config_t *cfg)
{
    char name[256];
    size_t i;

    for (i = 0; i < cfg->n_headers; i++) {
        const char *v = cfg->headers[i];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(v, ":"), v);
        check_token("-H: the header name", name, strlen(name));
    }
}

void check_config(const hscan_config_t *cfg)
{
    const char *field = NULL;
    char why[512];
    size_t i;

    if (hscan_config_check(cfg, &field, why, sizeof(why)) == 0) {
        check_header_names(cfg);
        return;
    }
    for (i = 0; field && i < sizeof(field_opts) / sizeof(field_opts[0]);
         i++)
        if (strcmp(field, field_opts[i].field) == 0)
            cli_die_usage("%s: %s", field_opts[i].opt, why);
    /* A member no option sets: hscan-cli's own mistake. */
    cli_die_usage("the library refuses its setting %s: %s",
                  field ? field : "(none)", why);
}

/* IP, IP:PORT, [IPv6]:PORT or a bare IPv6 address. */
void check_resolver(const char *arg)
{
    const char *v = arg;
    char host[64];
    const char *port = NULL, *end;
    unsigned char buf[16];
    size_t n;

    if (v[0] == '[') {
        end = strchr(v, ']');
        n = end ? (size_t)(end - v - 1) : sizeof(host);
        if (end && end[1] == ':')
            port = end + 2;
        else if (end && end[1])
            n = sizeof(host);
        v++;
    } else {
        end = strchr(v, ':');
        n = strlen(v);
        if (end && !strchr(end + 1, ':')) {   /* one colon: IPv4:PORT */
            n = (size_t)(end - v);
            port = end + 1;
        }
    }
    if (n < sizeof(host)) {
        memcpy(host, v, n);
        host[n] = '\0';
    }
    if (n >= sizeof(host) ||
        (inet_pton(AF_INET, host, buf) != 1 &&
         inet_pton(AF_INET6, host, buf) != 1) ||
        (port && (strspn(port, "0123456789") != strlen(port) || !*port ||
                  atoi(port) < 1 || atoi(port) > 65535)))
        cli_die_usage("--resolver: '%s' is not IP[:PORT] (IPv6 as "
                      "[ADDR]:PORT)", arg);
}
