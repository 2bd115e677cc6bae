/* Integration tests of certificate facts: the certificate zoo
 * (reliability.md checklist 26) beyond what server-tls.c serves.
 * test-tls.c has expired, unknown CA, self-signed, wrong host, IP SAN
 * and insecure; test-hostile-tls.c has 10,000 SANs and long chains.
 * Here: a certificate that expired a minute ago, one not yet valid,
 * wildcard edge cases, incomplete and oddly ordered chains, subjects
 * without CN or without any name, names in T61String and BMPString,
 * control bytes and invalid UTF-8 in a name, NUL in a SAN, validity
 * dates from year 1 to 9999 and malformed ones, odd serials, and an
 * RSA-8192 leaf.
 *
 * The certificates are served by cert-server.c (see cert-server.h).
 *
 * Every record is checked for the verification outcome (`verified`,
 * `verify_code` and its text, `tls_cert_invalid` or, with insecure, a
 * success), for the facts (subject, issuer, san, serial, dates,
 * days_left, fingerprints, chain_len) in the C view and in the JSON
 * line, and, by scan-env.c, for valid JSON.  Where OpenSSL's rules
 * decide (host names, chain building, time formats), the expected
 * outcome is also computed with the OpenSSL call that states the rule,
 * so a test fails if the record and OpenSSL disagree.  Environment:
 * scan-env.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cert-server.h"
#include "certs.h"
#include "hscan.h"
#include "rsa8192-key.h"
#include "scan-env.h"
#include "test-runner.h"

#define DAY 86400L

/* ---- checks ---- */

static void check_json(const struct rec *r, const char *part)
{
    if (!strstr(r->json, part)) {
        fprintf(stderr, "  JSON should contain %s\n", part);
        show(r);
    }
    CHECK(strstr(r->json, part) != NULL);
}

/* The verification outcome: `code` 0 is verified; otherwise the record
 * is tls_cert_invalid or, with `insecure`, a success that says why. */
static void check_verify(const struct rec *r, long code, int insecure)
{
    const char *text = X509_verify_cert_error_string(code);
    char want[192];

    if (!r->tls)
        show(r);
    CHECK(r->tls != NULL);
    if (code == 0 || insecure) {
        EXPECT_STATUS(r, 200);
        check_hdr(r, 0, "Server", "cert-test");
    } else {
        EXPECT_ERR(r, HSCAN_ETLS_CERT_INVALID);
        check_json(r, "\"error\":\"tls_cert_invalid\"");
    }
    CHECK_INT(r->tls->verify_code, code);
    CHECK_INT(r->tls->verified, code == 0);
    if (code == 0) {
        CHECK(r->tls->verify_error == NULL);
        check_json(r, "\"verified\":true,\"verify_error\":null");
        return;
    }
    CHECK_STR(r->tls->verify_error, text);
    snprintf(want, sizeof(want),
             "\"verified\":false,\"verify_error\":{\"code\":%ld,"
             "\"text\":\"%s\"}", code, text);
    check_json(r, want);
}

/* "ab:cd:..." as "abcd...": results.md's form of a fingerprint. */
static const char *no_colons(const char *in, char out[72])
{
    size_t k = 0;

    for (; *in && k < 71; in++)
        if (*in != ':')
            out[k++] = *in;
    out[k] = '\0';
    return out;
}

/* Serial, fingerprints, issuer and chain_len of the leaf `x` that the
 * site sent with `chain_len` certificates in all. */
static void check_facts(const struct rec *r, X509 *x, const char *issuer,
                        int chain_len)
{
    char sha[96], spki[96], want[160], hex[72];
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *serial = bn ? BN_bn2hex(bn) : NULL;
    size_t i;

    CHECK(r->tls != NULL && serial != NULL);
    for (i = 0; serial[i]; i++)
        serial[i] = (char)tolower((unsigned char)serial[i]);
    CHECK_STR(r->tls->serial, serial);
    snprintf(want, sizeof(want), "\"serial\":\"%s\"", serial);
    check_json(r, want);
    OPENSSL_free(serial);
    BN_free(bn);

    tcerts_fingerprints(x, sha, spki);
    CHECK_STR(r->tls->sha256, no_colons(sha, hex));
    CHECK_STR(r->tls->spki_sha256, no_colons(spki, hex));

    CHECK_STR(r->tls->issuer, issuer);
    snprintf(want, sizeof(want), "\"issuer\":\"%s\"", issuer);
    check_json(r, want);
    CHECK_INT(r->tls->chain_len, chain_len);
    snprintf(want, sizeof(want), "\"chain_len\":%d", chain_len);
    check_json(r, want);
}

/* Whole days from `now` until `t`, rounded down (results.md). */
static long days_until(time_t t, time_t now)
{
    long long d = (long long)t - now;

    return (long)(d >= 0 ? d / DAY : -((-d + DAY - 1) / DAY));
}

/* `not_before` and `not_after` (NULL: null in the record), and
 * days_left for a not_after of `na` seen between `t0` and `t1`. */
