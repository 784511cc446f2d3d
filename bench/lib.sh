# Shared by the bench/*.sh scripts (sourced, not run): a provisioned fleet and a running broker.
# Needs ROOT and BIN set by the caller.

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_fleet DATA CARTS: PKI, one store and CARTS provisioned carts in DATA (kept between runs),
# with every cart's flash reset (queues and held sessions empty; seq counters keep rising).
bench_fleet() {
  local data=$1 carts=$2
  local cw=("$BIN/cartwright" --data-dir "$data")
  mkdir -p "$data"
  [ -f "$data/pki/ca.crt" ] || "${cw[@]}" pki init >/dev/null
  "${cw[@]}" store list 2>/dev/null | grep -q STORE-001 ||
    "${cw[@]}" store add --id STORE-001 --name "Bench" --region eu --timezone Europe/Berlin >/dev/null
  local have
  have=$( (ls -d "$data"/carts/CART-* 2>/dev/null || true) | wc -l)
  if [ "$have" -lt "$carts" ]; then
    echo "provisioning $((carts - have)) carts..."
    "${cw[@]}" provision --store STORE-001 --new-carts $((carts - have)) --out "$data/carts" >/dev/null
  fi
  find "$data/carts" \( -path '*/flash/queue.log' -o -path '*/flash/session.json' \) -delete
}

# bench_broker DATA [PORT]: starts the managed broker (on a free port unless PORT is given); sets
# PORT and BROKER (its pid).
bench_broker() {
  local data=$1
  PORT=${2:-$(free_port)}
  "$BIN/cartwright" --data-dir "$data" broker run --listen "127.0.0.1:$PORT" --log-level warn >/dev/null &
  BROKER=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "broker did not start; see $data/broker/mosquitto.log" >&2
  return 1
}

# cpu_seconds PID: user + system CPU time the process has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# bench_serve DATA: starts `cartwright serve` against $PORT with the API on a free port and a
# metrics scrape token (plus $CW_BENCH_SERVE_TOML, more cartwright.toml for experiments); sets
# SERVE (its pid), API_PORT and METRICS_TOKEN. Waits until it ingests.
bench_serve() {
  local data=$1
  METRICS_TOKEN=bench-scrape-token-0123456789abcdef
  printf '[api]\nmetrics_token = "%s"\n%b' "$METRICS_TOKEN" "${CW_BENCH_SERVE_TOML:-}" >"$data/cartwright.toml"
  API_PORT=$(free_port)
  "$BIN/cartwright" --data-dir "$data" serve --broker "127.0.0.1:$PORT" --api "127.0.0.1:$API_PORT" \
    --log-level warn >"$data/serve.log" 2>&1 &
  SERVE=$!
  for _ in $(seq 1 200); do
    grep -q "^ingest: .* sessions" "$data/serve.log" 2>/dev/null && return 0
    kill -0 $SERVE 2>/dev/null || { echo "cartwright serve failed; see $data/serve.log" >&2; return 1; }
    sleep 0.1
  done
  echo "cartwright serve did not start; see $data/serve.log" >&2
  return 1
}

# scrape DATA: serve's /metrics (Prometheus text) on stdout.
scrape() {
  curl -sf --cacert "$1/pki/ca.crt" -H "Authorization: Bearer $METRICS_TOKEN" "https://127.0.0.1:$API_PORT/metrics"
}

# rss_kb PID: resident set size in KiB (0 when the process is gone).
rss_kb() {
  awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# p256_verifies_per_second: one core's OpenSSL ECDSA P-256 verifies per second, measured now.
p256_verifies_per_second() {
  openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/^ 256 bits ecdsa/ {print $NF}'
}

# record BENCH FIGURE VALUE UNIT [--target T] [--note N]: one figure for ./run bench's report
# (ignored when the script runs on its own).
record() {
  [ -n "${CW_BENCH_FIGURES:-}" ] || return 0
  "$ROOT/bench/results.py" record "$@"
}

# bench_platform DATA CARTS: a provisioned fleet, a fresh store, the broker and serve, all stopped
# (with the process in $LOAD, if any) when the script exits. Sets PORT, BROKER, SERVE, API_PORT,
# METRICS_TOKEN and OUT (DATA/run, for the run's files).
bench_platform() {
  local data=$1 carts=$2
  bench_fleet "$data" "$carts"
  rm -rf "$data/telemetry" "$data/broker/data" "$data/blobs"
  bench_broker "$data"
  SERVE="" LOAD=""
  trap bench_stop EXIT
  bench_serve "$data"
  OUT=$data/run
  mkdir -p "$OUT"
}

# bench_stop: the driver(s), then serve (given 15 s to finish its batch and disconnect, then
# killed), then the broker. Runs from the EXIT trap, so errexit is off here: a process that is
# already gone must not stop the others being stopped.
bench_stop() {
  set +e
  [ -n "${LOAD:-}" ] && kill -TERM $LOAD 2>/dev/null  # one pid or several
  if [ -n "${SERVE:-}" ] && kill -TERM "$SERVE" 2>/dev/null; then
    for _ in $(seq 1 150); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE" 2>/dev/null
  fi
  [ -n "${BROKER:-}" ] && kill -TERM "$BROKER" 2>/dev/null
  wait 2>/dev/null
  true
}

# stored_now DATA: events serve has stored since it started (its cw_ingest_stored_total).
stored_now() {
  scrape "$1" | awk '/^cw_ingest_stored_total/ {s += $2} END {printf "%d\n", s}'
}

# wait_drained DATA: waits until serve has stored all it will (no change for 3 s); prints the time
# of the last change (epoch seconds).
wait_drained() {
  local last=-1 same=0 changed_at now
  changed_at=$(date +%s.%N)
  while [ $same -lt 6 ]; do
    sleep 0.5
    now=$(stored_now "$1")
    if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last=$now; changed_at=$(date +%s.%N); fi
  done
  echo "$changed_at"
}
