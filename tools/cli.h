/* cli.h: the parts of hscan-cli that live outside hscan-cli.c: the
 * record writer (cli-out.c) and --resume (cli-resume.c). */
#ifndef HSCAN_CLI_H
#define HSCAN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* ---- record writer ----
 *
 * Records are appended to a buffer that only ever holds whole lines, and
 * each write(2) starts at a line boundary, so output interrupted at any
 * point (a second Ctrl-C, SIGKILL, the OOM killer) ends with whole lines,
 * except when the kernel cuts a write short (a fatal signal during a
 * large write to a file): --resume repairs such a tail.
 *
 * A pipe or socket is written without blocking: when the reader is slow,
 * the writer holds up to OUT_HIGH bytes and then reports itself full; the
 * CLI stops taking new input until it drains below OUT_LOW, so probes in
 * flight keep running (and keep their timings honest) instead of the
 * whole loop stalling in write(2).  Files and terminals are written with
 * plain blocking writes. */
#define OUT_FLUSH (64 * 1024)       /* write files once this much is held */
#define OUT_HIGH (4 * 1024 * 1024)  /* pipe: stop taking input above this */
#define OUT_LOW (1024 * 1024)       /* pipe: take input again below this */

struct out {
    int fd;
    int nonblock;           /* pipe or socket, written through `poll` */
    int own_fd;             /* fd is our non-blocking reopen of a pipe */
    int has_poll;
    int fl_saved;           /* its fcntl flags before we set O_NONBLOCK,
                               or -1 when we did not */
    int tty;                /* flush every record */
    int failed;             /* a write failed: stop writing */
    int err;                /* errno of that failure (EPIPE: quiet) */
    int polling;
    char *buf;
    size_t len, off, cap;   /* buf[off..len) is pending */
    uv_poll_t poll;
    void (*on_drain)(void); /* pending fell below OUT_LOW after full */
    void (*on_done)(void);  /* out_drain() finished */
    int full;
};

/* Set up `o` for `fd` on `loop`.  Returns 0 or -errno. */
int out_init(struct out *o, uv_loop_t *loop, int fd);
/* Queue one record of `n` bytes (a newline is added).  Returns 0, or
 * -errno once writing has failed (the record is dropped). */
int out_put(struct out *o, const char *rec, size_t n);
/* Write what is pending now if possible (input idle).  0 or -errno. */
int out_flush(struct out *o);
/* Whether the reader is behind by more than OUT_HIGH. */
int out_full(const struct out *o);
/* Write what is pending, then call `done` (maybe from inside): a pipe is
 * written as its reader takes it, the loop still running, so that a
 * second Ctrl-C is still heard while a slow reader holds the rest. */
void out_drain(struct out *o, void (*done)(void));
/* Write everything, blocking; restore the descriptor's flags and stop
 * polling.  0 or -errno. */
int out_finish(struct out *o);
/* Second interrupt: write what is pending for at most `ms`, so that the
 * line in progress is completed; then give up.  Never fails. */
void out_emergency(struct out *o, int ms);
/* Close the poll handle (if any) and free the buffer. */
void out_close(struct out *o);

/* ---- --resume ---- */

/* Inputs already recorded in an earlier run's output: a hash set of the
 * trimmed input lines with how many records each still covers. */
struct done_set {
    uint64_t *keys;         /* 0: empty slot */
    uint32_t *count;        /* records of that input kept in the file */
    uint32_t *seen;         /* scratch while rewriting */
    size_t cap, used;
    unsigned per_input;     /* records one input makes (2: --scheme both) */
    int units;              /* RESUME_*: what a key is made of */
    uint64_t kept, dropped; /* lines kept and dropped by the load */
    uint64_t skipped;       /* inputs skipped so far */
};

/* done_set.units: keys are inputs (0), (input, path) units of a path
 * list, or (input, path, address) units of --all-ips. */
enum { RESUME_INPUT = 0, RESUME_PATH = 1, RESUME_IP = 2 };

/* Read the output file `path` of an earlier run: keep its complete,
 * valid, not-canceled records (for per_input 2, whole pairs), rewrite the
 * file through a temporary file and rename(2) when anything has to go,
 * and fill `ds` with what is done.  A missing file is an empty one.
 * Returns 0, or -errno with a message on stderr. */
int resume_load(struct done_set *ds, const char *path, unsigned per_input,
                int units);
/* Whether this input occurrence is already done (then it is consumed).
 * With units only lines the CLI itself refused (`bad`: their record's
 * input) are looked up here; the library asks about the others. */
int resume_take(struct done_set *ds, const char *line, size_t len,
                int bad);
