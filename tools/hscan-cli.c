/* hscan-cli: scan a list of targets, write one JSON record per line.
 *
 * A thin wrapper: it feeds lines to libhscan and writes its records.  Input
 * from regular files is read with plain read() on demand (the page cache
 * answers at once); pipes and terminals are read through libuv so a slow
 * producer never stalls probes already in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <hscan.h>

#include "cli.h"

#define IBUF_SIZE (256 * 1024)
#define MAX_LINE 8192
#define FD_RESERVE 32       /* stdio, DNS sockets, slack */

enum { EXIT_OK = 0, EXIT_IO = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

struct input {
    char **files;
    int n_files, cur;
    int fd;                  /* current source, -1 before the first */
    int is_stream;           /* pipe/tty read through libuv */
    int eof;                 /* current source ended */
    int skipping;            /* discarding the rest of an over-long line */
    uv_stream_t *stream;
    union { uv_pipe_t pipe; uv_tty_t tty; } h;
    int reading;
    int waiting;             /* told the scanner LATER; records flush */
    char buf[IBUF_SIZE];
    size_t start, end;
};

struct cli {
    uv_loop_t *loop;
    hscan_t *scan;
    struct input in;
    struct out out;
    const char *out_path;
    const char *resume_path;
    struct done_set done;
    int resuming;
    int out_reported;
    int quiet;
    int progress;            /* PROGRESS_*: --progress, --no-progress */
    int exit_code;
    unsigned shard_index, shard_count;   /* --shard K/N; count 0: none */
    uv_signal_t sigint, sigterm;
    uint64_t t0;
    uint64_t err_count[128];
    int err_code[128];
    int n_err_kinds;
    struct filter filter;    /* which records are written */
    struct xin xin;          /* CIDR ranges and --ports */
};

static struct cli G;   /* the program's one instance: signal handles need it */

/* ---- input ---- */

static void on_stream_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void stream_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct input *in = h->data;
    (void)hint;
    if (in->start > 0 && in->start == in->end)
        in->start = in->end = 0;
    if (in->start > 0 && IBUF_SIZE - in->end < 4096) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    b->base = in->buf + in->end;
    b->len = IBUF_SIZE - in->end;
}

static void stream_closed(uv_handle_t *h)
{
    (void)h;
}

static void stream_pause_if_full(struct input *in)
{
    if (in->reading && IBUF_SIZE - (in->end - in->start) < 4096) {
        uv_read_stop(in->stream);
        in->reading = 0;
    }
}

static void on_stream_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct input *in = st->data;
    (void)b;
    if (n > 0) {
        in->end += (size_t)n;
        stream_pause_if_full(in);
    } else if (n < 0) {
        if (n != UV_EOF) {
            progress_clear();
            fprintf(stderr, "hscan-cli: reading input: %s\n",
                    uv_strerror((int)n));
        }
        in->eof = 1;
        uv_read_stop(st);
        in->reading = 0;
    }
    if (G.scan && n != 0) {
        in->waiting = 0;
        hscan_feed(G.scan);
    }
}

