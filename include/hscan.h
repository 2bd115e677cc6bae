/* libhscan: collect HTTP response facts from many hosts on one libuv loop.
 *
 * SPDX-License-Identifier: MIT
 *
 * Threading: every function here must be called on the thread that runs the
 * scanner's loop.  The library never starts a thread and never uses libuv's
 * threadpool.  It never calls uv_run(): the caller owns and runs the loop.
 *
 * Errors: functions return 0 (or a non-negative count) on success and a
 * negative HSCAN_E* code on failure.  A call that returns an error never
 * fires its callback.
 *
 * Pointers: every function checks the pointers it is given.  NULL where
 * one is required gives HSCAN_EINVAL, or for a function that returns
 * something else the neutral value its comment names (0, nothing done),
 * never a crash; which pointers may be NULL is said with each function.
 */
#ifndef HSCAN_H
#define HSCAN_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HSCAN_BUILDING) && defined(__GNUC__)
#define HSCAN_EXPORT __attribute__((visibility("default")))
#else
#define HSCAN_EXPORT
#endif

#define HSCAN_VERSION_MAJOR 0
#define HSCAN_VERSION_MINOR 1
#define HSCAN_VERSION_PATCH 0
#define HSCAN_VERSION_STRING "0.1.0"

/* Version of the result record layout (the "schema" key of the JSON record).
 * Bumped whenever the meaning of an existing field changes; new fields may
 * be added without a bump. */
#define HSCAN_SCHEMA_VERSION 2

/* Error table: code, identifier suffix, stable name, sentence.
 * Codes are negative, explicit, append-only and never reused.  The stable
 * name is what the JSON record's "error" key carries. */
#define HSCAN_ERRNO_MAP(XX)                                                  \
    XX(-1, EINVAL, "invalid_argument", "invalid argument")                   \
    XX(-2, ENOMEM, "out_of_memory", "out of memory")                         \
    XX(-3, EBUSY, "busy", "operation not allowed in this state")             \
    XX(-4, ECLOSED, "closed", "scanner is closing")                          \
    XX(-5, EINIT, "init_failed", "library initialisation failed")            \
    XX(-6, ENOTFOUND, "not_found",                                           \
       "no such target queued or in flight")                                 \
    XX(-10, EINVALID_TARGET, "invalid_target", "input is not a valid target") \
    XX(-20, EDNS_NXDOMAIN, "dns_nxdomain", "domain does not exist")          \
    XX(-21, EDNS_SERVFAIL, "dns_servfail", "DNS server failure")             \
    XX(-22, EDNS_REFUSED, "dns_refused", "DNS query refused")                \
    XX(-23, EDNS_TIMEOUT, "dns_timeout", "DNS lookup timed out")             \
    XX(-24, EDNS_NO_ADDRESS, "dns_no_address",                               \
       "name has no address of the requested family")                        \
    XX(-25, EDNS_FAILED, "dns_failed", "DNS lookup failed")                  \
    XX(-30, ECONNECT_REFUSED, "connect_refused", "connection refused")       \
    XX(-31, ECONNECT_TIMEOUT, "connect_timeout", "connect timed out")        \
    XX(-32, ECONNECT_UNREACHABLE, "connect_unreachable",                     \
       "network or host unreachable")                                        \
    XX(-33, ECONNECT_RESET, "connect_reset", "connection reset on connect")  \
    XX(-34, ERESOURCE_EXHAUSTED, "resource_exhausted",                       \
       "local resource exhausted (descriptors, ports or memory)")            \
    XX(-38, ESOURCE_UNUSABLE, "source_unusable",                             \
       "no usable source address (cfg.source_ips) for the destination")     \
    XX(-40, ETLS_HANDSHAKE, "tls_handshake", "TLS handshake failed")         \
    XX(-41, ETLS_CERT_INVALID, "tls_cert_invalid",                           \
       "certificate verification failed")                                    \
    XX(-42, ETLS_TIMEOUT, "tls_timeout", "TLS handshake timed out")          \
    XX(-43, ETLS_PLAINTEXT_REPLY, "tls_plaintext_reply",                     \
       "server answered TLS with plain text")                                \
    XX(-44, ETLS_ALERT, "tls_alert", "server sent a fatal TLS alert")        \
    XX(-50, EWRITE_FAILED, "write_failed", "sending the request failed")     \
    XX(-51, EREAD_TIMEOUT, "read_timeout", "no data received in time")       \
    XX(-52, EREAD_CLOSED, "read_closed",                                     \
       "connection closed before the response header ended")                 \
    XX(-53, EREAD_RESET, "read_reset", "connection reset while reading")     \
    XX(-54, EHTTP_PARSE, "http_parse", "response is not valid HTTP")         \
    XX(-55, EHEADER_TOO_LARGE, "header_too_large",                           \
       "response header block exceeds the byte limit")                       \
    XX(-56, ETOO_MANY_HEADERS, "too_many_headers",                           \
       "response has more header fields than the limit")                     \
    XX(-60, ETOO_MANY_REDIRECTS, "too_many_redirects",                       \
       "redirect limit reached")                                             \
    XX(-70, ETIMEOUT, "timeout", "total time limit for the target reached")  \
    XX(-71, ECANCELED, "canceled", "scan closed before the target finished") \
    XX(-80, EH2_NOT_NEGOTIATED, "h2_not_negotiated",                        \
       "HTTP/2 alone was offered and the server did not pick it")           \
    XX(-81, EH2_GOAWAY, "h2_goaway",                                         \
       "HTTP/2 GOAWAY before the response")                                  \
    XX(-82, EH2_RST_STREAM, "h2_rst_stream",                                 \
       "HTTP/2 stream reset before the response")                            \
    XX(-83, EH2_PROTOCOL, "h2_protocol_error",                               \
       "the server broke the HTTP/2 protocol")                               \
    XX(-90, EPROXY_UNREACHABLE, "proxy_unreachable",                         \
       "cannot connect to the proxy")                                        \
    XX(-91, EPROXY_REFUSED, "proxy_refused",                                 \
       "the proxy refused the request")                                      \
    XX(-92, EPROXY_AUTH, "proxy_auth_failed",                                \
       "the proxy wants other credentials")                                  \
    XX(-93, EPROXY_TARGET_UNREACHABLE, "proxy_target_unreachable",           \
       "the proxy could not reach the target")                               \
    XX(-94, EPROXY_PROTOCOL, "proxy_protocol_error",                         \
       "the proxy's reply is not its protocol")                              \
    XX(-95, EPROXY_TIMEOUT, "proxy_timeout",                                 \
       "no proxy reply in time")                                             \
    XX(-100, EEXCLUDED, "excluded",                                          \
       "the target, a name on its way or every address it resolved to is "  \
       "excluded")

enum hscan_errno {
#define HSCAN_XX_(code, id, name, msg) HSCAN_##id = (code),
    HSCAN_ERRNO_MAP(HSCAN_XX_)
#undef HSCAN_XX_
    HSCAN_ERRNO_MAX_ = -1000
};

/* Stable short name of an error code ("dns_nxdomain"), as used in JSON.
 * Returns a static string; "unknown_error" for codes not in the table and
 * "ok" for 0. */
HSCAN_EXPORT const char *hscan_err_name(int code);

/* One English sentence describing an error code.  Returns a static string;
 * a constant text for unknown codes. */
HSCAN_EXPORT const char *hscan_strerror(int code);

/* The library version as "MAJOR.MINOR.PATCH".  Static string. */
HSCAN_EXPORT const char *hscan_version(void);

/* The optional features built in, space-separated, in a fixed order:
 * "http2" (nghttp2), "zlib" (gzip and deflate decoding), "brotli" (br
 * decoding), "pcre2" (matchers, filters, extractors).  "" when none.
 * Static string. */
HSCAN_EXPORT const char *hscan_features(void);

typedef struct hscan hscan_t;
typedef struct hscan_config hscan_config_t;
typedef struct hscan_result hscan_result_t;
typedef struct hscan_favicon hscan_favicon_t;

/* One response header, exactly as received: `name` and `value` are not
 * NUL-terminated and may contain any byte, NUL included. */
typedef struct hscan_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} hscan_header_t;

/* ---- stapled OCSP and SCTs (hscan_tls_t.ocsp, .scts) ---- */
/* The OCSP response the server stapled (status_request, RFC 6066 8;
 * asked for in every handshake, never fetched from the network). */
