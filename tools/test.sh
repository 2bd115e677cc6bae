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

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
ok = bad = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL", "SKIP"):
            ok += r != "SKIP"
        else:
            bad += 1
print(f"{ok} passed, {bad} failed")
PY
exit $rc
