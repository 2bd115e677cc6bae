/* bench-run: run one command and report its wall time and rusage.
 *
 * usage: bench-run REPORT COMMAND [ARG...]
 *
 * Forks, execs COMMAND (stdin/stdout/stderr inherited), waits for it
 * with wait4() and writes one line to the file REPORT:
 *
 *   wall_s user_s sys_s maxrss_kb wait_status
 *
 * Why not os.wait4() in bench.py: a child's ru_maxrss counts the memory
 * image it was forked with (exec keeps the old mm's high-water mark in
 * signal->maxrss), so every peer forked from the Python driver would
 * report at least the driver's RSS, 100+ MB once it holds a million
 * targets' truth. Forked from this program it starts at ~1 MB.
 *
 * The child gets PR_SET_PDEATHSIG SIGKILL, so killing bench-run (the
 * driver's run limit) takes the command with it.
 *
 * Build: cc -O2 -Wall -Wextra -std=c11 -D_GNU_SOURCE -o bench-run \
 *        bench-run.c
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    struct rusage ru;
    double t0, wall;
    int status;
    pid_t pid;
    FILE *f;

    if (argc < 3) {
        fprintf(stderr, "usage: bench-run REPORT COMMAND [ARG...]\n");
        return 2;
    }
    t0 = now();
    pid = fork();
    if (pid < 0) {
        perror("bench-run: fork");
        return 127;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "bench-run: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("bench-run: wait4");
            return 127;
        }
    }
    wall = now() - t0;
    f = fopen(argv[1], "w");
    if (!f) {
        perror("bench-run: report");
        return 127;
    }
    fprintf(f, "%.6f %.6f %.6f %ld %d\n", wall, tv(&ru.ru_utime),
            tv(&ru.ru_stime), ru.ru_maxrss, status);
    return fclose(f) == 0 ? 0 : 127;
}