static void check_dates(const struct rec *r, const char *nb,
                        const char *na, time_t na_t, time_t t0, time_t t1)
{
    char want[96];
    long lo = days_until(na_t, t1), hi = days_until(na_t, t0);

    CHECK(r->tls != NULL);
    if (nb) {
        CHECK_STR(r->tls->not_before, nb);
        snprintf(want, sizeof(want), "\"not_before\":\"%s\"", nb);
    } else {
        CHECK(r->tls->not_before == NULL);
        snprintf(want, sizeof(want), "\"not_before\":null");
    }
    check_json(r, want);
    if (na) {
        CHECK_STR(r->tls->not_after, na);
        snprintf(want, sizeof(want), "\"not_after\":\"%s\"", na);
    } else {
        CHECK(r->tls->not_after == NULL);
        snprintf(want, sizeof(want), "\"not_after\":null");
    }
    check_json(r, want);
    if (na_t == 0)
        return;
    if (r->tls->days_left < lo || r->tls->days_left > hi)
        fprintf(stderr, "  days_left %ld, expected %ld..%ld\n",
                r->tls->days_left, lo, hi);
    CHECK(r->tls->days_left >= lo && r->tls->days_left <= hi);
    snprintf(want, sizeof(want), "\"days_left\":%ld", r->tls->days_left);
    check_json(r, want);
}

/* Ended within the TLS timeout: these handshakes take tens of ms
 * (seconds under valgrind), so a stall anywhere shows. */
static void check_quick(const struct rec *r)
{
    if (r->total_ms >= 2000.0 * cs_slow())
        fprintf(stderr, "  %s: total_ms %.1f\n", r->input, r->total_ms);
    CHECK(r->total_ms < 2000.0 * cs_slow());
}

/* RFC 3339 UTC form of `t`, for years 1000-9999. */
static const char *rfc3339(time_t t, char *buf, size_t size)
{
    struct tm tm;

    CHECK(gmtime_r(&t, &tm) != NULL);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* Seconds since the epoch of Y-M-D h:m:s UTC. */
static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

/* ---- validity ---- */

/* results.md: days_left is "negative once expired". */
TEST_T(cert_expired_a_minute_ago, 120)
{
    static const char *const hosts[] = { "gone.test" };
    struct cert_server cs;
    struct site *s;
    struct env e;
    struct rec *r;

    cs_init(&cs);
    s = cs_simple(&cs, "gone");
    CHECK(X509_gmtime_adj(X509_getm_notAfter(s->leaf.cert), -60) != NULL);
    site_resign(s);
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, 1, 0);
    r = &e.recs[0];
    check_verify(r, X509_V_ERR_CERT_HAS_EXPIRED, 0);
    check_facts(r, s->leaf.cert, "CN=hscan test CA", 1);
    CHECK_INT(r->tls->days_left, -1);
    cs_stop(&cs);
    env_done(&e);
}

/* notBefore tomorrow: X509_V_ERR_CERT_NOT_YET_VALID (9), an error
 * without --insecure, a success that says so with it. */
TEST_T(cert_not_yet_valid, 120)
{
    static const char *const hosts[] = { "future.test" };
    struct cert_server cs;
    struct site *s;
    struct env e;
    char nb[32], na[32];
    time_t t0 = time(NULL), t1, from = t0 + DAY, to = t0 + 90 * DAY;
    int insecure;

    cs_init(&cs);
    s = cs_simple(&cs, "future");
    CHECK(ASN1_TIME_set(X509_getm_notBefore(s->leaf.cert), from) != NULL);
    CHECK(ASN1_TIME_set(X509_getm_notAfter(s->leaf.cert), to) != NULL);
    site_resign(s);
    cs_start(&cs);
    for (insecure = 0; insecure <= 1; insecure++) {
        struct rec *r;

        cs_scan(&e, &cs, hosts, 1, insecure);
        t1 = time(NULL);
        r = &e.recs[0];
        check_verify(r, X509_V_ERR_CERT_NOT_YET_VALID, insecure);
        check_json(r, "certificate is not yet valid");
        check_facts(r, s->leaf.cert, "CN=hscan test CA", 1);
        check_dates(r, rfc3339(from, nb, sizeof(nb)),
                    rfc3339(to, na, sizeof(na)), to, t0, t1);
        CHECK_STR(r->tls->subject, "CN=future.test");
        CHECK(r->tls->n_san == 1);
        CHECK_STR(r->tls->san[0], "future.test");
        check_quick(r);
        env_done(&e);
    }
    cs_stop(&cs);
}

/* Validity dates at the edges of the two ASN.1 time types, and time
 * strings OpenSSL parses but X509_cmp_time() refuses (RFC 5280 4.1.2.5
 * allows only YYMMDDHHMMSSZ and YYYYMMDDHHMMSSZ): those are
 * X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD (14) with the date as
 * OpenSSL reads it, in UTC.  The strings go into the certificate as
 * they are (ASN1_TIME_set_string() keeps them). */
enum { D1950, D9999, D0001, DFRAC, DOFFSET, DFEB30, D_N };

