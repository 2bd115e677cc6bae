/* cli-format.c: hscan-cli's output formats (see cli.h): JSON Lines, CSV
 * and a human table, with --fields and --header NAME columns.
 *
 * JSON is the library's record unchanged.  CSV rows and the table's
 * cells come from hscan_result_to_csv() and hscan_result_field(), so the
 * meaning of a column is the library's, documented once.  The table is
 * for a person at a terminal: a server controls most of what it shows,
 * so every cell is cleaned (control bytes, invalid UTF-8, bidi controls)
 * and cut to a fixed width before it reaches the screen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <hscan.h>

#include "cli.h"
#include "../lib/utf8.h"

#define MAX_COLS 64
#define SEP 2                   /* spaces between table columns */
#define CELL_MAX 8192           /* bytes of one value looked at */
#define WIDTH_DEFAULT 120
#define WIDTH_MIN 20
#define WIDTH_MAX 4096

enum { FMT_AUTO, FMT_JSON, FMT_CSV, FMT_TABLE };
enum { R_PLAIN, R_URL, R_DATE, R_MS };

static const char *const csv_default[] = {
    "input", "url", "status", "title", "server", "content_type",
    "content_length", "tls_not_after", "total_ms", "error"
};
static const char *const table_default[] = {
    "status", "final_url", "server", "title", "tls_not_after", "total_ms",
    "error"
};

/* How the table shows a field: a label, a width range (max 0: no cap)
 * and a share of the spare width; fields not listed get generic ones. */
static const struct spec {
    const char *field, *label;
    int min, max, weight, right, render;
} specs[] = {
    { "status", "STATUS", 6, 6, 0, 0, R_PLAIN },
    { "final_url", "URL", 24, 0, 5, 0, R_URL },
    { "url", "URL", 24, 0, 5, 0, R_URL },
    { "server", "SERVER", 8, 20, 2, 0, R_PLAIN },
    { "title", "TITLE", 10, 0, 3, 0, R_PLAIN },
    { "tls_not_after", "TLS EXPIRY", 10, 10, 0, 0, R_DATE },
    { "total_ms", "MS", 7, 7, 0, 1, R_MS },
    { "error", "ERROR", 12, 19, 3, 0, R_PLAIN },   /* longest name: 19 */
    { "audit_passed", "AUDIT", 5, 5, 0, 0, R_PLAIN },
};

struct col {
    const char *field;
    char label[64];
    int min, max, weight, right, render;
    int width;
};

static struct {
    int format;
    const char *fields[MAX_COLS];   /* --fields, in order */
    size_t n_fields;
    char *columns[MAX_COLS];        /* --header NAME: "header:NAME" */
    size_t n_columns;
    char *fields_copy[MAX_COLS];    /* --fields arguments, split */
    size_t n_copies;
    const char *cols[MAX_COLS];     /* what is written */
    size_t n_cols;
    struct col tcol[MAX_COLS];
    int width, colour;
    char *buf;                      /* one record's text */
    size_t cap;
    char cell[CELL_MAX];
} F;

static void fmt_die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hscan-cli: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'hscan-cli --help'.\n");
    exit(2);
}

/* Room for `n` bytes of record text.  Out of memory ends the program, as
 * it always has for the JSON record. */
static void reserve(size_t n)
{
    char *b;

    if (n <= F.cap)
        return;
    if (!(b = realloc(F.buf, n))) {
        fprintf(stderr, "hscan-cli: out of memory\n");
        exit(1);
    }
    F.buf = b;
    F.cap = n;
}

/* ---- options ---- */

void fmt_opt_format(const char *v)
{
    static const char *names[] = { "json", "csv", "table" };
    int i;

    for (i = 0; i < 3; i++)
        if (strcmp(v, names[i]) == 0) {
            F.format = FMT_JSON + i;
            return;
        }
    fmt_die("--format: '%s' is not one of json, csv, table", v);
}

static void check_room(const char *opt)
{
    if (F.n_fields + F.n_columns >= MAX_COLS)
        fmt_die("%s: more than %d columns", opt, MAX_COLS);
}