static int open_next(struct input *in)
{
    const char *name;

    if (in->stream) {
        uv_close((uv_handle_t *)in->stream, stream_closed);
        in->stream = NULL;
    } else if (in->fd > 0) {
        close(in->fd);
    }
    in->fd = -1;
    if (in->cur >= in->n_files)
        return 0;
    name = in->files[in->cur++];
    in->start = in->end = 0;
    in->eof = 0;
    in->skipping = 0;
    if (strcmp(name, "-") == 0) {
        in->fd = 0;
    } else if ((in->fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
        progress_clear();
        fprintf(stderr, "hscan-cli: cannot open %s: %s\n", name,
                strerror(errno));
        G.exit_code = EXIT_IO;
        return open_next(in);
    }
    in->is_stream = 0;
    switch (uv_guess_handle(in->fd)) {
    case UV_TTY:
        uv_tty_init(G.loop, &in->h.tty, in->fd, 1);
        in->stream = (uv_stream_t *)&in->h.tty;
        break;
    case UV_NAMED_PIPE:
    case UV_TCP:
        uv_pipe_init(G.loop, &in->h.pipe, 0);
        if (uv_pipe_open(&in->h.pipe, in->fd) == 0)
            in->stream = (uv_stream_t *)&in->h.pipe;
        else
            uv_close((uv_handle_t *)&in->h.pipe, stream_closed);
        break;
    default:
        break;
    }
    if (in->stream) {
        in->is_stream = 1;
        in->stream->data = in;
    }
    return 1;
}

/* Find a line in the buffer.  An over-long line is handed over cut at
 * MAX_LINE + 1 bytes (the library records it as invalid) and the rest of
 * it is skipped. */
static int take_line(struct input *in, const char **line, size_t *len)
{
    char *s, *nl;

    for (;;) {
        s = in->buf + in->start;
        nl = memchr(s, '\n', in->end - in->start);
        if (in->skipping) {
            if (!nl) {
                in->start = in->end;
                return 0;
            }
            in->start += (size_t)(nl - s) + 1;
            in->skipping = 0;
            continue;
        }
        if (nl || (in->eof && in->end > in->start)) {
            size_t n = nl ? (size_t)(nl - s) : in->end - in->start;
            *line = s;
            *len = n > MAX_LINE ? MAX_LINE + 1 : n;   /* refused anyway */
            in->start += n + (nl ? 1 : 0);
            return 1;
        }
        if (in->end - in->start > MAX_LINE) {
            *line = s;
            *len = MAX_LINE + 1;
            in->start = in->end;
            in->skipping = 1;
            return 1;
        }
        return 0;
    }
}

static void fill_file(struct input *in)
{
    ssize_t n;

    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    do {
        n = read(in->fd, in->buf + in->end, IBUF_SIZE - in->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        progress_clear();
        fprintf(stderr, "hscan-cli: reading input: %s\n", strerror(errno));
        G.exit_code = EXIT_IO;
    }
    if (n <= 0)
        in->eof = 1;
    else
        in->end += (size_t)n;
}

/* The progress total counts targets: a range or --ports makes several
 * of one line. */
static uint64_t input_weight(const char *line, size_t len)
{
    return xin_count(&G.xin, line, len, G.shard_index, G.shard_count);
}

/* cfg.unit_done with --resume and units: the earlier run's records. */
static int unit_done(hscan_t *scan, void *arg, const char *input,
                     size_t len, const char *path, const char *ip)
{
    (void)scan;
    (void)arg;
    return resume_take_unit(&G.done, input, len, path, ip);
}

static int next_target(hscan_t *scan, void *arg, const char **line,
                       size_t *len, void **udata)
{
    struct input *in = arg;
    (void)scan;
    (void)udata;
    if (out_full(&G.out)) {
        in->waiting = 1;    /* the reader is behind: on_out_drain feeds */
        return HSCAN_NEXT_LATER;
    }
    for (;;) {
        if (xin_next(&G.xin, G.resuming ? &G.done : NULL, line, len, udata))
            return HSCAN_NEXT_TARGET;
        if (in->fd < 0 && !open_next(in))
            return HSCAN_NEXT_END;
        if (take_line(in, line, len)) {
            xin_start(&G.xin, *line, *len);     /* one line, n targets */
            continue;
        }
        if (in->eof) {
            if (!open_next(in))
                return HSCAN_NEXT_END;
            continue;
        }
        if (!in->is_stream) {
            fill_file(in);
            continue;
        }
        if (!in->reading && uv_read_start(in->stream, stream_alloc,
                                          on_stream_read) == 0)
            in->reading = 1;
        else if (!in->reading)
            in->eof = 1;
        if (in->eof)
            continue;
        /* Input is idle: let records already made reach the reader now
         * rather than when the buffer fills (tail -f | hscan-cli). */
        out_flush(&G.out);
        in->waiting = 1;
        return HSCAN_NEXT_LATER;
    }
}

/* ---- output ---- */

static void on_closed(hscan_t *scan, void *arg);
static void out_failed(hscan_t *scan);

static void count_error(int code)
{
    int i;
    for (i = 0; i < G.n_err_kinds; i++)
        if (G.err_code[i] == code)
            break;
    if (i == G.n_err_kinds) {
        if (i == 128)
            return;
        G.err_code[G.n_err_kinds++] = code;
    }
    G.err_count[i]++;
}

static void on_result(hscan_t *scan, const hscan_result_t *r, void *arg)
{
    hscan_result_t fixed;
    (void)arg;
    progress_result(r);     /* every result, before any filter */
    r = xin_result(r, &fixed);
    if (r->error)
        count_error(r->error);
    if (G.out.failed)
        return;
    if (!filter_pass(&G.filter, r))
        return;             /* counted above, not written */
    if (fmt_record(&G.out, r) != 0 ||
        (G.in.waiting && out_flush(&G.out) != 0))
        out_failed(scan);
}

/* Writing failed: a reader that went away (EPIPE: `| head`) ends the scan
 * quietly; anything else (a full disk) is an error. */
static void out_failed(hscan_t *scan)
{
    if (G.out_reported++)
        return;
    if (G.out.err != EPIPE) {
        progress_clear();
        fprintf(stderr, "hscan-cli: writing %s: %s\n",
                G.out_path ? G.out_path : "output", strerror(G.out.err));
        G.exit_code = EXIT_IO;
    }
    if (scan)
        hscan_close(scan, on_closed);
}

static void on_out_drain(void)
{
    if (G.out.failed)
        out_failed(G.scan);
    else if (G.scan && G.in.waiting) {
        G.in.waiting = 0;
        hscan_feed(G.scan);
    }
}

static void on_drained(hscan_t *scan, void *arg)
{
    (void)arg;
    hscan_close(scan, on_closed);
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)h;
    progress_clear();
    if (G.exit_code >= EXIT_INTERRUPTED) {
        /* at once, but the line being written is finished first */
        out_emergency(&G.out, 1000);
        signal(sig, SIG_DFL);
        raise(sig);
    }
    G.exit_code = 128 + sig;
    if (!G.quiet)
        fprintf(stderr, "hscan-cli: interrupted; cancelling targets in "
                        "flight (again to quit at once)\n");
    if (G.scan)
        hscan_close(G.scan, on_closed);
}

/* ---- options (the value parsers are in cli-opts.c) ---- */

static void add_resolver(hscan_config_t *cfg, const char *v)
{
    char *list = (char *)cfg->resolvers;
    size_t n = list ? strlen(list) : 0;
    char *s = realloc(list, n + strlen(v) + 2);
    if (!s)
        exit(EXIT_IO);
    sprintf(s + n, "%s%s", n ? "," : "", v);
    cfg->resolvers = s;
}

static const struct option opts[] = {
    { "concurrency", 1, 0, 'c' }, { "timeout", 1, 0, OPT_TIMEOUT },
    { "dns-timeout", 1, 0, OPT_DNS_TIMEOUT },
    { "connect-timeout", 1, 0, OPT_CONNECT_TIMEOUT },
    { "read-timeout", 1, 0, OPT_READ_TIMEOUT },
    { "method", 1, 0, 'X' }, { "path", 1, 0, OPT_PATH },
    { "header", 1, 0, 'H' }, { "user-agent", 1, 0, 'A' },
    { "resolver", 1, 0, OPT_RESOLVER },
    { "max-header-bytes", 1, 0, OPT_MAX_HEADER_BYTES },
    { "max-headers", 1, 0, OPT_MAX_HEADERS },
    { "output", 1, 0, 'o' }, { "quiet", 0, 0, 'q' },
    { "help", 2, 0, 'h' }, { "version", 0, 0, 'V' },
    { "scheme", 1, 0, OPT_SCHEME }, { "follow", 1, 0, OPT_FOLLOW },
    { "tls-timeout", 1, 0, OPT_TLS_TIMEOUT },
    { "ca-file", 1, 0, OPT_CA_FILE }, { "insecure", 0, 0, 'k' },
    { "rate", 1, 0, OPT_RATE }, { "burst", 1, 0, OPT_BURST },
    { "max-per-ip", 1, 0, OPT_MAX_PER_IP },
    { "dns-rate", 1, 0, OPT_DNS_RATE },
    { "dns-cache", 1, 0, OPT_DNS_CACHE },
    { "resume", 1, 0, OPT_RESUME }, { "shard", 1, 0, OPT_SHARD },
    { "body-bytes", 1, 0, OPT_BODY_BYTES },
    { "audit", 0, 0, OPT_AUDIT }, { "strict", 0, 0, OPT_STRICT },
    { "http1.1", 0, 0, OPT_HTTP11 }, { "http2", 0, 0, OPT_HTTP2 },
    { "h2c", 0, 0, OPT_H2C },
    { "proxy", 1, 0, OPT_PROXY }, { "no-proxy", 1, 0, OPT_NO_PROXY },
    { "proxy-timeout", 1, 0, OPT_PROXY_TIMEOUT },
    { "progress", 0, 0, OPT_PROGRESS },
    { "no-progress", 0, 0, OPT_NO_PROGRESS },
    { "match-status", 1, 0, OPT_MATCH_STATUS },
    { "filter-status", 1, 0, OPT_FILTER_STATUS },
    { "match-header", 1, 0, OPT_MATCH_HEADER },
    { "match-error", 1, 0, OPT_MATCH_ERROR },
    { "only-ok", 0, 0, OPT_ONLY_OK }, { "ports", 1, 0, OPT_PORTS },
    { "format", 1, 0, 'f' }, { "fields", 1, 0, OPT_FIELDS },
    /* credentials and request body (cli-args.c) */
    { "user", 1, 0, 'u' }, { "data", 1, 0, 'd' },
    { "data-file", 1, 0, OPT_DATA_FILE },
    { "exclude", 1, 0, OPT_EXCLUDE },
    { "retries", 1, 0, OPT_RETRIES }, { "source-ip", 1, 0, OPT_SOURCE_IP },
    /* many paths and every address (cli-paths.c) */
    { "paths", 1, 0, OPT_PATHS }, { "all-ips", 0, 0, OPT_ALL_IPS },
    /* address family preference (cli-args.c) */
    { "prefer-ipv4", 0, 0, OPT_PREFER_IPV4 },
    { "prefer-ipv6", 0, 0, OPT_PREFER_IPV6 },
    { "attempt-delay", 1, 0, OPT_ATTEMPT_DELAY },
    /* the whole chain */
    { "tls-chain", 0, 0, OPT_TLS_CHAIN },
    { "sni", 1, 0, OPT_SNI }, { "no-sni", 0, 0, OPT_NO_SNI },
    { "tls-min", 1, 0, OPT_TLS_MIN }, { "tls-max", 1, 0, OPT_TLS_MAX },
    { "ciphers", 1, 0, OPT_CIPHERS },
    { "ciphersuites", 1, 0, OPT_CIPHERSUITES },
    { "curves", 1, 0, OPT_CURVES }, { "cert", 1, 0, OPT_CERT },
    { "key", 1, 0, OPT_KEY },
    /* body hashes and favicon (cli-args.c) */
    { "hash", 1, 0, OPT_HASH }, { "favicon", 0, 0, OPT_FAVICON },
    /* content decoding */
    { "compressed", 0, 0, OPT_COMPRESSED },
    /* matchers, filters, extractors (cli-match.c) */
    { "match-string", 1, 0, OPT_MATCH_STRING },
    { "filter-string", 1, 0, OPT_FILTER_STRING },
    { "match-regex", 1, 0, OPT_MATCH_REGEX },
    { "filter-regex", 1, 0, OPT_FILTER_REGEX },
    { "filter-header", 1, 0, OPT_FILTER_HEADER },
    { "match-length", 1, 0, OPT_MATCH_LENGTH },
    { "filter-length", 1, 0, OPT_FILTER_LENGTH },
    { "match-words", 1, 0, OPT_MATCH_WORDS },
    { "filter-words", 1, 0, OPT_FILTER_WORDS },
    { "match-lines", 1, 0, OPT_MATCH_LINES },
    { "filter-lines", 1, 0, OPT_FILTER_LINES },
    { "match-time", 1, 0, OPT_MATCH_TIME },
    { "filter-time", 1, 0, OPT_FILTER_TIME },
    { "extract", 1, 0, OPT_EXTRACT },
    { 0, 0, 0, 0 }
};

/* The options that set a duration in `cfg`.  0 when `c` is none. */
static int opt_duration(hscan_config_t *cfg, int c, const char *v)
{
    switch (c) {
    case OPT_TIMEOUT:
        cfg->timeout_ms = parse_duration("--timeout", v);
        break;
    case OPT_DNS_TIMEOUT:
        cfg->dns_timeout_ms = parse_duration("--dns-timeout", v);
        break;
    case OPT_CONNECT_TIMEOUT:
        cfg->connect_timeout_ms = parse_duration("--connect-timeout", v);
        break;
    case OPT_READ_TIMEOUT:
        cfg->read_timeout_ms = parse_duration("--read-timeout", v);
        break;
    case OPT_TLS_TIMEOUT:
        cfg->tls_timeout_ms = parse_duration("--tls-timeout", v);
        break;
    case OPT_PROXY_TIMEOUT:
        cfg->proxy_timeout_ms = parse_duration("--proxy-timeout", v);
        break;
    default:
        return 0;
    }
    return 1;
}

/* The options that set a count or a limit in `cfg`.  0 when `c` is
 * none. */
static int opt_number(hscan_config_t *cfg, int c, const char *v)
{
    switch (c) {
    case 'c':
        cfg->concurrency = (unsigned)parse_num("--concurrency", v, 0,
                                               UINT_MAX);
        break;
    case OPT_MAX_HEADER_BYTES:
        cfg->max_header_bytes = parse_num("--max-header-bytes", v, 0,
                                          1UL << 30);
        break;
    case OPT_MAX_HEADERS:
        cfg->max_headers = (unsigned)parse_num("--max-headers", v, 0,
                                               1000000);
        break;
    case OPT_FOLLOW:
        cfg->follow = (unsigned)parse_num("--follow", v, 0, UINT_MAX);
        break;
    case OPT_RATE:
        cfg->rate = (unsigned)parse_count("--rate", v, 10000000);
        break;
    case OPT_BURST:
        cfg->burst = (unsigned)parse_count("--burst", v, 10000000);
        break;
    case OPT_MAX_PER_IP:
        cfg->max_per_ip = (unsigned)parse_num("--max-per-ip", v, 0,
                                              1000000);
        break;
    case OPT_DNS_RATE:
        cfg->dns_rate = (unsigned)parse_num("--dns-rate", v, 0, 10000000);
        break;
    case OPT_DNS_CACHE:
        cfg->dns_cache = (unsigned)parse_num("--dns-cache", v, 0, 10000000);
        break;
    case OPT_BODY_BYTES:
        cfg->body_bytes = parse_num("--body-bytes", v, 0, ULONG_MAX);
        break;
    case OPT_RETRIES:
        cfg->retries = (unsigned)parse_num("--retries", v, 0,
                                           HSCAN_RETRIES_MAX);
        break;
    default:
        return 0;
    }
    return 1;
}

/* -H NAME:VALUE, a request header (-H NAME is a column: cli-format.c),
 * checked with the rest (check_config()). */
static void opt_header(hscan_config_t *cfg, const char *v)
{
    static const char *headers[256];

    if (cfg->n_headers == 256)
        cli_die_usage("-H: more than 256 headers");
    headers[cfg->n_headers++] = v;
    cfg->headers = headers;
}

/* --source-ip, a list: the library checks each literal. */
static void opt_source_ip(hscan_config_t *cfg, const char *v)
{
    static const char *ips[HSCAN_SOURCE_IPS_MAX];

    if (cfg->n_source_ips == HSCAN_SOURCE_IPS_MAX)
        cli_die_usage("--source-ip: more than %d addresses",
                      HSCAN_SOURCE_IPS_MAX);
    ips[cfg->n_source_ips++] = v;
    cfg->source_ips = ips;
}

/* --compressed offers the codings built in: say so when one is not
 * (none at all: the library refuses, check_config() says why). */
static void compressed_note(void)
{
    const char *f = hscan_features();
    int z = strstr(f, "zlib") != NULL, b = strstr(f, "brotli") != NULL;

    if (z != b)
        fprintf(stderr, "hscan-cli: --compressed: offering %s only (%s "
                "is not built in)\n", z ? "gzip, deflate" : "br",
                z ? "brotli" : "zlib");
}

/* The options that shape the request and the connection in `cfg`; the
 * library checks the values (check_config()).  0 when `c` is none. */
static int method_given;        /* -X: a body does not imply POST */

static int opt_request(hscan_config_t *cfg, int c, const char *v)
{
    switch (c) {
    case 'X': cfg->method = v; method_given = 1; break;
    case 'u': args_user(cfg, (char *)v); break;     /* optarg: argv */
    case 'd': case OPT_DATA_FILE: args_data(c, v); break;
    case OPT_PATH: paths_add(v); break;
    case OPT_PATHS: paths_file(v); break;
    case OPT_ALL_IPS: cfg->all_ips = 1; break;
    case 'H':
        if (strchr(v, ':'))
            opt_header(cfg, v);
        else
            fmt_opt_column(v);
        break;
    case 'A': cfg->user_agent = v; break;
    case OPT_RESOLVER: check_resolver(v); add_resolver(cfg, v); break;
    case OPT_SCHEME: cfg->scheme = parse_scheme(v); break;
    case OPT_CA_FILE:
        if (access(v, R_OK) != 0)
            cli_die_usage("--ca-file: cannot read '%s'", v);
        cfg->ca_file = v;
        break;
    case 'k': cfg->insecure = 1; break;
    case OPT_TLS_CHAIN: cfg->tls_chain = 1; break;
    case OPT_AUDIT: cfg->audit = 1; break;
    case OPT_COMPRESSED: cfg->compressed = 1; compressed_note(); break;
    case OPT_STRICT: cfg->strict = 1; break;
    case OPT_HTTP11: cfg->http_version = HSCAN_HTTP_1_1; break;
    case OPT_HTTP2: cfg->http_version = HSCAN_HTTP_2; break;
    case OPT_H2C: cfg->h2c = 1; break;
    case OPT_PROXY: cfg->proxy = v; break;
    case OPT_NO_PROXY: cfg->no_proxy = v; break;
    case OPT_EXCLUDE: args_exclude(v); break;
    case OPT_SOURCE_IP: opt_source_ip(cfg, v); break;
    case '4': case '6': case OPT_PREFER_IPV4: case OPT_PREFER_IPV6:
    case OPT_ATTEMPT_DELAY:
        args_family(cfg, c, v);
        break;
    case OPT_SNI: case OPT_NO_SNI: case OPT_TLS_MIN: case OPT_TLS_MAX:
    case OPT_CIPHERS: case OPT_CIPHERSUITES: case OPT_CURVES:
    case OPT_CERT: case OPT_KEY:
        args_tls(cfg, c, v);
        break;
    case OPT_HASH: case OPT_FAVICON: args_hash(cfg, c, v); break;
    default:
        return 0;
    }
    return 1;
}

/* The options of the CLI itself: input, output, filters, progress. */
static void opt_cli(int c, const char *v, const char **out_path)
{
    int mode;

    switch (c) {
    case 'o': *out_path = v; break;
    case 'f': fmt_opt_format(v); break;
    case OPT_FIELDS: fmt_opt_fields(v); break;
    case OPT_RESUME: G.resume_path = v; break;
    case OPT_SHARD: parse_shard(v, &G.shard_index, &G.shard_count); break;
    case OPT_MATCH_STATUS: case OPT_FILTER_STATUS:
    case OPT_MATCH_ERROR: case OPT_ONLY_OK:
        filter_option(&G.filter, c, v);
        break;
    case OPT_MATCH_HEADER: case OPT_FILTER_HEADER:
    case OPT_MATCH_STRING: case OPT_FILTER_STRING:
    case OPT_MATCH_REGEX: case OPT_FILTER_REGEX:
    case OPT_MATCH_LENGTH: case OPT_FILTER_LENGTH:
    case OPT_MATCH_WORDS: case OPT_FILTER_WORDS:
    case OPT_MATCH_LINES: case OPT_FILTER_LINES:
    case OPT_MATCH_TIME: case OPT_FILTER_TIME:
        filter_note(&G.filter, match_option_name(c));
        match_option(c, v);
        break;
    case OPT_EXTRACT: match_option(c, v); break;
    case OPT_PORTS: xin_ports(&G.xin, v); break;
    case 'q': G.quiet = 1; break;
    case OPT_PROGRESS:
    case OPT_NO_PROGRESS:
        mode = c == OPT_PROGRESS ? PROGRESS_ON : PROGRESS_OFF;
        if (G.progress && G.progress != mode)
            cli_die_usage("--progress and --no-progress exclude each other");
        G.progress = mode;
        break;
    case 'h': exit(cli_help(v) == 0 ? EXIT_OK : EXIT_USAGE);
    case 'V':
        printf("hscan-cli %s\nFeatures: %s\n", hscan_version(),
               *hscan_features() ? hscan_features() : "(none)");
        exit(EXIT_OK);
    default: cli_die_usage("invalid option");
    }
}

static void parse_args(int argc, char **argv, hscan_config_t *cfg,
                       const char **out_path)
{
    int c, li = -1;

    opterr = 0;             /* args_check() says what is wrong */
    while ((c = getopt_long(argc, argv, ":c:X:H:A:o:f:u:d:q46hVk", opts,
                            &li)) != -1) {
        args_check(opts, argv, c, li);
        li = -1;
        if (!opt_duration(cfg, c, optarg) && !opt_number(cfg, c, optarg) &&
            !opt_request(cfg, c, optarg))
            opt_cli(c, optarg, out_path);
    }
    args_finish(cfg, method_given);
    match_finish(cfg);
    paths_finish(cfg);
    cfg->shard_index = G.shard_index;
    cfg->shard_count = G.shard_count;
}

/* Each probe holds one socket: raise the soft descriptor limit as far as
 * the hard limit allows, and shrink the window if it is still short. */
static void fit_concurrency(hscan_config_t *cfg)
{
    struct rlimit rl;
    unsigned avail;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 2000000)
        return;
    avail = rl.rlim_cur > FD_RESERVE * 2 ? (unsigned)rl.rlim_cur - FD_RESERVE
                                         : FD_RESERVE;
    if (cfg->concurrency > avail) {
        fprintf(stderr, "hscan-cli: warning: open-file limit %lu allows "
                "concurrency %u, not %u\n", (unsigned long)rl.rlim_cur,
                avail, cfg->concurrency);
        cfg->concurrency = avail;
    }
}

