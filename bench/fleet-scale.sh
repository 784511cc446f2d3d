#!/usr/bin/env bash
# Scale: 10,000 concurrent mutually-authenticated carts on one machine, and the reconnect storm
# after a broker restart (DESIGN.md §6).
#
#   bench/fleet-scale.sh [CARTS] [RATE] [SECONDS] [CONNECT_RATE]      defaults: 10000 1000 180 100
#
# Provisions CARTS carts once (var/bench/fleet-scale, reused), starts the managed broker and
# `cartwright serve`, and runs `cartsim load` (one TLS session per cart, RATE signed msgs/s over the
# fleet for SECONDS). Reports the connect rate, the peak RSS of the broker, of cartwright and of
# the drivers; a third of the way in it restarts the broker (SIGTERM, then the same port again) and
# reports how long until every cart was re-admitted and how many events were lost: every message
# the drivers planned must be stored by serve exactly once. A driver holds three file descriptors
# per cart (libmosquitto keeps a socket pair per client besides the socket), so the fleet is split
# between as many `cartsim load` processes as the open-file limit needs. The default connect rate
# is what the broker completes on a 2-core machine while carrying the load (about 100 mutual-TLS
# handshakes a second); asking for more queues handshakes past the carts' 30 s CONNACK timeout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
CARTS=${1:-10000}
RATE=${2:-1000}
SECONDS_RUN=${3:-180}
CONNECT_RATE=${4:-100}
DATA=$ROOT/var/bench/fleet-scale
[ -x "$BIN/cartsim" ] || { echo "build first: ./run build release" >&2; exit 1; }
export CW_BENCH_COMMAND="bench/fleet-scale.sh $CARTS $RATE $SECONDS_RUN $CONNECT_RATE"
ulimit -n "$(ulimit -Hn)"
. "$ROOT/bench/lib.sh"
bench_platform "$DATA" "$CARTS"
broker_pid() { pgrep -f "mosquitto -c $DATA/broker" | head -1; }
stored0=$(stored_now "$DATA")

most=$(( ($(ulimit -n) - 64) / 3 ))
DRIVERS=$(( (CARTS + most - 1) / most ))
per_driver=$(( (CARTS + DRIVERS - 1) / DRIVERS ))
echo "== $CARTS carts ($DRIVERS driver process(es)), $CONNECT_RATE connects/s, then $RATE msgs/s for ${SECONDS_RUN}s with a broker restart"
LOADS=()
rm -f "$OUT"/load*  # the restart waits for "publishing" in these: never read a previous run's
for i in $(seq 0 $((DRIVERS - 1))); do
  skip=$((i * per_driver)); n=$(( CARTS - skip < per_driver ? CARTS - skip : per_driver ))
  "$BIN/cartsim" load --carts "$DATA/carts" --broker "mqtts://127.0.0.1:$PORT" --skip-carts $skip --max-carts $n \
    --rate "$(python3 -c "print($RATE * $n / $CARTS)")" --duration "${SECONDS_RUN}s" \
    --connect-rate "$(( CONNECT_RATE * n / CARTS ))" --sign-threads $(( DRIVERS > 1 ? 1 : 2 )) \
    --json >"$OUT/load-$i.json" 2>"$OUT/load-$i.err" &
  LOADS+=($!)
done
LOAD="${LOADS[*]}"
declare -A PEAK=([broker]=0 [serve]=0 [driver]=0)
peak() {  # peak NAME PID...: the largest sum of the processes' RSS seen
  local kb=0 pid
  for pid in "${@:2}"; do kb=$((kb + $(rss_kb "$pid"))); done
  [ "$kb" -gt "${PEAK[$1]}" ] && PEAK[$1]=$kb
  true
}
running() { local pid; for pid in "${LOADS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
restarted=0
publishing_at=""
while running; do
  peak broker "$(broker_pid)"; peak serve $SERVE; peak driver "${LOADS[@]}"
  if [ -z "$publishing_at" ] && grep -qs "publishing" "$OUT"/load-*.err; then publishing_at=$SECONDS; fi
  if [ $restarted = 0 ] && [ -n "$publishing_at" ] && [ $((SECONDS - publishing_at)) -ge $((SECONDS_RUN / 3)) ]; then
    echo "restarting the broker"
    kill -TERM $BROKER; wait $BROKER 2>/dev/null || true
    bench_broker "$DATA" "$PORT"
    restarted=1
  fi
  sleep 1
done
for i in "${!LOADS[@]}"; do
  wait "${LOADS[$i]}" || { echo "cartsim load $i failed:"; cat "$OUT/load-$i.err"; exit 1; }
done
LOAD=""
wait_drained "$DATA" >/dev/null  # serve takes what the broker still holds for it
stored=$(( $(stored_now "$DATA") - stored0 ))
cat "$OUT"/load-*.err | sed 's/^/  /'
python3 - "$OUT"/load-*.json >"$OUT/load.json" <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
total = {k: sum(r[k] for r in runs) for k in ("carts", "connected", "planned", "published", "acknowledged", "outages")}
total["connect_seconds"] = max(r["connect_seconds"] for r in runs)
total["longest_outage_seconds"] = max(r["longest_outage_seconds"] for r in runs)
print(json.dumps(total))
PY
CW_BENCH_RESULTS=$ROOT/bench/results.py python3 - "$OUT/load.json" "$stored" "${PEAK[broker]}" "${PEAK[serve]}" "${PEAK[driver]}" "$CONNECT_RATE" <<'PY'
import json, os, subprocess, sys
r = json.load(open(sys.argv[1]))
stored, broker, serve, driver, asked = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
lost = r["planned"] - stored
rate = r["connected"] / max(r["connect_seconds"], 1e-9)
print(f"{r['connected']}/{r['carts']} carts connected in {r['connect_seconds']:.1f} s ({rate:.0f}/s, asked {asked}/s); "
      f"peak RSS broker {broker / 1024:.0f} MB, cartwright {serve / 1024:.0f} MB, driver {driver / 1024:.0f} MB")
print(f"broker restart: {r['outages']} outage(s), all carts re-admitted after {r['longest_outage_seconds']:.1f} s; "
      f"planned {r['planned']}, stored {stored}: {lost} lost")
if os.environ.get("CW_BENCH_FIGURES"):
    bench = os.environ["CW_BENCH_RESULTS"]
    rec = lambda *a: subprocess.run([bench, "record", "scale", *a], check=True)
    rec("concurrent mTLS carts connected", str(r["connected"]), "carts", "--target", "10,000", "--note", f"of {r['carts']}")
    rec("connect rate", f"{rate:.0f}", "carts/s", "--note", f"asked {asked}/s; {r['connect_seconds']:.1f} s for all")
    rec("peak RSS: broker", f"{broker / 1024:.0f}", "MB", "--note", f"{broker / max(1, r['carts']):.0f} KB per cart")
    rec("peak RSS: cartwright serve", f"{serve / 1024:.0f}", "MB")
    rec("peak RSS: load drivers", f"{driver / 1024:.0f}", "MB", "--note", "all driver processes; they hold every pre-signed message")
    rec("reconnect storm: time to re-admit every cart", f"{r['longest_outage_seconds']:.1f}", "s",
        "--note", "broker restarted (SIGTERM, same port) under load; carts back off 1 s doubling, full jitter")
    rec("reconnect storm: events lost", str(lost), "events", "--target", "0",
        "--note", f"planned {r['planned']}, stored {stored}")
PY
