#!/usr/bin/env bash
# cartmask throughput on this machine's cores, end to end through the `cartmask` binary (read,
# mask, write the output, the decision log and the sealed token map):
#   - structured masking: the generated connected-tool telemetry without its notes column
#     (digests, tokens, GPS grid, hour, address, kept columns);
#   - free-text redaction: a dataset of notes alone, every record a note.
# The inputs are read once beforehand so the figure is the masking, not the disk.
#
#   bench/mask.sh [ROWS]      structured rows, default 2000000 (about 430 MB); notes: ROWS/4
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
ROWS=${1:-2000000}
DATA=$ROOT/var/bench/mask
[ -x "$BIN/cartmask" ] || { echo "build first: ./run build release" >&2; exit 1; }
export CW_BENCH_COMMAND="bench/mask.sh $ROWS"
mkdir -p "$DATA"
cm() { "$BIN/cartmask" "$@"; }
[ -f "$DATA/keyring.toml" ] || cm keys init --keys "$DATA/keyring.toml" >/dev/null
[ -f "$DATA/structured-$ROWS.csv" ] ||
  cm generate --rows "$ROWS" --seed 1 --no-notes --out "$DATA/structured-$ROWS.csv" --rubric-out "$DATA/rubric.toml"
NOTES=$((ROWS / 4))
[ -f "$DATA/notes-$NOTES.csv" ] || cm generate --rows "$NOTES" --seed 2 --notes-only --out "$DATA/notes-$NOTES.csv"
cat > "$DATA/notes-rubric.toml" <<'TOML'
version = "bench-1"
[columns.event_id]
bucket = "behavioural"
treatment = "keep"
why = "a random UUID per event"
[columns.notes]
bucket = "free_text"
treatment = "redact"
why = "technicians write names, phones and emails into notes"
TOML

# run NAME INPUT RUBRIC TARGET: masks INPUT, prints cartmask's summary, records its MB/s.
run() {
  local name=$1 in=$2 rubric=$3 target=$4 out
  out="$DATA/out-$(basename "$in")"
  rm -f "$out" "$out".*
  cat "$in" >/dev/null
  local summary
  summary=$(cm mask --rubric "$rubric" --keys "$DATA/keyring.toml" --domain bench --in "$in" --out "$out")
  echo "$summary" | head -3
  local line rate
  line=$(echo "$summary" | head -1)  # "masked N of N records (X MiB) in S s, R MB/s"
  rate=$(echo "$line" | sed -E 's/.*, ([0-9.]+) MB\/s$/\1/')
  if [ -n "${CW_BENCH_FIGURES:-}" ]; then
    "$ROOT/bench/results.py" record mask "$name" "$rate" "MB/s" --target "$target" \
      --note "$(echo "$line" | sed -E 's/, [0-9.]+ MB\/s$//'), $(nproc) cores"
  fi
  rm -f "$out" "$out".*
}
run "structured-column masking" "$DATA/structured-$ROWS.csv" "$DATA/rubric.toml" "≥ 200 MB/s"
run "free-text redaction" "$DATA/notes-$NOTES.csv" "$DATA/notes-rubric.toml" "≥ 20 MB/s"
