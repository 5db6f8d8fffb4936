#!/usr/bin/env bash
# Load benchmark: bare axum, the scopegate axum example and jwt-authorizer, interleaved
# (A B C A B C), each server pinned to core 0 and wrk to core 1, 32 connections, two
# workloads: the same token on every request, and a pool of distinct tokens (scopegate's
# token cache disabled, so it cannot help). Prints one CSV line per run, then ratios.
# Needs wrk (Debian package `wrk`) and taskset. Runs about 3 minutes.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=18080
DIR=$(mktemp -d)
SERVER=""
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build -q --release
BIN=target/release/scopegate-bench
$BIN prepare "$DIR"

run() { # workload tokens-file kind round
  taskset -c 0 $BIN serve "$3" $PORT "$DIR" & SERVER=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  # Warm-up, then the measured run.
  TOKENS="$DIR/$2" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s tokens.lua "http://127.0.0.1:$PORT" >/dev/null
  local rps
  rps=$(TOKENS="$DIR/$2" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s tokens.lua "http://127.0.0.1:$PORT" | awk '/Requests\/sec/ {print $2}')
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  echo "$1,$3,$4,$rps"
}

echo "workload,server,round,requests_per_sec" | tee "$DIR/results.csv"
for round in $(seq "$ROUNDS"); do
  for kind in bare scopegate jwt-authorizer; do run same same.txt "$kind" "$round" | tee -a "$DIR/results.csv"; done
  for kind in bare scopegate-nocache jwt-authorizer; do run distinct pool.txt "$kind" "$round" | tee -a "$DIR/results.csv"; done
done

python3 - "$DIR/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mean = {}
for r in rows:
    mean.setdefault((r["workload"], r["server"]), []).append(float(r["requests_per_sec"]))
mean = {k: statistics.mean(v) for k, v in mean.items()}
for workload, ours in [("same", "scopegate"), ("distinct", "scopegate-nocache")]:
    bare, sg, ja = mean[(workload, "bare")], mean[(workload, ours)], mean[(workload, "jwt-authorizer")]
    print(f"{workload}: bare {bare:.0f} req/s, {ours} {sg:.0f} ({sg/bare:.2f}x bare, {sg/ja:.2f}x jwt-authorizer), jwt-authorizer {ja:.0f} ({ja/bare:.2f}x bare)")
PY