typedef struct hscan_tls_ocsp {
    int stapled;              /* 1 when a response was stapled; the rest
                                 is NULL/0 otherwise */
    const char *status;       /* "good", "revoked", "unknown": the leaf's
                                 status; NULL when the response is
                                 unreadable, unsuccessful or has none for
                                 the leaf (then `error` says which) */
    const char *revoked_at;   /* RFC 3339 UTC when revoked, else NULL */
    const char *reason;       /* CRLReason name ("keyCompromise") when
                                 revoked and given, else NULL */
    const char *this_update;  /* RFC 3339 UTC, NULL when absent */
    const char *next_update;
    int verified;             /* 1: has the leaf's status, is current
                                 (5 minutes' skew), and is signed by the
                                 leaf's issuer as sent in the chain or by
                                 a responder certificate it issued for
                                 OCSP signing */
    const char *error;        /* why it is not verified; NULL when it is */
} hscan_tls_ocsp_t;

/* One Signed Certificate Timestamp (RFC 6962 3.2). */
typedef struct hscan_tls_sct {
    const char *source;       /* "x509" (the leaf's extension), "tls"
                                 (the TLS extension) or "ocsp" (the
                                 stapled response's) */
    const char *log_id;       /* base64 of the log's id (SHA-256 of its
                                 key), as in CT log lists; NULL for an SCT
                                 version other than 1 */
    const char *timestamp;    /* RFC 3339 UTC with milliseconds; NULL
                                 when past year 9999 or not version 1 */
} hscan_tls_sct_t;

/* TLS facts of a target's last TLS connection, as far as its handshake
 * got: present once the server's hello was processed or the server sent
 * a fatal alert, also when the handshake, verification or the HTTP
 * exchange then failed.  The certificate fields (verify_code to
 * spki_sha256, san, chain_len) are filled when the server's certificate
 * arrived; without one, subject and the other strings are NULL, n_san,
 * days_left and chain_len 0, verified 0 and verify_code -1.  Strings
 * are NUL-terminated; owned by the scanner like the result they hang
 * off. */
/* One certificate of the chain (hscan_tls_t.chain, cfg.tls_chain).
 * Strings in the forms of hscan_tls_t's leaf facts. */
typedef struct hscan_cert {
    const char *subject;      /* RFC 2253 form */
    const char *issuer;
    const char *serial;       /* lowercase hex; NULL when over 64 bytes */
    const char *not_before;   /* RFC 3339 UTC; NULL when unreadable */
    const char *not_after;
    const char *sha256;       /* certificate DER, lowercase hex */
    const char *spki_sha256;  /* SubjectPublicKeyInfo DER, hex */
    const char *key_type;     /* "RSA", "RSA-PSS", "EC", "Ed25519",
                                 "Ed448", "DSA"; else OpenSSL's short
                                 name of the key algorithm, or its
                                 dotted OID */
    int key_bits;             /* key size in bits; 0 when unknown */
    const char *sig_alg;      /* the certificate's signature algorithm
                                 by OpenSSL's long name
                                 ("sha256WithRSAEncryption",
                                 "ecdsa-with-SHA256"), or dotted OID */
    int is_ca;                /* basicConstraints says cA TRUE */
} hscan_cert_t;

/* The most certificates hscan_tls_t.chain and .verified_chain keep. */
#define HSCAN_TLS_CHAIN_MAX 10

typedef struct hscan_tls {
    const char *version;      /* "TLSv1.3": what the server's hello
                                 chose, also when the handshake then
                                 failed; NULL when no hello was
                                 processed (only an alert came) */
    const char *cipher;       /* NULL exactly when version is */
    const char *alpn;         /* protocol the server selected, or NULL */
    int verified;             /* chain and host name verified */
    long verify_code;         /* OpenSSL X509_V_* code, 0 when verified,
                                 -1 when no certificate arrived */
    const char *verify_error; /* OpenSSL's text, NULL when verified or
                                 when no certificate arrived */
    const char *subject;      /* RFC 2253 form; NULL exactly when no
                                 certificate arrived */
    const char *issuer;
    const char *const *san;   /* DNS names and IP addresses */
    size_t n_san;
    const char *serial;       /* lowercase hex, "-" first when negative;
                                 NULL when over 64 bytes */
    const char *not_before;   /* RFC 3339 UTC, "2026-01-31T12:00:00Z";
                                 NULL when unreadable */
    const char *not_after;    /* likewise (then days_left is 0) */
    long days_left;           /* whole days until not_after; negative
                                 once expired */
    const char *sha256;       /* leaf certificate DER, lowercase hex */
    const char *spki_sha256;  /* leaf SubjectPublicKeyInfo DER, hex */
    int chain_len;            /* certificates the server sent */
    const size_t *san_len;    /* byte length of each san[i]: a name may
                                 hold a NUL byte */
    size_t n_san_total;       /* DNS names and IP addresses in the
                                 certificate's SAN extension; more than
                                 n_san when san_truncated */
    int san_truncated;        /* 1 when san holds only the first n_san:
                                 at most 1,000 (and 256,000 bytes) are
                                 kept */
    const char *alert;        /* the fatal alert the server sent, by its
                                 RFC 8446 name ("certificate_required";
                                 "unassigned_N" for an unnamed code), or
                                 NULL */
    int alert_code;           /* its description number, -1 when none */
    /* ---- handshake parameters and server fingerprints ---- */
    const char *group;        /* key exchange group, IANA name:
                                 "x25519", "secp256r1"; NULL when none
                                 was named (TLS 1.2 RSA key exchange,
                                 DHE with the server's own parameters)
                                 or the handshake stopped before it */
    const char *sigalg;       /* the server's handshake signature, IANA
                                 SignatureScheme name
                                 ("rsa_pss_rsae_sha256"); NULL when the
                                 server signed nothing */
    int ticket;               /* 1 when the server sent a
                                 NewSessionTicket before the record was
                                 built (TLS 1.3: after the handshake) */
    int hello_retry;          /* 1 when a HelloRetryRequest came first */
    const unsigned short *extensions; /* the ServerHello's extension
                                 types in the order sent (at most 32) */
    size_t n_extensions;
    const char *ja3s;         /* JA3S and JA4S fingerprints of the
                                 ServerHello (docs/results.md); NULL
                                 when no hello was parsed or it had
                                 over 32 extensions */
    const char *ja4s;

    /* ---- the whole chain (cfg.tls_chain, hscan-cli --tls-chain) ---- */
    const char *earliest_not_after; /* RFC 3339 UTC, like not_after: the
                                 soonest not_after over the verified
                                 chain (root included) when verified,
                                 else over every certificate sent; NULL
                                 when no certificate arrived (or no
                                 date could be read).  Always filled */
    long earliest_days_left;  /* whole days until it, as days_left; 0
                                 when it is NULL */
    const hscan_cert_t *chain; /* cfg.tls_chain: the certificates the
                                 server sent, in the order sent (leaf
                                 first), the first HSCAN_TLS_CHAIN_MAX;
                                 an empty array (n_chain 0) when none
                                 arrived.  NULL without cfg.tls_chain */
    size_t n_chain;
    const char *const *verified_chain; /* cfg.tls_chain and verified:
                                 the SHA-256 (DER, lowercase hex) of
                                 each certificate of the verified path,
                                 leaf first, root last (the first
                                 HSCAN_TLS_CHAIN_MAX).  NULL otherwise */
    size_t n_verified_chain;
    int chain_truncated;      /* 1 when chain or verified_chain stops
                                 short of what there was */

    /* ---- stapled OCSP and SCTs ---- */
    hscan_tls_ocsp_t ocsp;
    const hscan_tls_sct_t *scts; /* from the certificate, the TLS
                                 extension and the stapled response, in
                                 that order; the first 32 are kept */
    size_t n_scts;
    size_t n_scts_total;      /* all of them, n_scts when none left out */
} hscan_tls_t;

/* HTTP/2 facts of the connection that gave the final response (or the
 * last one tried), as the server sent them: what HTTP/2 fingerprinting
 * reads. */
typedef struct hscan_h2_setting {
    unsigned id;              /* SETTINGS parameter, e.g. 3
                                 MAX_CONCURRENT_STREAMS; unknown ids
                                 kept too */
    unsigned long value;
} hscan_h2_setting_t;

