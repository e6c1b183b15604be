#!/usr/bin/env bash
# The main job, end to end: installs what is needed, builds tracing_example, starts an OTLP/gRPC
# receiver on 127.0.0.1 (the OpenTelemetry project's own JavaScript implementation), runs the
# example against it and prints the trace the receiver got. Stops the receiver on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${VLLORA_BUILD_DIR:-$root/build-release}

tools/install_deps.sh
tests/support/otlp_receiver/setup.sh
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DVLLORA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${VLLORA_JOBS:-2}" --target tracing_example

work=$(mktemp -d)
receiver_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null || true; wait "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkfifo "$work/stdin"
node tests/support/otlp_receiver/receiver.js --port 0 --out "$work/spans.jsonl" \
  <"$work/stdin" >"$work/receiver.out" 2>"$work/receiver.err" &
receiver_pid=$!
exec 3>"$work/stdin"  # the receiver exits when this closes
for _ in $(seq 100); do
  grep -q '^listening' "$work/receiver.out" 2>/dev/null && break
  sleep 0.1
done
port=$(awk '/^listening/{print $2}' "$work/receiver.out")
[ -n "$port" ] || { echo "receiver did not start:"; cat "$work/receiver.err"; exit 1; }
echo "== OTLP receiver listening on 127.0.0.1:$port"
echo "== tracing_example --otlp-endpoint http://127.0.0.1:$port $*"
"$build/examples/tracing_example/tracing_example" --otlp-endpoint "http://127.0.0.1:$port" "$@"
echo "== what the receiver got"
node tools/print_trace.js "$work/spans.jsonl"