TEST_T(cert_edge_dates, 120)
{
    static const struct {
        const char *label, *nb, *na;    /* as encoded */
        const char *want_nb, *want_na;  /* as reported */
        long code;
    } d[D_N] = {
        /* UTCTime's first year; GeneralizedTime's first year */
        { "d1950", "500101000000Z", "20500101000000Z",
          "1950-01-01T00:00:00Z", "2050-01-01T00:00:00Z", 0 },
        /* GeneralizedTime before 1950; the largest date, RFC 5280's
         * "no well-defined expiration date" */
        { "d9999", "19491231235959Z", "99991231235959Z",
          "1949-12-31T23:59:59Z", "9999-12-31T23:59:59Z", 0 },
        /* year 1: four digits in RFC 3339; UTCTime's last year */
        { "d0001", "00010101000000Z", "491231235959Z",
          "0001-01-01T00:00:00Z", "2049-12-31T23:59:59Z", 0 },
        /* fractional seconds (CVE-2024-7264's input class) */
        { "dfrac", "500101000000Z", "20510101000000.999999Z",
          "1950-01-01T00:00:00Z", "2051-01-01T00:00:00Z", 14 },
        /* an offset instead of Z: reported in UTC */
        { "doffset", "500101000000Z", "20510101000000+0130",
          "1950-01-01T00:00:00Z", "2050-12-31T22:30:00Z", 14 },
        /* 30 February: no date at all */
        { "dfeb30", "500101000000Z", NULL,
          "1950-01-01T00:00:00Z", NULL, 14 },
    };
    const time_t na_t[D_N] = {
        utc(2050, 1, 1, 0, 0, 0), utc(9999, 12, 31, 23, 59, 59),
        utc(2049, 12, 31, 23, 59, 59), utc(2051, 1, 1, 0, 0, 0),
        utc(2050, 12, 31, 22, 30, 0), 0,
    };
    const char *hosts[D_N];
    char names[D_N][32];
    struct site *s[D_N];
    struct cert_server cs;
    struct env e;
    time_t t0 = time(NULL), t1;
    int i;

    cs_init(&cs);
    for (i = 0; i < D_N; i++) {
        ASN1_TIME *na;

        s[i] = cs_simple(&cs, d[i].label);
        na = X509_getm_notAfter(s[i]->leaf.cert);
        CHECK(ASN1_TIME_set_string(X509_getm_notBefore(s[i]->leaf.cert),
                                   d[i].nb) == 1);
        if (d[i].na) {
            CHECK(ASN1_TIME_set_string(na, d[i].na) == 1);
        } else {    /* a GeneralizedTime that no parser accepts */
            CHECK(ASN1_TIME_set_string(na, "20510101000000Z") == 1);
            CHECK(ASN1_STRING_set(na, "20510230000000Z", -1) == 1);
            CHECK(ASN1_TIME_check(na) == 0);
        }
        site_resign(s[i]);
        snprintf(names[i], sizeof(names[i]), "%s.test", d[i].label);
        hosts[i] = names[i];
    }
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, D_N, 0);
    t1 = time(NULL);
    for (i = 0; i < D_N; i++) {
        struct rec *r = &e.recs[i];

        check_verify(r, d[i].code, 0);
        check_facts(r, s[i]->leaf.cert, "CN=hscan test CA", 1);
        check_dates(r, d[i].want_nb, d[i].want_na, na_t[i], t0, t1);
        check_quick(r);
    }
    /* 9999: about 2.9 million days, no overflow */
    CHECK(e.recs[D9999].tls->days_left > 2800000L);
    /* no date: not_after is null and days_left stays 0 (results.md
     * does not say; the C view's long has no "unknown") */
    CHECK_INT(e.recs[DFEB30].tls->days_left, 0);
    cs_stop(&cs);
    env_done(&e);
}

/* ---- host names ---- */

/* X509_check_host() rules with the flags the scanner uses (none): a
 * '*' is a wildcard only in the leftmost label and with two labels after
 * it; there it matches within one label: at least one character when it
 * is the whole label, possibly none when partial ("f*").  Elsewhere it
 * is a literal character.  With no DNS SAN, the CN is checked. */
TEST_T(cert_wildcards, 120)
{
    /* site i: label[i], one SAN san[i] */
    static const char *const label[] = { "wild", "part", "mid", "tld" };
    static const char *const san[] = {
        "*.wild.test", "f*.part.test", "a.*.mid.test", "*.test",
    };
    static const struct {
        const char *host;
        int site, match;
    } c[] = {
        { "a.wild.test", 0, 1 },
        { "UP.Wild.test", 0, 1 },               /* any case */
        { "xn--bcher-kva.wild.test", 0, 1 },    /* an A-label */
        { "wild.test", 0, 0 },                  /* '*' matches >= 1 char */
        { "a.b.wild.test", 0, 0 },              /* one label only */
        { "foo.part.test", 1, 1 },              /* "f*": partial allowed */
        { "f.part.test", 1, 1 },                /* ... and may match "" */
        { "bar.part.test", 1, 0 },
        { "a.b.mid.test", 2, 0 },               /* not leftmost: literal */
        { "tld.test", 3, 0 },                   /* too few labels after */
    };
    const size_t n = sizeof(c) / sizeof(c[0]);
    const char *hosts[sizeof(c) / sizeof(c[0])];
    struct site *s[4];
    struct cert_server cs;
    struct env e;
    size_t i;

    cs_init(&cs);
    for (i = 0; i < 4; i++)
        s[i] = cs_site(&cs, label[i], NULL, label[i], &san[i], 1);
    for (i = 0; i < n; i++)
        hosts[i] = c[i].host;
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, n, 0);
    for (i = 0; i < n; i++) {
        struct rec *r = &e.recs[i];
        X509 *leaf = s[c[i].site]->leaf.cert;
        char want[64];

        /* what the table says is what OpenSSL says */
        CHECK_INT(X509_check_host(leaf, c[i].host, 0, 0, NULL), c[i].match);
        check_verify(r, c[i].match ? 0 : X509_V_ERR_HOSTNAME_MISMATCH, 0);
        check_facts(r, leaf, "CN=hscan test CA", 1);
        CHECK_INT(r->tls->n_san, 1);
        snprintf(want, sizeof(want), "\"san\":[\"%s\"]", san[c[i].site]);
        check_json(r, want);
        check_quick(r);
    }
    cs_stop(&cs);
    env_done(&e);
}

