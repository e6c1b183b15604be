#!/usr/bin/env bash
# Builds the benchmarks in Release (build-bench/), runs them all, prints a summary table and
# writes bench/results.json (issue 7). Instruction counts from callgrind are the figures of record;
# timings depend on the machine and its load.
#
#   bench/run_all.sh              # everything, a few minutes
#   BENCH_MIN_TIME=0.05 bench/run_all.sh   # quicker, noisier timings
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BENCH_BUILD_DIR:-$root/build-bench}"
out_dir="$build/bench-out"
min_time="${BENCH_MIN_TIME:-0.5}"
jobs="${BENCH_JOBS:-2}"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVLLORA_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$jobs" --target span_benchmark fmt_layer_benchmark callgrind_driver \
  >/dev/null
mkdir -p "$out_dir"

echo "== Google Benchmark (min_time=${min_time}s)" >&2
"$build/bench/span_benchmark" --benchmark_min_time="$min_time" \
  --benchmark_out="$out_dir/span_benchmark.json" --benchmark_out_format=json >&2
"$build/bench/fmt_layer_benchmark" --benchmark_min_time="$min_time" \
  --benchmark_out="$out_dir/fmt_layer_benchmark.json" --benchmark_out_format=json >&2

# Total instructions (all threads) of one callgrind run of the driver.
callgrind_ir() {
  local case="$1" n="$2" file="$out_dir/callgrind.$1.$2.out"
  valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$file" \
    "$build/bench/callgrind_driver" "$case" "$n" >/dev/null 2>"$file.log"
  # One file per thread is not written (no --separate-threads): `summary:` is the process total.
  awk '/^summary:/ {print $2}' "$file"
}

declare -A per_op
echo "== callgrind (instructions per operation = (Ir(N) - Ir(0)) / N)" >&2
for spec in b1:100000 b1_sdk:100000 b2:20000 b3a:1000000 b3b:100000 b3b_sdk:100000 b6:20000; do
  case="${spec%%:*}" n="${spec##*:}"
  base="$(callgrind_ir "$case" 0)"
  full="$(callgrind_ir "$case" "$n")"
  per_op[$case]="$(python3 -c "print(round(($full - $base) / $n, 1))")"
  echo "  $case: Ir(0)=$base Ir($n)=$full -> ${per_op[$case]}" >&2
done

python3 - "$out_dir" "$root/bench/results.json" \
  "${per_op[b1]}" "${per_op[b1_sdk]}" "${per_op[b2]}" "${per_op[b3a]}" "${per_op[b3b]}" \
  "${per_op[b3b_sdk]}" "${per_op[b6]}" <<'PY'
import json, sys
out_dir, results_path = sys.argv[1], sys.argv[2]
ir = dict(zip(["b1", "b1_sdk", "b2", "b3a", "b3b", "b3b_sdk", "b6"], map(float, sys.argv[3:])))

runs = {}
for name in ("span_benchmark", "fmt_layer_benchmark"):
    with open(f"{out_dir}/{name}.json") as f:
        for b in json.load(f)["benchmarks"]:
            if b.get("run_type", "iteration") == "iteration":
                runs[b["name"]] = b

def ns(name):
    b = runs[name]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    # UseRealTime benchmarks: wall time per iteration per thread; report per span overall.
    return round(b["real_time"] * scale, 1)

def per_span_mt(name, threads):
    # Google Benchmark reports wall time / iterations of all threads (aggregate throughput);
    # the cost one thread pays per span is that times the thread count.
    return round(ns(name) * threads, 1)

results = {
    "b1_instructions_per_span": ir["b1"],
    "b1_ns_per_span_1t": ns("BM_B1_OneSpan/real_time/threads:1"),
    "b1_ns_per_span_2t": per_span_mt("BM_B1_OneSpan/real_time/threads:2", 2),
    "b1_dropped": int(runs["BM_B1_OneSpan/real_time/threads:1"].get("dropped", 0)
                      + runs["BM_B1_OneSpan/real_time/threads:2"].get("dropped", 0)),
    "b1_sdk_only_instructions_per_span": ir["b1_sdk"],
    "b1_sdk_only_ns_per_span_1t": ns("BM_B1_SdkOnly/real_time/threads:1"),
    "b1_sdk_only_ns_per_span_2t": per_span_mt("BM_B1_SdkOnly/real_time/threads:2", 2),
    "b1_sdk_only_dropped": int(runs["BM_B1_SdkOnly/real_time/threads:1"].get("dropped", 0)
                               + runs["BM_B1_SdkOnly/real_time/threads:2"].get("dropped", 0)),
    "b2_instructions_per_chain": ir["b2"],
    "b2_ns_per_chain": ns("BM_B2_AgentChain"),
    "b3a_instructions": ir["b3a"],
    "b3a_ns": ns("BM_B3a_FilteredCallsite"),
    "b3b_instructions": ir["b3b"],
    "b3b_ns": ns("BM_B3b_SamplerDrops"),
    "b3b_sdk_only_instructions": ir["b3b_sdk"],
    "b3b_sdk_only_ns": ns("BM_B3b_SdkOnly"),
    "b6_instructions_per_event": ir["b6"],
    "b6_ns_per_event": ns("BM_B6_FmtLayerEvent"),
}
with open(results_path, "w") as f:
    json.dump(results, f, indent=2)
    f.write("\n")
targets = {"b1_instructions_per_span": "<= 900", "b1_ns_per_span_1t": "<= 150",
           "b1_dropped": "0", "b2_ns_per_chain": "<= 1500", "b3a_instructions": "<= 10",
           "b3b_instructions": "<= 100"}
print(f"{'key':38} {'value':>12}  target")
for key, value in results.items():
    print(f"{key:38} {value:>12}  {targets.get(key, '')}")
print(f"\nwritten: {results_path}")
PY