typedef struct hscan_h2 {
    const hscan_h2_setting_t *settings; /* the server's first SETTINGS
                                 frame, in the order sent (at most 64
                                 kept) */
    size_t n_settings;
    long long window_update;  /* its first connection WINDOW_UPDATE
                                 increment, -1 when none came */
    int goaway;               /* 1 when a GOAWAY came: */
    unsigned long goaway_code;        /* its error code */
    unsigned long goaway_last_stream; /* its last stream id */
    int rst_stream;           /* 1 when our stream was reset: */
    unsigned long rst_code;   /* the RST_STREAM error code */
} hscan_h2_t;

/* One redirect response that was followed. */
typedef struct hscan_hop {
    const char *url;          /* URL requested */
    int status;
    const char *location;     /* Location value as received */
    size_t location_len;
    const char *ip;           /* address connected to */
    double total_ms;          /* from the start of this hop to its answer */
} hscan_hop_t;

/* Security-header audit of a response (cfg.audit): what a browser would
 * enforce from its headers.  Each check is one of: */
enum hscan_audit_state {
    HSCAN_AUDIT_MISSING = 0,  /* header absent */
    HSCAN_AUDIT_OK = 1,       /* present and valid */
    HSCAN_AUDIT_INVALID = 2   /* present, but a browser would ignore it or
                                 it protects nothing (e.g. max-age=0) */
};

typedef struct hscan_audit {
    int hsts;                 /* Strict-Transport-Security; on a plain
                                 http:// response browsers ignore it, so
                                 it is INVALID there */
    long long hsts_max_age;   /* seconds, -1 when absent or unreadable */
    int hsts_include_subdomains;
    int hsts_preload;
    int csp;                  /* Content-Security-Policy (enforced, not
                                 Report-Only) */
    int csp_frame_ancestors;  /* the CSP has a frame-ancestors directive */
    int x_content_type_options; /* OK only for "nosniff" */
    int x_frame_options;      /* OK for DENY or SAMEORIGIN */
    int framing;              /* OK when X-Frame-Options is OK or the CSP
                                 has frame-ancestors: clickjacking
                                 protection either way */
    int referrer_policy;      /* OK when a token browsers know is given */
    int permissions_policy;   /* OK when it parses as a structured-field
                                 dictionary */
    unsigned cookies;         /* Set-Cookie headers */
    unsigned cookies_secure;  /* ... with Secure */
    unsigned cookies_httponly; /* ... with HttpOnly */
    unsigned cookies_samesite; /* ... with a valid SameSite */
    const char *weak_cookies; /* names of cookies missing Secure,
                                 HttpOnly or SameSite, comma-separated,
                                 NUL-terminated; "" when none */
    const char *missing;      /* names of the checks that are not OK,
                                 comma-separated ("hsts,csp,..."; the
                                 JSON key names); "" when all pass */
    int passed;               /* checks OK out of `checks` */
    int checks;               /* hsts, csp, x_content_type_options,
                                 framing, referrer_policy,
                                 permissions_policy, cookies (OK when
                                 every cookie has all three flags or
                                 there is none): 7 */
} hscan_audit_t;


/* One value an extractor found (cfg.extract): `key` is the pattern's
 * named group, or "extract_N" (N from 1, the pattern's place in
 * cfg.extract) for the whole match of a pattern without named groups;
 * `value` holds value_len bytes (any byte; also NUL-terminated). */
typedef struct hscan_extract {
    const char *key;
    const char *value;
    size_t value_len;
} hscan_extract_t;

/* Caps of r->extracts per record: values, and value bytes in all. */
#define HSCAN_EXTRACT_MAX 32
#define HSCAN_EXTRACT_BYTES 4096
/* Read-only view of one finished target.  Every pointer in it is owned by
 * the scanner and valid only until the result callback returns; copy what
 * you keep.  Strings are NUL-terminated unless a length is given with them
 * (those may hold any byte).  Fields that were not reached are NULL, 0 or
 * -1 as documented.  The library may append fields; it never reorders or
 * removes them, and only the library allocates this struct. */
/* cfg.hash: which hashes of the body bytes read a record holds. */
#define HSCAN_HASH_SHA256 1u
#define HSCAN_HASH_MD5 2u
#define HSCAN_HASH_MMH3 4u

/* The page's icon (cfg.favicon; docs/results.md "favicon"), fetched
 * after the final response with a second request of the same target.
 * Its failure never fails the target. */
struct hscan_favicon {
    /* The icon's URL: the first <link rel="icon"> (or "shortcut icon";
     * else "apple-touch-icon") href in the body bytes read, resolved
     * against the final URL, when it is of the same origin; else
     * /favicon.ico there.  A data: URI is hashed as it stands, not
     * fetched: `url` is then its head up to the comma. */
    const char *url;
    int status;             /* the icon response's; 0: none (data:) */
    size_t bytes;           /* bytes read of its body */
    int truncated;          /* 1: more than cfg.favicon_bytes: cut,
                               and no hashes */
    /* With a 2xx (or data:) icon read whole: its Shodan hash
     * (has_mmh3 1), hex MD5 and SHA-256; NULL / 0 otherwise. */
    int has_mmh3;
    int32_t mmh3;
    const char *md5;
    const char *sha256;
    double ms;              /* the icon's fetch, connect to last byte;
                               0 for data: */
    int error;              /* 0, or why the icon fetch failed (an
                               HSCAN_E* code: timeout, connect_...) */
    const char *error_detail;   /* with `error` */
};

struct hscan_result {
    int error;                /* 0 or a negative HSCAN_E* code */
    const char *error_detail; /* human detail or NULL */
    void *udata;              /* the value given with the target */

    const char *input;        /* the input line, trimmed */
    size_t input_len;
    const char *url;          /* normalised URL requested, or NULL */
    const char *scheme;       /* "http" or "https" (the one that answered),
                                 NULL when the input was invalid */
    const char *host;         /* host name or address literal, or NULL */
    const char *ip;           /* address connected to, or NULL */
    int port;                 /* 0 when unknown */

    int status;               /* HTTP status, 0 when no response */
    const char *reason;       /* reason phrase (may be empty), or NULL */
    size_t reason_len;
    int http_major;           /* -1 when no response */
    int http_minor;
    const hscan_header_t *headers; /* in order, duplicates kept */
    size_t n_headers;

    const char *const *addresses;  /* every address DNS returned */
    size_t n_addresses;
    const char *const *cnames;     /* CNAME chain from the query name on */
    size_t n_cnames;

    /* Durations in milliseconds, -1 when the phase did not happen: `dns`
     * the lookup, `connect` the TCP handshake that succeeded (earlier
     * failed attempts count in `total` only), `tls` the handshake, `ttfb`
     * from the request written to the first response byte, `total` from
     * taking the target to its result. */
    double dns_ms;
    double connect_ms;
    double tls_ms;
    double ttfb_ms;
    double total_ms;

    const hscan_tls_t *tls;       /* NULL when the server never answered
                                     in TLS (no hello, no alert) */
    const hscan_hop_t *redirects; /* redirects followed, in order: the
                                     first response is redirects[0] */
    size_t n_redirects;
    /* https-first: why HTTPS was given up before HTTP answered; 0 and
     * NULL when there was no fallback. */
    int fallback_error;
    const char *fallback_detail;

    /* The target's number: from 1, in the order targets were submitted
     * (hscan_submit*()) or pulled, unique within the scanner.  Every
     * record of one target carries its id: both of HSCAN_SCHEME_BOTH,
     * and each unit of cfg.paths and cfg.all_ips. */
    uint64_t id;

