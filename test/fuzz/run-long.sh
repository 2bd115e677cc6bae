#!/bin/sh
# run-long.sh HARNESS SECONDS [BUILD_DIR]
# A long fuzzing run of one harness (target, http, dns, json, redirect),
# for hours if you like:  test/fuzz/run-long.sh http 14400
# Sets up the clang fuzz build in BUILD_DIR (default build-fuzz) if it is
# not there, fuzzes with one process (the machine stays usable), keeps
# the corpus it grows in BUILD_DIR/test/fuzz/long-HARNESS/corpus so a
# later run continues from it, and prints libFuzzer's figures: executions,
# exec/s, coverage (cov: edges, ft: features), corpus size.  A crash stops
# the run; its input is in .../artifacts/ (replay it with the harness, and
# copy it to test/fuzz/corpus/HARNESS/regress-NAME once fixed).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 HARNESS SECONDS [BUILD_DIR]" >&2; exit 2; }
cd "$(dirname "$0")/../.."
h=$1 secs=$2 dir=${3:-build-fuzz}
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
fi
ninja -C "$dir" "test/fuzz/fuzz-$h" >/dev/null
work=$dir/test/fuzz/long-$h
mkdir -p "$work"
log=$work/fuzz-$(date +%Y%m%d-%H%M%S).log
echo "run-long: $h for $secs s; log in $log" >&2
rc=0
test/fuzz/run-fuzz.sh "$dir/test/fuzz/fuzz-$h" "test/fuzz/corpus/$h" \
    "$work" "$secs" 2>"$log" || rc=$?
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^Done|ERROR' "$log" \
    >&2 || true
grep -E 'invariant failed|runtime error' "$log" >&2 || true
echo "run-long: corpus $(ls "$work/corpus" | wc -l) files," \
     "$(du -sk "$work/corpus" | cut -f1) KiB; artifacts:" \
     "$(ls "$work/artifacts" | wc -l); exit $rc" >&2
exit $rc
