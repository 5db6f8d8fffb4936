#!/usr/bin/env bash
# Proxy load benchmark: wrk against the bare upstream directly, against the shipped
# scopegate-proxy binary in front of that upstream (/api/orders requiring read:orders,
# keys discovered from an OIDC issuer on loopback, default logging to a file), and
# against the shipped axum example, interleaved (direct proxy axum, ROUNDS times), the
# same token on every request. Where nginx is installed, nginx's plain proxy_pass (no
# token check, upstream keep-alive) to the same upstream joins as a reference. Servers on core 0 (upstream and proxy share it), wrk on
# core 1, 32 connections. Prints one CSV line per run, then ratios.
# Needs wrk (Debian package `wrk`), curl and taskset. Runs about a minute a round.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=18080
UPSTREAM_PORT=18081
ISSUER_PORT=18090
AUDIENCE=https://retail.example/api
DIR=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build -q --release
(cd .. && cargo build -q --release -p scopegate-proxy -p example-axum-products)
BIN=target/release/scopegate-bench
RELEASE=../target/release
$BIN prepare "$DIR" $ISSUER_PORT
taskset -c 1 $BIN issuer "$DIR" $ISSUER_PORT & PIDS+=($!)
taskset -c 0 $BIN serve bare $UPSTREAM_PORT $ISSUER_PORT >"$DIR/upstream.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$ISSUER_PORT/.well-known/jwks.json" && break; sleep 0.1; done

cat >"$DIR/proxy.toml" <<TOML
listen = "127.0.0.1:$PORT"
[issuer]
url = "http://127.0.0.1:$ISSUER_PORT/"
audience = "$AUDIENCE"
[[route]]
prefix = "/api/orders"
methods = ["GET"]
upstream = "http://127.0.0.1:$UPSTREAM_PORT"
require.all = ["read:orders"]
TOML

cat >"$DIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  upstream upstream { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$PORT;
    location / { proxy_pass http://upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
KINDS="direct proxy axum"
command -v nginx >/dev/null && KINDS="$KINDS nginx"

SERVER=""
TARGET=""
start() { # kind -> starts the server in the background; sets SERVER and TARGET (its port)
  SERVER=""
  TARGET=$PORT
  case "$1" in
    direct) TARGET=$UPSTREAM_PORT ;;
    proxy) taskset -c 0 "$RELEASE/scopegate-proxy" --config "$DIR/proxy.toml" >"$DIR/proxy.log" 2>&1 & SERVER=$! ;;
    axum)
      SCOPEGATE_ISSUER="http://127.0.0.1:$ISSUER_PORT/" SCOPEGATE_AUDIENCE=$AUDIENCE PORT=$PORT \
        taskset -c 0 "$RELEASE/example-axum-products" >"$DIR/axum.log" 2>&1 & SERVER=$! ;;
    nginx) taskset -c 0 nginx -p "$DIR" -c "$DIR/nginx.conf" >/dev/null 2>&1 & SERVER=$! ;;
  esac
}

run() { # kind round
  local rps
  start "$1"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$TARGET/" && break; sleep 0.1; done
  TOKENS="$DIR/same.txt" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s tokens.lua "http://127.0.0.1:$TARGET" >/dev/null
  local out p99
  out=$(TOKENS="$DIR/same.txt" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s tokens.lua "http://127.0.0.1:$TARGET")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  # p99 in milliseconds (wrk prints us, ms or s).
  p99=$(awk '$1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }' <<<"$out")
  if [[ -n $SERVER ]]; then kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; fi
  echo "$1,$2,$rps,$p99"
}

echo "server,round,requests_per_sec,p99_ms" | tee "$DIR/results.csv"
for round in $(seq "$ROUNDS"); do
  for kind in $KINDS; do run "$kind" "$round" | tee -a "$DIR/results.csv"; done
done

python3 - "$DIR/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mean = {}
p99 = {}
for r in rows:
    mean.setdefault(r["server"], []).append(float(r["requests_per_sec"]))
    p99.setdefault(r["server"], []).append(float(r["p99_ms"] or "nan"))
mean = {k: statistics.mean(v) for k, v in mean.items()}
direct, proxy, axum = mean["direct"], mean["proxy"], mean["axum"]
print(f"direct upstream {direct:.0f} req/s")
print(f"proxy -> upstream {proxy:.0f} req/s: {proxy/direct:.2f}x direct, {proxy/axum:.2f}x the axum example")
print(f"axum example {axum:.0f} req/s: {axum/direct:.2f}x direct")
if "nginx" in mean:
    nginx = mean["nginx"]
    print(f"nginx proxy_pass (no token check) {nginx:.0f} req/s: {nginx/direct:.2f}x direct; the proxy is {proxy/nginx:.2f}x nginx")
for server, values in p99.items():
    print(f"p99 {server}: {statistics.mean(values):.2f} ms (mean over rounds)")
PY