    /* From the final response's headers (any request): the first
     * Content-Type value, NULL when absent; Content-Length, -1 when
     * absent or not a number. */
    const char *content_type;
    size_t content_type_len;
    long long content_length;
    /* With cfg.body_bytes > 0 and a response: the start of the body as
     * received after the header block, decoded from chunked transfer
     * coding (and, with cfg.compressed, from its content codings: see
     * body_decoding below), at most body_bytes; `body_len` is
     * how many bytes were read, `body` those bytes with cfg.body_keep
     * (NULL when nothing was read, and always without body_keep).
     * `body_truncated` is 1 when the body went on past what was read.
     * `body_sha256` is the hex SHA-256 of the bytes read (of the empty
     * string when the body was empty), NULL when no body was read for
     * lack of a response or body_bytes is 0.  `title` is the text of
     * the first HTML <title> element in those bytes with character
     * references decoded and white space collapsed, NULL when there is
     * none (its bytes are UTF-8 where the page's are).  Both are
     * computed as the bytes arrive, kept or not. */
    const char *body;
    size_t body_len;
    int body_truncated;
    const char *body_sha256;
    const char *title;
    size_t title_len;
    /* With cfg.audit and a response: the final response's security
     * headers; NULL otherwise. */
    const hscan_audit_t *audit;
    /* What was odd about the final response's head: stable names
     * ("cl_and_te", "obs_fold"...; docs/results.md), each at most once,
     * in the documented order; filled with or without an error. */
    const char *const *anomalies;
    size_t n_anomalies;
    /* 1xx statuses received before the final response, in order (at
     * most 16, the first ones). */
    const int *interim;
    size_t n_interim;
    /* 1 when the header block ended with its blank line, 0 when it was
     * cut (by the close, a limit, an error: then `status` and `headers`
     * hold what was read before the cut); 0 without a status. */
    int headers_complete;
    /* With HTTP/2 on the final connection (http_major 2): its facts,
     * also when the target then failed; NULL otherwise.  An HTTP/2
     * response has no reason phrase: `reason` is NULL. */
    const hscan_h2_t *h2;
    /* The proxy the final connection went through, without
     * credentials ("socks5://127.0.0.1:1080"), NULL when direct; and
     * its handshake, in ms (-1 when it did not happen).  Behind an
     * http:// or socks5h:// proxy the target's address is the proxy's
     * business: `ip` is NULL and no lookup is made (`dns_ms` -1). */
    const char *proxy;
    double proxy_ms;
    /* ---- retries (cfg.retries) ---- */
    /* Connection attempts of the final hop (the one `url` names, per
     * scheme after an https-first fallback): 1 when nothing was
     * retried, 0 when no connect was tried (DNS failure, invalid
     * target, canceled or timed out before it). */
    unsigned attempts;

    /* ---- many paths (cfg.paths) ---- */
    /* The listed path this record's unit requested (also when a
     * redirect then went elsewhere), NULL without cfg.paths. */
    const char *path;

    /* ---- body hashes and favicon (cfg.hash, cfg.favicon) ---- */
    /* With a body read and cfg.hash naming them: the hex MD5 of the
     * bytes read (NULL otherwise), and their Shodan favicon hash
     * (has_body_mmh3 1; MurmurHash3 x86_32 of their Base64 lines, as
     * hscan_favicon_t.mmh3).  Without HSCAN_HASH_SHA256 in cfg.hash,
     * body_sha256 is NULL. */
    const char *body_md5;
    int has_body_mmh3;
    int32_t body_mmh3;
    /* With cfg.favicon and a response: the icon's facts; NULL
     * otherwise (no response, or an error before it). */
    const hscan_favicon_t *favicon;
    /* ---- content decoding (cfg.compressed) ---- */
    /* 1 when the final request offered codings and a body was read
     * (body_sha256 set); then body, body_len, body_sha256 and title
     * are of the decoded bytes, and: `body_wire_len` the bytes of the
     * body as sent (after chunked decoding; body_len when nothing was
     * decoded); `body_encoding` its Content-Encoding codings in the
     * order applied, lowercased, ", "-separated ("gzip", "gzip, br";
     * identity dropped; a byte that cannot be in a coding name as
     * '?'), NULL when none; `body_decode` how decoding went, a stable
     * name (docs/results.md: "done", "decoded_limit", "wire_limit",
     * "cut", "corrupt", "trailing_data", "unknown_encoding",
     * "too_many_encodings", "no_memory"), NULL when nothing was
     * decoded (no coding, or no byte).  0, 0 and NULL otherwise. */
    int body_decoding;
    size_t body_wire_len;
    const char *body_encoding;
    const char *body_decode;
    /* ---- matchers, filters, extractors (cfg.matchers, cfg.extract;
     * docs/api.md "Matchers and filters") ---- */
    /* Words and lines of the body bytes read, as httpx counts them:
     * words, the SP bytes plus one; lines, the LF bytes between the
     * first and the last byte that is not ASCII white space, plus one
     * (1 when every byte is white space).  0 for an empty body, -1
     * when no body was read. */
    long long body_words;
    long long body_lines;
    /* 1 when cfg.matchers say the record is not wanted (a match that
     * failed, a filter that matched); it is delivered all the same and
     * the caller decides.  `filtered_by` is the index in cfg.matchers
     * of the first that decided, -1 when none did. */
    int filtered;
    int filtered_by;
    /* With cfg.n_extract: what the extractors found, in pattern order
     * then match order, at most HSCAN_EXTRACT_MAX values and
     * HSCAN_EXTRACT_BYTES value bytes; `extracts_truncated` is 1 when
     * more were found.  NULL and 0 when none. */
    const hscan_extract_t *extracts;
    size_t n_extracts;
    int extracts_truncated;
};

/* Pull callback: the scanner calls it on the loop thread whenever a slot is
 * free.  Set `*line`/`*len` to the next input line (it need stay valid
 * only until this callback returns: the scanner copies it) and `*udata` to
 * anything you want back in the result.
 * Return HSCAN_NEXT_TARGET when a line was given, HSCAN_NEXT_LATER when none
 * is ready yet (call hscan_feed() once one is), or HSCAN_NEXT_END when the
 * input is over (the callback is not called again). */
enum hscan_next {
    HSCAN_NEXT_END = -1,
    HSCAN_NEXT_LATER = 0,
    HSCAN_NEXT_TARGET = 1
};
typedef int (*hscan_next_cb)(hscan_t *scan, void *arg, const char **line,
                             size_t *len, void **udata);

/* Result callback: called once per target, on the loop thread.  `r` and
 * everything it points to are valid only during the call.  You may
 * call every hscan function from inside it (on this scanner or another):
 * hscan_submit*(), hscan_cancel(), hscan_pause(), hscan_stats(),
 * hscan_close() and the rest; none of them runs a callback before it
 * returns. */
typedef void (*hscan_result_cb)(hscan_t *scan, const hscan_result_t *r,
                                void *arg);

/* Called when the input has ended (HSCAN_NEXT_END, or hscan_end_input())
 * and every target has produced its result.  The scanner is idle but
 * still open: close it with hscan_close().  Targets submitted after that
 * re-arm it, so it fires again when they are done. */
typedef void (*hscan_drained_cb)(hscan_t *scan, void *arg);

/* Called once from hscan_close() when every handle is closed; the scanner
 * is freed when it returns. */
typedef void (*hscan_closed_cb)(hscan_t *scan, void *arg);

/* Which scheme to use for inputs that name none (a bare host or
 * host:port; ports 80 and 443 imply http and https). */
enum hscan_scheme {
    HSCAN_SCHEME_HTTPS_FIRST = 0, /* https; on connect or handshake failure
                                     fall back to http (default) */
    HSCAN_SCHEME_HTTP = 1,
    HSCAN_SCHEME_HTTPS = 2,
    HSCAN_SCHEME_BOTH = 3         /* one record for each */
};

/* HTTP versions offered to https:// servers in TLS ALPN
 * (cfg.http_version, hscan_target_opts_t.http_version).  Without
 * HTTP/2 built in (hscan_features()) only HTTP/1.1 is spoken: the
 * default offers http/1.1 alone and HSCAN_HTTP_2 is refused. */
enum hscan_http_version {
    HSCAN_HTTP_DEFAULT = 0,   /* cfg: h2 and http/1.1, as curl and
                                 browsers; target opts: the scanner's */
    HSCAN_HTTP_1_1 = 1,       /* http/1.1 only */
    HSCAN_HTTP_2 = 2          /* h2 only: a server that does not pick
                                 it gives HSCAN_EH2_NOT_NEGOTIATED */
};


/* What a matcher looks at (hscan_matcher_t.kind). */
enum hscan_match_kind {
    HSCAN_MATCH_STRING = 1,   /* `pattern` occurs in the body bytes read,
                                 ASCII letters in any case */
    HSCAN_MATCH_REGEX = 2,    /* the PCRE2 `pattern` matches somewhere in
                                 the body bytes read */
    HSCAN_MATCH_HEADER = 3,   /* the PCRE2 `pattern` matches a header
                                 line "Name: value" of the final
                                 response, or with `header` one value of
                                 that header (name in any case) */
    HSCAN_MATCH_LENGTH = 4,   /* the content length in [low, high]: the
                                 Content-Length value when above 0, else
                                 the body bytes read (as httpx) */
    HSCAN_MATCH_WORDS = 5,    /* r->body_words in [low, high] */
    HSCAN_MATCH_LINES = 6,    /* r->body_lines in [low, high] */
    HSCAN_MATCH_TIME = 7,     /* r->total_ms in [low, high] ms */
    HSCAN_MATCH_STATUS = 8    /* r->status in [low, high] (0: none) */
};

