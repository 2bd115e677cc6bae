/* Exclusions (cfg.exclude) on a probe's way, all before any connect:
 * the hop's host (the input's, then each redirect's) before DNS, each
 * CNAME of the answer, and each address, which connect_next() skips
 * when excluded.  The record still lists every address DNS gave (what
 * the name resolves to is a fact); only the connects are withheld.
 *
 * Behind an http:// or socks5h:// proxy no lookup is made here, so only
 * the host is checked: the proxy may connect to an excluded address
 * that the name resolves to there (docs/api.md "Exclusions"). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "netset.h"
#include "probe.h"

/* "redirect N: " when the hop is not the input's, for the detail. */
static const char *hop_prefix(const struct probe *p, char *buf,
                              size_t size)
{
    if (p->n_hops == 0)
        return "";
    snprintf(buf, size, "redirect %u: ", p->n_hops);
    return buf;
}

int hscan__p_excluded_host(struct probe *p)
{
    const struct hscan__netset *ex = p->env->exclude;
    char d[HSCAN__DETAIL_SIZE], pre[32];
    const char *rule;

    if (!ex)
        return 0;
    if (p->family) {
        uint8_t b[16];
        inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->host, b);
        rule = hscan__netset_addr(ex, p->family, b);
    } else {
        rule = hscan__netset_name(ex, p->host, p->host_len);
    }
    if (!rule)
        return 0;
    snprintf(d, sizeof(d), "%s%s %.60s excluded by %.60s",
             hop_prefix(p, pre, sizeof(pre)),
             p->family ? "address" : "name", p->host, rule);
    hscan__p_finish(p, HSCAN_EEXCLUDED, d);
    return 1;
}

const char *hscan__p_addr_excluded(const struct probe *p, unsigned i)
{
    const struct hscan__addr *a = &p->dns.addrs[i];

    if (!p->env->exclude)
        return NULL;
    return hscan__netset_addr(p->env->exclude, a->family, a->bytes);
}

int hscan__p_excluded_answer(struct probe *p)
{
    const struct hscan__netset *ex = p->env->exclude;
    const char *c, *rule = NULL;
    char d[HSCAN__DETAIL_SIZE], pre[32], ip[48];
    unsigned i, first = 0;

    if (!ex)
        return 0;
    for (i = 0, c = p->dns.cnames; i < p->dns.n_cnames && c;
         i++, c += strlen(c) + 1) {
        if ((rule = hscan__netset_name(ex, c, strlen(c))) != NULL) {
            snprintf(d, sizeof(d), "%sCNAME %.60s excluded by %.60s",
                     hop_prefix(p, pre, sizeof(pre)), c, rule);
            hscan__p_finish(p, HSCAN_EEXCLUDED, d);
            return 1;
        }
    }
    /* One address allowed is enough to go on: connect_next() skips
     * the others. */
    for (i = p->dns.n_addrs; i-- > 0;) {
        const char *r = hscan__p_addr_excluded(p, i);
        if (!r)
            return 0;
        rule = r;
        first = i;
    }
    if (!rule)
        return 0;
    hscan__p_addr_str(&p->dns.addrs[first], ip, sizeof(ip));
    if (p->dns.n_addrs == 1)
        snprintf(d, sizeof(d), "%saddress %s excluded by %.60s",
                 hop_prefix(p, pre, sizeof(pre)), ip, rule);
    else
        snprintf(d, sizeof(d), "%severy address excluded (%u; %s by "
                 "%.60s)", hop_prefix(p, pre, sizeof(pre)), p->dns.n_addrs,
                 ip, rule);
    hscan__p_finish(p, HSCAN_EEXCLUDED, d);
    return 1;
}
