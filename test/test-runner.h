/* Minimal test registration (the shape of wayland's tests/test-runner.h).
 * Each TEST runs in its own child process under alarm(), so a hang or a
 * crash fails that test alone and the run still ends. */
#ifndef HSCAN_TEST_RUNNER_H
#define HSCAN_TEST_RUNNER_H

#include <stdio.h>
#include <stdlib.h>

void test_register(const char *name, void (*fn)(void), unsigned timeout_s);
void test_fail(const char *file, int line, const char *expr);

#define TEST_T(name, secs)                                                 \
    static void name(void);                                               \
    __attribute__((constructor)) static void reg_##name(void)             \
    {                                                                     \
        test_register(#name, name, secs);                                 \
    }                                                                     \
    static void name(void)

#define TEST(name) TEST_T(name, 30)

#define CHECK(e)                                                          \
    do {                                                                  \
        if (!(e))                                                         \
            test_fail(__FILE__, __LINE__, #e);                            \
    } while (0)

#define CHECK_INT(a, b)                                                   \
    do {                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);               \
        if (a_ != b_) {                                                   \
            fprintf(stderr, "  %s = %lld, expected %lld\n", #a, a_, b_);  \
            test_fail(__FILE__, __LINE__, #a " == " #b);                  \
        }                                                                 \
    } while (0)

#define CHECK_STR(a, b)                                                   \
    do {                                                                  \
        const char *a_ = (a), *b_ = (b);                                  \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                          \
            fprintf(stderr, "  %s = \"%s\", expected \"%s\"\n", #a,       \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");              \
            test_fail(__FILE__, __LINE__, #a " == " #b);                  \
        }                                                                 \
    } while (0)

#endif
