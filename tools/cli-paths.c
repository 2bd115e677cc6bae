/* --path (repeatable) and --paths FILE: the path list (cfg.paths).
 *
 * One --path alone keeps its old meaning, the path used when an input
 * names none (cfg.path), so existing command lines scan what they did.
 * Two or more, or any --paths file, make a list: every target is
 * requested once per listed path, the listed path replacing the
 * input's own (docs/cli.md "Many paths").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hscan.h>

#include "cli.h"

static struct {
    char **v;               /* each its own allocation */
    size_t n, cap;
    int from_file;          /* --paths given: a list even with one */
} L;

static void add(const char *p, size_t n)
{
    if (L.n == HSCAN_PATHS_MAX)
        cli_die_usage("--path/--paths: more than %d paths",
                      HSCAN_PATHS_MAX);
    if (L.n == L.cap) {
        size_t cap = L.cap ? L.cap * 2 : 16;
        char **v = realloc(L.v, cap * sizeof(*v));
        if (!v)
            cli_die_usage("--path/--paths: out of memory");
        L.v = v;
        L.cap = cap;
    }
    if (!(L.v[L.n] = malloc(n + 1)))
        cli_die_usage("--path/--paths: out of memory");
    memcpy(L.v[L.n], p, n);
    L.v[L.n++][n] = '\0';
}

void paths_add(const char *v)
{
    add(v, strlen(v));      /* the library checks it with the rest */
}

/* One path per line; blank lines and '#' comments skipped, white space
 * at both ends trimmed; a path must start with '/' and hold no white
 * space (as --path), else the file and line are named. */
void paths_file(const char *file)
{
    FILE *f = strcmp(file, "-") == 0 ? NULL : fopen(file, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long no = 0;

    if (strcmp(file, "-") == 0)
        cli_die_usage("--paths: '-': stdin holds the targets; name a file");
    if (!f)
        cli_die_usage("--paths: cannot read '%s': %s", file,
                      strerror(errno));
    L.from_file = 1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        const char *s = line;
        size_t n = (size_t)len;
        no++;
        cli_trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        if (s[0] != '/' || memchr(s, '\0', n) ||
            strcspn(s, " \t\r\n\v\f") < n)
            cli_die_usage("--paths %s:%lu: '%.*s': a path starts with '/' "
                          "and holds no white space", file, no,
                          (int)(n > 80 ? 80 : n), s);
        add(s, n);
    }
    if (ferror(f))
        cli_die_usage("--paths: cannot read '%s': %s", file,
                      strerror(errno));
    free(line);
    fclose(f);
    if (L.n == 0)
        cli_die_usage("--paths %s: no path in it", file);
}

void paths_finish(hscan_config_t *cfg)
{
    if (L.n == 1 && !L.from_file) {
        cfg->path = L.v[0];
        return;
    }
    cfg->paths = (const char *const *)L.v;
    cfg->n_paths = L.n;
}

void paths_free(hscan_config_t *cfg)
{
    size_t i;

    for (i = 0; i < L.n; i++)
        free(L.v[i]);
    free(L.v);
    memset(&L, 0, sizeof(L));
    cfg->paths = NULL;
    cfg->n_paths = 0;
}
