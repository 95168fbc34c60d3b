#!/usr/bin/env bash
# Sets up the machine, builds Chorus (build/release), then runs the demo: the example pipeline
# start -> fan_out -> [analyze, summarize] -> fan_in -> report -> exit as shell commands on a
# fresh SQLite store (build/demo/chorus.db), and shows its status and history.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCHORUS_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target chorus_cli >/dev/null
chorus=$PWD/build/release/tools/chorus
rm -rf build/demo && mkdir -p build/demo && cd build/demo
set -x
"$chorus" run ../../tools/examples/analyze.dot --id demo --input "Chorus replays durable workflows"
"$chorus" status demo
"$chorus" history demo
