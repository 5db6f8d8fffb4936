#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 600) one after another, or the targets
# named as arguments, and prints one summary line per target. Needs cargo-fuzz
# (`cargo install cargo-fuzz`). On a stable toolchain, RUSTC_BOOTSTRAP=1 lets cargo-fuzz
# pass its -Z flags. Sanitizer: none (scopegate's crates forbid `unsafe`); debug
# assertions and overflow checks stay on.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_PER_TARGET=${FUZZ_SECONDS:-600}
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(credentials token scope_claim scope_literal dpop_proof token_sources proxy_path)
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
cargo fuzz build -s none

mkdir -p logs
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target"
  log="logs/$target.log"
  status=0
  cargo fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  rss=$(awk '/stat::peak_rss_mb/ {print $2}' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "corpus/$target" -type f | wc -l)
  echo "$target: exit $status, ${runs:-?} executions in ${SECONDS_PER_TARGET} s (${rate:-?}/s), coverage ${cov:-?} edges, corpus $corpus inputs, peak RSS ${rss:-?} MB (log: fuzz/$log)"
  [[ $status -eq 0 ]] || { echo "crash or timeout: see fuzz/$log and fuzz/artifacts/$target/" >&2; exit "$status"; }
done
