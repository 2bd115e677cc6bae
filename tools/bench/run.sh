#!/bin/sh
# The benchmark in one command: install what it needs (Debian/Ubuntu,
# as root or with sudo), then run tools/bench/bench.py with the given
# options (none: the four workloads, 3 runs each; --all adds the
# concurrency sweep and its plots, the 1e5/1e6-line memory check and
# the callgrind counts and the TLS handshake floor, tools/bench/tls_floor.py;
# --quick is a smoke run).  See docs/performance.md.
set -eu
cd "$(dirname "$0")/../.."
sh tools/bench/install-deps.sh
if [ "$(id -u)" -ne 0 ]; then
    exec sudo python3 tools/bench/bench.py "$@"
fi
exec python3 tools/bench/bench.py "$@"
