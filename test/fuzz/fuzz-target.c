/* Input lines (lib/target.c): any bytes, as hscan-cli reads them from a
 * file.  No crash or over-read; a refusal names a reason; an accepted
 * line is well formed and its URL parses back to the same target. */
#include <string.h>

#include "fuzz.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fz_dup(data, size);
    const char *line = copy, *why = NULL;
    size_t len = size;
    struct hscan__target t;
    int rc;

    if (hscan__target_skip(&line, &len)) {
        FUZZ_CHECK(len == 0 || line[0] == '#');
        free(copy);
        return 0;
    }
    FUZZ_CHECK(line >= copy && len > 0 &&
               (size_t)(line - copy) + len <= size);
    FUZZ_CHECK(!is_space(line[0]) && !is_space(line[len - 1]));
    memset(&t, 0xa5, sizeof(t));
    rc = hscan__target_parse(line, len, &t, &why);
    if (rc == 0) {
        FUZZ_CHECK(len <= HSCAN__MAX_LINE);
        fuzz_check_target(line, len, &t);
    } else {
        FUZZ_CHECK(rc == HSCAN_EINVALID_TARGET);
        FUZZ_CHECK(why != NULL && why[0] != '\0' && strlen(why) < 100);
    }
    free(copy);
    return 0;
}