void fmt_opt_fields(const char *v)
{
    char *copy, *p, *save = NULL;
    size_t n = 0;

    if (F.n_copies == MAX_COLS)
        fmt_die("--fields: given more than %d times", MAX_COLS);
    if (!(copy = strdup(v)))
        fmt_die("out of memory");
    F.fields_copy[F.n_copies++] = copy;
    for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *end = p + strlen(p);
        while (*p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            *--end = '\0';
        if (!*p)
            continue;
        if (!hscan_field_valid(p))
            fmt_die("--fields: '%s' is not a field; the fields are\n  %s\n"
                    "  and header:NAME (a response header)", p, HSCAN_FIELDS);
        check_room("--fields");
        F.fields[F.n_fields++] = p;
        n++;
    }
    if (n == 0)
        fmt_die("--fields: '%s' names no field", v);
}

/* --header NAME (no colon): a response-header column.  The value has
 * already been told apart from a request header 'Name: value'. */
void fmt_opt_column(const char *v)
{
    char *f = malloc(strlen(v) + 8);

    if (!f)
        fmt_die("out of memory");
    sprintf(f, "header:%s", v);
    if (!*v || !hscan_field_valid(f)) {
        free(f);
        fmt_die("--header: '%s' is neither a request header 'Name: value' "
                "nor a header name\n  (a token: letters, digits, "
                "!#$%%&'*+-.^_`|~) to show as a column", v);
    }
    check_room("--header");
    F.columns[F.n_columns++] = f;
}

/* ---- choosing ---- */

static void build_columns(const struct hscan_config *cfg)
{
    size_t i;

    if (F.n_fields) {
        for (i = 0; i < F.n_fields; i++)
            F.cols[F.n_cols++] = F.fields[i];
    } else if (F.format == FMT_CSV) {
        for (i = 0; i < sizeof(csv_default) / sizeof(csv_default[0]); i++)
            F.cols[F.n_cols++] = csv_default[i];
        if (cfg->audit) {
            F.cols[F.n_cols++] = "audit_passed";
            F.cols[F.n_cols++] = "audit_missing";
        }
    } else {
        for (i = 0; i < sizeof(table_default) / sizeof(table_default[0]);
             i++)
            F.cols[F.n_cols++] = table_default[i];
        if (cfg->audit) {   /* before ERROR, which takes what is left */
            F.cols[F.n_cols - 1] = "audit_passed";
            F.cols[F.n_cols++] = "error";
        }
    }
    for (i = 0; i < F.n_columns && F.n_cols < MAX_COLS; i++)
        F.cols[F.n_cols++] = F.columns[i];
}

void fmt_choose(const struct hscan_config *cfg, int to_file,
                const char *resume)
{
    int columns = F.n_fields || F.n_columns;

    if (F.format == FMT_AUTO) {
        /* Columns asked for are never silently dropped: JSON already
         * holds every field, so a pipe gets them as CSV. */
        if (!to_file && isatty(1))
            F.format = FMT_TABLE;
        else
            F.format = columns ? FMT_CSV : FMT_JSON;
    }
    if (F.format == FMT_JSON && columns)
        fmt_die("%s %s: JSON records always carry every field (select "
                "with jq);\n  columns are for -f csv and -f table",
                F.n_fields ? "--fields" : "--header",
                F.n_fields ? F.fields[0] : F.columns[0] + 7);
    if (resume && F.format != FMT_JSON)
        fmt_die("--resume %s: it reads an earlier run's JSON Lines; %s "
                "output cannot be resumed (use -f json)", resume,
                F.format == FMT_CSV ? "CSV" : "table");
    if (F.format != FMT_JSON)
        build_columns(cfg);
}

/* ---- the table: display width of server bytes ---- */

static int in(unsigned cp, unsigned lo, unsigned hi)
{
    return cp >= lo && cp <= hi;
}

/* Code points a terminal would act on rather than show: C1 controls
 * (some terminals take U+009B as CSI), bidi embeddings, overrides and
 * isolates (they reorder the rest of the line), line separators. */
static int dangerous(unsigned cp)
{
    return in(cp, 0x80, 0x9f) || cp == 0x061c || in(cp, 0x200e, 0x200f) ||
           in(cp, 0x2028, 0x202e) || in(cp, 0x2066, 0x2069) ||
           cp == 0xfeff;
}

