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

# The same unit, integration and e2e tests under AddressSanitizer + UndefinedBehaviorSanitizer.
# alloc_dealloc_mismatch=0: Asio 1.22's handler recycling allocates with aligned_alloc and frees
# with operator delete, which ASan reports inside Asio itself.
if [ "${VLLORA_SKIP_SANITIZERS:-0}" != 1 ]; then
  asan_build=${VLLORA_ASAN_BUILD_DIR:-$root/build-asan-ci}
  sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  cmake -S . -B "$asan_build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DCMAKE_CXX_FLAGS="-O1 $sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" \
    -DVLLORA_BUILD_TESTS=ON -DVLLORA_BUILD_EXAMPLES=ON -DVLLORA_BUILD_BENCH=OFF
  cmake --build "$asan_build" -j"$jobs"
  (cd "$asan_build" &&
    ASAN_OPTIONS=alloc_dealloc_mismatch=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --output-on-failure -j"$jobs" --timeout 300 -LE install)
  echo "test.sh: ASan+UBSan stage done after ${SECONDS}s"
fi

# The unit and integration tests under ThreadSanitizer (no e2e, no bench). Third-party races
# (inside libraries built without TSan) are suppressed in tools/tsan.supp, each with its reason.
# VLLORA_SKIP_TSAN=1 skips this stage (e.g. locally).
if [ "${VLLORA_SKIP_TSAN:-0}" != 1 ]; then
  tsan_build=${VLLORA_TSAN_BUILD_DIR:-$root/build-tsan-ci}
  tsan="-fsanitize=thread -fno-omit-frame-pointer"
  cmake -S . -B "$tsan_build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DCMAKE_CXX_FLAGS="-O1 $tsan" -DCMAKE_EXE_LINKER_FLAGS="$tsan" \
    -DVLLORA_BUILD_TESTS=ON -DVLLORA_BUILD_EXAMPLES=OFF -DVLLORA_BUILD_BENCH=OFF
  cmake --build "$tsan_build" -j"$jobs"
  (cd "$tsan_build" &&
    TSAN_OPTIONS="suppressions=$root/tools/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
      ctest --output-on-failure -j"$jobs" --timeout 300 -L 'unit|integration')
fi
echo "test.sh: all stages done after ${SECONDS}s"
