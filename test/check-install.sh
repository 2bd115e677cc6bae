#!/bin/sh
# meson install puts the header, both libraries, hscan.pc, the CMake
# package, the CLI and the man pages in place; a program builds against
# them out of tree through pkg-config, linked shared and static, and
# through CMake's find_package(hscan) when cmake is installed; each build
# scans the HTTP server of hscan-testd.
# Usage: check-install.sh BUILD_DIR SOURCE_DIR HSCAN_TESTD
set -eu
build=$1
src=$2
testd=$3
dest=$(mktemp -d "${TMPDIR:-/tmp}/hscan-install.XXXXXX")
testd_pid=
cleanup() {
    [ -z "$testd_pid" ] || kill "$testd_pid" 2>/dev/null || true
    rm -rf "$dest"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "check-install: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
pc=$(dirname "$(find "$dest" -name hscan.pc)")
libdir=$(dirname "$pc")
for f in bin/hscan-cli include/hscan.h share/man/man1/hscan-cli.1 \
         share/man/man3/libhscan.3; do
    [ -e "$dest/usr/local/$f" ] || fail "missing $f"
done
for f in libhscan.so.0 libhscan.a cmake/hscan/hscanConfig.cmake \
         cmake/hscan/hscanConfigVersion.cmake; do
    [ -e "$libdir/$f" ] || fail "missing $libdir/$f"
done

# libhscan(3) names every function the installed header exports and
# every error of its table, and (where groff is installed) renders
# without a warning.
man3=$dest/usr/local/share/man/man3/libhscan.3
hdr=$dest/usr/local/include/hscan.h
funcs=$(sed -n 's/^HSCAN_EXPORT .*[ *]\(hscan_[a-z_]*\)(.*/\1/p' "$hdr")
[ "$(echo "$funcs" | wc -l)" -ge 18 ] || fail "functions in hscan.h: $funcs"
for f in $funcs; do
    grep -q "^\.BI* .*[ *]$f(" "$man3" ||
        fail "libhscan.3: $f missing from the SYNOPSIS"
done
for e in $(sed -n 's/.*XX(-[0-9]*, *\([A-Z_]*\),.*/\1/p' "$hdr"); do
    grep -q "^\\\\fBHSCAN_$e\\\\fP" "$man3" ||
        fail "libhscan.3: HSCAN_$e missing from ERRORS"
done
if command -v groff >/dev/null 2>&1; then
    warn=$(groff -man -Tutf8 -ww -z "$man3" 2>&1)
    [ -z "$warn" ] || fail "libhscan.3: groff warns: $warn"
fi

# hscan-exporter (built with libyaml): the binary, its man page and the
# systemd unit come together; the page renders without a warning and
# names every option --help lists.
exp=$dest/usr/local/bin/hscan-exporter
man1x=$dest/usr/local/share/man/man1/hscan-exporter.1
unit=$dest/usr/local/lib/systemd/system/hscan-exporter.service
if [ -e "$exp" ] || [ -e "$man1x" ] || [ -e "$unit" ]; then
    for f in "$exp" "$man1x" "$unit"; do
        [ -e "$f" ] || fail "hscan-exporter installed without $f"
    done
    if command -v groff >/dev/null 2>&1; then
        warn=$(groff -man -Tutf8 -ww -z "$man1x" 2>&1)
        [ -z "$warn" ] || fail "hscan-exporter.1: groff warns: $warn"
    fi
    for o in $("$exp" --help | grep -o -- '--[a-z][a-z.-]*' | sort -u); do
        o_man=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        grep -q -- "$o_man" "$man1x" ||
            fail "hscan-exporter.1: $o (in --help) missing"
    done
    grep -q '^ExecStart=/usr/local/bin/hscan-exporter ' "$unit" ||
        fail "hscan-exporter.service: no ExecStart"
fi

export PKG_CONFIG_PATH="$pc" PKG_CONFIG_SYSROOT_DIR="$dest"
# the sysroot prefixes -I/-L, the .pc's prefix stays /usr/local
cflags=$(pkg-config --cflags hscan)
cc -std=gnu11 -Wall -Werror $cflags -o "$dest/ex-shared" \
    "$src/test/example-scan.c" $(pkg-config --libs hscan)
cc -std=gnu11 -Wall -Werror $cflags -o "$dest/ex-static" \
    "$src/test/example-scan.c" "$libdir/libhscan.a" \
    $(pkg-config --libs-only-l --static hscan | sed 's/-lhscan//')
readelf -d "$dest/ex-static" | grep -q 'NEEDED.*libhscan' &&
    fail "ex-static needs libhscan.so"

version=$(sed -n 's/^#define HSCAN_VERSION_STRING "\(.*\)"$/\1/p' \
    "$src/include/hscan.h")
out=$(LD_LIBRARY_PATH="$libdir" "$dest/ex-shared" --version)
[ "$out" = "libhscan $version" ] || fail "ex-shared --version: $out"
out=$("$dest/ex-static" --version)
[ "$out" = "libhscan $version" ] || fail "ex-static --version: $out"

"$testd" --lifetime 60 >"$dest/testd.out" 2>"$dest/testd.err" &
testd_pid=$!
i=0
while ! grep -q '^http ' "$dest/testd.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "hscan-testd printed no http line in 10 s"
    sleep 0.1
done
url="http://$(sed -n 's/^http //p' "$dest/testd.out")/b/status-418"

# $1: a label; the rest: the command.  One JSON record for `url`, status
# 418, no error.
scan() {
    what=$1
    shift
    out=$("$@" "$url") || fail "$what: exit $?: $out"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] ||
        fail "$what: not one record: $out"
    for want in "\"url\":\"$url\"," '"status":418,' '"error":null,'; do
        case $out in
        *"$want"*) ;;
        *) fail "$what: no $want in: $out" ;;
        esac
    done
    echo "$what: scan ok"
}
scan pkg-config-shared env LD_LIBRARY_PATH="$libdir" "$dest/ex-shared"
scan pkg-config-static "$dest/ex-static"

# CMake: find_package(hscan CONFIG) from the DESTDIR through
# CMAKE_PREFIX_PATH (the package's paths are relative to its own file).
# CMake puts the imported library's directory in the build RPATH, so
# no LD_LIBRARY_PATH here: the run shows the target's location is right.
if command -v cmake >/dev/null 2>&1; then
    gen=
    command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
    cmake -S "$src/test/cmake-consumer" -B "$dest/cm" $gen \
        -DCMAKE_PREFIX_PATH="$dest/usr/local" >"$dest/cmake.log" 2>&1 ||
        { cat "$dest/cmake.log"; fail "cmake configure failed"; }
    cmake --build "$dest/cm" >>"$dest/cmake.log" 2>&1 ||
        { cat "$dest/cmake.log"; fail "cmake build failed"; }
    grep -q "hscan $version in $libdir/cmake/hscan" "$dest/cmake.log" ||
        fail "find_package found another hscan: $(grep 'hscan' \
            "$dest/cmake.log")"
    readelf -d "$dest/cm/example-scan" | grep -q 'NEEDED.*libhscan\.so\.0' ||
        fail "cmake build does not need libhscan.so.0"
    scan cmake "$dest/cm/example-scan"
else
    echo "cmake not found: CMake package not checked"
fi
echo "install layout, pkg-config and CMake linking ok"
