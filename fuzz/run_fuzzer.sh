#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SEEDER WORKDIR SECONDS — seeds the corpus, fuzzes for SECONDS under
# ASan+UBSan, fails (keeping the input in WORKDIR/findings/) on any crash, leak or UB.
set -euo pipefail
fuzzer=$1 seeder=$2 work=$3 seconds=$4
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work/corpus" "$work/findings"
"$seeder" "$work/corpus"
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$src/tests/ubsan.supp"
if "$fuzzer" "$work/corpus" -max_total_time="$seconds" -max_len=4200 -artifact_prefix="$work/findings/" \
     -print_final_stats=1 >"$work/fuzz.log" 2>&1; then
  grep -E "^Done|number_of_executed_units|new_units_added" "$work/fuzz.log"
  exit 0
fi
tail -n 80 "$work/fuzz.log"
echo "$(basename "$fuzzer") found a problem; reproduce with: $fuzzer $work/findings/<file>"
exit 1
