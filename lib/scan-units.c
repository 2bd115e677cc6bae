/* The units of a target (cfg.paths, cfg.all_ips) waiting for a slot:
 * the paths after the first, and a probe's sibling addresses.  They go
 * before submitted and pulled targets (take_one() in scan.c), so a
 * name's units finish together, and each takes a slot of its own, so
 * the concurrency is never exceeded.  Queued units number O(concurrency):
 * new input is taken only when none is queued, and each probe queues its
 * siblings at most once.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

/* cfg.paths in one block: the pointers, then the strings. */
int hscan__units_copy_paths(hscan_t *s, const hscan_config_t *c)
{
    size_t i, bytes = c->n_paths * sizeof(char *);
    char *w;

    if (!c->n_paths)
        return 0;
    for (i = 0; i < c->n_paths; i++)
        bytes += strlen(c->paths[i]) + 1;
    if (!(s->paths = malloc(bytes)))
        return -1;
    w = (char *)(s->paths + c->n_paths);
    for (i = 0; i < c->n_paths; i++) {
        size_t n = strlen(c->paths[i]) + 1;
        s->paths[i] = memcpy(w, c->paths[i], n);
        w += n;
    }
    s->n_paths = c->n_paths;
    return 0;
}

/* An address as r->ip shows it (hscan__p_addr_str()'s text). */
static const char *addr_str(const struct hscan__addr *a, char *buf,
                            size_t size)
{
    return inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, buf,
                     (socklen_t)size);
}

static struct unitq *unitq_new(const struct launch *l, const char *line,
                               size_t len, size_t extra)
{
    struct unitq *q = calloc(1, sizeof(*q) + len + 1 + extra);

    if (!q)
        return NULL;
    memcpy(q->mem, line, len);
    q->sb.input = q->mem;
    q->sb.input_len = len;
    q->sb.udata = l->udata;
    q->sb.id = l->id;
    q->sb.req = hscan__req_ref(l->req);
    return q;
}

static void unitq_free(struct unitq *q)
{
    hscan__req_unref(q->sb.req);
    free(q);
}

void hscan__units_paths(hscan_t *s, const char *line, size_t len,
                        const struct launch *l)
{
    struct unitq *q = unitq_new(l, line, len, 0);
    struct launch e = *l;
    size_t i;

    if (q) {
        q->next = 1;
        q->end = (unsigned)s->n_paths;
        hscan__queue_insert_tail(&s->units, &q->node);
        return;
    }
    for (i = 1; i < s->n_paths; i++) {
        e.path = s->paths[i];
        hscan__scan_emit(s, line, len, &e, HSCAN_ERESOURCE_EXHAUSTED,
                         "out of memory queueing the path");
    }
}

/* env.siblings: queue a probe's other addresses, each a unit.  Out of
 * memory, each gets its record (resource_exhausted) now. */
void hscan__units_siblings(void *arg, const struct hscan__sibs *sb)
{
    hscan_t *s = arg;
    size_t na = sb->n_addrs * sizeof(*sb->addrs);
    size_t extra = na + sb->cnames_size + sb->t.host_len + 1 +
                   sb->t.path_len + 1 + sb->n_pick;
    struct launch l = { sb->udata, sb->id, sb->req, NULL, NULL };
    struct unitq *q;
    char *w;

    if (s->closed)
        return;
    if (!(q = unitq_new(&l, sb->input, sb->input_len, extra))) {
        char ip[48];
        unsigned i;
        for (i = 0; i < sb->n_pick; i++) {
            l.ip = addr_str(&sb->addrs[sb->pick[i]], ip, sizeof(ip));
            l.path = sb->listed ? sb->t.path : NULL;
            hscan__scan_emit(s, sb->input, sb->input_len, &l,
                             HSCAN_ERESOURCE_EXHAUSTED,
                             "out of memory queueing the address");
        }
        return;
    }
    w = q->mem + sb->input_len + 1;
    q->sibs = 1;
    q->end = sb->n_pick;
    q->sb.t = sb->t;
    q->sb.scheme = sb->scheme;
    q->sb.fall_back = sb->fall_back;
    q->sb.listed = sb->listed;
    q->sb.n_addrs = sb->n_addrs;
    q->sb.n_cnames = sb->n_cnames;
    q->sb.cnames_size = sb->cnames_size;
    q->sb.t_dns0 = sb->t_dns0;
    q->sb.t_dns = sb->t_dns;
    q->sb.n_pick = sb->n_pick;
    q->sb.addrs = (const struct hscan__addr *)memcpy(w, sb->addrs, na);
    w += na;
    q->sb.cnames = sb->cnames_size ? memcpy(w, sb->cnames,
                                            sb->cnames_size) : NULL;
    w += sb->cnames_size;
    q->sb.t.host = memcpy(w, sb->t.host, sb->t.host_len);
    w += sb->t.host_len + 1;
    q->sb.t.path = memcpy(w, sb->t.path, sb->t.path_len);
    w += sb->t.path_len + 1;
    q->sb.pick = memcpy(w, sb->pick, sb->n_pick);
    hscan__queue_insert_tail(&s->units, &q->node);
    hscan__scan_schedule(s);
}

