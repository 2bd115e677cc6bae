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

unsigned parse_follow(const char *v)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > 100 || v[0] == '-')
        cli_die_usage("--follow: '%s' is not a number from 0 to 100", v);
    return (unsigned)n;
}


/* The values the library would refuse as a whole ("invalid argument"),
 * checked here so the message names the option and the value. */
void check_token(const char *opt, const char *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!hscan__is_tchar((unsigned char)v[i]))
            break;
    if (n == 0 || i < n)
        cli_die_usage("%s: '%s' is not an HTTP token (letters, digits and "
                      "!#$%%&'*+-.^_`|~, no white space)", opt, v);
}

void check_no_crlf(const char *opt, const char *v)
{
    if (strpbrk(v, "\r\n"))
        cli_die_usage("%s: '%s' holds a line break", opt, v);
}

void check_path(const char *v)
{
    if (v[0] != '/' || strpbrk(v, " \t\r\n"))
        cli_die_usage("--path: '%s' must start with '/' and hold no white "
                      "space", v);
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
