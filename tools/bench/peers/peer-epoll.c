/* peer-epoll.c: the benchmark's floor. The least work a client can do
 * per target: no DNS (the driver resolved every name), no TLS, no HTTP
 * parser beyond the status code, one epoll loop, one fixed slot per
 * connection.
 *
 * usage: peer-epoll -c N -t SECONDS [--cafile PATH] FILE
 *
 * FILE ("-" is stdin) holds "URL IPV4" per line; IPV4 "-" means the name
 * did not resolve. Writes one JSON line per target on stdout, in
 * completion order:
 *   {"input":"URL","status":200}  or  {"input":"URL","error":"timeout"}
 * Blank lines are skipped. Exits 0 once every line has a record.
 *
 * Build: cc -O2 -Wall -Wextra -std=c11 -D_GNU_SOURCE -o peer-epoll \
 *        peer-epoll.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define USER_AGENT "hscan-bench-peer-epoll/1"
#define MAX_EVENTS 1024
#define READ_SIZE 16384
#define STATUS_MAX 32           /* "HTTP/1.1 200" is all we look at */
#define FD_RESERVE 16           /* stdio, epoll, whatever the libc opens */

enum conn_state { S_FREE, S_CONNECT, S_WRITE, S_READ };

struct conn {
    enum conn_state state;
    int fd;
    char *input;                /* the URL exactly as read; owned */
    char *req;                  /* the request bytes; owned */
    size_t req_len, req_off;
    char head[STATUS_MAX];      /* first bytes of the reply */
    size_t head_len;
    unsigned eoh;               /* bytes of "\r\n\r\n" matched so far */
    uint64_t deadline;          /* CLOCK_MONOTONIC ns */
    struct conn *prev, *next;   /* deadline order == start order */
    struct conn *free_next;
};