/* An --all-ips sibling: a probe pinned to its address, no lookup. */
static void start_sibling(hscan_t *s, const struct unitq *q, unsigned pick,
                          const struct launch *l)
{
    struct probe *p = hscan__probe_new(&s->env, q->sb.input,
                                       q->sb.input_len, &q->sb.t,
                                       q->sb.scheme, q->sb.fall_back,
                                       l->udata, l->id, l->req);
    if (!p) {
        struct launch e = *l;
        char ip[48];
        e.ip = addr_str(&q->sb.addrs[pick], ip, sizeof(ip));
        e.path = q->sb.listed ? q->sb.t.path : NULL;
        hscan__scan_emit(s, q->sb.input, q->sb.input_len, &e,
                         HSCAN_ERESOURCE_EXHAUSTED,
                         "out of memory starting the probe");
        return;
    }
    if (q->sb.listed)
        hscan__probe_listed(p);
    hscan__probe_pin(p, &q->sb, pick);
    hscan__scan_run(s, p);
}

/* The next unit of the first queued target. */
void hscan__units_take(hscan_t *s)
{
    struct unitq *q = hscan__queue_data(hscan__queue_head(&s->units),
                                        struct unitq, node);
    struct launch l = { q->sb.udata, q->sb.id, q->sb.req, NULL, NULL };
    unsigned i = q->next++;
    int last = q->next == q->end;

    /* off the queue before user code can run (a record, hscan_cancel) */
    if (last)
        hscan__queue_remove(&q->node);
    if (q->sibs) {
        start_sibling(s, q, q->sb.pick[i], &l);
    } else {
        struct hscan__target t;
        const char *why;
        if (hscan__target_parse(q->sb.input, q->sb.input_len, &t,
                                &why) == 0)
            hscan__scan_start_path(s, q->sb.input, q->sb.input_len, &t,
                                   &l, i);
    }
    if (last)
        unitq_free(q);
}

/* Records for queued units that will never start, `detail` saying why:
 * one per unit (as a queued target gets one). */
void hscan__units_emit_canceled(hscan_t *s, struct hscan__queue *list,
                                const char *detail)
{
    struct unitq *q;
    char ip[48];

    while (!hscan__queue_empty(list)) {
        q = hscan__queue_data(hscan__queue_head(list), struct unitq, node);
        hscan__queue_remove(&q->node);
        for (; q->next < q->end; q->next++) {
            struct launch l = { q->sb.udata, q->sb.id, NULL, NULL, NULL };
            if (q->sibs) {
                l.ip = addr_str(&q->sb.addrs[q->sb.pick[q->next]], ip,
                                sizeof(ip));
                l.path = q->sb.listed ? q->sb.t.path : NULL;
            } else {
                l.path = s->paths[q->next];
            }
            hscan__scan_emit(s, q->sb.input, q->sb.input_len, &l,
                             HSCAN_ECANCELED, detail);
        }
        unitq_free(q);
    }
}

int hscan__units_cancel(hscan_t *s, uint64_t id)
{
    struct hscan__queue *n = hscan__queue_head(&s->units), *next;
    int found = 0;

    for (; n != &s->units; n = next) {
        struct unitq *q = hscan__queue_data(n, struct unitq, node);
        next = n->next;
        if (q->sb.id != id)
            continue;
        hscan__queue_remove(n);
        hscan__queue_insert_tail(&s->ucanceled, n);
        found = 1;
    }
    if (found)
        hscan__scan_schedule(s);
    return found;
}