/* One matcher or filter (cfg.matchers).  A match keeps only the
 * records it matches, a filter drops the ones it matches.  The rules
 * (httpx's): a record is kept when every filter fails to match, every
 * REGEX and HEADER match matches, and for each other kind that has
 * matches, at least one of them matches.  A record without a response
 * matches no pattern and no range but TIME and STATUS 0. */
typedef struct hscan_matcher {
    int kind;                 /* enum hscan_match_kind */
    int filter;               /* 0: match, 1: filter */
    const char *pattern;      /* STRING, REGEX, HEADER; else NULL */
    const char *header;       /* HEADER: a header name, or NULL: any
                                 header line */
    long long low, high;      /* numeric kinds: the range, both
                                 included, 0 <= low <= high */
} hscan_matcher_t;
/* Scanner settings.  Fill with hscan_config_init(), then edit.  Strings
 * and arrays are copied by hscan_new(); free them after it returns. */
struct hscan_config {
    unsigned concurrency;      /* targets in flight at once; default 1000 */
    uint64_t timeout_ms;       /* absolute per target; default 15000 */
    uint64_t dns_timeout_ms;   /* default 5000 */
    uint64_t connect_timeout_ms; /* per address attempt; default 5000 */
    uint64_t read_timeout_ms;  /* idle: no byte for this long; 10000 */

    const char *method;        /* default "GET" */
    const char *path;          /* default "/" when the input has none */
    const char *user_agent;    /* default "hscan/<version>" */
    const char *const *headers; /* extra "Name: value" lines.  One named
                                   Host, User-Agent, Accept or Connection
                                   replaces the default; "Name:" with no
                                   value removes that default */
    size_t n_headers;

    const char *resolvers;     /* "ip[:port],ip[:port]"; NULL = system */
    int family;                /* 0 both, 4 IPv4 only, 6 IPv6 only */

    size_t max_header_bytes;   /* status line + header block; 65536 */
    unsigned max_headers;      /* header fields; default 256 */

    int scheme;                /* enum hscan_scheme; https-first */
    unsigned follow;           /* redirects to follow; default 0 */
    uint64_t tls_timeout_ms;   /* TLS handshake; default 5000 */
    const char *ca_file;       /* extra trusted CAs (PEM), or NULL */
    int insecure;              /* a certificate that fails verification
                                  is reported, not an error */
    unsigned rate;             /* input lines taken per second, evenly
                                  spaced; 0 (default): no limit */
    unsigned burst;            /* lines that may start back to back under
                                  `rate`; 0: rate/50, at least 1 */
    unsigned max_per_ip;       /* connections open at once to one
                                  address; more wait their turn (that
                                  wait does not count against their
                                  timeouts).  0 (default): no limit */
    unsigned dns_rate;         /* DNS queries per second per resolver
                                  (A and AAAA count one each); 0
                                  (default): no cap */
    unsigned dns_cache;        /* DNS answers kept for reuse (schemes,
                                  ports, redirects, repeated names) for
                                  their TTL, at most 600 s; negative
                                  answers 60 s; failures never.  Default
                                  4096; 0 keeps none (lookups of one name
                                  in flight together are still shared) */

    size_t body_bytes;         /* read up to this many bytes of the body
                                  after the header block (r->body, title,
                                  body_sha256); 0 (default): stop at the
                                  end of the header block.  At most
                                  16 MiB.  The deadlines still hold: a
                                  body that stops coming gives what
                                  arrived, with body_truncated.  The
                                  title and digest are computed as the
                                  bytes arrive: a target in flight holds
                                  the bytes read only with body_keep,
                                  else only its title's raw text */
    int body_keep;             /* 1 (default): keep the bytes read as
                                  r->body; 0: r->body is NULL (body_len,
                                  body_truncated, body_sha256 and title
                                  are filled either way).  0 or 1 */
    int audit;                 /* fill r->audit */

    unsigned shard_index;      /* with shard_count > 1, scan only the  */
    unsigned shard_count;      /* pulled lines for which hscan_shard_of()
                                  returns shard_index; the others get no
                                  record (they are another shard's).
                                  Submitted targets are never skipped.
                                  0 or 1 (default): no sharding */

    hscan_next_cb next_target; /* may be NULL when only hscan_submit() */
    hscan_result_cb on_result; /* required */
    hscan_drained_cb on_drained; /* may be NULL */
    void *arg;                 /* passed to every callback */

    int strict;                /* 0 (default): read what curl reads and
                                  name each deviation in r->anomalies;
                                  1: the deviations llhttp's strict mode
                                  refused (docs/results.md) make the
                                  target an HSCAN_EHTTP_PARSE error */
    int http_version;          /* enum hscan_http_version, for https:// */
    int h2c;                   /* 1: http:// targets speak HTTP/2 with
                                  prior knowledge (RFC 9113 3.3); 0
                                  (default): HTTP/1.1.  Needs HTTP/2
                                  built in */

    /* Proxy: every connection goes through it, except to targets that
     * no_proxy names. */
    const char *proxy;         /* "http://[user:pass@]host[:port]" (HTTP
                                  CONNECT, for http and https targets;
                                  the proxy resolves the name),
                                  "socks5://..." (we resolve the target),
                                  "socks5h://..." (the proxy does).  The
                                  proxy's own name is resolved once, by
                                  hscan_new().  NULL (default): none */
    const char *no_proxy;      /* comma-separated names (with their
                                  subdomains), addresses, CIDRs, or "*",
                                  reached directly; NULL: none */
    uint64_t proxy_timeout_ms; /* the proxy's handshake (CONNECT or
                                  SOCKS5 exchange); default 5000 */

    /* ---- credentials and request body (with hscan-cli --user and
     * --data; docs/api.md "Credentials and request bodies") ---- */
    const char *basic_auth;    /* "user:pass": send "Authorization: Basic"
                                  and the base64 of these bytes (RFC
                                  7617), as curl -u does.  A header line
                                  naming Authorization replaces it.
                                  Never written to a record or to a
                                  check's detail.  NULL (default): none */
    const void *body;          /* request body of body_len bytes (any
                                  bytes), sent after the head with
                                  Content-Length and, unless a header
                                  line names it, Content-Type:
                                  application/x-www-form-urlencoded (as
                                  curl -d).  The method stays `method`.
                                  Non-NULL with body_len 0: an empty
                                  body (Content-Length: 0).  NULL
                                  (default): no body.  At most
                                  HSCAN_REQUEST_BODY_MAX bytes.  Sent
                                  again on a redirect hop, except where
                                  curl drops it (a 303, a POST's 301 or
                                  302: the hop is a GET without body).
                                  Over HTTP/2 as DATA frames */
    size_t body_len;

    /* ---- exclusions (hscan-cli --exclude) ---- */
    const char *const *exclude; /* n_exclude entries never contacted:
                                  an IPv4 or IPv6 address, a CIDR
                                  ("10.0.0.0/8", "fd00::/8"), or a host
                                  name, which covers its subdomains
                                  (case and a dot at either end
                                  ignored; "*" is refused).  Checked
                                  before any connect on the input's
                                  host, each CNAME, each resolved
                                  address (an excluded one is skipped;
                                  none left: HSCAN_EEXCLUDED) and each
                                  redirect hop's host and addresses.
                                  Behind an http:// or socks5h:// proxy
                                  the target's addresses are the
                                  proxy's business: names and literals
                                  only.  The proxy itself is never
                                  excluded.  Compiled once by
                                  hscan_new() into sorted ranges: a
                                  check costs one binary search
                                  (docs/api.md "Exclusions").
                                  NULL (default): none */
    size_t n_exclude;
    /* ---- retries (hscan-cli --retries; docs/api.md "Retries") ---- */
    unsigned retries;          /* more attempts after a transient
                                  failure before the server sent a byte
                                  (refused, reset, connect timeout,
                                  unreachable; a connection closed or
                                  reset with no byte back, when the
                                  request may go again); jittered
                                  back-off from 100 ms doubling to 2 s,
                                  within timeout_ms.  0 (default) to
                                  HSCAN_RETRIES_MAX */

    /* ---- source address (hscan-cli --source-ip) ---- */
    const char *const *source_ips; /* IPv4/IPv6 literals the sockets are
                                  bound to, round robin per family (the
                                  proxy's connections too); an address
                                  of a family none of them has is not
                                  tried (HSCAN_ESOURCE_UNUSABLE).  Copied
                                  by hscan_new().  NULL (default): the
                                  system picks */
    size_t n_source_ips;       /* at most HSCAN_SOURCE_IPS_MAX */

