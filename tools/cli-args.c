/* hscan-cli's command line taken literally: long options by their full
 * name only, each option at most once unless it is a list by design,
 * and the request options that need more than a pointer (--user,
 * -d/--data, --data-file).
 *
 * getopt_long() takes any unique prefix of a long option, so a typo or
 * another tool's habit silently meant something else: `--user
 * alice:pw` was --user-agent, `--time 1` --timeout.  It has no switch
 * to turn that off, so each long option it returns is compared with
 * the word as typed.  A second --path replaced the first just as
 * silently; now it makes a path list (cli-paths.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hscan.h>

#include "cli.h"

/* The options that may be given more than once: lists, accumulated in
 * order (docs/cli.md "Options").  Everything else once. */
static int repeatable(int c)
{
    switch (c) {
    case 'H': case 'd': case OPT_DATA_FILE: case OPT_RESOLVER:
    case OPT_PATH: case OPT_PATHS:
    case OPT_FIELDS: case OPT_MATCH_STATUS: case OPT_FILTER_STATUS:
    case OPT_MATCH_HEADER: case OPT_MATCH_ERROR: case OPT_EXCLUDE:
    case OPT_MATCH_STRING: case OPT_FILTER_STRING: case OPT_MATCH_REGEX:
    case OPT_FILTER_REGEX: case OPT_FILTER_HEADER: case OPT_MATCH_LENGTH:
    case OPT_FILTER_LENGTH: case OPT_MATCH_WORDS: case OPT_FILTER_WORDS:
    case OPT_MATCH_LINES: case OPT_FILTER_LINES: case OPT_MATCH_TIME:
    case OPT_FILTER_TIME: case OPT_EXTRACT:
    case OPT_SOURCE_IP:
        return 1;
    default:
        return 0;
    }
}

/* "--name" or "-c/--name" for the option whose getopt code is `c`. */
static const char *spell(const struct option *opts, int c, char *buf,
                         size_t size)
{
    size_t i;

    for (i = 0; opts[i].name; i++)
        if (opts[i].val == c) {
            if (c < 0x100)
                snprintf(buf, size, "-%c/--%s", c, opts[i].name);
            else
                snprintf(buf, size, "--%s", opts[i].name);
            return buf;
        }
    snprintf(buf, size, "-%c", c);
    return buf;
}

/* The option named exactly by "--NAME[=value]" `word`, or NULL. */
static const struct option *exact(const struct option *opts,
                                  const char *word)
{
    size_t n = strcspn(word + 2, "="), i;

    for (i = 0; opts[i].name; i++)
        if (strlen(opts[i].name) == n &&
            strncmp(opts[i].name, word + 2, n) == 0)
            return &opts[i];
    return NULL;
}

/* Refuse `word` (a "--name[=value]" that is no option's full name),
 * naming the options it could have meant: those it begins, then those
 * that hold it.  The value is never echoed (it may be a password). */
static void not_an_option(const struct option *opts, const char *word)
{
    char key[64], list[512] = "";
    size_t n = strcspn(word + 2, "="), i, used = 0;
    int pass, found = 0;

    snprintf(key, sizeof(key), "%.*s", (int)n, word + 2);
    for (pass = 0; pass < 2 && n > 0; pass++)
        for (i = 0; opts[i].name; i++) {
            const char *name = opts[i].name;
            int prefix = strncmp(name, word + 2, n) == 0;
            int hit = pass == 0 ? prefix
                                : !prefix && n >= 3 && n < sizeof(key) &&
                                      strstr(name, key) != NULL;
            if (!hit || used + strlen(name) + 5 >= sizeof(list))
                continue;
            used += (size_t)snprintf(list + used, sizeof(list) - used,
                                     "%s--%s", found++ ? ", " : "", name);
        }
    if (found)
        cli_die_usage("--%s: not an option (long options are never "
                      "abbreviated); did you mean %s?", key, list);
    cli_die_usage("--%s: not an option", key);
}