/* Columns a code point takes: the common wide (East Asian, emoji) and
 * zero-width (combining) ranges; an approximation of wcwidth() that
 * needs no locale. */
static int cp_width(unsigned cp)
{
    if (in(cp, 0x0300, 0x036f) || in(cp, 0x1ab0, 0x1aff) ||
        in(cp, 0x1dc0, 0x1dff) || in(cp, 0x200b, 0x200d) ||
        in(cp, 0x20d0, 0x20ff) || in(cp, 0xfe00, 0xfe0f) ||
        in(cp, 0xfe20, 0xfe2f))
        return 0;
    if (in(cp, 0x1100, 0x115f) || in(cp, 0x2e80, 0x303e) ||
        in(cp, 0x3041, 0x33ff) || in(cp, 0x3400, 0x4dbf) ||
        in(cp, 0x4e00, 0x9fff) || in(cp, 0xa000, 0xa4cf) ||
        in(cp, 0xac00, 0xd7a3) || in(cp, 0xf900, 0xfaff) ||
        in(cp, 0xfe30, 0xfe4f) || in(cp, 0xff00, 0xff60) ||
        in(cp, 0xffe0, 0xffe6) || in(cp, 0x1f300, 0x1f64f) ||
        in(cp, 0x1f900, 0x1f9ff) || in(cp, 0x20000, 0x3fffd))
        return 2;
    return 1;
}

#define REPLACEMENT "\xef\xbf\xbd"      /* U+FFFD */
#define ELLIPSIS "\xe2\x80\xa6"         /* U+2026 */

/* One character of a value as shown: `*out`/`*out_len` the bytes to
 * write, `*w` its width.  Returns the bytes of `s` it stands for. */
static size_t show_char(const char *s, size_t n, const char **out,
                        size_t *out_len, int *w)
{
    unsigned char c = (unsigned char)s[0];
    uint32_t cp;
    size_t k;

    *w = 1;
    *out = s;
    *out_len = 1;
    if (c >= 0x20 && c < 0x7f)
        return 1;
    if (c == '\t') {
        *out = " ";
        return 1;
    }
    k = c >= 0x80 ? hscan__utf8_seq((const unsigned char *)s, n, &cp) : 0;
    if (k == 0 || dangerous(cp)) {
        *out = REPLACEMENT;
        *out_len = 3;
        return k ? k : 1;
    }
    *out_len = k;
    *w = cp_width(cp);
    return k;
}

struct line {
    char *p;
    size_t len;
};

