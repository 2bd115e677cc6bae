// Compiles the public header as C++ (wayland tests/cpp-compile-test.cpp).
#include <hscan.h>

int main()
{
    hscan_config_t cfg;
    hscan_config_init(&cfg);
    return hscan_err_name(HSCAN_ECANCELED) == nullptr;
}
