#!/usr/bin/env bash
# Sets up the machine, builds Chorus (build/release), and runs the demo: a workflow on a
# fresh SQLite store (build/demo/chorus-demo.db), then its status and history.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCHORUS_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target chorus_demo >/dev/null
mkdir -p build/demo
rm -f build/demo/chorus-demo.db build/demo/chorus-demo.db-wal build/demo/chorus-demo.db-shm
build/release/tools/chorus_demo build/demo/chorus-demo.db
