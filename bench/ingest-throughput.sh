#!/usr/bin/env bash
# Ingest throughput, first figure: signed events from simulated carts through the managed broker
# (mutual TLS) into `cartwright serve` (verify, schema, dedup, synced RocksDB commit), everything
# on this machine. Reports events stored per second and serve's CPU time per stored event beside
# the cost of one OpenSSL P-256 verify measured in the same run (DESIGN.md §6 targets).
#
#   bench/ingest-throughput.sh [CARTS] [SECONDS] [SPEED]      defaults: 2000 60 600
#
# The load comes from cartsim (it signs as it goes, so it competes with the ingest for the two
# cores); a pre-signed load driver is issue 9's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
CARTS=${1:-2000}
SECONDS_RUN=${2:-60}
SPEED=${3:-600}
DATA=$ROOT/var/bench/ingest-throughput
[ -x "$BIN/cartwright" ] || { echo "build first: ./run build release" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
. "$ROOT/bench/lib.sh"
bench_fleet "$DATA" "$CARTS"
rm -rf "$DATA/telemetry" "$DATA/broker/data"
bench_broker "$DATA"
SERVE="" SIM=""
cleanup() {
  [ -n "$SIM" ] && kill -TERM "$SIM" 2>/dev/null || true
  [ -n "$SERVE" ] && kill -TERM "$SERVE" 2>/dev/null || true
  kill -TERM $BROKER 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$BIN/cartwright" --data-dir "$DATA" serve --broker "127.0.0.1:$PORT" --api 127.0.0.1:0 --log-level warn >"$DATA/serve.log" 2>&1 &
SERVE=$!
sleep 2
echo "running $CARTS carts at ${SPEED}x for ${SECONDS_RUN}s against cartwright serve"
cpu0=$(cpu_seconds $SERVE)
"$BIN/cartsim" run --carts "$DATA/carts" --broker "mqtts://127.0.0.1:$PORT" --speed "$SPEED" \
  --duration "$((SECONDS_RUN * SPEED))s" --connect-rate 400 --ble-bridge off --quiet --json \
  --scenario "$ROOT/scenarios/bench-busy.toml" >"$DATA/cartsim.json" 2>/dev/null &
SIM=$!
wait $SIM; SIM=""
sleep 6  # the ingest drains what the broker still holds, then prints one more progress line
cpu1=$(cpu_seconds $SERVE)
kill -TERM $SERVE; wait $SERVE || true; SERVE=""
verify=$(openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/^ 256 bits ecdsa/ {print $NF}')
python3 - "$DATA/serve.log" "$DATA/cartsim.json" "$cpu0" "$cpu1" "$verify" <<'PY'
import json, re, sys
log, sim, cpu0, cpu1, verify = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
rates, stored, dups, rejected = [], 0, 0, 0
for line in open(log):
    m = re.match(r"ingest: (\d+) received, (\d+) stored \((\d+)/s\), (\d+) duplicates, (\d+) rejected", line)
    if m:
        stored, dups, rejected = int(m[2]), int(m[4]), int(m[5])
        rates.append(int(m[3]))
s = json.load(open(sim))
sent = s["published_live"] + s["replayed"]
busy = [r for r in rates if r > 0]
cpu = cpu1 - cpu0
print(f"cartsim sent {sent} events in {s['real_seconds']:.0f} s ({sent / s['real_seconds']:.0f}/s); serve stored {stored}, "
      f"{dups} duplicates, {rejected} rejected")
if busy:
    print(f"stored per second while busy: mean {sum(busy) / len(busy):.0f}, best 5-s window {max(busy)}")
if stored:
    per = cpu / stored * 1e6
    print(f"serve CPU {cpu:.1f} s = {per:.0f} us per stored event; one P-256 verify costs {1e6 / verify:.0f} us "
          f"(openssl speed: {verify:.0f}/s): ratio {per / (1e6 / verify):.2f} (target <= 1.25)")
PY
