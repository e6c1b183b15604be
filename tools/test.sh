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
# Node.js peers used by the tests (each folder's setup.sh runs `npm ci`).
for setup in tests/support/*/setup.sh; do
  if [ -x "$setup" ]; then "$setup"; fi
done

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
# -O2 without debug info: CI wants the warnings and the optimised code, not a debugger (-g costs
# about a quarter of the build on 2 cores). The sanitizer stages keep line tables (-g1) for their
# reports.
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVLLORA_WERROR=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
  -DVLLORA_BUILD_TESTS=ON -DVLLORA_BUILD_EXAMPLES=ON -DVLLORA_BUILD_BENCH=ON
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 300)
echo "test.sh: build + tests done after ${SECONDS}s"

# One sanitizer stage: a Debug build (-O1, line tables) with the given -fsanitize flags in its
# own directory, then ctest with the given environment and test selection.
#   sanitizer_stage NAME DIR FLAGS EXAMPLES(ON|OFF) ENV CTEST_ARGS...
sanitizer_stage() {
  local name=$1 dir=$2 flags="$3 -fno-omit-frame-pointer" examples=$4 env=$5
  shift 5
  cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DCMAKE_CXX_FLAGS="-O1 $flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DVLLORA_BUILD_TESTS=ON -DVLLORA_BUILD_EXAMPLES="$examples" -DVLLORA_BUILD_BENCH=OFF
  cmake --build "$dir" -j"$jobs"
  # shellcheck disable=SC2086  # $env is a list of VAR=value words
  (cd "$dir" && env $env ctest --output-on-failure -j"$jobs" --timeout 300 "$@")
  echo "test.sh: $name stage done after ${SECONDS}s"
}

# The same unit, integration and e2e tests under AddressSanitizer + UndefinedBehaviorSanitizer.
# alloc_dealloc_mismatch=0: Asio 1.22's handler recycling allocates with aligned_alloc and frees
# with operator delete, which ASan reports inside Asio itself.
if [ "${VLLORA_SKIP_SANITIZERS:-0}" != 1 ]; then
  sanitizer_stage "ASan+UBSan" "${VLLORA_ASAN_BUILD_DIR:-$root/build-asan-ci}" \
    "-fsanitize=address,undefined -fno-sanitize-recover=undefined" ON \
    "ASAN_OPTIONS=alloc_dealloc_mismatch=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1" \
    -LE install
fi

# The unit and integration tests under ThreadSanitizer (no e2e, no bench). Third-party races
# (inside libraries built without TSan) are suppressed in tools/tsan.supp, each with its reason.
# VLLORA_SKIP_TSAN=1 skips this stage (e.g. locally).
if [ "${VLLORA_SKIP_TSAN:-0}" != 1 ]; then
  sanitizer_stage "TSan" "${VLLORA_TSAN_BUILD_DIR:-$root/build-tsan-ci}" "-fsanitize=thread" OFF \
    "TSAN_OPTIONS=suppressions=$root/tools/tsan.supp:halt_on_error=1:second_deadlock_stack=1" \
    -L 'unit|integration'
fi
echo "test.sh: all stages done after ${SECONDS}s"
