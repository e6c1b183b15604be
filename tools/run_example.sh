#!/usr/bin/env bash
# The main job, end to end: installs what is needed, builds tracing_example and vllora-collector
# (Release), starts `vllora-collector serve` in the background on a temporary database and free
# ports, runs the example against it over OTLP/gRPC, prints the trace tree with
# `vllora-collector show`, then stops the collector with SIGTERM. Whatever happens, the collector
# is stopped and the temporary files are removed; any failing step makes the script fail.
#
#   tools/run_example.sh [tracing_example options, e.g. --verbose]
#   VLLORA_BUILD_DIR=dir     build directory (default: build-release)
#   VLLORA_COLLECTOR_DB=file keep the database in this file instead of a temporary one
#   VLLORA_JOBS=n            parallel build jobs (default: 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${VLLORA_BUILD_DIR:-$root/build-release}

tools/install_deps.sh
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DVLLORA_BUILD_TESTS=OFF \
  -DVLLORA_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"${VLLORA_JOBS:-2}" --target tracing_example vllora-collector

collector="$build/src/collector/vllora-collector"
example="$build/examples/tracing_example/tracing_example"
work=$(mktemp -d)
db=${VLLORA_COLLECTOR_DB:-$work/traces.db}
collector_pid=""
cleanup() {
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then
    kill -TERM "$collector_pid" 2>/dev/null || true
    wait "$collector_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$collector" serve --db "$db" --grpc 127.0.0.1:0 --http 127.0.0.1:0 \
  >"$work/collector.out" 2>"$work/collector.err" &
collector_pid=$!
listening=""
for _ in $(seq 300); do  # up to 30 s
  listening=$(grep -m1 '^listening ' "$work/collector.out" 2>/dev/null || true)
  [ -n "$listening" ] && break
  kill -0 "$collector_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$listening" ]; then
  echo "run_example: vllora-collector did not start:" >&2
  cat "$work/collector.err" >&2
  exit 1
fi
grpc=$(sed -E 's/.*grpc=([^ ]+).*/\1/' <<<"$listening")
http=$(sed -E 's/.*http=([^ ]+).*/\1/' <<<"$listening")
echo "== vllora-collector serve --db $db: listening grpc=$grpc http=$http"

echo "== tracing_example --otlp-endpoint http://$grpc $*"
"$example" --otlp-endpoint "http://$grpc" "$@"

echo "== vllora-collector show --run latest --db $db"
"$collector" show --run latest --db "$db"

echo "== stopping vllora-collector (SIGTERM)"
kill -TERM "$collector_pid"
status=0
wait "$collector_pid" || status=$?
collector_pid=""
cat "$work/collector.err"
if [ "$status" -ne 0 ]; then
  echo "run_example: vllora-collector exited with status $status" >&2
  exit 1
fi
