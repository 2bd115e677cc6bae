/* server-capture.h: a raw TCP server on a caller's uv loop that keeps
 * the requests it receives (up to CAP_MAX connections; the head, and
 * the body its Content-Length announces) and answers each with
 * "200 OK", Content-Length: 0, then a FIN.  For tests of the
 * exact request bytes; everything runs on the loop thread.  It also
 * keeps each connection's peer address, and can fail its first
 * connections on purpose (cfg.retries).
 */
#ifndef HSCAN_TEST_SERVER_CAPTURE_H
#define HSCAN_TEST_SERVER_CAPTURE_H

#include <uv.h>

#define CAP_MAX 16
#define CAP_BYTES (2u << 20)    /* a request, its body included */

struct cap_conn;

/* What the first `fail_first` connections get instead of the answer. */
enum cap_fail {
    CAP_OK,             /* the answer */
    CAP_RESET,          /* an RST as soon as accepted, no byte */
    CAP_CLOSE,          /* a FIN as soon as accepted, no byte */
    CAP_BYTE_CLOSE,     /* the whole request read, "H", then a FIN */
    CAP_READ_CLOSE      /* the whole request read, then a FIN, no byte */
};

struct capture {
    uv_tcp_t listener;
    int port;
    char *reqs[CAP_MAX];        /* requests: the head and the body of
                                   its Content-Length, NUL-terminated */
    size_t req_len[CAP_MAX];    /* their lengths (a body may hold NUL) */
    unsigned n_reqs;
    struct cap_conn *conns[CAP_MAX];
    unsigned n_conns;
    char peers[CAP_MAX][48];    /* each connection's peer address */
    unsigned fail_first;        /* set after cap_start() */
    enum cap_fail fail_mode;
};

/* Listen on ip:port (0: a free port, then in cap->port).  Returns 0 or
 * a uv error (then nothing is open). */
int cap_start(uv_loop_t *loop, struct capture *cap, const char *ip,
              int port);

/* Close the listener and every connection; the heads stay. */
void cap_stop(struct capture *cap);

/* The captured request whose request line has `path`, or NULL. */
const char *cap_find(const struct capture *cap, const char *path);

/* Free the captured heads (after the loop has closed the handles). */
void cap_free(struct capture *cap);

#endif