/* ---- chains ---- */

/* chain_len counts the certificates the server sent, leaf included. */
TEST_T(cert_chain_with_ca, 120)
{
    static const char *const hosts[] = { "chain.test" };
    struct cert_server cs;
    struct site *s;
    struct env e;
    struct rec *r;

    cs_init(&cs);
    s = cs_simple(&cs, "chain");
    site_send(s, cs.ca.cert);
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, 1, 0);
    r = &e.recs[0];
    check_verify(r, 0, 0);
    check_facts(r, s->leaf.cert, "CN=hscan test CA", 2);
    cs_stop(&cs);
    env_done(&e);
}

/* OpenSSL builds the chain from whatever the server sent, in any order,
 * and ignores what does not belong; without the intermediate it cannot:
 * X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (20).  (A server made
 * with OpenSSL always sends its leaf first, so "reversed" means the
 * intermediates.) */
enum { C_MISSING, C_COMPLETE, C_REVERSED, C_STRAYS, C_IMPOSTOR, C_N };

TEST_T(cert_chain_incomplete_and_odd_order, 120)
{
    static const char *const hosts[C_N] = {
        "missing.test", "complete.test", "reversed.test", "strays.test",
        "impostor.test",
    };
    static const char *const labels[C_N] = {
        "missing", "complete", "reversed", "strays", "impostor",
    };
    static const long code[C_N] = { 20, 0, 0, 0, 20 };
    static const int chain_len[C_N] = { 1, 2, 3, 4, 2 };
    static const char *const issuer[C_N] = {
        "CN=hscan test int 1", "CN=hscan test int 1", "CN=hscan test int 2",
        "CN=hscan test int 1", "CN=hscan test int 1",
    };
    struct tcert *i1, *i2, *stray, *impostor;
    struct site *s[C_N];
    struct cert_server cs;
    struct tcert other;
    struct env e;
    int i;

    cs_init(&cs);
    CHECK(tcerts_ca(&other) == 0);          /* a CA nobody trusts */
    i1 = cs_sub_ca(&cs, NULL, "hscan test int 1");
    i2 = cs_sub_ca(&cs, i1, "hscan test int 2");
    stray = cs_sub_ca(&cs, &other, "hscan stray");
    /* same name as int 1, another key: the leaf's AKID rules it out */
    impostor = cs_sub_ca(&cs, NULL, "hscan test int 1");
    for (i = 0; i < C_N; i++)
        s[i] = cs_site(&cs, labels[i], i == C_REVERSED ? i2 : i1, hosts[i],
                       &hosts[i], 1);
    site_send(s[C_COMPLETE], i1->cert);
    site_send(s[C_REVERSED], i1->cert);     /* root side first */
    site_send(s[C_REVERSED], i2->cert);
    site_send(s[C_STRAYS], stray->cert);    /* unrelated, the CA too */
    site_send(s[C_STRAYS], cs.ca.cert);
    site_send(s[C_STRAYS], i1->cert);
    site_send(s[C_IMPOSTOR], impostor->cert);
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, C_N, 0);
    for (i = 0; i < C_N; i++) {
        struct rec *r = &e.recs[i];

        check_verify(r, code[i], 0);
        check_facts(r, s[i]->leaf.cert, issuer[i], chain_len[i]);
        check_quick(r);
    }
    check_json(&e.recs[C_MISSING], "unable to get local issuer certificate");
    tcerts_free(&other);
    cs_stop(&cs);
    env_done(&e);
}

/* ---- the whole chain (cfg.tls_chain) ---- */

/* `c` valid until now + `days`, signed again by `issuer`. */
static void set_expiry(struct tcert *c, const struct tcert *issuer,
                       int days)
{
    CHECK(X509_gmtime_adj(X509_getm_notAfter(c->cert), days * DAY) != NULL);
    CHECK(X509_sign(c->cert, issuer->key, EVP_sha256()) > 0);
}

