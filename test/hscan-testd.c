/* hscan-testd: the DNS, HTTP and HTTPS test servers on one loop,
 * standalone.
 *
 * usage: hscan-testd [--dns-port N] [--http-port N] [--https-port N]
 *                    [--lifetime SECONDS] [--ip ADDR] [--any-loopback]
 *                    [--h2]
 *
 * Prints "dns IP:PORT", "http IP:PORT", "https IP:PORT" and "ca PATH"
 * (the HTTPS server's CA certificate as PEM, in a file made with mkstemp
 * under $TMPDIR or /tmp and removed at exit) on stdout, one per line in
 * that order, then serves until SIGINT, SIGTERM or the lifetime (default
 * 600 s; 0 means no limit) runs out. Only loopback addresses
 * (127.0.0.0/8) are accepted.
 *
 * --h2 (only in a build with nghttp2, HSCAN_HAVE_NGHTTP2; elsewhere it
 * is refused) adds four HTTP/2 servers (server-h2.h), each on a port of
 * its own picked at start (opt-in: a test that counts ephemeral ports
 * or descriptors does not pay for them), their leaves signed
 * by the HTTPS server's CA: "h2 IP:PORT" (TSRV_H2_TLS: ALPN h2 or
 * http/1.1), "h2-h1only IP:PORT" (ALPN http/1.1 only), "h2-h1talk
 * IP:PORT" (ALPN h2, then HTTP/1.1 bytes) and "h2c IP:PORT" (cleartext,
 * prior knowledge), one per line after "ca". The behaviour is the path
 * of the first request: /h2/normal, /h2/goaway...
 *
 * --any-loopback binds the HTTP and HTTPS servers to 0.0.0.0 (printed
 * as such) and closes every connection that did not arrive on a
 * 127.0.0.0/8 address, so with the DNS server's `ip-127-B-C-D` names
 * each target of a benchmark has an address of its own; DNS stays on
 * --ip. The soft RLIMIT_NOFILE is raised to the hard limit at start:
 * each open connection costs one descriptor, and a benchmark holds
 * 20,000 at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "server-dns.h"
#include "server-http.h"
#include "server-tls.h"
#ifdef HSCAN_HAVE_NGHTTP2
#include "server-h2.h"

/* The HTTP/2 listeners, in the order they are printed. */
static const struct {
    const char *label;
    int mode;
} h2_listeners[] = {
    { "h2", TSRV_H2_TLS },
    { "h2-h1only", TSRV_H2_TLS_H1ONLY },
    { "h2-h1talk", TSRV_H2_TLS_H1TALK },
    { "h2c", TSRV_H2_CLEAR },
};
#define N_H2 (sizeof(h2_listeners) / sizeof(h2_listeners[0]))
#else
#define N_H2 0
#endif

struct opts {
    int dns_port;
    int http_port;
    int https_port;
    long lifetime;
    const char *ip;
    int any_loopback;
    int h2;
};

struct testd {
    struct tsrv_dns *dns;
    struct tsrv_http *http;
    struct tsrv_tls *https;
    struct tsrv_h2 *h2[N_H2 + 1];   /* NULL: not started */
    char ca_path[4096];     /* "" until the CA file exists */
    uv_signal_t sigint, sigterm;
    uv_timer_t lifetime;
    int stopped;
};

static void usage(void)
{
    fprintf(stderr, "usage: hscan-testd [--dns-port N] [--http-port N] "
            "[--https-port N]\n"
            "                   [--lifetime SECONDS] [--ip ADDR] "
            "[--any-loopback] [--h2]\n");
}