static struct {
    int ep;
    unsigned active, limit;
    uint64_t budget;            /* ns */
    struct conn *conns, *free;
    /* Every deadline is start + budget, so start order is deadline
     * order: a FIFO is a complete timer queue. */
    struct conn *first, *last;
    unsigned long long done, ok;
} G;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put_json_str(const char *s)
{
    const unsigned char *p;

    putchar('"');
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void emit(const char *input, int status, const char *err)
{
    fputs("{\"input\":", stdout);
    put_json_str(input);
    if (err) {
        fputs(",\"error\":", stdout);
        put_json_str(err);
    } else {
        printf(",\"status\":%d", status);
    }
    fputs("}\n", stdout);
    G.done++;
    if (!err)
        G.ok++;
}

static const char *errno_text(int e)
{
    switch (e) {
    case ECONNREFUSED: return "connect refused";
    case ECONNRESET: case EPIPE: return "reset";
    case ETIMEDOUT: return "timeout";
    case ENETUNREACH: case EHOSTUNREACH: return "unreachable";
    case EADDRNOTAVAIL: return "no local port";
    case EMFILE: case ENFILE: return "too many open files";
    default: return strerror(e);
    }
}

/* "HTTP/1.x NNN" at the start of the reply, else -1. */
static int parse_status(const char *h, size_t len)
{
    if (len < 12 || memcmp(h, "HTTP/", 5) != 0 || h[6] != '.' ||
        h[8] != ' ')
        return -1;
    if (h[9] < '1' || h[9] > '9' || h[10] < '0' || h[10] > '9' ||
        h[11] < '0' || h[11] > '9')
        return -1;
    if (len > 12 && h[12] != ' ' && h[12] != '\r' && h[12] != '\n')
        return -1;
    return (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
}

static void finish(struct conn *c, int status, const char *err)
{
    /* RST instead of FIN: the server already closed or does not matter,
     * and 20,000 sockets in TIME_WAIT would eat the ephemeral ports. */
    static const struct linger lg = { 1, 0 };

    emit(c->input, status, err);
    if (c->fd >= 0) {
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c->fd);           /* also leaves the epoll set */
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        G.first = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        G.last = c->prev;
    free(c->input);
    free(c->req);
    c->state = S_FREE;
    c->free_next = G.free;
    G.free = c;
    G.active--;
}

/* Split "http://AUTHORITY/PATH" into what the request needs. Returns 0,
 * or -1 with `*err` set. `url` is not modified. */
static int build_request(struct conn *c, const char *url, uint16_t *port,
                         const char **err)
{
    const char *auth, *end, *path, *colon;
    size_t alen, plen;
    int n;

    if (strncasecmp(url, "http://", 7) != 0) {
        *err = strncasecmp(url, "https://", 8) == 0 ? "tls unsupported"
                                                    : "bad url";
        return -1;
    }
    auth = url + 7;
    end = auth + strcspn(auth, "/?#");
    alen = (size_t)(end - auth);
    path = *end == '#' ? "" : end;
    plen = strcspn(path, "#");
    colon = memchr(auth, ':', alen);
    *port = 80;
    if (colon) {
        char *pe;
        unsigned long v = strtoul(colon + 1, &pe, 10);

        if (pe != end || v == 0 || v > 65535) {
            *err = "bad url";
            return -1;
        }
        *port = (uint16_t)v;
    }
    if (alen == 0) {
        *err = "bad url";
        return -1;
    }
    c->req_len = alen + plen + 128;
    c->req = malloc(c->req_len);
    if (!c->req) {
        *err = "out of memory";
        return -1;
    }
    n = snprintf(c->req, c->req_len,
                 "GET %s%.*s HTTP/1.1\r\nHost: %.*s\r\n"
                 "User-Agent: " USER_AGENT "\r\nConnection: close\r\n\r\n",
                 *path == '/' ? "" : "/", (int)plen, path, (int)alen, auth);
    c->req_len = (size_t)n;
    c->req_off = 0;
    return 0;
}

/* Take a slot and start connecting; a target that fails before the
 * first event gets its record here. Takes ownership of `input`. */
static void start(char *input, const char *ip)
{
    struct conn *c = G.free;
    struct sockaddr_in sa;
    struct epoll_event ev;
    const char *err = NULL;
    uint16_t port;

    G.free = c->free_next;
    G.active++;
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->input = input;
    c->state = S_CONNECT;
    c->deadline = now_ns() + G.budget;
    c->prev = G.last;
    if (G.last)
        G.last->next = c;
    else
        G.first = c;
    G.last = c;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    if (strcmp(ip, "-") == 0) {
        finish(c, 0, "dns");
        return;
    }
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
        finish(c, 0, "bad address");
        return;
    }
    if (build_request(c, input, &port, &err) != 0) {
        finish(c, 0, err);
        return;
    }
    sa.sin_port = htons(port);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        finish(c, 0, errno_text(errno));
        return;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
        errno != EINPROGRESS) {
        finish(c, 0, errno_text(errno));
        return;
    }
    ev.events = EPOLLOUT;
    ev.data.ptr = c;
    if (epoll_ctl(G.ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        finish(c, 0, errno_text(errno));
}

static void on_writable(struct conn *c)
{
    struct epoll_event ev;
    socklen_t len = sizeof(int);
    int e = 0;
    ssize_t n;

    if (c->state == S_CONNECT) {
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
            e = errno;
        if (e) {
            finish(c, 0, errno_text(e));
            return;
        }
        c->state = S_WRITE;
    }
    while (c->req_off < c->req_len) {
        n = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            finish(c, 0, errno_text(errno));
            return;
        }
        c->req_off += (size_t)n;
    }
    c->state = S_READ;
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        finish(c, 0, errno_text(errno));
}

/* Keep the first bytes for the status line; track "\r\n\r\n" across
 * reads without keeping the rest. 1 once the head has ended. */
static int eat(struct conn *c, const char *buf, size_t n)
{
    static const char eoh[] = "\r\n\r\n";
    size_t i, room = sizeof(c->head) - c->head_len;

    memcpy(c->head + c->head_len, buf, n < room ? n : room);
    c->head_len += n < room ? n : room;
    for (i = 0; i < n; i++) {
        if (buf[i] == eoh[c->eoh])
            c->eoh++;
        else
            c->eoh = buf[i] == '\r';
        if (c->eoh == 4)
            return 1;
    }
    return 0;
}

static void on_readable(struct conn *c)
{
    static char buf[READ_SIZE];
    ssize_t n;
    int status;

    for (;;) {
        n = read(c->fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            finish(c, 0, errno_text(errno));
            return;
        }
        if (n == 0 || eat(c, buf, (size_t)n)) {
            status = parse_status(c->head, c->head_len);
            if (status >= 0)
                finish(c, status, NULL);
            else
                finish(c, 0, c->head_len ? "bad response" : "closed");
            return;
        }
    }
}

static void expire(uint64_t now)
{
    while (G.first && G.first->deadline <= now)
        finish(G.first, 0, "timeout");
}

/* Milliseconds until the earliest deadline, rounded up; -1 if none. */
static int wait_ms(uint64_t now)
{
    uint64_t d;

    if (!G.first)
        return -1;
    if (G.first->deadline <= now)
        return 0;
    d = G.first->deadline - now;
    return (int)((d + 999999) / 1000000);
}

/* Next non-blank line split into a malloc'd URL and the IP; 0 at EOF. */
static int next_line(FILE *in, char **url, char *ip, size_t ipsize)
{
    static char *line;
    static size_t cap;
    ssize_t len;
    char *u, *a;

    while ((len = getline(&line, &cap, in)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        u = line + strspn(line, " \t");
        if (!*u)
            continue;
        a = u + strcspn(u, " \t");
        if (*a)
            *a++ = '\0';
        a += strspn(a, " \t");
        a[strcspn(a, " \t")] = '\0';
        snprintf(ip, ipsize, "%s", *a ? a : "?");
        *url = strdup(u);
        if (!*url) {
            fprintf(stderr, "peer-epoll: out of memory\n");
            exit(1);
        }
        return 1;
    }
    return 0;
}

static void run(FILE *in)
{
    struct epoll_event evs[MAX_EVENTS];
    char ip[64];
    char *url;
    int eof = 0, n, i;

    while (!eof || G.active) {
        while (!eof && G.active < G.limit) {
            if (!next_line(in, &url, ip, sizeof(ip)))
                eof = 1;
            else
                start(url, ip);
        }
        if (!G.active)
            break;
        n = epoll_wait(G.ep, evs, MAX_EVENTS, wait_ms(now_ns()));
        if (n < 0 && errno != EINTR) {
            perror("peer-epoll: epoll_wait");
            exit(1);
        }
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;

            if (c->state == S_READ)
                on_readable(c);
            else if (c->state != S_FREE)
                on_writable(c);
        }
        expire(now_ns());
    }
}

/* Raise the soft open-file limit to the hard one; clamp concurrency to
 * what fits. */
static void fit_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)G.limit + FD_RESERVE > rl.rlim_cur) {
        unsigned avail = rl.rlim_cur > FD_RESERVE
                         ? (unsigned)(rl.rlim_cur - FD_RESERVE) : 1;

        fprintf(stderr, "peer-epoll: open-file limit %lu allows "
                "concurrency %u, not %u\n", (unsigned long)rl.rlim_cur,
                avail, G.limit);
        G.limit = avail;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: peer-epoll -c N -t SECONDS [--cafile PATH] "
            "FILE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    double secs = 10;
    long conc = 100;
    FILE *in;
    uint64_t t0;
    double el;
    unsigned i;
    int a;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-c") == 0 && a + 1 < argc)
            conc = atol(argv[++a]);
        else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc)
            secs = atof(argv[++a]);
        else if (strcmp(argv[a], "--cafile") == 0 && a + 1 < argc)
            a++;                /* no TLS here */
        else if (!file && (argv[a][0] != '-' || !argv[a][1]))
            file = argv[a];
        else
            usage();
    }
    if (!file || conc < 1 || conc > 10000000 || !(secs > 0))
        usage();
    G.limit = (unsigned)conc;
    G.budget = (uint64_t)(secs * 1e9);
    fit_nofile();
    in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!in) {
        perror(file);
        return 2;
    }
    G.conns = calloc(G.limit, sizeof(*G.conns));
    G.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!G.conns || G.ep < 0) {
        perror("peer-epoll: setup");
        return 1;
    }
    for (i = G.limit; i-- > 0;) {
        G.conns[i].free_next = G.free;
        G.free = &G.conns[i];
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    t0 = now_ns();
    run(in);
    fflush(stdout);
    el = (double)(now_ns() - t0) / 1e9;
    fprintf(stderr, "peer-epoll: %llu targets, %llu ok, %.2f s, %.0f/s\n",
            G.done, G.ok, el, el > 0 ? (double)G.done / el : 0.0);
    return 0;
}