/* The not_after of `x` in the record's form. */
static const char *not_after_of(const X509 *x, char buf[64])
{
    struct tm tm;

    CHECK(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1);
    snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

/* One entry of tls.chain against the certificate it should be. */
static void check_chain_cert(const struct cert_rec *c, X509 *x,
                             const char *key_type, int bits, int is_ca)
{
    char sha[96], spki[96], hex[72], na[64];
    int sig = X509_get_signature_nid(x);

    tcerts_fingerprints(x, sha, spki);
    CHECK_STR(c->sha256, no_colons(sha, hex));
    CHECK_STR(c->spki_sha256, no_colons(spki, hex));
    CHECK_STR(c->not_after, not_after_of(x, na));
    CHECK_STR(c->key_type, key_type);
    CHECK_INT(c->key_bits, bits);
    CHECK_STR(c->sig_alg, OBJ_nid2ln(sig));
    CHECK_INT(c->is_ca, is_ca);
    CHECK(c->subject && c->issuer && c->serial && c->not_before);
}

/* earliest_not_after and its days, in the view and the JSON line. */
static void check_earliest(const struct rec *r, const X509 *x)
{
    char na[64], want[128];

    CHECK_STR(r->tls->earliest_not_after, not_after_of(x, na));
    snprintf(want, sizeof(want), "\"earliest_not_after\":\"%s\","
             "\"earliest_days_left\":%ld", na, r->tls->earliest_days_left);
    check_json(r, want);
    CHECK(r->tls->earliest_days_left >= 0 &&
          r->tls->earliest_days_left <= 200);
}

/* The verified path is `path` (n of them), leaf first, root last. */
static void check_path(const struct rec *r, X509 *const *path, size_t n)
{
    char sha[96], spki[96], hex[72];
    size_t i;

    CHECK(r->tls->verified_chain != NULL);
    CHECK_INT(r->tls->n_verified_chain, n);
    for (i = 0; i < n; i++) {
        tcerts_fingerprints(path[i], sha, spki);
        CHECK_STR(r->tls->verified_chain[i], no_colons(sha, hex));
    }
}

/* Chains of 1 to 4 certificates with the earliest expiry in the
 * middle, one sent out of order with an extra certificate, and one that
 * does not verify: earliest_not_after is over the verified path (root
 * included, the extra left out) or, unverified, over what was sent;
 * tls.chain is what was sent, in that order; verified_chain the path.
 * Every site is scanned twice, one round after the other: the second
 * verification is the cache's (vcache.c), whose path must be the same.
 * Keys RSA and EC. */
enum { W_ONE, W_TWO, W_THREE, W_FOUR, W_ODD, W_UNVERIFIED, W_N };

TEST_T(cert_chain_whole, 120)
{
    static const char *const labels[W_N] = {
        "one", "two", "three", "four", "odd", "unverified",
    };
    static const char *const hosts[2 * W_N] = {
        "one.test", "two.test", "three.test", "four.test", "odd.test",
        "unverified.test", "one.test", "two.test", "three.test",
        "four.test", "odd.test", "unverified.test",
    };
    struct tcert *t1, *t3a, *t3b, *f_a, *f_b, *stray, other;
    struct site *s[W_N];
    struct cert_server cs;
    struct env e;
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    int i, k;

    CHECK(rsa != NULL);
    cs_init(&cs);
    cs.tls_chain = 1;
    cs.concurrency = W_N;       /* the second round starts as the first
                                   ends: its chains are known */
    CHECK(tcerts_ca(&other) == 0);
    t1 = cs_sub_ca(&cs, NULL, "int two");
    set_expiry(t1, &cs.ca, 20);
    t3a = cs_sub_ca(&cs, NULL, "int three a");          /* 200 days */
    set_expiry(t3a, &cs.ca, 200);
    t3b = cs_sub_ca(&cs, t3a, "int three b");           /* 40 days */
    set_expiry(t3b, t3a, 40);
    f_a = cs_sub_ca(&cs, NULL, "int four a");           /* RSA, 15 days */
    CHECK(tcerts_rekey(f_a, rsa, &cs.ca) == 0);
    set_expiry(f_a, &cs.ca, 15);
    f_b = cs_sub_ca(&cs, f_a, "int four b");            /* 30 days */
    set_expiry(f_b, f_a, 30);
    stray = cs_sub_ca(&cs, &other, "stray");            /* 5 days */
    set_expiry(stray, &other, 5);
    for (i = 0; i < W_N; i++) {
        static const struct tcert *no;
        const struct tcert *iss[W_N] = { no, t1, t3b, f_b, f_b, t1 };
        iss[0] = NULL;
        s[i] = cs_site(&cs, labels[i], iss[i], hosts[i], &hosts[i], 1);
    }
    set_expiry(&s[W_ONE]->leaf, &cs.ca, 30);
    site_send(s[W_TWO], t1->cert);
    site_send(s[W_THREE], t3b->cert);
    site_send(s[W_THREE], t3a->cert);
    site_send(s[W_FOUR], f_b->cert);
    site_send(s[W_FOUR], f_a->cert);
    site_send(s[W_FOUR], cs.ca.cert);
    site_send(s[W_ODD], f_a->cert);     /* root side first, a stray */
    site_send(s[W_ODD], stray->cert);
    site_send(s[W_ODD], f_b->cert);
    site_send(s[W_UNVERIFIED], stray->cert);    /* t1 missing */
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, 2 * W_N, 1);
    for (k = 0; k < 2 * W_N; k++) {
        struct rec *r = &e.recs[k];
        struct tls_rec *t = r->tls;

        i = k % W_N;
        check_verify(r, i == W_UNVERIFIED ? 20 : 0, 1);
        CHECK(t->chain != NULL && !t->chain_truncated);
        CHECK_INT(t->n_chain, (size_t)t->chain_len);
        check_chain_cert(&t->chain[0], s[i]->leaf.cert, "EC", 256, 0);
        switch (i) {
        case W_ONE: {
            X509 *p[] = { s[i]->leaf.cert, cs.ca.cert };
            check_earliest(r, s[i]->leaf.cert);
            check_path(r, p, 2);
            break;
        }
        case W_TWO: {
            X509 *p[] = { s[i]->leaf.cert, t1->cert, cs.ca.cert };
            check_chain_cert(&t->chain[1], t1->cert, "EC", 256, 1);
            check_earliest(r, t1->cert);
            check_path(r, p, 3);
            break;
        }
        case W_THREE: {
            X509 *p[] = { s[i]->leaf.cert, t3b->cert, t3a->cert,
                          cs.ca.cert };
            check_chain_cert(&t->chain[1], t3b->cert, "EC", 256, 1);
            check_chain_cert(&t->chain[2], t3a->cert, "EC", 256, 1);
            check_earliest(r, t3b->cert);
            check_path(r, p, 4);
            break;
        }
        case W_FOUR: case W_ODD: {
            X509 *p[] = { s[i]->leaf.cert, f_b->cert, f_a->cert,
                          cs.ca.cert };
            int odd = i == W_ODD;
            check_chain_cert(&t->chain[odd ? 3 : 1], f_b->cert, "EC", 256,
                             1);
            check_chain_cert(&t->chain[odd ? 1 : 2], f_a->cert, "RSA", 2048,
                             1);
            check_chain_cert(&t->chain[odd ? 2 : 3],
                             odd ? stray->cert : cs.ca.cert, "EC", 256, 1);
            CHECK_STR(t->chain[1].sig_alg, odd ? "ecdsa-with-SHA256"
                                               : "sha256WithRSAEncryption");
            check_earliest(r, f_a->cert);
            check_path(r, p, 4);
            break;
        }
        case W_UNVERIFIED:
            check_chain_cert(&t->chain[1], stray->cert, "EC", 256, 1);
            check_earliest(r, stray->cert);
            CHECK(t->verified_chain == NULL);
            check_json(r, "\"verified_chain\":null,\"ocsp\":");
            break;
        }
        check_json(r, "\"chain_truncated\":false,\"verified_chain\":");
    }
    tcerts_free(&other);
    cs_stop(&cs);
    env_done(&e);
}

