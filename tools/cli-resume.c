/* cli-resume.c: --resume FILE (see cli.h and docs/robustness.md).
 *
 * The output file itself is the checkpoint: every complete line in it is
 * one finished input, so there is no second file to keep in step, and a
 * run killed by SIGKILL or the OOM killer resumes as well as one stopped
 * with Ctrl-C.  What is done is a hash set of the inputs' 64-bit hashes
 * with a count each (duplicated input lines are each scanned once per
 * occurrence), about 17 bytes per distinct finished input.
 *
 * With a path list or --all-ips one input makes many records, so what
 * is done is a unit: the hash of the record's input, path and (with
 * --all-ips) address, and the library asks about each unit before
 * probing it (cfg.unit_done).  The address of a unit is the one it
 * connected to first: a followed redirect's record shows the last
 * hop's in `ip`, the unit's in redirects[0].ip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define INPUT_MAX 16384     /* longer "input" values cannot be ours */

void cli_trim(const char **line, size_t *len)
{
    const char *s = *line;
    size_t n = *len;

    while (n > 0 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    *line = s;
    *len = n;
}

#define FNV_START 0xcbf29ce484222325ULL

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv_end(uint64_t h)
{
    h ^= h >> 33;                    /* spread FNV's low bits */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static uint64_t hash(const char *s, size_t n)
{
    return fnv_end(fnv(FNV_START, s, n));
}

/* A unit's key: input, path (NULL: none) and, for RESUME_IP, address
 * (NULL: none), each closed by a byte that says whether it was there. */
static uint64_t unit_hash(const struct done_set *ds, const char *in,
                          size_t n, const char *path, size_t path_len,
                          const char *ip, size_t ip_len)
{
    uint64_t h = fnv(FNV_START, in, n);

    h = fnv(h, path ? "\0\1" : "\0\2", 2);
    if (path)
        h = fnv(h, path, path_len);
    if (ds->units == RESUME_IP) {
        h = fnv(h, ip ? "\0\1" : "\0\2", 2);
        if (ip)
            h = fnv(h, ip, ip_len);
    }
    return fnv_end(h);
}

/* ---- the set ---- */

static size_t slot(const struct done_set *ds, uint64_t key)
{
    size_t i = (size_t)key & (ds->cap - 1);

    while (ds->keys[i] && ds->keys[i] != key)
        i = (i + 1) & (ds->cap - 1);
    return i;
}

static int grow(struct done_set *ds)
{
    struct done_set n = *ds;
    size_t i;

    n.cap = ds->cap ? ds->cap * 2 : 1024;
    n.keys = calloc(n.cap, sizeof(*n.keys));
    n.count = calloc(n.cap, sizeof(*n.count));
    if (!n.keys || !n.count) {
        free(n.keys);
        free(n.count);
        return -ENOMEM;
    }
    for (i = 0; i < ds->cap; i++) {
        if (ds->keys[i]) {
            size_t j = slot(&n, ds->keys[i]);
            n.keys[j] = ds->keys[i];
            n.count[j] = ds->count[i];
        }
    }
    free(ds->keys);
    free(ds->count);
    *ds = n;
    return 0;
}

static int add(struct done_set *ds, uint64_t key)
{
    size_t i;

    if ((ds->used + 1) * 10 > ds->cap * 7 && grow(ds) != 0)
        return -ENOMEM;
    i = slot(ds, key);
    if (!ds->keys[i]) {
        ds->keys[i] = key;
        ds->used++;
    }
    ds->count[i]++;
    return 0;
}

static uint32_t *count_of(struct done_set *ds, uint64_t key)
{
    size_t i;

    if (!ds->cap)
        return NULL;
    i = slot(ds, key);
    return ds->keys[i] ? &ds->count[i] : NULL;
}

/* ---- reading our own records ---- */

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A JSON string at p ('"'): decoded into out (at most cap bytes; NULL to
 * skip), its length in *n.  Returns the position after it, or NULL.
 * \u00XX is the byte XX: that is how the library writes bytes that are
 * not UTF-8 (docs/results.md). */
static const char *str(const char *p, const char *end, char *out, size_t cap,
                       size_t *n)
{
    size_t k = 0;

    if (p >= end || *p != '"')
        return NULL;
    for (p++; p < end && *p != '"'; p++) {
        unsigned c = (unsigned char)*p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= end)
                return NULL;
            switch (*p) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case '"': case '\\': case '/': c = (unsigned char)*p; break;
            case 'u': {
                int i, v;
                if (end - p < 5)
                    return NULL;
                for (c = 0, i = 1; i <= 4; i++) {
                    if ((v = hexval(p[i])) < 0)
                        return NULL;
                    c = c * 16 + (unsigned)v;
                }
                p += 4;
                if (c > 0xff)       /* we never write those */
                    return NULL;
                break;
            }
            default:
                return NULL;
            }
        }
        if (out) {
            if (k >= cap)
                return NULL;
            out[k] = (char)c;
        }
        k++;
    }
    if (p >= end)
        return NULL;
    *n = k;
    return p + 1;
}