    /* ---- many paths and every address (hscan-cli --path, --paths,
     * --all-ips; docs/api.md "Many paths, every address") ---- */
    const char *const *paths;  /* with n_paths > 0, every target (pulled
                                  or submitted) becomes n_paths units,
                                  one per path, in this order: the
                                  listed path replaces the input's own
                                  path and query (as httpx -path; and
                                  hscan_target_opts_t.path), and
                                  each unit is its own probe and record,
                                  with r->path set.  Each must start
                                  with '/' (as `path`).  An invalid
                                  input still gives one record.  NULL
                                  (default): the input's path, else
                                  `path` */
    size_t n_paths;            /* at most HSCAN_PATHS_MAX */
    int all_ips;               /* 1: probe every address a name resolves
                                  to (with `family`, that family's),
                                  one unit and record per address, each
                                  with its own r->ip; the first address
                                  is tried by the target's own probe,
                                  the others wait for a slot ahead of
                                  new input.  Each unit connects to its
                                  address only (no fallback to another).
                                  A failed lookup and an address literal
                                  give one record.  With paths: paths x
                                  addresses.  Refused with an http:// or
                                  socks5h:// proxy (the proxy resolves).
                                  0 (default): one record per target,
                                  the addresses tried in turn */
    /* Whether a unit already has its record (an earlier run's, for
     * resuming): asked on the loop thread before the unit is probed,
     * with the trimmed input line (`input_len` bytes, not
     * NUL-terminated), the listed path (NUL-terminated; NULL without
     * `paths`) and `ip` (NULL, or with all_ips the address as r->ip
     * will show it, once the lookup has answered).  Asked with ip NULL
     * once for each record the unit would make (twice for the two
     * schemes of HSCAN_SCHEME_BOTH), before anything is sent; with
     * all_ips asked again for each address.  Return 1 to skip that unit
     * (no record, no connection; skipping with ip NULL skips the whole
     * name), 0 to probe it.  The strings are valid during the call
     * only.  NULL (default): never asked, nothing skipped. */
    int (*unit_done)(hscan_t *scan, void *arg, const char *input,
                     size_t input_len, const char *path, const char *ip);
    /* ---- address family preference (hscan-cli --prefer-ipv6,
     * --prefer-ipv4, --attempt-delay; docs/api.md "Address order") ---- */
    int prefer_family;         /* 0 (default): a name's IPv4 addresses,
                                  then its IPv6 ones, one attempt at a
                                  time.  4 or 6: that family's first,
                                  the families alternating (RFC 8305
                                  4), and an attempt that has not
                                  connected within attempt_delay_ms is
                                  raced by the next address (at most two
                                  at once; the first to connect wins).
                                  With `family` set it must be 0 or
                                  equal to it.  Behind a proxy nothing
                                  races or falls back: socks5:// sends
                                  the preferred family's address; the
                                  other schemes let the proxy resolve */
    uint64_t attempt_delay_ms; /* RFC 8305 5 "Connection Attempt Delay":
                                  how long an attempt runs alone before
                                  the next address joins it.  Default
                                  250; 10 to 2000 (the RFC's bounds; it
                                  recommends at least 100).  Used only
                                  with prefer_family */
    /* ---- the whole chain (hscan-cli --tls-chain; docs/results.md
     * "tls") ---- */
    int tls_chain;             /* 1: fill hscan_tls_t.chain (every
                                  certificate sent, with its facts) and
                                  verified_chain.  0 (default): only
                                  earliest_not_after, which is always
                                  filled */

    /* ---- client TLS options (hscan-cli --sni, --no-sni, --tls-min,
     * --tls-max, --ciphers, --ciphersuites, --curves, --cert, --key;
     * docs/api.md "Client TLS options") ---- */
    const char *sni;           /* sent as the TLS server name instead of
                                  the target's host, and the name the
                                  certificate is verified against (as
                                  blackbox_exporter's server_name, Go's
                                  tls.Config.ServerName), for IP
                                  literals too.  A redirect to another
                                  origin uses its own host.  A DNS name,
                                  not an address literal (RFC 6066 3).
                                  NULL (default): the host (none for a
                                  literal) */
    int no_sni;                /* 1: send no server name; the certificate
                                  is still verified against the host.
                                  Not with `sni`.  0 (default) or 1 */
    int tls_min;               /* enum hscan_tls_version: the oldest */
    int tls_max;               /* and newest version offered; 0
                                  (default): TLS 1.0 and the newest
                                  OpenSSL has.  tls_min <= tls_max */
    const char *ciphers;       /* TLS 1.2 and older cipher list
                                  (OpenSSL syntax, as openssl ciphers
                                  and curl --ciphers); one matching no
                                  cipher is refused.  NULL: OpenSSL's */
    const char *ciphersuites;  /* TLS 1.3 suites, colon-separated
                                  ("TLS_AES_128_GCM_SHA256"); NULL:
                                  OpenSSL's */
    const char *curves;        /* key exchange groups in order of
                                  preference, colon-separated
                                  ("X25519:P-256"); NULL: OpenSSL's */
    const char *cert_file;     /* client certificate (PEM, followed by
                                  any intermediates), sent when a server
                                  asks for one.  NULL (default): none */
    const char *key_file;      /* its private key (PEM); NULL: read from
                                  cert_file.  Only with cert_file; a key
                                  that does not match is refused */

    /* ---- body hashes and favicon (hscan-cli --hash, --favicon;
     * docs/api.md "Body hashes and the favicon") ---- */
    unsigned hash;             /* HSCAN_HASH_* or'ed: the body hashes
                                  recorded.  0 (default): SHA-256 only,
                                  as HSCAN_HASH_SHA256 */
    int favicon;               /* 1: after the final response, fetch
                                  the page's icon (its <link rel=icon>
                                  in the body bytes read, else
                                  /favicon.ico) with a second request
                                  of the same origin; its facts in
                                  hscan_result_t.favicon.  0 (default)
                                  or 1 */
    size_t favicon_bytes;      /* read at most this many bytes of the
                                  icon (more: truncated, no hashes).
                                  0 (default): 1 MiB; at most 16 MiB */
    /* ---- content decoding (hscan-cli --compressed; docs/results.md
     * "Compressed bodies") ---- */
    int compressed;            /* 1: send "Accept-Encoding: gzip, deflate,
                                  br" (the codings built in, see
                                  hscan_features(): zlib, brotli; a
                                  header line naming Accept-Encoding
                                  replaces it, as in curl) and undo the
                                  response's Content-Encoding as the
                                  body arrives: body, body_len,
                                  body_sha256 and title are of the
                                  decoded bytes, body_bytes bounds them,
                                  and r->body_wire_len, body_encoding and
                                  body_decode say what came and how
                                  decoding went.  Refused when no coding
                                  is built in.  0 (default): nothing
                                  offered, the body as it came */
    /* ---- matchers, filters, extractors (hscan-cli --match-*,
     * --filter-*, --extract; docs/api.md "Matchers and filters") ---- */
    const hscan_matcher_t *matchers; /* each decides r->filtered; the
                                  patterns are compiled by hscan_new()
                                  (PCRE2), a bad one refused */
    size_t n_matchers;         /* at most HSCAN_MATCHERS_MAX */
    const char *const *extract; /* PCRE2 patterns run over the body
                                  bytes read: r->extracts */
    size_t n_extract;          /* at most HSCAN_MATCHERS_MAX */
};

/* The most matchers (and extractors) a scanner takes. */
#define HSCAN_MATCHERS_MAX 256

/* TLS protocol versions (cfg.tls_min, cfg.tls_max). */
enum hscan_tls_version {
    HSCAN_TLS_ANY = 0,        /* no limit */
    HSCAN_TLS_1_0 = 10,
    HSCAN_TLS_1_1 = 11,
    HSCAN_TLS_1_2 = 12,
    HSCAN_TLS_1_3 = 13
};

/* The most paths a scanner takes (cfg.n_paths). */
#define HSCAN_PATHS_MAX 65536

/* The largest request body (cfg.body, hscan_target_opts_t.body): 16 MiB.
 * A probe holds a copy of its whole request while writing it. */
#define HSCAN_REQUEST_BODY_MAX (16u * 1024 * 1024)