/* ---- names ---- */

/* A SAN DNS name with a NUL byte inside: tls.c promises that "a NUL
 * byte cannot hide the rest of a name because the ASN.1 length is used"
 * and results.md that bytes are escaped by the JSON writer: the JSON
 * must not read "evil.test". */
TEST_T(cert_san_with_nul, 120)
{
    static const char nul_name[] = "evil.test\0.nul.test";
    static const char *const hosts[] = { "nul.test" };
    const char *names[1] = { nul_name };
    size_t lens[1] = { sizeof(nul_name) - 1 };
    struct cert_server cs;
    struct site *s;
    struct env e;
    struct rec *r;

    cs_init(&cs);
    s = cs_simple(&cs, "nul");
    site_set_sans(s, names, lens, 1, 0);
    site_resign(s);
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, 1, 0);
    r = &e.recs[0];
    /* the only SAN does not match nul.test, whatever its bytes */
    check_verify(r, X509_V_ERR_HOSTNAME_MISMATCH, 0);
    CHECK_INT(r->tls->n_san, 1);
    check_json(r, "\"san\":[\"evil.test\\u0000.nul.test\"]");
    cs_stop(&cs);
    env_done(&e);
}

/* Replace the leaf's subject by `n` entries (nid, ASN.1 string type,
 * bytes, length). */
struct entry {
    int nid, type;
    const char *bytes;
    int len;
};

static void site_set_subject(struct site *s, const struct entry *en, int n)
{
    X509_NAME *name = X509_NAME_new();
    int i;

    CHECK(name != NULL);
    for (i = 0; i < n; i++)
        CHECK(X509_NAME_add_entry_by_NID(
                  name, en[i].nid, en[i].type,
                  (const unsigned char *)en[i].bytes, en[i].len, -1,
                  0) == 1);
    CHECK(X509_set_subject_name(s->leaf.cert, name) == 1);
    X509_NAME_free(name);
}

/* Overwrite byte `at` of `find` in the DER of the leaf's subject with
 * `byte`, before site_resign().  OpenSSL will not encode a name that is
 * not valid in its string type (it converts every name to UTF-8 to
 * compare names), so the byte goes into the name's cached encoding,
 * which signing and sending then use as it is. */