/* getopt_long() returned '?' or ':' (opterr is 0): say why our way. */
static void refused(const struct option *opts, const char *word, int c)
{
    const struct option *o;

    if (strncmp(word, "--", 2) != 0) {
        if (c == ':')
            cli_die_usage("-%c: needs a value", optopt);
        cli_die_usage("-%c: not an option", optopt);
    }
    if (!(o = exact(opts, word)))
        not_an_option(opts, word);
    if (c == ':')
        cli_die_usage("--%s: needs a value", o->name);
    cli_die_usage("--%s: takes no value", o->name);
}

void args_check(const struct option *opts, char **argv, int c,
                int longindex)
{
    static unsigned char seen[0x200];
    const char *word;
    char name[64];

    if (c == '?' || c == ':')
        refused(opts, argv[optind - 1], c);
    if (longindex >= 0) {
        word = argv[optind - 1];
        if (opts[longindex].has_arg == 1 && optarg == word)
            word = argv[optind - 2];    /* "--name value" */
        if (strncmp(word, "--", 2) != 0 ||
            exact(opts, word) != &opts[longindex])
            not_an_option(opts, word);
    }
    if (c >= 0 && c < (int)sizeof(seen) && seen[c]++ && !repeatable(c))
        cli_die_usage("%s: given twice (only -H/--header, -d/--data, "
                      "--data-file, --resolver, --exclude, --source-ip, "
                      "--path, --paths, --fields and the --match-* and "
                      "--filter-status lists are repeatable)",
                      spell(opts, c, name, sizeof(name)));
}

/* ---- --user ---- */

static char *user_copy;         /* reachable until args_free() */

void args_user(hscan_config_t *cfg, char *v)
{
    char *copy, *colon = strchr(v, ':');

    if (!colon)
        cli_die_usage("--user: needs USER:PASSWORD (hscan-cli never "
                      "prompts for a password)");
    if (!(copy = strdup(v)))
        cli_die_usage("out of memory");
    user_copy = copy;
    cfg->basic_auth = copy;
    /* Out of `ps` and /proc/PID/cmdline for the rest of the run, as
     * curl does; the copy is what the scanner is given. */
    memset(colon + 1, '*', strlen(colon + 1));
}

/* ---- -d/--data, --data-file ---- */

static struct {
    char *buf;
    size_t len, cap;
    int any;
} B;

static void body_put(const char *opt, const char *p, size_t n)
{
    size_t need = B.len + (B.any ? 1 : 0) + n;

    if (need > HSCAN_REQUEST_BODY_MAX)
        cli_die_usage("%s: the request body would be over %u bytes "
                      "(16 MiB, the bound)", opt, HSCAN_REQUEST_BODY_MAX);
    if (need + 1 > B.cap) {
        size_t c = need + 1 > 2 * B.cap ? need + 1 : 2 * B.cap;
        char *b = realloc(B.buf, c);
        if (!b)
            cli_die_usage("%s: out of memory", opt);
        B.buf = b;
        B.cap = c;
    }
    if (B.any)
        B.buf[B.len++] = '&';   /* several pieces join with &, as curl */
    if (n)
        memcpy(B.buf + B.len, p, n);
    B.len += n;
    B.buf[B.len] = '\0';
    B.any = 1;
}

/* The bytes of file `path`, at most the bound (plus one, to tell). */
static char *read_file(const char *opt, const char *path, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");

    if (strcmp(path, "-") == 0)
        cli_die_usage("%s: '-': stdin holds the targets; name a file", opt);
    if (!f)
        cli_die_usage("%s: cannot read '%s': %s", opt, path,
                      strerror(errno));
    for (;;) {
        if (!buf)
            cli_die_usage("%s: out of memory", opt);
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || n > HSCAN_REQUEST_BODY_MAX)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    if (ferror(f))
        cli_die_usage("%s: cannot read '%s': %s", opt, path,
                      strerror(errno));
    fclose(f);
    if (n > HSCAN_REQUEST_BODY_MAX)
        cli_die_usage("%s: '%s' is over %u bytes (16 MiB, the bound)", opt,
                      path, HSCAN_REQUEST_BODY_MAX);
    *len = n;
    return buf;
}

