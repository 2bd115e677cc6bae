#!/bin/sh
# Install what tools/bench/bench.py needs beyond the project's own build
# dependencies (tools/install-deps.sh), on Debian 12 / Ubuntu: the Go
# toolchain for the Go peer, aiohttp + aiodns for the asyncio peer,
# curl, ip and unshare for the namespace, gnuplot for the sweep plots
# and valgrind for --callgrind. Installs only what is missing; uses sudo
# when not root. Safe to run again.
#
# gnuplot-nox, not python3-matplotlib: Debian 12's gnuplot-nox has the
# `pngcairo` and `png` terminals (cairo and libgd), so it draws PNGs
# without X, and it pulls in far less than matplotlib.
set -eu

here=$(dirname "$0")
sh "$here/../install-deps.sh"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "bench/install-deps: run as root or install sudo" >&2; exit 1; }
    SUDO=sudo
fi

want="golang-go python3 python3-aiohttp python3-aiodns curl iproute2 \
util-linux gnuplot-nox valgrind"

missing=
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
        missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "bench/install-deps: installing:$missing" >&2
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null
fi

# The sweep plots need a PNG terminal; say so now rather than after an
# hour of benchmarking.
if ! echo 'set terminal' | gnuplot 2>&1 | grep -q pngcairo; then
    echo "bench/install-deps: gnuplot has no pngcairo terminal" >&2
    exit 1
fi
