#!/usr/bin/env bash
# The whole test suite, as CI runs it (root, Debian 12):
#  1. release build (warnings as errors): unit tests + lab tests in namespaces
#  2. ASan+UBSan build: unit tests + the switch lab test
#  3. clang/libFuzzer build: every decoder's fuzz target for a bounded time
set -euo pipefail
. "$(dirname "$0")/as-root.sh"
as_root "$0" "$@"
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
./scripts/deps.sh

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release --output-on-failure -L unit -j2
# Two lab tests at a time where their scripts allow it (`# ctest: parallel`, tests/lab/CMakeLists.txt);
# the others (timing, failover, VMs, host-wide checks) run alone.
ctest --preset release --output-on-failure -L lab -j2

echo "== ASan + UBSan build"
cmake --preset asan >/dev/null
cmake --build --preset asan
# The unit tests in one process: one start and one leak scan of the instrumented binary instead
# of one per test (ctest's per-test processes spent most of ~9 minutes there); the release stage
# above already ran each test in a process of its own.
ASAN_OPTIONS=detect_leaks=1 build/asan/tests/vnet_unit_tests --gtest_brief=1
ctest --preset asan --output-on-failure -R 'lab.switch_afpacket|lab.lab_campus'

echo "== fuzz targets (${FUZZ_SECONDS}s each)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers
mkdir -p build/fuzz/corpus
fuzz_total=0
for f in build/fuzz/tests/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  mkdir -p "build/fuzz/corpus/$name"
  # Seeds (tests/fuzz/corpus/NAME) and a dictionary (tests/fuzz/NAME.dict) where a target has them;
  # new inputs go to the first corpus directory, under build/.
  extra=()
  seeds=tests/fuzz/corpus/${name#fuzz_}
  [ -d "$seeds" ] && extra+=("$seeds")
  [ -f "tests/fuzz/$name.dict" ] && extra=(-dict="tests/fuzz/$name.dict" "${extra[@]}")
  "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 -artifact_prefix="build/fuzz/$name-" \
    "build/fuzz/corpus/$name" "${extra[@]}" 2>"build/fuzz/$name.log" \
    || { tail -50 "build/fuzz/$name.log"; echo "FAIL: $name"; exit 1; }
  echo "fuzz: $name ran ${FUZZ_SECONDS}s without a crash ($(grep -c . "build/fuzz/$name.log") log lines)"
  fuzz_total=$((fuzz_total + 1))
done
[ "$fuzz_total" -gt 0 ] || { echo "FAIL: no fuzz target was built"; exit 1; }
echo "all test stages passed"
