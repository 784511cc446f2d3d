#!/usr/bin/env bash
# The demo behind `./run demo`: a PKI, two stores × CW_DEMO_CARTS (default 50) provisioned carts, two signed firmware
# releases to roll out from the dashboard, the managed broker and the simulated fleet (cartsim at
# 60x) shopping against it, on
# embedded defaults under var/demo (kept between runs: a second run resumes). Ctrl-C stops it.
#   CW_DEMO_DIR (default var/demo), CW_DEMO_PORT (default 8883), CW_DEMO_BRIDGE_PORT (default 8090),
#   CW_DEMO_API_PORT (default 8443), CW_DEMO_DEVICE_PORT (default 8444), CW_DEMO_CARTS (carts per
#   store, default 50), CW_DEMO_SECONDS (stop after N s)
set -euo pipefail
BIN=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${CW_DEMO_DIR:-$ROOT/var/demo}
PORT=${CW_DEMO_PORT:-8883}
CARTS_PER_STORE=${CW_DEMO_CARTS:-50}
CW=("$BIN/cartwright" --data-dir "$DATA")

count_carts() { "${CW[@]}" carts list "$@" --json | { grep -o '"cart_id"' || true; } | wc -l; }

mkdir -p "$DATA"
chmod 755 "$DATA" "$(dirname "$DATA")" 2>/dev/null || true
[ -f "$DATA/pki/ca.crt" ] || "${CW[@]}" pki init >/dev/null

stores=$("${CW[@]}" store list --json)
grep -q '"STORE-001"' <<<"$stores" || "${CW[@]}" store add --id STORE-001 --name "FreshCo Berlin Mitte" --region eu --timezone Europe/Berlin --partner freshco >/dev/null
grep -q '"STORE-002"' <<<"$stores" || "${CW[@]}" store add --id STORE-002 --name "BigMart Chicago Loop" --region us --timezone America/Chicago --partner bigmart >/dev/null
for store in STORE-001 STORE-002; do
  have=$(count_carts --store "$store")
  if [ "$have" -lt "$CARTS_PER_STORE" ]; then
    "${CW[@]}" provision --store "$store" --new-carts $((CARTS_PER_STORE - have)) --out "$DATA/carts" >/dev/null
  fi
done

# Carts provisioned by an older demo have no factory trust store for firmware: give them the
# fleet's signing key, as provisioning now does.
for cart in "$DATA"/carts/CART-*; do
  [ -d "$cart/firmware-keys" ] && continue
  mkdir -p "$cart/firmware-keys" && cp "$DATA/pki/firmware-signing.pub" "$cart/firmware-keys/"
done