/* cfg.unit_done for units: whether one record of this unit (`path`
 * and `ip` NUL-terminated or NULL) is in the file (then it is
 * consumed). */
int resume_take_unit(struct done_set *ds, const char *input, size_t len,
                     const char *path, const char *ip);
void resume_free(struct done_set *ds);
/* Add the records of OUT.filtered (`path`: the records the filters kept
 * out of the output, one JSON line each) to `ds` as done; a cut last
 * line is truncated away.  Only with per_input 1.  Returns how many,
 * or -errno. */
long resume_load_filtered(struct done_set *ds, const char *path);

/* ---- the path list (cli-paths.c) ---- */

struct hscan_config;

/* --path V (repeatable) and --paths FILE (exits 2 naming file:line on
 * a bad path). */
void paths_add(const char *v);
void paths_file(const char *file);
/* One --path alone: cfg->path (the input's own path wins); more, or a
 * --paths file: the list cfg->paths.  After all options. */
void paths_finish(struct hscan_config *cfg);
void paths_free(struct hscan_config *cfg);

/* The input line as the library trims it (whitespace at both ends). */
void cli_trim(const char **line, size_t *len);

/* ---- live progress and the summary table (cli-progress.c) ----
 *
 * On a terminal (stderr a TTY, not -q) or with --progress, a status line
 * on stderr: redrawn in place every 250 ms on a terminal, a whole line
 * every 2 s elsewhere.  Never on stdout.  Anything else written to
 * stderr while it runs must call progress_clear() first. */
struct hscan;
struct hscan_result;
struct hscan_stats;

enum { PROGRESS_AUTO = 0, PROGRESS_ON = 1, PROGRESS_OFF = 2 };

struct progress_cfg {
    int mode;               /* PROGRESS_*: --progress / --no-progress */
    int quiet;              /* -q: no status unless PROGRESS_ON */
    int out_tty;            /* records go to a terminal */
    char **files;           /* the inputs ("-": stdin), counted for the */
    int n_files;            /* total when all are regular files */
    size_t max_line;        /* longer lines are cut, as take_line() does */
    unsigned per_input;     /* 2 with --scheme both */
    unsigned shard_index, shard_count;  /* --shard: count only shard K */
    uint64_t already_done;  /* --resume: records kept from before */
    size_t paths;           /* --path list / --paths: records per line
                               times this (0: 1) */
    int all_ips;            /* --all-ips: records per name unknown until
                               resolved, so no total */
};

/* Start the status line (when wanted) on `loop` for `scan`, which must
 * stay valid until progress_stop().  Returns 1 when it shows, else 0.
 *
 * The total is the sum over the input lines that make records (not
 * blank, not '#') of weight(line) times the records per line (2 with
 * --scheme both unless the line names its scheme or port 80/443), minus
 * already_done, plus progress_add_total()'s adjustments; counted lazily
 * a slice per loop iteration; unknown (done only) when an input is not
 * a regular file. */
int progress_start(uv_loop_t *loop, struct hscan *scan,
                   const struct progress_cfg *cfg);
/* Replace the weight of a trimmed input line (default 1, or 0 for lines
 * of other shards: progress_shard_weight()), e.g. the number of targets
 * a CIDR range and --ports expand it into.  Set before progress_start(). */
void progress_set_weight(uint64_t (*fn)(const char *line, size_t len));
/* 1 when this library input line is in our --shard, else 0. */
uint64_t progress_shard_weight(const char *line, size_t len);
/* Add `n` (may be negative) to the total. */
void progress_add_total(int64_t n);
/* Count a result for the table and keep the status line off a terminal
 * that records are written to.  Call first thing in on_result, for
 * every result, filtered or not. */
void progress_result(const struct hscan_result *r);
/* Erase the status line if it is shown (it is drawn again at the next
 * tick).  Safe at any time, also before start and after stop. */
void progress_clear(void);
/* Erase the line and close the handles; before the scan is freed. */
void progress_stop(void);
/* The table under the one-line summary: status classes, errors, timing
 * percentiles, rate, CPU time, peak RSS (0: unknown). */
void progress_table(const struct hscan_stats *st, double secs,
                    unsigned long rss_kib);

/* ---- which records are written (cli-filter.c) ----
 *
 * Filters decide what is written, after the result is counted: every
 * given test must pass; values inside one list are alternatives.  See
 * docs/cli.md "Picking out hosts". */
/* getopt codes of the options that have no short form: above every
 * char, so none is taken for a short option.  OPT_MATCH_STATUS to
 * OPT_ONLY_OK stay together in this order (filter_option()). */