/* The most cfg.retries and cfg.n_source_ips accept. */
#define HSCAN_RETRIES_MAX 10
#define HSCAN_SOURCE_IPS_MAX 64

/* Fill `cfg` with the defaults above.  Never fails; does nothing when
 * `cfg` is NULL. */
HSCAN_EXPORT void hscan_config_init(hscan_config_t *cfg);

/* Check `cfg` by the rules hscan_new() applies, and say which member
 * is wrong and why: members in the order declared above, the first at
 * fault reported.  Two are only checked by trying them, so hscan_new()
 * can still refuse them: `resolvers` (parsed by c-ares) and `ca_file`
 * (loaded).  The client TLS options, when set, are tried on a scratch
 * OpenSSL context (cert_file and key_file loaded and matched).
 * `cfg` is only read.  `field` and `detail` may be NULL.  They are the
 * failure report, so unlike other out-parameters they are written only
 * when the check fails, and left untouched when it passes:
 * `*field` gets the member's name as spelled in hscan_config_t
 * ("concurrency", "headers"), a static string, or NULL when `cfg` is
 * NULL; `detail` gets, in `size` bytes (NUL-terminated, cut to fit),
 * the value as the library saw it, then why it is refused ("0: must be
 * from 1 to 1000000"; strings quoted with CR, LF and other unprintable
 * bytes escaped, long ones cut).
 * Any thread; no side effects.  Returns 0 when hscan_new() would accept
 * `cfg` (up to the two tried settings), or HSCAN_EINVAL. */
HSCAN_EXPORT int hscan_config_check(const hscan_config_t *cfg,
                                    const char **field, char *detail,
                                    size_t size);

/* Create a scanner on `loop` (the caller's; it is never run by us).
 * `cfg` is copied; free it after return.  `*out` is valid until the
 * callback of hscan_close() has run.  The scanner starts pulling targets
 * on the next loop iteration.  The first scanner of the process that
 * speaks HTTPS loads the system trust store here, tens of milliseconds
 * on the loop; it is kept and shared, so later scanners (any loop, any
 * thread) do not.  Loop thread only; legal inside hscan callbacks.
 * Returns 0 or a negative HSCAN_E* code (then `*out` is untouched):
 * HSCAN_EINVAL when `out`, `loop` or `cfg` is NULL or
 * hscan_config_check() refuses `cfg` (call it to learn why), or when
 * `resolvers` or `ca_file` cannot be used. */
HSCAN_EXPORT int hscan_new(hscan_t **out, uv_loop_t *loop,
                           const hscan_config_t *cfg);

/* Queue one target (`line`, `len` bytes; copied) with `udata` for its
 * result.  Queued targets go before pulled ones.  Its result arrives later,
 * never from inside this call.  Returns 0, HSCAN_EINVAL when `scan` is
 * NULL or `line` is NULL with `len` > 0, HSCAN_ECLOSED after
 * hscan_close() or HSCAN_ENOMEM. */
HSCAN_EXPORT int hscan_submit(hscan_t *scan, const char *line, size_t len,
                              void *udata);

/* Per-target settings for hscan_submit_ex(), overriding the scanner's
 * for one target.  Fill with hscan_target_opts_init() (everything
 * "use the scanner's"), then edit.  Strings and arrays are copied by
 * hscan_submit_ex(). */
typedef struct hscan_target_opts {
    const char *method;        /* NULL: the scanner's */
    const char *path;          /* used when the input names none; NULL:
                                  the scanner's */
    const char *const *headers; /* "Name: value" lines applied after the
                                  scanner's: one naming a header the
                                  scanner sends (its own or a default)
                                  replaces it, "Name:" removes it */
    size_t n_headers;
    uint64_t timeout_ms;       /* total per target; 0: the scanner's */
    int http_version;          /* enum hscan_http_version; 0: the
                                  scanner's */

    /* ---- credentials and request body (as in hscan_config_t) ---- */
    const char *basic_auth;    /* "user:pass"; NULL: the scanner's.  A
                                  header line "Authorization:" here
                                  drops the scanner's */
    const void *body;          /* NULL: the scanner's body, if any; else
                                  this one of body_len bytes (0: empty)
                                  replaces it.  A target cannot send no
                                  body when the scanner has one */
    size_t body_len;

    /* ---- client TLS options (as in hscan_config_t) ---- */
    const char *sni;           /* this server name (and verified name)
                                  instead of the scanner's; NULL: the
                                  scanner's */
    int no_sni;                /* 1: no server name for this target, even
                                  when the scanner has `sni`; 0: the
                                  scanner's.  Not with `sni` */
    /* As in hscan_config_t; each 0 or NULL: the scanner's.  A target
     * that sets any of these is handshaken with a client context made
     * for the merged set (its own values over the scanner's), shared
     * by every target with the same set; at most 64 distinct sets per
     * scanner.  Its cert_file comes with its own key_file (NULL: the
     * key is read from cert_file), never the scanner's key. */
    int tls_min;               /* enum hscan_tls_version */
    int tls_max;
    const char *ciphers;
    const char *ciphersuites;
    const char *curves;
    const char *cert_file;
    const char *key_file;      /* only with cert_file */
    const char *ca_file;       /* extra trusted CAs for this target */
    int insecure;              /* 1: a certificate that fails
                                  verification is reported, not an
                                  error, for this target; 0: the
                                  scanner's */

    /* ---- content decoding (as in hscan_config_t) ---- */
    int compressed;            /* 1: offer and decode codings for this
                                  target; -1: not; 0: the scanner's */
} hscan_target_opts_t;

/* Fill `opts` with "no override".  Never fails; does nothing when
 * `opts` is NULL. */
HSCAN_EXPORT void hscan_target_opts_init(hscan_target_opts_t *opts);

/* Check `opts` by the rules hscan_submit_ex() applies (`method`,
 * `path`, `headers` as in hscan_config_t), reporting like
 * hscan_config_check(): `*field` ("method", "path", "headers",
 * "http_version", "basic_auth", "body", "sni", "no_sni", "tls_min",
 * "tls_max", "ciphers", "ciphersuites", "curves", "cert_file",
 * "key_file", "ca_file", "insecure" or "compressed") and `detail` are
 * written only when the check fails.  The TLS lists and files are checked by
 * OpenSSL on a scratch context, as hscan_config_check() does; what
 * only the merge with a scanner's options can show (a tls_min above
 * the scanner's tls_max) is refused by hscan_submit_ex().  `opts` NULL
 * means no override and passes.  Any thread; no side effects.  Returns
 * 0 or HSCAN_EINVAL. */
HSCAN_EXPORT int hscan_target_opts_check(const hscan_target_opts_t *opts,
                                         const char **field, char *detail,
                                         size_t size);

/* hscan_submit() with per-target settings (`opts` may be NULL) and the
 * target's id written to `*id` (may be NULL), for hscan_cancel() and
 * the result's `id`.  Returns 0, HSCAN_EINVAL when `scan` is NULL,
 * `line` is NULL with `len` > 0 or an override is not valid
 * (hscan_target_opts_check() says which and why), HSCAN_ECLOSED or
 * HSCAN_ENOMEM; on error nothing is queued and `*id` is untouched. */
HSCAN_EXPORT int hscan_submit_ex(hscan_t *scan, const char *line,
                                 size_t len, void *udata,
                                 const hscan_target_opts_t *opts,
                                 uint64_t *id);

/* Cancel one target by id, whether still queued or in flight: its
 * result (both, for HSCAN_SCHEME_BOTH; every unit not yet delivered,
 * for cfg.paths and cfg.all_ips) is HSCAN_ECANCELED, delivered on
 * a later loop iteration, never from inside this call.  Returns 0, or
 * HSCAN_ENOTFOUND when no target with that id is queued or in flight
 * (never submitted, already delivered, or already being canceled),
 * HSCAN_ECLOSED after hscan_close(), HSCAN_EINVAL when `scan` is NULL.
 * Costs a walk of the queue and the in-flight list.  Legal inside any
 * hscan callback. */
HSCAN_EXPORT int hscan_cancel(hscan_t *scan, uint64_t id);

/* Stop starting targets: nothing is pulled or dequeued until
 * hscan_resume(); targets in flight run on to their results.  Submitting
 * while paused queues.  Idempotent.  Returns 0, HSCAN_ECLOSED, or
 * HSCAN_EINVAL when `scan` is NULL. */
HSCAN_EXPORT int hscan_pause(hscan_t *scan);