void args_data(int c, const char *v)
{
    const char *opt = c == 'd' ? "-d/--data" : "--data-file";
    size_t n, i, k = 0;
    char *f;

    if (c == 'd' && v[0] != '@') {
        body_put(opt, v, strlen(v));
        return;
    }
    f = read_file(opt, c == 'd' ? v + 1 : v, &n);
    /* -d @FILE drops CR and LF, as curl -d does (form data split
     * over lines); --data-file sends the bytes as they are, as curl
     * --data-binary @FILE. */
    for (i = 0; c == 'd' && i < n; i++)
        if (f[i] != '\r' && f[i] != '\n')
            f[k++] = f[i];
    body_put(opt, f, c == 'd' ? k : n);
    free(f);
}

/* ---- lists of strings, and files of one entry a line ---- */

void strlist_add(struct strlist *l, const char *opt, const char *p,
                 size_t n)
{
    char *e = malloc(n + 1);

    if (e && l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            free(e);
            e = NULL;
        } else {
            l->v = v;
            l->cap = cap;
        }
    }
    if (!e)
        cli_die_usage("%s: out of memory", opt);
    memcpy(e, p, n);
    e[n] = '\0';
    l->v[l->n++] = e;
}

void strlist_free(struct strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void args_lines(const char *opt, const char *file,
                void (*fn)(const char *where, const char *p, size_t n))
{
    char where[512];
    size_t n, i, line = 1;
    char *f = read_file(opt, file, &n);

    /* one entry a line; '#' to the end of the line is a comment */
    for (i = 0; i < n; line++) {
        size_t end = i, stop;
        while (end < n && f[end] != '\n')
            end++;
        for (stop = i; stop < end && f[stop] != '#'; stop++)
            ;
        snprintf(where, sizeof(where), "%s %.400s:%zu", opt, file, line);
        fn(where, f + i, stop - i);
        i = end + 1;
    }
    free(f);
}

/* ---- --exclude ---- */

static struct strlist X;

static void ignore_result(hscan_t *s, const hscan_result_t *r, void *a)
{
    (void)s;
    (void)r;
    (void)a;
}

/* Keep entry p[0..n) (blanks around it trimmed; none left: nothing),
 * refused by the library's own rule with `where` ("--exclude" or
 * "--exclude FILE:LINE") in the message. */
static void exclude_put(const char *where, const char *p, size_t n)
{
    hscan_config_t c;
    const char *field;
    char why[256];

    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (!n)
        return;
    strlist_add(&X, "--exclude", p, n);
    hscan_config_init(&c);
    c.on_result = ignore_result;
    c.exclude = (const char *const *)&X.v[X.n - 1];
    c.n_exclude = 1;
    if (hscan_config_check(&c, &field, why, sizeof(why)) != 0)
        cli_die_usage("%s: %s", where, why);
}

void args_exclude(const char *v)
{
    size_t n, before = X.n;

    if (v[0] != '@') {
        for (; *v; v += n + (v[n] == ',')) {
            n = strcspn(v, ",");
            exclude_put("--exclude", v, n);
        }
        if (X.n == before)
            cli_die_usage("--exclude: an empty list");
        return;
    }
    args_lines("--exclude", v + 1, exclude_put);
}

/* ---- -4/-6, --prefer-ipv4/--prefer-ipv6, --attempt-delay ---- */

static int delay_given;

void args_family(hscan_config_t *cfg, int c, const char *v)
{
    int *set = c == '4' || c == '6' ? &cfg->family : &cfg->prefer_family;
    int f = c == '4' || c == OPT_PREFER_IPV4 ? 4 : 6;

    if (c == OPT_ATTEMPT_DELAY) {
        cfg->attempt_delay_ms = parse_duration("--attempt-delay", v);
        delay_given = 1;
        return;
    }
    if (*set && *set != f)
        cli_die_usage(set == &cfg->family
                          ? "-4 and -6 exclude each other"
                          : "--prefer-ipv4 and --prefer-ipv6 exclude each "
                            "other");
    *set = f;
    /* -4 with --prefer-ipv4 is allowed: the preference is met */
    if (cfg->family && cfg->prefer_family &&
        cfg->family != cfg->prefer_family)
        cli_die_usage("-%d and --prefer-ipv%d exclude each other (-%d "
                      "connects over IPv%d only)", cfg->family,
                      cfg->prefer_family, cfg->family, cfg->family);
}

/* ---- client TLS options ---- */

static int tls_version(const char *opt, const char *v)
{
    static const char *const names[] = { "1.0", "1.1", "1.2", "1.3" };
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0)
            return HSCAN_TLS_1_0 + i;
    cli_die_usage("%s: '%s': must be 1.0, 1.1, 1.2 or 1.3", opt, v);
    return 0;
}

