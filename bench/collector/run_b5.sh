#!/usr/bin/env bash
# B5 (issue 7): collector ingest throughput with 4 concurrent OTLP/gRPC exporters.
# Usage: bench/collector/run_b5.sh BUILD_DIR [extra collector_b5_load flags, e.g. --spans 1000000]
# Builds nothing: BUILD_DIR must hold src/collector/vllora-collector and
# src/collector/collector_b5_load (configure with -DVLLORA_BUILD_BENCH=ON).
# The exporters are the project's OtlpGrpcExporter (default); --message (generated stub and
# protobuf messages) and --preencoded (bytes encoded before the clock) are for comparison.
# Prints b5_mode=..., b5_spans_per_s=N and b5_peak_rss_mib=M (plus b5_rows_in_db,
# b5_collector_cpu_us_per_span, b5_load_cpu_us_per_span and a b5_spans_sent details line).
set -euo pipefail
build=${1:?usage: run_b5.sh BUILD_DIR [flags]}
shift
driver="$build/src/collector/collector_b5_load"
collector="$build/src/collector/vllora-collector"
for f in "$driver" "$collector"; do
  if [ ! -x "$f" ]; then
    echo "run_b5.sh: $f not built (cmake --build $build --target collector_b5_load vllora-collector)" >&2
    exit 1
  fi
done
exec "$driver" --collector "$collector" --exporters 4 "$@"
