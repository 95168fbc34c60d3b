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

# Runs the command after LOG with its output in WORK_DIR/LOG, shown if the command fails.
logged() {
  local log="$work/$1"
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    echo "check_package.sh: failed: $*" >&2
    return 1
  fi
}

logged install.log cmake --install "$build" --prefix "$work/prefix"
logged configure.log cmake -S "$here" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo
logged build.log cmake --build "$work/build"
"$work/build/consumer" "$work/package.db"