static void lput(struct line *l, const char *s, size_t n)
{
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void pad(struct line *l, int n)
{
    for (; n > 0; n--)
        l->p[l->len++] = ' ';
}

/* Write `s` cut to `width` columns (an ellipsis marks the cut; `more`
 * says the value went on past `n`); returns the columns written.  At
 * most 4 bytes per column are taken, so a flood of zero-width marks is
 * cut too and the line buffer's size holds. */
static int put_cell(struct line *l, const char *s, size_t n, int more,
                    int width)
{
    const char *o;
    size_t i = 0, ol, k, bytes = 0, budget = (size_t)width * 4;
    int w, used = 0, fits = !more;

    for (i = 0; i < n && fits; i += k) {     /* does it all fit? */
        k = show_char(s + i, n - i, &o, &ol, &w);
        used += w;
        bytes += ol;
        fits = used <= width && bytes <= budget;
    }
    used = 0;
    bytes = 0;
    for (i = 0; i < n; i += k) {
        k = show_char(s + i, n - i, &o, &ol, &w);
        if (!fits && (used + w > width - 1 || bytes + ol > budget - 3))
            break;
        lput(l, o, ol);
        used += w;
        bytes += ol;
    }
    if (!fits && width > 0) {
        lput(l, ELLIPSIS, 3);
        used++;
    }
    return used;
}

/* ---- the table: layout ---- */

static void col_init(struct col *c, const char *field)
{
    size_t i, n;

    memset(c, 0, sizeof(*c));
    c->field = field;
    for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (strcmp(specs[i].field, field) == 0) {
            snprintf(c->label, sizeof(c->label), "%s", specs[i].label);
            c->min = specs[i].min;
            c->max = specs[i].max;
            c->weight = specs[i].weight;
            c->right = specs[i].right;
            c->render = specs[i].render;
            return;
        }
    if (strncmp(field, "header:", 7) == 0) {
        snprintf(c->label, sizeof(c->label), "%s", field + 7);
    } else {
        for (i = 0; field[i] && i + 1 < sizeof(c->label); i++)
            c->label[i] = field[i] >= 'a' && field[i] <= 'z'
                              ? (char)(field[i] - 32) : field[i];
        n = strlen(field);
        c->right = strcmp(field, "port") == 0 || strcmp(field, "id") == 0 ||
                   strcmp(field, "redirects") == 0 ||
                   strcmp(field, "content_length") == 0 ||
                   strcmp(field, "tls_days_left") == 0 ||
                   (n > 3 && strcmp(field + n - 3, "_ms") == 0);
        if (n > 3 && strcmp(field + n - 3, "_ms") == 0)
            c->render = R_MS;
    }
    n = strlen(c->label);
    c->min = n < 4 ? 4 : n > 16 ? 16 : (int)n;
    c->weight = 1;
}

/* Fixed widths for the whole run: every column its minimum, then the
 * spare columns one at a time to the column whose growth is furthest
 * below its share ((width - min) / weight), up to its cap.  Too narrow
 * a terminal shrinks the stretchable columns; render_row() still cuts
 * at `total`. */
static void fit(struct col *c, size_t n, int total)
{
    int avail = total - SEP * (int)(n ? n - 1 : 0), sum = 0;
    size_t i, best;

    for (i = 0; i < n; i++)
        sum += c[i].width = c[i].min;
    while (sum > avail) {
        best = n;
        for (i = 0; i < n; i++)
            if (c[i].weight && c[i].width > 3 &&
                (best == n || c[i].width > c[best].width))
                best = i;
        if (best == n)
            break;
        c[best].width--;
        sum--;
    }
    while (sum < avail) {
        best = n;
        for (i = 0; i < n; i++) {
            if (!c[i].weight || (c[i].max && c[i].width >= c[i].max))
                continue;
            if (best == n ||
                (long)(c[i].width - c[i].min) * c[best].weight <
                    (long)(c[best].width - c[best].min) * c[i].weight)
                best = i;
        }
        if (best == n)
            break;
        c[best].width++;
        sum++;
    }
}

static int terminal_width(int fd)
{
    const char *e = getenv("COLUMNS");
    struct winsize ws;
    long v;

    if (e && *e) {
        char *end;
        v = strtol(e, &end, 10);
        if (*end == '\0' && v > 0)
            return v < WIDTH_MIN ? WIDTH_MIN : v > WIDTH_MAX ? WIDTH_MAX
                                                             : (int)v;
    }
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col < WIDTH_MIN ? WIDTH_MIN : ws.ws_col;
    return WIDTH_DEFAULT;
}

static const char *status_colour(const char *v)
{
    switch (v[0]) {
    case '2': return "\033[32m";
    case '3': return "\033[36m";
    case '4': return "\033[33m";
    case '5': return "\033[31m";
    }
    return NULL;
}

/* The text shown for column `c` of `r` into F.cell; returns its length
 * (`*more`: the value went on past what F.cell holds). */
static size_t cell_text(const struct col *c, const hscan_result_t *r,
                        int *more)
{
    size_t len = 0;
    double ms;

    hscan_result_field(r, c->field, F.cell, sizeof(F.cell), &len);
    if (c->render == R_URL && len == 0)
        hscan_result_field(r, "input", F.cell, sizeof(F.cell), &len);
    *more = len >= sizeof(F.cell);
    if (*more)
        len = sizeof(F.cell) - 1;
    if (c->render == R_DATE && len > 10 && F.cell[10] == 'T')
        len = 10;
    if (c->render == R_MS && len > 0) {
        ms = strtod(F.cell, NULL);
        len = (size_t)snprintf(F.cell, sizeof(F.cell),
                               ms < 100 ? "%.1f" : "%.0f", ms);
    }
    return len;
}

/* One table line: the header labels with `r` NULL.  Cells are padded
 * to their column (numbers to the right), cut at the terminal's width,
 * with no trailing blanks. */
static size_t render_row(const hscan_result_t *r)
{
    struct line l = { F.buf, 0 };
    int used = 0, w, shown, more;
    const char *colour, *text;
    size_t i, n;

    if (!r && F.colour)
        lput(&l, "\033[1m", 4);
    for (i = 0; i < F.n_cols; i++) {
        const struct col *c = &F.tcol[i];

        if (i) {
            if (F.width - used <= SEP)
                break;
            pad(&l, SEP);
            used += SEP;
        }
        w = c->width < F.width - used ? c->width : F.width - used;
        more = 0;
        n = r ? cell_text(c, r, &more) : strlen(c->label);
        text = r ? F.cell : c->label;
        colour = NULL;
        if (r && F.colour && n > 0)
            colour = strcmp(c->field, "status") == 0 ? status_colour(text)
                     : strcmp(c->field, "error") == 0 ? "\033[31m" : NULL;
        if (c->right && !more && (int)n < w) {  /* ASCII digits */
            pad(&l, w - (int)n);
            used += w - (int)n;
            w = (int)n;
        }
        if (colour)
            lput(&l, colour, strlen(colour));
        shown = put_cell(&l, text, n, more, w);
        if (colour)
            lput(&l, "\033[0m", 4);
        used += shown;
        if (i + 1 < F.n_cols) {
            pad(&l, w - shown);
            used += w - shown;
        }
    }
    while (l.len > 0 && l.p[l.len - 1] == ' ')
        l.len--;
    if (!r && F.colour)
        lput(&l, "\033[0m", 4);
    return l.len;
}

/* ---- writing ---- */

static int begin_table(struct out *o, const struct hscan_config *cfg)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    size_t i, need = 32;

    (void)cfg;
    F.width = terminal_width(o->fd);
    /* https://no-color.org: set and not empty disables colour */
    F.colour = isatty(o->fd) && !(nc && *nc) &&
               !(term && strcmp(term, "dumb") == 0);
    for (i = 0; i < F.n_cols; i++)
        col_init(&F.tcol[i], F.cols[i]);
    fit(F.tcol, F.n_cols, F.width);
    /* per column: padding, 4 bytes per column of text, an ellipsis,
     * colour codes, the separator */
    for (i = 0; i < F.n_cols; i++)
        need += (size_t)F.tcol[i].width * 5 + 3 + 16 + SEP;
    reserve(need);
    return out_put(o, F.buf, render_row(NULL));
}

