# Shared by the bench/*.sh scripts (sourced, not run): a provisioned fleet and a running broker.
# Needs ROOT and BIN set by the caller.

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

# bench_broker DATA: starts the managed broker on a free port; sets PORT and BROKER (its pid).
bench_broker() {
  local data=$1
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
