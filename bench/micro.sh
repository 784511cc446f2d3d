#!/usr/bin/env bash
# Micro-benchmarks (Google Benchmark): one P-256 verify, admission of one signed event (envelope,
# registry, verify, parse, schema), the strict JSON parse and parse+schema alone, and a synced
# RocksDB batch commit per event. Source: bench/micro/ingest_micro.cc.
#
#   bench/micro.sh [MIN_TIME_SECONDS]      default 0.5
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
MIN_TIME=${1:-0.5}
[ -x "$BIN/cw_micro_bench" ] || { echo "build first: ./run build release" >&2; exit 1; }
export CW_BENCH_COMMAND="bench/micro.sh $MIN_TIME"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$BIN/cw_micro_bench" --benchmark_min_time="$MIN_TIME" --benchmark_out="$OUT" --benchmark_out_format=json
[ -n "${CW_BENCH_FIGURES:-}" ] && "$ROOT/bench/results.py" micro micro "$OUT"
true
