#!/usr/bin/env bash
# Runs the whole test suite with ctest: unit tests, server tests and integration tests (these
# start their own throwaway MariaDB and PostgreSQL; nothing needs to be running).
#
#   tests/run.sh                 everything, in ./build (or $SLUICE_BUILD_DIR)
#   tests/run.sh -L unit         only one label (unit | server | integration); any ctest flags work
#   tests/run.sh --sanitize      builds the unit tests with ASan+UBSan in ./build-asan and runs them
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: share hits between clones of the repo in different directories.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
JOBS="${SLUICE_JOBS:-2}"

if [ "${1:-}" = "--sanitize" ]; then
  shift
  BUILD="${SLUICE_ASAN_BUILD_DIR:-build-asan}"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
  # Only the unit-test binaries: ctest -L unit runs just those.
  # (Tests named after their binary; tests of another binary, e.g. *_shared_fixtures, are skipped
  # here and their binary is built for its own test.)
  tests=$(cd "$BUILD" && ctest -N -L unit | sed -n 's/^ *Test *#[0-9]*: //p')
  known=$(ninja -C "$BUILD" -t targets all | sed -n 's/^\([^:/]*\): phony$/\1/p')
  targets=$(comm -12 <(tr ' ' '\n' <<<"$tests" | sort -u) <(sort -u <<<"$known"))
  cmake --build "$BUILD" -j "$JOBS" --target $targets
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  exec ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" -L unit "$@"
fi

BUILD="${SLUICE_BUILD_DIR:-build}"
if [ ! -f "$BUILD/build.ninja" ]; then
  echo "tests/run.sh: no build in $BUILD; run ./deploy/setup.sh first" >&2
  exit 2
fi
cmake --build "$BUILD" -j "$JOBS"
exec ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" "$@"
