/* Compiles the public header alone under -std=c99 -pedantic -Werror. */
#include <hscan.h>

int main(void)
{
    hscan_config_t cfg;
    hscan_config_init(&cfg);
    return hscan_err_name(HSCAN_ECANCELED) == 0;
}
