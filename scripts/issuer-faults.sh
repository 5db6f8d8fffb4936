#!/usr/bin/env bash
# Issuer faults end to end: builds the example binaries and the harness in release mode,
# then runs both examples in front of a controllable issuer on 127.0.0.1 (down, slow,
# 500s, garbage, huge bodies, redirects, rotation, key removal, random-kid floods).
# Prints the observed behaviour and timings; exits 1 on any unexpected decision.
# Takes about 4 minutes (the key-removal scenario waits out a 60 s key freshness).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins -p scopegate-tests -p example-axum-products -p example-actix-products
exec target/release/issuer-faults
