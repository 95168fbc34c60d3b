#!/usr/bin/env bash
# Installs a Chorus build into a folder of its own and builds and runs, against that copy, a
# service that finds it with find_package(chorus): the package has every file and dependency
# it needs.
#
#   bash tests/package/check_package.sh BUILD_DIR WORK_DIR CXX_COMPILER
set -euo pipefail
build=$1 work=$2 cxx=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cmake -S "$here" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log"
"$work/build/consumer" "$work/package.db"
