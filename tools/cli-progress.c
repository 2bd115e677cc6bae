/* cli-progress.c: hscan-cli's live status line and its end-of-run table
 * (see cli.h; docs/cli.md "Progress" and "Summary table").
 *
 * Everything here runs on the CLI's one loop thread: a timer redraws the
 * status a few times a second from hscan_stats(), and the total is
 * counted from the input files in small slices between loop iterations
 * (an idle handle), so the scan starts at once and no thread is added.
 * Every handle is unreferenced: progress never keeps the loop alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hscan.h>

#include "cli.h"

#define TICK_MS 250         /* redraw on a terminal */
#define PLAIN_MS 2000       /* forced onto a pipe or file: a line this often */
#define WINDOW 20           /* ticks in the recent rate: 5 s on a terminal */
#define PLAIN_WINDOW 3      /* ... and 6 s in whole lines */
#define COUNT_CHUNK (256 * 1024)    /* bytes counted per loop iteration */
#define LINE_MAX_TEXT 400

/* The lazy count of the targets in the input files. */
struct counter {
    char **files;
    int n_files, cur;
    int fd;                 /* file being counted, -1 between files */
    int own_fd;
    off_t off;
    off_t stdin_off;        /* where stdin stood at start */
    int skipping;           /* in the rest of an over-long line */
    size_t max_line;
    char *buf;
    size_t len;
    uint64_t records;       /* records the lines counted so far make */
    int done;               /* every file counted */
    int unknown;            /* a pipe or terminal: no total */
};

static struct {
    uv_loop_t *loop;
    hscan_t *scan;
    int active;             /* started and not stopped */
    int tty;                /* redraw in place; else whole lines */
    int out_tty;            /* records go to a terminal */
    int shown;              /* a status line is on the terminal */
    int hidden;             /* erased for a record: redraw at check */
    uv_timer_t timer;
    uv_idle_t idle;
    uv_check_t check;
    int counting;
    uint64_t t0;
    double user0, sys0;     /* CPU seconds used before the scan started */
    uint64_t ring_t[WINDOW], ring_n[WINDOW];
    unsigned ring_pos, ring_len, window;
    char text[LINE_MAX_TEXT + 16];    /* "\r" + status + "\033[K" */
    size_t text_len;
    struct counter cnt;
    unsigned per_input, shard_index, shard_count;
    uint64_t already_done;
    size_t paths;
    int all_ips;
    int64_t adjust;
    uint64_t (*weight)(const char *line, size_t len);
    /* results per status class: 1xx..5xx at 1..5, other at 6, none at 0 */
    uint64_t cls[7];
} P;

/* ---- writing to stderr ---- */

static void on_check(uv_check_t *c);

static void put(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;         /* a terminal that went away: nothing to do */
        s += w;
        n -= (size_t)w;
    }
}

void progress_clear(void)
{
    if (!P.shown)
        return;
    put("\r\033[K", 4);
    P.shown = 0;
}

/* Records are about to go to the terminal the status line is on: erase
 * it and draw it again below them once this loop iteration's records
 * are out, so the status stays the last line and records never share a
 * line with it. */
static void hide_for_output(void)
{
    if (!P.shown)
        return;
    progress_clear();
    if (!P.hidden) {
        P.hidden = 1;
        uv_check_start(&P.check, on_check);
    }
}

/* ---- the status text ---- */

/* A text being built in a fixed buffer; cut (never overrun) when full. */
struct text {
    char *b;
    size_t n, cap;
};

static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(t->b + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n = t->n + (size_t)k < t->cap ? t->n + (size_t)k : t->cap - 1;
}

