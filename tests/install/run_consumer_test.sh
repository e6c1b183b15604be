#!/usr/bin/env bash
# Installs the build into a temporary prefix, configures and builds tests/install/consumer with
# find_package(vllora_telemetry CONFIG), runs it, and checks its output.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$VLLORA_BUILD_DIR" --prefix "$work/prefix" >/dev/null
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S "$VLLORA_SOURCE_DIR/tests/install/consumer" -B "$work/build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j2 >/dev/null
out=$("$work/build/consumer" 2>&1)
echo "$out"
grep -q "span model_call run_id=set" <<<"$out"
grep -q "span handle_request run_id=set" <<<"$out"
grep -q "calling the model" <<<"$out"
