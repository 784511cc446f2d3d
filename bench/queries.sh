#!/usr/bin/env bash
# Query latency at 1M, 10M and 100M stored events: bench/query/query_bench.cc fills a RocksDB
# telemetry store directly (10,000 carts in 100 stores, one event per cart every 30 s of device
# time) and times newest-100-for-one-cart and the first page of a 15-minute store window at each
# level (DESIGN.md §6: p99 ≤ 2 ms and ≤ 10 ms, flat from 1M to 100M).
#
#   bench/queries.sh [LEVELS]      default 1000000,10000000,100000000
#
# The store is kept in var/bench/queries (about 20 GB at 100M), so a second run measures at once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
LEVELS=${1:-1000000,10000000,100000000}
DATA=$ROOT/var/bench/queries
[ -x "$BIN/cw_query_bench" ] || { echo "build first: ./run build release" >&2; exit 1; }
export CW_BENCH_COMMAND="bench/queries.sh $LEVELS"
mkdir -p "$DATA"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$BIN/cw_query_bench" --dir "$DATA/telemetry" --levels "$LEVELS" | tee "$OUT"
[ -z "${CW_BENCH_FIGURES:-}" ] && exit 0
python3 - "$OUT" "$ROOT/bench/results.py" <<'PY'
import json, subprocess, sys
targets = {"newest_100_for_cart": "p99 ≤ 2 ms", "store_window_first_page": "p99 ≤ 10 ms"}
for line in open(sys.argv[1]):
    r = json.loads(line)
    label = f"{r['query']} at {r['events'] / 1e6:g}M events"
    note = f"p50 {r['p50_ms']:.3f} ms, max {r['max_ms']:.2f} ms, {r['samples']} samples, {r['mean_items']:.0f} items each"
    subprocess.run([sys.argv[2], "record", "queries", label + " p99", f"{r['p99_ms']:.3f}", "ms",
                    "--target", targets[r["query"]], "--note", note], check=True)
PY
