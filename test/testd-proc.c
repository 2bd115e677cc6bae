/* testd-proc.c: hscan-testd in a child process (see testd-proc.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testd-proc.h"

#define MAX_ARGS 16

/* The port after the last ':' of `addr` into `dst`. */
static int port_of(const char *addr, char *dst, size_t size)
{
    const char *colon = strrchr(addr, ':');

    if (!colon || strlen(colon + 1) == 0 || strlen(colon + 1) >= size)
        return -1;
    strcpy(dst, colon + 1);
    return 0;
}

/* Read the four lines; 0 when all were there. */
static int read_addresses(struct testd_proc *d, FILE *f)
{
    char line[512], word[16], value[300];
    int have = 0;

    while (have != 15 && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%15s %299s", word, value) != 2)
            continue;
        if (strcmp(word, "dns") == 0 && strlen(value) < sizeof(d->dns)) {
            strcpy(d->dns, value);
            have |= 1;
        } else if (strcmp(word, "http") == 0 &&
                   port_of(value, d->http_port, sizeof(d->http_port)) == 0)
            have |= 2;
        else if (strcmp(word, "https") == 0 &&
                 port_of(value, d->https_port, sizeof(d->https_port)) == 0)
            have |= 4;
        else if (strcmp(word, "ca") == 0 && strlen(value) < sizeof(d->ca)) {
            strcpy(d->ca, value);
            have |= 8;
        }
    }
    return have == 15 ? 0 : -1;
}

int testd_proc_start(struct testd_proc *d, const char *path,
                     const char *const *args)
{
    const char *argv[MAX_ARGS + 2];
    int fds[2], i, rc;
    FILE *f;

    memset(d, 0, sizeof(*d));
    argv[0] = path;
    for (i = 0; args && args[i] && i < MAX_ARGS; i++)
        argv[1 + i] = args[i];
    argv[1 + i] = NULL;
    if (pipe(fds) != 0 || (d->pid = fork()) < 0) {
        perror("hscan-testd");
        return -1;
    }
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* not left behind */
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    rc = f ? read_addresses(d, f) : -1;
    if (f)
        fclose(f);
    else
        close(fds[0]);
    if (rc != 0) {
        fprintf(stderr, "hscan-testd (%s) did not say where it listens\n",
                path);
        testd_proc_stop(d);
    }
    return rc;
}

int testd_proc_gone(struct testd_proc *d)
{
    if (d->pid > 0 && waitpid(d->pid, NULL, WNOHANG) == 0)
        return 0;
    d->pid = 0;
    return 1;
}

void testd_proc_stop(struct testd_proc *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
}
