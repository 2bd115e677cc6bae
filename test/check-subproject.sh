#!/bin/sh
# libhscan as a meson subproject: test/subproject (a consumer with
# dependency('hscan', fallback : ['libhscan', 'libhscan_dep'])) builds
# with a copy of this source tree as subprojects/libhscan, linked shared
# (the default) and then static (-Dlibhscan:default_library=static, the
# way a parent project asks for it); each build scans one target of
# hscan-testd.  The subproject must bring no tests or test servers of
# its own.  The consumer keeps its default buildtype (debug, -O0), as an
# embedding project's first build would.
# Usage: check-subproject.sh SOURCE_DIR HSCAN_TESTD
set -eu
src=$1
testd=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hscan-subproject.XXXXXX")
testd_pid=
cleanup() {
    [ -z "$testd_pid" ] || kill "$testd_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "check-subproject: $*" >&2; exit 1; }

# The consumer, with the source tree copied in: every top-level entry
# but build directories (build, build-asan, ... may sit in the tree) and
# dot files (.git).
cp -R "$src/test/subproject" "$tmp/consumer"
sub=$tmp/consumer/subprojects/libhscan
mkdir -p "$sub"
for e in "$src"/*; do
    case ${e##*/} in build*|subprojects) continue ;; esac
    cp -R "$e" "$sub/"
done

# --force-fallback-for: use the subproject even where an installed
# hscan.pc would satisfy dependency('hscan').
meson setup "$tmp/b" "$tmp/consumer" --force-fallback-for=hscan \
    -Dwerror=true >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log"; fail "meson setup failed"; }
if grep -i 'warning' "$tmp/setup.log"; then
    fail "meson setup warned"
fi
ninja -C "$tmp/b" -j2 >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log"; fail "build failed"; }

# No tests, servers or fuzzers of ours in the parent's build.
meson introspect --tests "$tmp/b" >"$tmp/tests.json"
[ "$(cat "$tmp/tests.json")" = "[]" ] ||
    fail "subproject registered tests: $(cat "$tmp/tests.json")"
meson introspect --targets "$tmp/b" >"$tmp/targets.json"
if grep -q -e hscan-testd -e test-api -e fuzz-replay "$tmp/targets.json"
then
    fail "subproject built test programs"
fi

"$testd" --lifetime 60 >"$tmp/testd.out" 2>"$tmp/testd.err" &
testd_pid=$!
i=0
while ! grep -q '^http ' "$tmp/testd.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "hscan-testd printed no http line in 10 s"
    sleep 0.1
done
http=$(sed -n 's/^http //p' "$tmp/testd.out")

version=$(sed -n 's/^#define HSCAN_VERSION_STRING "\(.*\)"$/\1/p' \
    "$src/include/hscan.h")
[ -n "$version" ] || fail "no HSCAN_VERSION_STRING in hscan.h"
expect="version $version $version
submitted id=1
result id=1 status=418 error=ok
stats submitted=1 finished=1 ok=1
closed=1 loop_close=0"

# $1: "shared" or "static"; the program must (not) need libhscan.so.0.
run_consumer() {
    needed=$(readelf -d "$tmp/b/consumer" | grep NEEDED || true)
    case $1:$needed in
    shared:*libhscan.so.0*|static:*) ;;
    *) fail "$1 link: NEEDED is: $needed" ;;
    esac
    if [ "$1" = static ] && echo "$needed" | grep -q libhscan; then
        fail "static link still needs libhscan: $needed"
    fi
    out=$("$tmp/b/consumer" "http://$http" /b/status-418) ||
        fail "$1: consumer exited $?: $out"
    [ "$out" = "$expect" ] ||
        fail "$1: output differs; got:
$out
expected:
$expect"
    echo "$1 link ok"
}
run_consumer shared

# default_library is per subproject: the parent's own value does not
# reach libhscan, whose project() asks for 'both'.
meson configure "$tmp/b" -Dlibhscan:default_library=static >/dev/null
ninja -C "$tmp/b" -j2 >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log"; fail "static rebuild failed"; }
run_consumer static
echo "meson subproject build ok"
