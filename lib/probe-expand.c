/* --all-ips and --paths at the probe: a unit is one probe.
 *
 * A target's first probe resolves its name as usual.  With all_ips its
 * answer is then split: the probe keeps the first address whose unit is
 * not done (cfg.unit_done) and the scanner queues one sibling for each
 * other address (env->siblings).  A sibling is pinned: it makes no
 * lookup of its own (it carries the answer, so its record shows the
 * same dns facts) and connects to its address only.  The pin holds for
 * the first host: an https-first fallback or a redirect to the same
 * name stays on that address; a redirect elsewhere resolves afresh and
 * tries every address, as any probe does.
 */
#include <stdlib.h>
#include <string.h>

#include "probe.h"

void hscan__probe_listed(struct probe *p)
{
    p->unit_path = p->path;         /* in p->input[]: lives as long */
}

void hscan__probe_expand(struct probe *p)
{
    p->expand = 1;
}

void hscan__probe_pin(struct probe *p, const struct hscan__sibs *sb,
                      unsigned pick)
{
    size_t n = sb->n_addrs;

    p->t_dns0 = sb->t_dns0;
    p->t_dns = sb->t_dns;
    p->pinned = 1;
    if ((n > 1 && !(p->dns.addrs = malloc(n * sizeof(*p->dns.addrs)))) ||
        (sb->n_cnames && !(p->dns.cnames = malloc(sb->cnames_size)))) {
        /* out of memory: its own address alone, which needs none (the
         * record then lists only that one) */
        if (p->dns.addrs && p->dns.addrs != &p->dns.one)
            free(p->dns.addrs);
        p->dns.addrs = &p->dns.one;
        p->dns.one = sb->addrs[pick];
        p->dns.n_addrs = 1;
        p->pin = 0;
        return;
    }
    memcpy(p->dns.addrs, sb->addrs, n * sizeof(*p->dns.addrs));
    p->dns.n_addrs = (unsigned char)n;
    if (sb->n_cnames)
        memcpy(p->dns.cnames, sb->cnames, sb->cnames_size);
    p->dns.n_cnames = sb->n_cnames;
    p->pin = (int)pick;
}

static size_t cnames_size(const struct probe *p)
{
    const char *c = p->dns.cnames;
    unsigned i;

    for (i = 0; i < p->dns.n_cnames; i++)
        c += strlen(c) + 1;
    return (size_t)(c - p->dns.cnames);
}

static void queue_siblings(struct probe *p, const unsigned char *pick,
                           unsigned n_pick)
{
    struct hscan__sibs sb;

    memset(&sb, 0, sizeof(sb));
    sb.input = p->input;
    sb.input_len = p->input_len;
    hscan__p_target(p, &sb.t);
    sb.t.port = p->port_given ? p->port : 0;
    sb.scheme = p->scheme;
    sb.fall_back = p->may_fall_back;
    sb.listed = p->unit_path != NULL;
    sb.udata = p->udata;
    sb.id = p->id;
    sb.req = p->req;
    sb.addrs = p->dns.addrs;
    sb.n_addrs = p->dns.n_addrs;
    sb.cnames = p->dns.cnames;
    sb.n_cnames = p->dns.n_cnames;
    sb.cnames_size = cnames_size(p);
    sb.t_dns0 = p->t_dns0;
    sb.t_dns = p->t_dns;
    sb.pick = pick;
    sb.n_pick = n_pick;
    p->env->siblings(p->env->arg, &sb);
}

int hscan__p_expand(struct probe *p)
{
    unsigned char pick[256];
    unsigned i, n = 0;
    char a[48];

    p->expand = 0;
    /* canceled (hscan_cancel, hscan_close) before its answer was
     * taken: it finishes canceled on its timer, with no siblings that
     * the cancel, already past, would miss */
    if (p->cancel_detail)
        return 0;
    for (i = 0; i < p->dns.n_addrs; i++) {
        /* cfg.exclude: never contacted, so no unit (as one probe skips
         * it); the answer has another, or the probe has finished */
        if (hscan__p_addr_excluded(p, i))
            continue;
        if (p->env->unit_done) {
            hscan__p_addr_str(&p->dns.addrs[i], a, sizeof(a));
            if (p->env->unit_done(p->env->arg, p->input, p->input_len,
                                  p->unit_path, a))
                continue;
        }
        pick[n++] = (unsigned char)i;
    }
    if (n == 0) {
        p->skip = 1;                /* every address has its record */
        hscan__p_finish(p, 0, NULL);
        return 1;
    }
    p->pin = pick[0];
    if (n > 1 && p->env->siblings)
        queue_siblings(p, pick + 1, n - 1);
    return 0;
}