static void add_duration(struct text *t, double secs)
{
    unsigned long s = secs > 0 ? (unsigned long)(secs + 0.5) : 0;

    if (s >= 3600)
        add(t, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        add(t, "%lu:%02lu", s / 60, s % 60);
}

/* The total, or -1 while it is unknown (still counting, or a pipe). */
static int64_t total(void)
{
    int64_t t;

    if (!P.cnt.done || P.cnt.unknown || P.all_ips)
        return -1;
    t = (int64_t)P.cnt.records + P.adjust - (int64_t)P.already_done;
    return t < 0 ? 0 : t;
}

/* Records per second over the last `window` ticks (from the start until
 * there are that many). */
static double recent_rate(uint64_t now, uint64_t done)
{
    uint64_t t_old = P.t0, n_old = 0;
    unsigned i;

    if (P.ring_len > 0) {
        i = (P.ring_pos + P.window - P.ring_len) % P.window;
        t_old = P.ring_t[i];
        n_old = P.ring_n[i];
    }
    P.ring_t[P.ring_pos] = now;
    P.ring_n[P.ring_pos] = done;
    P.ring_pos = (P.ring_pos + 1) % P.window;
    if (P.ring_len < P.window)
        P.ring_len++;
    if (now <= t_old)
        return 0;
    return (double)(done - n_old) * 1e9 / (double)(now - t_old);
}

static size_t compose(char *b, size_t cap, const hscan_stats_t *st,
                      uint64_t now)
{
    struct text t = { b, 0, cap };
    double secs = (double)(now - P.t0) / 1e9;
    double rate = recent_rate(now, st->finished);
    int64_t tot = total();
    int known = tot >= 0 && (uint64_t)tot >= st->finished;

    b[0] = '\0';
    if (known)
        add(&t, "%llu/%lld %.0f%% | ", (unsigned long long)st->finished,
            (long long)tot,
            tot ? 100.0 * (double)st->finished / (double)tot : 100.0);
    else
        add(&t, "%llu done | ", (unsigned long long)st->finished);
    add(&t, "%.0f hosts/s | ", rate);
    add_duration(&t, secs);
    if (known && rate > 0) {
        add(&t, ", ETA ");
        add_duration(&t, (double)((uint64_t)tot - st->finished) / rate);
    }
    add(&t, " | ok %llu, errors %llu | %u in flight | avg %.0f/s",
        (unsigned long long)st->ok, (unsigned long long)st->errors,
        st->in_flight, secs > 0 ? (double)st->finished / secs : 0.0);
    return t.n;
}

static size_t term_width(void)
{
    struct winsize ws;

    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        return ws.ws_col;
    return 80;
}

static void draw(void)
{
    hscan_stats_t st;
    uint64_t now = uv_hrtime();
    size_t n, width;

    hscan_stats(P.scan, &st);
    if (!P.tty) {
        char line[LINE_MAX_TEXT + 32];
        memcpy(line, "hscan: progress ", 16);
        n = 16 + compose(line + 16, LINE_MAX_TEXT, &st, now);
        line[n++] = '\n';
        put(line, n);
        return;
    }
    P.text[0] = '\r';
    n = compose(P.text + 1, LINE_MAX_TEXT, &st, now);
    /* Text that reached the last column would wrap on some terminals,
     * and "\r" then returns to the wrong line. */
    width = term_width() - 1;
    if (n > width)
        n = width;
    memcpy(P.text + 1 + n, "\033[K", 3);
    P.text_len = n + 4;
    P.hidden = 0;
    put(P.text, P.text_len);
    P.shown = 1;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    if (P.scan)
        draw();
}

static void on_check(uv_check_t *c)
{
    uv_check_stop(c);
    if (P.hidden && P.active) {
        P.hidden = 0;
        put(P.text, P.text_len);
        P.shown = 1;
    }
}

/* ---- counting the total ---- */

/* With --scheme both a line makes two records, unless it names its
 * scheme or port 80 or 443 (then one, as lib/scan.c launches it); an
 * invalid line makes one, which this does not try to tell. */
static unsigned per_line(const char *s, size_t n)
{
    const char *end, *colon = NULL;
    size_t i, hn;
    unsigned long port = 0;

    if (P.per_input < 2)
        return 1;
    for (i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return 1;
    for (hn = 0; hn < n && s[hn] != '/' && s[hn] != '?' && s[hn] != '#';
         hn++)
        ;
    end = s + hn;
    if (hn > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', hn);
        if (rb && rb + 1 < end && rb[1] == ':')
            colon = rb + 1;
    } else {
        colon = memchr(s, ':', hn);
    }
    if (!colon)
        return 2;
    for (colon++; colon < end && *colon >= '0' && *colon <= '9'; colon++)
        port = port < 100000 ? port * 10 + (unsigned long)(*colon - '0')
                             : port;
    return port == 80 || port == 443 ? 1 : 2;
}

uint64_t progress_shard_weight(const char *line, size_t len)
{
    if (P.shard_count > 1 &&
        hscan_shard_of(line, len, P.shard_count) != P.shard_index)
        return 0;
    return 1;
}

static void count_line(const char *s, size_t n)
{
    uint64_t w;

    cli_trim(&s, &n);
    if (n == 0 || s[0] == '#')
        return;
    w = P.weight ? P.weight(s, n) : progress_shard_weight(s, n);
    P.cnt.records += w * per_line(s, n) * P.paths;
}

/* The lines in buf[0..len): complete ones, and at `eof` the last one.
 * A line is cut at max_line + 1 bytes as hscan-cli's take_line() hands
 * it over (the shard of such a line depends on the cut). */
static void count_buf(struct counter *c, int eof)
{
    char *s = c->buf, *end = c->buf + c->len, *nl;

    while (s < end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl && !eof) {
            if ((size_t)(end - s) > c->max_line && !c->skipping) {
                count_line(s, c->max_line + 1);
                c->skipping = 1;
            }
            if (c->skipping)
                s = end;
            break;
        }
        if (!c->skipping) {
            size_t n = (size_t)((nl ? nl : end) - s);
            count_line(s, n > c->max_line ? c->max_line + 1 : n);
        }
        c->skipping = 0;
        s = nl ? nl + 1 : end;
    }
    c->len = (size_t)(end - s);
    memmove(c->buf, s, c->len);
}

static void count_finish(int unknown)
{
    struct counter *c = &P.cnt;

    if (c->own_fd && c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->unknown = unknown;
    c->done = 1;
    free(c->buf);
    c->buf = NULL;
    if (P.counting) {
        uv_idle_stop(&P.idle);
        P.counting = 0;
    }
}

/* Open the next file to count.  0: opened; 1: all counted; -1: a pipe
 * or terminal, whose length cannot be known ahead. */
static int count_open(struct counter *c)
{
    struct stat st;
    const char *name;

    for (;;) {
        if (c->cur >= c->n_files)
            return 1;
        name = c->files[c->cur++];
        c->len = 0;
        c->skipping = 0;
        if (strcmp(name, "-") == 0) {
            c->fd = 0;
            c->own_fd = 0;
            c->off = c->stdin_off;
        } else {
            c->fd = open(name, O_RDONLY | O_CLOEXEC);
            c->own_fd = 1;
            c->off = 0;
            if (c->fd < 0)
                continue;   /* hscan-cli reports it; it makes no record */
        }
        if (fstat(c->fd, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
        return -1;
    }
}

/* One slice: at most COUNT_CHUNK bytes, then back to the loop. */
static void count_step(struct counter *c)
{
    ssize_t n;
    int rc;

    if (c->fd < 0) {
        rc = count_open(c);
        if (rc != 0) {
            count_finish(rc < 0);
            return;
        }
    }
    do {
        n = pread(c->fd, c->buf + c->len, COUNT_CHUNK - c->len, c->off);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->off += n;
        c->len += (size_t)n;
        count_buf(c, 0);
        return;
    }
    count_buf(c, 1);    /* the last line, even without a newline */
    if (n < 0) {
        count_finish(1);    /* unreadable: hscan-cli reports it */
        return;
    }
    if (c->own_fd)
        close(c->fd);
    c->fd = -1;
}

static void on_idle(uv_idle_t *h)
{
    (void)h;
    if (!P.cnt.done)
        count_step(&P.cnt);
}

/* ---- life cycle ---- */

/* User and system CPU seconds of the process so far. */
static void cpu_seconds(double *user, double *sys)
{
    struct rusage ru;

    *user = *sys = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
        *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    }
}

static int progress_wanted(int mode, int quiet)
{
    if (mode == PROGRESS_OFF)
        return 0;
    return mode == PROGRESS_ON || (!quiet && isatty(2));
}

void progress_set_weight(uint64_t (*fn)(const char *line, size_t len))
{
    P.weight = fn;
}

void progress_add_total(int64_t n)
{
    P.adjust += n;
}

int progress_start(uv_loop_t *loop, hscan_t *scan,
                   const struct progress_cfg *cfg)
{
    P.scan = scan;
    P.t0 = uv_hrtime();
    cpu_seconds(&P.user0, &P.sys0);
    if (!progress_wanted(cfg->mode, cfg->quiet))
        return 0;
    P.loop = loop;
    P.tty = isatty(2);
    P.window = P.tty ? WINDOW : PLAIN_WINDOW;
    P.out_tty = cfg->out_tty;
    P.per_input = cfg->per_input ? cfg->per_input : 1;
    P.shard_index = cfg->shard_index;
    P.shard_count = cfg->shard_count;
    P.already_done = cfg->already_done;
    P.paths = cfg->paths ? cfg->paths : 1;
    P.all_ips = cfg->all_ips;
    P.cnt.files = cfg->files;
    P.cnt.n_files = cfg->n_files;
    P.cnt.fd = -1;
    P.cnt.max_line = cfg->max_line;
    P.cnt.stdin_off = lseek(0, 0, SEEK_CUR);
    if (P.cnt.stdin_off < 0)
        P.cnt.stdin_off = 0;
    P.cnt.buf = malloc(COUNT_CHUNK);
    if (!P.cnt.buf || cfg->max_line >= COUNT_CHUNK)
        count_finish(1);
    uv_timer_init(loop, &P.timer);
    uv_idle_init(loop, &P.idle);
    uv_check_init(loop, &P.check);
    uv_timer_start(&P.timer, on_tick, P.tty ? TICK_MS : PLAIN_MS,
                   P.tty ? TICK_MS : PLAIN_MS);
    if (!P.cnt.done) {
        uv_idle_start(&P.idle, on_idle);
        P.counting = 1;
    }
    uv_unref((uv_handle_t *)&P.timer);
    uv_unref((uv_handle_t *)&P.idle);
    uv_unref((uv_handle_t *)&P.check);
    P.active = 1;
    /* exit() from anywhere (an out-of-memory message, a usage error
     * after start) must not leave a half line on the terminal */
    atexit(progress_clear);
    return 1;
}

void progress_result(const hscan_result_t *r)
{
    int s = r->status;

    P.cls[s <= 0 ? 0 : s >= 100 && s < 600 ? s / 100 : 6]++;
    if (P.out_tty && P.shown)
        hide_for_output();
}

void progress_stop(void)
{
    if (!P.active)
        return;
    P.active = 0;
    progress_clear();
    if (!P.cnt.done)
        count_finish(1);
    uv_close((uv_handle_t *)&P.timer, NULL);
    uv_close((uv_handle_t *)&P.idle, NULL);
    uv_close((uv_handle_t *)&P.check, NULL);
}

/* ---- the summary table ---- */

static void put_ms(double ms, uint64_t count)
{
    if (count == 0)
        fprintf(stderr, " %8s", "-");
    else if (ms < 10)
        fprintf(stderr, " %8.2f", ms);
    else if (ms < 1000)
        fprintf(stderr, " %8.1f", ms);
    else
        fprintf(stderr, " %8.0f", ms);
}

static void table_status(void)
{
    static const char *names[7] = { "none", "1xx", "2xx", "3xx", "4xx",
                                    "5xx", "other" };
    static const int order[7] = { 1, 2, 3, 4, 5, 6, 0 };
    int i;

    fprintf(stderr, "  %-10s", "status");
    for (i = 0; i < 7; i++)
        fprintf(stderr, " %8s", names[order[i]]);
    fprintf(stderr, "\n  %-10s", "records");
    for (i = 0; i < 7; i++)
        fprintf(stderr, " %8llu", (unsigned long long)P.cls[order[i]]);
    fputc('\n', stderr);
}

/* Error names by count, most first, wrapped under their label. */
static void table_errors(const hscan_stats_t *st)
{
    size_t done[HSCAN_STATS_MAX_ERRORS] = { 0 };
    size_t i, k, col = 13, best;

    fprintf(stderr, "  %-10s", "errors");
    if (st->n_errors == 0)
        fprintf(stderr, " none");
    for (k = 0; k < st->n_errors; k++) {
        char item[64];
        int n;
        best = st->n_errors;
        for (i = 0; i < st->n_errors; i++)
            if (!done[i] && (best == st->n_errors ||
                             st->by_error[i].count >
                                 st->by_error[best].count))
                best = i;
        done[best] = 1;
        n = snprintf(item, sizeof(item), " %s %llu%s",
                     hscan_err_name(st->by_error[best].code),
                     (unsigned long long)st->by_error[best].count,
                     k + 1 < st->n_errors ? "," : "");
        if (col + (size_t)n > 78 && col > 13) {
            fprintf(stderr, "\n  %-10s", "");
            col = 13;
        }
        fputs(item, stderr);
        col += (size_t)n;
    }
    fputc('\n', stderr);
}

static void table_timing(const hscan_stats_t *st)
{
    const struct { const char *name; const hscan_latency_t *l; } rows[] = {
        { "total", &st->total }, { "dns", &st->dns },
        { "connect", &st->connect }, { "tls", &st->tls },
        { "ttfb", &st->ttfb },
    };
    size_t i;

    fprintf(stderr, "  %-10s %8s %8s %8s %8s %8s\n", "timing ms", "p50",
            "p90", "p99", "max", "count");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const hscan_latency_t *l = rows[i].l;
        fprintf(stderr, "  %-10s", rows[i].name);
        put_ms(l->p50_ms, l->count);
        put_ms(l->p90_ms, l->count);
        put_ms(l->p99_ms, l->count);
        put_ms(l->max_ms, l->count);
        fprintf(stderr, " %8llu\n", (unsigned long long)l->count);
    }
}

void progress_table(const hscan_stats_t *st, double secs,
                    unsigned long rss_kib)
{
    double user, sys, cpu;

    progress_clear();
    table_status();
    table_errors(st);
    table_timing(st);
    fprintf(stderr, "  %-10s %.0f (%llu records in %.2f s)\n", "hosts/s",
            secs > 0 ? (double)st->finished / secs : 0.0,
            (unsigned long long)st->finished, secs);
    /* The scan's share: start-up (OpenSSL, a --resume load) is left
     * out so that the percentage is of the wall time above. */
    cpu_seconds(&user, &sys);
    user -= P.user0;
    sys -= P.sys0;
    cpu = user + sys;
    fprintf(stderr, "  %-10s %.2f s user + %.2f s sys, %.0f%% of one core, "
            "%.3f ms/record\n", "CPU", user, sys,
            secs > 0 ? 100 * cpu / secs : 0.0,
            st->finished ? 1000 * cpu / (double)st->finished : 0.0);
    if (rss_kib)
        fprintf(stderr, "  %-10s %.1f MiB peak RSS\n", "memory",
                (double)rss_kib / 1024);
}
