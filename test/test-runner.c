/* Runs every registered TEST in a forked child with a time limit.
 * Usage: test-foo [NAME...]  (no names: all). */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-runner.h"

#define MAX_TESTS 256

static struct {
    const char *name;
    void (*fn)(void);
    unsigned timeout;
} tests[MAX_TESTS];
static int n_tests;

void test_register(const char *name, void (*fn)(void), unsigned timeout_s)
{
    if (n_tests < MAX_TESTS) {
        tests[n_tests].name = name;
        tests[n_tests].fn = fn;
        tests[n_tests].timeout = timeout_s;
        n_tests++;
    }
}

void test_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
    fflush(stderr);
    exit(1);
}

static int selected(int argc, char **argv, const char *name)
{
    int i;
    if (argc < 2)
        return 1;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static int run_one(int i)
{
    pid_t pid;
    int st;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        /* valgrind runs everything ~10x slower (meson test --setup
         * valgrind sets HSCAN_UNDER_VALGRIND) */
        alarm(tests[i].timeout * (getenv("HSCAN_UNDER_VALGRIND") ? 10 : 1));
        tests[i].fn();
        fflush(stdout);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 1;
    if (WIFSIGNALED(st))
        fprintf(stderr, "  %s: killed by signal %d%s\n", tests[i].name,
                WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (time limit)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    int i, failed = 0, ran = 0;

    for (i = 0; i < n_tests; i++) {
        if (!selected(argc, argv, tests[i].name))
            continue;
        ran++;
        if (run_one(i)) {
            printf("ok   %s\n", tests[i].name);
        } else {
            printf("FAIL %s\n", tests[i].name);
            failed++;
        }
    }
    printf("%d tests, %d failed\n", ran, failed);
    return failed || ran == 0 ? 1 : 0;
}