# Two firmware releases, signed with the fleet's firmware-signing key and stored write-once: a
# good 2.1.0, and 2.2.0, a test image that fails its self-test (a rollout of it halts at the canary).
mkdir -p "$DATA/firmware"
releases=$("${CW[@]}" firmware list)
for fw in "2.1.0:" "2.2.0:fails_self_test"; do
  version=${fw%%:*} defect=${fw#*:}
  grep -q "^$version " <<<"$releases" && continue
  image="$DATA/firmware/cart-$version.bin"
  [ -f "$image" ] || head -c 786432 /dev/urandom >"$image"
  "${CW[@]}" firmware sign --image "$image" --version "$version" ${defect:+--defect "$defect"} >/dev/null
  "${CW[@]}" firmware upload --image "$image" >/dev/null
done

# The stores' catalog (what the carts cache is what the POS exports; Cartwright only syncs it).
[ -f "$DATA/catalog.csv" ] || "$BIN/cartsim" catalog >"$DATA/catalog.csv"
for store in STORE-001 STORE-002; do
  "${CW[@]}" catalog import --store "$store" "$DATA/catalog.csv" >/dev/null
done

# Enrolled customers: their personal data goes to the vault only; the shoppers in the simulation
# use their loyalty cards and bank cards (customers.csv holds just those credentials).
if [ ! -f "$DATA/customers.csv" ]; then
  echo "loyalty,payment_token" >"$DATA/customers.csv.tmp"
  i=0
  for person in "Greta Lindqvist" "Jonas Achterberg" "Amira Haddad" "Mateo Ferreira" "Yuki Tanabe" \
                "Olu Adeyemi" "Priya Raman" "Tomasz Nowak"; do
    i=$((i + 1))
    loyalty=$(printf '6280%012d' $((i * 7919)))
    token=$(printf 'DEMOCARD%016d' $((i * 104729)))
    email="$(tr 'A-Z ' 'a-z.' <<<"$person")@example.com"
    "${CW[@]}" account add --email "$email" --name "$person" --phone "+49 30 555 01$(printf %02d $i)" \
      --loyalty "$loyalty" --payment-token "$token" >/dev/null
    echo "$loyalty,$token" >>"$DATA/customers.csv.tmp"
  done
  mv "$DATA/customers.csv.tmp" "$DATA/customers.csv"
fi

"${CW[@]}" broker run --listen "127.0.0.1:$PORT" --log-level warn &
BROKER=$!
SIM="" SERVE=""
stop_all() {
  if [ -n "$SIM" ]; then
    kill -TERM "$SIM" 2>/dev/null; wait "$SIM" 2>/dev/null
    echo; echo "cartsim summary:"; sed 's/^/  /' "$DATA/cartsim.log"
    grep -v '^cartsim: \[' "$DATA/cartsim.progress.log" | sed 's/^/  /' || true
  fi
  if [ -n "$SERVE" ]; then
    sleep 1  # let the ingest take what is still in flight
    kill -TERM "$SERVE" 2>/dev/null; wait "$SERVE" 2>/dev/null
    echo; echo "ingest:"; tail -n 2 "$DATA/serve.log" | sed 's/^/  /'
    echo "  newest events of CART-000001:"
    "${CW[@]}" events --cart CART-000001 --limit 5 | sed 's/^/    /'
    echo "  newest sessions of STORE-001:"
    "${CW[@]}" sessions list --store STORE-001 --limit 5 | sed 's/^/    /'
  fi
  kill -TERM $BROKER 2>/dev/null; wait $BROKER 2>/dev/null
  echo; echo "demo stopped; data kept in $DATA (a second ./run demo resumes)"
}
trap stop_all EXIT
trap 'exit 0' INT TERM
for _ in $(seq 1 150); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  kill -0 $BROKER 2>/dev/null || { echo "broker failed to start; see $DATA/broker/mosquitto.log" >&2; exit 1; }
  sleep 0.1
done

# Self-check: a provisioned cart publishes its retained birth message over mutual TLS and the
# ingest service identity reads it back.
CART="$DATA/carts/CART-000001"
mosquitto_pub -h 127.0.0.1 -p "$PORT" --cafile "$CART/ca.crt" --cert "$CART/device.crt" --key "$CART/device.key" \
  -i CART-000001 -q 1 -r -t carts/CART-000001/status -m online
got=$(timeout 5 mosquitto_sub -h 127.0.0.1 -p "$PORT" --cafile "$DATA/pki/ca.crt" \
  --cert "$DATA/pki/services/ingest.crt" --key "$DATA/pki/services/ingest.key" -i demo-check \
  -t carts/CART-000001/status -C 1 -W 5 || true)
check="FAILED (got '$got')"
[ "$got" = online ] && check="ok"

# People who use the API and the web pages, created once; their passwords are kept (0600) for
# the next run, since only the hashes are in the database.
if [ ! -f "$DATA/credentials.txt" ]; then
  ( umask 077
    for u in "ops ops" "staff1 staff STORE-001" "staff2 staff STORE-002" "auditor auditor"; do
      set -- $u
      "${CW[@]}" user add --name "$1" --role "$2" ${3:+--store "$3"} --json
    done >"$DATA/credentials.txt.tmp" ) && mv "$DATA/credentials.txt.tmp" "$DATA/credentials.txt"
fi
password_of() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
  d=json.loads(l)
  if d["name"]==sys.argv[2]: print(d["password"])' "$DATA/credentials.txt" "$1"; }

# The ingest: verify, validate, dedup and store every event (telemetry in $DATA/telemetry), and
# the REST API.
API=127.0.0.1:${CW_DEMO_API_PORT:-8443}
DEVICE_API=127.0.0.1:${CW_DEMO_DEVICE_PORT:-8444}
"${CW[@]}" serve --broker "127.0.0.1:$PORT" --api "$API" --device-api "$DEVICE_API" --web "$ROOT/build/web" \
  >"$DATA/serve.log" 2>&1 &
SERVE=$!
for _ in $(seq 1 100); do  # subscribed before the carts speak, so nothing is published to no one
  grep -q "^ingest: .* sessions" "$DATA/serve.log" 2>/dev/null && break
  kill -0 $SERVE 2>/dev/null || { echo "cartwright serve failed; see $DATA/serve.log" >&2; exit 1; }
  sleep 0.1
done

BRIDGE=${CW_DEMO_BRIDGE_PORT:-8090}
# Virtual time: the last 24 hours replayed at 60x, then live, resumed where the last run stopped.
"$BIN/cartsim" run --carts "$DATA/carts" --broker "mqtts://127.0.0.1:$PORT" --speed 60 --backfill 24h \
  --duration 8760h --clock-file "$DATA/carts/virtual-clock" \
  --scenario "$ROOT/scenarios/store-day.toml" --ble-bridge "127.0.0.1:$BRIDGE" \
  --catalog "$DATA/catalog.csv" --customers "$DATA/customers.csv" \
  >"$DATA/cartsim.log" 2>"$DATA/cartsim.progress.log" &
SIM=$!

cat <<INFO

  Cartwright demo is running.                                        (Ctrl-C to stop)

  Dashboard  https://$API/          ops dashboard: user ops, password $(password_of ops),
                                                    one-time code: ${CW[*]} user totp --name ops
  Tablet     https://$API/tablet/   staff tablet:  user staff1, password $(password_of staff1) (STORE-001)
             (the certificate is the demo's own CA, $DATA/pki/ca.crt: accept it or import it;
              overrides ask cartsim's BLE bridge at http://127.0.0.1:$BRIDGE for the proximity token)

  Broker     mqtts://127.0.0.1:$PORT   mutual TLS only, per-cart ACL
             config, ACL and log: $DATA/broker/
  Fleet      2 stores, $(count_carts) carts:  ${CW[*]} carts list
  PKI        $DATA/pki/  (root CA, broker/API/ingest certificates, command + firmware signing keys)
  Carts      $DATA/carts/CART-xxxxxx/{device.key,device.crt,ca.crt,cloud-command.pub,firmware-keys/}
  OTA        dashboard → Rollouts: roll out 2.1.0 (a good image) or 2.2.0 (fails its self-test: the
             canary rolls back and the rollout halts); pick the quick stage plan to watch it in minutes.
             Carts download from https://$DEVICE_API with their own certificates.
               ${CW[*]} firmware list
               ${CW[*]} rollout start --version 2.1.0 --stages '[{"carts":2,"duration":"1m"},{"percent":100}]'
               ${CW[*]} rollout list | show ID | halt ID | release ID | abort ID
  Self-check CART-000001 published its birth message, the ingest identity read it back: $check
  Simulator  cartsim: the $(count_carts) carts replay the last 24 hours at 60x (24 real minutes), then shop live;
             scenario scenarios/store-day.toml (faults, a coverage gap with LTE-M failover;
             progress: tail -f $DATA/cartsim.progress.log; summary on Ctrl-C; the virtual clock
             resumes from $DATA/carts/virtual-clock)
  Ingest     cartwright serve: every event verified, validated, deduplicated and stored
             (progress: tail -f $DATA/serve.log)
               ${CW[*]} events --cart CART-000001        newest first
               ${CW[*]} rejects                          the dead letters
  REST API   https://$API/api/v1   (OpenAPI: https://$API/api/v1/openapi.json; CA: $DATA/pki/ca.crt)
             ops      user ops      password $(password_of ops)   one-time code: ${CW[*]} user totp --name ops
             staff    user staff1   password $(password_of staff1)   (STORE-001; staff2: $(password_of staff2), STORE-002)
             auditor  user auditor  password $(password_of auditor)
             e.g. curl --cacert $DATA/pki/ca.crt https://$API/api/v1/auth/token \\
                    -d '{"username":"staff1","password":"$(password_of staff1)"}'
  Sessions   projected from the events: who shopped, what was scanned, weight and totals checks
               ${CW[*]} sessions list --store STORE-001            newest first
               ${CW[*]} sessions list --store STORE-001 --flagged  for loss prevention
               ${CW[*]} sessions show --session ID
             signed receipts of completed sessions: $DATA/blobs/receipts/
  Customers  8 enrolled (loyalty card + bank card); their PII only in the encrypted vault ($DATA/vault.db)
               ${CW[*]} account show --account ID --purpose "why"   (every read is audited)
               ${CW[*]} keys list                                 the vault's key versions
               ${CW[*]} audit verify                              the hash-chained audit logs
  BLE bridge http://127.0.0.1:$BRIDGE/proximity/CART-000001 — a staff-override proximity token:
               $BIN/cartsim proximity --cart CART-000001 --bridge http://127.0.0.1:$BRIDGE

  Connect as a cart:
    mosquitto_sub -h 127.0.0.1 -p $PORT --cafile $CART/ca.crt \\
      --cert $CART/device.crt --key $CART/device.key -i CART-000001-console -t carts/CART-000001/commands -v
  Watch every cart's traffic as the cloud ingest service:
    mosquitto_sub -h 127.0.0.1 -p $PORT --cafile $DATA/pki/ca.crt \\
      --cert $DATA/pki/services/ingest.crt --key $DATA/pki/services/ingest.key -t 'carts/#' -v

INFO
if [ -n "${CW_DEMO_SECONDS:-}" ]; then  # for scripted runs: stop after N seconds
  sleep "$CW_DEMO_SECONDS"
else
  wait $BROKER
fi
