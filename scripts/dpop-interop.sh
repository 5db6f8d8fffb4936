#!/usr/bin/env bash
# DPoP interoperability: oidc-provider (npm, DPoP on) issues bound JWT access tokens, a
# client makes proofs with the `dpop` npm package, and the shipped example binaries
# (axum and actix, SCOPEGATE_DPOP=allowed) must accept exactly the right requests.
# Needs node and npm; everything runs on 127.0.0.1. Exit 1 on any unexpected answer.
# PROFILE=release uses release binaries (default: debug).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
PROVIDER_PORT=${PROVIDER_PORT:-18290}
API_PORT=${API_PORT:-18291}
AUDIENCE=https://retail.example/api
DIR=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed" >&2; exit 1; }
cp scripts/dpop-interop/package.json scripts/dpop-interop/*.mjs "$DIR/"
(cd "$DIR" && timeout 300 npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
if [[ $PROFILE == release ]]; then
  cargo build -q --release -p example-axum-products -p example-actix-products
else
  cargo build -q -p example-axum-products -p example-actix-products
fi

# Waits up to 30 s for `pattern` in the file `log`.
wait_for() {
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1
}

(cd "$DIR" && exec node provider.mjs "$PROVIDER_PORT" "$AUDIENCE") >"$DIR/provider.log" 2>&1 &
PIDS+=($!)
wait_for "$DIR/provider.log" "^provider "

status=0
for example in axum actix; do
  SCOPEGATE_ISSUER="http://127.0.0.1:$PROVIDER_PORT" SCOPEGATE_AUDIENCE=$AUDIENCE SCOPEGATE_DPOP=allowed \
    PORT=$API_PORT RUST_LOG=warn "target/$PROFILE/example-$example-products" >"$DIR/$example.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_for "$DIR/$example.log" "^listening on "
  echo "== $example example"
  (cd "$DIR" && timeout 60 node client.mjs "http://127.0.0.1:$PROVIDER_PORT" "http://127.0.0.1:$API_PORT") || status=1
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
if [[ $status -eq 0 ]]; then echo "dpop interop: every answer as expected"; else echo "dpop interop: FAILED" >&2; fi
exit "$status"