static int parse_num(const char *s, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static int is_loopback(const char *ip)
{
    struct in_addr a;

    return inet_pton(AF_INET, ip, &a) == 1 &&
           (ntohl(a.s_addr) >> 24) == 127;
}

static int parse_opt(struct opts *o, const char *name, const char *val)
{
    long v;

    if (strcmp(name, "--ip") == 0) {
        o->ip = val;
        return 0;
    }
    if (strcmp(name, "--lifetime") == 0)
        return parse_num(val, 100000000L, &o->lifetime);
    if (parse_num(val, 65535, &v) != 0)
        return -1;
    if (strcmp(name, "--dns-port") == 0)
        o->dns_port = (int)v;
    else if (strcmp(name, "--http-port") == 0)
        o->http_port = (int)v;
    else if (strcmp(name, "--https-port") == 0)
        o->https_port = (int)v;
    else
        return -1;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int i;

    o->dns_port = 0;
    o->http_port = 0;
    o->https_port = 0;
    o->lifetime = 600;
    o->ip = "127.0.0.1";
    o->any_loopback = 0;
    o->h2 = 0;
    i = 1;
    while (i < argc) {
        if (strcmp(argv[i], "--any-loopback") == 0) {
            o->any_loopback = 1;
            i++;
        } else if (strcmp(argv[i], "--h2") == 0 && N_H2 > 0) {
            o->h2 = 1;
            i++;
        } else if (i + 1 < argc && parse_opt(o, argv[i], argv[i + 1]) == 0) {
            i += 2;
        } else {
            fprintf(stderr, "hscan-testd: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!is_loopback(o->ip)) {
        fprintf(stderr, "hscan-testd: refusing non-loopback ip '%s'\n",
                o->ip);
        return -1;
    }
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fprintf(stderr, "hscan-testd: setrlimit: %s\n", strerror(errno));
}

static void stop_all(struct testd *d)
{
    if (d->stopped)
        return;
    d->stopped = 1;
    if (d->dns)
        tsrv_dns_stop(d->dns);
    if (d->http)
        tsrv_http_stop(d->http);
    if (d->https)
        tsrv_tls_stop(d->https);
#ifdef HSCAN_HAVE_NGHTTP2
    for (size_t i = 0; i < N_H2; i++)
        if (d->h2[i])
            tsrv_h2_stop(d->h2[i]);
#endif
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->lifetime, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    fprintf(stderr, "hscan-testd: signal %d, stopping\n", signum);
    stop_all(h->data);
}

static void on_lifetime(uv_timer_t *t)
{
    fprintf(stderr, "hscan-testd: lifetime over, stopping\n");
    stop_all(t->data);
}

/* An empty file for the CA PEM; its name goes to `path`. 0 or a uv
 * error, then `path` is "". */
static int make_ca_file(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    int fd, n;

    if (!dir || !*dir)
        dir = "/tmp";
    n = snprintf(path, size, "%s/hscan-testd-ca.XXXXXX", dir);
    if (n < 0 || (size_t)n >= size) {
        path[0] = '\0';
        return UV_ENAMETOOLONG;
    }
    fd = mkstemp(path);
    if (fd < 0) {
        n = -errno;
        path[0] = '\0';
        return n;
    }
    close(fd);
    return 0;
}

static int start_servers(uv_loop_t *loop, const struct opts *o,
                         struct testd *d)
{
    const char *tcp_ip = o->any_loopback ? "0.0.0.0" : o->ip;
    int rc;

    rc = tsrv_dns_start(loop, o->ip, o->dns_port, &d->dns);
    if (rc != 0) {
        fprintf(stderr, "hscan-testd: dns: %s\n", uv_strerror(rc));
        return rc;
    }
    rc = tsrv_http_start(loop, tcp_ip, o->http_port, &d->http);
    if (rc != 0) {
        fprintf(stderr, "hscan-testd: http: %s\n", uv_strerror(rc));
        return rc;
    }
    rc = make_ca_file(d->ca_path, sizeof(d->ca_path));
    if (rc == 0)
        rc = tsrv_tls_start(loop, tcp_ip, o->https_port, d->ca_path,
                            &d->https);
    if (rc != 0) {
        fprintf(stderr, "hscan-testd: https: %s\n", uv_strerror(rc));
        return rc;
    }
#ifdef HSCAN_HAVE_NGHTTP2
    for (size_t i = 0; o->h2 && i < N_H2 && rc == 0; i++) {
        rc = tsrv_h2_start(loop, tcp_ip, 0, h2_listeners[i].mode,
                           tsrv_tls_ca(d->https), NULL, &d->h2[i]);
        if (rc != 0)
            fprintf(stderr, "hscan-testd: %s: %s\n", h2_listeners[i].label,
                    uv_strerror(rc));
    }
#endif
    return rc;
}

static void print_h2(const char *ip, const struct testd *d)
{
#ifdef HSCAN_HAVE_NGHTTP2
    for (size_t i = 0; i < N_H2 && d->h2[i]; i++)
        printf("%s %s:%d\n", h2_listeners[i].label, ip,
               tsrv_h2_port(d->h2[i]));
#else
    (void)ip;
    (void)d;
#endif
}

static void start_control(uv_loop_t *loop, const struct opts *o,
                          struct testd *d)
{
    uv_signal_init(loop, &d->sigint);
    uv_signal_init(loop, &d->sigterm);
    uv_timer_init(loop, &d->lifetime);
    d->sigint.data = d->sigterm.data = d->lifetime.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    if (o->lifetime > 0)
        uv_timer_start(&d->lifetime, on_lifetime,
                       (uint64_t)o->lifetime * 1000, 0);
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    struct testd d;
    struct opts o;
    int rc;

    if (parse_args(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    memset(&d, 0, sizeof(d));
    start_control(loop, &o, &d);
    rc = start_servers(loop, &o, &d);
    if (rc == 0) {
        const char *tcp_ip = o.any_loopback ? "0.0.0.0" : o.ip;

        printf("dns %s:%d\nhttp %s:%d\n", o.ip, tsrv_dns_port(d.dns),
               tcp_ip, tsrv_http_port(d.http));
        printf("https %s:%d\nca %s\n", tcp_ip, tsrv_tls_port(d.https),
               d.ca_path);
        print_h2(tcp_ip, &d);
        fflush(stdout);
    } else {
        stop_all(&d);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    if (d.ca_path[0])
        unlink(d.ca_path);
    if (uv_loop_close(loop) != 0) {
        fprintf(stderr, "hscan-testd: loop still busy at exit\n");
        return 1;
    }
    return rc == 0 ? 0 : 1;
}
