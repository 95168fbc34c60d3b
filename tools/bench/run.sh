#!/usr/bin/env bash
# Runs Chorus's benchmark suite (tools/bench/README.md): sets the machine up, builds Release in
# build/bench, runs the bounds R1..R3 and then the measures B1..B6, each in a process of its
# own, in a fresh folder on the build's disk; collects their measurement lines (JSON, one per
# line) in build/bench/results.jsonl and prints a table.
#
#   bash tools/bench/run.sh           # the full suite, under 10 minutes
#   bash tools/bench/run.sh --smoke   # tiny sizes, seconds; lines in build/bench/results-smoke.jsonl
#
# A missed target is reported, not an error: the script fails only when a measure cannot run.
set -euo pipefail
cd "$(dirname "$0")/../.."

smoke=()
results=build/bench/results.jsonl
case "${1:-}" in
  "") ;;
  --smoke) smoke=(--smoke); results=build/bench/results-smoke.jsonl ;;
  *) echo "usage: bash tools/bench/run.sh [--smoke]" >&2; exit 2 ;;
esac

bash tools/setup.sh
mkdir -p build/bench
if ! { cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DCHORUS_BUILD_TESTS=OFF &&
       cmake --build build/bench -j2 --target chorus_bench; } >build/bench/build.log 2>&1; then
  tail -n 40 build/bench/build.log
  echo "run.sh: the build failed (full log: build/bench/build.log)" >&2
  exit 1
fi
bench=build/bench/tools/bench/chorus_bench

# Databases go beside the build, on its disk: never /dev/shm, whose fsync costs nothing.
work=$(mktemp -d "$PWD/build/bench/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
: >"$results"

failed=()
for measure in R1 R2 R3 B1 B2 B3 B4 B5 B6; do
  echo "run.sh: $measure" >&2
  if ! timeout 300 "$bench" --measure="$measure" --dir="$work" --workloads=../shared/workloads \
      "${smoke[@]}" >>"$results"; then
    failed+=("$measure")
  fi
done

"$bench" --table="$results"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: could not run ${failed[*]}" >&2
  exit 1
fi