/* Skip one JSON value (structure checked only as far as nesting). */
static const char *value(const char *p, const char *end)
{
    int depth = 0;
    size_t n;

    do {
        p = ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == '"') {
            if (!(p = str(p, end, NULL, 0, &n)))
                return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            if (--depth < 0)
                return NULL;
            p++;
        } else if (*p == ',' || *p == ':') {
            if (depth == 0)
                return NULL;
            p++;
        } else {
            const char *s = p;
            while (p < end && ((*p && strchr("+-.eE", *p)) || (*p >= '0' && *p <= '9') ||
                               (*p >= 'a' && *p <= 'z')))
                p++;
            if (p == s)
                return NULL;
        }
    } while (depth > 0);
    return p;
}

/* What a record says about its unit (with a path list or --all-ips). */
struct unit_keys {
    char *path;             /* INPUT_MAX bytes */
    size_t path_len, ip_len, hop_ip_len;
    int has_path, has_ip, has_hop_ip;
    char ip[64], hop_ip[64];
};

/* A string value into `out` (`has` 1), or null (`has` 0). */
static const char *str_or_null(const char *p, const char *end, char *out,
                               size_t cap, size_t *n, int *has)
{
    *has = p < end && *p == '"';
    if (*has)
        return str(p, end, out, cap, n);
    return value(p, end);
}

/* "redirects": an array; the first hop's "ip" into k->hop_ip. */
static const char *hops(const char *p, const char *end, struct unit_keys *k)
{
    size_t n;

    if (p >= end || *p != '[')
        return value(p, end);
    p = ws(p + 1, end);
    if (p < end && *p == ']')
        return p + 1;
    if (p >= end || *p++ != '{')
        return NULL;
    for (;;) {
        char key[16];
        p = ws(p, end);
        if (!(p = str(p, end, key, sizeof(key), &n)))
            return NULL;
        p = ws(p, end);
        if (p >= end || *p++ != ':')
            return NULL;
        p = ws(p, end);
        if (n == 2 && memcmp(key, "ip", 2) == 0)
            p = str_or_null(p, end, k->hop_ip, sizeof(k->hop_ip),
                            &k->hop_ip_len, &k->has_hop_ip);
        else
            p = value(p, end);
        if (!p)
            return NULL;
        p = ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p >= end || *p++ != '}')
            return NULL;
        break;
    }
    for (;;) {                      /* the other hops */
        p = ws(p, end);
        if (p < end && *p == ']')
            return p + 1;
        if (p >= end || *p++ != ',' || !(p = value(p, end)))
            return NULL;
    }
}

/* Parse one record line: its input (decoded into `in`), whether its
 * error is "canceled", and into `k` (when not NULL) its path and
 * addresses.  Returns 1 for a record of ours, 0 otherwise. */
