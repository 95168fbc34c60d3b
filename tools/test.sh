#!/usr/bin/env bash
# Sets up the machine, then builds and runs every test suite, each in its own build folder:
#   1. plain      (g++, -O2, no debug information)               build/test-plain
#   2. asan       (clang++, AddressSanitizer + UBSan)            build/test-asan-clang
#   3. tsan       (clang++, ThreadSanitizer, and -Wthread-safety -Werror so that every
#                  ABSL_GUARDED_BY annotation is checked)        build/test-tsan
#   4. fuzz       (clang++, libFuzzer + ASan + UBSan: each fuzz target
#                  runs 20 s from its committed seeds)           build/test-fuzz
# Exits non-zero as soon as any build or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

jobs=$(nproc)

run_suite() {
  local name=$1 dir=$2
  shift 2
  echo "=== ${name}: build (${dir})"
  mkdir -p "${dir}"
  if ! { cmake -S . -B "${dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
         cmake --build "${dir}" -j"${jobs}"; } >"${dir}/build.log" 2>&1; then
    tail -n 60 "${dir}/build.log"
    echo "=== ${name}: BUILD FAILED (full log: ${dir}/build.log)"
    return 1
  fi
  if grep -E 'warning:' "${dir}/build.log"; then
    echo "=== ${name}: the build has warnings (they must be clean)"
    return 1
  fi
  echo "=== ${name}: test"
  ctest --test-dir "${dir}" --output-on-failure -j"${jobs}"
  # The tallies the fault tests print: kills, kill points and I/O fault points.
  grep -hE 'kills over|crash sweep:|io faults' "${dir}/Testing/Temporary/LastTest.log" || true
}

# Sanitizer settings for every test process, including the `chorus` binary the CLI tests run.
# The suppressions name third-party libraries only (see the files).
supp="$PWD/tests/sanitizer"
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:suppressions=$supp/tsan.supp"

# The plain suite without debug information: g++ spends a quarter of its time writing it, and
# no test reads it.
run_suite "plain suite" build/test-plain -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG"
# Clang rather than g++: it builds this suite in less than half the time (g++ spent most of
# the script's time here); the plain suite keeps g++'s warnings. The folder is named for the
# compiler: CMake drops CHORUS_SANITIZE when a configured folder's compiler changes.
# The sanitizer suites leave out the benchmark suite, which no test runs: the plain suite builds
# it (and checks its warnings), and tools/bench/run.sh runs it.
run_suite "ASan+UBSan suite" build/test-asan-clang -DCMAKE_CXX_COMPILER=clang++ -DCHORUS_SANITIZE=address \
  -DCHORUS_BUILD_BENCH=OFF
run_suite "TSan suite + Clang thread-safety build" build/test-tsan \
  -DCMAKE_CXX_COMPILER=clang++ -DCHORUS_SANITIZE=thread -DCHORUS_THREAD_SAFETY=ON -DCHORUS_BUILD_BENCH=OFF
bash tests/fuzz/run_fuzzers.sh build/test-fuzz 20
echo "=== all suites passed"