/* A CSV row without its final LF: out_put() adds it, so the row still
 * ends in CRLF (RFC 4180 2.1) and the writer keeps whole lines. */
static int put_csv(struct out *o, const hscan_result_t *r)
{
    size_t n = hscan_result_to_csv(r, F.cols, F.n_cols, F.buf, F.cap);

    if (n >= F.cap) {
        reserve(n + 1024);
        hscan_result_to_csv(r, F.cols, F.n_cols, F.buf, F.cap);
    }
    return out_put(o, F.buf, n - 1);
}

int fmt_begin(struct out *o, const struct hscan_config *cfg)
{
    reserve(4096);
    switch (F.format) {
    case FMT_CSV: return put_csv(o, NULL);
    case FMT_TABLE: return begin_table(o, cfg);
    }
    return 0;
}

static int put_json(struct out *o, const hscan_result_t *r)
{
    size_t n = hscan_result_to_json(r, F.buf, F.cap);

    if (n >= F.cap) {
        reserve(n + 1024);
        hscan_result_to_json(r, F.buf, F.cap);
    }
    return out_put(o, F.buf, n);
}

int fmt_record(struct out *o, const struct hscan_result *r)
{
    switch (F.format) {
    case FMT_CSV: return put_csv(o, r);
    case FMT_TABLE: return out_put(o, F.buf, render_row(r));
    }
    return put_json(o, r);
}

void fmt_free(void)
{
    size_t i;

    for (i = 0; i < F.n_columns; i++)
        free(F.columns[i]);
    for (i = 0; i < F.n_copies; i++)
        free(F.fields_copy[i]);
    free(F.buf);
    memset(&F, 0, sizeof(F));
}
