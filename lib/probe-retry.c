/* Retries (cfg.retries): another attempt at the same hop after a
 * failure that says nothing about the server because the server never
 * said anything.
 *
 * Transient, so retried: the connect refused, reset, timed out or
 * unreachable on every address of the hop; and, on a connection that
 * brought no byte back, a TLS handshake that died (closed, reset, the
 * ClientHello not sent) or a write, close or reset around the request
 * when that request may go again: not yet all sent, or idempotent
 * (RFC 9110 9.2.2) and without a body.  Never retried: anything after a
 * byte arrived (the server answered), DNS (the resolver retries), the
 * proxy's errors, local shortage (back_off() in probe.c waits for it),
 * a phase's timeout other than the connect's (the server held the
 * connection for the whole limit: another try would spend the rest of
 * the budget the same way), the overall deadline, a cancel.
 *
 * Before attempt k (k >= 2) the probe waits 100 ms x 2^(k-2), at most
 * 2 s, jittered uniformly over [half, whole] so that a wave of targets
 * refused together does not come back together.  A wait that would end
 * less than RETRY_ROOM_MS before the target's deadline is not begun:
 * the target ends with the failure it has.  The wait uses the probe's
 * one timer (PROBE_RETRY); then the hop connects again from its first
 * address, with the addresses it already had (no new lookup).
 */
#include <string.h>

#include "probe.h"

#define RETRY_BASE_MS 100
#define RETRY_CAP_MS 2000
#define RETRY_ROOM_MS 100       /* the least an attempt is given */

/* Methods that may be sent twice (RFC 9110 9.2.2). */
static int idempotent(const char *m)
{
    static const char *const safe[] = {
        "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"
    };
    size_t i;

    for (i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
        if (strcmp(m, safe[i]) == 0)
            return 1;
    return 0;
}

static int may_resend(const struct probe *p)
{
    return !p->t_sent || (idempotent(p->req->method) && !p->req->body);
}

static int transient(const struct probe *p, int err)
{
    if (p->heard)
        return 0;
    switch (err) {
    case HSCAN_ECONNECT_REFUSED:
    case HSCAN_ECONNECT_TIMEOUT:
    case HSCAN_ECONNECT_RESET:
    case HSCAN_ECONNECT_UNREACHABLE:
        return p->why != WHY_NO_ADDRESS;
    case HSCAN_ETLS_HANDSHAKE:
        return p->connected && p->tls != NULL;  /* not a local setup */
    case HSCAN_EWRITE_FAILED:
    case HSCAN_EREAD_CLOSED:
    case HSCAN_EREAD_RESET:
        return p->connected && may_resend(p);
    default:
        return 0;
    }
}

/* xorshift64: the jitter needs spread, not secrecy. */
static uint64_t next_rand(struct hscan__probe_env *env)
{
    uint64_t x = env->rng ? env->rng : 0x9e3779b97f4a7c15ull;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    env->rng = x;
    return x;
}

static uint64_t wait_ms(struct probe *p)
{
    uint64_t full = (uint64_t)RETRY_BASE_MS << (p->retried < 5 ? p->retried
                                                                : 5);
    if (full > RETRY_CAP_MS)
        full = RETRY_CAP_MS;
    return full / 2 + next_rand(p->env) % (full - full / 2 + 1);
}

int hscan__p_retry(struct probe *p, int err)
{
    uint64_t ms, now = uv_now(p->env->loop);
    unsigned char n = p->retried;

    if (p->cancel_detail || p->retried >= p->env->lim.retries ||
        !transient(p, err))
        return 0;
    ms = wait_ms(p);
    if (now + ms + RETRY_ROOM_MS > p->deadline)
        return 0;
    hscan__p_reset_exchange(p);     /* a new hop's count starts at 0 */
    p->retried = (unsigned char)(n + 1);
    hscan__p_set_state(p, PROBE_RETRY);
    hscan__p_arm(p, ms);
    return 1;
}

unsigned hscan__p_attempts(const struct probe *p)
{
    return p->retried + (p->t_conn0 != 0);
}
