#!/bin/sh
# Install what is missing, build (plain and ASan+UBSan), run the whole
# test suite in both builds.  Ends with one line "N passed, N failed"
# counted from meson's test logs.
set -u
cd "$(dirname "$0")/.."
tools/install-deps.sh || exit 1

build() {  # dir, extra meson args...
    dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null || return 1
    else
        meson setup "$dir" --werror "$@" >/dev/null || return 1
    fi
    ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}

rc=0
build build || exit 1
meson test -C build --print-errorlogs --num-processes 2 || rc=1
build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debug || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 || rc=1

# memcheck: the `valgrind` suite (everything that runs the library in-process
# and keeps its time bounds under valgrind's slowness; docs/robustness.md).
meson test -C build --no-rebuild --setup valgrind --suite valgrind \
    --print-errorlogs --num-processes 2 || rc=1

# Every optional feature (meson feature options: nghttp2) disabled: the
# library, the tools and the suite without them (tests of a missing
# feature skip).  Not under valgrind or ASan again: the code they add
# is the same.
build build-nofeat -Dauto_features=disabled || exit 1
meson test -C build-nofeat --print-errorlogs --num-processes 2 || rc=1

# Fuzzing (test/fuzz): a clang build with libFuzzer.  Each harness replays
# its seed corpus, then fuzzes for fuzz_seconds; only the harnesses are
# built there.  Hours-long runs: test/fuzz/run-long.sh.
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true \
        -Dfuzz_seconds=30 -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null || exit 1
fi
harnesses=
for f in test/fuzz/fuzz-*.c; do
    n=$(basename "$f" .c)
    [ "$n" = fuzz-util ] || harnesses="$harnesses test/fuzz/$n"
done
ninja -C build-fuzz $harnesses >/dev/null || exit 1
meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs \
    --num-processes 2 || rc=1

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
    build/meson-logs/testlog-valgrind.json \
    build-nofeat/meson-logs/testlog.json \
    build-fuzz/meson-logs/testlog.json <<'PY'
import json, sys
ok = bad = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"no test log {path}: that run did not happen", file=sys.stderr)
        bad += 1
        continue
    fuzz = "build-fuzz" in path     # a fuzzer never skips: 77 is a crash
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL") or (r == "SKIP" and not fuzz):
            ok += r != "SKIP"
        else:
            bad += 1
print(f"{ok} passed, {bad} failed")
PY
exit $rc