static void site_patch_subject(struct site *s, const char *find, size_t at,
                               unsigned char byte)
{
    const unsigned char *der;
    unsigned char *p;
    size_t len, n = strlen(find);

    CHECK(X509_NAME_get0_der(X509_get_subject_name(s->leaf.cert), &der,
                             &len) == 1);
    p = memmem(der, len, find, n);
    CHECK(p != NULL && at < n);
    p[at] = byte;
}

/* Subjects that are empty, have no CN, only a CN, or hold bytes that
 * are not plain ASCII.  results.md: RFC 2253 form; OpenSSL converts
 * T61String (as Latin-1) and BMPString to UTF-8, which the JSON carries
 * literally, and escapes control bytes RFC 2253 style ("\01"); bytes
 * that are not UTF-8 in a SAN are one \u00XX escape each.  The host
 * check uses the SAN; with no DNS SAN at all, OpenSSL falls back to the
 * CN (X509_check_host without X509_CHECK_FLAG_NEVER_CHECK_SUBJECT). */
enum { N_EMPTY, N_NOCN, N_CNONLY, N_LATIN, N_CTL, N_BADUTF8, N_N };

TEST_T(cert_subject_forms, 120)
{
    static const char *const hosts[N_N] = {
        "nosubj.test", "nocn.test", "cnonly.test", "latin.test",
        "ctl.test", "badutf8.test",
    };
    static const char *const labels[N_N] = {
        "nosubj", "nocn", "cnonly", "latin", "ctl", "badutf8",
    };
    static const struct entry nocn[] = {
        { NID_organizationName, MBSTRING_UTF8, "hscan test", -1 },
        { NID_organizationalUnitName, MBSTRING_UTF8, "no cn", -1 },
    };
    static const struct entry cnonly[] = {
        { NID_commonName, MBSTRING_UTF8, "cnonly.test", -1 },
    };
    /* "café" in T61String, "日本" in BMPString */
    static const struct entry latin[] = {
        { NID_commonName, V_ASN1_T61STRING, "caf\xe9", 4 },
        { NID_organizationName, V_ASN1_BMPSTRING, "\x65\xe5\x67\x2c", 4 },
    };
    /* NUL, SOH, DEL, and RFC 2253's specials */
    static const struct entry ctl[] = {
        { NID_commonName, V_ASN1_T61STRING, "a\0b\x01\x7f\"+,\\", 9 },
    };
    static const struct entry bad[] = {
        { NID_commonName, V_ASN1_UTF8STRING, "cafX", 4 },
    };
    static const char *const want_subject[N_N] = {
        "", "OU=no cn,O=hscan test", "CN=cnonly.test",
        "O=\xe6\x97\xa5\xe6\x9c\xac,CN=caf\xc3\xa9",
        "CN=a\\00b\\01\\7F\\\"\\+\\,\\\\", NULL,
    };
    static const char *const want_json[N_N] = {
        "\"subject\":\"\",", "\"subject\":\"OU=no cn,O=hscan test\",",
        "\"subject\":\"CN=cnonly.test\",",
        "\"subject\":\"O=\xe6\x97\xa5\xe6\x9c\xac,CN=caf\xc3\xa9\",",
        "\"subject\":\"CN=a\\\\00b\\\\01\\\\7F\\\\\\\"\\\\+\\\\,\\\\\\\\\",",
        NULL,
    };
    static const char latin_san[] = "caf\xe9.test";
    const char *latin_sans[2] = { "latin.test", latin_san };
    size_t latin_lens[2] = { 10, sizeof(latin_san) - 1 };
    const char *one[1];
    size_t one_len[1];
    struct site *s[N_N];
    struct cert_server cs;
    struct env e;
    int i;

    cs_init(&cs);
    for (i = 0; i < N_N; i++)
        s[i] = cs_simple(&cs, labels[i]);
    /* RFC 5280 4.2.1.6: an empty subject needs a critical SAN */
    site_set_subject(s[N_EMPTY], NULL, 0);
    one[0] = hosts[N_EMPTY];
    one_len[0] = strlen(hosts[N_EMPTY]);
    site_set_sans(s[N_EMPTY], one, one_len, 1, 1);
    site_set_subject(s[N_NOCN], nocn, 2);
    site_set_subject(s[N_CNONLY], cnonly, 1);
    site_set_sans(s[N_CNONLY], NULL, NULL, 0, 0);
    site_set_subject(s[N_LATIN], latin, 2);
    site_set_sans(s[N_LATIN], latin_sans, latin_lens, 2, 0);
    site_set_subject(s[N_CTL], ctl, 1);
    site_set_subject(s[N_BADUTF8], bad, 1);
    site_patch_subject(s[N_BADUTF8], "cafX", 3, 0xe9);
    for (i = 0; i < N_N; i++)
        site_resign(s[i]);
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, N_N, 0);
    for (i = 0; i < N_N; i++) {
        struct rec *r = &e.recs[i];

        if (i == N_BADUTF8)
            continue;
        CHECK_INT(X509_check_host(s[i]->leaf.cert, hosts[i], 0, 0, NULL),
                  1);
        check_verify(r, 0, 0);
        check_facts(r, s[i]->leaf.cert, "CN=hscan test CA", 1);
        CHECK_STR(r->tls->subject, want_subject[i]);
        check_json(r, want_json[i]);
        check_quick(r);
    }
    /* Invalid UTF-8 in a UTF8String: OpenSSL 3 cannot even decode such
     * a certificate (d2i checks every name), so the handshake fails
     * before there are certificate facts to report; what the
     * ServerHello agreed is there. */
    EXPECT_ERR(&e.recs[N_BADUTF8], HSCAN_ETLS_HANDSHAKE);
    CHECK(e.recs[N_BADUTF8].tls != NULL);
    if (e.recs[N_BADUTF8].tls) {
        CHECK(e.recs[N_BADUTF8].tls->version != NULL);
        CHECK(e.recs[N_BADUTF8].tls->subject == NULL);
        CHECK(e.recs[N_BADUTF8].tls->alert == NULL);    /* we sent it */
    }
    check_json(&e.recs[N_BADUTF8], "\"subject\":null");
    check_json(&e.recs[N_BADUTF8], "\"san\":[]");
    check_json(&e.recs[N_BADUTF8], "invalid utf8string");
    check_quick(&e.recs[N_BADUTF8]);
    CHECK_INT(e.recs[N_CNONLY].tls->n_san, 0);
    check_json(&e.recs[N_CNONLY], "\"san\":[]");
    CHECK_INT(e.recs[N_LATIN].tls->n_san, 2);
    check_json(&e.recs[N_LATIN], "\"san\":[\"latin.test\",\"caf\\u00e9.test\"]");
    cs_stop(&cs);
    env_done(&e);
}

