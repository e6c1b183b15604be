#!/usr/bin/env bash
# Installs what is needed, builds everything with warnings as errors, and runs every test
# (unit, integration, e2e, example, install). Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${VLLORA_BUILD_DIR:-$root/build-ci}
jobs=${VLLORA_JOBS:-2}

tools/install_deps.sh
tools/check_format.sh
if [ -x tests/support/otlp_receiver/setup.sh ]; then tests/support/otlp_receiver/setup.sh; fi

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVLLORA_WERROR=ON \
  -DVLLORA_BUILD_TESTS=ON -DVLLORA_BUILD_EXAMPLES=ON -DVLLORA_BUILD_BENCH=ON
cmake --build "$build" -j"$jobs"
cd "$build"
ctest --output-on-failure -j"$jobs" --timeout 300