enum {
    OPT_TIMEOUT = 0x100, OPT_DNS_TIMEOUT, OPT_CONNECT_TIMEOUT,
    OPT_READ_TIMEOUT, OPT_TLS_TIMEOUT, OPT_PATH, OPT_RESOLVER,
    OPT_MAX_HEADER_BYTES, OPT_MAX_HEADERS, OPT_SCHEME, OPT_FOLLOW,
    OPT_CA_FILE, OPT_RATE, OPT_BURST, OPT_MAX_PER_IP, OPT_DNS_RATE,
    OPT_DNS_CACHE, OPT_RESUME, OPT_SHARD, OPT_BODY_BYTES, OPT_AUDIT, OPT_STRICT,
    OPT_PROGRESS, OPT_NO_PROGRESS, OPT_FIELDS,
    OPT_MATCH_STATUS, OPT_FILTER_STATUS, OPT_MATCH_HEADER,
    OPT_MATCH_ERROR, OPT_ONLY_OK, OPT_PORTS, OPT_HTTP11, OPT_HTTP2, OPT_H2C,
    OPT_PROXY, OPT_NO_PROXY, OPT_PROXY_TIMEOUT,
    /* credentials and request body (cli-args.c) */
    OPT_DATA_FILE,
    OPT_EXCLUDE, OPT_RETRIES, OPT_SOURCE_IP,
    /* many paths and every address (cli-paths.c) */
    OPT_PATHS, OPT_ALL_IPS,
    /* address family preference (cli-args.c) */
    OPT_PREFER_IPV4, OPT_PREFER_IPV6, OPT_ATTEMPT_DELAY,
    /* the whole chain */
    OPT_TLS_CHAIN,
    /* client TLS options (cli-args.c) */
    OPT_SNI, OPT_NO_SNI, OPT_TLS_MIN, OPT_TLS_MAX, OPT_CIPHERS,
    OPT_CIPHERSUITES, OPT_CURVES, OPT_CERT, OPT_KEY,
    /* body hashes and favicon (cli-args.c) */
    OPT_HASH, OPT_FAVICON,
    /* content decoding */
    OPT_COMPRESSED,
    /* matchers, filters, extractors (cli-match.c) */
    OPT_MATCH_STRING, OPT_FILTER_STRING, OPT_MATCH_REGEX, OPT_FILTER_REGEX,
    OPT_FILTER_HEADER, OPT_MATCH_LENGTH, OPT_FILTER_LENGTH,
    OPT_MATCH_WORDS, OPT_FILTER_WORDS, OPT_MATCH_LINES, OPT_FILTER_LINES,
    OPT_MATCH_TIME, OPT_FILTER_TIME, OPT_EXTRACT
};
#define FILTER_STATUS_MAX 999   /* statuses 0 (no response) to 999 */
#define FILTER_MAX_ERRORS 64

struct hscan_result;

struct filter {
    int active;             /* any filter option given */
    const char *first;      /* the first one, for messages */
    int has_match, has_drop;
    unsigned char match[FILTER_STATUS_MAX / 8 + 1];  /* --match-status */
    unsigned char drop[FILTER_STATUS_MAX / 8 + 1];   /* --filter-status */
    int errors[FILTER_MAX_ERRORS];                   /* --match-error */
    size_t n_errors;
    int only_ok;
    /* OUT.filtered (-o OUT with filters): the records not written */
    int side_on, side_fd;
    char *side_path, *jbuf;
    size_t jcap;
    uint64_t dropped;       /* records not written */
};

/* Parse one filter option (OPT_MATCH_STATUS ... OPT_ONLY_OK) with its
 * argument; a bad value exits 2 with a message naming it. */
void filter_option(struct filter *f, int opt, const char *v);
/* A filter option handled elsewhere (cli-match.c) was given. */
void filter_note(struct filter *f, const char *opt);
/* After all options: refuse combinations that cannot work (exit 2):
 * filters with --resume, --only-ok with --match-error, lists that keep
 * nothing. */
void filter_check(const struct filter *f, int resuming);
/* With -o OUT and filters: open OUT.filtered (appending when
 * resuming, after adding its records to `ds`; else truncated).
 * Returns 0, or an exit code after a message. */
struct done_set;
int filter_side_open(struct filter *f, const char *out_path, int resuming,
                     struct done_set *ds, int quiet);
/* 1 when the record is to be written; else it went to OUT.filtered.
 * Call after counting it. */
int filter_pass(struct filter *f, const struct hscan_result *r);
void filter_free(struct filter *f);