static int parse_record(const char *p, const char *end, char *in,
                        size_t *in_len, int *canceled, struct unit_keys *k)
{
    int have_input = 0;
    size_t n;

    *canceled = 0;
    if (k)
        k->has_path = k->has_ip = k->has_hop_ip = 0;
    p = ws(p, end);
    if (p >= end || *p++ != '{')
        return 0;
    for (;;) {
        char key[16];
        p = ws(p, end);
        if (!(p = str(p, end, key, sizeof(key), &n)))
            return 0;
        p = ws(p, end);
        if (p >= end || *p++ != ':')
            return 0;
        p = ws(p, end);
        if (n == 5 && memcmp(key, "input", 5) == 0) {
            if (!(p = str(p, end, in, INPUT_MAX, in_len)))
                return 0;
            have_input = 1;
        } else if (n == 5 && memcmp(key, "error", 5) == 0 && p < end &&
                   *p == '"') {
            char e[16];
            if (!(p = str(p, end, e, sizeof(e), &n)))
                return 0;
            *canceled = n == 8 && memcmp(e, "canceled", 8) == 0;
        } else if (k && n == 4 && memcmp(key, "path", 4) == 0) {
            if (!(p = str_or_null(p, end, k->path, INPUT_MAX,
                                  &k->path_len, &k->has_path)))
                return 0;
        } else if (k && n == 2 && memcmp(key, "ip", 2) == 0) {
            if (!(p = str_or_null(p, end, k->ip, sizeof(k->ip),
                                  &k->ip_len, &k->has_ip)))
                return 0;
        } else if (k && n == 9 && memcmp(key, "redirects", 9) == 0) {
            if (!(p = hops(p, end, k)))
                return 0;
        } else if (!(p = value(p, end))) {
            return 0;
        }
        p = ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p >= end || *p++ != '}')
            return 0;
        return have_input && ws(p, end) == end;
    }
}

/* ---- loading ---- */

struct reader {
    FILE *f;
    char *line;
    size_t cap;
    ssize_t len;
    char *in;
    struct unit_keys *k;    /* with ds->units, else NULL */
};

/* The done-set key of the record just parsed into r->in (`n` bytes). */
static uint64_t key_of(const struct done_set *ds, const struct reader *r,
                       size_t n)
{
    const struct unit_keys *k = r->k;

    if (!ds->units)
        return hash(r->in, n);
    if (k->has_hop_ip)
        return unit_hash(ds, r->in, n, k->has_path ? k->path : NULL,
                         k->path_len, k->hop_ip, k->hop_ip_len);
    return unit_hash(ds, r->in, n, k->has_path ? k->path : NULL,
                     k->path_len, k->has_ip ? k->ip : NULL, k->ip_len);
}

/* The next complete line (with its '\n').  0 at the end; a last line
 * without '\n' (cut by a kill) is reported through *partial. */
static int next_line(struct reader *r, int *partial)
{
    r->len = getline(&r->line, &r->cap, r->f);
    if (r->len <= 0)
        return 0;
    if (r->line[r->len - 1] != '\n') {
        *partial = 1;
        return 0;
    }
    return 1;
}

static int rewrite(struct done_set *ds, const char *path, struct reader *r,
                   uint32_t *seen)
{
    char tmp[4096];
    int fd, partial = 0, canceled;
    FILE *w;
    size_t n;

    if (snprintf(tmp, sizeof(tmp), "%s.resume-tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || !(w = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "hscan-cli: --resume: cannot write %s: %s\n", tmp,
                strerror(e));
        return -e;
    }
    rewind(r->f);
    ds->kept = ds->dropped = 0;
    while (next_line(r, &partial)) {
        int keep = parse_record(r->line, r->line + r->len, r->in, &n,
                                &canceled, r->k) && !canceled;
        if (keep && ds->per_input > 1) {
            uint64_t h = key_of(ds, r, n);
            size_t i = slot(ds, h);
            /* an incomplete set: drop its last record, scan it again */
            if (ds->count[i] % ds->per_input && ++seen[i] == ds->count[i])
                keep = 0;
        }
        if (keep && fwrite(r->line, 1, (size_t)r->len, w) != (size_t)r->len)
            break;
        if (keep)
            ds->kept++;
        else
            ds->dropped++;
    }
    ds->dropped += partial;
    if (ferror(w) || fflush(w) != 0 || fsync(fileno(w)) != 0) {
        int e = errno ? errno : EIO;
        fclose(w);
        unlink(tmp);
        fprintf(stderr, "hscan-cli: --resume: writing %s: %s\n", tmp,
                strerror(e));
        return -e;
    }
    fclose(w);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        fprintf(stderr, "hscan-cli: --resume: renaming %s: %s\n", tmp,
                strerror(e));
        return -e;
    }
    return 0;
}