static const char *readable(const char *opt, const char *v)
{
    if (access(v, R_OK) != 0)
        cli_die_usage("%s: cannot read '%s'", opt, v);
    return v;
}

void args_tls(hscan_config_t *cfg, int c, const char *v)
{
    switch (c) {
    case OPT_SNI: cfg->sni = v; break;
    case OPT_NO_SNI: cfg->no_sni = 1; break;
    case OPT_TLS_MIN: cfg->tls_min = tls_version("--tls-min", v); break;
    case OPT_TLS_MAX: cfg->tls_max = tls_version("--tls-max", v); break;
    case OPT_CIPHERS: cfg->ciphers = v; break;
    case OPT_CIPHERSUITES: cfg->ciphersuites = v; break;
    case OPT_CURVES: cfg->curves = v; break;
    case OPT_CERT: cfg->cert_file = readable("--cert", v); break;
    case OPT_KEY: cfg->key_file = readable("--key", v); break;
    }
}

/* --hash sha256,md5,mmh3 (any of them, each once) and --favicon. */
void args_hash(hscan_config_t *cfg, int c, const char *v)
{
    static const struct { const char *name; unsigned bit; } h[] = {
        { "sha256", HSCAN_HASH_SHA256 }, { "md5", HSCAN_HASH_MD5 },
        { "mmh3", HSCAN_HASH_MMH3 },
    };
    const char *s = v;

    if (c == OPT_FAVICON) {
        cfg->favicon = 1;
        return;
    }
    cfg->hash = 0;
    while (*s) {
        size_t n = strcspn(s, ","), i;
        for (i = 0; i < 3; i++)
            if (strlen(h[i].name) == n && strncmp(s, h[i].name, n) == 0)
                break;
        if (i == 3 || (cfg->hash & h[i].bit))
            cli_die_usage("--hash %s: a comma-separated list of sha256, "
                          "md5 and mmh3, each once", v);
        cfg->hash |= h[i].bit;
        s += n + (s[n] == ',');
    }
    if (!cfg->hash || s[-1] == ',')
        cli_die_usage("--hash '%s': a comma-separated list of sha256, md5 "
                      "and mmh3, each once", v);
}

void args_finish(hscan_config_t *cfg, int method_given)
{
    /* --favicon finds the icon's link in the body: read some of it */
    if (cfg->favicon && cfg->body_bytes == 0)
        cfg->body_bytes = 8192;
    cfg->exclude = (const char *const *)X.v;
    cfg->n_exclude = X.n;
    if (delay_given && !cfg->prefer_family)
        cli_die_usage("--attempt-delay: only with --prefer-ipv4 or "
                      "--prefer-ipv6 (without one, attempts are never "
                      "raced)");
    if (!B.any)
        return;
    cfg->body = B.buf ? B.buf : "";
    cfg->body_len = B.len;
    if (!method_given)
        cfg->method = "POST";
}

void args_free(hscan_config_t *cfg)
{
    strlist_free(&X);
    cfg->exclude = NULL;
    cfg->n_exclude = 0;
    free(B.buf);
    B.buf = NULL;
    free(user_copy);
    user_copy = NULL;
    cfg->basic_auth = NULL;
    cfg->body = NULL;
}
