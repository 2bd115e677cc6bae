/* What a probe sends: one request description, shared and
 * reference-counted.  The scanner makes one from its config at
 * hscan_new(); hscan_submit_ex() merges a target's overrides into a new
 * one once, at submit time; every probe holds a reference to exactly
 * one, so "what to send" has one answer wherever it is asked. */
#ifndef HSCAN_REQUEST_H
#define HSCAN_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include "hscan.h"
#include "target.h"

struct hscan__req {
    unsigned refs;
    char *method;
    char *path;             /* sent when the input names no path */
    char *ua;               /* the User-Agent default */
    char **hdrs;            /* the user's header lines, as given */
    size_t n_hdrs;
    char *tail;             /* the bytes after the Host line */
    size_t tail_len;
    int user_host;          /* a user line names Host: it replaces ours */
    uint64_t timeout_ms;    /* the target's whole budget */
    int http_version;       /* enum hscan_http_version offered in ALPN */

    /* ---- credentials and body (cfg.basic_auth, cfg.body) ----
     * hscan__req_build() appends the body after the blank line, for
     * the HTTP/1.1 leg; the tail already holds its Content-Length
     * (and Content-Type unless a user line names it).  An HTTP/2 leg
     * takes the head as the first len - body_len bytes of the built
     * request and sends body[0..body_len) as DATA (END_STREAM on the
     * last frame; none when body is NULL).
     * A redirect to another origin drops the credentials, and one that
     * turns the method to GET drops the body (hscan__req_redirect()). */
    char *auth;             /* "Basic <base64>", or NULL */
    const char *body;       /* NULL: no body; else body_len bytes */
    size_t body_len;
    struct hscan__req_body *body_mem;   /* owns body, shared by merges */

    /* ---- client TLS options (cfg.sni, cfg.no_sni) ----
     * The server name is the target's: a redirect to another origin
     * drops `sni` (its own host is named), keeps `no_sni`. */
    char *sni;              /* sent and verified instead of the host */
    int no_sni;
    /* The target's own TLS options (hscan_target_opts_t tls_min ...
     * ca_file): the context made for them (tls-ctxs.c, the scanner's,
     * which outlives every request), NULL for the scanner's; and its
     * insecure.  Both kept across redirects: they are the target's. */
    SSL_CTX *ssl_ctx;
    int insecure;

    /* ---- content decoding (cfg.compressed) ----
     * Accept-Encoding offers the codings built in (unless a user line
     * names it), and the body is decoded (body-decode.c); kept by
     * redirects. */
    int compressed;
};

/* A description from a config's request fields (method, path,
 * user_agent, headers: NULL for the defaults) and timeout_ms.  The
 * fields are assumed checked.  Returns 0 or HSCAN_ENOMEM; `*out` (one
 * reference) is written only on success. */
int hscan__req_new(struct hscan__req **out, const hscan_config_t *cfg);

/* `base` with the target's overrides `o` (NULL or none: `base` itself,
 * with a new reference): its method, path, timeout, credentials and
 * body when given; the base's header lines that `o` does not name,
 * then `o`'s.  Returns 0 or HSCAN_ENOMEM; `*out` written only on
 * success. */
int hscan__req_merge(struct hscan__req **out, struct hscan__req *base,
                     const hscan_target_opts_t *o);

/* What a redirect sends, as curl does: to another origin (host, port
 * or scheme: `other_origin`) no credentials — neither ours nor a user's
 * Authorization or Cookie line; for a 303 (any method but HEAD), or a
 * 301/302 answering a POST (`status`), a GET without body.  Returns 0
 * with `*out` = `base` (a new reference) when nothing changes or a new
 * description, or HSCAN_ENOMEM. */
int hscan__req_redirect(struct hscan__req **out, struct hscan__req *base,
                        int other_origin, int status);
struct hscan__req *hscan__req_ref(struct hscan__req *r);
void hscan__req_unref(struct hscan__req *r);

/* The request line, Host and tail for target `t` (its port set; a path
 * of length 0 sends r->path), then r->body, into a malloc'd buffer.
 * Returns 0 or HSCAN_ENOMEM; `*out` and `*len` written only on
 * success. */
int hscan__req_build(const struct hscan__req *r, const struct hscan__target *t,
                     char **out, size_t *len);

/* Built by hscan__req_new, exposed for the unit tests: the default
 * headers a user line does not replace (Authorization from
 * cfg->basic_auth, User-Agent, Accept, with cfg->compressed
 * Accept-Encoding, Connection, then with cfg->body Content-Length and
 * Content-Type), the user's lines (a "Name:" line with no value
 * removes that header, as curl -H), the blank line.
 * Returns a malloc'd string or NULL. */
char *hscan__request_tail(const hscan_config_t *cfg, const char *ua,
                          size_t *len_out);

#endif /* HSCAN_REQUEST_H */