/* ---- matchers, filters, extractors (cli-match.c, cli-range.c) ---- */
/* The option's name ("--match-regex"), NULL when it is not one. */
const char *match_option_name(int opt);
/* Add one option's matchers (a bad value exits 2 naming it). */
void match_option(int opt, const char *v);
/* Into cfg: matchers, extract, and body_bytes 8192 when 0 and a body
 * option was given. */
struct hscan_config;
void match_finish(struct hscan_config *cfg);
void match_free(void);
/* One range list item p[0..n) into [*low, *high]; 0 or -1. */
int cli_range(const char *p, size_t n, int time, long long *low,
              long long *high);
/* "hscan-cli: OPT: 'V': WHY" and the --help hint on stderr, exit 2. */
void cli_bad_value(const char *opt, const char *v, const char *why)
    __attribute__((noreturn));

/* ---- input lines into targets: CIDR ranges, --ports (cli-input.c) ----
 *
 * xin_start() loads a line as take_line() gave it; xin_next() then gives
 * its targets one by one (a range is never expanded in memory).  A
 * refused range goes to the library as "[" + the line with *udata set
 * to the reason; xin_result() turns its record back into the line as
 * given with that reason.  The CLI's udata is this module's. */
#define XIN_LINE_MAX 8193       /* take_line(): MAX_LINE + 1 at most */
#define XIN_PORT_ITEMS 1024     /* items of --ports (each may be a range) */
#define XIN_HOST_BITS 24        /* at most 2^24 addresses per range */

struct xin_range {
    int family;             /* 4 or 6 */
    unsigned char addr[16]; /* network address, host bits cleared */
    uint64_t n;             /* addresses */
    int port;               /* ADDR/LEN:PORT, else 0 */
    const char *why;        /* refused: the error_detail */
};

struct xin {
    struct { uint16_t lo, hi; } ports[XIN_PORT_ITEMS];  /* --ports */
    unsigned n_ports;
    uint32_t n_port_values;
    int kind;               /* of the loaded line */
    char line[XIN_LINE_MAX];   /* the loaded line, trimmed */
    size_t len;
    size_t slot;            /* where ":PORT" goes */
    struct xin_range range;
    uint64_t k, total;      /* next target, targets of the line */
    char out[XIN_LINE_MAX + 64];  /* the target handed over */
};

/* --ports LIST: ports and ranges, 80,443,8000-8010; exits 2 if bad. */
void xin_ports(struct xin *x, const char *v);
/* Load one input line (`line` need not outlive the call). */
void xin_start(struct xin *x, const char *line, size_t len);
/* The next target of the loaded line into *line, *len (valid until the
 * next call) and *udata; targets whose record `done` holds are skipped
 * (done NULL: none).  Returns 1, or 0 when the line has no more. */
int xin_next(struct xin *x, struct done_set *done, const char **line,
             size_t *len, void **udata);
/* How many targets one input line makes: 0 for blank and '#' lines,
 * addresses x ports for a range, the --ports count for a line without
 * a port, else 1.  With shard_count > 1, only those of shard
 * shard_index (a range of more than 4096 targets: its expected share). */
uint64_t xin_count(const struct xin *x, const char *line, size_t len,
                   unsigned shard_index, unsigned shard_count);
/* The record to write for `r`: `r` itself, or for a refused range a
 * copy in `*tmp` with the line as given and the reason. */
const struct hscan_result *xin_result(const struct hscan_result *r,
                                      struct hscan_result *tmp);

/* ---- output formats (cli-format.c) ----
 *
 * -f json (the library's record, unchanged), csv (RFC 4180, a header
 * row first) or table (one line per target for a person; cells cleaned
 * for the terminal and cut to fixed widths).  The option parsers exit 2
 * naming the option at fault. */
struct hscan_config;

void fmt_opt_format(const char *v);     /* -f, --format */
void fmt_opt_fields(const char *v);     /* --fields a,b,c (repeatable) */
/* --header NAME without a colon: response header NAME as a column (a
 * value with a colon is a request header, handled by the caller). */
void fmt_opt_column(const char *v);
/* After the options, before --resume reads its file: settle the format
 * (default: table when stdout is a terminal and `to_file` is 0, else
 * JSON, or CSV when columns were asked for) and refuse what conflicts
 * (columns with -f json; `resume` with csv/table). */
void fmt_choose(const struct hscan_config *cfg, int to_file,
                const char *resume);
/* Write the CSV header row or the table's header line.  0 or -errno. */
int fmt_begin(struct out *o, const struct hscan_config *cfg);
/* Write one record in the format.  0 or -errno (out_put()). */
int fmt_record(struct out *o, const struct hscan_result *r);
void fmt_free(void);