/* Serials as results.md writes them, lowercase hex of the number: zero
 * is "00", a 20-byte serial with its top bit set (DER adds a 00 sign
 * byte) has no leading zeros, and a negative serial (RFC 5280 forbids
 * them; OpenSSL accepts them) keeps its sign, so that -1 and 1 differ. */
enum { S_ZERO, S_NEG, S_LONG, S_N };

TEST_T(cert_serials, 120)
{
    static const char *const hosts[S_N] = {
        "szero.test", "sneg.test", "slong.test",
    };
    static const char *const labels[S_N] = { "szero", "sneg", "slong" };
    static const char *const want[S_N] = {
        "00", "-01", "ffffffffffffffffffffffffffffffffffffffff",
    };
    static const unsigned char ff[20] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    struct site *s[S_N];
    struct cert_server cs;
    struct env e;
    BIGNUM *bn = BN_bin2bn(ff, sizeof(ff), NULL);
    int i;

    cs_init(&cs);
    for (i = 0; i < S_N; i++)
        s[i] = cs_simple(&cs, labels[i]);
    CHECK(bn != NULL);
    CHECK(ASN1_INTEGER_set(X509_get_serialNumber(s[S_ZERO]->leaf.cert),
                           0) == 1);
    CHECK(ASN1_INTEGER_set(X509_get_serialNumber(s[S_NEG]->leaf.cert),
                           -1) == 1);
    CHECK(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(
                                     s[S_LONG]->leaf.cert)) != NULL);
    BN_free(bn);
    for (i = 0; i < S_N; i++)
        site_resign(s[i]);
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, S_N, 0);
    for (i = 0; i < S_N; i++) {
        struct rec *r = &e.recs[i];
        char json[96];

        check_verify(r, 0, 0);
        CHECK_STR(r->tls->serial, want[i]);
        snprintf(json, sizeof(json), "\"serial\":\"%s\"", want[i]);
        check_json(r, json);
        check_quick(r);
    }
    cs_stop(&cs);
    env_done(&e);
}

/* ---- keys ---- */

/* The fixed RSA-8192 key (rsa8192-key.h). */
static EVP_PKEY *rsa8192_key(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    EVP_PKEY *key;
    int i;

    CHECK(b != NULL);
    for (i = 0; rsa8192_key_pem[i]; i++)
        CHECK(BIO_puts(b, rsa8192_key_pem[i]) > 0);
    key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(key != NULL);
    CHECK_INT(EVP_PKEY_get_bits(key), 8192);
    return key;
}

/* An RSA-8192 leaf (badssl's rsa8192): a 1 KB signature in every
 * handshake and a 1 KB key in the certificate; verified, facts as
 * usual, within the usual TLS timeout. */
TEST_T(cert_rsa8192, 120)
{
    static const char *const hosts[] = { "rsa8192.test" };
    struct cert_server cs;
    struct site *s;
    struct env e;
    struct rec *r;
    EVP_PKEY *key = rsa8192_key();

    cs_init(&cs);
    s = cs_simple(&cs, "rsa8192");
    if (tcerts_rekey(&s->leaf, key, s->issuer) != 0) {
        EVP_PKEY_free(key);
        CHECK(!"tcerts_rekey");
    }
    cs_start(&cs);
    cs_scan(&e, &cs, hosts, 1, 0);
    r = &e.recs[0];
    check_verify(r, 0, 0);
    check_facts(r, s->leaf.cert, "CN=hscan test CA", 1);
    CHECK_STR(r->tls->subject, "CN=rsa8192.test");
    check_quick(r);
    cs_stop(&cs);
    env_done(&e);
}
