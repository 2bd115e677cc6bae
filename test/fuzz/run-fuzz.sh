#!/bin/sh
# run-fuzz.sh HARNESS SEED_DIR WORK_DIR SECONDS [libFuzzer options...]
# Replay the checked-in seeds, then fuzz for SECONDS.  New inputs go to
# WORK_DIR/corpus (the seed directory is only read), crashes to
# WORK_DIR/artifacts/.  Exits non-zero on any crash, leak, sanitizer
# report, broken invariant or input slower than 10 s.
set -eu
exe=$1 seeds=$2 work=$3 secs=$4
shift 4
mkdir -p "$work/corpus" "$work/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# -error_exitcode: libFuzzer's default, 77, is what meson reads as SKIP.
exec "$exe" -max_total_time="$secs" -timeout=10 -max_len=16384 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$@" "$work/corpus" "$seeds"
