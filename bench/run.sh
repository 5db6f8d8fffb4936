#!/usr/bin/env bash
# Load benchmark: bare axum, the shipped scopegate example binaries (axum and actix, run
# as a user runs them: SCOPEGATE_ISSUER, SCOPEGATE_AUDIENCE, PORT, default logging to a
# file) and jwt-authorizer, interleaved (A B C D A B C D), each server pinned to core 0
# and wrk to core 1, 32 connections. Two workloads: the same token on every request, and
# a pool of distinct tokens (the examples started with SCOPEGATE_TOKEN_CACHE=0, so the
# cache cannot help). With the same token, the axum example runs once more with allowed
# requests logged (RUST_LOG=info,scopegate::audit=debug), to show what that costs.
# Prints one CSV line per run (with the lines each server logged), then ratios.
# Needs wrk (Debian package `wrk`), curl and taskset. Runs about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=18080
ISSUER_PORT=18090
AUDIENCE=https://retail.example/api
DIR=$(mktemp -d)
SERVER=""
ISSUER=""
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null
  [[ -n $ISSUER ]] && kill "$ISSUER" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build -q --release
(cd .. && cargo build -q --release -p example-axum-products -p example-actix-products)
BIN=target/release/scopegate-bench
EXAMPLES=../target/release
$BIN prepare "$DIR" $ISSUER_PORT
taskset -c 1 $BIN issuer "$DIR" $ISSUER_PORT & ISSUER=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$ISSUER_PORT/.well-known/jwks.json" && break; sleep 0.1; done

start() { # kind -> starts the server in the background, sets SERVER
  local log="$DIR/$1.log"
  case "$1" in
    bare | jwt-authorizer) taskset -c 0 $BIN serve "$1" $PORT $ISSUER_PORT >"$log" 2>&1 & SERVER=$! ;;
    axum | actix | axum-nocache | actix-nocache | axum-log-allows)
      local cache=1 filter=${RUST_LOG:-}
      [[ $1 == *-nocache ]] && cache=0
      # Allowed requests logged too: what turning on DEBUG audit events costs.
      [[ $1 == *-log-allows ]] && filter=info,scopegate::audit=debug
      local binary=${1%-nocache}
      # The shipped binary, configured only through its documented environment.
      env ${filter:+RUST_LOG=$filter} SCOPEGATE_ISSUER="http://127.0.0.1:$ISSUER_PORT/" \
        SCOPEGATE_AUDIENCE=$AUDIENCE PORT=$PORT SCOPEGATE_TOKEN_CACHE=$cache \
        taskset -c 0 "$EXAMPLES/example-${binary%-log-allows}-products" >"$log" 2>&1 &
      SERVER=$! ;;
    *) echo "unknown server $1" >&2; exit 1 ;;
  esac
}

run() { # workload tokens-file kind round
  start "$3"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  # Warm-up, then the measured run.
  TOKENS="$DIR/$2" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s tokens.lua "http://127.0.0.1:$PORT" >/dev/null
  local rps lines
  rps=$(TOKENS="$DIR/$2" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s tokens.lua "http://127.0.0.1:$PORT" | awk '/Requests\/sec/ {print $2}')
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  lines=$(wc -l <"$DIR/$3.log")
  echo "$1,$3,$4,$rps,$lines"
}

echo "workload,server,round,requests_per_sec,log_lines" | tee "$DIR/results.csv"
for round in $(seq "$ROUNDS"); do
  for kind in bare axum actix jwt-authorizer axum-log-allows; do run same same.txt "$kind" "$round" | tee -a "$DIR/results.csv"; done
  for kind in bare axum-nocache actix-nocache jwt-authorizer; do run distinct pool.txt "$kind" "$round" | tee -a "$DIR/results.csv"; done
done

python3 - "$DIR/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mean = {}
for r in rows:
    mean.setdefault((r["workload"], r["server"]), []).append(float(r["requests_per_sec"]))
mean = {k: statistics.mean(v) for k, v in mean.items()}
for workload, suffix in [("same", ""), ("distinct", "-nocache")]:
    bare, ja = mean[(workload, "bare")], mean[(workload, "jwt-authorizer")]
    print(f"{workload}: bare {bare:.0f} req/s, jwt-authorizer {ja:.0f} ({ja/bare:.2f}x bare)")
    for example in ("axum", "actix", "axum-log-allows"):
        if (workload, example + suffix) in mean:
            sg = mean[(workload, example + suffix)]
            print(f"  {example}{suffix} example {sg:.0f} req/s: {sg/bare:.2f}x bare, {sg/ja:.2f}x jwt-authorizer")
PY
