#!/bin/sh
# Install every system package the build, the demo and the tests need, on
# Debian 12 / Ubuntu.  Installs only what is missing; uses sudo when not
# root.  Safe to run again.
set -eu

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: run as root or install sudo" >&2; exit 1; }
    SUDO=sudo
fi

want="gcc g++ meson ninja-build pkg-config libuv1-dev libc-ares-dev \
libssl-dev ca-certificates python3 util-linux valgrind iproute2"
# test/check-install.sh: the CMake package (cmake), the man page lint
# (groff-base) and the link checks (readelf, in binutils).
want="$want cmake groff-base binutils"
# The shell completion tests: bash (with its completion support) and zsh.
want="$want bash-completion zsh"
# test/test-curl-diff.py reads its corpus with Debian's curl, the
# reference hscan-cli is compared with; that test fails without it.
want="$want curl"
# test/test-h2-interop.py: real HTTP/2 servers for hscan-cli and curl
# to read, nghttpd (h2 only) and nginx (h2, h2c, HTTP/1.1 listeners; the
# light flavour is enough), and the openssl CLI for its certificates
# and a TLS server without ALPN; that test fails without them.
want="$want nghttp2-server nginx-light openssl"
# test/test-proxy.py: an HTTP CONNECT proxy (tinyproxy) and a SOCKS5 one
# (microsocks), with and without credentials; that test fails without.
want="$want tinyproxy microsocks"
# Optional features, each a meson feature option (meson_options.txt):
# HTTP/2 (nghttp2).
want="$want libnghttp2-dev"
# hscan-exporter's config (the blackbox_exporter YAML): libyaml (meson
# feature option yaml).
want="$want libyaml-dev"
# test/test-exporter.py: the real blackbox_exporter, compared side by
# side with hscan-exporter, and a real Prometheus scraping hscan-exporter
# through the usual blackbox relabelling; that test fails without them.
want="$want prometheus-blackbox-exporter prometheus"
# --compressed: gzip and deflate (zlib), br (brotli's decoder; the tests
# also use its encoder, in the same package).
want="$want zlib1g-dev libbrotli-dev"
# Regex matchers, filters, extractors (PCRE2).
want="$want libpcre2-dev"

missing=
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
        missing="$missing $p"
done
# llhttp: newer releases ship libllhttp-dev (pkg-config); Debian 12 ships
# the sources in node-llhttp.  Either will do.
if ! pkg-config --exists libllhttp 2>/dev/null &&
   [ ! -f /usr/share/llhttp/llhttp.c ]; then
    llhttp=node-llhttp
    $SUDO apt-get update -qq
    if apt-cache show libllhttp-dev >/dev/null 2>&1; then
        llhttp=libllhttp-dev
    fi
    missing="$missing $llhttp"
fi

# Fuzzing (test/fuzz, a clang build with -Dfuzz=true): clang and its
# libFuzzer/sanitizer runtime, unless clang can already link a fuzzer.
# Debian 12 ships the runtime as libclang-rt-14-dev, pulled in by the
# unversioned libclang-rt-dev; where neither name exists (Ubuntu 22.04)
# clang's own dependencies carry it.
fuzz_links() {
    t=$(mktemp -d) || return 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
        '{ (void)d; (void)n; return 0; }' >"$t/f.c"
    clang -fsanitize=fuzzer,address,undefined -o "$t/f" "$t/f.c" \
        >/dev/null 2>&1
    rc=$?
    rm -rf "$t"
    return $rc
}
if ! command -v clang >/dev/null 2>&1 || ! fuzz_links; then
    $SUDO apt-get update -qq
    fuzz=clang
    rt=libclang-rt-dev
    if ! apt-cache show "$rt" >/dev/null 2>&1; then
        v=$(apt-cache depends clang 2>/dev/null |
            sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
        rt=libclang-rt-$v-dev
    fi
    if apt-cache show "$rt" >/dev/null 2>&1; then
        fuzz="$fuzz $rt"
    fi
    missing="$missing $fuzz"
fi

if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null
fi