/* Start targets again after hscan_pause().  Idempotent.  Returns 0,
 * HSCAN_ECLOSED, or HSCAN_EINVAL when `scan` is NULL. */
HSCAN_EXPORT int hscan_resume(hscan_t *scan);

/* The shard, in [0, count), that an input line belongs to: the line is
 * trimmed like any input and parsed; a valid target is placed by its
 * host (lowercase, without a trailing dot or IPv6 brackets), so every
 * URL, port and scheme of one host lands in the same shard, and an
 * invalid line by its whole trimmed text.  The hash is 64-bit FNV-1a,
 * then the value modulo `count`: stable across versions and machines,
 * so N scanners given the same list and shard_index 0..N-1 cover it
 * exactly once.  The units of cfg.paths and cfg.all_ips are in their
 * line's shard: one shard resolves a name once and probes all its
 * paths and addresses.  Returns 0 when `count` is 0 or 1, and when `line` is
 * NULL with `len` > 0 (NULL with `len` 0 is the empty line). */
HSCAN_EXPORT unsigned hscan_shard_of(const char *line, size_t len,
                                     unsigned count);

/* Tell the scanner that the pull callback has input again after it
 * returned HSCAN_NEXT_LATER.  Cheap and idempotent.  Returns 0,
 * HSCAN_ECLOSED, or HSCAN_EINVAL when `scan` is NULL. */
HSCAN_EXPORT int hscan_feed(hscan_t *scan);

/* Say that no more targets will come, for scanners fed through
 * hscan_submit(): the drained callback then fires once the queue and the
 * slots are empty.  With a pull callback this also ends pulling (it is
 * not called again).  Returns 0, HSCAN_ECLOSED, or HSCAN_EINVAL when
 * `scan` is NULL. */
HSCAN_EXPORT int hscan_end_input(hscan_t *scan);

/* A latency summary in milliseconds.  Percentiles come from a
 * log-linear histogram and are within 3% of the exact value (clamped to
 * [min, max]); everything is 0 while count is 0. */
typedef struct hscan_latency {
    uint64_t count;
    double min_ms, mean_ms, p50_ms, p90_ms, p99_ms, max_ms;
} hscan_latency_t;

/* Room in hscan_stats_t for per-error counts: more than the error table
 * holds. */
#define HSCAN_STATS_MAX_ERRORS 64

/* Counters since hscan_new() (or the last hscan_stats_reset()).  Filled
 * by hscan_stats(). */
typedef struct hscan_stats {
    uint64_t started;      /* targets taken from the input (one per
                              line, however many units and records it
                              makes: cfg.paths, cfg.all_ips, both
                              schemes) */
    uint64_t finished;     /* results delivered: records, not lines */
    uint64_t ok;           /* results with error == 0 */
    unsigned in_flight;    /* probes currently running */
    unsigned concurrency;  /* the configured window */
    uint64_t dns_lookups;  /* DNS lookups sent (A+AAAA pair = one;
                              retries count) */
    uint64_t dns_cache_hits; /* lookups answered from the cache */
    uint64_t dns_shared;   /* lookups that joined one already in flight */
    uint64_t ip_waits;     /* connections that waited for max_per_ip */

    uint64_t submitted;    /* targets handed in: accepted hscan_submit*()
                              calls plus lines pulled (blank and comment
                              lines and other shards' lines included) */
    uint64_t queued;       /* submitted lines waiting to start (now) */
    uint64_t errors;       /* results with an error (finished - ok) */
    uint64_t shard_skipped; /* pulled lines left to other shards */
    uint64_t bytes_sent;   /* bytes written to sockets (TLS included) */
    uint64_t bytes_received; /* bytes read from sockets */
    int paused;            /* hscan_pause() in effect */

    /* Results per error code, codes with a count only, in table order
     * (-1 first); name them with hscan_err_name(). */
    size_t n_errors;
    struct hscan_stats_error {
        int code;
        uint64_t count;
    } by_error[HSCAN_STATS_MAX_ERRORS];

    /* Durations of delivered results (the result's *_ms fields), each
     * over the results where that phase happened; `total` over every
     * target that reached a probe (invalid lines excluded). */
    hscan_latency_t total, dns, connect, tls, ttfb;
} hscan_stats_t;

/* Copy the scanner's counters into `*out`.  Returns 0, or HSCAN_EINVAL
 * (and writes nothing) when `scan` or `out` is NULL.  Costs a walk of
 * the latency histograms (a few microseconds): fine a few times a
 * second, not per result. */
HSCAN_EXPORT int hscan_stats(const hscan_t *scan, hscan_stats_t *out);

/* Zero the counters, the error counts and the latency histograms (for
 * per-round figures); in_flight, queued, concurrency and paused are
 * states and stay.  Returns 0, or HSCAN_EINVAL when `scan` is NULL. */
HSCAN_EXPORT int hscan_stats_reset(hscan_t *scan);

/* Cancel and release.  Every target in flight or queued at this call
 * gets a result with HSCAN_ECANCELED, delivered on a later loop
 * iteration (never from inside this call), even one whose answer
 * arrives in the same iteration: results delivered before the call are
 * the only real ones.  The pull callback is not called again.  Then all handles
 * close and `cb` (may be NULL) runs last, after which the scanner is freed:
 * after `cb` the loop holds nothing of ours.  Legal inside any hscan
 * callback.  Returns 0, HSCAN_ECLOSED when already closing, or
 * HSCAN_EINVAL when `scan` is NULL. */
HSCAN_EXPORT int hscan_close(hscan_t *scan, hscan_closed_cb cb);

/* Serialise `r` as one JSON object (no trailing newline) into `buf` of
 * `size` bytes, NUL-terminated when `size` > 0, snprintf style.  Control
 * characters are escaped and bytes that are not valid UTF-8 are written as
 * \u00XX, one per byte, so every record is valid JSON.  Returns the length
 * the full record needs (excluding the NUL); when that is >= `size`, call
 * again with a bigger buffer.  `buf` may be NULL with `size` 0, to
 * measure.  Returns 0 (no record has that length) when `r` is NULL or
 * `buf` is NULL with `size` > 0. */
HSCAN_EXPORT size_t hscan_result_to_json(const hscan_result_t *r, char *buf,
                                         size_t size);

/* Field names for hscan_result_field() and the CSV writer, in a
 * sensible column order.  A field may also be "header:NAME": the values
 * of response header NAME (any case), several joined by ", ". */
#define HSCAN_FIELDS                                                         \
    "id,input,url,scheme,host,ip,port,status,reason,http_version,"           \
    "content_type,content_length,title,body_sha256,server,location,"         \
    "redirects,final_url,tls_version,tls_cipher,tls_verified,tls_subject,"   \
    "tls_issuer,tls_san,tls_not_after,tls_days_left,tls_sha256,"             \
    "addresses,cnames,dns_ms,connect_ms,tls_ms,ttfb_ms,total_ms,error,"      \
    "error_detail,fallback_error,audit_passed,audit_missing,anomalies,"      \
    "path"

/* One field of `r` as text into `buf` (NUL-terminated when `size` > 0),
 * snprintf style: `*len` gets the full length.  A value the record does
 * not have is the empty string; lists are joined with ","; numbers as
 * in JSON; booleans "true"/"false"; bytes are copied as received.
 * `len` may be NULL; `buf` may be NULL with `size` 0.  Returns 0, or
 * HSCAN_EINVAL for a name that is not a field (NULL included), `r`
 * NULL, or `buf` NULL with `size` > 0 (then nothing is written). */
HSCAN_EXPORT int hscan_result_field(const hscan_result_t *r,
                                    const char *name, char *buf,
                                    size_t size, size_t *len);

/* One CSV row (RFC 4180: every value that holds a comma, quote, CR or LF
 * is quoted, quotes doubled; rows end with CRLF) with the `n` fields
 * named in `fields`, snprintf style like hscan_result_to_json().  With
 * `r` NULL, the header row of those names.  Returns the full length, or
 * 0 when a name is not a field (check them first with
 * hscan_result_field() on any result, or hscan_field_valid()), or when
 * `fields` is NULL with `n` > 0 or `buf` NULL with `size` > 0. */
HSCAN_EXPORT size_t hscan_result_to_csv(const hscan_result_t *r,
                                        const char *const *fields,
                                        size_t n, char *buf, size_t size);

/* 1 when `name` is a field name (or "header:NAME" with a valid token
 * NAME), else 0 (also for NULL). */
HSCAN_EXPORT int hscan_field_valid(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* HSCAN_H */
