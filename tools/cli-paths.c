/* --path (repeatable) and --paths FILE: the path list (cfg.paths).
 *
 * One --path alone keeps its old meaning, the path used when an input
 * names none (cfg.path), so existing command lines scan what they did.
 * Two or more, or any --paths file, make a list: every target is
 * requested once per listed path, the listed path replacing the
 * input's own (docs/cli.md "Many paths, every address").
 */
#include <string.h>

#include <hscan.h>

#include "cli.h"

static struct strlist L;
static int from_file;           /* --paths given: a list even with one */

void paths_add(const char *v)
{
    if (L.n == HSCAN_PATHS_MAX)
        cli_die_usage("--path/--paths: more than %d paths",
                      HSCAN_PATHS_MAX);
    strlist_add(&L, "--path", v, strlen(v));  /* the library checks it */
}

/* One line of a --paths file: white space around it trimmed, blank
 * skipped; a path must start with '/' and hold no white space (as
 * --path), else the file and line are named. */
static void path_line(const char *where, const char *p, size_t n)
{
    cli_trim(&p, &n);
    if (n == 0)
        return;
    if (p[0] != '/' || memchr(p, '\0', n) ||
        strcspn(p, " \t\r\n\v\f") < n)
        cli_die_usage("%s: '%.*s': a path starts with '/' and holds no "
                      "white space", where, (int)(n > 80 ? 80 : n), p);
    if (L.n == HSCAN_PATHS_MAX)
        cli_die_usage("%s: more than %d paths", where, HSCAN_PATHS_MAX);
    strlist_add(&L, "--paths", p, n);
}

void paths_file(const char *file)
{
    size_t before = L.n;

    from_file = 1;
    args_lines("--paths", file, path_line);
    if (L.n == before)
        cli_die_usage("--paths %s: no path in it", file);
}

void paths_finish(hscan_config_t *cfg)
{
    if (L.n == 1 && !from_file) {
        cfg->path = L.v[0];
        return;
    }
    cfg->paths = (const char *const *)L.v;
    cfg->n_paths = L.n;
}

void paths_free(hscan_config_t *cfg)
{
    strlist_free(&L);
    from_file = 0;
    cfg->paths = NULL;
    cfg->n_paths = 0;
}