/* ---- --help (cli-help.c) ---- */

/* Print the grouped help to stdout, or only the group `topic` (NULL:
 * all).  Returns 0, or -1 for an unknown topic (said on stderr). */
int cli_help(const char *topic);

/* ---- option values (cli-opts.c) ----
 * Each returns the value or refuses it through cli_die_usage(), naming
 * `opt` and the value. */

/* "hscan-cli: " + the printf-style message, the help hint, exit 2. */
void cli_die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Seconds (fractions, an "s" suffix) or NNNms: milliseconds. */
uint64_t parse_duration(const char *opt, const char *v);
unsigned long parse_num(const char *opt, const char *v, unsigned long min,
                        unsigned long max);
/* 1..max */
unsigned long parse_count(const char *opt, const char *v,
                          unsigned long max);
/* --scheme: an enum hscan_scheme */
int parse_scheme(const char *v);
/* --shard K/N */
void parse_shard(const char *v, unsigned *index, unsigned *count);
/* A --resolver value: IP, IP:PORT, [IPv6]:PORT or IPv6.  The CLI's
 * own check, per value: the library hands the joined list to c-ares in
 * hscan_new() and cannot say which one was wrong. */
void check_resolver(const char *arg);
/* The values the library refuses (hscan_config_check()), reported
 * under the option that set them ("--follow: 500: must be at most
 * 100"); then the CLI's own rule that a -H header name is an HTTP
 * token.  Call once the options are parsed and the callbacks set. */
void check_config(const struct hscan_config *cfg);

/* ---- the command line taken literally (cli-args.c) ---- */
struct option;

/* After each getopt_long() call (opterr 0, ':' first in the short
 * options, `longindex` set to -1 before it): exit 2 for an unknown,
 * abbreviated or value-less option, naming the options it could mean
 * ("--time: ... did you mean --timeout, --tls-timeout?"), and for a
 * second use of an option that is not a list. */
void args_check(const struct option *opts, char **argv, int c,
                int longindex);
/* --user USER:PASSWORD into cfg->basic_auth (a copy); the password in
 * `v` (argv) is overwritten with '*'.  Exit 2 without a ':'. */
void args_user(struct hscan_config *cfg, char *v);
/* -d/--data STR (-d @FILE: the file without CR and LF) or
 * --data-file FILE (its bytes as they are): appended to the request
 * body, pieces joined with '&' as curl does.  Exit 2 past
 * HSCAN_REQUEST_BODY_MAX or for a file that cannot be read. */
void args_data(int c, const char *v);
/* -4, -6, --prefer-ipv4, --prefer-ipv6 (getopt code `c`) and
 * --attempt-delay D (`v`) into `cfg`.  Exit 2 for two that contradict
 * each other (-4 with -6 or with --prefer-ipv6, the two preferences). */
void args_family(struct hscan_config *cfg, int c, const char *v);
/* --sni, --no-sni, --tls-min, --tls-max, --ciphers, --ciphersuites,
 * --curves, --cert, --key (getopt code `c`, value `v`) into `cfg`.
 * Exit 2 for a version other than 1.0 to 1.3 and for a file that
 * cannot be read; the rest is the library's to check. */
void args_tls(struct hscan_config *cfg, int c, const char *v);
/* --hash LIST, --favicon. */
void args_hash(struct hscan_config *cfg, int c, const char *v);
/* After the options: the body into `cfg`, and POST as the method
 * unless -X was given; exit 2 for --attempt-delay without a
 * preference. */
void args_finish(struct hscan_config *cfg, int method_given);
/* --exclude LIST (comma-separated) or @FILE (one entry a line, '#'
 * comments, blank lines skipped): entries added to the list
 * args_finish() gives the config, each checked by the library's rule;
 * a bad one exits 2 naming it (and FILE:LINE). */
void args_exclude(const char *v);

/* A list of strings, each its own allocation (zero-filled: empty). */
struct strlist {
    char **v;
    size_t n, cap;
};
/* Append a copy of p[0..n) (out of memory: exit 2 naming `opt`). */
void strlist_add(struct strlist *l, const char *opt, const char *p,
                 size_t n);
void strlist_free(struct strlist *l);
/* fn(where, line, len) for each line of `file` with '#' and what
 * follows cut off (not trimmed); `where` is "OPT FILE:LINE" for
 * messages.  An unreadable file, or one over 16 MiB, exits 2. */
void args_lines(const char *opt, const char *file,
                void (*fn)(const char *where, const char *p, size_t n));
void args_free(struct hscan_config *cfg);

#endif
