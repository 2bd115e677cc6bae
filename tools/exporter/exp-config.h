/* hscan-exporter: the blackbox_exporter YAML configuration (the http
 * prober's keys; docs/exporter.md lists them).  Parsing is pure: no
 * file is opened but the one asked for, nothing is checked against the
 * network.  Every refusal names the key and its line. */
#ifndef EXP_CONFIG_H
#define EXP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <hscan.h>

struct exp_module {
    char *name;
    unsigned line;             /* where the module's name is */
    uint64_t timeout_ms;       /* 0: none configured */
    int *valid_status;         /* empty: any 2xx */
    size_t n_valid_status;
    char **valid_versions;     /* "HTTP/1.1", "HTTP/2.0"; empty: any */
    size_t n_valid_versions;
    char *method;              /* "GET" */
    char **headers;            /* "Name: value" */
    size_t n_headers;
    char *body;                /* NULL: none */
    size_t body_len;
    int no_follow;
    int fail_if_ssl, fail_if_not_ssl;
    char *ca_file, *cert_file, *key_file, *server_name;
    int insecure;
    int tls_min;               /* enum hscan_tls_version, 0: default */
    char *basic_auth;          /* "user:pass" or NULL */
    char *proxy_url;
    int prefer_family;         /* 4 or 6 (blackbox's default: ip6) */
    int fallback;              /* ip_protocol_fallback, default 1 */
    /* ---- regular expressions (fail_if_body_*, fail_if_header_*):
     * the module scanner's cfg.matchers, in the order the probe
     * checks them (exp-facts.c): header filters, header matches,
     * body filters, body matches, and last the one header match that
     * allows a missing header.  `re_flags[i]` (EXP_RE_*) for each;
     * the patterns point into `regex_strings` ---- */
    hscan_matcher_t *matchers;
    size_t n_matchers;
    unsigned char *re_flags;
    char **regex_strings;      /* header names and patterns, owned */
    size_t n_regex_strings;
    /* ---- batch mode (hscan-exporter's own keys) ---- */
    char **targets;
    size_t n_targets;
    uint64_t interval_ms;      /* 0 without targets */
};

enum {
    EXP_RE_ALLOW_MISSING = 1,  /* a header match spec's allow_missing */
    EXP_RE_MATCHES_EMPTY = 2   /* a body regex that matches an empty
                                  body (a response without one: HEAD,
                                  204, 304; exp-facts.c) */
};

struct exp_config {
    struct exp_module *mods;
    size_t n_mods;
};

/* Parse `len` bytes of YAML into `*out` (untouched on failure).  Returns 0,
 * or -1 with the reason ("line 7: key 'foo': unknown key") in `err`. */
int exp_config_parse(const char *text, size_t len, struct exp_config *out,
                     char *err, size_t size);
/* Read and parse a file; the reason names the file on failure. */
int exp_config_load(const char *path, struct exp_config *out, char *err,
                    size_t size);
void exp_config_free(struct exp_config *cfg);
const struct exp_module *exp_config_module(const struct exp_config *cfg,
                                           const char *name);
/* A Prometheus duration ("1m30s", "500ms", "2h"): 0 and *ms, or -1. */
int exp_parse_duration(const char *s, uint64_t *ms);

#endif
