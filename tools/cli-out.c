/* cli-out.c: hscan-cli's record writer (see cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void on_writable(uv_poll_t *p, int status, int events);

/* Whether `fd` is the same open file as stderr: O_NONBLOCK set on it
 * would then make our own diagnostics fail with EAGAIN. */
static int shares_stderr(int fd)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && fstat(2, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int out_init(struct out *o, uv_loop_t *loop, int fd)
{
    struct stat st;

    memset(o, 0, sizeof(*o));
    o->fd = fd;
    o->fl_saved = -1;
    o->tty = isatty(fd);
    o->cap = OUT_FLUSH * 2;
    if (!(o->buf = malloc(o->cap)))
        return -ENOMEM;
    if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return 0;
    /* A pipe reopened through /proc is a new open file of the same pipe:
     * non-blocking there, it leaves the shell's (and stderr's) alone, as
     * libuv does for terminals. */
    if (S_ISFIFO(st.st_mode)) {
        char p[64];
        int nfd;
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        nfd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (nfd >= 0) {
            o->fd = nfd;
            o->own_fd = 1;
        }
    }
    if (!o->own_fd) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || shares_stderr(fd))
            return 0;               /* blocking writes, like a file */
        o->fl_saved = fl;
        if (!(fl & O_NONBLOCK))
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    if (uv_poll_init(loop, &o->poll, o->fd) != 0) {
        if (o->own_fd)
            close(o->fd);
        else if (!(o->fl_saved & O_NONBLOCK))
            fcntl(fd, F_SETFL, o->fl_saved);
        o->fd = fd;
        o->own_fd = 0;
        o->fl_saved = -1;
        return 0;
    }
    o->poll.data = o;
    o->nonblock = o->has_poll = 1;
    return 0;
}

static void fail(struct out *o, int err)
{
    o->failed = 1;
    o->err = err;
    o->off = o->len = 0;
    if (o->polling) {
        uv_poll_stop(&o->poll);
        o->polling = 0;
    }
}

/* Write pending bytes until done or the descriptor would block.
 * Returns 0 or -errno. */
static int pump(struct out *o)
{
    while (o->off < o->len) {
        ssize_t n = write(o->fd, o->buf + o->off, o->len - o->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            fail(o, n < 0 ? errno : EIO);
            return -o->err;
        }
        o->off += (size_t)n;
    }
    if (o->off == o->len) {
        o->off = o->len = 0;
    } else if (o->off >= o->cap / 2) {
        memmove(o->buf, o->buf + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
    }
    if (o->nonblock) {
        int want = o->len > o->off;
        if (want && !o->polling)
            o->polling = uv_poll_start(&o->poll, UV_WRITABLE,
                                       on_writable) == 0;
        else if (!want && o->polling) {
            uv_poll_stop(&o->poll);
            o->polling = 0;
        }
    }
    return 0;
}

static void on_writable(uv_poll_t *p, int status, int events)
{
    struct out *o = p->data;
    (void)events;
    if (status < 0) {
        fail(o, -status == EPIPE ? EPIPE : EIO);
    } else {
        pump(o);
    }
    if (o->full && (o->failed || o->len - o->off < OUT_LOW)) {
        o->full = 0;
        if (o->on_drain)
            o->on_drain();
    }
    if (o->on_done && (o->failed || o->off == o->len)) {
        void (*done)(void) = o->on_done;
        o->on_done = NULL;
        done();
    }
}

void out_drain(struct out *o, void (*done)(void))
{
    if (!o->failed)
        pump(o);            /* files and terminals: all of it, blocking */
    if (o->failed || o->off == o->len || !o->polling) {
        done();
        return;
    }
    o->on_done = done;      /* the rest as the reader takes it */
}

int out_put(struct out *o, const char *rec, size_t n)
{
    if (o->failed)
        return -o->err;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap;
        char *b;
        if (o->off > 0) {
            memmove(o->buf, o->buf + o->off, o->len - o->off);
            o->len -= o->off;
            o->off = 0;
        }
        while (cap < o->len + n + 1)
            cap *= 2;
        if (cap != o->cap) {
            if (!(b = realloc(o->buf, cap))) {
                fail(o, ENOMEM);
                return -ENOMEM;
            }
            o->buf = b;
            o->cap = cap;
        }
    }
    memcpy(o->buf + o->len, rec, n);
    o->buf[o->len + n] = '\n';
    o->len += n + 1;
    if (o->tty || o->len - o->off >= OUT_FLUSH) {
        if (pump(o) < 0)
            return -o->err;
    }
    if (o->nonblock && o->len - o->off > OUT_HIGH)
        o->full = 1;
    return 0;
}

int out_flush(struct out *o)
{
    if (o->failed)
        return -o->err;
    return pump(o);
}

int out_full(const struct out *o)
{
    return o->full && !o->failed;
}

static void restore(struct out *o)
{
    if (o->polling) {
        uv_poll_stop(&o->poll);
        o->polling = 0;
    }
    if (o->fl_saved >= 0 && !(o->fl_saved & O_NONBLOCK))
        fcntl(o->fd, F_SETFL, o->fl_saved);
}

int out_finish(struct out *o)
{
    restore(o);
    o->nonblock = 0;
    if (o->failed)
        return -o->err;
    if (o->own_fd) {        /* ours is non-blocking: write the rest */
        int fl = fcntl(o->fd, F_GETFL);
        if (fl >= 0)
            fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    return pump(o);
}

void out_emergency(struct out *o, int ms)
{
    uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;

    if (o->failed)
        return;
    while (o->off < o->len) {
        struct pollfd pf = { o->fd, POLLOUT, 0 };
        uint64_t now = uv_hrtime();
        if (now >= end || poll(&pf, 1, (int)((end - now) / 1000000) + 1) <= 0)
            break;
        if (pump(o) < 0)
            break;
    }
    restore(o);
}

void out_close(struct out *o)
{
    restore(o);
    if (o->has_poll)
        uv_close((uv_handle_t *)&o->poll, NULL);
    o->has_poll = 0;
    if (o->own_fd)
        close(o->fd);
    o->own_fd = 0;
    free(o->buf);
    o->buf = NULL;
}