int resume_load(struct done_set *ds, const char *path, unsigned per_input,
                int units)
{
    struct reader r = { NULL, NULL, 0, 0, NULL, NULL };
    struct unit_keys k;
    int partial = 0, dirty = 0, canceled, rc = 0;
    size_t n, i;

    memset(ds, 0, sizeof(*ds));
    ds->per_input = per_input;
    ds->units = units;
    if (!(r.f = fopen(path, "r")))
        return errno == ENOENT ? 0 : (fprintf(stderr,
               "hscan-cli: --resume: cannot read %s: %s\n", path,
               strerror(errno)), -errno);
    r.in = malloc(INPUT_MAX);
    k.path = units ? malloc(INPUT_MAX) : NULL;
    r.k = units ? &k : NULL;
    if (!r.in || (units && !k.path)) {
        free(r.in);
        free(k.path);
        fclose(r.f);
        return -ENOMEM;
    }
    while (next_line(&r, &partial)) {
        if (!parse_record(r.line, r.line + r.len, r.in, &n, &canceled,
                          r.k) || canceled) {
            dirty = 1;
            ds->dropped++;
            continue;
        }
        if ((rc = add(ds, key_of(ds, &r, n))) != 0)
            goto out;
        ds->kept++;
    }
    dirty |= partial;
    for (i = 0; i < ds->cap && per_input > 1; i++)
        if (ds->keys[i] && ds->count[i] % per_input)
            dirty = 1;
    if (dirty) {
        uint32_t *seen = calloc(ds->cap ? ds->cap : 1, sizeof(*seen));
        if (!seen) {
            rc = -ENOMEM;
            goto out;
        }
        rc = rewrite(ds, path, &r, seen);
        free(seen);
        for (i = 0; i < ds->cap; i++)
            ds->count[i] -= ds->count[i] % per_input;
    }
out:
    free(r.line);
    free(r.in);
    free(units ? k.path : NULL);
    fclose(r.f);
    return rc;
}

/* ---- OUT.filtered: the records the filters kept out of OUT ---- */

long resume_load_filtered(struct done_set *ds, const char *path)
{
    struct reader r = { NULL, NULL, 0, 0, NULL, NULL };
    struct unit_keys k;
    int partial = 0, canceled, rc = 0;
    off_t good = 0;
    long done = 0;
    size_t n;

    if (!(r.f = fopen(path, "r")))
        return errno == ENOENT ? 0 : (fprintf(stderr,
               "hscan-cli: --resume: cannot read %s: %s\n", path,
               strerror(errno)), -errno);
    r.in = malloc(INPUT_MAX);
    k.path = ds->units ? malloc(INPUT_MAX) : NULL;
    r.k = ds->units ? &k : NULL;
    if (!r.in || (ds->units && !k.path))
        rc = -ENOMEM;
    while (rc == 0 && next_line(&r, &partial)) {
        good += r.len;
        if (!parse_record(r.line, r.line + r.len, r.in, &n, &canceled,
                          r.k) || canceled)
            continue;               /* scanned again, as in OUT */
        if ((rc = add(ds, key_of(ds, &r, n))) == 0)
            done++;
    }
    /* a line cut by a kill: cut it off, so the next one starts clean */
    if (rc == 0 && partial && truncate(path, good) != 0)
        rc = -errno;
    free(r.line);
    free(r.in);
    free(k.path);
    fclose(r.f);
    return rc ? rc : done;
}

int resume_take(struct done_set *ds, const char *line, size_t len, int bad)
{
    uint32_t *c;

    cli_trim(&line, &len);
    if (ds->units && bad)       /* the library never sees it as it is */
        return resume_take_unit(ds, line, len, NULL, NULL);
    if (ds->units || len == 0 || !(c = count_of(ds, hash(line, len))) ||
        *c < ds->per_input)
        return 0;
    *c -= ds->per_input;
    ds->skipped++;
    return 1;
}

/* The library asks once per record a unit would make, so each asking
 * takes one record (both schemes of --scheme both ask in turn). */
int resume_take_unit(struct done_set *ds, const char *input, size_t len,
                     const char *path, const char *ip)
{
    uint32_t *c = count_of(ds, unit_hash(ds, input, len, path,
                                         path ? strlen(path) : 0, ip,
                                         ip ? strlen(ip) : 0));

    if (!c || *c == 0)
        return 0;
    (*c)--;
    ds->skipped++;
    return 1;
}

void resume_free(struct done_set *ds)
{
    free(ds->keys);
    free(ds->count);
    memset(ds, 0, sizeof(*ds));
}
