/* cli.h: the parts of hscan-cli that live outside hscan-cli.c: the
 * record writer (cli-out.c) and --resume (cli-resume.c). */
#ifndef HSCAN_CLI_H
#define HSCAN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* ---- record writer ----
 *
 * Records are appended to a buffer that only ever holds whole lines, and
 * each write(2) starts at a line boundary, so output interrupted at any
 * point (a second Ctrl-C, SIGKILL, the OOM killer) ends with whole lines,
 * except when the kernel cuts a write short (a fatal signal during a
 * large write to a file): --resume repairs such a tail.
 *
 * A pipe or socket is written without blocking: when the reader is slow,
 * the writer holds up to OUT_HIGH bytes and then reports itself full; the
 * CLI stops taking new input until it drains below OUT_LOW, so probes in
 * flight keep running (and keep their timings honest) instead of the
 * whole loop stalling in write(2).  Files and terminals are written with
 * plain blocking writes. */
#define OUT_FLUSH (64 * 1024)       /* write files once this much is held */
#define OUT_HIGH (4 * 1024 * 1024)  /* pipe: stop taking input above this */
#define OUT_LOW (1024 * 1024)       /* pipe: take input again below this */

struct out {
    int fd;
    int nonblock;           /* pipe or socket, written through `poll` */
    int own_fd;             /* fd is our non-blocking reopen of a pipe */
    int has_poll;
    int fl_saved;           /* its fcntl flags before we set O_NONBLOCK,
                               or -1 when we did not */
    int tty;                /* flush every record */
    int failed;             /* a write failed: stop writing */
    int err;                /* errno of that failure (EPIPE: quiet) */
    int polling;
    char *buf;
    size_t len, off, cap;   /* buf[off..len) is pending */
    uv_poll_t poll;
    void (*on_drain)(void); /* pending fell below OUT_LOW after full */
    void (*on_done)(void);  /* out_drain() finished */
    int full;
};

/* Set up `o` for `fd` on `loop`.  Returns 0 or -errno. */
int out_init(struct out *o, uv_loop_t *loop, int fd);
/* Queue one record of `n` bytes (a newline is added).  Returns 0, or
 * -errno once writing has failed (the record is dropped). */
int out_put(struct out *o, const char *rec, size_t n);
/* Write what is pending now if possible (input idle).  0 or -errno. */
int out_flush(struct out *o);
/* Whether the reader is behind by more than OUT_HIGH. */
int out_full(const struct out *o);
/* Write what is pending, then call `done` (maybe from inside): a pipe is
 * written as its reader takes it, the loop still running, so that a
 * second Ctrl-C is still heard while a slow reader holds the rest. */
void out_drain(struct out *o, void (*done)(void));
/* Write everything, blocking; restore the descriptor's flags and stop
 * polling.  0 or -errno. */
int out_finish(struct out *o);
/* Second interrupt: write what is pending for at most `ms`, so that the
 * line in progress is completed; then give up.  Never fails. */
void out_emergency(struct out *o, int ms);
/* Close the poll handle (if any) and free the buffer. */
void out_close(struct out *o);

/* ---- --resume ---- */

/* Inputs already recorded in an earlier run's output: a hash set of the
 * trimmed input lines with how many records each still covers. */
struct done_set {
    uint64_t *keys;         /* 0: empty slot */
    uint32_t *count;        /* records of that input kept in the file */
    uint32_t *seen;         /* scratch while rewriting */
    size_t cap, used;
    unsigned per_input;     /* records one input makes (2: --scheme both) */
    uint64_t kept, dropped; /* lines kept and dropped by the load */
    uint64_t skipped;       /* inputs skipped so far */
};

/* Read the output file `path` of an earlier run: keep its complete,
 * valid, not-canceled records (for per_input 2, whole pairs), rewrite the
 * file through a temporary file and rename(2) when anything has to go,
 * and fill `ds` with what is done.  A missing file is an empty one.
 * Returns 0, or -errno with a message on stderr. */
int resume_load(struct done_set *ds, const char *path, unsigned per_input);
/* Whether this input occurrence is already done (then it is consumed). */
int resume_take(struct done_set *ds, const char *line, size_t len);
void resume_free(struct done_set *ds);

/* The input line as the library trims it (whitespace at both ends). */
void cli_trim(const char **line, size_t *len);

#endif