/* Peak resident memory of this process image in KiB (VmHWM: unlike
 * ru_maxrss it starts at exec, so a large parent does not inflate it).
 * 0 where /proc is missing. */
static unsigned long peak_rss_kib(void)
{
    char line[128];
    unsigned long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %lu kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void summary(void)
{
    unsigned long rss = peak_rss_kib();
    hscan_stats_t st;
    double secs = (double)(uv_hrtime() - G.t0) / 1e9;
    int i;

    hscan_stats(G.scan, &st);
    fprintf(stderr, "hscan: %llu targets, %llu ok",
            (unsigned long long)st.finished, (unsigned long long)st.ok);
    for (i = 0; i < G.n_err_kinds; i++)
        fprintf(stderr, "%s%s=%llu", i ? " " : ", errors: ",
                hscan_err_name(G.err_code[i]),
                (unsigned long long)G.err_count[i]);
    fprintf(stderr, ", %.2f s, %.0f hosts/s", secs,
            secs > 0 ? (double)st.finished / secs : 0.0);
    if (rss)
        fprintf(stderr, ", peak RSS %.1f MiB", (double)rss / 1024);
    fprintf(stderr, ", DNS %llu lookups (%llu cached, %llu shared)",
            (unsigned long long)st.dns_lookups,
            (unsigned long long)st.dns_cache_hits,
            (unsigned long long)st.dns_shared);
    if (st.ip_waits)
        fprintf(stderr, ", %llu waited for --max-per-ip",
                (unsigned long long)st.ip_waits);
    if (G.shard_count > 1)
        fprintf(stderr, ", shard %u/%u: %llu lines left to other shards",
                G.shard_index, G.shard_count,
                (unsigned long long)st.shard_skipped);
    if (G.filter.active)
        fprintf(stderr, ", %llu filtered", (unsigned long long)G.filter.dropped);
    if (G.resuming)
        fprintf(stderr, ", %llu %s already done in %s",
                (unsigned long long)G.done.skipped,
                G.done.units ? "units" : "inputs", G.resume_path);
    fputc('\n', stderr);
    progress_table(&st, secs, rss);
}

static void start_progress(const hscan_config_t *cfg)
{
    struct progress_cfg pc = {
        G.progress, G.quiet, G.out.tty, G.in.files, G.in.n_files, MAX_LINE,
        cfg->scheme == HSCAN_SCHEME_BOTH ? 2 : 1, G.shard_index,
        G.shard_count, G.resuming ? G.done.kept : 0,
        cfg->n_paths, cfg->all_ips
    };
    progress_start(G.loop, G.scan, &pc);
}

/* The records are all out (or writing failed): release the rest. */
static void on_out_done(void)
{
    if (out_finish(&G.out) != 0)
        out_failed(NULL);
    out_close(&G.out);
    uv_close((uv_handle_t *)&G.sigint, NULL);
    uv_close((uv_handle_t *)&G.sigterm, NULL);
}

static void on_closed(hscan_t *scan, void *arg)
{
    (void)arg;
    (void)scan;
    progress_stop();
    if (!G.quiet)
        summary();
    G.scan = NULL;
    if (G.in.stream) {
        uv_close((uv_handle_t *)G.in.stream, stream_closed);
        G.in.stream = NULL;
    }
    /* signal handles stay open until the output is out */
    out_drain(&G.out, on_out_done);
}

int main(int argc, char **argv)
{
    static char *stdin_only[] = { "-" };
    hscan_config_t cfg;
    const char *out_path = NULL;
    int rc, fd = 1;

    signal(SIGPIPE, SIG_IGN);
    hscan_config_init(&cfg);
    cfg.max_per_ip = 4;     /* polite by default, unlike the library */
    cfg.body_bytes = 8192;  /* title and body_sha256; bounded memory */
    cfg.body_keep = 0;      /* never printed: no body bytes in flight */
    cfg.next_target = next_target;
    cfg.on_result = on_result;
    cfg.on_drained = on_drained;
    cfg.arg = &G.in;
    parse_args(argc, argv, &cfg, &out_path);
    check_config(&cfg);
    filter_check(&G.filter, G.resume_path != NULL &&
                            cfg.scheme == HSCAN_SCHEME_BOTH);
    fmt_choose(&cfg, out_path != NULL, G.resume_path);
    G.loop = uv_default_loop();
    G.in.fd = -1;
    G.in.files = optind < argc ? argv + optind : stdin_only;
    G.in.n_files = optind < argc ? argc - optind : 1;
    if (G.resume_path) {
        if (out_path && strcmp(out_path, G.resume_path) != 0)
            cli_die_usage("--resume %s: it appends to that file; -o %s "
                          "names another", G.resume_path, out_path);
        out_path = G.resume_path;
        int units = cfg.all_ips ? RESUME_IP
                    : cfg.n_paths ? RESUME_PATH : RESUME_INPUT;
        if (units)
            cfg.unit_done = unit_done;
        if (resume_load(&G.done, out_path,
                        cfg.scheme == HSCAN_SCHEME_BOTH ? 2 : 1,
                        units) != 0) {
            free((char *)cfg.resolvers);
            return EXIT_IO;
        }
        G.resuming = 1;
        if (!G.quiet && (G.done.kept || G.done.dropped))
            fprintf(stderr, "hscan-cli: resuming %s: %llu records kept, "
                    "%llu dropped (canceled, incomplete or cut short)\n",
                    out_path, (unsigned long long)G.done.kept,
                    (unsigned long long)G.done.dropped);
    }
    G.out_path = out_path;
    if (out_path && (fd = open(out_path, O_WRONLY | O_CREAT | O_CLOEXEC |
                               (G.resuming ? O_APPEND : O_TRUNC), 0666)) < 0) {
        fprintf(stderr, "hscan-cli: cannot write %s: %s\n", out_path,
                strerror(errno));
        free((char *)cfg.resolvers);
        return EXIT_IO;
    }
    if (filter_side_open(&G.filter, out_path, G.resuming, &G.done,
                         G.quiet) != 0) {
        free((char *)cfg.resolvers);
        return EXIT_IO;
    }
    if (out_init(&G.out, G.loop, fd) != 0) {
        fprintf(stderr, "hscan-cli: out of memory\n");
        return EXIT_IO;
    }
    G.out.on_drain = on_out_drain;
    if (fmt_begin(&G.out, &cfg) != 0) {
        fprintf(stderr, "hscan-cli: writing %s: %s\n",
                out_path ? out_path : "output", strerror(G.out.err));
        return EXIT_IO;
    }
    fit_concurrency(&cfg);
    {
        const char *field = NULL;
        char why[256];
        if (hscan_config_check(&cfg, &field, why, sizeof(why)) != 0) {
            fprintf(stderr, "hscan-cli: %s: %s\n", field ? field : "?",
                    why);
            free((char *)cfg.resolvers);
            return EXIT_USAGE;
        }
    }
    rc = hscan_new(&G.scan, G.loop, &cfg);
    if (rc != 0) {
        fprintf(stderr, "hscan-cli: cannot start the scan: %s (check the "
                "option values%s%s%s%s)\n", hscan_strerror(rc),
                cfg.resolvers ? ", --resolver " : "",
                cfg.resolvers ? cfg.resolvers : "",
                cfg.proxy ? "; --proxy: can its host be resolved?" : "", "");
        free((char *)cfg.resolvers);
        return EXIT_USAGE;
    }
    G.t0 = uv_hrtime();
    progress_set_weight(input_weight);
    start_progress(&cfg);
    uv_signal_init(G.loop, &G.sigint);
    uv_signal_init(G.loop, &G.sigterm);
    uv_signal_start(&G.sigint, on_signal, SIGINT);
    uv_signal_start(&G.sigterm, on_signal, SIGTERM);
    uv_run(G.loop, UV_RUN_DEFAULT);
    if (G.scan)
        return EXIT_IO;      /* the loop ended without our close: a bug */
    if (fd != 1 && close(fd) != 0) {
        fprintf(stderr, "hscan-cli: writing %s: %s\n", out_path,
                strerror(errno));
        G.exit_code = EXIT_IO;
    }
    resume_free(&G.done);
    filter_free(&G.filter);
    uv_loop_close(G.loop);
    fmt_free();
    free((char *)cfg.resolvers);
    args_free(&cfg);
    paths_free(&cfg);
    return G.exit_code;
}
