#!/usr/bin/env bash
# Builds the libFuzzer programs of tests/fuzz (clang++, ASan + UBSan, CHORUS_FUZZ=ON) in
# BUILD_DIR, then runs each for SECONDS from the committed seeds and prints how many inputs it
# ran. Exits non-zero on a build failure or warning, or when a fuzzer finds a crash: the input
# is kept in BUILD_DIR/fuzz-artifacts/; once the bug is fixed, commit it to
# tests/fuzz/regressions/<target>/, where the fuzz regression test replays it in every suite.
# Each target's corpus (BUILD_DIR/fuzz-corpus/<target>/) grows from run to run.
#
#   bash tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$1
seconds=${2:-20}

echo "=== fuzz: build (${dir})"
mkdir -p "${dir}"
if ! { cmake -S . -B "${dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
         -DCHORUS_SANITIZE=address -DCHORUS_FUZZ=ON &&
       cmake --build "${dir}" -j"$(nproc)" --target chorus_fuzzers; } >"${dir}/build.log" 2>&1; then
  tail -n 60 "${dir}/build.log"
  echo "=== fuzz: BUILD FAILED (full log: ${dir}/build.log)"
  exit 1
fi
if grep -E 'warning:' "${dir}/build.log"; then
  echo "=== fuzz: the build has warnings (they must be clean)"
  exit 1
fi

mkdir -p "${dir}/fuzz-artifacts"
for target in definition event_fold import; do
  corpus="${dir}/fuzz-corpus/${target}"
  mkdir -p "${corpus}"
  # libFuzzer adds what it finds to the first directory only: the seeds stay as committed.
  seeds=("tests/fuzz/corpus/${target}")
  if [ "${target}" = definition ]; then seeds+=(tools/examples); fi
  if [ -d "tests/fuzz/regressions/${target}" ]; then seeds+=("tests/fuzz/regressions/${target}"); fi
  dict=()
  if [ -f "tests/fuzz/${target}.dict" ]; then dict=(-dict="tests/fuzz/${target}.dict"); fi
  log="${dir}/fuzz-${target}.log"
  if ! "${dir}/tests/fuzz/chorus_${target}_fuzzer" -max_total_time="${seconds}" -timeout=10 \
         -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
         -artifact_prefix="${dir}/fuzz-artifacts/${target}-" "${corpus}" "${seeds[@]}" \
         >"${log}" 2>&1; then
    tail -n 60 "${log}"
    echo "=== fuzz: ${target} FAILED (log ${log}; a crashing input is kept in ${dir}/fuzz-artifacts/)"
    exit 1
  fi
  echo "=== fuzz: ${target}: $(sed -n 's/^stat::number_of_executed_units: *//p' "${log}") inputs" \
       "in ${seconds}s, no crash"
done
