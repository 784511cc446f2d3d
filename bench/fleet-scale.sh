#!/usr/bin/env bash
# Fleet scale: how many simulated carts one machine carries against the managed broker, what each
# costs in memory, and how many messages per second the simulator generates.
#
#   bench/fleet-scale.sh [CARTS] [SHARDS] [CONNECT_RATE_PER_SHARD] [VIRTUAL_DURATION] [SPEED]
#   defaults:             10000   2        100                      30m                60
#
# Provisions CARTS carts once (kept in var/bench/fleet-scale, reused by later runs), starts the
# broker on a free port, runs SHARDS cartsim processes (`--shard I/N`) side by side and reports per
# shard and in total: carts connected at the end, peak RSS, RSS per cart, messages and messages/s.
# Needs the release build (./run build release). Shopper pace: scenarios/bench-busy.toml.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
CARTS=${1:-10000}
SHARDS=${2:-2}
RATE=${3:-100}
DURATION=${4:-30m}
SPEED=${5:-60}
DATA=$ROOT/var/bench/fleet-scale

[ -x "$BIN/cartsim" ] || { echo "build first: ./run build release" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
. "$ROOT/bench/lib.sh"
bench_fleet "$DATA" "$CARTS"
bench_broker "$DATA"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  kill -TERM $BROKER 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

echo "running $CARTS carts in $SHARDS processes, $RATE connects/s each, $DURATION virtual at ${SPEED}x"
OUT=$(mktemp -d)
for i in $(seq 0 $((SHARDS - 1))); do
  "$BIN/cartsim" run --carts "$DATA/carts" --broker "mqtts://127.0.0.1:$PORT" --shard "$i/$SHARDS" \
    --connect-rate "$RATE" --speed "$SPEED" --duration "$DURATION" --ble-bridge off --json \
    --scenario "$ROOT/scenarios/bench-busy.toml" >"$OUT/shard$i.json" 2>"$OUT/shard$i.err" &
  PIDS+=($!)
done
# Sample peak RSS while the shards run.
declare -A PEAK
while :; do
  alive=0
  for i in "${!PIDS[@]}"; do
    p=${PIDS[$i]}
    if kill -0 "$p" 2>/dev/null; then
      alive=1
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
      [ "${rss:-0}" -gt "${PEAK[$i]:-0}" ] && PEAK[$i]=$rss
    fi
  done
  broker_rss=$(pgrep -f "mosquitto -c $DATA" | head -1 | xargs -r -I{} awk '/VmRSS/ {print $2}' /proc/{}/status || echo 0)
  [ "${broker_rss:-0}" -gt "${PEAK[broker]:-0}" ] && PEAK[broker]=$broker_rss
  [ $alive = 1 ] || break
  sleep 1
done
for p in "${PIDS[@]}"; do wait "$p" || true; done
PIDS=()

python3 - "$OUT" "$SHARDS" "${PEAK[broker]:-0}" "${PEAK[@]}" <<'PY'
import json, sys
out, shards, broker_kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
peaks = [int(x) for x in sys.argv[4:4 + shards + 1]]
tot_c = tot_conn = tot_msgs = 0
tot_rss = 0
secs = 0
for i in range(shards):
    s = json.load(open(f"{out}/shard{i}.json"))
    msgs = sum(s["messages_by_type"].values())
    rss = peaks[i] if i < len(peaks) else 0
    print(f"shard {i}: carts {s['carts']}, connected at end {s['connected']}, messages {msgs} "
          f"in {s['real_seconds']:.1f} s = {msgs / s['real_seconds']:.0f}/s, peak RSS {rss / 1024:.0f} MB "
          f"= {rss / max(1, s['carts']):.0f} KB/cart, buffered {s['buffered']}, "
          f"scan-to-display p99 {s['scan_to_display_us']['p99']:.0f} us")
    tot_c += s["carts"]; tot_conn += s["connected"]; tot_msgs += msgs; tot_rss += rss
    secs = max(secs, s["real_seconds"])
print(f"total: {tot_conn}/{tot_c} carts connected at the end, {tot_msgs} messages, "
      f"{tot_msgs / secs:.0f} msg/s, simulator RSS {tot_rss / 1024:.0f} MB "
      f"({tot_rss / max(1, tot_c):.0f} KB/cart), broker peak RSS {broker_kb / 1024:.0f} MB")
PY
